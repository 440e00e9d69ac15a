// The e2e scenarios in every browser engine, written once: a thin driver layer over
// playwright-core (Chromium, the system's /usr/bin/chromium as support/browser.mjs launches
// it) and selenium-webdriver (Firefox ESR through geckodriver, WebKitGTK's MiniBrowser
// through WebKitWebDriver under Xvfb). See "Firefox and WebKit too" in
// ../shared/docs/toolchain.md for why these drivers.
//
//   const engine = await launchEngine("firefox");
//   const context = await engine.newContext();     // fresh profile: own storage, cookies
//   const page = await context.newPage();
//   await page.load(url);                          // waits for window.__ready
//   await page.evaluate(async (arg) => …, arg);    // as Playwright's page.evaluate
//   await page.problems();                         // {pageErrors, consoleErrors, warnings}
//   await page.ingests();                          // the ingest fetches the page made
//
// What went wrong in a page and what it sent are recorded by the page itself, the same way
// in every engine: pages must be built with `probedPage()` (testPage plus PROBE first), a
// script that records `error`/`unhandledrejection` events, wraps console.error/console.warn
// and wraps fetch for POSTs to /v1/runs/ingest, all into `window.__probe`. A navigation
// loses the page's record, so `load`, `reload` and `close` read it first and keep it.
import { spawn } from "node:child_process";
import { createServer, request as httpRequest } from "node:http";
import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { launchBrowser } from "./browser.mjs";
import { testPage } from "./server.mjs";

export const ALL_ENGINES = ["chromium", "firefox", "webkit"];

/** The engines to run, from ENGINES (default: all three), e.g. `ENGINES=firefox`. */
export const ENGINES = (() => {
  const names = (process.env.ENGINES ?? ALL_ENGINES.join(" ")).split(/[\s,]+/).filter(Boolean);
  const unknown = names.filter((n) => !ALL_ENGINES.includes(n));
  if (unknown.length) throw new Error(`ENGINES: unknown engine(s) ${unknown.join(", ")}; the engines are ${ALL_ENGINES.join(" ")}`);
  return names;
})();

const FIREFOX = process.env.FIREFOX_PATH || "/usr/bin/firefox-esr";
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER_PATH || "/usr/bin/WebKitWebDriver";
const MINIBROWSER = process.env.MINIBROWSER_PATH || "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
const STEP_TIMEOUT = 15_000;

