// The in-page side of fuzz.test.mjs: a fixed-seed fuzzer that calls every export of the
// package with hostile JavaScript values, whole and nested inside otherwise valid
// arguments, and tallies what each call threw. The page functions are serialized by
// page.evaluate, so each is self-contained.

/** The default seed; `FUZZ_SEED` (decimal or 0x…) overrides it. */
export const DEFAULT_SEED = 0x5eed2024;

export function fuzzSeed() {
  const raw = process.env.FUZZ_SEED;
  if (raw === undefined || raw === "") return DEFAULT_SEED;
  const seed = Number(raw);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`FUZZ_SEED must be a 32-bit unsigned integer, got ${raw}`);
  return seed;
}

/**
 * A classic script for the page's `before`: records uncaught errors and unhandled
 * rejections in the page itself, next to Playwright's `pageerror`.
 */
export const RECORD_PAGE_PROBLEMS = `
window.__problems = [];
window.addEventListener("error", (e) => window.__problems.push("error: " + String(e.message)));
window.addEventListener("unhandledrejection", (e) => {
  let reason;
  try { reason = String(e.reason && e.reason.stack || e.reason); } catch { reason = "<unprintable>"; }
  window.__problems.push("unhandledrejection: " + reason);
});
`;

/**
 * Runs `calls` fuzzed calls in the page against `window.lunary`. Returns the tallies and
 * every call whose outcome broke the rule (threw something other than a TypeError starting
 * with `lunary.<function>:`, trapped, or returned the wrong kind of value).
 */
