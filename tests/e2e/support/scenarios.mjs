// Calls run inside test pages (each function is serialized by page.evaluate, so it must be
// self-contained), and the checks shared by several test files.
import assert from "node:assert/strict";
import { probedPage } from "./probe.mjs";
import { startWireTap } from "./wire-tap.mjs";

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * The README example, verbatim, against `window[lib]` (default: lunary-wasm). Returns the
 * ids it produced and `getUserId()` afterwards.
 */
export function runReadmeExample(page, { key, apiUrl, lib = "lunary" }) {
  return page.evaluate(
    async ({ key, apiUrl, lib }) => {
      const lunary = window[lib];
      lunary.init({ appId: key, apiUrl });
      lunary.identify("user123", { name: "John", email: "john@example.org" });
      const thread = lunary.openThread({ userId: "user123", userProps: { name: "John" }, tags: ["support"] });
      const q = thread.trackMessage({ role: "user", content: "Hello" });
      const a = thread.trackMessage({ role: "assistant", content: "Hi John, how can I help?" });
      lunary.trackFeedback(a, { thumb: "up", comment: "great" });
      await lunary.flush();
      return { threadId: thread.id, q, a, userId: lunary.getUserId?.() };
    },
    { key, apiUrl, lib },
  );
}

/**
 * What the README example must put on the wire, per the protocol doc: two thread chat
 * events and a feedback, field by field.
 */
export function assertReadmeEvents(events, { ids, runtime }) {
  assert.equal(events.length, 3, `3 events stored, got ${JSON.stringify(events)}`);
  const [q, a, fb] = events;
  // A thread's user that is the identified user carries the identified props with the
  // thread's over them (README, "Where lunary-wasm differs").
  const johnFull = { name: "John", email: "john@example.org" };

  const chatKeys = ["event", "message", "parentRunId", "runId", "runtime", "threadTags", "timestamp", "type", "userId", "userProps"];
  for (const [event, runId, message] of [
    [q, ids.q, { role: "user", content: "Hello" }],
    [a, ids.a, { role: "assistant", content: "Hi John, how can I help?" }],
  ]) {
    assert.deepEqual(Object.keys(event).sort(), chatKeys, "a thread message has exactly the protocol's fields");
    assert.equal(event.type, "thread");
    assert.equal(event.event, "chat");
    assert.equal(event.runId, runId, "runId is the id trackMessage returned");
    assert.match(event.runId, UUID_V4);
    assert.equal(event.parentRunId, ids.threadId, "parentRunId is thread.id");
    assert.match(event.parentRunId, UUID_V4);
    assert.deepEqual(event.threadTags, ["support"]);
    assert.equal(event.userId, "user123");
    assert.deepEqual(event.userProps, johnFull, "thread user = identified user: identified props merged with the thread's");
    assert.equal(event.runtime, runtime);
    assert.deepEqual(event.message, message);
  }

  assert.deepEqual(
    Object.keys(fb).sort(),
    ["event", "feedback", "overwrite", "runId", "runtime", "timestamp", "type", "userId", "userProps"],
    "feedback has exactly the protocol's fields (no parentRunId)",
  );
  assert.equal(fb.type, null, "feedback type is null");
  assert.equal(fb.event, "feedback");
  assert.equal(fb.runId, ids.a, "feedback names the assistant message id");
  assert.equal(fb.overwrite, false);
  assert.deepEqual(fb.feedback, { thumb: "up", comment: "great" });
  assert.equal(fb.userId, "user123");
  assert.deepEqual(fb.userProps, johnFull, "feedback carries the identified user's props");
  assert.equal(fb.runtime, runtime);

  for (const event of events) {
    assert.equal(typeof event.timestamp, "number");
    assert.ok(Number.isInteger(event.timestamp), "timestamp is integer epoch ms");
    assert.ok(Math.abs(event.timestamp - Date.now()) < 120_000, `timestamp ${event.timestamp} is about now`);
  }
  assert.ok(q.timestamp < a.timestamp && a.timestamp < fb.timestamp, "timestamps strictly increase in call order");
  assert.notEqual(q.runId, a.runId);
}


/** The events of the captured ingest requests, in the order they were sent. */
export function wireEvents(requests, key) {
  return requests
    .filter((r) => r.headers?.authorization === `Bearer ${key}`)
    .flatMap((r) => (Array.isArray(r.json?.events) ? r.json.events : []));
}

/**
 * The ingest POSTs a wire tap (engines.mjs `startWireTap`) received, in arrival order, as
 * `{path, status, headers, body, json}`: the shape `wireEvents` reads, the same in every
 * engine (Playwright's request capture exists in Chromium only).
 */
export function tapIngests(tap) {
  return tap.log
    .filter((r) => r.method === "POST" && r.path === "/v1/runs/ingest")
    .map((r) => {
      let json;
      try {
        json = JSON.parse(r.body);
      } catch {}
      return { ...r, json };
    });
}

/**
 * A probed page with lunary-wasm as `window.lunary` and npm lunary's browser build as
 * `window.lunaryJs`, side by side; `apiUrl` a wire tap in front of the collector (closed
 * when test `t` ends). Answers `{page, tap, keyJs, keyWasm}` (a project key per SDK).
 */
export async function sideBySide(suite, t, name) {
  const tap = await startWireTap(suite.collector.url);
  t.after(() => tap.stop());
  const page = await suite.newPage(t);
  const lunaryJs = 'import lunaryJs from "/lunary-js/browser.js";\nwindow.lunaryJs = lunaryJs;';
  await page.load(suite.server.addPage(probedPage({ extraImports: lunaryJs }), name));
  return { page, tap, keyJs: suite.newProjectKey(), keyWasm: suite.newProjectKey() };
}
