// Burst: 10,000 thread messages in one task, in a fresh page per SDK, then 5 s of watching
// the long tasks, the requests and the bytes the page sends.
import { randomUUID } from "node:crypto";
import { load, openPage } from "./browser.mjs";
import { ratio } from "./stats.mjs";
import { BURST, SDKS } from "./workloads.mjs";

export async function measureBurst({ browser, server, collector, log }) {
  const sdks = {};
  for (const name of SDKS) {
    const page = await openPage(browser);
    try {
      await load(page, `${server.origin}/page/bench.html?sdks=${name}`);
      const key = randomUUID();
      await page.evaluate(([n, k, url]) => window.bench.init(n, k, url), [name, key, collector.url]);
      const r = await page.evaluate(([n, events, ms]) => window.bench.burst(n, events, ms), [name, BURST.events, BURST.windowMs]);
      const requests = page.ingests.slice(); // what the page sent during the window
      const counted = await collector.stats(key);
      sdks[name] = summarize(r, requests, counted);
      log(`burst: ${name} done`);
    } finally {
      await page.closeAll();
    }
  }
  return {
    events: BURST.events,
    windowMs: BURST.windowMs,
    sdks,
    ratioRequests: ratio(sdks.wasm.requests, sdks.js.requests),
    ratioBytes: ratio(sdks.wasm.bytes, sdks.js.bytes),
    ratioTask: ratio(sdks.wasm.taskMs, sdks.js.taskMs),
  };
}

/** Sorts the page's long tasks into the burst's own task and those after it. */
function summarize({ t0, t1, longTasks, stats }, requests, server) {
  const end = (t) => t.start + t.duration;
  // Long task times are whole milliseconds: allow 1 ms either side of the burst.
  const during = longTasks.filter((t) => t.start <= t1 + 1 && end(t) >= t0 - 1);
  const after = longTasks.filter((t) => t.start > t1 + 1);
  const bytes = requests.reduce((a, r) => a + r.bytes, 0);
  const eventsSent = requests.reduce((a, r) => a + (r.events ?? 0), 0);
  return {
    taskMs: t1 - t0,
    burstLongTaskMs: during.reduce((a, t) => Math.max(a, t.duration), 0),
    longTasksAfter: {
      count: after.length,
      totalMs: after.reduce((a, t) => a + t.duration, 0),
      maxMs: after.reduce((a, t) => Math.max(a, t.duration), 0),
      at: after.map((t) => ({ afterBurstMs: Math.round(t.start - t1), durationMs: t.duration })),
    },
    requests: requests.length,
    bytes,
    eventsSent,
    requestsPer1000Sent: eventsSent ? (1000 * requests.length) / eventsSent : null,
    server: { requests: server.requests, received: server.received, stored: server.stored, rejected: server.rejected },
    sdkStats: stats ?? null, // lunary-wasm's own counters (lunary-js has none)
  };
}
