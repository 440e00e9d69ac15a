// Scenario 5, in every engine of ENGINES: storage that throws. Before the package is
// imported, the page makes `window.localStorage` throw a SecurityError on access (as with
// cookies blocked) and `Storage.prototype.setItem` throw a QuotaExceededError (so
// sessionStorage cannot be written either). Tracking must still work, in memory, with no
// exception reaching the page and each fallback announced once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites, assertNoProblems, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import { probedPage } from "./support/probe.mjs";
import { pkgVersion } from "./support/paths.mjs";
import { assertReadmeEvents, runReadmeExample } from "./support/scenarios.mjs";

const BLOCK_STORAGE = `
Object.defineProperty(window, "localStorage", {
  configurable: true,
  get() { throw new DOMException("The operation is insecure.", "SecurityError"); },
});
Storage.prototype.setItem = function () {
  throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
};
`;

engineSuites("storage-blocked", (suite) => {
  test("with localStorage throwing SecurityError and setItem throwing QuotaExceededError, the README example still arrives", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(server.addPage(probedPage({ before: BLOCK_STORAGE }), "storage-blocked"));

    // The sabotage is in place, as the SDK sees it.
    const probe = await page.evaluate(() => {
      const result = {};
      try {
        void window.localStorage;
        result.local = "readable";
      } catch (e) {
        result.local = e.name;
      }
      try {
        sessionStorage.setItem("probe", "1");
        result.sessionSet = "ok";
      } catch (e) {
        result.sessionSet = e.name;
      }
      return result;
    });
    assert.deepEqual(probe, { local: "SecurityError", sessionSet: "QuotaExceededError" });

    const ids = await runReadmeExample(page, { key, apiUrl: collector.url });
    assert.equal(ids.userId, "user123", "getUserId() works within the page");
    const storage = await page.evaluate(() => lunary.stats().storage);
    t.diagnostic(`${suite.engine}: stats().storage = ${storage}`);
    assert.equal(storage, "memory", "both storages unusable: memory");
    assertReadmeEvents(await collector.waitForEvents(key, 3), { ids, runtime: `lunary-wasm/${pkgVersion()}` });

    // identify again after the fallback: still in memory, still on the events.
    const again = await page.evaluate(async () => {
      lunary.identify("user456", { name: "Jane" });
      const runId = lunary.openThread().trackMessage({ role: "user", content: "still here" });
      await lunary.flush();
      return { userId: lunary.getUserId() ?? null, runId };
    });
    assert.equal(again.userId, "user456");
    const all = await collector.waitForEvents(key, 4);
    assert.equal(all.length, 4);
    assert.deepEqual([all[3].runId, all[3].userId, all[3].userProps], [again.runId, "user456", { name: "Jane" }]);

    // Each fallback is announced, once: the second identify (another write) adds no warning.
    const problems = await assertNoProblems(page);
    const storageWarnings = problems.warnings.filter((w) => /Storage is unusable/.test(w));
    t.diagnostic(`${suite.engine}: storage warnings: ${JSON.stringify(storageWarnings)}`);
    assert.equal(storageWarnings.filter((w) => /localStorage is unusable/.test(w)).length, 1, "one warning for localStorage");
    assert.ok(storageWarnings.length <= 2, "no repeated storage warnings");
  });
});
