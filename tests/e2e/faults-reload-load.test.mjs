// In every engine of ENGINES: a reload while the server starts failing, on a page slowed
// down ×5, the way chaos.test.mjs reloads its first tab: a run of 500s queued, events
// tracked, the page reloaded. Each round's pagehide is logged with the queue keys the SDK
// left. The slowdown is `page.throttleCpu(rate)` (support/engines.mjs): CDP
// Emulation.setCPUThrottlingRate in Chromium; in Firefox and WebKit, which have no such
// control, the equivalent: an in-page loop that keeps the main thread busy (rate-1)/rate
// of the time, started again in every page of the tab, so the page's own tasks (the SDK's
// timers, answers, pagehide) run in the gaps, about ×rate later.
//
// Once the page has seen a 500, pagehide sends nothing with keepalive and persists the
// queue: the next page (or the other tab) takes it over and every message arrives once.
// If the page goes before any answer from the failing server came back, its events leave
// with keepalive (at pagehide, or as the in-flight batch, which fits the keepalive budget)
// and count as sent: the 500 answering them is heard by nobody, they are lost. That is the
// README's "Where it can still go wrong, by design" case, and what made chaos.test.mjs
// lose 24 events on a loaded machine; the second test reproduces it (CPU ×5: a third to most of the rounds).
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites } from "./support/engine-suite.mjs";
import {
  FAST,
  addFault,
  assertStoredOnce,
  clearFaults,
  flushIn,
  ingestLog,
  initIn,
  isolateFaults,
  newThreadId,
  harnessUrl,
  sdkStats,
  sleep,
  trackIn,
} from "./support/delivery.mjs";

const ROUNDS = Number(process.env.RELOAD_ROUNDS ?? 3);
const RATE = Number(process.env.CPU_RATE ?? 5);

/** After init: what the SDK saw at pagehide (its listener runs first), kept in sessionStorage. */
const watchPagehide = (page, key) =>
  page.evaluate((key) => {
    addEventListener("pagehide", () => {
      const prefix = "lunary:" + key + ":queue:";
      const keys = Object.keys(localStorage)
        .filter((k) => k.startsWith(prefix))
        .map((k) => [k.slice(prefix.length, prefix.length + 8), localStorage.getItem(k).split("\n").length - 1]);
      const seen = JSON.parse(sessionStorage.getItem("pagehides") ?? "[]");
      seen.push({ stats: lunary.stats(), keys });
      sessionStorage.setItem("pagehides", JSON.stringify(seen));
    });
  }, key);

/**
 * `ROUNDS` rounds in one page (and a second tab of the project, tracking too): traffic that
 * gets through, then a run of 500s, 24 events tracked and a reload; with `seenFailing`,
 * the reload waits until the page has had a 500 back (`stats().retried` went up).
 */
