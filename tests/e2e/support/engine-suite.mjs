// One collector and one static server per test file; per engine of ENGINES, a `describe`
// block named after the engine that launches it once (one browser at a time) and closes
// it after; a fresh context (a fresh profile) per test. The collector's /api/stats is
// printed when the file ends.
import { after, before, describe } from "node:test";
import assert from "node:assert/strict";
import { startCollector, newProjectKey } from "./collector.mjs";
import { startStaticServer } from "./server.mjs";
import { ENGINES, launchEngine } from "./engines.mjs";

/** Per-test time bound. */
export const TEST_TIMEOUT = 45_000;
/** Per-engine bound of a whole file (launch, every test, close). */
export const ENGINE_TIMEOUT = 240_000;

/**
 * Runs `body(suite)` once per engine, inside `describe(engine)`. `suite` has `engine`
 * (the name), `collector`, `server`, `newProjectKey()`, `newContext(t, options)` and
 * `newPage(t, options)` (closed when test `t` ends; `options` as engines.mjs's
 * `newContext`). `timeout` bounds each engine's whole run (default ENGINE_TIMEOUT), for
 * files whose tests are long by design (the fuzz).
 */
export function engineSuites(fileName, body, { timeout = ENGINE_TIMEOUT } = {}) {
  const shared = { collector: null, server: null };
  before(async () => {
    shared.collector = await startCollector();
    shared.server = await startStaticServer();
  });
  after(async () => {
    try {
      if (shared.collector) console.log(`collector /api/stats after ${fileName} (${ENGINES.join(", ")}): ${JSON.stringify(await shared.collector.stats())}`);
    } finally {
      await shared.server?.stop().catch(() => {});
      await shared.collector?.stop().catch(() => {});
    }
  });

  for (const name of ENGINES) {
    describe(name, { timeout }, () => {
      let engine = null;
      const suite = {
        engine: name,
        get collector() {
          return shared.collector;
        },
        get server() {
          return shared.server;
        },
        newProjectKey,
        async newContext(t, options) {
          const context = await engine.newContext(options);
          t.after(() => context.close().catch(() => {}));
          return context;
        },
        async newPage(t, options) {
          return (await suite.newContext(t, options)).newPage();
        },
      };
      before(async () => {
        engine = await launchEngine(name);
      });
      after(async () => {
        await engine?.close();
      });
      body(suite);
    });
  }
}

/** No exception reached the page and nothing was logged as an error (across its reloads). */
export async function assertNoProblems(page, { allowConsoleErrors = false } = {}) {
  const problems = await page.problems();
  assert.deepEqual(problems.pageErrors, [], `${page.engine}: no uncaught error or rejection in the page`);
  if (!allowConsoleErrors) assert.deepEqual(problems.consoleErrors, [], `${page.engine}: no console error in the page`);
  return problems;
}