export async function fuzzInPage({ key, apiUrl, seed, calls, bigBudget }) {
  const L = window.lunary;
  const validInit = () => L.init({ appId: key, apiUrl });

  // mulberry32: small, fast, and the same sequence everywhere for one seed.
  let state = seed >>> 0;
  const rand = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(rand() * n);
  const pick = (items) => items[int(items.length)];
  const chance = (p) => rand() < p;

  // ---- hostile values, the big ones made once --------------------------------------------
  class HostileError extends Error {
    constructor(message) {
      super(message);
      this.name = "HostileError";
    }
  }
  const boom = (what) => {
    throw new HostileError(`hostile: ${what}`);
  };
  const TRAPS = ["get", "set", "has", "deleteProperty", "ownKeys", "getOwnPropertyDescriptor", "defineProperty",
    "getPrototypeOf", "setPrototypeOf", "isExtensible", "preventExtensions", "apply", "construct"];
  const allTrapsThrow = Object.fromEntries(TRAPS.map((trap) => [trap, () => boom(`proxy ${trap} trap`)]));
  const proxyObj = new Proxy({}, allTrapsThrow);
  const proxyArr = new Proxy([], allTrapsThrow);
  const proxyFn = new Proxy(function target() {}, allTrapsThrow);
  const revocable = Proxy.revocable({}, {});
  revocable.revoke();
  const revoked = revocable.proxy;
  // Every field name the SDK reads, as an enumerable getter that throws.
  const FIELDS = ["appId", "publicKey", "apiUrl", "verbose", "maxBatchSize", "flushIntervalMs", "maxQueueSize",
    "maxQueueBytes", "retryBaseMs", "retryMaxMs", "respectDoNotTrack", "onError", "id", "userId", "userProps",
    "tags", "role", "content", "feedback", "message", "stack", "runId", "parentRunId", "thumb", "comment", "name"];
  const getterObj = {};
  for (const field of FIELDS) Object.defineProperty(getterObj, field, { enumerable: true, get: () => boom(`getter ${field}`) });
  const throwingIndex = Object.defineProperty(["a", "b"], 1, { enumerable: true, get: () => boom("getter [1]") });
  const errorWithThrowingGetters = new Error("x");
  Object.defineProperty(errorWithThrowingGetters, "message", { get: () => boom("Error.message getter") });
  Object.defineProperty(errorWithThrowingGetters, "stack", { get: () => boom("Error.stack getter") });
  const frozenObj = Object.freeze({ role: "user", content: "frozen", nested: Object.freeze({ a: 1 }) });
  const frozenArr = Object.freeze(["frozen", "tags"]);
  const cycleObj = { name: "cycle" };
  cycleObj.self = cycleObj;
  const cycleArr = ["cycle"];
  cycleArr.push(cycleArr);
  let deepObj = {};
  for (let i = 0; i < 10_000; i++) deepObj = { a: deepObj };
  let deepArr = [];
  for (let i = 0; i < 10_000; i++) deepArr = [deepArr];
  // 5 MB of UTF-16 code units with characters JSON must escape and non-ASCII ones.
  const chunk = 'lorem ipsum "quoted" back\\slash \n tab\t é 中文 😀 ';
  const big = chunk.repeat(Math.ceil((5 << 20) / chunk.length)).slice(0, 5 << 20);
  const sparse = [];
  sparse.length = 100_000;
  const wide = {};
  for (let i = 0; i < 10_000; i++) wide[`k${i}`] = i;
  const errorSubclass = new (class CustomError extends Error {})("custom");
  // Calls back into the SDK while it reads or serializes the argument.
  const reentrantToJSON = {
    toJSON() {
      L.trackEvent("custom", "reentrant-toJSON", { from: "toJSON" });
      L.identify("reentrant-user", { name: "Re" });
      L.openThread({ tags: ["re"] }).trackMessage({ role: "user", content: "from toJSON" });
      L.stats();
      L.flush();
      return { reentrant: true };
    },
  };
  const reentrantGetters = {
    get role() {
      L.trackEvent(null, "reentrant-getter");
      return "user";
    },
    get content() {
      L.warn("from a getter");
      return "re";
    },
    get userId() {
      L.getUserId();
      return "re-user";
    },
    get appId() {
      validInit();
      return key;
    },
    get apiUrl() {
      return apiUrl;
    },
  };

  let bigLeft = bigBudget;
  const HOSTILE = [
    ["undefined", () => undefined],
    ["null", () => null],
    ["NaN", () => NaN],
    ["Infinity", () => Infinity],
    ["-Infinity", () => -Infinity],
    ["-0", () => -0],
    ["0", () => 0],
    ["1.5", () => 1.5],
    ["1e308", () => 1e308],
    ["-1e308", () => -1e308],
    ["2**32", () => 2 ** 32],
    ["2**53+2", () => 2 ** 53 + 2],
    ["2**64", () => 2 ** 64],
    ["Number.MIN_VALUE", () => Number.MIN_VALUE],
    ["true", () => true],
    ["false", () => false],
    ["10n**30n", () => 10n ** 30n],
    ["0n", () => 0n],
    ["Symbol('s')", () => Symbol("s")],
    ["Symbol.iterator", () => Symbol.iterator],
    ["function", () => function named() {}],
    ["throwing function", () => () => boom("function called")],
    ["class", () => class K {}],
    ["async function", () => async () => {}],
    ["Proxy({}) whose every trap throws", () => proxyObj],
    ["Proxy([]) whose every trap throws", () => proxyArr],
    ["Proxy(function) whose every trap throws", () => proxyFn],
    ["revoked Proxy", () => revoked],
    ["object whose getters throw", () => getterObj],
    ["array whose [1] getter throws", () => throwingIndex],
    ["frozen object", () => frozenObj],
    ["frozen array", () => frozenArr],
    ["toJSON that throws", () => ({ a: 1, toJSON: () => boom("toJSON") })],
    ["toJSON returning a BigInt", () => ({ toJSON: () => 1n })],
    ["toJSON returning undefined", () => ({ toJSON: () => undefined })],
    ["toJSON throwing a Proxy", () => ({ toJSON() { throw proxyObj; } })],
    ["toJSON throwing a revoked Proxy", () => ({ toJSON() { throw revoked; } })],
    ["toJSON throwing undefined", () => ({ toJSON() { throw undefined; } })],
    ["cyclic object", () => cycleObj],
    ["cyclic array", () => cycleArr],
    ["object nested 10,000 levels", () => deepObj],
    ["array nested 10,000 levels", () => deepArr],
    ["5 MB string", () => (bigLeft-- > 0 ? big : "5 MB string (budget spent)")],
    ["lone high surrogate", () => "\uD800"],
    ["lone low surrogate inside text", () => "a\uDC00b"],
    ["reversed surrogate pair", () => "\uDC00\uD800"],
    ["empty string", () => ""],
    ["whitespace", () => " \t\n"],
    ["NUL", () => "\0"],
    ["quotes, backslashes, U+2028", () => '"\\\u2028\u2029</script>'],
    ["own __proto__ key (JSON.parse)", () => JSON.parse('{"__proto__":{"polluted":true},"name":"p"}')],
    ["__proto__ literal", () => ({ __proto__: { inherited: 1 }, own: 2 })],
    ["Object.create(null)", () => Object.assign(Object.create(null), { bare: 1 })],
    ["array with holes", () => [1, , 3, , ,]],
    ["tags with a hole", () => ["a", , "b"]],
    ["sparse array, length 100,000", () => sparse],
    ["object with 10,000 keys", () => wide],
    ["Date", () => new Date(0)],
    ["invalid Date", () => new Date(NaN)],
    ["Map", () => new Map([["k", 1]])],
    ["Set", () => new Set([1])],
    ["WeakMap", () => new WeakMap()],
    ["Uint8Array", () => new Uint8Array([1, 2, 3])],
    ["Float64Array", () => new Float64Array([NaN, Infinity, -0])],
    ["ArrayBuffer", () => new ArrayBuffer(8)],
    ["DataView", () => new DataView(new ArrayBuffer(4))],
    ["RegExp", () => /x/g],
    ["Error", () => new Error("plain error")],
    ["Error subclass", () => errorSubclass],
    ["Error whose message/stack getters throw", () => errorWithThrowingGetters],
    ["resolved Promise", () => Promise.resolve(1)],
    ["new String('user')", () => new String("user")],
    ["new Number(1)", () => new Number(1)],
    ["window", () => window],
    ["toJSON calling the SDK", () => reentrantToJSON],
    ["getters calling the SDK", () => reentrantGetters],
    ["http URL not on loopback", () => "http://example.com"],
    ["javascript: URL", () => "javascript:alert(1)"],
  ];

  // A value with its description for the repro line: {v, d, h: hostile names used}.
  // `small`: not the 5 MB string (where it would end up in the collector's printed
  // rejection reasons, as an event name).
  const hostile = ({ small = false } = {}) => {
    for (;;) {
      const [name, make] = pick(HOSTILE);
      if (small && name === "5 MB string") continue;
      return { v: make(), d: `<${name}>`, h: [name] };
    }
  };
  const valid = (v) => ({ v, d: v === undefined ? "undefined" : JSON.stringify(v), h: [] });
  const obj = (entries) => {
    const v = {};
    const parts = [];
    const h = [];
    for (const [k, item] of entries) {
      v[k] = item.v;
      parts.push(`${k}: ${item.d}`);
      h.push(...item.h);
    }
    return { v, d: `{${parts.join(", ")}}`, h };
  };
  const arr = (items) => ({ v: items.map((i) => i.v), d: `[${items.map((i) => i.d).join(", ")}]`, h: items.flatMap((i) => i.h) });
  const call = (args) => ({ args: args.map((a) => a.v), d: args.map((a) => a.d).join(", "), h: args.flatMap((a) => a.h) });

  // ---- valid material --------------------------------------------------------------------
  const messageIds = ["00000000-0000-4000-8000-000000000001"];
  const threads = [];
  const remember = (thread, d) => {
    if (threads.length < 16) threads.push({ thread, d });
    else threads[int(threads.length)] = { thread, d };
  };
  const validThread = () => L.openThread({ userProps: { name: "Fuzz" }, tags: ["fuzz"] });
  remember(validThread(), "openThread({tags: [\"fuzz\"]})");
  const runId = () => valid(pick(messageIds));
  const someText = () => valid(pick(["user-1", "alice", "hello", "support", "x"]));
  const role = () => valid(pick(["user", "assistant", "system", "tool"]));
  const userProps = () => obj([["name", valid("Fuzz")], ["email", valid("fuzz@example.org")]]);
  const feedback = () => obj([["thumb", valid(pick(["up", "down"]))], ["comment", valid("ok")]]);
  const message = () => obj([["role", role()], ["content", someText()]]);
  const runType = () => valid(pick(["custom", "tool", "agent", null]));
  const eventName = () => valid(pick(["start", "end", "custom-event", "update", "alice"]));
  // Either a hostile value or a valid one of the given kind.
  const maybe = (make, options) => (chance(0.5) ? hostile(options) : make());
  // 0 to 3 arguments, each hostile or valid: for functions that take none.
  const noise = () => call(Array.from({ length: int(4) }, () => maybe(someText)));

  // Per function: whole hostile arguments, hostile values nested inside otherwise valid
  // ones, or valid arguments.
  const INIT_OPTIONS = ["appId", "publicKey", "apiUrl", "verbose", "maxBatchSize", "flushIntervalMs", "maxQueueSize",
    "maxQueueBytes", "retryBaseMs", "retryMaxMs", "respectDoNotTrack", "onError"];
  const GEN = {
    init: {
      whole: () => call([hostile()]),
      nested: () => {
        const field = pick(INIT_OPTIONS);
        return call([obj([["appId", valid(key)], ["apiUrl", valid(apiUrl)], [field, hostile()]])]);
      },
      valid: () => call([valid({ appId: key, apiUrl })]),
    },
    identify: {
      whole: () => call([maybe(someText), hostile()]),
      nested: () => pick([
        () => call([someText(), obj([["name", hostile()]])]),
        () => call([someText(), obj([["name", valid("n")], ["extra", obj([["deep", hostile()]])]])]),
        () => call([someText(), arr([hostile()])]),
      ])(),
      valid: () => call([someText(), userProps()]),
    },
    reset: { whole: noise, nested: noise, valid: () => call([]) },
    getUserId: { whole: noise, nested: noise, valid: () => call([]) },
    "optOut+optIn": { whole: noise, nested: noise, valid: () => call([]) },
    flush: { whole: noise, nested: noise, valid: () => call([]) },
    stats: { whole: noise, nested: noise, valid: () => call([]) },
    openThread: {
      whole: () => call([hostile()]),
      nested: () => {
        const fields = [["id", maybe(someText)], ["userId", maybe(someText)], ["userProps", maybe(userProps)]];
        fields.push(["tags", chance(0.5) ? hostile() : arr([valid("a"), hostile()])]);
        if (chance(0.3)) fields[2] = ["userProps", obj([["name", hostile()]])];
        return call([obj(fields)]);
      },
      valid: () => call([obj([["userId", someText()], ["userProps", userProps()], ["tags", arr([valid("t")])]])]),
    },
    trackMessage: {
      whole: () => call([hostile()]),
      nested: () => pick([
        () => call([obj([["role", hostile()], ["content", someText()]])]),
        () => call([obj([["role", role()], ["content", hostile()]])]),
        () => call([obj([["role", role()], ["content", someText()], ["id", hostile()]])]),
        () => call([obj([["role", role()], ["content", someText()], ["feedback", hostile()]])]),
        () => call([obj([["role", role()], ["feedback", obj([["thumb", hostile()], ["comment", hostile()]])]])]),
        () => call([obj([["role", role()], ["content", someText()], ["extra", hostile()]])]),
        () => call([obj([["role", role()], ["content", arr([hostile(), someText()])]])]),
      ])(),
      valid: () => call([message()]),
    },
    threadTrackEvent: {
      whole: () => call([maybe(someText), hostile()]),
      nested: () => call([someText(), obj([["meta", hostile()], ["n", valid(1)]])]),
      valid: () => call([someText(), obj([["meta", valid("m")]])]),
    },
    trackFeedback: {
      whole: () => call([maybe(runId), maybe(feedback), hostile()]),
      nested: () => pick([
        () => call([runId(), obj([["thumb", hostile()], ["comment", valid("c")]])]),
        () => call([runId(), obj([["thumb", valid("up")], ["comment", hostile()]])]),
        () => call([runId(), obj([["thumb", valid("down")], ["extra", hostile()]])]),
        () => call([runId(), feedback(), hostile()]),
      ])(),
      valid: () => call([runId(), feedback(), valid(chance(0.5))]),
    },
    trackEvent: {
      whole: () => call([maybe(runType, { small: true }), maybe(eventName, { small: true }), hostile()]),
      nested: () => {
        const field = pick(["runId", "parentRunId", "userId", "userProps", "event", "type", "timestamp", "runtime", "input", "output", "extra"]);
        const data = [["input", valid("in")], [field, hostile()]];
        if (field === "userProps" && chance(0.5)) data[1] = ["userProps", obj([["name", hostile()]])];
        return call([runType(), eventName(), obj(data)]);
      },
      valid: () => call([runType(), eventName(), obj([["input", valid("in")], ["userId", someText()]])]),
    },
    log: {
      whole: () => call([hostile(), ...(chance(0.5) ? [hostile()] : [])]),
      nested: () => call([someText(), obj([["detail", hostile()]])]),
      valid: () => call([someText(), obj([["detail", valid("d")]])]),
    },
  };

  // The exports, what they are called through, and their generator.
  const threadOf = () => pick(threads);
  const EXPORTS = [
    ["init", "init", (a) => {
      try {
        return L.init(...a);
      } finally {
        validInit(); // tracking goes on with the real key and collector
      }
    }],
    ["identify", "identify", (a) => L.identify(...a)],
    ["reset", "reset", (a) => L.reset(...a)],
    ["getUserId", "getUserId", (a) => L.getUserId(...a)],
    ["optOut+optIn", "optOut+optIn", (a) => {
      try {
        return L.optOut(...a);
      } finally {
        L.optIn(); // so the final check can deliver
      }
    }],
    ["openThread", "openThread", (a) => L.openThread(...a)],
    ["thread.trackMessage", "trackMessage", (a, t) => t.thread.trackMessage(...a)],
    ["trackMessage (destructured)", "trackMessage", (a, t) => {
      const { trackMessage } = t.thread;
      return trackMessage(...a);
    }],
    ["thread.trackEvent", "threadTrackEvent", (a, t) => t.thread.trackEvent(...a)],
    ["trackEvent (destructured thread)", "threadTrackEvent", (a, t) => {
      const { trackEvent } = t.thread;
      return trackEvent(...a);
    }],
    ["trackFeedback", "trackFeedback", (a) => L.trackFeedback(...a)],
    ["trackEvent", "trackEvent", (a) => L.trackEvent(...a)],
    ["info", "log", (a) => L.info(...a)],
    ["warn", "log", (a) => L.warn(...a)],
    ["error", "log", (a) => L.error(...a)],
    ["flush", "flush", (a) => L.flush(...a)],
    ["stats", "stats", (a) => L.stats(...a)],
  ];
  const ON_THREAD = new Set(["thread.trackMessage", "trackMessage (destructured)", "thread.trackEvent", "trackEvent (destructured thread)"]);
  // The prefix a TypeError from each export must start with.
  const PREFIX = {
    "thread.trackMessage": "lunary.trackMessage:",
    "trackMessage (destructured)": "lunary.trackMessage:",
    "thread.trackEvent": "lunary.thread.trackEvent:",
    "trackEvent (destructured thread)": "lunary.thread.trackEvent:",
    "optOut+optIn": "lunary.optOut:",
  };
  const prefixOf = (label) => PREFIX[label] ?? `lunary.${label}:`;

  const classify = (error) => {
    let kind;
    let message;
    try {
      if (error instanceof WebAssembly.RuntimeError) kind = "RuntimeError";
      else if (error instanceof Error) kind = error.constructor?.name || "Error";
      else kind = `thrown ${error === null ? "null" : typeof error}`;
    } catch {
      kind = "unclassifiable";
    }
    try {
      message = String(error?.message ?? error);
    } catch {
      message = "<unreadable>";
    }
    return { kind, message: message.length > 300 ? message.slice(0, 300) + "…" : message };
  };
  // A return value of the wrong kind, or undefined if it is fine.
  const badReturn = (label, ret) => {
    switch (label) {
      case "openThread":
        return ret && typeof ret.id === "string" && ret.id && typeof ret.trackMessage === "function" ? undefined : "not a thread";
      case "thread.trackMessage":
      case "trackMessage (destructured)":
        return typeof ret === "string" && ret ? undefined : `returned ${typeof ret}, not a message id`;
      case "getUserId":
        return ret === undefined || typeof ret === "string" ? undefined : `returned ${typeof ret}`;
      case "stats":
        return ret && typeof ret.tracked === "number" && typeof ret.dropped?.total === "number" ? undefined : "not stats";
      case "flush":
        return ret instanceof Promise ? undefined : "not a Promise";
      default:
        return ret === undefined ? undefined : `returned ${typeof ret}`;
    }
  };

  const tally = {
    calls: 0,
    ok: 0,
    traps: 0,
    byKind: {},
    byFunction: {},
    unexpected: [],
    unexpectedCount: 0,
    badReturns: [],
    slowest: { ms: 0, d: "" },
    flushes: 0,
  };
  const flushes = [];
  const flushProblems = [];
  const MAX_SAMPLES = 3000;

  validInit();
  const started = performance.now();
  for (let i = 0; i < calls; i++) {
    const [label, gen, run] = pick(EXPORTS);
    const mode = rand();
    const generated = mode < 0.3 ? GEN[gen].whole() : mode < 0.85 ? GEN[gen].nested() : GEN[gen].valid();
    const target = ON_THREAD.has(label) ? threadOf() : undefined;
    const d = `${target ? `(${target.d}).` : ""}${label}(${generated.d})`;
    const row = (tally.byFunction[label] ??= { calls: 0, ok: 0 });
    row.calls++;
    tally.calls++;
    const t0 = performance.now();
    try {
      const ret = run(generated.args, target);
      row.ok++;
      tally.ok++;
      const bad = badReturn(label, ret);
      if (bad && tally.badReturns.length < 50) tally.badReturns.push({ label, d: d.slice(0, 400), bad });
      // The 5 MB string is rationed: a thread or message id, or an identified user, made
      // of it would be carried by every later event.
      const carriesBig = generated.h.includes("5 MB string");
      if (label === "openThread" && !bad && !carriesBig) remember(ret, `openThread(${generated.d.slice(0, 120)})`);
      if (label.includes("trackMessage") && !bad && ret.length <= 200 && messageIds.length < 64) messageIds.push(ret);
      if (label === "identify" && carriesBig) L.identify("fuzz-user");
      if (label === "flush" && ret instanceof Promise) {
        tally.flushes++;
        flushes.push(ret.then(() => "resolved", (reason) => {
          flushProblems.push(`flush() rejected: ${String(reason)}`);
          return "rejected";
        }));
      }
    } catch (error) {
      const { kind, message } = classify(error);
      tally.byKind[kind] = (tally.byKind[kind] ?? 0) + 1;
      row[kind] = (row[kind] ?? 0) + 1;
      if (kind === "RuntimeError") tally.traps++;
      if (!(kind === "TypeError" && message.startsWith(prefixOf(label)))) {
        tally.unexpectedCount++;
        if (tally.unexpected.length < MAX_SAMPLES) {
          tally.unexpected.push({ i, label, d: d.length > 400 ? d.slice(0, 400) + "…" : d, h: generated.h, kind, message });
        }
      }
    }
    const ms = performance.now() - t0;
    if (ms > tally.slowest.ms) tally.slowest = { ms: Math.round(ms), d: d.slice(0, 200) };
    // Let requests, timers and answers run now and then, as on a real page.
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 0));
  }
  tally.ms = Math.round(performance.now() - started);

  // Every flush() promise resolves (it never rejects), within a bound.
  const timeout = new Promise((r) => setTimeout(() => r("timeout"), 20_000));
  const settled = await Promise.race([Promise.all(flushes).then(() => "all settled"), timeout]);
  tally.flushOutcome = settled;
  tally.flushProblems = flushProblems;
  tally.stats = L.stats();
  return tally;
}

