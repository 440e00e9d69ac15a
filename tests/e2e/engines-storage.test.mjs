// In every engine of ENGINES: what the SDK keeps in storage across a reload: the
// identified user (and reset()), two project keys on one origin, the opt-out choice; and
// storage that throws (localStorage SecurityError, setItem QuotaExceededError). The
// Chromium-only originals: identity, opt-out and storage-blocked.test.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites, assertNoProblems, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import { probedPage } from "./support/engines.mjs";
import { pkgVersion } from "./support/paths.mjs";
import { assertReadmeEvents } from "./support/scenarios.mjs";

/** init (no identify), one message in a new thread, flush; returns getUserId() and ids. */
function trackOne(page, { key, apiUrl, content }) {
  return page.evaluate(
    async ({ key, apiUrl, content }) => {
      lunary.init({ appId: key, apiUrl });
      const userId = lunary.getUserId() ?? null;
      const thread = lunary.openThread({ tags: ["reload"] });
      const runId = thread.trackMessage({ role: "user", content });
      await lunary.flush();
      return { userId, runId, threadId: thread.id };
    },
    { key, apiUrl, content },
  );
}

const storedUser = (page, key) => page.evaluate((key) => localStorage.getItem(`lunary:${key}:user`), key);

const BLOCK_STORAGE = `
Object.defineProperty(window, "localStorage", {
  configurable: true,
  get() { throw new DOMException("The operation is insecure.", "SecurityError"); },
});
Storage.prototype.setItem = function () {
  throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
};
`;

