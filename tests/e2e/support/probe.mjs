// The in-page recorder of the e2e pages: what went wrong in a page and what it sent,
// recorded by the page itself, so the same way in every engine (engines.mjs reads it).
import { testPage } from "./server.mjs";

/**
 * The in-page recorder, run before anything else in the page (a classic script). Records
 * into `window.__probe`: uncaught errors and rejections, console.error/console.warn calls,
 * and every fetch POST to …/v1/runs/ingest as the page made it (url, headers, body,
 * keepalive, credentials, whether the page saw itself online then; then the answer's
 * status, or the error) with page-clock times.
 */
export const PROBE = `(() => {
  const probe = { pageErrors: [], consoleErrors: [], warnings: [], ingests: [] };
  window.__probe = probe;
  // An Error as its stack, led by "Name: message" where the stack lacks it (Firefox's does).
  const text = (v) => { try { if (!(v instanceof Error)) return typeof v === "string" ? v : String(v); const stack = String(v.stack || ""); return stack.includes(String(v)) ? stack : stack ? String(v) + "\\n" + stack : String(v); } catch { return "<unprintable>"; } };
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
    // (A string input has no method: \`false ?? "GET"\` would be false, and fetch("/x") throw.)
    const method = String(init?.method ?? (typeof input === "object" && input !== null ? input.method : undefined) ?? "GET").toUpperCase();
    const promise = originalFetch.apply(this, arguments);
    if (method === "POST" && String(url).endsWith("/v1/runs/ingest")) {
      const headers = {};
      try { new Headers(init?.headers ?? {}).forEach((v, k) => (headers[k] = v)); } catch {}
      const entry = { url: String(url), headers, body: typeof init?.body === "string" ? init.body : null,
        keepalive: init?.keepalive === true, credentials: init?.credentials ?? null,
        start: Date.now(), online: navigator.onLine, answered: null, status: null, error: null };
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
