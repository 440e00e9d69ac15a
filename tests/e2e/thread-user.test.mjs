// Scenario 2, in every engine of ENGINES: whose user a thread's events carry. A thread
// opened with its own user keeps it (lunary-js's browser build overwrites it); feedback
// carries the identified user.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites, assertNoProblems, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import { probedPage } from "./support/probe.mjs";

engineSuites("thread-user", (suite) => {
  test("a thread with its own user and no identify: its messages carry that user", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(server.addPage(probedPage(), "thread-own-user"));

    const ids = await page.evaluate(
      async ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl });
        const thread = lunary.openThread({ userId: "alice", userProps: { name: "Alice", plan: "pro" }, tags: ["t1"] });
        const q = thread.trackMessage({ role: "user", content: "hi" });
        const a = thread.trackMessage({ role: "assistant", content: "hello Alice" });
        await lunary.flush();
        return { threadId: thread.id, q, a, identified: lunary.getUserId() ?? null };
      },
      { key, apiUrl: collector.url },
    );
    assert.equal(ids.identified, null, "nobody was identified");

    const events = await collector.waitForEvents(key, 2);
    assert.equal(events.length, 2);
    assert.deepEqual(events.map((e) => e.runId), [ids.q, ids.a]);
    for (const event of events) {
      assert.equal(event.event, "chat");
      assert.equal(event.parentRunId, ids.threadId);
      assert.equal(event.userId, "alice", "the thread's own user");
      assert.deepEqual(event.userProps, { name: "Alice", plan: "pro" });
      assert.deepEqual(event.threadTags, ["t1"]);
    }
    const thread = await collector.thread(ids.threadId, key);
    assert.equal(thread.userId, "alice");
    assert.deepEqual(
      (await collector.users(key)).map((u) => [u.userId, u.userProps]),
      [["alice", { name: "Alice", plan: "pro" }]],
    );
    await assertNoProblems(page);
  });

  test("a thread whose user differs from the identified one: the thread's user and props win; feedback carries the identified user", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(server.addPage(probedPage(), "thread-other-user"));

    const ids = await page.evaluate(
      async ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl });
        lunary.identify("agent-7", { name: "Agent Seven", email: "agent7@example.org" });
        const thread = lunary.openThread({ userId: "customer-42", userProps: { name: "Customer" }, tags: ["support"] });
        const q = thread.trackMessage({ role: "user", content: "my order is late" });
        const a = thread.trackMessage({ role: "assistant", content: "let me check" });
        lunary.trackFeedback(a, { thumb: "down", comment: "slow" });
        await lunary.flush();
        return { threadId: thread.id, q, a };
      },
      { key, apiUrl: collector.url },
    );

    const events = await collector.waitForEvents(key, 3);
    assert.equal(events.length, 3);
    const [q, a, fb] = events;
    for (const [event, runId] of [[q, ids.q], [a, ids.a]]) {
      assert.equal(event.event, "chat");
      assert.equal(event.runId, runId);
      assert.equal(event.userId, "customer-42", "the thread's user wins over the identified one");
      assert.deepEqual(event.userProps, { name: "Customer" }, "the thread's props only, none of the identified user's");
    }
    assert.equal(fb.event, "feedback");
    assert.equal(fb.runId, ids.a);
    assert.equal(fb.userId, "agent-7", "feedback carries the identified user");
    assert.deepEqual(fb.userProps, { name: "Agent Seven", email: "agent7@example.org" });

    const users = Object.fromEntries((await collector.users(key)).map((u) => [u.userId, u.userProps]));
    assert.deepEqual(users, {
      "customer-42": { name: "Customer" },
      "agent-7": { name: "Agent Seven", email: "agent7@example.org" },
    });
    assert.equal((await collector.thread(ids.threadId, key)).userId, "customer-42");
    await assertNoProblems(page);
  });
});