async function reloadRounds(suite, t, { seenFailing }) {
  const { collector, server } = suite;
  await isolateFaults(t, collector);
  const key = suite.newProjectKey();
  const context = await suite.newContext(t);
  // A second tab of the project, alive throughout (as in chaos.test.mjs).
  const other = await context.newPage();
  await other.load(harnessUrl(server));
  await initIn(other, { key, collector, ...FAST });
  // A window of its own, so that both stay visible (see faults-tabs.test.mjs).
  const page = await context.newPage({ window: true });
  await page.load(harnessUrl(server));
  await page.throttleCpu(RATE);
  await initIn(page, { key, collector, ...FAST });
  await watchPagehide(page, key);

  const threadId = newThreadId();
  const otherThread = newThreadId();
  const tracked = [];
  let next = 0;
  let otherNext = 0;
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Some traffic that gets through, in both tabs; the other tab keeps tracking.
    tracked.push(...(await trackIn(page, { threadId, label: "reload", from: next, count: 10 })));
    next += 10;
    tracked.push(...(await trackIn(other, { threadId: otherThread, label: "other", from: otherNext, count: 5 })));
    otherNext += 5;
    await sleep(400 + 150 * round);
    await addFault(collector, { mode: "500", count: 30 });
    const last = await page.evaluate(
      ({ threadId, from }) => ({ out: h.track(threadId, "reload", from, 24), stats: lunary.stats() }),
      { threadId, from: next },
    );
    if (seenFailing) {
      await page.waitForFunction((retried) => lunary.stats().retried > retried, last.stats.retried, { timeout: 5_000 });
    }
    const reloaded = page.reload();
    tracked.push(...last.out);
    next += 24;
    await reloaded;
    await initIn(page, { key, collector, ...FAST });
    await watchPagehide(page, key);
    tracked.push(...(await trackIn(other, { threadId: otherThread, label: "other", from: otherNext, count: 5 })));
    otherNext += 5;
    await sleep(2_500);
    await clearFaults(collector);
    rounds.push({ queued: last.stats.queued, after: await sdkStats(page) });
  }
  const flushed = [await flushIn(page, 20_000), await flushIn(other, 20_000)];
  await sleep(500);
  const pagehides = await page.evaluate(() => JSON.parse(sessionStorage.getItem("pagehides") ?? "[]"));
  // The page's own record of its fetches, read before each reload (what a pagehide sent
  // after that read is not in it).
  const ingests = await ingestLog(page);
  const stored = new Set((await collector.events(key)).map((e) => e.runId));
  const lost = tracked.filter((x) => !stored.has(x.runId));
  console.log(`reload-load: ${suite.engine} per round queued at reload / restored by the next page: ${JSON.stringify(rounds.map((r) => [r.queued, r.after.restored]))}`);
  console.log(`reload-load: ${suite.engine} at each pagehide (stats, queue keys after the SDK's write): ${JSON.stringify(pagehides.map((p) => ({ failing: p.stats.retried, queued: p.stats.queued, requests: p.stats.requests, keys: p.keys })))}`);
  console.log(`reload-load: ${suite.engine} ingests (ms from first, events, keepalive, status, error): ${JSON.stringify(ingests.map((r) => [r.start - ingests[0].start, r.events, r.keepalive, r.status, r.error && r.error.split("\n")[0]]))}`);
  console.log(`reload-load: ${suite.engine} tracked ${tracked.length}, lost ${lost.length}: ${JSON.stringify(lost.slice(0, 30).map((x) => x.n))}`);
  assert.deepEqual(flushed, ["flushed", "flushed"]);
  if (seenFailing) {
    assert.deepEqual(
      pagehides.map((p) => p.keys.some(([, events]) => events >= 24)),
      pagehides.map(() => true),
      "at each pagehide after a 500 the 24 events stayed persisted",
    );
  }
  await assertStoredOnce(collector, key, tracked, { arrivalOrder: false });
}

engineSuites("faults-reload-load", (suite) => {
  test(`reload after the page had a 500 back, CPU throttled ×${RATE}, ${ROUNDS} rounds: the queue stays persisted, is taken over, every message stored once`, { timeout: 40_000 + ROUNDS * 8_000 }, (t) =>
    reloadRounds(suite, t, { seenFailing: true }));

  test(`reload right after tracking, before any 500 came back, CPU throttled ×${RATE}, ${ROUNDS} rounds: every message stored once`, {
    timeout: 40_000 + ROUNDS * 8_000,
    // A reproduction of a documented limit, not a check: run it with RELOAD_REPRO=1.
    skip: process.env.RELOAD_REPRO ? false : "reproduces a documented limit; RELOAD_REPRO=1 runs it",
    todo: "by design (README, 'Where it can still go wrong'): events that leave with keepalive while the server seemed fine count as sent at pagehide; the 500 that answers them is lost with them. Reproduces chaos.test.mjs's lost 24 (a third to most of the rounds lose their 24 here)",
  }, (t) => reloadRounds(suite, t, { seenFailing: false }));
});