function geckodriverPath() {
  if (process.env.GECKODRIVER_PATH) return process.env.GECKODRIVER_PATH;
  try {
    return execFileSync("sh", ["-c", "command -v geckodriver"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("geckodriver not found on PATH (make tools installs it)");
  }
}

/**
 * The in-page recorder, run before anything else in the page (a classic script). Records
 * into `window.__probe`: uncaught errors and rejections, console.error/console.warn calls,
 * and every fetch POST to …/v1/runs/ingest as the page made it (url, headers, body,
 * keepalive, credentials; then the answer's status, or the error) with page-clock times.
 */
export const PROBE = `(() => {
  const probe = { pageErrors: [], consoleErrors: [], warnings: [], ingests: [] };
  window.__probe = probe;
  const text = (v) => { try { return v instanceof Error ? String(v.stack || v) : typeof v === "string" ? v : String(v); } catch { return "<unprintable>"; } };
  addEventListener("error", (e) => probe.pageErrors.push(text(e.error ?? e.message)));
  addEventListener("unhandledrejection", (e) => probe.pageErrors.push("unhandled rejection: " + text(e.reason)));
  for (const [level, list] of [["error", probe.consoleErrors], ["warn", probe.warnings]]) {
    const original = console[level];
    console[level] = function (...args) {
      list.push(args.map(text).join(" "));
      return original.apply(this, args);
    };
  }
  const originalFetch = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input?.url;
    const method = (init?.method ?? (typeof input === "object" && input?.method) ?? "GET").toUpperCase();
    const promise = originalFetch.apply(this, arguments);
    if (method === "POST" && String(url).endsWith("/v1/runs/ingest")) {
      const headers = {};
      try { new Headers(init?.headers ?? {}).forEach((v, k) => (headers[k] = v)); } catch {}
      const entry = { url: String(url), headers, body: typeof init?.body === "string" ? init.body : null,
        keepalive: init?.keepalive === true, credentials: init?.credentials ?? null,
        start: Date.now(), answered: null, status: null, error: null };
      probe.ingests.push(entry);
      promise.then((res) => { entry.answered = Date.now(); entry.status = res.status; },
                    (err) => { entry.answered = Date.now(); entry.error = text(err); });
    }
    return promise;
  };
  // page.throttleCpu(rate) outside Chromium: a loop that keeps the main thread busy
  // (rate-1)×4 ms of every ~rate×4 ms (the 4 ms being the gap a chained setTimeout gets),
  // so the page's own tasks run in the gaps, about rate× slower in wall-clock time. The
  // rate is kept in sessionStorage, so the loop starts again in the tab's next page.
  const RATE_KEY = "__probeCpuRate";
  let busyTimer = null;
  probe.throttle = (rate) => {
    clearTimeout(busyTimer);
    busyTimer = null;
    try { rate > 1 ? sessionStorage.setItem(RATE_KEY, String(rate)) : sessionStorage.removeItem(RATE_KEY); } catch {}
    if (!(rate > 1)) return;
    const tick = () => {
      const end = performance.now() + 4 * (rate - 1);
      while (performance.now() < end) {}
      busyTimer = setTimeout(tick, 0);
    };
    busyTimer = setTimeout(tick, 0);
  };
  try { const rate = Number(sessionStorage.getItem(RATE_KEY)); if (rate > 1) probe.throttle(rate); } catch {}
})();
`;

/** `testPage` with the PROBE run first: the pages the engine scenarios load. */
export function probedPage({ before = "", ...rest } = {}) {
  return testPage({ ...rest, before: PROBE + before });
}

/** Starts the engine `name`: {name, newContext(), close()}. */
export async function launchEngine(name) {
  if (name === "chromium") return launchChromium();
  if (name === "firefox") return launchFirefox();
  if (name === "webkit") return launchWebKit();
  throw new Error(`unknown engine ${name}`);
}

// --- pages, whatever the driver -------------------------------------------------------

/**
 * The page object the scenarios use, over `ops` = the driver's {goto, reload, evaluate,
 * close}: `evaluate(fn, arg)` runs `fn(arg)` in the page (async functions awaited; the
 * result comes back as JSON data).
 */
function makePage(engineName, ops) {
  const kept = { pageErrors: [], consoleErrors: [], warnings: [], ingests: [] };
  const readProbe = () => ops.evaluate(() => window.__probe ?? null, undefined);
  /** Moves the page's record into `kept` (before it is lost to a navigation). */
  async function harvest() {
    let probe = null;
    try {
      probe = await readProbe();
    } catch {}
    if (!probe) return;
    for (const k of Object.keys(kept)) kept[k].push(...(probe[k] ?? []));
  }
  const page = {
    engine: engineName,
    evaluate: (fn, arg) => ops.evaluate(fn, arg),
    async waitForFunction(fn, arg, { timeout = STEP_TIMEOUT, every = 50 } = {}) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const value = await ops.evaluate(fn, arg);
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`${engineName}: waitForFunction timed out after ${timeout} ms: ${fn}`);
        await new Promise((r) => setTimeout(r, every));
      }
    },
    /** Loads `url` and waits for its module script to finish (`window.__ready`). */
    async load(url) {
      await harvest();
      await ops.goto(url);
      await page.waitForFunction(() => window.__ready === true);
    },
    async reload() {
      await harvest();
      await ops.reload();
      await page.waitForFunction(() => window.__ready === true);
    },
    /** {pageErrors, consoleErrors, warnings}: all this page recorded, across navigations. */
    async problems() {
      const now = (await readProbe().catch(() => null)) ?? {};
      const out = {};
      for (const k of ["pageErrors", "consoleErrors", "warnings"]) out[k] = [...kept[k], ...(now[k] ?? [])];
      return out;
    },
    /** The ingest POSTs the page made (see PROBE), with `json` = the parsed body. */
    async ingests() {
      const now = (await readProbe().catch(() => null)) ?? {};
      return [...kept.ingests, ...(now.ingests ?? [])].map((e) => {
        let json;
        try {
          json = JSON.parse(e.body);
        } catch {}
        return { ...e, json };
      });
    },
    async close() {
      if (crashed) return;
      await harvest();
      await ops.close();
    },
    /**
     * The tab vanishes as a crashed renderer does: none of its pagehide/visibilitychange
     * work runs; its Web Locks are released. Chromium: CDP Page.crash. Firefox, WebKit:
     * capture listeners stop those events reaching the page's own listeners, then the tab
     * is closed (its timers and requests go with it). Unusable after (`close()` does nothing).
     */
    async crash() {
      await harvest();
      crashed = true;
      if (ops.crash) return ops.crash();
      await ops.evaluate(() => {
        // Capture listeners on window run before any other listener of these events
        // (at the target, capture listeners come first), so none of the page's run.
        for (const type of ["pagehide", "visibilitychange", "freeze"]) addEventListener(type, (e) => e.stopImmediatePropagation(), true);
      }, undefined);
      await ops.close();
    },
    /**
     * Slows the page's main thread down by `rate` (1: back to normal), for this page and
     * the next ones of the tab. Chromium: CDP Emulation.setCPUThrottlingRate. Firefox,
     * WebKit: PROBE's busy loop, busy (rate-1)/rate of the time (see PROBE).
     */
    async throttleCpu(rate) {
      if (ops.throttleCpu) return ops.throttleCpu(rate);
      await ops.evaluate((rate) => window.__probe.throttle(rate), rate);
    },
  };
  let crashed = false;
  return page;
}

