// What the demo test needs: paths, a collector serving the built demo, and Chromium.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium } from "../../scripts/chromium.mjs";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const collectorBin = resolve(repoRoot, "target/debug/lunary-collector");
export const demoDist = resolve(repoRoot, "www/dist");
export const artifactsDir = resolve(repoRoot, "target");

/** The demo's default project key (www/src/config.js). */
export const DEMO_PROJECT = "6f1c2b9e-3a7d-4c2e-9b4f-8d5e1a0c7b3f";

const LISTENING = /^lunary-collector listening on (http:\/\/\S+)/m;

/** target/debug/lunary-collector on a free port, in memory, serving www/dist at /demo/. */
export async function startCollector() {
  for (const [path, hint] of [
    [collectorBin, "cargo build -p lunary-collector"],
    [resolve(demoDist, "index.html"), "make pkg, then npm ci && npm run build in www/"],
  ]) {
    if (!existsSync(path)) throw new Error(`${path} is missing: ${hint} (make test-demo does both)`);
  }
  const child = spawn(collectorBin, ["--port", "0", "--db", ":memory:", "--demo-dir", demoDist], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.removeListener("exit", killOnExit));
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));

  const url = await new Promise((resolveUrl, reject) => {
    let stdout = "";
    const timer = setTimeout(() => reject(new Error(`collector did not start in 10 s\n${stderr}`)), 10_000);
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      stdout += chunk;
      const match = LISTENING.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`collector exited (code ${code})\n${stderr}`));
    });
  });

  return {
    url,
    async get(path) {
      const response = await fetch(url + path, { signal: AbortSignal.timeout(5_000) });
      if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
      return response.json();
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Debian's Chromium (scripts/chromium.mjs), with font hinting off for steady screenshots. */
export function launchBrowser() {
  return launchChromium(["--font-render-hinting=none"]);
}

/** A page that records uncaught errors and console errors (CSP violations among them). */
export async function openPage(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error?.stack || error}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.problems = problems;
  return page;
}

/** Polls `read` until `done(value)` holds, or fails with the last value after `timeoutMs`. */
export async function eventually(read, done, { timeoutMs = 10_000, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let value;
  for (;;) {
    value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached in ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