/**
 * After the fuzz: the normal sequence, which must arrive as usual. Events left over from
 * the fuzz are flushed first, so these go in batches of their own.
 */
export async function normalSequenceInPage({ key, apiUrl, tag }) {
  const L = window.lunary;
  L.init({ appId: key, apiUrl });
  await L.flush();
  L.identify(`${tag}-user`, { name: "Final", email: "final@example.org" });
  const thread = L.openThread({ tags: [tag] });
  const q = thread.trackMessage({ role: "user", content: `${tag} question` });
  const a = thread.trackMessage({ role: "assistant", content: `${tag} answer` });
  L.trackFeedback(a, { thumb: "up", comment: `${tag} feedback` });
  await L.flush();
  return { threadId: thread.id, q, a, userId: L.getUserId(), stats: L.stats() };
}

/**
 * A classic script for the page's `before`: records the URL of every request the page
 * makes, in every engine (Playwright's `page.on("request")` is Chromium's only): each
 * resource timing entry (through an observer, which the 250-entry buffer does not limit)
 * and each call of fetch, sendBeacon, XMLHttpRequest.open, WebSocket and EventSource (a
 * request that fails before it starts leaves no timing entry). Into `window.__requests`.
 */
export const RECORD_REQUESTS = `
(() => {
  const seen = (window.__requests = []);
  const note = (how, url) => { try { seen.push(how + " " + String(url)); } catch { seen.push(how + " <unprintable>"); } };
  new PerformanceObserver((list) => { for (const e of list.getEntries()) note("timing", e.name); }).observe({ type: "resource", buffered: true });
  const fetch0 = window.fetch;
  window.fetch = function (input) {
    note("fetch", typeof Request === "function" && input instanceof Request ? input.url : input);
    return fetch0.apply(this, arguments);
  };
  const beacon0 = Navigator.prototype.sendBeacon;
  Navigator.prototype.sendBeacon = function (url) { note("beacon", url); return beacon0.apply(this, arguments); };
  const open0 = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url) { note("xhr", url); return open0.apply(this, arguments); };
  for (const name of ["WebSocket", "EventSource"]) {
    const Original = window[name];
    window[name] = new Proxy(Original, { construct(target, args) { note(name, args[0]); return Reflect.construct(target, args); } });
  }
})();
`;