// --- Chromium: playwright-core ----------------------------------------------------------

async function launchChromium() {
  const browser = await launchBrowser();
  return {
    name: "chromium",
    async newContext() {
      const context = await browser.newContext();
      return {
        async newPage() {
          const p = await context.newPage();
          p.setDefaultTimeout(STEP_TIMEOUT);
          let cdp = null;
          const session = async () => (cdp ??= await context.newCDPSession(p));
          return makePage("chromium", {
            goto: (url) => p.goto(url),
            reload: () => p.reload(),
            evaluate: (fn, arg) => p.evaluate(fn, arg),
            async crash() {
              const crashed = new Promise((r) => p.once("crash", r));
              (await session()).send("Page.crash").catch(() => {}); // answers only "target closed"
              await withTimeout(crashed, STEP_TIMEOUT, "chromium: page crash");
            },
            throttleCpu: async (rate) => (await session()).send("Emulation.setCPUThrottlingRate", { rate }),
            // As a user closes a tab: unload handlers run (Playwright's default skips them).
            close: async () => {
              if (p.isClosed()) return;
              const closed = new Promise((r) => p.once("close", r));
              await p.close({ runBeforeUnload: true });
              await withTimeout(closed, STEP_TIMEOUT, "chromium: page close");
            },
          });
        },
        close: () => context.close().catch(() => {}),
      };
    },
    close: () => browser.close().catch(() => {}),
  };
}

// --- Firefox and WebKit: selenium-webdriver -------------------------------------------

/**
 * A page over one WebDriver window. `evaluate` sends the function's source and a JSON
 * argument to executeAsyncScript, awaits the function in the page and answers JSON, so
 * async functions, thrown errors and return values behave as with Playwright (a thrown
 * error rejects, with the page's message).
 */
function seleniumPage(engineName, driver, handle, onClose, serial = (op) => op()) {
  const use = async () => {
    // After another tab of the session closed, the driver has no current window at all.
    const current = await driver.getWindowHandle().catch(() => null);
    if (current !== handle) await driver.switchTo().window(handle);
  };
  const script = (fn) => `
const done = arguments[arguments.length - 1];
const fn = (${fn.toString()});
let arg;
try { arg = arguments[0] === null ? undefined : JSON.parse(arguments[0]); } catch (e) { done({ error: "bad argument: " + e }); }
Promise.resolve().then(() => fn(arg)).then(
  (value) => { try { const json = JSON.stringify(value); done({ json: json ?? null, undef: json === undefined }); } catch (e) { done({ error: "result is not JSON: " + e }); } },
  (e) => done({ error: (e && e.name ? e.name + ": " : "") + (e && e.message !== undefined ? e.message : String(e)), stack: String((e && e.stack) || "") }),
);`;
  return makePage(engineName, {
    goto: (url) =>
      serial(async () => {
        await use();
        await driver.get(url);
      }),
    reload: () =>
      serial(async () => {
        await use();
        await driver.navigate().refresh();
      }),
    async evaluate(fn, arg) {
      const answer = await serial(async () => {
        await use();
        return driver.executeAsyncScript(script(fn), arg === undefined ? null : JSON.stringify(arg));
      });
      if (!answer || typeof answer !== "object") throw new Error(`${engineName}: evaluate: odd answer ${JSON.stringify(answer)}`);
      if (answer.error !== undefined) {
        const err = new Error(`${engineName}: page threw ${answer.error}`);
        err.pageStack = answer.stack;
        throw err;
      }
      return answer.undef ? undefined : JSON.parse(answer.json);
    },
    close: () => serial(() => onClose(handle)),
  });
}

/**
 * A context = one WebDriver session (a fresh profile each). Its first page is the
 * session's first window; more pages are new tabs of it.
 */
