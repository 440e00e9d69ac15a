// In every engine of ENGINES, through the collector's fault injection (/__faults): a run
// of 500s, a 429 with Retry-After, connections reset before the server read them. Every
// tracked message stored exactly once, in order, and stats() agreeing. The Chromium-only
// original: faults-network.test.mjs (whose offline case uses Playwright's setOffline).
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import {
  FAST,
  addFault,
  assertSdkAccount,
  assertStoredOnce,
  flushIn,
  initIn,
  isolateFaults,
  maxInFlight,
  newThreadId,
  reportsOf,
  sdkStats,
  trackIn,
  assertNothingDroppedIn,
  probedHarnessUrl,
  ingestLog,
} from "./support/delivery.mjs";

engineSuites("engines-faults", (suite) => {
  test("a run of three 500s: the batches stay queued and are retried; all 30 arrive once, in order; onError reports each retry with status 500", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    await isolateFaults(t, collector);
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(probedHarnessUrl(server));
    await initIn(page, { key, collector, ...FAST });
    await addFault(collector, { mode: "500", count: 3 });

    const tracked = await trackIn(page, { threadId: newThreadId(), label: "five-hundred", count: 30 });
    assert.equal(await flushIn(page), "flushed");
    await assertStoredOnce(collector, key, tracked);

    const ingests = await ingestLog(page);
    const stats = await sdkStats(page);
    assertSdkAccount(stats, { tracked: 30 });
    const failed = ingests.filter((r) => r.status === 500);
    assert.equal(failed.length, 3, `three requests answered 500: ${JSON.stringify(ingests.map((r) => [r.status, r.events]))}`);
    assert.equal(stats.retried, failed.reduce((sum, r) => sum + r.events, 0), "stats().retried counts the events of each failed request");
    assert.equal(stats.requests, ingests.length, "stats().requests is the fetches the page made");
    assert.equal(maxInFlight(ingests), 1, "one request in flight at a time");

    const reports = await reportsOf(page);
    const retries = reports.filter((r) => r.type === "retry");
    assert.equal(retries.length, 3, `one retry report per 500: ${JSON.stringify(reports)}`);
    for (const r of retries) {
      assert.deepEqual([r.status, r.reason], [500, "status"]);
      assert.ok(r.count > 0, "the report counts the events waiting");
      assert.match(r.message, /status 500/);
    }
    assert.equal(reports.filter((r) => r.type === "dropped").length, 0, "no dropped report");
    const server_ = await collector.stats(key);
    assert.equal(server_.faultsInjected, 3);
    assert.equal(server_.requests, ingests.length, "the collector saw every request the page made");
    await assertNothingDroppedIn(page);
  });

  test("429 with Retry-After: 1: the retry waits the second asked (a flush() meanwhile does not cut it short); all arrive once", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    await isolateFaults(t, collector);
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(probedHarnessUrl(server));
    await initIn(page, { key, collector, flushIntervalMs: 50, retryBaseMs: 50, retryMaxMs: 2_000 });
    await page.evaluate(() => (h.onReport = (r) => r.type === "retry" && setTimeout(() => lunary.flush(), 0)) && null);
    await addFault(collector, { mode: "429", count: 1, retryAfter: 1 });

    const tracked = await trackIn(page, { threadId: newThreadId(), label: "rate-limited", count: 30 });
    assert.equal(await flushIn(page), "flushed");
    await assertStoredOnce(collector, key, tracked);

    // Page-clock times: the gap is measured where the SDK waits.
    const ingests = await ingestLog(page);
    assert.equal(ingests[0].status, 429, `the first request got the 429: ${JSON.stringify(ingests.map((r) => r.status))}`);
    assert.ok(ingests.length >= 2);
    const gap = ingests[1].start - ingests[0].answered;
    t.diagnostic(`${suite.engine}: retry ${gap} ms after the 429`);
    assert.ok(gap >= 950, `the retry came ${gap} ms after the 429 (Retry-After: 1 s)`);
    assert.ok(gap < 3_000, `…and not much later (${gap} ms)`);
    assert.ok(ingests.slice(1).every((r) => r.status === 200), "every later request was accepted");

    const reports = await reportsOf(page);
    assert.equal(reports.length, 1, `one report: ${JSON.stringify(reports)}`);
    assert.deepEqual([reports[0].type, reports[0].status], ["retry", 429]);
    assert.match(reports[0].message, /retrying in 1000 ms/, "the wait is the server's: Retry-After was readable (the collector exposes it)");
    const stats = await sdkStats(page);
    assertSdkAccount(stats, { tracked: 30 });
    assert.equal(stats.retried, ingests[0].events);
    await assertNothingDroppedIn(page);
  });

  test("connections reset before the server read them (drop-before ×2): retried as network errors; all arrive once, in order", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    await isolateFaults(t, collector);
    const key = suite.newProjectKey();
    const page = await suite.newPage(t);
    await page.load(probedHarnessUrl(server));
    await initIn(page, { key, collector, ...FAST });
    await addFault(collector, { mode: "drop-before", count: 2 });

    const tracked = await trackIn(page, { threadId: newThreadId(), label: "reset", count: 30 });
    assert.equal(await flushIn(page), "flushed");
    await assertStoredOnce(collector, key, tracked);

    const server_ = await collector.stats(key);
    assert.equal(server_.faultsInjected, 2, "both resets happened");
    const ingests = await ingestLog(page);
    const reports = await reportsOf(page);
    const retries = reports.filter((r) => r.type === "retry");
    t.diagnostic(
      `${suite.engine}: ${ingests.length} fetches (${ingests.filter((r) => r.error).length} failed: ${JSON.stringify([...new Set(ingests.filter((r) => r.error).map((r) => r.error.split("\n")[0]))])}), ${retries.length} retry reports, collector saw ${server_.requests} requests`,
    );
    // A browser may itself re-send a POST once when a reused connection dies before any
    // answer, so two resets make one or two failed fetches.
    assert.ok(retries.length >= 1 && retries.length <= 2, `one or two retry reports: ${JSON.stringify(reports)}`);
    for (const r of retries) {
      assert.equal(r.reason, "network");
      assert.equal("status" in r, false, "a network error has no status");
    }
    assert.equal(ingests.filter((r) => r.error).length, retries.length, "one retry report per failed fetch");
    const stats = await sdkStats(page);
    assertSdkAccount(stats, { tracked: 30 });
    assert.ok(stats.retried > 0, "stats().retried > 0");
    assert.equal(maxInFlight(ingests), 1, "one request in flight at a time");
    await assertNothingDroppedIn(page);
  });
});