engineSuites("engines-storage", (suite) => {
  test("identity survives a reload: getUserId() and new events name the user with its props", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(server.addPage(probedPage(), "reload"));
    await page.evaluate(
      async ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl });
        lunary.identify("u-reload", { name: "Rita", plan: "pro" });
        await lunary.flush();
      },
      { key, apiUrl: collector.url },
    );
    assert.ok(await storedUser(page, key), `the user is saved under lunary:${key}:user`);

    await page.reload();
    const after = await trackOne(page, { key, apiUrl: collector.url, content: "after reload" });
    assert.equal(after.userId, "u-reload", "getUserId() after reload, without identify");
    const again = await page.evaluate(async () => {
      const thread = lunary.openThread();
      lunary.identify("u-reload");
      const keep = thread.trackMessage({ role: "user", content: "same user, no props" });
      lunary.identify("u-reload", { plan: "team" });
      const merged = thread.trackMessage({ role: "user", content: "same user, new plan" });
      await lunary.flush();
      return { keep, merged };
    });

    const events = await collector.waitForEvents(key, 3);
    assert.deepEqual(events.map((e) => e.runId), [after.runId, again.keep, again.merged]);
    assert.ok(events.every((e) => e.userId === "u-reload"));
    assert.deepEqual(events[0].userProps, { name: "Rita", plan: "pro" }, "the saved props, after reload");
    assert.deepEqual(events[1].userProps, { name: "Rita", plan: "pro" }, "identify without props keeps them");
    assert.deepEqual(events[2].userProps, { name: "Rita", plan: "team" }, "identify with props merges them");
    await assertNoProblems(page);
  });

  test("reset() forgets the user, across a reload too: no userId on later events", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(server.addPage(probedPage(), "reset"));
    const before = await page.evaluate(
      async ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl });
        lunary.identify("u-reset", { name: "Ron" });
        const identified = lunary.getUserId() ?? null;
        lunary.reset();
        const afterReset = lunary.getUserId() ?? null;
        const runId = lunary.openThread().trackMessage({ role: "user", content: "after reset" });
        await lunary.flush();
        return { identified, afterReset, runId };
      },
      { key, apiUrl: collector.url },
    );
    assert.equal(before.identified, "u-reset");
    assert.equal(before.afterReset, null, "getUserId() is undefined right after reset()");
    assert.equal(await storedUser(page, key), null, "reset() removed the saved user");

    await page.reload();
    const after = await trackOne(page, { key, apiUrl: collector.url, content: "after reset and reload" });
    assert.equal(after.userId, null, "getUserId() is undefined after reset + reload");
    const events = await collector.waitForEvents(key, 2);
    assert.deepEqual(events.map((e) => e.runId), [before.runId, after.runId]);
    for (const event of events) {
      assert.equal("userId" in event, false, `no userId after reset: ${JSON.stringify(event)}`);
      assert.equal("userProps" in event, false, "no userProps after reset");
    }
    assert.deepEqual(await collector.users(key), [], "the collector knows no user for this project");
    await assertNoProblems(page);
  });

  test("two project keys on one origin (two tabs of one profile) do not share the identified user", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key1 = suite.newProjectKey();
    const key2 = suite.newProjectKey();
    const context = await suite.newContext(t);
    const url = server.addPage(probedPage(), "two-keys");

    const pageA = await context.newPage();
    await pageA.load(url);
    await pageA.evaluate(
      async ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl });
        lunary.identify("u1", { name: "One" });
        await lunary.flush();
      },
      { key: key1, apiUrl: collector.url },
    );
    const pageB = await context.newPage();
    await pageB.load(url);
    const b = await trackOne(pageB, { key: key2, apiUrl: collector.url, content: "project two" });
    assert.equal(b.userId, null, "key2 sees no identified user");
    assert.equal(await storedUser(pageB, key2), null, "nothing saved under key2");
    assert.ok(await storedUser(pageB, key1), "key1's user is saved on the same origin (the tabs share storage)");
    const a = await trackOne(pageA, { key: key1, apiUrl: collector.url, content: "project one" });
    assert.equal(a.userId, "u1", "key1 still has its user");

    const events2 = await collector.waitForEvents(key2, 1);
    assert.deepEqual(events2.map((e) => [e.runId, "userId" in e, "userProps" in e]), [[b.runId, false, false]]);
    const events1 = await collector.waitForEvents(key1, 1);
    assert.deepEqual(events1.map((e) => [e.runId, e.userId, e.userProps]), [[a.runId, "u1", { name: "One" }]]);
    await assertNoProblems(pageA);
    await assertNoProblems(pageB);
  });

  test("optOut() sends and stores nothing, across a reload, until optIn()", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(server.addPage(probedPage(), "opt-out"));
    const before = await page.evaluate(
      async ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl, flushIntervalMs: 10_000 });
        lunary.identify("olive", { name: "Olive" });
        const thread = lunary.openThread({ tags: ["opt"] });
        thread.trackMessage({ role: "user", content: "queued, then cleared" });
        lunary.optOut();
        thread.trackMessage({ role: "user", content: "while opted out" });
        lunary.identify("olive", { name: "Olive", plan: "pro" });
        await lunary.flush();
        const keys = Object.keys(localStorage).filter((k) => k.startsWith(`lunary:${key}:`));
        return { stats: lunary.stats(), keys };
      },
      { key, apiUrl: collector.url },
    );
    assert.equal(before.stats.dropped.optedOut, 1, "the queued message was cleared");
    assert.equal(before.stats.queued, 0);
    assert.deepEqual(before.keys, [`lunary:${key}:optout`], "only the choice itself is stored");

    await page.reload();
    const afterReload = await page.evaluate(
      async ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl });
        lunary.openThread().trackMessage({ role: "user", content: "still opted out" });
        await lunary.flush();
        const stats = lunary.stats();
        lunary.optIn();
        lunary.identify("olive", { name: "Olive" });
        const runId = lunary.openThread().trackMessage({ role: "user", content: "back in" });
        await lunary.flush();
        return { stats, runId, optout: localStorage.getItem(`lunary:${key}:optout`) };
      },
      { key, apiUrl: collector.url },
    );
    assert.equal(afterReload.stats.requests, 0, "nothing sent while opted out after the reload");
    assert.equal(afterReload.optout, null, "optIn() removes the choice");
    const events = await collector.waitForEvents(key, 1);
    assert.deepEqual(events.map((e) => e.message.content), ["back in"], "only what was tracked after optIn()");
    assert.equal(events[0].runId, afterReload.runId);
    await assertNoProblems(page);
  });

  test("with localStorage throwing SecurityError and setItem throwing QuotaExceededError, the README example still arrives", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(server.addPage(probedPage({ before: BLOCK_STORAGE }), "storage-blocked"));

    // The sabotage is in place, as the SDK sees it.
    const probe = await page.evaluate(() => {
      const result = {};
      try {
        void window.localStorage;
        result.local = "readable";
      } catch (e) {
        result.local = e.name;
      }
      try {
        sessionStorage.setItem("probe", "1");
        result.sessionSet = "ok";
      } catch (e) {
        result.sessionSet = e.name;
      }
      return result;
    });
    assert.deepEqual(probe, { local: "SecurityError", sessionSet: "QuotaExceededError" });

    const ids = await page.evaluate(
      async ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl });
        lunary.identify("user123", { name: "John", email: "john@example.org" });
        const thread = lunary.openThread({ userId: "user123", userProps: { name: "John" }, tags: ["support"] });
        const q = thread.trackMessage({ role: "user", content: "Hello" });
        const a = thread.trackMessage({ role: "assistant", content: "Hi John, how can I help?" });
        lunary.trackFeedback(a, { thumb: "up", comment: "great" });
        await lunary.flush();
        return { threadId: thread.id, q, a, userId: lunary.getUserId() ?? null, storage: lunary.stats().storage };
      },
      { key, apiUrl: collector.url },
    );
    assert.equal(ids.userId, "user123", "getUserId() works within the page");
    t.diagnostic(`${suite.engine}: stats().storage = ${ids.storage}`);
    assert.equal(ids.storage, "memory", "both storages unusable: memory");
    assertReadmeEvents(await collector.waitForEvents(key, 3), { ids, runtime: `lunary-wasm/${pkgVersion()}` });

    const again = await page.evaluate(async () => {
      lunary.identify("user456", { name: "Jane" });
      const runId = lunary.openThread().trackMessage({ role: "user", content: "still here" });
      await lunary.flush();
      return { userId: lunary.getUserId() ?? null, runId };
    });
    assert.equal(again.userId, "user456");
    const all = await collector.waitForEvents(key, 4);
    assert.equal(all.length, 4);
    assert.deepEqual([all[3].runId, all[3].userId, all[3].userProps], [again.runId, "user456", { name: "Jane" }]);

    const problems = await assertNoProblems(page);
    const storageWarnings = problems.warnings.filter((w) => /Storage is unusable/.test(w));
    t.diagnostic(`${suite.engine}: storage warnings: ${JSON.stringify(storageWarnings)}`);
    assert.equal(storageWarnings.filter((w) => /localStorage is unusable/.test(w)).length, 1, "one warning for localStorage");
    assert.ok(storageWarnings.length <= 2, "no repeated storage warnings");
  });
});
