// Repro: a reload while a small batch is in flight (sent with keepalive; the collector
// holds its answer 1.5 s), on a page with one more pagehide listener (capture, on window,
// registered before the SDK; LISTENER=0 leaves it out). Chromium then rejects the page's
// fetch ("Failed to fetch") a few ms before pagehide, while the browser still delivers the
// request: the SDK takes it as a network failure, keeps the events persisted at pagehide,
// and the next page sends them again (the collector's duplicates).
//   node tests/e2e/support/repro-reload-in-flight.mjs chromium 6
import { launchEngine } from "./engines.mjs";
import { probedPage } from "./probe.mjs";
import { startStaticServer } from "./server.mjs";
import { startCollector, newProjectKey } from "./collector.mjs";
import { HARNESS, addFault, clearFaults, initIn, trackIn, newThreadId, sleep, queueKeys, sdkStats, until } from "./delivery.mjs";
const collector = await startCollector();
const server = await startStaticServer();
const listener = process.env.LISTENER === "0" ? "" : `addEventListener("pagehide", () => {}, true);`;
const url = server.addPage(probedPage({ before: listener, module: HARNESS }), "h");
const engine = await launchEngine(process.argv[2] ?? "chromium");
const N = Number(process.argv[3] ?? 6);
let bad = 0;
for (let i = 0; i < N; i++) {
  const key = newProjectKey();
  const ctx = await engine.newContext();
  const page = await ctx.newPage();
  await page.load(url);
  await initIn(page, { key, collector, flushIntervalMs: 50, retryBaseMs: 50, retryMaxMs: 400 });
  await clearFaults(collector);
  await addFault(collector, { mode: "hang", count: 1, hangMs: 1_500 });
  await trackIn(page, { threadId: newThreadId(), label: "in-flight", count: 10 });
  await until(async () => (await collector.stats(key)).requests >= 1, "the request to reach the server");
  await page.reload();
  const left = (await queueKeys(page, key)).reduce((s, k) => s + k.events, 0);
  await initIn(page, { key, collector, flushIntervalMs: 50 });
  await sleep(2_500);
  const stats = await collector.stats(key);
  const ingests = (await page.ingests()).map((r) => [r.keepalive, r.json?.events?.length, r.status, r.error && r.error.split("\n")[0]]);
  if (stats.duplicates) bad++;
  console.log(`#${i} left at the reload ${left}, restored ${(await sdkStats(page)).restored}, collector stored ${stats.stored} duplicates ${stats.duplicates}; the old page's fetches ${JSON.stringify(ingests)}`);
  await ctx.close();
}
console.log(engine.name, `listener ${listener ? "on" : "off"}:`, "duplicates in", bad, "of", N);
await engine.close(); await server.stop(); await collector.stop();
