// In every engine of ENGINES: pages that are not a secure context. The pages are loaded
// from http://lunary-insecure.test (a name, not loopback) through the static server acting
// as the browser's HTTP proxy; apiUrl is the collector on 127.0.0.1 (direct). There the
// browser has no `crypto.randomUUID` and no Web Locks (`navigator.locks`), so the SDK's ids
// come from `crypto.getRandomValues`, and a tab's queue left behind is found by its age
// instead of its lock.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites, assertNoProblems } from "./support/engine-suite.mjs";
import { probedPage } from "./support/probe.mjs";
import { pkgVersion } from "./support/paths.mjs";
import { UUID_V4, assertReadmeEvents, runReadmeExample } from "./support/scenarios.mjs";
import {
  FAST,
  addFault,
  assertNothingDropped,
  assertStoredOnce,
  clearFaults,
  initIn,
  isolateFaults,
  newThreadId,
  harnessUrl,
  queueKeys,
  sdkStats,
  sleep,
  trackIn,
  waitPersisted,
} from "./support/delivery.mjs";

const INSECURE_ORIGIN = "http://lunary-insecure.test";
/** persist.rs: without Web Locks a queue counts as left behind once unwritten this long. */
const STALE_MS = 30_000;

/** `url` (a page of the static server) as served to the browser from the insecure name. */
const insecure = (url) => INSECURE_ORIGIN + new URL(url).pathname;

/** A page in a fresh context whose plain-HTTP requests go through the static server. */
function insecurePage(suite, t) {
  return suite.newPage(t, { proxy: new URL(suite.server.origin).host });
}

/** What the page has of the secure-context-only APIs the SDK could use. */
const secureApis = (page) =>
  page.evaluate(() => ({
    isSecureContext,
    randomUUID: typeof crypto.randomUUID,
    getRandomValues: typeof crypto.getRandomValues,
    locks: typeof navigator.locks,
    origin: location.origin,
  }));

engineSuites("insecure-context", (suite) => {
  test("the README example from an insecure page (no crypto.randomUUID, no Web Locks): stored as the protocol describes, every id a UUID v4", { timeout: 45_000 }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await insecurePage(suite, t);
    await page.load(insecure(server.addPage(probedPage(), "insecure-readme")));
    assert.deepEqual(await secureApis(page), {
      isSecureContext: false,
      randomUUID: "undefined",
      getRandomValues: "function",
      locks: "undefined",
      origin: INSECURE_ORIGIN,
    });

    const ids = await runReadmeExample(page, { key, apiUrl: collector.url });
    assert.equal(ids.userId, "user123");
    assertReadmeEvents(await collector.waitForEvents(key, 3), { ids, runtime: `lunary-wasm/${pkgVersion()}` });
    const more = await page.evaluate(() => Array.from({ length: 200 }, () => lunary.openThread().id));
    assert.ok(more.every((id) => UUID_V4.test(id)), `every thread id a UUID v4: ${more.find((id) => !UUID_V4.test(id))}`);
    assert.equal(new Set(more).size, more.length, "no id twice");
    await assertNoProblems(page);
  });

  test("the no-op fallback (the module blocked by CSP) in an insecure page still hands out UUID v4 ids", { timeout: 45_000 }, async (t) => {
    const { server } = suite;
    const page = await insecurePage(suite, t);
    // No 'wasm-unsafe-eval': the module cannot compile and every call becomes a no-op.
    const csp = "default-src 'none'; script-src 'self' 'unsafe-inline'";
    await page.load(insecure(server.addPage(probedPage(), "insecure-noop", { headers: { "Content-Security-Policy": csp } })));
    assert.equal((await secureApis(page)).randomUUID, "undefined");
    const ids = await page.evaluate(() => {
      lunary.init({ appId: "00000000-0000-4000-8000-000000000000" });
      const thread = lunary.openThread();
      return [thread.id, thread.trackMessage({ role: "user", content: "hi" })];
    });
    for (const id of ids) assert.match(id, UUID_V4);
    const problems = await page.problems();
    assert.deepEqual(problems.pageErrors, []);
    assert.ok(
      problems.warnings.some((w) => w.includes("did not load")),
      `one warning says tracking is off: ${JSON.stringify(problems.warnings)}`,
    );
  });

  test("no Web Locks: a reload while the server fails leaves the queue; the next page takes it over once it is stale, and never takes a live tab's; all stored once", { timeout: 90_000 }, async (t) => {
    const { collector, server } = suite;
    await isolateFaults(t, collector);
    const key = suite.newProjectKey();
    const context = await suite.newContext(t, { proxy: new URL(server.origin).host });
    const url = insecure(harnessUrl(server));
    const reloaded = await context.newPage();
    // A window, not a tab: in WebKitGTK a tab the driver does not use is hidden.
    const live = await context.newPage({ window: true });
    for (const page of [reloaded, live]) {
      await page.load(url);
      await initIn(page, { key, collector, ...FAST });
    }
    assert.equal((await secureApis(live)).locks, "undefined");
    await addFault(collector, { mode: "500", count: 100_000 });

    const before = await trackIn(reloaded, { threadId: newThreadId(), label: "before-reload", count: 20 });
    const liveThread = newThreadId();
    const liveFirst = await trackIn(live, { threadId: liveThread, label: "live", count: 20 });
    await waitPersisted(reloaded, key, 40, { timeoutMs: 5_000 });
    await reloaded.evaluate(() => new Promise((r) => setTimeout(r, 300))); // a 500 came back
    await reloaded.reload();
    const reloadedAt = Date.now();
    await initIn(reloaded, { key, collector, ...FAST });
    const after = await trackIn(reloaded, { threadId: newThreadId(), label: "after-reload", count: 5 });

    // Until the reloaded page's old queue is stale, nobody takes it; the live tab keeps its
    // own key fresh (rewritten every 10 s while it has unsent events), so nobody takes
    // that one either. Past STALE_MS: the old queue moves into the new page.
    await sleep(5_000);
    assert.equal((await queueKeys(reloaded, key)).length, 3, "three queues while the server fails: the gone page's, the new page's, the live tab's");
    const deadline = reloadedAt + STALE_MS + 8_000;
    let keys;
    while (Date.now() < deadline) {
      keys = await queueKeys(reloaded, key);
      if (keys.length === 2) break;
      await sleep(500);
    }
    assert.equal(keys.length, 2, `the gone page's queue was taken over within ${STALE_MS / 1000} s and a bit: ${JSON.stringify(keys)}`);
    const waited = Date.now() - reloadedAt;
    t.diagnostic(`${suite.engine}: the gone page's queue was taken over ${waited} ms after the reload`);
    const liveLater = await trackIn(live, { threadId: liveThread, label: "live", from: 20, count: 5 });
    await sleep(1_500);
    assert.equal((await queueKeys(live, key)).length, 2, "the live tab's queue stays its own");

    await clearFaults(collector);
    const { events } = await assertStoredOnce(collector, key, [...before, ...after, ...liveFirst, ...liveLater], { timeoutMs: 15_000, arrivalOrder: false });
    const sentBefore = events.filter((e) => /before-reload/.test(e.message.content));
    assert.ok(sentBefore.every((e) => e.timestamp < reloadedAt), "the taken-over events keep their original timestamps");
    const stats = await sdkStats(reloaded);
    assert.equal(stats.restored, 20, `the new page restored the gone page's 20: ${JSON.stringify(stats)}`);
    for (const page of [reloaded, live]) await assertNothingDropped(page);
  });
});
