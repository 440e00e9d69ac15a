// make bench: lunary-wasm (pkg/) side by side with lunary-js (npm lunary, lunary/browser):
// bytes, cost per call, a 10,000-event burst and start-up, in headless Chromium against
// the local collector. Prints a table and writes results.json, ratios.svg, history.jsonl.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { launchBrowser } from "./browser.mjs";
import { bundleLunaryJs } from "./bundle.mjs";
import { measureBurst } from "./burst.mjs";
import { startCollector } from "./collector.mjs";
import { pkgDir, repoRoot } from "./paths.mjs";
import { measurePerCall } from "./percall.mjs";
import { formatReport, writeOutputs } from "./report.mjs";
import { startStaticServer } from "./server.mjs";
import { bundleSizes, wasmPackageSizes, wasmTopContributors } from "./size.mjs";
import { measureStart } from "./start.mjs";
import { ratio } from "./stats.mjs";

const started = Date.now();
const log = (message) => console.log(`bench: ${message} (${((Date.now() - started) / 1000).toFixed(0)} s)`);

const git = (...args) => execFileSync("git", args, { cwd: repoRoot, encoding: "utf8" }).trim();
const tool = (cmd, ...args) => {
  try {
    return execFileSync(cmd, args, { encoding: "utf8" }).trim();
  } catch {
    return null;
  }
};

// Size first: it needs no browser, and the bundle it makes is what the pages load.
const bundle = await bundleLunaryJs();
const wasm = wasmPackageSizes();
const js = bundleSizes(bundle.file);
const twiggy = wasmTopContributors(15);
const size = {
  wasm,
  js,
  twiggy,
  ratioRaw: ratio(wasm.total.raw, js.raw),
  ratioGzip: ratio(wasm.total.gzip, js.gzip),
  ratioBrotli: ratio(wasm.total.brotli, js.brotli),
};
log(`size: lunary-wasm ${wasm.total.gzip} B gzip, lunary-js ${js.gzip} B gzip`);

const collector = await startCollector();
const server = await startStaticServer();
const browser = await launchBrowser();
const chromium = `Chromium ${browser.version()}`;
let perCall, burst, start;
try {
  const ctx = { browser, server, collector, log };
  perCall = await measurePerCall(ctx);
  burst = await measureBurst(ctx);
  start = await measureStart(ctx);
} finally {
  await browser.close().catch(() => {});
  await server.stop().catch(() => {});
  await collector.stop().catch(() => {});
}

const results = {
  date: new Date().toISOString(),
  git: { commit: git("rev-parse", "--short=12", "HEAD"), dirty: git("status", "--porcelain", "--untracked-files=no") !== "" },
  versions: {
    lunaryWasm: JSON.parse(readFileSync(resolve(pkgDir, "package.json"), "utf8")).version,
    lunaryJs: bundle.lunaryVersion,
    chromium,
    node: process.version,
    esbuild: bundle.esbuildVersion,
    twiggy: tool("twiggy", "--version"),
    playwrightCore: JSON.parse(readFileSync(resolve(repoRoot, "node_modules/playwright-core/package.json"), "utf8")).version,
  },
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, loadavg: loadavg().map((l) => l.toFixed(2)).join(" ") },
  durationS: (Date.now() - started) / 1000,
  size,
  perCall,
  burst,
  start,
};
console.log("\n" + formatReport(results));
writeOutputs(results);
