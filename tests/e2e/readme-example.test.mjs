// Scenario 1, in every engine of ENGINES: the README example, end to end. The collector
// must store exactly what the protocol doc describes, and the browser must have sent it the
// documented way. The request headers are read as the server received them, the same way
// in every engine: `apiUrl` is a wire tap (startWireTap, a third origin) in front of the
// collector. Writes the wire JSON to target/e2e/readme-example-wire-<engine>.json, and the
// Chromium run (or, without Chromium in ENGINES, the first engine's) also to
// target/e2e/readme-example-wire.json.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { engineSuites, assertNoProblems, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import { ENGINES } from "./support/engines.mjs";
import { probedPage } from "./support/probe.mjs";
import { startWireTap } from "./support/wire-tap.mjs";
import { artifactsDir, pkgVersion } from "./support/paths.mjs";
import { assertReadmeEvents, runReadmeExample } from "./support/scenarios.mjs";

/** The engine whose wire JSON is also written under the plain name. */
const PLAIN_WIRE_ENGINE = ENGINES.includes("chromium") ? "chromium" : ENGINES[0];

engineSuites("readme-example", (suite) => {
  test("the README example is stored as the protocol describes, sent with the documented headers", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const tap = await startWireTap(collector.url);
    t.after(() => tap.stop());
    const page = await suite.newPage(t);
    await page.load(server.addPage(probedPage(), "readme"));
    const origins = new Set([server.origin, tap.url, collector.url].map((u) => new URL(u).origin));
    assert.equal(origins.size, 3, "page, tap and collector are three origins (the request is cross-origin)");

    const ids = await runReadmeExample(page, { key, apiUrl: tap.url });
    assert.equal(ids.userId, "user123", "getUserId() after identify");

    // What the collector stored: flush() resolved, so it is all there.
    const stored = await collector.waitForEvents(key, 3);
    assertReadmeEvents(stored, { ids, runtime: `lunary-wasm/${pkgVersion()}` });

    // On the wire, as the server got it: the documented request, and exactly what was stored.
    const posts = tap.log.filter((r) => r.method === "POST");
    assert.ok(posts.length >= 1, "at least one ingest request");
    for (const r of posts) {
      assert.equal(r.path, "/v1/runs/ingest");
      assert.equal(r.status, 200);
      assert.equal(r.headers.authorization, `Bearer ${key}`);
      assert.equal(r.headers["content-type"], "application/json");
      assert.equal(r.headers.origin, server.origin, "a cross-origin request from the page");
      assert.equal(r.headers.cookie, undefined, "no Cookie header");
      const body = JSON.parse(r.body);
      assert.deepEqual(Object.keys(body), ["events"], 'body is {"events":[...]}');
      assert.ok(Array.isArray(body.events));
    }
    const preflights = tap.log.filter((r) => r.method === "OPTIONS");
    t.diagnostic(`${suite.engine}: ${posts.length} POST, ${preflights.length} OPTIONS; request headers ${JSON.stringify(Object.keys(posts[0].headers))}`);
    assert.ok(preflights.length >= 1, "the Authorization header makes the browser ask first (CORS preflight)");
    assert.equal(preflights[0].path, "/v1/runs/ingest");
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
      assert.equal(f.url, `${tap.url}/v1/runs/ingest`);
      assert.equal(f.credentials, "omit");
      assert.equal(f.keepalive, true, "a small batch goes with keepalive");
      assert.equal(f.status, 200);
    }

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
    assert.deepEqual([stats.stored, stats.duplicates, stats.rejected], [3, 0, 0]);
    const problems = await assertNoProblems(page);
    assert.deepEqual(problems.warnings, [], "no warning");

    // Kept for the closing note: the exact wire JSON of the README example.
    await mkdir(artifactsDir, { recursive: true });
    const wire = posts.map((r) => ({
      method: "POST",
      url: `{apiUrl}${r.path}`,
      headers: { Authorization: r.headers.authorization, "Content-Type": r.headers["content-type"] },
      body: JSON.parse(r.body),
    }));
    const json = JSON.stringify(wire, null, 2) + "\n";
    await writeFile(resolve(artifactsDir, `readme-example-wire-${suite.engine}.json`), json);
    if (suite.engine === PLAIN_WIRE_ENGINE) await writeFile(resolve(artifactsDir, "readme-example-wire.json"), json);
  });
});
