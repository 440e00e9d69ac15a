// Every request a page using the package makes, through a whole session (init, identify,
// a thread with messages, feedback, custom events, flush, then a reload and a tab close
// with events queued): each one goes to the static server for the page and the package's
// files, or is a POST (or its CORS preflight) to `<apiUrl>/v1/runs/ingest` — nothing else.
// No ingest request carries a cookie although the browser holds cookies for the API's
// host and the page's; the SDK never touches `document.cookie`, passes
// `credentials: "omit"` to fetch, and leaves the cookie jar as the test set it.
//
// In every engine, the requests are seen four ways: the static server's log (the page,
// the package's files), the wire tap in front of the collector (every request to the API
// origin as the server received it, preflights and Cookie headers included), resource
// timing in each document, and the page's request APIs wrapped (AUDIT). In Chromium two
// more views check the same: Playwright's request events and CDP's Network log. The
// cookies are set as a site sets them: by a page of the static server (Set-Cookie).
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites, assertNoProblems, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import { probedPage } from "./support/probe.mjs";
import { startWireTap } from "./support/wire-tap.mjs";
import { sleep, until } from "./support/delivery.mjs";
import { readdirSync } from "node:fs";
import { sep } from "node:path";
import { pkgDir } from "./support/paths.mjs";

/**
 * Runs before the package: counts every access to `document.cookie` (through
 * Document.prototype's accessor) and records every call of fetch, sendBeacon,
 * XMLHttpRequest, WebSocket and EventSource, with fetch's init dictionary. Each document
 * keeps its record in localStorage (`__audit:<random id>`) after each change, so that what
 * a page did while it went away (pagehide: a reload, a closed tab) can be read by a later
 * page of the site: no driver reports the requests a page makes as it goes.
 */
const AUDIT = `
(() => {
  const log = { url: location.href, cookieGets: 0, cookieSets: 0, fetches: [], beacons: [], xhrs: [], sockets: [], eventSources: [] };
  const name = "__audit:" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  const keep = () => localStorage.setItem(name, JSON.stringify(log));
  keep();
  window.__audit = log;

  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  Object.defineProperty(Document.prototype, "cookie", {
    configurable: true,
    enumerable: cookie.enumerable,
    get() { log.cookieGets++; keep(); return cookie.get.call(this); },
    set(value) { log.cookieSets++; keep(); cookie.set.call(this, value); },
  });
  // For the test itself: document.cookie without counting.
  window.__readCookie = () => cookie.get.call(document);

  const fetch0 = window.fetch;
  window.fetch = function (input, init) {
    const isRequest = typeof Request === "function" && input instanceof Request;
    log.fetches.push({
      url: isRequest ? input.url : String(input),
      inputType: isRequest ? "Request" : typeof input,
      init: init === undefined ? null : {
        keys: Object.keys(init).sort(),
        method: init.method,
        credentials: init.credentials,
        keepalive: init.keepalive,
        mode: init.mode,
        headers: init.headers ? Object.fromEntries(new Headers(init.headers)) : null,
        bodyType: typeof init.body,
      },
      requestCredentials: isRequest ? input.credentials : null,
      at: document.visibilityState,
    });
    keep();
    return fetch0.apply(this, arguments);
  };
  const beacon0 = Navigator.prototype.sendBeacon;
  Navigator.prototype.sendBeacon = function (url, data) {
    log.beacons.push(String(url));
    keep();
    return beacon0.call(this, url, data);
  };
  const open0 = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url) {
    log.xhrs.push(method + " " + url);
    keep();
    return open0.apply(this, arguments);
  };
  for (const [name, list] of [["WebSocket", log.sockets], ["EventSource", log.eventSources]]) {
    const Original = window[name];
    window[name] = new Proxy(Original, { construct(target, args) { list.push(String(args[0])); keep(); return Reflect.construct(target, args); } });
  }
})();
`;

const COOKIE_VALUE = { api: "api-secret", page: "page-secret" };

/**
 * A page of the static server that sets `cookies` ({name: value}, for the whole host,
 * which the API's port shares: cookies ignore ports) with Set-Cookie, as a site's login
 * page would. No package on it. Answers its URL.
 */
