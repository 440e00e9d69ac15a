// Chaos: 2,000 messages over 6 threads in 3 tabs of one project, with disruptions drawn
// from a fixed-seed schedule — runs of 500s, 429 + Retry-After, hanging requests,
// connections reset before the server read them, offline windows and reloads. No
// `drop-after`: it stores the batch and then hides the answer, so a re-send is the only
// right move and duplicates are by design. At the end every message must be stored
// exactly once, and the SDK must have dropped nothing. In every engine of ENGINES, the
// same schedule; the 3 tabs are tabs of one browser context (in Firefox and WebKit, of one
// WebDriver session). Offline windows: Chromium's own offline mode; in Firefox and WebKit
// support/offline.mjs's equivalent (navigator.onLine false and the offline/online events
// in every tab, and a switch in front of the collector that resets any request that
// still goes out).
//
//   CHAOS_SEED=7 node --test tests/e2e/chaos.test.mjs   # another schedule
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites } from "./support/engine-suite.mjs";
import { offlineNetwork } from "./support/offline.mjs";
import {
  addFault,
  assertStoredOnce,
  clearFaults,
  flushIn,
  initIn,
  isolateFaults,
  newThreadId,
  harnessUrl,
  sdkStats,
  sleep,
  trackIn,
} from "./support/delivery.mjs";

const SEED = Number(process.env.CHAOS_SEED ?? 20261128);
const TOTAL = 2_000;
const TABS = 3;
const THREADS_PER_TAB = 2;
const RELOADS = 2;
/** The tracking phase stops adding disruptions after this long; the drain has its own bound. */
const CHAOS_MS = 45_000;
const OPTIONS = { flushIntervalMs: 50, retryBaseMs: 50, retryMaxMs: 400 };

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