/**
 * A classic script for the page's `before` that defines the page functions `fns`
 * ({name: function}) as `window.__long[name]`, for `runLong`. Their source goes inline in
 * the page, so `</` is written `<\/` (the same in a string or regex literal), or a
 * `"</script>"` among the fuzz's values would end the script element.
 */
export function longFunctions(fns) {
  const source = Object.entries(fns).map(([name, fn]) => `${JSON.stringify(name)}: (${fn.toString().replace(/<\//g, "<\\/")}),`);
  return `window.__long = {\n${source.join("\n")}\n};\n`;
}

/**
 * Runs `window.__long[name](arg)` in `page` (an engines.mjs page) and polls until it is
 * done: one WebDriver script may run 30 s at most, and a fuzz run takes longer than that
 * in some engines. Answers its result; throws what it threw.
 */
export async function runLong(page, name, arg, { timeout = 180_000 } = {}) {
  await page.evaluate(
    ({ name, arg }) => {
      const runs = (window.__runs ??= {});
      runs[name] = null;
      Promise.resolve()
        .then(() => window.__long[name](arg))
        .then(
          (value) => (runs[name] = { value }),
          (e) => (runs[name] = { error: String((e && e.stack) || e) }),
        );
    },
    { name, arg },
  );
  const done = await page.waitForFunction((name) => window.__runs[name], name, { timeout, every: 250 });
  if (done.error !== undefined) throw new Error(`${page.engine}: ${name} threw in the page: ${done.error}`);
  return done.value;
}
