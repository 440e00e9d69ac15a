// Scenario 1: the README example, end to end. The collector must store exactly what the
// protocol doc describes, and the browser must have sent it the documented way.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { useSuite, TEST_TIMEOUT } from "./support/suite.mjs";
import { testPage } from "./support/server.mjs";
import { load, ingestRequests } from "./support/browser.mjs";
import { artifactsDir, pkgVersion } from "./support/paths.mjs";
import { assertNoPageProblems, assertReadmeEvents, runReadmeExample, wireEvents } from "./support/scenarios.mjs";

const suite = useSuite("readme-example");

test("the README example is stored as the protocol describes, sent with the documented headers", { timeout: TEST_TIMEOUT }, async (t) => {
  const { collector, server } = suite;
  const key = suite.newProjectKey();
  const page = await suite.newPage(t);
  await load(page, server.addPage(testPage(), "readme"));
  assert.notEqual(new URL(server.origin).port, new URL(collector.url).port, "page and collector are cross-origin");

  const ids = await runReadmeExample(page, { key, apiUrl: collector.url });
  const runtime = `lunary-wasm/${pkgVersion()}`;

  // What the collector stored: flush() resolved, so it is all there.
  const stored = await collector.waitForEvents(key, 3);
  assertReadmeEvents(stored, { ids, runtime });

  // What the browser sent: the documented request, and exactly what was stored.
  const requests = (await ingestRequests(page)).filter((r) => r.headers?.authorization === `Bearer ${key}`);
  assert.ok(requests.length >= 1, "at least one ingest request");
  for (const request of requests) {
    assert.equal(request.url, `${collector.url}/v1/runs/ingest`);
    assert.equal(request.headers.authorization, `Bearer ${key}`);
    assert.equal(request.headers["content-type"], "application/json");
    assert.deepEqual(Object.keys(request.json), ["events"], 'body is {"events":[...]}');
    assert.ok(Array.isArray(request.json.events));
  }
  const sent = wireEvents(requests, key);
  assert.deepEqual(sent, stored, "the collector stored what the browser sent, once each");

  // The collector's views agree: the user keeps every prop, the thread its tags and feedback.
  const users = await collector.users(key);
  assert.deepEqual(
    users.map((u) => [u.userId, u.userProps]),
    [["user123", { name: "John", email: "john@example.org" }]],
  );
  const thread = await collector.thread(ids.threadId, key);
  assert.equal(thread.userId, "user123");
  assert.deepEqual(thread.tags, ["support"]);
  assert.deepEqual(thread.messages.map((m) => [m.runId, m.role, m.content]), [
    [ids.q, "user", "Hello"],
    [ids.a, "assistant", "Hi John, how can I help?"],
  ]);
  assert.deepEqual(thread.messages[1].feedback, { thumb: "up", comment: "great" });

  const stats = await collector.stats(key);
  assert.equal(stats.stored, 3);
  assert.equal(stats.duplicates, 0);
  assert.equal(stats.rejected, 0);
  assertNoPageProblems(page);

  // Kept for the closing note: the exact wire JSON of the README example.
  await mkdir(artifactsDir, { recursive: true });
  const wire = requests.map((r) => ({
    method: "POST",
    url: r.url.replace(collector.url, "{apiUrl}"),
    headers: { Authorization: r.headers.authorization, "Content-Type": r.headers["content-type"] },
    body: r.json,
  }));
  await writeFile(resolve(artifactsDir, "readme-example-wire.json"), JSON.stringify(wire, null, 2) + "\n");
});
