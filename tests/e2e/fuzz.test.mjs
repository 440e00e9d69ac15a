// Fuzz: 10,000 calls of every export with hostile JavaScript values (fixed seed,
// FUZZ_SEED to change it), whole and nested inside otherwise valid arguments. The rule
// (README, "What each kind of bad input gets"): arguments of the wrong kind throw a
// TypeError starting with `lunary.<function>:`; what JSON cannot carry is handled as
// JSON.stringify would or left out with a warning; nothing else reaches the page, the
// module never traps, and tracking goes on afterwards.
//
// In every engine of ENGINES. The page functions are defined by the page's own script and
// polled for (support/fuzz.mjs `runLong`): a WebDriver script may run 30 s at most and, in
// Firefox, runs in another realm than the page. The requests are the page's own record of
// them (resource timing and the request APIs wrapped), the same in every engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites } from "./support/engine-suite.mjs";
import { probedPage } from "./support/probe.mjs";
import { fuzzInPage, fuzzSeed, longFunctions, normalSequenceInPage, RECORD_PAGE_PROBLEMS, RECORD_REQUESTS, runLong } from "./support/fuzz.mjs";

const CALLS = Number(process.env.FUZZ_CALLS || 10_000);
const SEED = fuzzSeed();
/** How many times the 5 MB string may be drawn in the main run (it costs ~10 ms a use). */
const BIG_BUDGET = 24;
/** Bounds of the two long tests (the page work is polled for, see runLong). */
const LONG_TIMEOUT = 240_000;

/** What the fuzz once found (fixed since), kept below as minimal reproductions. */
const FINDINGS = [
  { id: "tags-elements", about: "options.tags: an array Proxy whose traps throw, or an element getter that throws" },
  { id: "revoked-proxy", about: "a revoked Proxy where an object may go (Array.isArray throws on it)" },
];

/**
 * The page side of the huge-inputs test: every export with 5 MB strings and 10,000-level
 * nesting as user data; per call its outcome, timings and the next normal call.
 */
