// In every engine of ENGINES: the README example (stored field by field, the request
// headers as the server received them), calls made right after import and before init(),
// and a burst of 500 messages. The Chromium-only originals: readme-example, early-calls
// and burst.test.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites, assertNoProblems, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import { probedPage, startWireTap } from "./support/engines.mjs";
import { pkgVersion } from "./support/paths.mjs";
import { assertReadmeEvents } from "./support/scenarios.mjs";
import { UUID_V4 } from "./support/suite.mjs";

engineSuites("engines-basics", (suite) => {
  test("the README example is stored as the protocol describes, sent with the documented headers", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    // apiUrl is a tap in front of the collector (a third origin): it logs the requests as
    // the server received them, whatever the engine.
    const tap = await startWireTap(collector.url);
    t.after(() => tap.stop());
    const page = await suite.newPage(t);
    await page.load(server.addPage(probedPage(), "readme"));

    const ids = await page.evaluate(
      async ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl });
        lunary.identify("user123", { name: "John", email: "john@example.org" });
        const thread = lunary.openThread({ userId: "user123", userProps: { name: "John" }, tags: ["support"] });
        const q = thread.trackMessage({ role: "user", content: "Hello" });
        const a = thread.trackMessage({ role: "assistant", content: "Hi John, how can I help?" });
        lunary.trackFeedback(a, { thumb: "up", comment: "great" });
        await lunary.flush();
        return { threadId: thread.id, q, a, userId: lunary.getUserId() ?? null };
      },
      { key, apiUrl: tap.url },
    );
    assert.equal(ids.userId, "user123");
    const stored = await collector.waitForEvents(key, 3);
    assertReadmeEvents(stored, { ids, runtime: `lunary-wasm/${pkgVersion()}` });

    // On the wire, as the server got it.
    const posts = tap.log.filter((r) => r.method === "POST");
    assert.ok(posts.length >= 1, "at least one ingest request");
    const pageOrigin = server.origin;
    for (const r of posts) {
      assert.equal(r.path, "/v1/runs/ingest");
      assert.equal(r.headers.authorization, `Bearer ${key}`);
      assert.equal(r.headers["content-type"], "application/json");
      assert.equal(r.headers.origin, pageOrigin, "a cross-origin request from the page");
      assert.equal(r.headers.cookie, undefined, "no Cookie header");
      assert.deepEqual(Object.keys(JSON.parse(r.body)), ["events"], 'body is {"events":[...]}');
    }
    const preflights = tap.log.filter((r) => r.method === "OPTIONS");
    t.diagnostic(`${suite.engine}: ${posts.length} POST, ${preflights.length} OPTIONS; request headers ${JSON.stringify(Object.keys(posts[0].headers))}`);
    assert.ok(preflights.length >= 1, "the Authorization header makes the browser ask first (CORS preflight)");
    assert.equal(preflights[0].headers["access-control-request-method"], "POST");
    assert.deepEqual(
      posts.flatMap((r) => JSON.parse(r.body).events),
      stored,
      "the collector stored what the browser sent, once each",
    );

    // As the page made the request: credentials omitted, keepalive for a small batch.
    const fetches = await page.ingests();
    assert.equal(fetches.length, posts.length, "one fetch per request the server got");
    for (const f of fetches) {
      assert.equal(f.credentials, "omit");
      assert.equal(f.keepalive, true, "a small batch goes with keepalive");
      assert.equal(f.status, 200);
    }

    const users = await collector.users(key);
    assert.deepEqual(
      users.map((u) => [u.userId, u.userProps]),
      [["user123", { name: "John", email: "john@example.org" }]],
    );
    const thread = await collector.thread(ids.threadId, key);
    assert.deepEqual(thread.messages.map((m) => [m.runId, m.role, m.content]), [
      [ids.q, "user", "Hello"],
      [ids.a, "assistant", "Hi John, how can I help?"],
    ]);
    assert.deepEqual(thread.messages[1].feedback, { thumb: "up", comment: "great" });
    const stats = await collector.stats(key);
    assert.deepEqual([stats.stored, stats.duplicates, stats.rejected], [3, 0, 0]);
    const problems = await assertNoProblems(page);
    assert.deepEqual(problems.warnings, [], "no warning");
  });

  const COUNT = 20;
  test(`init + identify + openThread + ${COUNT} trackMessage right after import all arrive, in order, once`, { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
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
    await assertNoProblems(page);
  });

  const BURST = 500;
  test(`a burst of ${BURST} messages in one task, then flush: all arrive in order, once each`, { timeout: TEST_TIMEOUT }, async (t) => {
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
      { key, apiUrl: collector.url, count: BURST },
    );
    assert.equal(ids.length, BURST);
    t.diagnostic(`${suite.engine}: ${BURST} trackMessage calls in ${ms.toFixed(1)} ms`);

    const events = await collector.waitForEvents(key, BURST, { settleMs: 300 });
    assert.equal(events.length, BURST, `exactly ${BURST} stored`);
    const expected = Array.from({ length: BURST }, (_, i) => `#${i}`);
    assert.deepEqual(events.map((e) => e.message.content), expected, "in call order, by arrival");
    for (let i = 1; i < BURST; i++) {
      assert.ok(events[i].timestamp > events[i - 1].timestamp, `timestamp ${i} strictly after ${i - 1}`);
    }
    assert.deepEqual(events.map((e) => e.runId), ids, "the runIds trackMessage returned");
    assert.equal(new Set(ids).size, BURST, "distinct runIds");
    assert.ok(events.every((e) => e.parentRunId === threadId && e.userId === "bursty"));
    const stats = await collector.stats(key);
    assert.deepEqual([stats.stored, stats.duplicates, stats.rejected, stats.received], [BURST, 0, 0, BURST], "stored once each, nothing sent twice");
    await assertNoProblems(page);
  });
});
