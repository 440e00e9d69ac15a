// In every engine of ENGINES: delivery through a bad network and a misbehaving server
// (the collector's /__faults): offline, a run of 500s, a 429 with Retry-After, a hanging
// request, connections reset before the server read them. Every tracked message must be
// stored exactly once, in order, and the SDK's stats() must agree (nothing dropped,
// delivered == tracked). What the page sent is its probe's record of its fetches
// (engines.mjs PROBE), with the page's own clock.
//
// Offline: Chromium goes really offline (Playwright's context.setOffline); Firefox and
// WebKit, whose WebDriver has no network emulation, get support/offline.mjs's equivalent:
// navigator.onLine false and the offline/online events in the page, and a switch in front
// of the collector that resets any request that still goes out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import { offlineNetwork } from "./support/offline.mjs";
import {
  FAST,
  addFault,
  assertNothingDropped,
  assertSdkAccount,
  assertStoredOnce,
  flushIn,
  ingestLog,
  initIn,
  isolateFaults,
  maxInFlight,
  newThreadId,
  harnessUrl,
  reportsOf,
  sdkStats,
  sleep,
  trackIn,
  until,
  waitPersisted,
} from "./support/delivery.mjs";

engineSuites("faults-network", (suite) => {
  test("offline: 50 messages wait (nothing sent, flush() pending, queue persisted), then all arrive once, in order, when back online", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    await isolateFaults(t, collector);
    const key = suite.newProjectKey();
    const network = await offlineNetwork(suite, t);
    const context = await suite.newContext(t);
    const page = await context.newPage();
    await page.load(harnessUrl(server));
    await initIn(page, { key, collector: network, ...FAST });
    await page.evaluate(() => {
      window.__lineEvents = [];
      for (const type of ["offline", "online"]) addEventListener(type, () => window.__lineEvents.push(type));
    });

    await network.setOffline(context, true);
    assert.equal(await page.evaluate(() => navigator.onLine), false, "the page sees itself offline");
    const threadId = newThreadId();
    const tracked = await trackIn(page, { threadId, label: "offline", count: 50 });
    await page.evaluate(() => h.startFlush());

    // While offline: the queue is persisted (within about a second), nothing is sent.
    const persisted = await waitPersisted(page, key, 50, { timeoutMs: 3_000 });
    assert.equal(persisted.length, 1, "one queue, this tab's");
    await sleep(200);
    assert.deepEqual(await ingestLog(page), [], "no ingest request was even attempted while offline");
    assert.equal((await collector.events(key)).length, 0, "the collector has nothing for the project");
    const offline = await sdkStats(page);
    assert.equal(offline.requests, 0, "stats().requests while offline");
    assert.equal(offline.queued, 50, "stats().queued while offline");
    assert.equal(await page.evaluate(() => h.flushed), false, "flush() waits while offline");

    await network.setOffline(context, false);
    await page.waitForFunction(() => h.flushed === true, undefined, { timeout: 10_000 });
    assert.deepEqual(await page.evaluate(() => window.__lineEvents), ["offline", "online"], "the page was told it went offline and came back");
    await assertStoredOnce(collector, key, tracked);
    const stats = await sdkStats(page);
    assertSdkAccount(stats, { tracked: 50 });
    assert.equal(stats.retried, 0, "nothing failed: nothing was sent while offline");
    assert.equal(stats.requests, (await ingestLog(page)).length, "stats().requests is the fetches the page made");
    assert.equal(network.cut(), 0, "no request reached the (emulated) network while offline");
    assert.deepEqual(await reportsOf(page), [], "no onError report");
    await assertNothingDropped(page);
  });

  test("a run of three 500s: the batches stay queued and are retried; all 30 arrive once, in order; onError reports each retry with status 500", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    await isolateFaults(t, collector);
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(harnessUrl(server));
    await initIn(page, { key, collector, ...FAST });
    await addFault(collector, { mode: "500", count: 3 });

    const tracked = await trackIn(page, { threadId: newThreadId(), label: "five-hundred", count: 30 });
    assert.equal(await flushIn(page), "flushed");
    await assertStoredOnce(collector, key, tracked);

    const ingests = await ingestLog(page);
    const stats = await sdkStats(page);
    assertSdkAccount(stats, { tracked: 30 });
    const failed = ingests.filter((r) => r.status === 500);
    assert.equal(failed.length, 3, `three requests answered 500: ${JSON.stringify(ingests.map((r) => [r.status, r.events]))}`);
    assert.ok(stats.retried > 0, "stats().retried > 0");
    assert.equal(stats.retried, failed.reduce((sum, r) => sum + r.events, 0), "stats().retried counts the events of each failed request");
    assert.equal(stats.requests, ingests.length, "stats().requests is the fetches the page made");
    assert.equal(maxInFlight(ingests), 1, "one request in flight at a time");

    const reports = await reportsOf(page);
    const retries = reports.filter((r) => r.type === "retry");
    assert.equal(retries.length, 3, `one retry report per 500: ${JSON.stringify(reports)}`);
    for (const r of retries) {
      assert.deepEqual([r.status, r.reason], [500, "status"]);
      assert.ok(r.count > 0, "the report counts the events waiting");
      assert.match(r.message, /status 500/);
    }
    assert.equal(reports.filter((r) => r.type === "dropped").length, 0, "no dropped report");
    const server_ = await collector.stats(key);
    assert.equal(server_.faultsInjected, 3);
    assert.equal(server_.requests, ingests.length, "the collector saw every request the page made");
    await assertNothingDropped(page);
  });

  test("429 with Retry-After: 1: the retry waits the second asked (a flush() meanwhile does not cut it short); all arrive once", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    await isolateFaults(t, collector);
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(harnessUrl(server));
    // retryMaxMs ≥ the server's wait: a Retry-After is capped at max(retryMaxMs, the rate-limit wait).
    await initIn(page, { key, collector, flushIntervalMs: 50, retryBaseMs: 50, retryMaxMs: 2_000 });
    // Each retry report triggers a flush(): it must keep to the wait the server asked for.
    await page.evaluate(() => (h.onReport = (r) => r.type === "retry" && setTimeout(() => lunary.flush(), 0)) && null);
    await addFault(collector, { mode: "429", count: 1, retryAfter: 1 });

    const tracked = await trackIn(page, { threadId: newThreadId(), label: "rate-limited", count: 30 });
    assert.equal(await flushIn(page), "flushed");
    await assertStoredOnce(collector, key, tracked);

    // Page-clock times: the gap is measured where the SDK waits.
    const ingests = await ingestLog(page);
    assert.equal(ingests[0].status, 429, `the first request got the 429: ${JSON.stringify(ingests.map((r) => r.status))}`);
    assert.ok(ingests.length >= 2);
    const gap = ingests[1].start - ingests[0].answered;
    t.diagnostic(`${suite.engine}: retry ${gap} ms after the 429`);
    assert.ok(gap >= 950, `the retry came ${gap} ms after the 429 (Retry-After: 1 s)`);
    assert.ok(gap < 3_000, `…and not much later (${gap} ms)`);
    assert.ok(ingests.slice(1).every((r) => r.status === 200), "every later request was accepted");

    const reports = await reportsOf(page);
    assert.equal(reports.length, 1, `one report: ${JSON.stringify(reports)}`);
    assert.deepEqual([reports[0].type, reports[0].status], ["retry", 429]);
    assert.match(reports[0].message, /retrying in 1000 ms/, "the wait is the server's: Retry-After was readable (the collector exposes it)");
    const stats = await sdkStats(page);
    assertSdkAccount(stats, { tracked: 30 });
    assert.equal(stats.retried, ingests[0].events);
    assert.equal(stats.requests, ingests.length, "stats().requests is the fetches the page made");
    await assertNothingDropped(page);
  });

  test("a request that hangs 3 s: nothing else is sent meanwhile, events tracked during the hang follow it; all arrive once, in order", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    await isolateFaults(t, collector);
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(harnessUrl(server));
    await initIn(page, { key, collector, ...FAST });
    await addFault(collector, { mode: "hang", count: 1, hangMs: 3_000 });

    const threadId = newThreadId();
    const tracked = await trackIn(page, { threadId, label: "hang", count: 10 });
    await until(async () => (await ingestLog(page)).length === 1, "the first request to leave");
    // While it hangs: more events, in several batches' worth, and a flush.
    for (let i = 0; i < 4; i++) {
      tracked.push(...(await trackIn(page, { threadId, label: "hang", from: 10 + i * 15, count: 15 })));
      await sleep(200);
    }
    const during = await ingestLog(page);
    assert.equal(during.length, 1, "no second request while the first hangs");
    assert.equal(during[0].answered, null, "the first is still in flight");
    assert.equal(await flushIn(page), "flushed");
    await assertStoredOnce(collector, key, tracked);

    const ingests = await ingestLog(page);
    const hung = ingests[0].answered - ingests[0].start;
    t.diagnostic(`${suite.engine}: the first request was answered after ${hung} ms`);
    assert.ok(hung >= 2_800, `the first request hung (${hung} ms)`);
    assert.ok(ingests.length >= 2, "later events followed in later requests");
    assert.ok(ingests[1].start >= ingests[0].answered, "the next request left only after the hung one was answered");
    assert.equal(maxInFlight(ingests), 1, "one request in flight at a time");
    assert.ok(ingests.every((r) => r.status === 200), `every request was accepted: ${JSON.stringify(ingests.map((r) => r.status))}`);
    const stats = await sdkStats(page);
    assertSdkAccount(stats, { tracked: 70 });
    assert.equal(stats.retried, 0, "a slow answer is not a failure");
    assert.equal(stats.requests, ingests.length, "stats().requests is the fetches the page made");
    assert.deepEqual(await reportsOf(page), []);
    await assertNothingDropped(page);
  });

  test("connections reset before the server read them (drop-before ×2): retried as network errors; all arrive once, in order", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    await isolateFaults(t, collector);
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(harnessUrl(server));
    await initIn(page, { key, collector, ...FAST });
    await addFault(collector, { mode: "drop-before", count: 2 });

    const tracked = await trackIn(page, { threadId: newThreadId(), label: "reset", count: 30 });
    assert.equal(await flushIn(page), "flushed");
    await assertStoredOnce(collector, key, tracked);

    const server_ = await collector.stats(key);
    assert.equal(server_.faultsInjected, 2, "both resets happened");
    const ingests = await ingestLog(page);
    const reports = await reportsOf(page);
    const retries = reports.filter((r) => r.type === "retry");
    t.diagnostic(
      `${suite.engine}: ${ingests.length} fetches (${ingests.filter((r) => r.error).length} failed: ${JSON.stringify([...new Set(ingests.filter((r) => r.error).map((r) => r.error.split("\n")[0]))])}), ${retries.length} retry reports, collector saw ${server_.requests} requests`,
    );
    // A browser may itself re-send a POST once when a reused connection dies before any
    // answer, so two resets make one or two failed fetches (Chromium and Firefox do,
    // WebKitGTK does not).
    assert.ok(retries.length >= 1 && retries.length <= 2, `one or two retry reports: ${JSON.stringify(reports)}`);
    for (const r of retries) {
      assert.equal(r.reason, "network");
      assert.equal("status" in r, false, "a network error has no status");
    }
    assert.equal(ingests.filter((r) => r.error).length, retries.length, "one retry report per failed fetch");
    const stats = await sdkStats(page);
    assertSdkAccount(stats, { tracked: 30 });
    assert.ok(stats.retried > 0, "stats().retried > 0");
    assert.equal(stats.requests, ingests.length, "stats().requests is the fetches the page made");
    assert.equal(maxInFlight(ingests), 1, "one request in flight at a time");
    await assertNothingDropped(page);
  });
});
