// Scenario 6, in every engine of ENGINES: 500 trackMessage calls in one task, then
// flush(): all 500 stored, in order, exactly once each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites, assertNoProblems, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import { probedPage } from "./support/probe.mjs";

const COUNT = 500;

engineSuites("burst", (suite) => {
  test(`a burst of ${COUNT} messages in one task, then flush: all arrive in order, once each`, { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(server.addPage(probedPage(), "burst"));

    const { threadId, ids, ms } = await page.evaluate(
      async ({ key, apiUrl, count }) => {
        lunary.init({ appId: key, apiUrl });
        lunary.identify("bursty", { name: "Burst" });
        const thread = lunary.openThread({ tags: ["burst"] });
        const ids = [];
        const t0 = performance.now();
        for (let i = 0; i < count; i++) ids.push(thread.trackMessage({ role: "user", content: `#${i}` }));
        const ms = performance.now() - t0;
        await lunary.flush();
        return { threadId: thread.id, ids, ms };
      },
      { key, apiUrl: collector.url, count: COUNT },
    );
    assert.equal(ids.length, COUNT);
    t.diagnostic(`${suite.engine}: ${COUNT} trackMessage calls in ${ms.toFixed(1)} ms`);

    const events = await collector.waitForEvents(key, COUNT, { settleMs: 300 });
    assert.equal(events.length, COUNT, `exactly ${COUNT} stored`);
    const expected = Array.from({ length: COUNT }, (_, i) => `#${i}`);
    assert.deepEqual(events.map((e) => e.message.content), expected, "in call order, by arrival");
    const byTimestamp = [...events].sort((x, y) => x.timestamp - y.timestamp);
    assert.deepEqual(byTimestamp.map((e) => e.message.content), expected, "in call order, by timestamp");
    for (let i = 1; i < COUNT; i++) {
      assert.ok(events[i].timestamp > events[i - 1].timestamp, `timestamp ${i} strictly after ${i - 1}`);
    }
    assert.equal(new Set(events.map((e) => e.runId)).size, COUNT, `${COUNT} distinct runIds`);
    assert.deepEqual(events.map((e) => e.runId), ids, "the runIds trackMessage returned");
    assert.ok(events.every((e) => e.parentRunId === threadId && e.userId === "bursty"));

    const stats = await collector.stats(key);
    assert.deepEqual(
      [stats.stored, stats.duplicates, stats.rejected, stats.received],
      [COUNT, 0, 0, COUNT],
      "stored once each, nothing sent twice",
    );
    await assertNoProblems(page);
  });
});
