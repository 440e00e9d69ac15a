// Start: import() to first event queued, each sample in a fresh context (cold cache),
// alternating the SDKs.
import { randomUUID } from "node:crypto";
import { load, openPage } from "./browser.mjs";
import { median, ratio } from "./stats.mjs";
import { SDKS, START } from "./workloads.mjs";

export async function measureStart({ browser, server, collector, log }) {
  const samples = Object.fromEntries(SDKS.map((n) => [n, []]));
  for (let i = 0; i < START.pagesPerSdk; i++) {
    for (const name of i % 2 ? [...SDKS].reverse() : SDKS) {
      const page = await openPage(browser);
      try {
        const q = new URLSearchParams({ sdk: name, appId: randomUUID(), apiUrl: collector.url });
        await load(page, `${server.origin}/page/start.html?${q}`);
        samples[name].push(await page.evaluate(() => window.__start));
      } finally {
        await page.closeAll();
      }
    }
  }
  log("start: done");
  const sdks = {};
  for (const name of SDKS) {
    const s = samples[name];
    sdks[name] = {
      medianMs: median(s.map((x) => x.totalMs)),
      importMedianMs: median(s.map((x) => x.importMs)),
      firstEventMedianMs: median(s.map((x) => x.firstEventMs)),
      samplesMs: s.map((x) => Math.round(x.totalMs * 1000) / 1000),
    };
  }
  return { pagesPerSdk: START.pagesPerSdk, sdks, ratio: ratio(sdks.wasm.medianMs, sdks.js.medianMs) };
}
