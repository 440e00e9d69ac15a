// Scenario 6: 500 trackMessage calls in one task, then flush(): all 500 stored, in order,
// exactly once each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useSuite, TEST_TIMEOUT } from "./support/suite.mjs";
import { testPage } from "./support/server.mjs";
import { load } from "./support/browser.mjs";
import { assertNoPageProblems } from "./support/scenarios.mjs";

const suite = useSuite("burst");
const COUNT = 500;

test(`a burst of ${COUNT} messages in one task, then flush: all arrive in order, once each`, { timeout: TEST_TIMEOUT }, async (t) => {
  const { collector, server } = suite;
  const key = suite.newProjectKey();
  const page = await suite.newPage(t);
  await load(page, server.addPage(testPage(), "burst"));

  const { threadId, ids } = await page.evaluate(
    async ({ key, apiUrl, count }) => {
      lunary.init({ appId: key, apiUrl });
      lunary.identify("bursty", { name: "Burst" });
      const thread = lunary.openThread({ tags: ["burst"] });
      const ids = [];
      for (let i = 0; i < count; i++) ids.push(thread.trackMessage({ role: "user", content: `#${i}` }));
      await lunary.flush();
      return { threadId: thread.id, ids };
    },
    { key, apiUrl: collector.url, count: COUNT },
  );
  assert.equal(ids.length, COUNT);

  const events = await collector.waitForEvents(key, COUNT, { settleMs: 300 });
  assert.equal(events.length, COUNT, "exactly 500 stored");
  const expected = Array.from({ length: COUNT }, (_, i) => `#${i}`);
  assert.deepEqual(events.map((e) => e.message.content), expected, "in call order, by arrival");
  const byTimestamp = [...events].sort((x, y) => x.timestamp - y.timestamp);
  assert.deepEqual(byTimestamp.map((e) => e.message.content), expected, "in call order, by timestamp");
  for (let i = 1; i < COUNT; i++) {
    assert.ok(events[i].timestamp > events[i - 1].timestamp, `timestamp ${i} strictly after ${i - 1}`);
  }
  assert.equal(new Set(events.map((e) => e.runId)).size, COUNT, "500 distinct runIds");
  assert.deepEqual(events.map((e) => e.runId), ids, "the runIds trackMessage returned");
  assert.ok(events.every((e) => e.parentRunId === threadId && e.userId === "bursty"));

  const stats = await collector.stats(key);
  assert.equal(stats.duplicates, 0, "no duplicates");
  assert.equal(stats.stored, COUNT);
  assert.equal(stats.rejected, 0);
  assert.equal(stats.received, COUNT, "nothing was sent twice");
  assertNoPageProblems(page);
});
