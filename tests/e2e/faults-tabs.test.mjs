// In every engine of ENGINES: two tabs of one site tracking for one project at once while
// the server fails; one tab goes away with its events queued (a renderer crash: no
// pagehide at all; or a close), and a live tab takes its persisted queue over (under the
// gone tab's Web Lock): every message of both tabs is stored exactly once.
//
// The crash is `page.crash()` (support/engines.mjs): CDP Page.crash in Chromium; in
// Firefox and WebKit, where no driver can crash a renderer, the equivalent: the tab's
// pagehide and visibilitychange stopped before the page's listeners (the SDK's) see them,
// then the tab closed, so it goes without any of the SDK's work at leaving.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineSuites, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import {
  FAST,
  addFault,
  assertNothingDropped,
  assertSdkAccount,
  assertStoredOnce,
  clearFaults,
  flushIn,
  initIn,
  isolateFaults,
  newThreadId,
  harnessUrl,
  queueKeys,
  sdkStats,
  sleep,
  trackIn,
  until,
  waitPersisted,
} from "./support/delivery.mjs";

/** Tracks `count` messages in `chunk`-sized calls `gapMs` apart; answers what was tracked. */
async function trackPaced(page, { threadId, label, from = 0, count, chunk = 10, gapMs = 30 }) {
  const out = [];
  for (let n = from; n < from + count; n += chunk) {
    out.push(...(await trackIn(page, { threadId, label, from: n, count: Math.min(chunk, from + count - n) })));
    await sleep(gapMs);
  }
  return out;
}

/**
 * "The user comes back to the tab": a visibilitychange while the page is visible, the
 * event on which a live tab takes over the queues of tabs that went away meanwhile
 * (a headless or driven tab is never hidden by itself).
 */
const backInView = (page) => page.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));

engineSuites("faults-tabs", (suite) => {
  /**
   * Two tabs of the harness in one context (one profile), both initialised for `key`. Both
   * visible throughout, as in Chromium: in Firefox and WebKit the second is a window of its
   * own (WebKitGTK hides a tab whenever the driver switches to another one).
   */
  async function twoTabs(t, key) {
    const { collector, server } = suite;
    const context = await suite.newContext(t);
    const a = await context.newPage();
    const b = await context.newPage({ window: true });
    await a.load(harnessUrl(server));
    await b.load(harnessUrl(server));
    await initIn(a, { key, collector, ...FAST });
    await initIn(b, { key, collector, ...FAST });
    return { context, a, b };
  }

  test("two tabs track 100 messages each while the server fails; one crashes with its 100 queued; the other takes them over: all 200 arrive once", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector } = suite;
    await isolateFaults(t, collector);
    const key = suite.newProjectKey();
    const { a, b } = await twoTabs(t, key);
    await addFault(collector, { mode: "500", count: 100_000 });

    const threadA = newThreadId();
    const threadB = newThreadId();
    // Both at once: all of A's, and the first 60 of B's.
    const [trackedA, firstB] = await Promise.all([
      trackPaced(a, { threadId: threadA, label: "A", count: 100 }),
      trackPaced(b, { threadId: threadB, label: "B", count: 60, chunk: 6 }),
    ]);
    await waitPersisted(b, key, 160, { timeoutMs: 3_000 });
    const statsA = await sdkStats(a);
    assert.equal(statsA.delivered, 0, "nothing got through the 500s");
    assert.equal(statsA.tracked, 100);
    assert.equal(statsA.queued, 100, `A's 100 are queued: ${JSON.stringify(statsA)}`);

    // A goes as a crashed renderer: no pagehide, no keepalive; its Web Lock is released.
    await a.crash();
    const injected = (await collector.stats(key)).faultsInjected;

    // B carries on tracking, the server recovers, B comes back into view and takes over.
    const restB = await trackPaced(b, { threadId: threadB, label: "B", from: 60, count: 40 });
    await clearFaults(collector);
    await backInView(b);
    await until(async () => (await sdkStats(b)).restored >= 100, "B taking over A's 100 queued messages", { timeoutMs: 5_000 });
    assert.equal(await flushIn(b), "flushed");

    await assertStoredOnce(collector, key, [...trackedA, ...firstB, ...restB]);
    assertSdkAccount(await sdkStats(b), { tracked: 100, restored: 100 });
    assert.ok(injected > 0, "the server failed requests before the crash");
    await until(async () => (await queueKeys(b, key)).every((k) => k.events === 0), "no queue left in storage", { timeoutMs: 3_000 });
    await assertNothingDropped(b);
  });

  test("a tab closed with 100 messages queued while the server fails: exactly one of the other tabs takes them over; all arrive once", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector, server } = suite;
    await isolateFaults(t, collector);
    const key = suite.newProjectKey();
    const { context, a, b } = await twoTabs(t, key);
    await addFault(collector, { mode: "500", count: 100_000 });

    const threadA = newThreadId();
    const threadB = newThreadId();
    const [trackedA, firstB] = await Promise.all([
      trackPaced(a, { threadId: threadA, label: "A", count: 100 }),
      trackPaced(b, { threadId: threadB, label: "B", count: 50, chunk: 5 }),
    ]);
    await waitPersisted(b, key, 150, { timeoutMs: 3_000 });
    await a.close();
    // A had heard the 500s: nothing leaves at its pagehide, its queue stays persisted.
    const restB = await trackPaced(b, { threadId: threadB, label: "B", from: 50, count: 50, chunk: 5 });
    await clearFaults(collector);

    // Two candidates at once: B coming back into view, and a new tab C starting.
    const c = await context.newPage({ window: true });
    await c.load(harnessUrl(server));
    await Promise.all([backInView(b), initIn(c, { key, collector, ...FAST })]);
    const restoredBoth = async () => (await sdkStats(b)).restored + (await sdkStats(c)).restored;
    await until(async () => (await restoredBoth()) >= 100, "A's 100 queued messages taken over", { timeoutMs: 3_000 }).catch(() => {});
    const taken = await restoredBoth();
    const server_ = await collector.stats(key);
    assert.equal(
      taken,
      100,
      `A's 100 queued messages taken over by B or C; got ${taken} (collector: ${server_.stored} stored, ${server_.faultsInjected} requests failed by fault)`,
    );
    assert.equal(await flushIn(b), "flushed");
    assert.equal(await flushIn(c), "flushed");
    await sleep(200);

    await assertStoredOnce(collector, key, [...trackedA, ...firstB, ...restB]);
    const [sb, sc] = [await sdkStats(b), await sdkStats(c)];
    assert.equal(sb.restored + sc.restored, 100, `taken over once, not by both: B restored ${sb.restored}, C restored ${sc.restored}`);
    assertSdkAccount(sb, { tracked: 100, restored: sb.restored });
    assertSdkAccount(sc, { tracked: 0, restored: sc.restored });
    await assertNothingDropped(b);
    await assertNothingDropped(c);
  });
});