engineSuites("chaos", (suite) => {
  test(`chaos: ${TOTAL} messages, ${TABS} tabs, faults, offline windows and reloads from seed ${SEED}: all stored exactly once`, { timeout: 120_000 }, async (t) => {
    const { collector, server } = suite;
    const engine = suite.engine;
    await isolateFaults(t, collector);
    const key = suite.newProjectKey();
    const random = prng(SEED);
    const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
    const started = Date.now();

    const network = await offlineNetwork(suite, t);
    const context = await suite.newContext(t);
    const setOffline = (offline) => network.setOffline(context, offline);
    const tabs = [];
    for (let i = 0; i < TABS; i++) {
      const page = await context.newPage();
      await page.load(harnessUrl(server));
      await initIn(page, { key, collector: network, ...OPTIONS });
      const threads = Array.from({ length: THREADS_PER_TAB }, () => ({ id: newThreadId(), next: 0 }));
      tabs.push({ page, threads, name: `tab${i}`, instance: `tab${i}.0`, reloads: 0 });
    }

    // The drawn disruptions, logged so a failing schedule can be read back.
    const log = [];
    const note = (what) => log.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);
    // Steps at which a tab is reloaded, drawn up front so there are exactly RELOADS.
    const reloadSteps = new Set();
    while (reloadSteps.size < RELOADS) reloadSteps.add(int(20, 160));
    const gone = []; // stats() of page instances a reload replaced
    const reloadedQueued = new Map(); // page instance a reload replaced → its events queued then
    const tracked = [];
    let offlineUntil = 0;
    let offlineWindows = 0;
    let step = 0;

    while (tracked.length < TOTAL) {
      step++;
      const now = Date.now();
      const calm = now - started > CHAOS_MS;
      if (offlineUntil && now >= offlineUntil) {
        await setOffline(false);
        offlineUntil = 0;
        note("online");
      }
      if (!calm && reloadSteps.has(step)) {
        if (offlineUntil) {
          await setOffline(false);
          offlineUntil = 0;
          note("online (for the reload)");
        }
        // A reload with events of that tab still queued (tracked just now), the first
        // while the server answers 500s (after the page has seen one: it then keeps its
        // queue for the next page instead of sending it with keepalive).
        const tab = tabs[int(0, TABS - 1)];
        const thread = tab.threads[int(0, THREADS_PER_TAB - 1)];
        const failing = gone.length === 0;
        if (failing) await addFault(collector, { mode: "500", count: 30 });
        const count = Math.min(int(5, 25), TOTAL - tracked.length);
        // Tracked and reloaded at once (the batch would leave 50 ms after the last event).
        const last = await tab.page.evaluate(
          ({ threadId, label, from, count }) => ({ out: h.track(threadId, label, from, count), stats: lunary.stats() }),
          { threadId: thread.id, label: tab.name, from: thread.next, count },
        );
        if (failing) {
          // The page must have had a 500 back before it leaves: a page that leaves while the
          // server still looks healthy sends its queue with keepalive and counts it as sent
          // (README, "Where it can still go wrong"), which is not what this step tests.
          await tab.page.waitForFunction((before) => lunary.stats().retried > before, last.stats.retried, { timeout: 10_000 });
          last.stats = await tab.page.evaluate(() => lunary.stats());
        }
        const reloaded = tab.page.reload();
        tracked.push(...last.out.map((x) => ({ ...x, instance: tab.instance })));
        reloadedQueued.set(tab.instance, last.stats.queued);
        tab.instance = `${tab.name}.${++tab.reloads}`;
        thread.next += count;
        gone.push(last.stats);
        note(`reload ${tab.name} (${last.stats.queued} queued${failing ? ", 500 ×30" : ""})`);
        await reloaded;
        await initIn(tab.page, { key, collector: network, ...OPTIONS });
      } else if (!calm) {
        const r = random();
        if (r < 0.05) {
          const count = int(1, 6);
          await addFault(collector, { mode: "500", count });
          note(`500 ×${count}`);
        } else if (r < 0.08) {
          await addFault(collector, { mode: "429", count: 1, retryAfter: 1 });
          note("429 Retry-After: 1");
        } else if (r < 0.1) {
          const hangMs = int(300, 1500);
          await addFault(collector, { mode: "hang", count: 1, hangMs });
          note(`hang ${hangMs} ms`);
        } else if (r < 0.14) {
          const count = int(1, 2);
          await addFault(collector, { mode: "drop-before", count });
          note(`drop-before ×${count}`);
        } else if (r < 0.17 && !offlineUntil) {
          const ms = int(300, 1500);
          await setOffline(true);
          offlineUntil = Date.now() + ms;
          offlineWindows++;
          note(`offline ${ms} ms`);
        }
      }
      const tab = tabs[int(0, TABS - 1)];
      const thread = tab.threads[int(0, THREADS_PER_TAB - 1)];
      const count = Math.min(int(2, 22), TOTAL - tracked.length);
      tracked.push(...(await trackIn(tab.page, { threadId: thread.id, label: tab.name, from: thread.next, count })).map((x) => ({ ...x, instance: tab.instance })));
      thread.next += count;
      await sleep(int(40, 260));
    }
    const trackingMs = Date.now() - started;

    // Drain: network back, no more faults, every tab flushes.
    await setOffline(false);
    await clearFaults(collector);
    const flushed = await Promise.all(tabs.map((tab) => flushIn(tab.page, 30_000)));
    await sleep(500);
    const live = await Promise.all(tabs.map((tab) => sdkStats(tab.page)));
    const instances = [...gone, ...live];
    // Every ingest fetch of every tab (the probe's record, kept across reloads).
    const fetches = (await Promise.all(tabs.map((tab) => tab.page.ingests()))).flat();
    const fetchedOffline = fetches.filter((r) => r.online === false);

    const stored = await collector.events(key);
    const storedIds = new Set(stored.map((e) => e.runId));
    const delivered = tracked.filter((x) => storedIds.has(x.runId)).length;
    const server_ = await collector.stats(key);
    const sum = (f) => instances.reduce((n, s) => n + f(s), 0);
    const dropped = {
      total: sum((s) => s.dropped.total),
      queueFull: sum((s) => s.dropped.queueFull),
      status: sum((s) => s.dropped.status),
      refused: sum((s) => s.dropped.refused),
      tooLarge: sum((s) => s.dropped.tooLarge),
    };
    const restored = sum((s) => s.restored);
    const pct = ((100 * delivered) / tracked.length).toFixed(1);
    console.log(
      `chaos: tracked ${tracked.length}, delivered ${delivered} (${pct}%), duplicates ${server_.duplicates}, dropped ${dropped.total} ` +
        `(queueFull ${dropped.queueFull}, status ${dropped.status}, refused ${dropped.refused}, tooLarge ${dropped.tooLarge}) in ${engine}`,
    );
    console.log(
      `chaos: ${engine}, seed ${SEED}, ${TABS} tabs × ${THREADS_PER_TAB} threads, ${RELOADS} reloads, ${offlineWindows} offline windows, ` +
        `${server_.faultsInjected} faults injected, ${server_.requests} requests, ${restored} events restored after reloads, ` +
        `${fetches.length} fetches (${fetches.filter((r) => r.error).length} failed, ${fetchedOffline.length} while the page saw itself offline), ` +
        `${network.cut()} requests reset while offline, tracking ${(trackingMs / 1000).toFixed(1)} s, total ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    console.log(`chaos: schedule: ${log.join("; ")}`);
    console.log(`chaos: stats() of each page instance (replaced by a reload first): ${JSON.stringify(instances.map(({ tracked, restored, delivered, queued, retried, requests, dropped }) => ({ tracked, restored, delivered, queued, retried, requests, dropped: dropped.total })))}`);
    console.log(`chaos: collector /api/stats?project=<chaos>: ${JSON.stringify(server_)}`);

    const lostEvents = tracked.filter((x) => !storedIds.has(x.runId));
    const lostBy = new Map();
    for (const x of lostEvents) lostBy.set(x.instance, (lostBy.get(x.instance) ?? 0) + 1);
    console.log(`chaos: lost per page instance: ${JSON.stringify(Object.fromEntries(lostBy))}; queued at each reload: ${JSON.stringify(Object.fromEntries(reloadedQueued))}`);
    const lost = lostEvents.length;
    assert.deepEqual(flushed, tabs.map(() => "flushed"), "every tab's flush() resolved");
    assert.equal(delivered, tracked.length, `100% delivered (lost ${lost})`);
    assert.equal(server_.duplicates, 0, "no duplicates");
    assert.equal(dropped.total, 0, `the SDK dropped nothing: ${JSON.stringify(dropped)}`);
    assert.equal(live.reduce((n, s) => n + s.queued, 0), 0, "nothing left queued");
    assert.deepEqual(fetchedOffline, [], "no fetch while the page saw itself offline (navigator.onLine false)");
    await assertStoredOnce(collector, key, tracked, { arrivalOrder: false, settleMs: 0 });
  });
});
