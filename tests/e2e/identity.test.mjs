// Scenario 3, in every engine of ENGINES: the identified user survives a reload
// (localStorage, per project key), reset() forgets it, two project keys on one origin (two
// tabs of one profile) keep their users apart, and identity calls made before init() do
// what they do after it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites, assertNoProblems, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import { probedPage } from "./support/probe.mjs";

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

engineSuites("identity", (suite) => {
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
    // identify() again with the same id after the reload: without props it keeps the saved
    // ones, with props it merges them in (README, "Where lunary-wasm differs").
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

  // Calls made before init() are "kept and sent after it" (README), so their order relative
  // to init must not change what they do: identity calls made before init are applied at
  // init on top of the user saved for the project.

  test("reset() before init() stays a logout after a reload", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(server.addPage(probedPage(), "reset-before-init"));
    const saved = await page.evaluate(
      ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl });
        lunary.identify("u-logout", { name: "Lou" });
        return localStorage.getItem(`lunary:${key}:user`);
      },
      { key, apiUrl: collector.url },
    );
    assert.ok(saved, "the user is saved before the reload");

    await page.reload();
    const result = await page.evaluate(
      async ({ key, apiUrl }) => {
        lunary.reset(); // e.g. a logout page, before the app's usual init
        lunary.init({ appId: key, apiUrl });
        const userId = lunary.getUserId() ?? null;
        const runId = lunary.openThread().trackMessage({ role: "user", content: "after logout" });
        await lunary.flush();
        return { userId, runId, saved: localStorage.getItem(`lunary:${key}:user`) };
      },
      { key, apiUrl: collector.url },
    );
    const events = await collector.waitForEvents(key, 1);
    assert.equal(result.userId, null, "getUserId() after reset() + init()");
    assert.equal(result.saved, null, "the saved user is gone");
    assert.equal(events.length, 1);
    assert.equal(events[0].runId, result.runId);
    assert.equal("userId" in events[0], false, `no userId after logout: ${JSON.stringify(events[0])}`);
    assert.equal("userProps" in events[0], false, "no userProps after logout");
    await assertNoProblems(page);
  });

  test("identify() before init() merges into the saved props of the same user, as after init() it does", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(server.addPage(probedPage(), "identify-before-init"));
    await page.evaluate(
      ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl });
        lunary.identify("u-merge", { name: "Mia", email: "mia@example.org" });
      },
      { key, apiUrl: collector.url },
    );

    await page.reload();
    const result = await page.evaluate(
      async ({ key, apiUrl }) => {
        lunary.identify("u-merge", { plan: "pro" }); // the same user, before init
        lunary.init({ appId: key, apiUrl });
        const runId = lunary.openThread().trackMessage({ role: "user", content: "hi" });
        await lunary.flush();
        return { runId, saved: JSON.parse(localStorage.getItem(`lunary:${key}:user`)) };
      },
      { key, apiUrl: collector.url },
    );
    const events = await collector.waitForEvents(key, 1);
    const expected = { name: "Mia", email: "mia@example.org", plan: "pro" };
    assert.equal(events.length, 1);
    assert.equal(events[0].runId, result.runId);
    assert.equal(events[0].userId, "u-merge");
    assert.deepEqual(events[0].userProps, expected, "the event carries every known prop (else the server erases them)");
    assert.deepEqual(result.saved, { userId: "u-merge", userProps: expected }, "and they are saved");
    await assertNoProblems(page);
  });
});