function cookiePage(server, cookies, name) {
  const html = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>cookies</title><script>window.__ready = true;</script></head><body></body></html>`;
  return server.addPage(html, name, { headers: { "Set-Cookie": Object.entries(cookies).map(([k, v]) => `${k}=${v}; Path=/; SameSite=Lax`) } });
}

/** What the page itself saw of its requests: resource timing names, read without the audit counting. */
const resourceNames = () => performance.getEntriesByType("resource").map((e) => e.name);

/**
 * Chromium only, an extra view: every request Playwright reports for the context (pages,
 * workers, service workers) and, per page, CDP's Network log (which also shows CORS
 * preflights and requests of a page being closed).
 */
function chromiumViews(firstPage) {
  const context = firstPage.playwright.context();
  const seen = [];
  context.on("request", (req) => {
    const entry = { url: req.url(), method: req.method(), navigation: req.isNavigationRequest(), headers: null };
    // Headers as sent (Cookie included, when there is one); a closed page may never say.
    entry.headersPromise = req
      .allHeaders()
      .then((h) => (entry.headers = h))
      .catch(() => {});
    seen.push(entry);
  });
  const serviceWorkers = [];
  context.on("serviceworker", (w) => serviceWorkers.push(w.url()));
  const cdp = [];
  const watch = async (page) => {
    const session = await context.newCDPSession(page.playwright);
    session.on("Network.requestWillBeSent", (e) => cdp.push({ url: e.request.url, method: e.request.method, id: e.requestId }));
    session.on("Network.requestWillBeSentExtraInfo", (e) => {
      const cookie = Object.entries(e.headers ?? {}).find(([k]) => k.toLowerCase() === "cookie");
      cdp.push({ extraInfo: true, id: e.requestId, cookie: cookie ? cookie[1] : null });
    });
    await session.send("Network.enable");
  };
  return { context, seen, cdp, serviceWorkers, watch };
}

engineSuites("requests", (suite) => {
  test("a whole session, a reload and a tab close: every request goes to the page's server or to <apiUrl>/v1/runs/ingest, with no cookie, and the SDK never touches cookies", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const tap = await startWireTap(collector.url);
    t.after(() => tap.stop());
    const apiUrl = tap.url;
    const key = suite.newProjectKey();
    const context = await suite.newContext(t);
    const page = await context.newPage();
    const firstLogged = server.requests.length;
    const cookieUrl = cookiePage(server, { api_cookie: COOKIE_VALUE.api, page_cookie: COOKIE_VALUE.page }, "requests-cookies");
    await page.load(cookieUrl);
    const pageUrl = server.addPage(probedPage({ before: AUDIT }), "requests");
    const chromium = page.playwright ? chromiumViews(page) : null;
    const cookiesBefore = chromium ? await chromium.context.cookies() : null;
    if (chromium) assert.equal(cookiesBefore.length, 2, "Chromium's cookie jar holds the two cookies");
    await chromium?.watch(page);
    await page.load(pageUrl);
    const cookieAtStart = await page.evaluate(() => window.__readCookie());
    assert.match(cookieAtStart, /page_cookie=page-secret/, "the page sees its cookies");
    assert.match(cookieAtStart, /api_cookie=api-secret/);

    // 1. The session: every call of the API, then flush().
    const session = await page.evaluate(
      async ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl, flushIntervalMs: 10_000 });
        lunary.identify("req-user", { name: "Req", email: "req@example.org" });
        const thread = lunary.openThread({ tags: ["requests"] });
        const q = thread.trackMessage({ role: "user", content: "Hello" });
        const a = thread.trackMessage({ role: "assistant", content: "Hi" });
        lunary.trackFeedback(a, { thumb: "up", comment: "ok" });
        thread.trackEvent("opened-settings", { from: "menu" });
        lunary.trackEvent("custom", "custom-event", { runId: "3f1c1f0e-8a4e-4c55-9a51-0d6c1b1d2e3f", name: "clicked" });
        lunary.info("an info line");
        await lunary.flush();
        // 2. Three messages left queued (nothing sends for 10 s), then the reload.
        const queued = [1, 2, 3].map((n) => thread.trackMessage({ role: "user", content: "queued before reload #" + n }));
        return { threadId: thread.id, q, a, queued, stats: lunary.stats() };
      },
      { key, apiUrl },
    );
    assert.equal(session.stats.delivered, 6, `the session was delivered: ${JSON.stringify(session.stats)}`);
    const resources = [await page.evaluate(resourceNames)];
    await sleep(300);
    await page.reload();
    const afterReload = await page.evaluate(
      async ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl, flushIntervalMs: 10_000 });
        await lunary.flush(); // takes over whatever the reload left behind
        const thread = lunary.openThread({ tags: ["requests"] });
        const queued = [1, 2].map((n) => thread.trackMessage({ role: "user", content: "queued before close #" + n }));
        return { queued, cookie: window.__readCookie() };
      },
      { key, apiUrl },
    );
    resources.push(await page.evaluate(resourceNames));
    assert.equal(afterReload.cookie, cookieAtStart, "document.cookie unchanged across the session and the reload");
    await sleep(300);
    // 3. The tab closes with two messages queued: they leave with keepalive at pagehide. A
    // second tab of the same profile is opened first (a WebDriver session ends with its
    // last window), and loads the site after the close.
    const second = await context.newPage();
    await page.close();
    await chromium?.watch(second);
    await second.load(pageUrl);
    const end = await second.evaluate(
      async ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl });
        await lunary.flush();
        const audits = Object.keys(localStorage)
          .filter((k) => k.startsWith("__audit:"))
          .map((k) => JSON.parse(localStorage.getItem(k)));
        const serviceWorkers = navigator.serviceWorker ? (await navigator.serviceWorker.getRegistrations()).map((r) => r.scope) : [];
        return { audits, stats: lunary.stats(), cookie: window.__readCookie(), serviceWorkers };
      },
      { key, apiUrl },
    );
    resources.push(await second.evaluate(resourceNames));
    const expectedRunIds = [session.q, session.a, ...session.queued, ...afterReload.queued];
    await until(async () => {
      const stored = new Set((await collector.events(key)).map((e) => e.runId));
      return expectedRunIds.every((id) => stored.has(id));
    }, "the queued messages to be delivered");
    const stored = await collector.events(key);
    assert.equal(stored.length, 6 + 3 + 2, "the session's 6 events and the 5 queued ones, each once");
    assert.equal((await collector.stats(key)).duplicates, 0);
    assert.equal(end.stats.restored, 0, "nothing was left behind for the second page");
    assert.equal(end.cookie, cookieAtStart, "document.cookie unchanged on the second page");
    assert.deepEqual(end.serviceWorkers, [], "no service worker registered");
    await sleep(200);

    // --- every request: the page's server, or the ingest endpoint ---------------------
    const ingestUrl = `${apiUrl}/v1/runs/ingest`;
    const pagePaths = [new URL(cookieUrl).pathname, new URL(pageUrl).pathname];
    // The package's own code: its .js and .wasm files (the glue imports its snippets).
    const PKG_FILES = readdirSync(pkgDir, { recursive: true })
      .filter((file) => /\.(js|wasm)$/.test(file))
      .map((file) => "/pkg/" + file.split(sep).join("/"));
    assert.ok(PKG_FILES.includes("/pkg/lunary_wasm_bg.wasm"), `the package files are listed: ${PKG_FILES}`);
    const allowed = (url, method) => {
      if (url === ingestUrl) return method === "POST" || method === "OPTIONS";
      const u = new URL(url);
      return u.origin === server.origin && method === "GET" && (pagePaths.includes(u.pathname) || PKG_FILES.includes(u.pathname));
    };
    // The page's server: it was asked for the pages and the package's files, nothing else.
    const served = server.requests.slice(firstLogged);
    assert.deepEqual(served.filter((r) => !allowed(server.origin + r.path, r.method)).map((r) => `${r.method} ${r.path}`), [], "the static server got no other request");
    // The API's origin: the ingest POSTs and their preflights, nothing else.
    assert.deepEqual(tap.log.filter((r) => !allowed(apiUrl + r.path, r.method)).map((r) => `${r.method} ${r.path}`), [], "the API's origin got nothing but ingest requests");
    const tapPosts = tap.log.filter((r) => r.method === "POST");
    const tapPreflights = tap.log.filter((r) => r.method === "OPTIONS");
    assert.ok(tapPreflights.length >= 1, "a CORS preflight came first (the Authorization header asks for one)");
    // Each document's resource timing.
    assert.deepEqual(resources.flat().filter((url) => !allowed(url, url === ingestUrl ? "POST" : "GET")), [], "resource timing lists nothing else");
    for (const list of resources) {
      assert.ok(list.some((url) => url.endsWith("/pkg/lunary_wasm_bg.wasm")), "resource timing lists the package files (the check is not vacuous)");
    }

    // --- what the SDK asked of the page's APIs, in all three documents -----------------------
    assert.equal(end.audits.length, 3, "the audits of the first page, the reloaded page and the second page");
    for (const audit of end.audits) {
      assert.equal(audit.cookieGets, 0, "document.cookie never read");
      assert.equal(audit.cookieSets, 0, "document.cookie never written");
      assert.deepEqual(audit.beacons, [], "no sendBeacon");
      assert.deepEqual(audit.xhrs, [], "no XMLHttpRequest");
      assert.deepEqual(audit.sockets, [], "no WebSocket");
      assert.deepEqual(audit.eventSources, [], "no EventSource");
    }
    const fetches = end.audits.flatMap((a) => a.fetches);
    const ingestFetches = fetches.filter((f) => f.url === ingestUrl);
    const otherFetches = fetches.filter((f) => f.url !== ingestUrl);
    assert.deepEqual(
      [...new Set(otherFetches.map((f) => `${f.url.replace(server.origin, "")} ${JSON.stringify(f.init)}`))],
      ["/pkg/lunary_wasm_bg.wasm null"],
      "the only other fetch is the glue's, for the package's own .wasm",
    );
    assert.equal(otherFetches.length, 3, "one per document");
    for (const f of ingestFetches) {
      assert.equal(f.inputType, "string");
      assert.equal(f.init.credentials, "omit", "credentials: omit");
      assert.equal(f.init.method, "POST");
      assert.deepEqual(f.init.headers, { authorization: `Bearer ${key}`, "content-type": "application/json" });
      assert.equal(f.init.bodyType, "string");
    }
    // Every request the collector got is one of these fetches: nothing reached it another way.
    const collectorStats = await collector.stats(key);
    assert.equal(tapPosts.length, collectorStats.requests, "the tap forwarded every ingest POST the collector got");
    assert.equal(ingestFetches.length, tapPosts.length, `the API got one request per ingest fetch (${ingestFetches.length})`);
    const keepalive = ingestFetches.filter((f) => f.init.keepalive === true);
    t.diagnostic(
      `${suite.engine}: ingest fetches: ${ingestFetches.length} (${keepalive.length} with keepalive, sent while ${JSON.stringify(keepalive.map((f) => f.at))}); ` +
        `init keys ${JSON.stringify([...new Set(ingestFetches.map((f) => f.init.keys.join(",")))])}; ` +
        `the tap saw ${tapPosts.length} POSTs and ${tapPreflights.length} preflights; the static server ${served.length} requests`,
    );
    // Batches this small always go with keepalive (README, "Delivery"), those sent at pagehide included.
    assert.equal(keepalive.length, ingestFetches.length, "keepalive on every (small) batch");

    // --- cookies ------------------------------------------------------------------------
    const navigations = served.filter((r) => r.path === new URL(pageUrl).pathname);
    assert.equal(navigations.length, 3, "the page was loaded three times (load, reload, second tab)");
    for (const nav of navigations) {
      assert.match(nav.headers.cookie ?? "", /api_cookie=api-secret/, "control: the browser does send the 127.0.0.1 cookies where credentials go");
    }
    assert.deepEqual(new Set(navigations.map((r) => r.headers.cookie)).size, 1, "the same cookies on every navigation: the jar did not change");
    for (const r of tap.log) assert.equal(r.headers.cookie, undefined, `no Cookie header on ${r.method} ${r.path} (as the server received it)`);

    // --- Chromium: the same through Playwright and CDP ------------------------------------
    if (chromium) {
      await Promise.all(chromium.seen.map((e) => e.headersPromise));
      const cdpRequests = chromium.cdp.filter((e) => !e.extraInfo);
      const strays = [
        ...chromium.seen.filter((e) => !allowed(e.url, e.method)).map((e) => `playwright: ${e.method} ${e.url}`),
        ...cdpRequests.filter((e) => !allowed(e.url, e.method)).map((e) => `cdp: ${e.method} ${e.url}`),
      ];
      assert.deepEqual(strays, [], "Playwright and CDP: no request to anything but the page's files and the ingest endpoint");
      assert.deepEqual(chromium.serviceWorkers, [], "no service worker");
      const posts = chromium.seen.filter((e) => e.url === ingestUrl && e.method === "POST");
      assert.ok(posts.length >= 1 && posts.every((p) => p.headers), "headers were read for the ingest requests Playwright showed");
      for (const post of posts) assert.equal(post.headers.cookie, undefined, `Playwright: no Cookie header on ${post.method} ${post.url}`);
      const ingestIds = new Set(cdpRequests.filter((e) => e.url === ingestUrl).map((e) => e.id));
      assert.deepEqual(chromium.cdp.filter((e) => e.extraInfo && ingestIds.has(e.id) && e.cookie), [], "CDP: no Cookie header on any ingest request or preflight");
      const shape = (cookies) => cookies.map(({ name, value, domain, path }) => ({ name, value, domain, path })).sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(shape(await chromium.context.cookies()), shape(cookiesBefore), "the cookie jar is what the test set");
      t.diagnostic(`chromium: Playwright saw ${chromium.seen.length} requests (${posts.length} ingest POSTs), CDP ${cdpRequests.length} (${cdpRequests.filter((e) => e.method === "OPTIONS").length} preflights)`);
    }
    await assertNoProblems(second);
  });

  // Across origins a fetch sends no cookies unless asked to (`credentials: "include"`), so
  // the check above would pass with fetch's default too. Here `apiUrl` is the page's own
  // origin (the static server forwards /v1/ to the collector): with the default
  // (`same-origin`) the page's cookies would go with every ingest request.
  test("apiUrl on the page's own origin: the ingest requests still carry no cookie (the server saw none; its other requests had them)", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    server.__forwardsV1 ??= (server.forward("/v1/", collector.url), true);
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(cookiePage(server, { session_id: "same-origin-secret" }, "same-origin-cookie"));
    const pageUrl = server.addPage(probedPage({ before: AUDIT }), "requests-same-origin");
    const firstLogged = server.requests.length;
    await page.load(pageUrl);
    const result = await page.evaluate(
      async ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl });
        lunary.identify("same-origin-user", { name: "Sam" });
        const thread = lunary.openThread();
        const runId = thread.trackMessage({ role: "user", content: "same origin" });
        lunary.trackFeedback(runId, { thumb: "down" });
        await lunary.flush();
        // Control: a same-origin fetch with fetch's default credentials does carry the cookie.
        await fetch("/pkg/package.json").then((r) => r.text());
        return { runId, audit: window.__audit, stats: lunary.stats() };
      },
      { key, apiUrl: server.origin },
    );
    const events = await collector.waitForEvents(key, 2);
    assert.deepEqual(events.map((e) => e.event), ["chat", "feedback"]);
    assert.equal(events[0].runId, result.runId);
    assert.equal(result.stats.delivered, 2);

    const logged = server.requests.slice(firstLogged);
    const ingests = logged.filter((r) => r.path === "/v1/runs/ingest");
    const control = logged.filter((r) => r.path === "/pkg/package.json");
    t.diagnostic(`${suite.engine}: the server saw: ${logged.map((r) => `${r.method} ${r.path} cookie=${r.headers.cookie ? "yes" : "no"}`).join(", ")}`);
    assert.ok(ingests.length >= 1, "the ingest requests went through the page's own server");
    assert.deepEqual(ingests.map((r) => r.method), ingests.map(() => "POST"), "no preflight on the same origin");
    for (const r of ingests) assert.equal(r.headers.cookie, undefined, "no Cookie header on an ingest request");
    assert.equal(control.length, 1);
    assert.equal(control[0].headers.cookie, "session_id=same-origin-secret", "control: a default fetch on this origin sends the cookie");
    const navigation = logged.find((r) => r.path === new URL(pageUrl).pathname);
    assert.equal(navigation.headers.cookie, "session_id=same-origin-secret", "control: so does the navigation");

    const ingestFetches = result.audit.fetches.filter((f) => f.url.endsWith("/v1/runs/ingest"));
    assert.equal(ingestFetches.length, ingests.length, "one request per ingest fetch");
    for (const f of ingestFetches) assert.equal(f.init.credentials, "omit");
    assert.equal(result.audit.cookieGets + result.audit.cookieSets, 0, "document.cookie never touched");
    await assertNoProblems(page);
  });
});
