// Helpers for the fault-tolerance tests: the collector's fault rules, a page harness that
// tracks numbered messages and records onError reports, the page's ingest requests
// (its probe's record), and the check that every tracked message was stored
// exactly once, in order per thread.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { probedPage } from "./probe.mjs";

/** Small retry knobs, so that failures cost milliseconds, not seconds. */
export const FAST = { flushIntervalMs: 50, retryBaseMs: 50, retryMaxMs: 400 };

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` (async) until it returns a truthy value, or throws `what` after `timeoutMs`. */
export async function until(probe, what, { timeoutMs = 10_000, everyMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// --- the collector's fault injection (--faults) --------------------------------------

async function faultsCall(collector, method, body) {
  const res = await fetch(`${collector.url}/__faults`, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(5_000),
  });
  if (!res.ok) throw new Error(`${method} /__faults: ${res.status} ${await res.text()}`);
  return (await res.json()).rules;
}

/** Appends a fault rule ({mode, count, retryAfter, hangMs}); answers the queued rules. */
export const addFault = (collector, rule) => faultsCall(collector, "POST", rule);
/** Forgets every queued rule. */
export const clearFaults = (collector) => faultsCall(collector, "DELETE");
/** The rules still queued. */
export const listFaults = (collector) => faultsCall(collector, "GET");

/**
 * Clears the fault rules now and when test `t` ends: rules are global to the collector,
 * so one left behind would hit the next test's requests.
 */
export async function isolateFaults(t, collector) {
  await clearFaults(collector);
  t.after(() => clearFaults(collector).catch(() => {}));
}

// --- the page harness ---------------------------------------------------------------

/**
 * `window.h` in the test page: `h.init(options)` (onError reports are kept in
 * `h.reports`, each with the page's `at` time), `h.track(threadId, label, from, count, pad)`
 * tracks messages `label#from` … (with `pad` filler characters before the `#`) in the thread with that id (opened once per page, with
 * that id, so a thread carries on across reloads) and returns `[{runId, threadId, n}]`,
 * `h.flushed` (did the last `h.startFlush()` resolve), `h.queueKeys(key)` (the persisted
 * queues: `[{key, events}]`).
 */
export const HARNESS = `
const h = {
  reports: [],
  threads: new Map(),
  flushed: null,
  onReport: null,
  init(options) {
    lunary.init({
      ...options,
      onError: (report) => {
        h.reports.push({ ...report, at: Date.now() });
        if (h.onReport) h.onReport(report);
      },
    });
  },
  thread(id) {
    let thread = h.threads.get(id);
    if (!thread) {
      thread = lunary.openThread({ id, tags: ["faults"] });
      h.threads.set(id, thread);
    }
    return thread;
  },
  track(threadId, label, from, count, pad = 0) {
    const thread = h.thread(threadId);
    const filler = pad > 0 ? " " + "x".repeat(pad) + " " : "";
    const out = [];
    for (let n = from; n < from + count; n++) {
      out.push({ runId: thread.trackMessage({ role: n % 2 ? "assistant" : "user", content: label + filler + "#" + n }), threadId, n });
    }
    return out;
  },
  startFlush() {
    h.flushed = false;
    lunary.flush().then(() => (h.flushed = true));
  },
  queueKeys(key) {
    const prefix = "lunary:" + key + ":queue:";
    return Object.keys(localStorage)
      .filter((k) => k.startsWith(prefix))
      .map((k) => ({ key: k, events: localStorage.getItem(k).split("\\n").slice(1).filter(Boolean).length }));
  },
};
window.h = h;
`;

/** The harness page (a probed page, registered once per static server). */
export function harnessUrl(server) {
  server.__harnessUrl ??= server.addPage(probedPage({ module: HARNESS }), "faults-harness");
  return server.__harnessUrl;
}

/** `h.init` in the page with the project key, the collector and `options`. */
export function initIn(page, { key, collector, ...options }) {
  return page.evaluate(({ key, apiUrl, options }) => h.init({ appId: key, apiUrl, ...options }), {
    key,
    apiUrl: collector.url,
    options,
  });
}

