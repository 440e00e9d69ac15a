// Headless Chromium (the system's, never a downloaded one) with the launch arguments the
// e2e suite uses, and pages that count the ingest requests they send.
import { launchChromium } from "../scripts/chromium.mjs";

export function launchBrowser() {
  return launchChromium(["--disable-quic"]);
}

/**
 * A page in a fresh context, with `page.ingests`: every POST to /v1/runs/ingest as
 * {bytes, events} (the body as Chromium sent it), and `page.problems`: uncaught errors.
 */
export async function openPage(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  page.ingests = [];
  page.problems = [];
  page.on("pageerror", (err) => page.problems.push(String(err?.stack || err)));
  page.on("request", (req) => {
    if (req.method() !== "POST" || !req.url().endsWith("/v1/runs/ingest")) return;
    const body = req.postDataBuffer();
    let events = null;
    try {
      events = JSON.parse(body.toString("utf8")).events?.length ?? 1;
    } catch {}
    page.ingests.push({ bytes: body?.length ?? 0, events });
  });
  page.closeAll = () => context.close().catch(() => {});
  return page;
}

/** Loads a bench page and waits for its module to say it is ready. */
export async function load(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => window.__ready === true || window.__failed, null, { timeout: 30_000 });
  const failed = await page.evaluate(() => window.__failed);
  if (failed) throw new Error(`bench page ${url}: ${failed}`);
}
