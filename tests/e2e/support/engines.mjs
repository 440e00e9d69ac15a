// The e2e scenarios in every browser engine, written once: a thin driver layer over
// playwright-core (Chromium, the system's /usr/bin/chromium as scripts/chromium.mjs
// launches it) and selenium-webdriver (Firefox ESR through geckodriver, WebKitGTK's MiniBrowser
// through WebKitWebDriver under Xvfb). See "Firefox and WebKit too" in
// ../shared/docs/toolchain.md for why these drivers.
//
//   const engine = await launchEngine("firefox");
//   const context = await engine.newContext();     // fresh profile: own storage, cookies
//   // or newContext({ proxy: "127.0.0.1:<port>" }): plain-HTTP requests for other hosts go
//   // through that proxy (loopback stays direct), e.g. to load a page from a name that
//   // is not loopback, so not a secure context
//   const page = await context.newPage();
//   await page.load(url);                          // waits for window.__ready
//   await page.evaluate(async (arg) => …, arg);    // as Playwright's page.evaluate
//   await page.problems();                         // {pageErrors, consoleErrors, warnings}
//   await page.ingests();                          // the ingest fetches the page made
//   await page.click("#send"); await page.fill("#name", "Ada");  // real user input (see below)
//
// What went wrong in a page and what it sent are recorded by the page itself, the same way
// in every engine: pages must be built with probe.mjs's `probedPage()`, whose first script
// records into `window.__probe`. A navigation loses the page's record, so `load`, `reload`
// and `close` read it first and keep it.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { launchChromium as launchChromiumBrowser } from "../../../scripts/chromium.mjs";
import { STEP_TIMEOUT, elementPowers, playwrightElements, seleniumElements } from "./elements.mjs";

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

