// Scenario 5: storage that throws. Before the package is imported, the page makes
// `window.localStorage` throw a SecurityError on access (as with cookies blocked) and
// `Storage.prototype.setItem` throw a QuotaExceededError. Tracking must still work, with no
// exception reaching the page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useSuite, TEST_TIMEOUT } from "./support/suite.mjs";
import { testPage } from "./support/server.mjs";
import { load } from "./support/browser.mjs";
import { pkgVersion } from "./support/paths.mjs";
import { assertNoPageProblems, assertReadmeEvents, runReadmeExample } from "./support/scenarios.mjs";

const suite = useSuite("storage-blocked");

const BLOCK_STORAGE = `
Object.defineProperty(window, "localStorage", {
  configurable: true,
  get() { throw new DOMException("The operation is insecure.", "SecurityError"); },
});
Storage.prototype.setItem = function () {
  throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
};
`;

test("with localStorage throwing SecurityError and setItem throwing QuotaExceededError, the README example still arrives", { timeout: TEST_TIMEOUT }, async (t) => {
  const { collector, server } = suite;
  const key = suite.newProjectKey();
  const page = await suite.newPage(t);
  await load(page, server.addPage(testPage({ before: BLOCK_STORAGE }), "storage-blocked"));

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

  const events = await collector.waitForEvents(key, 3);
  assertReadmeEvents(events, { ids, runtime: `lunary-wasm/${pkgVersion()}` });

  // identify again after the fallback: still in memory, still on the events.
  const again = await page.evaluate(async () => {
    lunary.identify("user456", { name: "Jane" });
    const thread = lunary.openThread();
    const runId = thread.trackMessage({ role: "user", content: "still here" });
    await lunary.flush();
    return { userId: lunary.getUserId(), runId };
  });
  assert.equal(again.userId, "user456");
  const all = await collector.waitForEvents(key, 4);
  assert.equal(all.length, 4);
  assert.equal(all[3].runId, again.runId);
  assert.equal(all[3].userId, "user456");
  assert.deepEqual(all[3].userProps, { name: "Jane" });

  assertNoPageProblems(page);
  // Each fallback is announced, once: the second identify (another write) adds no warning.
  const storageWarnings = page.problems.warnings.filter((w) => /Storage is unusable/.test(w));
  t.diagnostic(`storage warnings: ${JSON.stringify(storageWarnings)}`);
  assert.equal(storageWarnings.filter((w) => /localStorage is unusable/.test(w)).length, 1, "one warning for localStorage");
  assert.ok(storageWarnings.length <= 2, "no repeated storage warnings");
});
