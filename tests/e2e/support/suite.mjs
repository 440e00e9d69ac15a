// One collector, one static server and one Chromium per test file; a fresh browser
// context per test. The collector's /api/stats is printed when the file ends.
import { after, before } from "node:test";
import { startCollector, newProjectKey } from "./collector.mjs";
import { startStaticServer } from "./server.mjs";
import { launchBrowser, openPage } from "./browser.mjs";

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Per-test time bound, for `test(name, { timeout: TEST_TIMEOUT }, fn)`. */
export const TEST_TIMEOUT = 30_000;

export function useSuite(name) {
  const suite = { name, collector: null, server: null, browser: null, newProjectKey };

  before(async () => {
    suite.collector = await startCollector();
    suite.server = await startStaticServer();
    suite.browser = await launchBrowser();
  });

  after(async () => {
    try {
      if (suite.collector) {
        const stats = await suite.collector.stats();
        console.log(`collector /api/stats after ${name}: ${JSON.stringify(stats)}`);
      }
    } finally {
      await suite.browser?.close().catch(() => {});
      await suite.server?.stop().catch(() => {});
      await suite.collector?.stop().catch(() => {});
    }
  });

  /** A fresh browser context (own localStorage), closed when test `t` ends. */
  suite.newContext = async (t) => {
    const context = await suite.browser.newContext();
    t.after(() => context.close().catch(() => {}));
    return context;
  };

  /** A page in a fresh context of its own. */
  suite.newPage = async (t) => openPage(await suite.newContext(t));

  return suite;
}
