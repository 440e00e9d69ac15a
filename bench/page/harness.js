// In-page side of make bench: loads the SDKs named in ?sdks=, then exposes window.bench for
// bench/*.mjs to drive through page.evaluate. All timing happens here, with performance.now().
import { loadSdk, settle } from "./sdks.js";
import { WORKLOADS } from "./workloads.js";

const sdks = {};
const memos = {}; // per SDK: what one workload leaves for the next (message ids for feedback)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

try {
  for (const name of new URLSearchParams(location.search).get("sdks").split(",")) {
    sdks[name] = await loadSdk(name);
    memos[name] = {};
  }
  window.__ready = true;
} catch (err) {
  window.__failed = String(err?.stack || err);
}

/** The smallest step performance.now() takes: 5 µs when cross-origin isolated, else 100 µs. */
function timerResolutionUs() {
  let min = Infinity;
  for (let i = 0; i < 100; i++) {
    const a = performance.now();
    let b = a;
    while (b === a) b = performance.now();
    min = Math.min(min, b - a);
  }
  return Math.round(min * 1000 * 1000) / 1000;
}

window.bench = {
  timer: () => ({ crossOriginIsolated: window.crossOriginIsolated, resolutionUs: timerResolutionUs() }),

  init(name, appId, apiUrl) {
    sdks[name].init({ appId, apiUrl });
  },

  /** Makes the SDK's user the bench user again, and waits until its queue is empty. */
  async reset(name) {
    sdks[name].identify("user123", { name: "John", email: "john@example.org" });
    await settle(name, sdks[name]);
  },

  /**
   * Runs `n` iterations of a workload: timed in chunks of `chunk` iterations (the timer is
   * too coarse for one call), each chunk's time divided by its size; after every `segment`
   * iterations, untimed, the SDK delivers what it queued, so no queue grows past a segment.
   * Returns ns per iteration, one number per chunk.
   */
  async run(name, workload, n, { chunk, segment }) {
    const sdk = sdks[name];
    const w = WORKLOADS[workload];
    const state = w.prepare(sdk, n, memos[name]);
    const perCallNs = [];
    for (let s = 0; s < n; s += segment) {
      const end = Math.min(n, s + segment);
      for (let c = s; c < end; c += chunk) {
        const to = Math.min(end, c + chunk);
        const t0 = performance.now();
        w.run(sdk, state, c, to);
        perCallNs.push(((performance.now() - t0) * 1e6) / (to - c));
      }
      await settle(name, sdk);
    }
    return perCallNs;
  },

  /**
   * `n` thread messages in one task, then `windowMs` of watching: returns how long the
   * task took and every long task of the page (the caller sorts out which are whose).
   */
  async burst(name, n, windowMs) {
    const sdk = sdks[name];
    const thread = sdk.openThread({ tags: ["bench"] });
    const messages = Array.from({ length: n }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: `burst message ${i}` }));
    await sleep(200); // let the page go quiet before the burst
    const t0 = performance.now();
    for (let i = 0; i < n; i++) thread.trackMessage(messages[i]);
    const t1 = performance.now();
    await sleep(windowMs);
    return { t0, t1, longTasks: window.__longTasks.slice(), stats: sdk.stats?.() };
  },
};