function geckodriverPath() {
  if (process.env.GECKODRIVER_PATH) return process.env.GECKODRIVER_PATH;
  try {
    return execFileSync("sh", ["-c", "command -v geckodriver"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("geckodriver not found on PATH (make tools installs it)");
  }
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
 * close} and its element operations (see elementPowers): `evaluate(fn, arg)` runs `fn(arg)`
 * in the page (async functions awaited; the result comes back as JSON data).
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
    /**
     * Chromium only (else undefined): the Playwright page underneath, for a test that adds
     * a view only Chromium has (Playwright's request events, CDP) to checks that run in
     * every engine.
     */
    playwright: ops.playwright,
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
    /**
     * Loads `url` and waits for its module script to finish (`window.__ready`), or for
     * `until` (a page function) to hold, for pages with another ready signal.
     */
    async load(url, { until = () => window.__ready === true } = {}) {
      await harvest();
      await ops.goto(url);
      await page.waitForFunction(until);
    },
    async reload({ until = () => window.__ready === true } = {}) {
      await harvest();
      await ops.reload();
      await page.waitForFunction(until);
    },
    ...elementPowers(engineName, ops),
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
  const browser = await launchChromiumBrowser(["--disable-quic"]);
  return {
    name: "chromium",
    /** `viewport` = {width, height}: the page's size in CSS pixels (at scale 1). */
    async newContext({ proxy, viewport } = {}) {
      // Loopback stays direct (Playwright would send it to the proxy too).
      const context = await browser.newContext({
        ...(proxy ? { proxy: { server: `http://${proxy}`, bypass: "127.0.0.1" } } : {}),
        ...(viewport ? { viewport, deviceScaleFactor: 1 } : {}),
      });
      return {
        async newPage() {
          const p = await context.newPage();
          p.setDefaultTimeout(STEP_TIMEOUT);
          let cdp = null;
          const session = async () => (cdp ??= await context.newCDPSession(p));
          return makePage("chromium", {
            playwright: p,
            goto: (url) => p.goto(url),
            reload: () => p.reload(),
            evaluate: (fn, arg) => p.evaluate(fn, arg),
            async crash() {
              const crashed = new Promise((r) => p.once("crash", r));
              (await session()).send("Page.crash").catch(() => {}); // answers only "target closed"
              await withTimeout(crashed, STEP_TIMEOUT, "chromium: page crash");
            },
            throttleCpu: async (rate) => (await session()).send("Emulation.setCPUThrottlingRate", { rate }),
            ...playwrightElements(p),
            // As a user closes a tab: unload handlers run (Playwright's default skips them).
            close: async () => {
              if (p.isClosed()) return;
              const closed = new Promise((r) => p.once("close", r));
              await p.close({ runBeforeUnload: true });
              await withTimeout(closed, STEP_TIMEOUT, "chromium: page close");
            },
          });
        },
        /** The browser's own offline mode (every page of the context: no request leaves). */
        setOffline: (offline) => context.setOffline(offline),
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
function seleniumPage(engineName, driver, handle, onClose) {
  // One tab at a time per session: switching to this tab and running a command in it
  // must not interleave with another tab's (tabs used at once, as in a Promise.all).
  const inTurn = (fn) => {
    const run = (driver.__turn ?? Promise.resolve()).then(fn, fn);
    driver.__turn = run.catch(() => {});
    return run;
  };
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
      inTurn(async () => {
        await use();
        await driver.get(url);
      }),
    reload: () =>
      inTurn(async () => {
        await use();
        await driver.navigate().refresh();
      }),
    async evaluate(fn, arg) {
      const answer = await inTurn(async () => {
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
    ...seleniumElements(engineName, driver, use, inTurn),
    close: () => inTurn(() => onClose(handle)),
  });
}

/**
 * Sizes the window so that the page's viewport is `width` × `height` CSS pixels (the window
 * is larger by the browser's own bars, which differ per engine).
 */
async function fitViewport(driver, { width, height }) {
  const inner = () => driver.executeScript("return [window.innerWidth, window.innerHeight]");
  let [w, h] = [width, height];
  for (let i = 0; i < 3; i++) {
    await driver.manage().window().setRect({ width: w, height: h });
    const [iw, ih] = await inner();
    if (iw === width && ih === height) return;
    [w, h] = [w + width - iw, h + height - ih];
  }
}

/**
 * Offline as a page sees it, for drivers without network emulation (WebDriver in
 * geckodriver and WebKitWebDriver has none): `navigator.onLine` answers false (an own
 * getter over Navigator.prototype's) and `offline`/`online` are dispatched on window when
 * the state changes, as a browser does. Requests are not stopped here: see
 * support/offline.mjs for cutting the network too.
 */
const EMULATE_OFFLINE = (offline) => {
  if (!Object.getOwnPropertyDescriptor(navigator, "onLine")) {
    Object.defineProperty(navigator, "onLine", { configurable: true, enumerable: true, get: () => window.__emulatedOffline !== true });
  }
  const changed = (window.__emulatedOffline === true) !== offline;
  window.__emulatedOffline = offline;
  if (changed) dispatchEvent(new Event(offline ? "offline" : "online"));
  return navigator.onLine;
};

/**
 * A context = one WebDriver session (a fresh profile each). Its first page is the
 * session's first window; more pages are new tabs of it.
 */
function seleniumContext(engineName, buildDriver, { viewport } = {}) {
  let driver = null;
  const open = new Set();
  /** The open pages, for `setOffline`; and whether the context is offline (emulated). */
  const pages = new Map();
  let offline = false;
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
        if (viewport) await fitViewport(driver, viewport);
        handle = await driver.getWindowHandle();
      } else {
        await driver.switchTo().newWindow(window ? "window" : "tab");
        handle = await driver.getWindowHandle();
      }
      open.add(handle);
      const page = seleniumPage(engineName, driver, handle, async (h) => {
        open.delete(h);
        pages.delete(h);
        if (open.size === 0) return context.close();
        await driver.switchTo().window(h);
        await driver.close();
      });
      // A page (re)loaded while the context is offline sees itself offline from then on
      // (its own files still load: only the page's view of the network is emulated).
      for (const step of ["load", "reload"]) {
        const original = page[step];
        page[step] = async (...args) => {
          await original(...args);
          if (offline) await page.evaluate(EMULATE_OFFLINE, true);
        };
      }
      pages.set(handle, page);
      return page;
    },
    /**
     * Every open page of the context sees itself offline (or back online), in the page
     * (EMULATE_OFFLINE): what Chromium's `context.setOffline` shows a page, without
     * stopping its requests.
     */
    async setOffline(value) {
      offline = value === true;
      for (const page of pages.values()) await page.evaluate(EMULATE_OFFLINE, offline);
    },
    async close() {
      const d = driver;
      driver = null;
      open.clear();
      pages.clear();
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
  const build = (proxy) => {
    const options = new firefox.Options().setBinary(FIREFOX).addArguments("-headless");
    if (proxy) options.set("proxy", webDriverProxy(proxy));
    // No update checks, telemetry or first-run pages in the test profiles.
    options.setPreference("app.update.enabled", false);
    options.setPreference("datareporting.policy.dataSubmissionEnabled", false);
    options.setPreference("toolkit.telemetry.enabled", false);
    options.setPreference("browser.shell.checkDefaultBrowser", false);
    return new Builder().forBrowser("firefox").setFirefoxOptions(options).setFirefoxService(new firefox.ServiceBuilder(driverPath)).build();
  };
  // A Firefox session takes about 4 s to start and 1 s to quit, per test: the next test's
  // session starts while this one runs, and a closed context quits in the background.
  let spare = null;
  const started = () => {
    const next = spare ?? build();
    spare = build();
    spare.catch(() => {});
    return next;
  };
  const contexts = new Set();
  const quitting = new Set();
  return {
    name: "firefox",
    async newContext({ proxy, viewport } = {}) {
      const context = seleniumContext("firefox", () => (proxy ? build(proxy) : started()), { viewport });
      contexts.add(context);
      return {
        ...context,
        close() {
          contexts.delete(context);
          const quit = context.close();
          quitting.add(quit);
          quit.finally(() => quitting.delete(quit));
          return Promise.resolve();
        },
      };
    },
    async close() {
      for (const c of contexts) await c.close();
      await Promise.all(quitting);
      const last = await spare?.catch(() => null);
      spare = null;
      if (last) await withTimeout(last.quit(), 10_000, "firefox: quit").catch(() => {});
    },
  };
}

/** WebDriver's `proxy` capability: plain HTTP through `hostPort`, loopback direct. */
function webDriverProxy(hostPort) {
  return { proxyType: "manual", httpProxy: hostPort, noProxy: ["127.0.0.1"] };
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
    async newContext({ proxy, viewport } = {}) {
      const caps = proxy ? { ...capabilities, proxy: webDriverProxy(proxy) } : capabilities;
      const context = seleniumContext("webkit", () => new Builder().usingServer(serverUrl).withCapabilities(caps).build(), { viewport });
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
