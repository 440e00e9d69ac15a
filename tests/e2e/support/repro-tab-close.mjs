// Repro of the Firefox tab-close finding (faults-lifecycle.test.mjs): closes a tab with 10
// messages queued (WAIT ms after tracking, default 300; 1500 makes the queue be written to
// storage first), N times, while a second tab of the same origin logs the closing tab's
// lifecycle events, its queue writes (BroadcastChannel) and the storage events it sees.
//   node tests/e2e/support/repro-tab-close.mjs firefox 16      (WAIT=1500, OBSERVER=0, LIFE_TYPES=pagehide,visibilitychange)
import { launchEngine } from "./engines.mjs";
import { probedPage } from "./probe.mjs";
import { startStaticServer } from "./server.mjs";
import { startCollector, newProjectKey } from "./collector.mjs";
import { HARNESS, initIn, trackIn, newThreadId, sleep } from "./delivery.mjs";
const collector = await startCollector();
const server = await startStaticServer();
// LIFE_TYPES: the window events logged (default all five; an unload or beforeunload
// listener changes how Firefox closes a tab, so LIFE_TYPES=pagehide,visibilitychange).
const LIFE_TYPES = (process.env.LIFE_TYPES ?? "visibilitychange,pagehide,unload,beforeunload,freeze").split(",");
const LIFE = `const bc = new BroadcastChannel("life");
for (const type of ${JSON.stringify(LIFE_TYPES)})
  addEventListener(type, () => bc.postMessage({ type, vis: document.visibilityState, t: performance.timeOrigin + performance.now() }), true);
const f0 = window.fetch;
window.fetch = function (u, init) { const p = f0.apply(this, arguments); if (String(u).endsWith("/ingest")) { bc.postMessage({ type: "fetch(keepalive=" + !!init?.keepalive + ")" }); p.then((r) => bc.postMessage({ type: "fetch-answer " + r.status }), (e) => bc.postMessage({ type: "fetch-REJECTED " + e.message })); } return p; };
const si = Storage.prototype.setItem, ri = Storage.prototype.removeItem;
Storage.prototype.setItem = function (k, v) { if (k.includes(":queue:")) bc.postMessage({ type: "setItem(" + (String(v).split("\\n").length - 1) + ")" }); return si.apply(this, arguments); };
Storage.prototype.removeItem = function (k) { if (k.includes(":queue:")) bc.postMessage({ type: "removeItem" }); return ri.apply(this, arguments); };
document.addEventListener("visibilitychange", () => bc.postMessage({ type: "doc-visibilitychange", vis: document.visibilityState, t: performance.timeOrigin + performance.now() }), true);`;
const harness = server.addPage(probedPage({ before: LIFE, module: HARNESS }), "h");
const observer = server.addPage(probedPage({ module: `window.log = [];
new BroadcastChannel("life").onmessage = (e) => log.push(e.data);
addEventListener("storage", (e) => log.push({ type: "storage", key: e.key && e.key.split(":").slice(2).join(":").slice(0, 14), old: e.oldValue === null ? null : e.oldValue.split("\\n").length - 1, new: e.newValue === null ? null : e.newValue.split("\\n").length - 1, t: Date.now() }));` }), "obs");
const name = process.argv[2] ?? "firefox";
const engine = await launchEngine(name);
let bad = 0;
const N = Number(process.argv[3] ?? 8);
const OBSERVE = process.env.OBSERVER !== "0";
for (let i = 0; i < N; i++) {
  const key = newProjectKey();
  const ctx = await engine.newContext();
  const next = await ctx.newPage();
  // OBSERVER=0: the other tab stays blank until after the close (as in the test), so the
  // closing tab is the only page of its site; its lifecycle log is then not collected.
  if (OBSERVE) await next.load(observer);
  const page = await ctx.newPage();
  await page.load(harness);
  await initIn(page, { key, collector, flushIntervalMs: 10_000, retryBaseMs: 50, retryMaxMs: 400 });
  await trackIn(page, { threadId: newThreadId(), label: "close", count: 10 });
  await sleep(Number(process.env.WAIT ?? 300));
  await page.close();
  await sleep(1500);
  if (!OBSERVE) await next.load(observer);
  const left = await next.evaluate((key) => Object.keys(localStorage).filter((k) => k.startsWith("lunary:" + key + ":queue:")).map((k) => ({ key: k, events: localStorage.getItem(k).split("\n").slice(1).filter(Boolean).length })), key);
  const log = await next.evaluate(() => window.log);
  const stored = (await collector.events(key)).length;
  const leftN = left.reduce((s, k) => s + k.events, 0);
  if (leftN) bad++;
  console.log(`#${i} stored ${stored}, left ${leftN}:`, log.map((e) => e.type === "storage" ? `storage(${e.key}… ${e.old}->${e.new})` : `${e.type}[${e.vis}]`).join(" "));
  await ctx.close();
}
console.log(name, "left behind in", bad, "of", N);
await engine.close(); await server.stop(); await collector.stop();
