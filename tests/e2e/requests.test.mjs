// Every request a page using the package makes, through a whole session (init, identify,
// a thread with messages, feedback, custom events, flush, then a reload and a tab close
// with events queued): each one goes to the static server for the page and the package's
// files, or is a POST (or its CORS preflight) to `<apiUrl>/v1/runs/ingest` — nothing else.
// No ingest request carries a cookie although the browser holds cookies for the
// collector's host and the page's; the SDK never touches `document.cookie`, passes
// `credentials: "omit"` to fetch, and leaves the cookie jar as the test set it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useSuite, TEST_TIMEOUT } from "./support/suite.mjs";
import { testPage } from "./support/server.mjs";
import { load } from "./support/browser.mjs";
import { openFaultPage, sleep, until } from "./support/delivery.mjs";
import { assertNoPageProblems } from "./support/scenarios.mjs";
import { readdirSync } from "node:fs";
import { sep } from "node:path";
import { pkgDir } from "./support/paths.mjs";

const suite = useSuite("requests");

/**
 * Runs before the package: counts every access to `document.cookie` (through
 * Document.prototype's accessor) and records every call of fetch, sendBeacon,
 * XMLHttpRequest, WebSocket and EventSource, with fetch's init dictionary. Each document
 * keeps its record in localStorage (`__audit:<random id>`) after each change, so that what
 * a page did while it went away (pagehide: a reload, a closed tab) can be read by a later
 * page of the site: neither Playwright nor CDP report the requests a page makes as it goes.
 */
