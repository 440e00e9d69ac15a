// Chromium via playwright-core (the system's /usr/bin/chromium, never a downloaded one),
// and pages that record what went wrong in them and what they sent to the collector.
import { launchChromium } from "../../../scripts/chromium.mjs";

export function launchBrowser() {
  return launchChromium(["--disable-quic"]);
}

/**
 * A new page in `context`, with `page.problems` = {pageErrors, consoleErrors, warnings}
 * and `page.ingests` = every POST to /v1/runs/ingest: {url, headers, body, json}.
 */
export async function openPage(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = { pageErrors: [], consoleErrors: [], warnings: [] };
  const ingests = [];
  page.on("pageerror", (err) => problems.pageErrors.push(String(err?.stack || err)));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.consoleErrors.push(msg.text());
    if (msg.type() === "warning") problems.warnings.push(msg.text());
  });
  page.on("request", (req) => {
    if (req.method() !== "POST" || !req.url().endsWith("/v1/runs/ingest")) return;
    const entry = { url: req.url(), headers: null, body: req.postData() };
    try {
      entry.json = JSON.parse(entry.body);
    } catch {
      entry.json = undefined;
    }
    entry.headersPromise = req.allHeaders().then((h) => (entry.headers = h));
    ingests.push(entry);
  });
  page.problems = problems;
  page.ingests = ingests;
  return page;
}

/** Loads `url` and waits for its module script to finish (`window.__ready`). */
export async function load(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 15_000 });
}

/** The captured ingest requests, with their headers resolved. */
export async function ingestRequests(page) {
  await Promise.all(page.ingests.map((e) => e.headersPromise.catch(() => {})));
  return page.ingests;
}
