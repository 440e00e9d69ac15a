// Scenario 7, in every engine of ENGINES: side by side with Lunary's own browser SDK (npm
// lunary 1.0.18, `lunary/browser`, served by the static server) on the same page. The same
// calls — identify, a thread without its own user (so lunary-js's known thread-user bug
// does not apply), two messages, feedback — must put the same events on the wire: same
// keys in the same order, equal values, except `runtime`, the ids and `timestamp`. The
// wire is read by a tap in front of the collector (startWireTap), the same way in every
// engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites, assertNoProblems, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import { pkgVersion } from "./support/paths.mjs";
import { UUID_V4, sideBySide, tapIngests, wireEvents } from "./support/scenarios.mjs";

const EXCEPT = new Set(["runtime", "runId", "parentRunId", "timestamp"]);

engineSuites("lunary-js-parity", (suite) => {
  test("lunary-wasm and lunary-js put the same events on the wire for the same calls", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector } = suite;
    const { page, tap, keyJs, keyWasm } = await sideBySide(suite, t, "parity");

    const run = (lib, key) =>
      page.evaluate(
        async ({ lib, key, apiUrl }) => {
          const sdk = window[lib];
          sdk.init({ appId: key, apiUrl });
          sdk.identify("user123", { name: "John", email: "john@example.org", group: "beta" });
          const thread = sdk.openThread({ tags: ["support", "web"] });
          const q = thread.trackMessage({ role: "user", content: "Hello" });
          const a = thread.trackMessage({ role: "assistant", content: "Hi John, how can I help?" });
          sdk.trackFeedback(a, { thumb: "up", comment: "great" });
          // lunary-js: flush() sends the queue at once (its 500 ms debounce would otherwise
          // decide); it does not wait for a request in flight, so the collector is polled below.
          await sdk.flush();
          return { threadId: thread.id, q, a };
        },
        { lib, key, apiUrl: tap.url },
      );
    const js = await run("lunaryJs", keyJs);
    const wasm = await run("lunary", keyWasm);

    const storedJs = await collector.waitForEvents(keyJs, 3, { settleMs: 700 });
    const storedWasm = await collector.waitForEvents(keyWasm, 3);
    const requests = tapIngests(tap);
    const wireJs = wireEvents(requests, keyJs);
    const wireWasm = wireEvents(requests, keyWasm);
    t.diagnostic(`${suite.engine}: lunary-js wire: ${JSON.stringify(wireJs)}`);
    t.diagnostic(`${suite.engine}: lunary-wasm wire: ${JSON.stringify(wireWasm)}`);

    assert.equal(wireJs.length, 3, "lunary-js sent 3 events");
    assert.equal(wireWasm.length, 3, "lunary-wasm sent 3 events");
    assert.deepEqual(storedJs, wireJs, "the collector stored lunary-js's events as sent");
    assert.deepEqual(storedWasm, wireWasm, "the collector stored lunary-wasm's events as sent");

    for (let i = 0; i < 3; i++) {
      const [a, b] = [wireJs[i], wireWasm[i]];
      const what = `${suite.engine}: event ${i} (${a.event})`;
      assert.deepEqual(Object.keys(b), Object.keys(a), `${what}: same keys in the same order`);
      for (const key of Object.keys(a)) {
        if (EXCEPT.has(key)) continue;
        // Compared as JSON text: nested key order counts too.
        assert.equal(JSON.stringify(b[key]), JSON.stringify(a[key]), `${what}: ${key}`);
      }
    }

    // The excepted fields differ only as they should.
    const runtime = `lunary-wasm/${pkgVersion()}`;
    assert.ok(wireJs.every((e) => e.runtime === "lunary-js"));
    assert.ok(wireWasm.every((e) => e.runtime === runtime));
    for (const [events, ids] of [[wireJs, js], [wireWasm, wasm]]) {
      assert.deepEqual(events.map((e) => e.runId), [ids.q, ids.a, ids.a], "runIds: the messages, then feedback on the answer");
      assert.deepEqual(events.map((e) => e.parentRunId), [ids.threadId, ids.threadId, undefined]);
      assert.ok(events[0].timestamp < events[1].timestamp && events[1].timestamp < events[2].timestamp);
    }
    for (const id of [wasm.threadId, wasm.q, wasm.a]) assert.match(id, UUID_V4);

    await assertNoProblems(page);
  });
});