/** Tracks `count` messages `label#from…` in thread `threadId` in the page (`pad` filler characters each). */
export function trackIn(page, { threadId, label, from = 0, count, pad = 0 }) {
  return page.evaluate(({ threadId, label, from, count, pad }) => h.track(threadId, label, from, count, pad), {
    threadId,
    label,
    from,
    count,
    pad,
  });
}

export const newThreadId = () => randomUUID();

export const sdkStats = (page) => page.evaluate(() => lunary.stats());
export const reportsOf = (page) => page.evaluate(() => h.reports);
export const queueKeys = (page, key) => page.evaluate((key) => h.queueKeys(key), key);

/** `await lunary.flush()` in the page, bounded. */
export function flushIn(page, timeoutMs = 15_000) {
  return page.evaluate(
    (timeoutMs) =>
      Promise.race([
        lunary.flush().then(() => "flushed"),
        new Promise((r) => setTimeout(() => r("flush() still pending after " + timeoutMs + " ms"), timeoutMs)),
      ]),
    timeoutMs,
  );
}

/** Waits until the page has persisted at least `count` events for `key` (all its tabs' queues). */
export function waitPersisted(page, key, count, { timeoutMs = 5_000 } = {}) {
  return until(
    async () => {
      const keys = await queueKeys(page, key);
      return keys.reduce((sum, k) => sum + k.events, 0) >= count && keys;
    },
    `${count} events persisted under lunary:${key}:queue:*`,
    { timeoutMs },
  );
}

/**
 * After `init` on a page that found the queues `left` (from `queueKeys` before init):
 * waits until it has taken them over (the takeover runs when the Web Lock callbacks
 * come, after `init` returned; each queue taken over is removed from storage).
 */
export function awaitTakeover(page, key, left, { timeoutMs = 5_000 } = {}) {
  const names = left.map((k) => k.key);
  return until(
    async () => {
      const now = new Set((await queueKeys(page, key)).map((k) => k.key));
      return names.every((name) => !now.has(name));
    },
    `the takeover of ${names.length} queue(s) left behind`,
    { timeoutMs },
  );
}

/** Waits until no queue is persisted for `key` any more (written ≤ 1 s after a change). */
export function waitNothingPersisted(page, key, { timeoutMs = 3_000 } = {}) {
  return until(async () => (await queueKeys(page, key)).every((k) => k.events === 0), `no queue left under lunary:${key}:queue:*`, {
    timeoutMs,
  }).catch(async (err) => {
    throw new Error(`${err.message}: ${JSON.stringify(await queueKeys(page, key))}`);
  });
}

// --- the ingest requests a page makes -------------------------------------------------

/** The page's ingest fetches (its probe's record, engines.mjs) with the number of events each carried. */
export async function ingestLog(page) {
  return (await page.ingests()).map((r) => ({ ...r, events: r.json?.events?.length ?? null }));
}

/**
 * The most requests of `log` that were in flight at the same time, a request being over
 * once its answer's headers came (the page's `fetch` resolves then; the SDK does not read
 * the body of a failed answer, so its end can come later) or it failed.
 */
export function maxInFlight(log) {
  const edges = [];
  for (const r of log) {
    edges.push([r.start, 1]);
    edges.push([r.answered ?? r.end ?? Infinity, -1]);
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of edges) max = Math.max(max, (now += d));
  return max;
}

// --- what the collector stored ----------------------------------------------------------

const COUNTER = /#(\d+)$/;

/**
 * Waits until the collector stored at least `expected.length` events for `key`, then
 * checks: every expected runId stored exactly once and nothing else; no event was
 * received twice (`/api/stats` duplicates 0); per thread, by timestamp, the counters
 * are the tracked ones in increasing order and timestamps strictly increase; with
 * `arrivalOrder`, per thread the arrival order is the same. Answers `{events, stats}`.
 */
