// Delivery through a bad network and a misbehaving server (the collector's /__faults):
// offline, a run of 500s, a 429 with Retry-After, a hanging request, connections reset
// before the server read them. Every tracked message must be stored exactly once, in
// order, and the SDK's stats() must agree (nothing dropped, delivered == tracked).
import { test } from "node:test";
import assert from "node:assert/strict";
import { useSuite, TEST_TIMEOUT } from "./support/suite.mjs";
import {
  FAST,
  addFault,
  assertNothingDropped,
  assertSdkAccount,
  assertStoredOnce,
  flushIn,
  initIn,
  isolateFaults,
  loadHarness,
  maxInFlight,
  newThreadId,
  recordIngests,
  reportsOf,
  sdkStats,
  sleep,
  trackIn,
  until,
  waitPersisted,
  newFaultPage,
  openFaultPage,
} from "./support/delivery.mjs";

const suite = useSuite("faults-network");

test("offline: 50 messages wait (nothing sent, flush() pending, queue persisted), then all arrive once, in order, when back online", { timeout: TEST_TIMEOUT }, async (t) => {
  const { collector, server } = suite;
  await isolateFaults(t, collector);
  const key = suite.newProjectKey();
  const context = await suite.newContext(t);
  const page = await openFaultPage(context);
  const ingests = recordIngests(page);
  await loadHarness(page, server);
  await initIn(page, { key, collector, ...FAST });

  await context.setOffline(true);
  assert.equal(await page.evaluate(() => navigator.onLine), false, "the page sees itself offline");
  const threadId = newThreadId();
  const tracked = await trackIn(page, { threadId, label: "offline", count: 50 });
  await page.evaluate(() => h.startFlush());

  // While offline: the queue is persisted (within about a second), nothing is sent.
  const persisted = await waitPersisted(page, key, 50, { timeoutMs: 3_000 });
  assert.equal(persisted.length, 1, "one queue, this tab's");
  await sleep(200);
  assert.equal(ingests.length, 0, "no ingest request was even attempted while offline");
  assert.equal((await collector.events(key)).length, 0, "the collector has nothing for the project");
  const offline = await sdkStats(page);
  assert.equal(offline.requests, 0, "stats().requests while offline");
  assert.equal(offline.queued, 50, "stats().queued while offline");
  assert.equal(await page.evaluate(() => h.flushed), false, "flush() waits while offline");

  await context.setOffline(false);
  await page.waitForFunction(() => h.flushed === true, null, { timeout: 10_000 });
  await assertStoredOnce(collector, key, tracked);
  const stats = await sdkStats(page);
  assertSdkAccount(stats, { tracked: 50 });
  assert.equal(stats.retried, 0, "nothing failed: nothing was sent while offline");
  assert.deepEqual(await reportsOf(page), [], "no onError report");
  assertNothingDropped(page);
});

test("a run of three 500s: the batches stay queued and are retried; all 30 arrive once, in order; onError reports each retry with status 500", { timeout: TEST_TIMEOUT }, async (t) => {
  const { collector, server } = suite;
  await isolateFaults(t, collector);
  const key = suite.newProjectKey();
  const page = await newFaultPage(suite, t);
  const ingests = recordIngests(page);
  await loadHarness(page, server);
  await initIn(page, { key, collector, ...FAST });
  await addFault(collector, { mode: "500", count: 3 });

  const threadId = newThreadId();
  const tracked = await trackIn(page, { threadId, label: "five-hundred", count: 30 });
  assert.equal(await flushIn(page), "flushed");
  await assertStoredOnce(collector, key, tracked);

  const stats = await sdkStats(page);
  assertSdkAccount(stats, { tracked: 30 });
  const failed = ingests.filter((r) => r.status === 500);
  assert.equal(failed.length, 3, `three requests answered 500: ${JSON.stringify(ingests)}`);
  assert.ok(stats.retried > 0, "stats().retried > 0");
  assert.equal(stats.retried, failed.reduce((sum, r) => sum + r.events, 0), "stats().retried counts the events of each failed request");
  assert.equal(stats.requests, ingests.length, "stats().requests is the requests the page made");
  assert.equal(maxInFlight(ingests), 1, "one request in flight at a time");

  const reports = await reportsOf(page);
  const retries = reports.filter((r) => r.type === "retry");
  assert.equal(retries.length, 3, `one retry report per 500: ${JSON.stringify(reports)}`);
  for (const r of retries) {
    assert.equal(r.status, 500);
    assert.equal(r.reason, "status");
    assert.ok(r.count > 0, "the report counts the events waiting");
    assert.match(r.message, /status 500/);
  }
  assert.equal(reports.filter((r) => r.type === "dropped").length, 0, "no dropped report");
  const server_ = await collector.stats(key);
  assert.equal(server_.faultsInjected, 3);
  assert.equal(server_.requests, ingests.length, "the collector saw every request the page made");
  assertNothingDropped(page);
});

