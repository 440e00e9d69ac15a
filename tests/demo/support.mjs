// What the demo test needs: paths, a collector serving the built demo, a proxy that gives
// its pages the e2e probe, and one describe block per browser engine (the e2e driver layer).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer, request as httpRequest } from "node:http";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe } from "node:test";
import { ENGINES, launchEngine } from "../e2e/support/engines.mjs";
import { PROBE } from "../e2e/support/probe.mjs";

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

/**
 * The collector's pages as the browser gets them, through a proxy of its own origin that
 * adds one thing: `<script src="/__probe.js">` first in the `<head>` of every HTML page whose
 * Content-Security-Policy lets the page run its own scripts (the app and the inspector; not
 * the side-by-side page at `/`, which runs none). /__probe.js is the e2e PROBE (uncaught
 * errors and rejections, console.error/warn, into `window.__probe`, so that `page.problems()`
 * works the same in every engine) plus two records a Playwright console listener would have
 * given: Content-Security-Policy violations and elements (images, scripts, stylesheets) that
 * failed to load, both as console errors. (/__probe-check.js: see PROBE_CHECK.) Every other byte, header and status is the
 * collector's. The probe runs before the page's own scripts, so it misses nothing of the
 * page; what no page script sees, it misses: network errors of fetches the page handles.
 */
export async function startProbeProxy(target) {
  const log = [];
  const server = createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    if (req.url === "/__probe.js" || req.url === "/__probe-check.js") {
      res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-store" });
      res.end(req.url === "/__probe.js" ? PROBE + DEMO_PROBE : PROBE_CHECK);
      return;
    }
    const url = new URL(req.url, target);
    const upstream = httpRequest(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (answer) => {
      const csp = String(answer.headers["content-security-policy"] ?? "");
      const scriptSrc = /(?:^|;)\s*script-src\s+([^;]*)/.exec(csp)?.[1] ?? "";
      const html = String(answer.headers["content-type"] ?? "").startsWith("text/html");
      if (!html || !scriptSrc.includes("'self'")) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks = [];
      answer.on("data", (c) => chunks.push(c));
      answer.on("end", () => {
        const page = Buffer.concat(chunks).toString("utf8");
        const probed = page.replace(/<head[^>]*>/i, (head) => `${head}<script src="/__probe.js"></script>`);
        if (probed === page) {
          res.writeHead(500, { "Content-Type": "text/plain" });
          res.end(`probe proxy: no <head> in ${req.url}`);
          return;
        }
        const body = Buffer.from(probed, "utf8");
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, "content-length": body.length });
        res.end(body);
      });
    });
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
      res.end("bad gateway");
    });
    req.pipe(upstream);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    log,
    async stop() {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Added to the PROBE for the demo: CSP violations and failed element loads, as console errors. */
const DEMO_PROBE = `(() => {
  const errors = window.__probe.consoleErrors;
  addEventListener("securitypolicyviolation", (e) =>
    errors.push("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber));
  addEventListener("error", (e) => {
    const el = e.target;
    if (el && el !== window && el.tagName) errors.push("failed to load: <" + el.tagName.toLowerCase() + "> " + (el.src || el.href || ""));
  }, true);
})();
`;

/**
 * A script that goes wrong in every way the probe records, for the test that the probe works:
 * the page's own code (errors thrown by code that came from a WebDriver script are not
 * reported to the page in Firefox). /__probe-check.js, same origin, so the CSP lets it run.
 */
const PROBE_CHECK = `console.error("probe check: console.error");
const img = document.createElement("img");
img.src = "http://127.0.0.1:9/probe-check.png"; // not allowed by the demo's img-src: never requested
document.body.append(img);
Promise.reject(new Error("probe check: rejected"));
throw new Error("probe check: uncaught");
`;

/**
 * Per engine of ENGINES, a `describe(<engine>)` with its own collector (so each engine's
 * scenarios see only their own events), the probe proxy in front of it and the browser.
 * `suite`: {engine, collector, site (the proxy: the URL the pages are opened at),
 * newContext(t, options), shot(name) (target/demo-<name>.png in Chromium,
 * demo-<name>-<engine>.png in the others)}.
 */
export function demoSuites(body) {
  for (const name of ENGINES) {
    describe(name, { timeout: 300_000 }, () => {
      let engine = null;
      const suite = {
        engine: name,
        collector: null,
        site: null,
        async newContext(t, options) {
          const context = await engine.newContext(options);
          t.after(() => context.close().catch(() => {}));
          return context;
        },
        shot: (shotName) => resolve(artifactsDir, name === "chromium" ? `demo-${shotName}.png` : `demo-${shotName}-${name}.png`),
      };
      before(async () => {
        await mkdir(artifactsDir, { recursive: true });
        suite.collector = await startCollector();
        suite.site = await startProbeProxy(suite.collector.url);
        engine = await launchEngine(name);
      });
      after(async () => {
        await engine?.close();
        await suite.site?.stop().catch(() => {});
        await suite.collector?.stop();
      });
      body(suite);
    });
  }
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
