// Opting out, in every engine of ENGINES: optOut() clears the queue and the saved user,
// nothing is stored or sent while opted out (across a reload too), optIn() resumes;
// respectDoNotTrack honours the browser's Do Not Track signal (set by the page, the same
// way in every engine: each has its own default, see js/README.md "Compatibility").
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites, assertNoProblems, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import { probedPage } from "./support/probe.mjs";

engineSuites("opt-out", (suite) => {
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

  test("respectDoNotTrack: a browser that sends Do Not Track is not tracked", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    const before = `Object.defineProperty(Navigator.prototype, "doNotTrack", { configurable: true, get: () => "1" });`;
    await page.load(server.addPage(probedPage({ before }), "dnt"));
    const result = await page.evaluate(
      async ({ key, apiUrl }) => {
        const dnt = navigator.doNotTrack;
        lunary.init({ appId: key, apiUrl, respectDoNotTrack: true });
        lunary.openThread().trackMessage({ role: "user", content: "not tracked" });
        await lunary.flush();
        const ignored = lunary.stats();
        lunary.init({ appId: key, apiUrl, respectDoNotTrack: false });
        lunary.openThread().trackMessage({ role: "user", content: "tracked" });
        await lunary.flush();
        return { dnt, ignored };
      },
      { key, apiUrl: collector.url },
    );
    assert.equal(result.dnt, "1", "the page sees Do Not Track");
    assert.equal(result.ignored.requests, 0);
    assert.equal(result.ignored.queued, 0);
    const events = await collector.waitForEvents(key, 1);
    assert.deepEqual(events.map((e) => e.message.content), ["tracked"], "without respectDoNotTrack, tracking goes on");
    await assertNoProblems(page);
  });
});