async function hugeInputsInPage({ key, apiUrl }) {
  const L = window.lunary;
  let deep = {};
  for (let i = 0; i < 10_000; i++) deep = { a: deep };
  const chunk = 'lorem ipsum "quoted" back\\slash \n é 中文 😀 ';
  const big = chunk.repeat(Math.ceil((5 << 20) / chunk.length)).slice(0, 5 << 20);
  L.init({ appId: key, apiUrl });
  L.identify("huge-user", { name: "Huge" });
  const thread = L.openThread({ tags: ["huge"] });
  const id = thread.trackMessage({ role: "user", content: "first" });
  await L.flush();

  // [description, call, prefix its TypeError (if any) must start with]
  const CALLS = [
    ["init({appId: <5 MB>, apiUrl})", () => L.init({ appId: big, apiUrl }), "lunary.init:"],
    ["identify(<5 MB>)", () => L.identify(big), "lunary.identify:"],
    ["identify(u, {bio: <5 MB>})", () => L.identify("huge-user", { bio: big }), "lunary.identify:"],
    ["identify(u, <deep>)", () => L.identify("huge-user", deep), "lunary.identify:"],
    ["identify(u, {name, nested: <deep>})", () => L.identify("huge-user", { name: "Huge", nested: deep }), "lunary.identify:"],
    ["openThread(<5 MB>)", () => L.openThread(big).trackMessage({ role: "user", content: "in a 5 MB thread" }), "lunary.openThread:"],
    ["openThread({userProps: {bio: <5 MB>}, tags: [<5 MB>]})", () => L.openThread({ userProps: { bio: big }, tags: [big] }).trackMessage({ role: "user", content: "x" }), "lunary.openThread:"],
    ["openThread({userProps: <deep>})", () => L.openThread({ userProps: deep }).trackMessage({ role: "user", content: "x" }), "lunary.openThread:"],
    ["trackMessage({role, content: <5 MB>})", () => thread.trackMessage({ role: "user", content: big }), "lunary.trackMessage:"],
    ["trackMessage({role, content: <deep>})", () => thread.trackMessage({ role: "user", content: deep }), "lunary.trackMessage:"],
    ["trackMessage({role: <5 MB>, content})", () => thread.trackMessage({ role: big, content: "x" }), "lunary.trackMessage:"],
    ["trackMessage({role, content, extra: <deep>})", () => thread.trackMessage({ role: "user", content: "x", extra: deep }), "lunary.trackMessage:"],
    ["trackMessage({role, id: <5 MB>})", () => thread.trackMessage({ role: "user", content: "x", id: big }), "lunary.trackMessage:"],
    ["thread.trackEvent(name, {blob: <5 MB>})", () => thread.trackEvent("blob", { blob: big }), "lunary.thread.trackEvent:"],
    ["thread.trackEvent(name, <deep>)", () => thread.trackEvent("deep", deep), "lunary.thread.trackEvent:"],
    ["thread.trackEvent(<5 MB>)", () => thread.trackEvent(big), "lunary.thread.trackEvent:"],
    ["trackFeedback(id, {comment: <5 MB>})", () => L.trackFeedback(id, { thumb: "up", comment: big }), "lunary.trackFeedback:"],
    ["trackFeedback(id, <deep>)", () => L.trackFeedback(id, deep), "lunary.trackFeedback:"],
    ["trackEvent(type, name, {input: <5 MB>})", () => L.trackEvent("tool", "start", { input: big }), "lunary.trackEvent:"],
    ["trackEvent(type, name, <deep>)", () => L.trackEvent("tool", "start", deep), "lunary.trackEvent:"],
    ["trackEvent(type, name, {userProps: <deep>})", () => L.trackEvent("tool", "start", { userProps: deep }), "lunary.trackEvent:"],
    ["trackEvent(<5 MB>, name)", () => L.trackEvent(big, "start"), "lunary.trackEvent:"],
    ["info(<5 MB>)", () => L.info(big), "lunary.info:"],
    ["warn(message, {detail: <5 MB>})", () => L.warn("big detail", { detail: big }), "lunary.warn:"],
    ["error(message, <deep>)", () => L.error("deep detail", deep), "lunary.error:"],
    ["error(new Error(<5 MB>))", () => L.error(new Error(big)), "lunary.error:"],
  ];

  const rows = [];
  for (const [i, [d, run, prefix]] of CALLS.entries()) {
    const before = L.stats();
    const t0 = performance.now();
    let outcome = "returned";
    try {
      run();
    } catch (error) {
      const kind = error instanceof WebAssembly.RuntimeError ? "RuntimeError" : error?.constructor?.name;
      const message = String(error?.message).slice(0, 200);
      outcome = kind === "TypeError" && message.startsWith(prefix) ? `TypeError ${message}` : `BAD ${kind}: ${message}`;
    }
    const callMs = performance.now() - t0;
    const t2 = performance.now();
    const flushed = await Promise.race([L.flush().then(() => "flushed"), new Promise((r) => setTimeout(() => r("flush timed out"), 15_000))]);
    // Responsive: a timer set now runs promptly.
    const t1 = performance.now();
    await new Promise((r) => setTimeout(r, 0));
    const lagMs = performance.now() - t1;
    const flushMs = t1 - t2;
    // The next normal call works: after a valid init, should the call have changed the
    // key, and a fresh user (identify merges props into a known user's, so the huge or
    // deep props the call gave would otherwise go on every later event).
    let next;
    try {
      if (d.startsWith("init")) L.init({ appId: key, apiUrl });
      L.reset();
      L.identify("huge-user", { name: "Huge" });
      next = thread.trackMessage({ role: "assistant", content: `after #${i}` });
    } catch (error) {
      next = `BAD ${error?.constructor?.name}: ${String(error?.message).slice(0, 200)}`;
    }
    await L.flush();
    const after = L.stats();
    const delta = (k) => after.dropped[k] - before.dropped[k];
    const drops = ["queueFull", "status", "refused", "tooLarge"].filter((k) => delta(k)).map((k) => `${k} ${delta(k)}`);
    rows.push({ d, outcome, callMs: Math.round(callMs), flushMs: Math.round(flushMs), flushed, lagMs: Math.round(lagMs), next, drops: drops.join(", ") || "none" });
  }
  return { rows, threadId: thread.id, stats: L.stats() };
}

/**
 * The page side of the findings' reproductions: runs each call (its source) and says
 * whether it returned or threw a lunary TypeError. In the page's own script, so that
 * `TypeError` is the page's (a WebDriver script may run in another realm: Firefox's).
 */
function findingsInPage({ calls }) {
  window.revoked = () => {
    const r = Proxy.revocable({}, {});
    r.revoke();
    return r.proxy;
  };
  return calls.map(([d, prefix, source]) => {
    try {
      (0, eval)(`(${source})`)();
      return `${d}: returned`;
    } catch (error) {
      const message = String(error?.message);
      const ok = error instanceof TypeError && message.startsWith(prefix);
      return `${d}: ${ok ? "lunary TypeError" : `threw ${error?.constructor?.name}: ${message}`}`;
    }
  });
}

