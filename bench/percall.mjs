// Per call: one page with both SDKs, each initialised the same way with its own project
// key, the workloads interleaved between them round by round.
import { randomUUID } from "node:crypto";
import { load, openPage } from "./browser.mjs";
import { mean, median, percentile, ratio } from "./stats.mjs";
import { PER_CALL, SDKS } from "./workloads.mjs";

export async function measurePerCall({ browser, server, collector, log }) {
  const page = await openPage(browser);
  try {
    await load(page, `${server.origin}/page/bench.html?sdks=${SDKS.join(",")}`);
    const timer = await page.evaluate(() => window.bench.timer());
    const keys = Object.fromEntries(SDKS.map((name) => [name, randomUUID()]));
    for (const name of SDKS) {
      await page.evaluate(([n, key, url]) => window.bench.init(n, key, url), [name, keys[name], collector.url]);
    }

    const samples = Object.fromEntries(PER_CALL.workloads.map((w) => [w.name, { js: [], wasm: [] }]));
    const { chunk, segment } = PER_CALL;
    for (let round = -PER_CALL.warmupRounds; round < PER_CALL.rounds; round++) {
      const warmup = round < 0;
      // Alternate who goes first, so neither SDK always runs on a heap the other just filled.
      const order = (round + PER_CALL.warmupRounds) % 2 === 0 ? SDKS : [...SDKS].reverse();
      for (const name of order) await page.evaluate((n) => window.bench.reset(n), name);
      for (const w of PER_CALL.workloads) {
        const n = warmup ? w.iterations / 10 : w.iterations;
        for (const name of order) {
          const ns = await page.evaluate(([n, wl, count, opts]) => window.bench.run(n, wl, count, opts), [name, w.name, n, { chunk, segment }]);
          if (!warmup) samples[w.name][name].push(...ns);
        }
      }
      log(`per call: ${warmup ? "warm-up round" : `round ${round + 1}/${PER_CALL.rounds}`} done`);
    }

    // Everything was flushed after each segment: what reached the server, per SDK.
    const delivered = {};
    for (const name of SDKS) delivered[name] = await collector.stats(keys[name]);

    const workloads = PER_CALL.workloads.map((w) => {
      const sdks = {};
      for (const name of SDKS) {
        const s = samples[w.name][name];
        sdks[name] = { medianNs: median(s), p95Ns: percentile(s, 95), meanNs: mean(s), maxNs: Math.max(...s), chunks: s.length };
      }
      return {
        name: w.name,
        label: w.label,
        calls: w.calls,
        iterationsPerRound: w.iterations,
        sdks,
        ratioMedian: ratio(sdks.wasm.medianNs, sdks.js.medianNs),
        ratioP95: ratio(sdks.wasm.p95Ns, sdks.js.p95Ns),
      };
    });
    return {
      rounds: PER_CALL.rounds,
      warmupRounds: PER_CALL.warmupRounds,
      chunk,
      segment,
      timer,
      workloads,
      delivered: Object.fromEntries(SDKS.map((n) => [n, { received: delivered[n].received, stored: delivered[n].stored, rejected: delivered[n].rejected, requests: delivered[n].requests }])),
      pageErrors: page.problems,
    };
  } finally {
    await page.closeAll();
  }
}
