// Scenario 4, in every engine of ENGINES: calls made on the very next lines after
// `import`, synchronously, before anything else runs: all arrive, in order, once each,
// without an explicit flush(); and calls made before init() are kept and sent after it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { UUID_V4 } from "./support/scenarios.mjs";
import { engineSuites, assertNoProblems, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import { probedPage } from "./support/probe.mjs";

const COUNT = 20;

engineSuites("early-calls", (suite) => {
  test(`init + identify + openThread + ${COUNT} trackMessage right after import all arrive, in order, once`, { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    // The module body below runs synchronously right after `import lunary from "/pkg/index.js"`.
    const module = `
lunary.init({ appId: ${JSON.stringify(key)}, apiUrl: ${JSON.stringify(collector.url)} });
lunary.identify("early-bird", { name: "Early" });
const thread = lunary.openThread({ tags: ["early"] });
const ids = [];
for (let i = 0; i < ${COUNT}; i++) {
  ids.push(thread.trackMessage({ role: i % 2 ? "assistant" : "user", content: "message " + i }));
}
window.__early = { threadId: thread.id, ids };
`;
    await page.load(server.addPage(probedPage({ module }), "early"));
    const { threadId, ids } = await page.evaluate(() => window.__early);
    assert.equal(ids.length, COUNT);

    // No flush(): the batching policy alone must deliver them.
    const events = await collector.waitForEvents(key, COUNT, { settleMs: 700 });
    assert.equal(events.length, COUNT, "each message stored exactly once");
    assert.deepEqual(
      events.map((e) => e.message.content),
      Array.from({ length: COUNT }, (_, i) => `message ${i}`),
      "stored in call order",
    );
    assert.deepEqual(events.map((e) => e.runId), ids, "runIds are the returned ids, in order");
    assert.equal(new Set(ids).size, COUNT);
    for (const [i, event] of events.entries()) {
      assert.match(event.runId, UUID_V4);
      assert.equal(event.parentRunId, threadId);
      assert.equal(event.userId, "early-bird");
      assert.deepEqual(event.userProps, { name: "Early" });
      assert.deepEqual(event.threadTags, ["early"]);
      if (i > 0) assert.ok(event.timestamp > events[i - 1].timestamp, "timestamps strictly increase");
    }
    const stats = await collector.stats(key);
    assert.deepEqual([stats.stored, stats.duplicates, stats.rejected], [COUNT, 0, 0]);
    await assertNoProblems(page);
  });

  test("calls made before init() are kept and sent after it, in order", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    const module = `
lunary.identify("pre-init", { name: "Pre" });
const thread = lunary.openThread({ tags: ["pre"] });
const { trackMessage } = thread; // destructured, as lunary-js users do
const ids = [trackMessage({ role: "user", content: "before init 0" }), trackMessage({ role: "assistant", content: "before init 1" })];
lunary.init({ appId: ${JSON.stringify(key)}, apiUrl: ${JSON.stringify(collector.url)} });
ids.push(thread.trackMessage({ role: "user", content: "after init" }));
window.__early = { threadId: thread.id, ids };
`;
    await page.load(server.addPage(probedPage({ module }), "pre-init"));
    const { threadId, ids } = await page.evaluate(() => window.__early);

    const events = await collector.waitForEvents(key, 3, { settleMs: 700 });
    assert.equal(events.length, 3);
    assert.deepEqual(events.map((e) => e.runId), ids);
    assert.deepEqual(events.map((e) => e.message.content), ["before init 0", "before init 1", "after init"]);
    assert.ok(events.every((e) => e.parentRunId === threadId && e.userId === "pre-init"));
    assert.ok(events[0].timestamp < events[1].timestamp && events[1].timestamp < events[2].timestamp);
    const stats = await collector.stats(key);
    assert.deepEqual([stats.stored, stats.duplicates, stats.rejected], [3, 0, 0]);
    await assertNoProblems(page);
  });
});