export async function assertStoredOnce(collector, key, expected, { timeoutMs = 10_000, settleMs = 300, arrivalOrder = true } = {}) {
  let events;
  try {
    events = await collector.waitForEvents(key, expected.length, { timeoutMs, settleMs });
  } catch (err) {
    events = await collector.events(key);
    const stored = new Set(events.map((e) => e.runId));
    const missing = expected.filter((x) => !stored.has(x.runId));
    assert.fail(`${err.message}; missing ${missing.length}: ${summarizeMissing(missing)}`);
  }
  const counts = new Map();
  for (const e of events) counts.set(e.runId, (counts.get(e.runId) ?? 0) + 1);
  const missing = expected.filter((x) => !counts.has(x.runId));
  assert.equal(missing.length, 0, `every tracked message stored; missing ${missing.length}: ${summarizeMissing(missing)}`);
  const twice = [...counts].filter(([, n]) => n > 1);
  assert.equal(twice.length, 0, `no message stored twice: ${JSON.stringify(twice.slice(0, 5))}`);
  const known = new Set(expected.map((x) => x.runId));
  const unexpected = events.filter((e) => !known.has(e.runId));
  assert.equal(unexpected.length, 0, `nothing but the tracked messages: ${JSON.stringify(unexpected.slice(0, 3))}`);
  assert.equal(events.length, expected.length);

  const stats = await collector.stats(key);
  assert.equal(stats.duplicates, 0, `no event was sent again after being stored (collector /api/stats ${JSON.stringify(stats)})`);
  assert.equal(stats.stored, expected.length, "the collector stored each once");
  assert.equal(stats.rejected, 0, "the collector refused nothing");

  const threads = new Map();
  for (const x of expected) {
    if (!threads.has(x.threadId)) threads.set(x.threadId, []);
    threads.get(x.threadId).push(x.n);
  }
  for (const [threadId, ns] of threads) {
    const tracked = [...ns].sort((a, b) => a - b);
    const mine = events.filter((e) => e.parentRunId === threadId);
    const byTime = [...mine].sort((a, b) => a.timestamp - b.timestamp);
    assert.deepEqual(byTime.map(counterOf), tracked, `thread ${threadId}: counters in order by timestamp`);
    for (let i = 1; i < byTime.length; i++) {
      assert.ok(byTime[i].timestamp > byTime[i - 1].timestamp, `thread ${threadId}: timestamps strictly increase (#${counterOf(byTime[i])})`);
    }
    if (arrivalOrder) {
      assert.deepEqual(mine.map(counterOf), tracked, `thread ${threadId}: counters in order of arrival`);
    }
  }
  return { events, stats };
}

const counterOf = (event) => Number(COUNTER.exec(event.message?.content ?? "")?.[1] ?? NaN);

function summarizeMissing(missing) {
  const byThread = new Map();
  for (const x of missing) {
    if (!byThread.has(x.threadId)) byThread.set(x.threadId, []);
    byThread.get(x.threadId).push(x.n);
  }
  return [...byThread].map(([id, ns]) => `${id.slice(0, 8)}: #${ns.slice(0, 12).join(",")}${ns.length > 12 ? ",…" : ""}`).join("; ") || "none";
}

/** The SDK's own account: nothing dropped, nothing left queued, `delivered` as given. */
export function assertSdkAccount(stats, { tracked, restored = 0, delivered = tracked + restored }) {
  assert.equal(stats.tracked, tracked, `stats().tracked (${JSON.stringify(stats)})`);
  assert.equal(stats.restored, restored, "stats().restored");
  assert.equal(stats.dropped.total, 0, `stats().dropped.total: ${JSON.stringify(stats.dropped)}`);
  assert.equal(stats.queued, 0, "stats().queued");
  assert.equal(stats.delivered, delivered, "stats().delivered");
}

/** No uncaught error in the page and no console warning about dropped events. */
export async function assertNothingDropped(page) {
  const problems = await page.problems();
  assert.deepEqual(problems.pageErrors, [], `${page.engine}: no uncaught error or rejection in the page`);
  assert.deepEqual(problems.warnings.filter((w) => /dropped/i.test(w)), [], `${page.engine}: no 'dropped' warning in the page`);
}