/** The page of every test: the probe, the page's own error record and request log, the long page functions. */
function fuzzPageUrl(server) {
  server.__fuzzPageUrl ??= server.addPage(
    probedPage({ before: RECORD_PAGE_PROBLEMS + RECORD_REQUESTS + longFunctions({ fuzz: fuzzInPage, huge: hugeInputsInPage, normal: normalSequenceInPage, findings: findingsInPage }) }),
    "fuzz",
  );
  return server.__fuzzPageUrl;
}

async function assertNoPageErrors(p) {
  assert.deepEqual((await p.problems()).pageErrors, [], `${p.engine}: no uncaught error or rejection (probe)`);
  assert.deepEqual(await p.evaluate(() => window.__problems), [], "no uncaught error or unhandled rejection in the page");
}

function printTable(byFunction) {
  const kinds = [...new Set(Object.values(byFunction).flatMap((row) => Object.keys(row)))].filter((k) => k !== "calls" && k !== "ok");
  const header = ["function", "calls", "ok", ...kinds];
  const rows = Object.entries(byFunction)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([fn, row]) => [fn, row.calls, row.ok, ...kinds.map((k) => row[k] ?? 0)].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(["fuzz: errors by function and kind", line(header), ...rows.map(line)].join("\n  "));
}

engineSuites(
  "fuzz",
  (suite) => {
    async function page(t) {
      const p = await suite.newPage(t);
      await p.load(fuzzPageUrl(suite.server));
      return p;
    }

    test(`fuzz: ${CALLS} calls of every export with hostile values; only lunary TypeErrors, no trap, tracking goes on`, { timeout: LONG_TIMEOUT }, async (t) => {
      const { collector } = suite;
      const key = suite.newProjectKey();
      console.log(`fuzz: seed ${SEED} (0x${SEED.toString(16)}); rerun with FUZZ_SEED=${SEED}`);
      const p = await page(t);
      const started = Date.now();
      const tally = await runLong(p, "fuzz", { key, apiUrl: collector.url, seed: SEED, calls: CALLS, bigBudget: BIG_BUDGET }, { timeout: LONG_TIMEOUT - 60_000 });
      const runMs = Date.now() - started;
      printTable(tally.byFunction);

      const unknown = tally.unexpected;
      console.log(`fuzz: ${tally.calls} calls, ${tally.traps} traps, errors by kind ${JSON.stringify(tally.byKind)} (${p.engine}, ${Math.round(runMs / 1000)} s)`);
      console.log(
        `fuzz: ${tally.ok} calls returned; ${tally.unexpectedCount} broke the rule; ` +
          `${tally.ms} ms in the page, slowest call ${tally.slowest.ms} ms: ${tally.slowest.d.slice(0, 100)}`,
      );
      const { warnings } = await p.problems();
      console.log(`fuzz: stats() after the run ${JSON.stringify(tally.stats)}; ${warnings.length} console warnings`);

      assert.equal(tally.calls, CALLS);
      assert.equal(tally.traps, 0, "no call trapped (WebAssembly.RuntimeError)");
      assert.ok(tally.unexpected.length === tally.unexpectedCount, "every rule-breaking call was kept for the report");
      assert.deepEqual(
        unknown.slice(0, 20).map((u) => `#${u.i} ${u.d} threw ${u.kind}: ${u.message}`),
        [],
        `every thrown error is a TypeError starting with lunary.<function>: (${unknown.length} calls broke it)`,
      );
      assert.deepEqual(tally.badReturns, [], "every call that returned gave the documented kind of value");
      assert.equal(tally.flushOutcome, "all settled", "every flush() promise settled within 20 s");
      assert.deepEqual(tally.flushProblems, [], "no flush() promise rejected");
      await assertNoPageErrors(p);
      // Every request the page made, as the page itself saw it (resource timing and the request
      // APIs wrapped: the same view in every engine): nothing but 127.0.0.1.
      const requests = await p.evaluate(() => window.__requests);
      const offSite = requests.filter((r) => !r.split(" ")[1].startsWith("http://127.0.0.1:")).map((r) => r.slice(0, 120));
      assert.deepEqual(offSite, [], "nothing was sent anywhere but the collector");
      assert.ok(requests.some((r) => r.startsWith("timing ") && r.endsWith("/v1/runs/ingest")), "the request log saw the ingest requests (the check is not vacuous)");
      assert.ok(warnings.some((w) => w.includes("could not be serialized")), "what JSON cannot carry was left out with a warning");

      // The module still works: the normal sequence arrives as usual.
      const ids = await runLong(p, "normal", { key, apiUrl: collector.url, tag: "after-fuzz" }, { timeout: 30_000 });
      assert.equal(ids.userId, "after-fuzz-user");
      const events = await collector.events(key);
      const chats = events.filter((e) => e.event === "chat" && (e.runId === ids.q || e.runId === ids.a));
      assert.deepEqual(chats.map((e) => e.runId), [ids.q, ids.a], "both messages stored once, in order");
      for (const [event, content, role] of [[chats[0], "after-fuzz question", "user"], [chats[1], "after-fuzz answer", "assistant"]]) {
        assert.equal(event.type, "thread");
        assert.equal(event.parentRunId, ids.threadId);
        assert.equal(event.userId, "after-fuzz-user");
        assert.deepEqual(event.userProps, { name: "Final", email: "final@example.org" });
        assert.deepEqual(event.threadTags, ["after-fuzz"]);
        assert.deepEqual(event.message, { role, content });
      }
      const feedback = events.filter((e) => e.event === "feedback" && e.runId === ids.a && e.feedback?.comment === "after-fuzz feedback");
      assert.equal(feedback.length, 1, "the feedback stored once");
      assert.deepEqual(feedback[0].feedback, { thumb: "up", comment: "after-fuzz feedback" });
      assert.equal(feedback[0].userId, "after-fuzz-user");
      await assertNoPageErrors(p);
    });

    test("5 MB strings and 10,000-level nesting as user data in every export: no trap, no stray error, the page stays responsive, the next call works", { timeout: LONG_TIMEOUT }, async (t) => {
      const { collector } = suite;
      const key = suite.newProjectKey();
      const p = await page(t);

      const report = await runLong(p, "huge", { key, apiUrl: collector.url }, { timeout: LONG_TIMEOUT - 30_000 });

      console.log(
        ["huge inputs: call → outcome (call ms, flush ms, timer lag ms; events dropped)"]
          .concat(report.rows.map((r) => `${r.d} → ${r.outcome} (${r.callMs} ms, flush ${r.flushMs} ms, lag ${r.lagMs} ms; dropped: ${r.drops})`))
          .join("\n  "),
      );
      const trapsOrStray = report.rows.filter((r) => r.outcome.startsWith("BAD") || String(r.next).startsWith("BAD"));
      assert.deepEqual(trapsOrStray, [], "no trap, no error but a lunary TypeError, and the next call works");
      for (const row of report.rows) {
        assert.equal(row.flushed, "flushed", `flush() settles after ${row.d}`);
        assert.ok(row.lagMs < 2_000, `a timer runs within 2 s after ${row.d} (took ${row.lagMs} ms)`);
      }
      // The page answers the test too.
      assert.equal(await Promise.race([p.evaluate(() => 42), new Promise((r) => setTimeout(() => r("page unresponsive"), 5_000))]), 42);

      // Every "after #i" message was delivered, once each, in order.
      const stored = (await collector.events(key)).filter((e) => e.event === "chat" && /^after #\d+$/.test(e.message?.content));
      assert.deepEqual(
        stored.map((e) => e.message.content),
        report.rows.map((_, i) => `after #${i}`),
        "each normal call after a huge one was stored once",
      );
      for (const event of stored) {
        assert.equal(event.parentRunId, report.threadId);
        assert.equal(event.userId, "huge-user");
      }
      await assertNoPageErrors(p);
    });

    // The SDK bugs the fuzz found, one minimal reproduction each.
    for (const [bug, calls] of [
      [FINDINGS[0], [
        ["openThread({tags: Proxy([]) whose every trap throws})", "lunary.openThread:", () => {
          const traps = Object.fromEntries(["get", "has", "ownKeys", "getOwnPropertyDescriptor", "getPrototypeOf"].map((k) => [k, () => { throw new Error(`trap ${k}`); }]));
          lunary.openThread({ tags: new Proxy([], traps) });
        }],
        ["openThread({tags: ['a', <getter that throws>]})", "lunary.openThread:", () => {
          lunary.openThread({ tags: Object.defineProperty(["a", "b"], 1, { get() { throw new Error("getter"); } }) });
        }],
      ]],
      [FINDINGS[1], [
        ["init(revoked)", "lunary.init:", () => lunary.init(revoked())],
        ["identify('u', revoked)", "lunary.identify:", () => lunary.identify("u", revoked())],
        ["openThread(revoked)", "lunary.openThread:", () => lunary.openThread(revoked())],
        ["openThread({userProps: revoked})", "lunary.openThread:", () => lunary.openThread({ userProps: revoked() })],
        ["openThread({tags: revoked})", "lunary.openThread:", () => lunary.openThread({ tags: revoked() })],
        ["thread.trackMessage(revoked)", "lunary.trackMessage:", () => lunary.openThread().trackMessage(revoked())],
        ["thread.trackMessage({role, feedback: revoked})", "lunary.trackMessage:", () => lunary.openThread().trackMessage({ role: "user", feedback: revoked() })],
        ["thread.trackEvent('e', revoked)", "lunary.thread.trackEvent:", () => lunary.openThread().trackEvent("e", revoked())],
        ["trackFeedback('id', revoked)", "lunary.trackFeedback:", () => lunary.trackFeedback("id", revoked())],
        ["trackEvent('t', 'e', revoked)", "lunary.trackEvent:", () => lunary.trackEvent("t", "e", revoked())],
        ["trackEvent('t', 'e', {userProps: revoked})", "lunary.trackEvent:", () => lunary.trackEvent("t", "e", { userProps: revoked() })],
        ["error(revoked)", "lunary.error:", () => lunary.error(revoked())],
      ]],
    ]) {
      test(`fuzz finding: ${bug.id} (${bug.about})`, { timeout: 30_000 }, async (t) => {
        const p = await page(t);
        const results = await runLong(p, "findings", { calls: calls.map(([d, prefix, fn]) => [d, prefix, fn.toString()]) }, { timeout: 20_000 });
        console.log(`${bug.id}:\n  ${results.join("\n  ")}`);
        assert.deepEqual(results.filter((r) => r.includes(": threw ")), [], "every call returns or throws a lunary.<function>: TypeError");
        await assertNoPageErrors(p);
      });
    }

    // Huge numbers that init accepts as "a whole number" (found with the fuzz's values; they
    // throw nothing, so the fuzz's rule does not catch them).
    test("fuzz finding: queue bounds of 2**32 or more", {
      timeout: 30_000,
    }, async (t) => {
      const p = await page(t);
      const results = await p.evaluate(({ key, apiUrl }) => {
        const out = {};
        for (const option of ["maxQueueSize", "maxQueueBytes"]) {
          lunary.init({ appId: key, apiUrl, flushIntervalMs: 60_000, [option]: 2 ** 32 });
          const before = lunary.stats();
          const thread = lunary.openThread();
          for (let i = 0; i < 5; i++) thread.trackMessage({ role: "user", content: `m${i}` });
          const after = lunary.stats();
          out[option] = { queued: after.queued - before.queued, queueFull: after.dropped.queueFull - before.dropped.queueFull };
          lunary.optOut(); // clears the queue for the next option
          lunary.optIn();
        }
        return out;
      }, { key: suite.newProjectKey(), apiUrl: suite.collector.url });
      console.log(`queue bounds of 2**32, 5 messages queued: ${JSON.stringify(results)}`);
      assert.deepEqual(results, {
        maxQueueSize: { queued: 5, queueFull: 0 },
        maxQueueBytes: { queued: 5, queueFull: 0 },
      });
    });

    test("fuzz finding: flushIntervalMs of 2**32 or more", {
      timeout: 30_000,
    }, async (t) => {
      const p = await page(t);
      const perSecond = await p.evaluate(async ({ key, apiUrl }) => {
        let timeouts = 0;
        const setTimeoutBefore = window.setTimeout;
        window.setTimeout = function (...args) {
          timeouts++;
          return setTimeoutBefore.apply(this, args);
        };
        lunary.init({ appId: key, apiUrl, flushIntervalMs: 2 ** 32 });
        lunary.openThread().trackMessage({ role: "user", content: "queued" });
        await new Promise((r) => setTimeoutBefore(r, 1_500)); // past the queue takeover at init
        const from = timeouts;
        await new Promise((r) => setTimeoutBefore(r, 1_000));
        window.setTimeout = setTimeoutBefore;
        return timeouts - from;
      }, { key: suite.newProjectKey(), apiUrl: suite.collector.url });
      console.log(`flushIntervalMs 2**32, one event queued: ${perSecond} setTimeout calls in 1 s`);
      assert.ok(perSecond <= 5, `the send timer stays quiet while nothing is due (${perSecond} setTimeout calls in 1 s)`);
    });
  },
  { timeout: 3 * LONG_TIMEOUT },
);