const AUDIT = `
(() => {
  const log = { url: location.href, cookieGets: 0, cookieSets: 0, fetches: [], beacons: [], xhrs: [], sockets: [], eventSources: [] };
  const name = "__audit:" + crypto.randomUUID();
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

const COOKIE_VALUE = { collector: "collector-secret", page: "page-secret" };

/**
 * Records, for the whole context: every request Playwright reports (pages, workers,
 * service workers), and for each page a CDP Network log (which also shows CORS preflights
 * and requests of a page being closed).
 */
async function recordEverything(context) {
  const seen = [];
  context.on("request", (req) => {
    const entry = { url: req.url(), method: req.method(), type: req.resourceType(), navigation: req.isNavigationRequest(), headers: null };
    // Headers as sent (Cookie included, when there is one); a closed page may never say.
    entry.headersPromise = req
      .allHeaders()
      .then((h) => (entry.headers = h))
      .catch(() => {});
    seen.push(entry);
  });
  const cdp = [];
  const watch = async (page) => {
    const session = await context.newCDPSession(page);
    session.on("Network.requestWillBeSent", (e) =>
      cdp.push({ url: e.request.url, method: e.request.method, type: e.type, initiator: e.initiator?.type, id: e.requestId }),
    );
    session.on("Network.requestWillBeSentExtraInfo", (e) => {
      const cookie = Object.entries(e.headers ?? {}).find(([k]) => k.toLowerCase() === "cookie");
      cdp.push({ extraInfo: true, id: e.requestId, cookie: cookie ? cookie[1] : null });
    });
    await session.send("Network.enable");
  };
  return { seen, cdp, watch };
}

test("a whole session, a reload and a tab close: every request goes to the page's server or to <apiUrl>/v1/runs/ingest, with no cookie, and the SDK never touches cookies", { timeout: TEST_TIMEOUT }, async (t) => {
  const { collector, server } = suite;
  const key = suite.newProjectKey();
  const context = await suite.newContext(t);
  await context.addCookies([
    { name: "collector_cookie", value: COOKIE_VALUE.collector, url: collector.url },
    { name: "page_cookie", value: COOKIE_VALUE.page, url: server.origin },
  ]);
  const cookiesBefore = await context.cookies();
  assert.equal(cookiesBefore.length, 2);

  const rec = await recordEverything(context);
  const firstLogged = server.requests.length;
  const serviceWorkers = [];
  context.on("serviceworker", (w) => serviceWorkers.push(w.url()));
  const pageUrl = server.addPage(testPage({ before: AUDIT }), "requests");
  const page = await openFaultPage(context);
  await rec.watch(page);
  await load(page, pageUrl);
  const cookieAtStart = await page.evaluate(() => window.__readCookie());
  assert.match(cookieAtStart, /page_cookie=page-secret/, "the page sees its cookies");

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
      lunary.trackEvent("custom", "custom-event", { runId: crypto.randomUUID(), name: "clicked" });
      lunary.info("an info line");
      await lunary.flush();
      // 2. Three messages left queued (nothing sends for 10 s), then the reload.
      const queued = [1, 2, 3].map((n) => thread.trackMessage({ role: "user", content: "queued before reload #" + n }));
      return { threadId: thread.id, q, a, queued, stats: lunary.stats(), resources: performance.getEntriesByType("resource").map((e) => e.name) };
    },
    { key, apiUrl: collector.url },
  );
  assert.equal(session.stats.delivered, 6, `the session was delivered: ${JSON.stringify(session.stats)}`);
  const resources = [session.resources];
  await sleep(300);
  await page.reload();
  await page.waitForFunction(() => window.__ready === true);
  const afterReload = await page.evaluate(
    async ({ key, apiUrl }) => {
      lunary.init({ appId: key, apiUrl, flushIntervalMs: 10_000 });
      await lunary.flush(); // takes over whatever the reload left behind
      const thread = lunary.openThread({ tags: ["requests"] });
      const queued = [1, 2].map((n) => thread.trackMessage({ role: "user", content: "queued before close #" + n }));
      return { queued, cookie: window.__readCookie(), resources: performance.getEntriesByType("resource").map((e) => e.name) };
    },
    { key, apiUrl: collector.url },
  );
  resources.push(afterReload.resources);
  assert.equal(afterReload.cookie, cookieAtStart, "document.cookie unchanged across the session and the reload");
  await sleep(300);
  // 3. The tab closes with two messages queued: they leave with keepalive at pagehide.
  await page.close({ runBeforeUnload: true });

  // A second page of the site confirms delivery (and would send anything left behind).
  const second = await openFaultPage(context);
  await rec.watch(second);
  await load(second, pageUrl);
  const end = await second.evaluate(
    async ({ key, apiUrl }) => {
      lunary.init({ appId: key, apiUrl });
      await lunary.flush();
      const audits = Object.keys(localStorage)
        .filter((k) => k.startsWith("__audit:"))
        .map((k) => JSON.parse(localStorage.getItem(k)));
      return { audits, stats: lunary.stats(), cookie: window.__readCookie(), resources: performance.getEntriesByType("resource").map((e) => e.name) };
    },
    { key, apiUrl: collector.url },
  );
  resources.push(end.resources);
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
  await sleep(200);
  await Promise.all(rec.seen.map((e) => e.headersPromise));

  // --- every request: the page's server, or the ingest endpoint ---------------------
  const ingestUrl = `${collector.url}/v1/runs/ingest`;
  const pagePath = new URL(pageUrl).pathname;
  // The package's own code: its .js and .wasm files (the glue imports its snippets).
  const PKG_FILES = readdirSync(pkgDir, { recursive: true })
    .filter((file) => /\.(js|wasm)$/.test(file))
    .map((file) => "/pkg/" + file.split(sep).join("/"));
  assert.ok(PKG_FILES.includes("/pkg/lunary_wasm_bg.wasm"), `the package files are listed: ${PKG_FILES}`);
  const allowed = (url, method) => {
    if (url === ingestUrl) return method === "POST" || method === "OPTIONS";
    const u = new URL(url);
    return u.origin === server.origin && method === "GET" && (u.pathname === pagePath || PKG_FILES.includes(u.pathname));
  };
  const cdpRequests = rec.cdp.filter((e) => !e.extraInfo);
  const strays = [
    ...rec.seen.filter((e) => !allowed(e.url, e.method)).map((e) => `playwright: ${e.method} ${e.url}`),
    ...cdpRequests.filter((e) => !allowed(e.url, e.method)).map((e) => `cdp: ${e.method} ${e.url}`),
    ...resources.flat().filter((url) => !allowed(url, url === ingestUrl ? "POST" : "GET")).map((url) => `resource timing: ${url}`),
  ];
  assert.deepEqual(strays, [], "no request to anything but the page's files and the ingest endpoint");
  // The page's server agrees: it was asked for the page and the package's files, nothing else.
  const served = server.requests.slice(firstLogged).filter((r) => !allowed(server.origin + r.path, r.method));
  assert.deepEqual(served.map((r) => `${r.method} ${r.path}`), [], "the static server got no other request");
  assert.deepEqual(serviceWorkers, [], "no service worker");
  assert.deepEqual(context.serviceWorkers(), []);
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
  assert.equal(ingestFetches.length, collectorStats.requests, `the collector got one request per ingest fetch (${ingestFetches.length})`);
  const keepalive = ingestFetches.filter((f) => f.init.keepalive === true);
  const posts = rec.seen.filter((e) => e.url === ingestUrl && e.method === "POST");
  t.diagnostic(
    `ingest fetches: ${ingestFetches.length} (${keepalive.length} with keepalive, sent while ${JSON.stringify(keepalive.map((f) => f.at))}); ` +
      `init keys ${JSON.stringify([...new Set(ingestFetches.map((f) => f.init.keys.join(",")))])}; ` +
      `Playwright saw ${rec.seen.length} requests (${posts.length} ingest POSTs), CDP ${cdpRequests.length} (${cdpRequests.filter((e) => e.method === "OPTIONS").length} preflights)`,
  );
  // Batches this small always go with keepalive (README, "Delivery"), those sent at pagehide included.
  assert.equal(keepalive.length, ingestFetches.length, "keepalive on every (small) batch");

  // --- cookies ------------------------------------------------------------------------
  const navigations = rec.seen.filter((e) => e.navigation);
  assert.equal(navigations.length, 3);
  for (const nav of navigations) {
    assert.match(nav.headers?.cookie ?? "", /collector_cookie=collector-secret/, "control: the browser does send the 127.0.0.1 cookies where credentials go");
  }
  assert.ok(posts.length >= 1 && posts.every((p) => p.headers), "headers were read for the ingest requests the browser showed");
  for (const post of posts) assert.equal(post.headers.cookie, undefined, `no Cookie header on ${post.method} ${post.url}`);
  const ingestIds = new Set(cdpRequests.filter((e) => e.url === ingestUrl).map((e) => e.id));
  const cookiesOnIngest = rec.cdp.filter((e) => e.extraInfo && ingestIds.has(e.id) && e.cookie);
  assert.deepEqual(cookiesOnIngest, [], "CDP: no Cookie header on any ingest request or preflight");
  const cookiesAfter = await context.cookies();
  const shape = (cookies) => cookies.map(({ name, value, domain, path }) => ({ name, value, domain, path })).sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(shape(cookiesAfter), shape(cookiesBefore), "the cookie jar is what the test set");
  assertNoPageProblems(second);
});

// Across origins a fetch sends no cookies unless asked to (`credentials: "include"`), so
// the check above would pass with fetch's default too. Here `apiUrl` is the page's own
// origin (the static server forwards /v1/ to the collector): with the default
// (`same-origin`) the page's cookies would go with every ingest request.
test("apiUrl on the page's own origin: the ingest requests still carry no cookie (the server saw none; its other requests had them)", { timeout: TEST_TIMEOUT }, async (t) => {
  const { collector, server } = suite;
  server.forward("/v1/", collector.url);
  const key = suite.newProjectKey();
  const context = await suite.newContext(t);
  await context.addCookies([{ name: "session_id", value: "same-origin-secret", url: server.origin }]);
  const page = await openFaultPage(context);
  const pageUrl = server.addPage(testPage({ before: AUDIT }), "requests-same-origin");
  const firstLogged = server.requests.length;
  await load(page, pageUrl);
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
  t.diagnostic(`the server saw: ${logged.map((r) => `${r.method} ${r.path} cookie=${r.headers.cookie ? "yes" : "no"}`).join(", ")}`);
  assert.ok(ingests.length >= 1, "the ingest requests went through the page's own server");
  assert.deepEqual(ingests.map((r) => r.method), ingests.map(() => "POST"), "no preflight on the same origin");
  for (const r of ingests) assert.equal(r.headers.cookie, undefined, "no Cookie header on an ingest request");
  assert.equal(control.length, 1);
  assert.equal(control[0].headers.cookie, "session_id=same-origin-secret", "control: a default fetch on this origin sends the cookie");
  const navigation = logged.find((r) => r.path === new URL(pageUrl).pathname);
  assert.equal(navigation.headers.cookie, "session_id=same-origin-secret", "control: so does the navigation");

  for (const f of result.audit.fetches.filter((f) => f.url.endsWith("/v1/runs/ingest"))) assert.equal(f.init.credentials, "omit");
  assert.equal(result.audit.cookieGets + result.audit.cookieSets, 0, "document.cookie never touched");
  assertNoPageProblems(page);
});
