// trackEvent(type, event, data), in every engine of ENGINES: lunary-wasm serializes `data`
// with one JSON.stringify and copies its fields as the browser wrote them, falling back to
// field-by-field reading when the whole object cannot be serialized. Checked side by side
// with lunary-js (npm lunary 1.0.18's browser build, served by the static server, on the
// same page: the same calls, the same wire events, read by a tap in front of the
// collector; `data.userId`/`userProps`, which lunary/browser replaces by the identified
// user, are checked on their own), and for the fallback: a field that cannot be serialized
// is left out with a warning, the others are sent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites, assertNoProblems, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import { probedPage } from "./support/probe.mjs";
import { sideBySide, tapIngests, wireEvents } from "./support/scenarios.mjs";


engineSuites("track-event", (suite) => {
  test("trackEvent puts the same event on the wire as lunary-js: data fields in order, null and undefined left out, nested values as JSON", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector } = suite;
    const { page, tap, keyJs, keyWasm } = await sideBySide(suite, t, "track-event-parity");

    const run = (lib, key) =>
      page.evaluate(
        async ({ lib, key, apiUrl }) => {
          const sdk = window[lib];
          sdk.init({ appId: key, apiUrl });
          const runId = crypto.randomUUID();
          const parentRunId = crypto.randomUUID();
          sdk.trackEvent("tool", "start", {
            runId,
            parentRunId,
            name: "search",
            input: { query: "weather \"today\"", limit: 5, tags: ["a", "é", "\u2028"] },
            skipped: null,
            missing: undefined,
            at: new Date(Date.UTC(2026, 10, 28, 12, 0, 0)),
            ok: true,
            score: 0.25,
          });
          sdk.trackEvent("tool", "end", { runId, output: "sunny" });
          await sdk.flush();
          return { runId, parentRunId };
        },
        { lib, key, apiUrl: tap.url },
      );
    const js = await run("lunaryJs", keyJs);
    const wasm = await run("lunary", keyWasm);
    await collector.waitForEvents(keyJs, 2, { settleMs: 700 });
    await collector.waitForEvents(keyWasm, 2);
    const requests = tapIngests(tap);
    const wireJs = wireEvents(requests, keyJs);
    const wireWasm = wireEvents(requests, keyWasm);
    t.diagnostic(`${suite.engine}: lunary-js wire: ${JSON.stringify(wireJs)}`);
    t.diagnostic(`${suite.engine}: lunary-wasm wire: ${JSON.stringify(wireWasm)}`);
    assert.equal(wireJs.length, 2);
    assert.equal(wireWasm.length, 2);

    const except = new Set(["runtime", "runId", "parentRunId", "timestamp"]);
    for (let i = 0; i < 2; i++) {
      const [a, b] = [wireJs[i], wireWasm[i]];
      assert.deepEqual(Object.keys(b), Object.keys(a), `event ${i}: same keys in the same order`);
      for (const key of Object.keys(a)) {
        if (except.has(key)) continue;
        assert.equal(JSON.stringify(b[key]), JSON.stringify(a[key]), `event ${i}: ${key}`);
      }
    }
    for (const [events, ids] of [[wireJs, js], [wireWasm, wasm]]) {
      assert.deepEqual(events.map((e) => e.runId), [ids.runId, ids.runId], "runId from data");
      assert.equal(events[0].parentRunId, ids.parentRunId, "parentRunId from data");
    }
    assert.equal(wireWasm[0].at, "2026-11-28T12:00:00.000Z", "a Date is sent as JSON.stringify writes it");
    assert.ok(!("skipped" in wireWasm[0]) && !("missing" in wireWasm[0]), "null and undefined fields are left out");
    await assertNoProblems(page);
  });

  test("trackEvent data that cannot be serialized whole: the bad field is left out with one warning, the others are sent; wrong types of the fields the SDK reads throw", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(server.addPage(probedPage(), "track-event-fallback"));

    const result = await page.evaluate(
      async ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl });
        const cyclic = { name: "loop" };
        cyclic.self = cyclic;
        const runIds = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
        // A cycle in one field: JSON.stringify(data) throws, so fields are read one by one.
        lunary.trackEvent("tool", "start", { runId: runIds[0], before: 1, graph: cyclic, big: 10n, after: "kept" });
        // A toJSON on data: its own fields are sent, as Object.entries sees them.
        lunary.trackEvent("tool", "start", { runId: runIds[1], note: "own field", toJSON() { return { replaced: true }; } });
        // An escaped runId string (a quote inside) comes through as the string; data's user
        // is the event's user (README: "Where lunary-wasm differs").
        lunary.trackEvent("tool", "start", { runId: runIds[2] + '"x', userId: "svc-7", userProps: { plan: "pro" }, input: "ok" });
        const errors = [];
        for (const data of [{ runId: 5 }, { parentRunId: {} }, { userId: true }, { userProps: "nope" }, { userProps: [1] }]) {
          try {
            lunary.trackEvent("tool", "start", data);
            errors.push(null);
          } catch (e) {
            errors.push(`${e.name}: ${e.message}`);
          }
        }
        await lunary.flush();
        return { runIds, errors };
      },
      { key, apiUrl: collector.url },
    );
    const events = await collector.waitForEvents(key, 3);
    assert.equal(events.length, 3, `3 events stored, got ${JSON.stringify(events)}`);
    const [first, second, third] = events;
    assert.equal(first.runId, result.runIds[0]);
    assert.equal(first.before, 1);
    assert.equal(first.after, "kept");
    assert.ok(!("graph" in first) && !("big" in first), "the fields JSON cannot carry are left out");
    assert.deepEqual(Object.keys(first).slice(-3), ["runId", "before", "after"], "the others keep their order");
    assert.equal(second.runId, result.runIds[1]);
    assert.equal(second.note, "own field");
    assert.ok(!("replaced" in second), "data's toJSON is not used for the event");
    assert.equal(third.runId, result.runIds[2] + '"x');
    assert.equal(third.input, "ok");
    assert.equal(third.userId, "svc-7");
    assert.deepEqual(third.userProps, { plan: "pro" });
    t.diagnostic(`${suite.engine}: errors: ${JSON.stringify(result.errors)}`);
    assert.deepEqual(
      result.errors.map((e) => e && e.replace(/ must be .*/, "")),
      [
        "TypeError: lunary.trackEvent: data.runId",
        "TypeError: lunary.trackEvent: data.parentRunId",
        "TypeError: lunary.trackEvent: data.userId",
        "TypeError: lunary.trackEvent: data.userProps",
        "TypeError: lunary.trackEvent: data.userProps",
      ],
    );
    const problems = await assertNoProblems(page);
    const warnings = problems.warnings.filter((w) => /could not be serialized/.test(w));
    assert.equal(warnings.length, 2, `one warning per field left out: ${JSON.stringify(warnings)}`);
  });
});