test("429 with Retry-After: 1: the retry waits at least the second asked (a flush() meanwhile does not cut it short); all arrive once", { timeout: TEST_TIMEOUT }, async (t) => {
  const { collector, server } = suite;
  await isolateFaults(t, collector);
  const key = suite.newProjectKey();
  const page = await newFaultPage(suite, t);
  const ingests = recordIngests(page);
  await loadHarness(page, server);
  // retryMaxMs ≥ the server's wait: a Retry-After is capped at max(retryMaxMs, the rate-limit wait).
  await initIn(page, { key, collector, flushIntervalMs: 50, retryBaseMs: 50, retryMaxMs: 2_000 });
  // Each retry report triggers a flush(): it must keep to the wait the server asked for.
  await page.evaluate(() => (h.onReport = (r) => r.type === "retry" && setTimeout(() => lunary.flush(), 0)));
  await addFault(collector, { mode: "429", count: 1, retryAfter: 1 });

  const threadId = newThreadId();
  const tracked = await trackIn(page, { threadId, label: "rate-limited", count: 30 });
  assert.equal(await flushIn(page), "flushed");
  await assertStoredOnce(collector, key, tracked);

  assert.equal(ingests[0].status, 429, `the first request got the 429: ${JSON.stringify(ingests)}`);
  assert.ok(ingests.length >= 2);
  const gap = ingests[1].start - ingests[0].answered;
  assert.ok(gap >= 800, `the retry came ${gap} ms after the 429 (Retry-After: 1 s; the page waits 1000 ms from the answer, the margin is for event delivery to the test)`);
  assert.ok(gap < 3_000, `…and not much later (${gap} ms)`);
  assert.ok(ingests.slice(1).every((r) => r.status === 200), "every later request was accepted");

  const reports = await reportsOf(page);
  assert.equal(reports.length, 1, `one report: ${JSON.stringify(reports)}`);
  assert.equal(reports[0].type, "retry");
  assert.equal(reports[0].status, 429);
  assert.match(reports[0].message, /retrying in 1000 ms/, "the wait is the server's");
  const stats = await sdkStats(page);
  assertSdkAccount(stats, { tracked: 30 });
  assert.equal(stats.retried, ingests[0].events);
  assertNothingDropped(page);
});

test("a request that hangs 3 s: nothing else is sent meanwhile, events tracked during the hang follow it; all arrive once, in order", { timeout: TEST_TIMEOUT }, async (t) => {
  const { collector, server } = suite;
  await isolateFaults(t, collector);
  const key = suite.newProjectKey();
  const page = await newFaultPage(suite, t);
  const ingests = recordIngests(page);
  await loadHarness(page, server);
  await initIn(page, { key, collector, ...FAST });
  await addFault(collector, { mode: "hang", count: 1, hangMs: 3_000 });

  const threadId = newThreadId();
  const tracked = await trackIn(page, { threadId, label: "hang", count: 10 });
  await until(() => ingests.length === 1, "the first request to leave");
  // While it hangs: more events, in several batches' worth, and a flush.
  for (let i = 0; i < 4; i++) {
    tracked.push(...(await trackIn(page, { threadId, label: "hang", from: 10 + i * 15, count: 15 })));
    await sleep(200);
  }
  assert.equal(ingests.length, 1, "no second request while the first hangs");
  assert.equal(ingests[0].end, null, "the first is still in flight");
  assert.equal(await flushIn(page), "flushed");
  await assertStoredOnce(collector, key, tracked);

  assert.ok(ingests[0].end - ingests[0].start >= 2_800, `the first request hung (${ingests[0].end - ingests[0].start} ms)`);
  assert.ok(ingests.length >= 2, "later events followed in later requests");
  assert.ok(ingests[1].start >= ingests[0].answered, "the next request left only after the hung one was answered");
  assert.equal(maxInFlight(ingests), 1, "one request in flight at a time");
  assert.ok(ingests.every((r) => r.status === 200));
  const stats = await sdkStats(page);
  assertSdkAccount(stats, { tracked: 70 });
  assert.equal(stats.retried, 0, "a slow answer is not a failure");
  assert.deepEqual(await reportsOf(page), []);
  assertNothingDropped(page);
});

test("connections reset before the server read them (drop-before ×2): retried as network errors; all arrive once, in order", { timeout: TEST_TIMEOUT }, async (t) => {
  const { collector, server } = suite;
  await isolateFaults(t, collector);
  const key = suite.newProjectKey();
  const page = await newFaultPage(suite, t);
  const ingests = recordIngests(page);
  await loadHarness(page, server);
  await initIn(page, { key, collector, ...FAST });
  await addFault(collector, { mode: "drop-before", count: 2 });

  const threadId = newThreadId();
  const tracked = await trackIn(page, { threadId, label: "reset", count: 30 });
  assert.equal(await flushIn(page), "flushed");
  await assertStoredOnce(collector, key, tracked);

  const server_ = await collector.stats(key);
  assert.equal(server_.faultsInjected, 2, "both resets happened");
  const reports = await reportsOf(page);
  const retries = reports.filter((r) => r.type === "retry");
  // Chromium itself re-sends a POST once when a reused connection dies before any answer,
  // so two resets make one or two failed fetches.
  assert.ok(retries.length >= 1 && retries.length <= 2, `one or two retry reports: ${JSON.stringify(reports)}`);
  for (const r of retries) {
    assert.equal(r.reason, "network");
    assert.equal("status" in r, false, "a network error has no status");
  }
  const stats = await sdkStats(page);
  assertSdkAccount(stats, { tracked: 30 });
  assert.ok(stats.retried > 0, "stats().retried > 0");
  assert.equal(maxInFlight(ingests), 1, "one request in flight at a time");
  assertNothingDropped(page);
});