function seleniumContext(engineName, buildDriver) {
  let driver = null;
  const open = new Set();
  // One session has one current window: a command for one page must not run between
  // another page's switch to its window and its command (as when two pages of the context
  // are driven at once, e.g. in Promise.all). Each page's operations take turns.
  let turn = Promise.resolve();
  const serial = (op) => {
    const result = turn.then(op);
    turn = result.catch(() => {});
    return result;
  };
  const context = {
    /**
     * `{window: true}`: a new window rather than a tab. WebKitGTK brings a tab to the front
     * whenever the driver switches to it, hiding the session's other tabs (each switch is a
     * visibilitychange in both); windows stay visible side by side, as Chromium's pages do.
     */
    async newPage({ window = false } = {}) {
      let handle;
      if (!driver) {
        driver = await buildDriver();
        await driver.manage().setTimeouts({ script: 30_000, pageLoad: STEP_TIMEOUT });
        handle = await driver.getWindowHandle();
      } else {
        await driver.switchTo().newWindow(window ? "window" : "tab");
        handle = await driver.getWindowHandle();
      }
      open.add(handle);
      return seleniumPage(
        engineName,
        driver,
        handle,
        async (h) => {
          open.delete(h);
          if (open.size === 0) return context.close();
          await driver.switchTo().window(h);
          await driver.close();
        },
        serial,
      );
    },
    async close() {
      const d = driver;
      driver = null;
      open.clear();
      if (d) await withTimeout(d.quit(), 10_000, `${engineName}: quit`).catch(() => {});
    },
  };
  return context;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

async function launchFirefox() {
  const { Builder } = await import("selenium-webdriver");
  const firefox = await import("selenium-webdriver/firefox.js");
  const driverPath = geckodriverPath();
  if (!existsSync(FIREFOX)) throw new Error(`${FIREFOX} not found (make tools installs firefox-esr)`);
  const contexts = new Set();
  return {
    name: "firefox",
    async newContext() {
      const context = seleniumContext("firefox", () => {
        const options = new firefox.Options().setBinary(FIREFOX).addArguments("-headless");
        // No update checks, telemetry or first-run pages in the test profiles.
        options.setPreference("app.update.enabled", false);
        options.setPreference("datareporting.policy.dataSubmissionEnabled", false);
        options.setPreference("toolkit.telemetry.enabled", false);
        options.setPreference("browser.shell.checkDefaultBrowser", false);
        return new Builder()
          .forBrowser("firefox")
          .setFirefoxOptions(options)
          .setFirefoxService(new firefox.ServiceBuilder(driverPath))
          .build();
      });
      contexts.add(context);
      return { ...context, close: () => (contexts.delete(context), context.close()) };
    },
    async close() {
      for (const c of contexts) await c.close();
    },
  };
}

/** A free TCP port on 127.0.0.1. */
async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

async function launchWebKit() {
  const { Builder } = await import("selenium-webdriver");
  if (!existsSync(WEBKIT_DRIVER)) throw new Error(`${WEBKIT_DRIVER} not found (make tools installs webkit2gtk-driver)`);
  const port = await freePort();
  // WebKitGTK needs a display: the driver (and the MiniBrowsers it starts) under Xvfb.
  // Its own process group, so that closing kills xvfb-run, Xvfb and the driver together.
  const child = spawn("xvfb-run", ["-a", WEBKIT_DRIVER, `--port=${port}`, "--host=127.0.0.1"], {
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c) => (stderr += c));
  const killGroup = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  };
  process.once("exit", killGroup);
  const serverUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`${serverUrl}/status`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) break;
    } catch {}
    if (child.exitCode !== null) throw new Error(`WebKitWebDriver exited (code ${child.exitCode}): ${stderr}`);
    if (Date.now() > deadline) {
      killGroup();
      throw new Error(`WebKitWebDriver: no /status on ${serverUrl} after 15 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const capabilities = {
    browserName: "MiniBrowser",
    "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] },
  };
  const contexts = new Set();
  return {
    name: "webkit",
    async newContext() {
      const context = seleniumContext("webkit", () => new Builder().usingServer(serverUrl).withCapabilities(capabilities).build());
      contexts.add(context);
      return { ...context, close: () => (contexts.delete(context), context.close()) };
    },
    async close() {
      for (const c of contexts) await c.close();
      const exited = new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      await withTimeout(exited, 3_000, "WebKitWebDriver exit").catch(killGroup);
      process.removeListener("exit", killGroup);
    },
  };
}

// --- a tap on the wire ------------------------------------------------------------------

/**
 * An HTTP server on its own port (so a third origin) that forwards every request to
 * `target` (the collector) as is and logs it as the server received it:
 * `{method, path, headers, body}`. Used as the `apiUrl` to see the request headers a
 * browser really sent, in every engine.
 */
export async function startWireTap(target) {
  const log = [];
  const server = createServer((req, res) => {
    const entry = { method: req.method, path: req.url, headers: { ...req.headers }, body: "" };
    log.push(entry);
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    const url = new URL(req.url, target);
    const upstream = httpRequest(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (answer) => {
      entry.status = answer.statusCode;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
      res.end("bad gateway");
    });
    req.on("end", () => (entry.body = Buffer.concat(chunks).toString("utf8")));
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
