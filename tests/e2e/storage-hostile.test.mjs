// Storage broken in the ways real pages break it, set up by a classic script that runs
// before the package loads: `localStorage` (and `sessionStorage`) missing, storage filled
// to its quota by the page, corrupt or foreign records under the SDK's own keys, a quota
// that runs out in the middle of the session, and `Storage.prototype` overrides that
// answer garbage. Each time the README example must be stored as usual, nothing may throw
// into the page, and the identified user must stay known for the page's life. The file
// ends with one line per engine of ENGINES: `storage faults survived: N of M in <engine> (…)`.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { engineSuites, assertNoProblems, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import { probedPage } from "./support/probe.mjs";
import { pkgVersion } from "./support/paths.mjs";
import { assertReadmeEvents, runReadmeExample } from "./support/scenarios.mjs";
import { addFault, clearFaults, isolateFaults, sleep, until } from "./support/delivery.mjs";
const JOHN = { name: "John", email: "john@example.org" };

engineSuites("storage-hostile", (suite) => {
  // --- the running count ---------------------------------------------------------------

  const cases = [];
  const survived = [];

  /**
   * A storage fault case: a test that counts as survived once all its assertions passed
   * (listed by its name up to the first " (" or ": ").
   */
  function faultCase(name, options, fn) {
    const short = name.split(/ \(|: /)[0];
    cases.push(short);
    test(name, { timeout: TEST_TIMEOUT, ...options }, async (t) => {
      await fn(t);
      survived.push(short);
    });
  }

  after(() => {
    const failed = cases.filter((name) => !survived.includes(name));
    console.log(
      `storage faults survived: ${survived.length} of ${cases.length} in ${suite.engine} (${survived.join("; ")})` +
        (failed.length ? ` — not survived: ${failed.join("; ")}` : ""),
    );
  });

  // --- shared steps --------------------------------------------------------------------

  /**
   * Runs the README example in `page` and checks what the collector stored for it (among
   * any other events of `key`, e.g. ones taken over from a gone tab); then tracks one more
   * message without identifying again and checks it still names the user: the identity is
   * held in memory whatever storage did. Answers the ids and the SDK's stats().
   */
  async function readmeStoredAndUserKept(page, key) {
    const { collector } = suite;
    const ids = await runReadmeExample(page, { key, apiUrl: collector.url });
    assert.equal(ids.userId, "user123", "getUserId() after identify");
    const mine = (events) => events.filter((e) => e.runId === ids.q || e.runId === ids.a);
    await until(async () => mine(await collector.events(key)).length >= 3, "the README example to be stored");
    assertReadmeEvents(mine(await collector.events(key)), { ids, runtime: `lunary-wasm/${pkgVersion()}` });

    const later = await page.evaluate(async () => {
      const runId = lunary.openThread({ tags: ["later"] }).trackMessage({ role: "user", content: "later on" });
      await lunary.flush();
      return { runId, userId: lunary.getUserId() };
    });
    assert.equal(later.userId, "user123", "the user is still known in memory");
    await until(async () => (await collector.events(key)).some((e) => e.runId === later.runId), "the later message");
    const stored = (await collector.events(key)).filter((e) => e.runId === later.runId);
    assert.equal(stored.length, 1, "the later message stored once");
    assert.equal(stored[0].userId, "user123", "a later event still carries the identified user");
    assert.deepEqual(stored[0].userProps, JOHN);
    return { ids, stats: await page.evaluate(() => lunary.stats()) };
  }

  const storageWarnings = async (page) => (await page.problems()).warnings.filter((w) => /unusable|discarded/.test(w));

  /** A page of its own (fresh context) with `before` run ahead of the package. */
  async function hostilePage(t, before, name) {
    const page = await suite.newPage(t);
    await page.load(suite.server.addPage(probedPage({ before }), name));
    return page;
  }

  // --- a. storage missing ----------------------------------------------------------------

  faultCase("a1 localStorage missing (window.localStorage undefined)", {}, async (t) => {
    const key = suite.newProjectKey();
    const page = await hostilePage(
      t,
      `Object.defineProperty(window, "localStorage", { configurable: true, value: undefined });`,
      "no-localstorage",
    );
    assert.equal(await page.evaluate(() => typeof window.localStorage), "undefined", "the sabotage is in place");
    const { stats } = await readmeStoredAndUserKept(page, key);
    assert.equal(stats.storage, "sessionStorage", "fell back to sessionStorage");
    assert.equal(stats.storageFallbacks, 1);
    assert.equal(stats.dropped.total, 0);
    await assertNoProblems(page);
    assert.deepEqual((await storageWarnings(page)).map((w) => /localStorage is unusable/.test(w)), [true], "one warning, for localStorage");

    // sessionStorage lives as long as the tab: a reload keeps the user.
    await page.reload();
    const again = await page.evaluate(
      ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl });
        return lunary.getUserId();
      },
      { key, apiUrl: suite.collector.url },
    );
    assert.equal(again, "user123", "the user saved in sessionStorage survives a reload");
    await assertNoProblems(page);
  });

  faultCase("a2 localStorage and sessionStorage both missing", {}, async (t) => {
    const key = suite.newProjectKey();
    const page = await hostilePage(
      t,
      `for (const name of ["localStorage", "sessionStorage"]) Object.defineProperty(window, name, { configurable: true, value: undefined });`,
      "no-storage",
    );
    const { stats } = await readmeStoredAndUserKept(page, key);
    assert.equal(stats.storage, "memory", "fell back to memory");
    assert.equal(stats.storageFallbacks, 2);
    assert.equal(stats.dropped.total, 0);
    await assertNoProblems(page);
    assert.equal((await storageWarnings(page)).length, 2, `one warning per step: ${JSON.stringify((await storageWarnings(page)))}`);
  });

  // --- b. storage full from the start ------------------------------------------------------

  /**
   * Fills localStorage with junk under `junk:<n>` until QuotaExceededError, halving the
   * chunk down to one character (on a reload, the junk is already there). Records in
   * `window.__junk` whether the quota was hit and whether a small write still fails.
   */
  const FILL_STORAGE = `
  (() => {
    const alreadyFull = localStorage.getItem("junk:0") !== null;
    let quotaHit = false, count = 0, chars = 0;
    if (!alreadyFull) {
      const big = "0123456789abcdef".repeat(1 << 16); // 1 Mi characters
      for (let size = big.length; size >= 1; ) {
        try {
          localStorage.setItem("junk:" + count, big.slice(count % 16, count % 16 + size));
          count++;
          chars += size;
        } catch (e) {
          if (e.name !== "QuotaExceededError") throw e;
          quotaHit = true;
          size >>= 1;
        }
      }
    }
    let smallWrite;
    try {
      localStorage.setItem("lunary:probe", "1");
      localStorage.removeItem("lunary:probe");
      smallWrite = "ok";
    } catch (e) {
      smallWrite = e.name;
    }
    window.__junk = { alreadyFull, quotaHit, count, chars, smallWrite };
  })();
  `;

  /** The junk as it is now: every key with its length and a sampled checksum. */
  const junkSnapshot = (page) =>
    page.evaluate(() =>
      Object.keys(localStorage)
        .filter((k) => k.startsWith("junk:"))
        .sort()
        .map((k) => {
          const v = localStorage.getItem(k);
          let sum = 0;
          for (let i = 0; i < v.length; i += 97) sum = (sum * 31 + v.charCodeAt(i)) | 0;
          return [k, v.length, sum, v.slice(0, 8), v.slice(-8)];
        }),
    );

  faultCase("b storage full from the start (localStorage filled to its quota by the page)", {}, async (t) => {
    const { collector } = suite;
    const key = suite.newProjectKey();
    const page = await hostilePage(t, FILL_STORAGE, "storage-full");
    const junk = await page.evaluate(() => window.__junk);
    t.diagnostic(`filled localStorage: ${junk.count} keys, ${junk.chars} characters`);
    assert.equal(junk.quotaHit, true, "the page really hit the quota");
    assert.equal(junk.smallWrite, "QuotaExceededError", "even a small write fails");
    const before = await junkSnapshot(page);
    assert.equal(before.length, junk.count);

    const { stats } = await readmeStoredAndUserKept(page, key);
    assert.equal(stats.storage, "sessionStorage", "the SDK moved to sessionStorage");
    assert.equal(stats.dropped.total, 0);
    assert.deepEqual(await junkSnapshot(page), before, "the page's own data is untouched");
    await assertNoProblems(page);
    assert.deepEqual((await storageWarnings(page)).map((w) => /localStorage is unusable \(QuotaExceededError\)/.test(w)), [true], "one warning");

    // A reload in the same state: tracking still works and the junk is still there.
    await page.reload();
    const reloaded = await page.evaluate(() => window.__junk);
    assert.equal(reloaded.alreadyFull, true);
    assert.equal(reloaded.smallWrite, "QuotaExceededError", "still full after the reload");
    const afterReload = await page.evaluate(
      async ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl });
        const userId = lunary.getUserId();
        lunary.identify("user123", { name: "John" });
        const runId = lunary.openThread().trackMessage({ role: "user", content: "after the reload" });
        await lunary.flush();
        return { userId, runId, stats: lunary.stats() };
      },
      { key, apiUrl: collector.url },
    );
    await until(async () => (await collector.events(key)).some((e) => e.runId === afterReload.runId), "the message after the reload");
    const [event] = (await collector.events(key)).filter((e) => e.runId === afterReload.runId);
    assert.equal(event.userId, "user123");
    assert.equal(afterReload.stats.dropped.total, 0);
    assert.deepEqual(await junkSnapshot(page), before, "the page's own data is untouched after the reload too");
    await assertNoProblems(page);
    t.diagnostic(`after the reload: getUserId() before identify = ${JSON.stringify(afterReload.userId)}, storage ${afterReload.stats.storage}`);
  });

  faultCase(
    "b2 storage full, then a reload: the user saved in the sessionStorage fallback is found again",
    {},
    async (t) => {
      const key = suite.newProjectKey();
      const page = await hostilePage(t, FILL_STORAGE, "storage-full-reload");
      await readmeStoredAndUserKept(page, key);
      const saved = await page.evaluate((key) => sessionStorage.getItem(`lunary:${key}:user`), key);
      assert.ok(saved, "the user was saved in sessionStorage");
      await page.reload();
      const userId = await page.evaluate(
        ({ key, apiUrl }) => {
          lunary.init({ appId: key, apiUrl });
          return lunary.getUserId();
        },
        { key, apiUrl: suite.collector.url },
      );
      assert.equal(userId, "user123", "the identified user survives a reload, as it does with localStorage missing (a1)");
    },
  );

  faultCase(
    "b3 storage full, server failing, then a reload: the queued events are sent by the next page",
    {},
    async (t) => {
      const { collector } = suite;
      await isolateFaults(t, collector);
      const key = suite.newProjectKey();
      const page = await hostilePage(t, FILL_STORAGE, "storage-full-queue");
      await page.evaluate(
        ({ key, apiUrl }) => lunary.init({ appId: key, apiUrl, flushIntervalMs: 50, retryBaseMs: 50, retryMaxMs: 400 }),
        { key, apiUrl: collector.url },
      );
      await addFault(collector, { mode: "500", count: 100_000 });
      const runIds = await page.evaluate(() => {
        const thread = lunary.openThread({ tags: ["full"] });
        return [0, 1, 2, 3, 4].map((n) => thread.trackMessage({ role: "user", content: "queued #" + n }));
      });
      await until(
        () => page.evaluate((key) => Object.keys(sessionStorage).some((k) => k.startsWith(`lunary:${key}:queue:`)), key),
        "the queue to be saved in sessionStorage",
      );
      await page.reload();
      await clearFaults(collector);
      const left = await page.evaluate((key) => Object.keys(sessionStorage).filter((k) => k.startsWith(`lunary:${key}:queue:`)), key);
      assert.equal(left.length, 1, "the old page's queue is still in sessionStorage");
      await page.evaluate(
        async ({ key, apiUrl }) => {
          lunary.init({ appId: key, apiUrl, flushIntervalMs: 50 });
          await lunary.flush();
        },
        { key, apiUrl: collector.url },
      );
      await sleep(2_500); // past the SDK's second look for left-behind queues (2 s after start)
      const stored = new Set((await collector.events(key)).map((e) => e.runId));
      assert.deepEqual(runIds.filter((id) => !stored.has(id)), [], "all 5 queued messages delivered by the next page");
    },
  );

  // --- c. corrupt records under the SDK's own keys ------------------------------------------
  //
  // The keys (src/browser/): `lunary:<key>:user` holds `{"userId":"…","userProps":{…}}`
  // (identity_store.rs); `lunary:<key>:queue:<tab id>` holds a header line
  // `lunary-queue/1 <ms written>` then one wire event per line (persist.rs,
  // core/persisted.rs); `lunary:<key>:optout` holds "1" while opted out (privacy.rs).

  /** A classic script that writes `records` ({suffix: value}) under `lunary:<key>:` before the package loads. */
  function writeRecords(key, records) {
    return `
  for (const [suffix, value] of ${JSON.stringify(Object.entries(records))}) localStorage.setItem("lunary:${key}:" + suffix, value);
  window.__written = ${JSON.stringify(Object.keys(records))};
  `;
  }

  const TWO_MB = 2 * 1024 * 1024;

  /** Saved-user records that are not what the SDK writes: each must be discarded with one warning. */
  const CORRUPT_USERS = {
    "non-JSON": "user123",
    "empty string": "",
    "truncated JSON": '{"userId":"user1","userProps":{"name":"Jo',
    "trailing garbage": '{"userId":"user1"} and more',
    number: "42",
    "JSON null": "null",
    "JSON true": "true",
    "JSON string": '"user1"',
    array: '["user1",{"name":"x"}]',
    "empty object": "{}",
    "userId a number": '{"userId":42}',
    "userId empty": '{"userId":""}',
    "userId null": '{"userId":null,"userProps":{"name":"x"}}',
    "userProps a string": '{"userId":"user1","userProps":"name"}',
    "userProps an array": '{"userId":"user1","userProps":[1,2]}',
    "lone surrogate garbage": "\uD800{\uDFFF",
    "2 MB of garbage": "x".repeat(TWO_MB),
    "2 MB JSON array": "[" + "0,".repeat(TWO_MB / 2) + "0]",
  };

  faultCase(`c1 corrupt saved user (${Object.keys(CORRUPT_USERS).length} kinds)`, {}, async (t) => {
    // One project key per kind, all written before the package loads; `init` with each key
    // in turn reads (and must discard) that key's record. The README example then runs on
    // the last key.
    const keys = Object.fromEntries(Object.keys(CORRUPT_USERS).map((kind) => [kind, suite.newProjectKey()]));
    const before = Object.entries(CORRUPT_USERS)
      .map(([kind, value]) => writeRecords(keys[kind], { user: value }))
      .join("\n");
    const page = await hostilePage(t, before, "corrupt-users");
    const seen = await page.evaluate(
      ({ keys, apiUrl }) =>
        Object.entries(keys).map(([kind, key]) => {
          const wasThere = localStorage.getItem(`lunary:${key}:user`) !== null;
          lunary.init({ appId: key, apiUrl });
          return { kind, wasThere, userId: lunary.getUserId(), left: localStorage.getItem(`lunary:${key}:user`) };
        }),
      { keys, apiUrl: suite.collector.url },
    );
    for (const { kind, wasThere, userId, left } of seen) {
      assert.equal(wasThere, true, `${kind}: the record was written`);
      assert.equal(userId, undefined, `${kind}: the record is not taken as a user`);
      assert.equal(left, null, `${kind}: the corrupt record is removed`);
    }
    const warnings = (await storageWarnings(page)).map((w) => w.slice(0, 200));
    assert.equal(warnings.length, seen.length, `one warning per corrupt record: ${JSON.stringify(warnings)}`);
    for (const [kind, key] of Object.entries(keys)) {
      assert.ok(
        warnings.some((w) => w.includes(`discarded an unreadable saved user under lunary:${key}:user`)),
        `${kind}: a warning names the discarded record`,
      );
    }

    const key = Object.values(keys).at(-1);
    const { stats } = await readmeStoredAndUserKept(page, key);
    assert.equal(stats.storage, "localStorage", "storage itself is fine");
    assert.equal(stats.dropped.total, 0);
    const saved = await page.evaluate((key) => JSON.parse(localStorage.getItem(`lunary:${key}:user`)), key);
    assert.deepEqual(saved, { userId: "user123", userProps: JOHN }, "the new user is saved in place of the corrupt record");
    assert.equal((await storageWarnings(page)).length, seen.length, "no further warning");
    await assertNoProblems(page);
  });

  /** Records of the right shape but odd content: taken as the user, and nothing breaks. */
  const ODD_USERS = {
    "lone surrogates in a valid record": ['{"userId":"ab\uD800cd","userProps":{"name":"\uDC00"}}', "ab\uFFFDcd"],
    "userProps nested 20,000 deep": ['{"userId":"deep","userProps":' + '{"a":'.repeat(20_000) + "1" + "}".repeat(20_000) + "}", "deep"],
  };

  // A record nested deeper than the engine's JSON.stringify can walk (Firefox: "too much
  // recursion" at about 5,000 levels; Chromium and WebKitGTK carry 20,000) cannot be read
  // back into the SDK's props: there it is discarded as unreadable, with its one warning,
  // as the corrupt records of c1 are. Either way nothing throws and tracking goes on.
  faultCase("c2 saved user of the right shape with odd content (lone surrogates, 20,000-deep props): taken (or, past the engine's JSON depth, discarded), nothing breaks", {}, async (t) => {
    const keys = Object.fromEntries(Object.keys(ODD_USERS).map((kind) => [kind, suite.newProjectKey()]));
    const before = Object.entries(ODD_USERS)
      .map(([kind, [value]]) => writeRecords(keys[kind], { user: value }))
      .join("\n");
    const page = await hostilePage(t, before, "odd-users");
    const discarded = [];
    for (const [kind, key] of Object.entries(keys)) {
      const { userId, engineCarries } = await page.evaluate(
        ({ key, apiUrl }) => {
          let engineCarries = true;
          try {
            JSON.stringify(JSON.parse(localStorage.getItem(`lunary:${key}:user`)).userProps);
          } catch {
            engineCarries = false;
          }
          lunary.init({ appId: key, apiUrl });
          return { userId: lunary.getUserId() ?? null, engineCarries };
        },
        { key, apiUrl: suite.collector.url },
      );
      t.diagnostic(`${suite.engine}: ${kind}: getUserId() ${JSON.stringify(userId)}, the engine's JSON.stringify carries the props: ${engineCarries}`);
      if (!engineCarries) {
        assert.equal(userId, null, `${kind}: a record the engine cannot stringify is not taken`);
        discarded.push(key);
        continue;
      }
      // Lone surrogates cannot cross into Rust strings: they become U+FFFD.
      assert.equal(userId, ODD_USERS[kind][1], `${kind}: getUserId()`);
    }
    assert.ok(discarded.length <= 1, "only the deep record can be past an engine's depth");
    await readmeStoredAndUserKept(page, Object.values(keys).at(-1));
    await assertNoProblems(page);
    const warnings = await storageWarnings(page);
    assert.equal(warnings.length, discarded.length, `no warning but one per record discarded: ${JSON.stringify(warnings.map((w) => w.slice(0, 160)))}`);
    for (const key of discarded) {
      assert.ok(warnings.some((w) => w.includes(`discarded an unreadable saved user under lunary:${key}:user`)), "the warning names the record");
    }
  });

  /** A thread chat event as the SDK puts it on the wire (and in its saved queue), as JSON text. */
  function wireChat({ threadId, content, timestamp, runId = randomUUID() }) {
    return {
      runId,
      content,
      line: JSON.stringify({
        event: "chat",
        type: "thread",
        parentRunId: threadId,
        timestamp,
        runtime: `lunary-wasm/${pkgVersion()}`,
        runId,
        threadTags: ["left-behind"],
        message: { role: "user", content },
      }),
    };
  }

  /** The event with its escaped lone surrogate (`\ud800`, as JSON.stringify writes it) made a raw one. */
  function withRawSurrogate(event) {
    assert.ok(event.line.includes("\\ud800"));
    return { ...event, line: event.line.replace("\\ud800", "\uD800") };
  }

  const queueRecord = (written, lines) => [`lunary-queue/1 ${written}`, ...lines].join("\n");

  faultCase("c3 corrupt saved queues: unreadable records and lines discarded and counted, the valid events of a gone tab's queue delivered", {}, async (t) => {
    const { collector } = suite;
    const key = suite.newProjectKey();
    const threadId = randomUUID();
    const written = Date.now() - 60_000;
    let n = 0;
    const valid = () => wireChat({ threadId, content: `left behind #${n}`, timestamp: written - 1_000 + n++ });
    const [v0, v1, v2, v3, v4, vHuge] = [valid(), valid(), valid(), valid(), valid(), valid()];
    // A valid event whose content holds a raw lone surrogate (it arrives as U+FFFD). (The
    // escaped form `\ud800` that JSON.stringify writes is another matter: see c4.)
    const vSurrogate = withRawSurrogate(wireChat({ threadId, content: `left behind #${n++} \uD800`, timestamp: written - 1_000 + n }));

    // Records that are not this format at all: each is discarded whole (one each).
    const unreadable = {
      "queue:gone-garbage": "garbage",
      "queue:gone-empty": "",
      "queue:gone-number": "42",
      "queue:gone-array": "[1,2,3]",
      "queue:gone-null": "null",
      "queue:gone-json-string": '"lunary-queue/1 5"',
      "queue:gone-object": '{"events":[]}',
      "queue:gone-version-2": [`lunary-queue/2 ${written}`, valid().line].join("\n"),
      "queue:gone-no-header": valid().line,
      "queue:gone-bad-time": [`lunary-queue/1 yesterday`, valid().line].join("\n"),
      "queue:gone-crlf": [`lunary-queue/1 ${written}`, valid().line].join("\r\n"),
      "queue:gone-lone-surrogate": "\uD800lunary-queue/1 5",
    };
    // A well-formed queue of a gone tab, with bad lines among the events: only those lines go.
    const badLines = [
      valid().line.slice(0, 60), // truncated
      "[1]",
      "42",
      "null",
      '"chat"',
      "{}",
      '{"event":5}',
      '{"type":"thread"}',
      "{not json",
      "\uDC00",
    ];
    const goneTab = randomUUID();
    const mixed = queueRecord(written, [v0.line, badLines[0], v1.line, ...badLines.slice(1), v2.line, vSurrogate.line]);
    // A queue with one 2 MB line of garbage between two events.
    const huge = queueRecord(written, [v3.line, "x".repeat(TWO_MB), vHuge.line]);
    // A queue with only its header, and one with blank lines around an event.
    const records = {
      ...unreadable,
      [`queue:${goneTab}`]: mixed,
      "queue:gone-huge": huge,
      "queue:gone-header-only": `lunary-queue/1 ${written}`,
      "queue:gone-blank-lines": ["", `lunary-queue/1 ${written}`, "", v4.line, "", ""].join("\n").slice(1),
    };
    const expectedDiscarded = Object.keys(unreadable).length + badLines.length + 1;
    const delivered = [v0, v1, v2, vSurrogate, v3, vHuge, v4];

    const page = await hostilePage(t, writeRecords(key, records), "corrupt-queues");
    const { ids, stats } = await readmeStoredAndUserKept(page, key);
    const all = await collector.events(key);
    const byRun = new Map(all.map((e) => [e.runId, e]));
    for (const v of delivered) {
      assert.ok(byRun.has(v.runId), `the valid saved event "${v.content}" is delivered`);
    }
    assert.equal(byRun.get(vSurrogate.runId).message.content, vSurrogate.content.replace("\uD800", "\uFFFD"), "a lone surrogate arrives as U+FFFD");
    assert.equal(byRun.get(v0.runId).timestamp, JSON.parse(v0.line).timestamp, "with its original timestamp");
    const readme = all.filter((e) => e.runId === ids.q || e.runId === ids.a);
    assert.ok(all.indexOf(byRun.get(v0.runId)) < all.indexOf(readme[0]), "the taken-over events go first");
    assert.equal(all.length, delivered.length + 4, `nothing else stored: ${all.length}`);
    const server = await collector.stats(key);
    assert.equal(server.rejected, 0);
    assert.equal(server.duplicates, 0);

    assert.equal(stats.discarded, expectedDiscarded, "stats().discarded counts each unreadable record and each bad line");
    assert.equal(stats.restored, delivered.length, "stats().restored counts the valid saved events");
    assert.equal(stats.delivered, delivered.length + 4);
    assert.equal(stats.dropped.total, 0);
    assert.equal(stats.queued, 0);
    const left = await page.evaluate((names) => names.filter((k) => localStorage.getItem(k) !== null), Object.keys(records).map((k) => `lunary:${key}:${k}`));
    assert.deepEqual(left, [], "every saved queue was taken over or removed");

    await assertNoProblems(page);
    const warnings = (await storageWarnings(page));
    t.diagnostic(`${warnings.length} warnings`);
    assert.ok(warnings.length <= Object.keys(records).length, `at most one warning per record: ${JSON.stringify(warnings.map((w) => w.slice(0, 160)))}`);
  });

  faultCase("c4 saved lines that look like events but the server refuses: each refused alone, the rest of the batch delivered", {}, async (t) => {
    const { collector } = suite;
    const key = suite.newProjectKey();
    const threadId = randomUUID();
    const written = Date.now() - 60_000;
    const a = wireChat({ threadId, content: "before the bad ones", timestamp: written - 100 });
    const b = wireChat({ threadId, content: "after the bad ones", timestamp: written - 50 });
    const refusable = ['{"event":"bogus","type":"thread"}', '{"event":"chat"}'];
    const page = await hostilePage(t, writeRecords(key, { [`queue:${randomUUID()}`]: queueRecord(written, [a.line, ...refusable, b.line]) }), "refusable-lines");
    const { stats } = await readmeStoredAndUserKept(page, key);
    const stored = new Set((await collector.events(key)).map((e) => e.runId));
    assert.ok(stored.has(a.runId) && stored.has(b.runId), "the valid saved events are delivered");
    assert.equal(stats.restored, 4, "an object with an `event` name is kept as an event (README: Persistence)");
    assert.equal(stats.dropped.refused, 2, "the server refused the two, one by one");
    assert.equal(stats.dropped.total, 2);
    assert.equal(stats.delivered, 2 + 4);
    assert.deepEqual((await page.problems()).pageErrors, []);
    // Reported on the console (drop warnings are at most one a second; a held-back one is
    // counted in the next), and counted in stats() above.
    const dropWarnings = (await page.problems()).warnings.filter((w) => /dropped/.test(w));
    assert.ok(dropWarnings.length >= 1 && dropWarnings.length <= 2, `the refusals are reported: ${JSON.stringify(dropWarnings)}`);
  });

  // A line JSON.parse reads but a strict JSON parser does not (a lone surrogate escaped as
  // `\ud800`, which is what JSON.stringify writes): the SDK keeps it (its check is JSON.parse)
  // and sends it verbatim in a batch with other events; a server that answered 400 for such a
  // body would cost every event of that batch its delivery (a 400 drops the whole batch).
  // The collector reads bodies as the real server (JSON.parse) does, and takes it.
  faultCase(
    "c5 a saved line with an escaped lone surrogate (\\ud800, as JSON.stringify writes it) costs no other event its delivery",
    {},
    async (t) => {
      const { collector } = suite;
      const key = suite.newProjectKey();
      const threadId = randomUUID();
      const written = Date.now() - 60_000;
      const a = wireChat({ threadId, content: "before", timestamp: written - 100 });
      const poison = wireChat({ threadId, content: "lone \uD800 surrogate", timestamp: written - 75 });
      const b = wireChat({ threadId, content: "after", timestamp: written - 50 });
      assert.ok(poison.line.includes("\\ud800"), "JSON.stringify escapes the lone surrogate");
      const page = await hostilePage(t, writeRecords(key, { [`queue:${randomUUID()}`]: queueRecord(written, [a.line, poison.line, b.line]) }), "escaped-surrogate");
      const ids = await runReadmeExample(page, { key, apiUrl: collector.url });
      const stats = await page.evaluate(() => lunary.stats());
      t.diagnostic(`stats() ${JSON.stringify(stats)}; warnings ${JSON.stringify((await page.problems()).warnings.filter((w) => /dropped/.test(w)))}`);
      const stored = new Set((await collector.events(key)).map((e) => e.runId));
      assert.deepEqual(
        [a.runId, b.runId, ids.q, ids.a].filter((id) => !stored.has(id)),
        [],
        "the two valid saved events and the README example are delivered",
      );
      assert.ok(stats.dropped.total <= 1, "at most the poisoned line is lost");
      assert.deepEqual((await page.problems()).pageErrors, []);
    },
  );

  /** Values under `lunary:<key>:optout` other than the "1" the SDK writes. */
  const ODD_OPT_OUTS = {
    "0": "0",
    false: "false",
    "empty string": "",
    "JSON null": "null",
    garbage: "{garbage",
    "lone surrogate": "\uD800",
    "2 MB": "n".repeat(TWO_MB),
  };

  // Any value under the opt-out key keeps the browser opted out: a privacy choice fails
  // closed, whatever wrote it. Nothing throws, nothing is stored or sent, and optIn() clears it.
  faultCase(`c6 opt-out key with a garbage value (${Object.keys(ODD_OPT_OUTS).length} kinds): stays opted out without breaking, optIn() recovers`, {}, async (t) => {
    const { collector } = suite;
    const keys = Object.fromEntries(Object.keys(ODD_OPT_OUTS).map((kind) => [kind, suite.newProjectKey()]));
    const before = Object.entries(ODD_OPT_OUTS)
      .map(([kind, value]) => writeRecords(keys[kind], { optout: value }))
      .join("\n");
    const page = await hostilePage(t, before, "odd-optout");
    const seen = await page.evaluate(
      async ({ keys, apiUrl }) => {
        const out = [];
        for (const [kind, key] of Object.entries(keys)) {
          lunary.init({ appId: key, apiUrl });
          lunary.identify("user123", { name: "John" });
          lunary.openThread().trackMessage({ role: "user", content: "while opted out" });
          await lunary.flush();
          const stats = lunary.stats();
          out.push({ kind, userSaved: localStorage.getItem(`lunary:${key}:user`), stats });
        }
        return out;
      },
      { keys, apiUrl: collector.url },
    );
    for (const { kind, userSaved, stats } of seen) {
      assert.equal(userSaved, null, `${kind}: nothing stored while opted out`);
    }
    const last = seen.at(-1).stats;
    assert.equal(last.requests, 0, "nothing sent");
    assert.equal(last.queued, 0, "nothing queued");
    for (const key of Object.values(keys)) assert.deepEqual(await collector.events(key), [], "nothing stored by the collector");

    const key = Object.values(keys).at(-1);
    await page.evaluate(() => lunary.optIn());
    assert.equal(await page.evaluate((key) => localStorage.getItem(`lunary:${key}:optout`), key), null, "optIn() removes the value");
    await readmeStoredAndUserKept(page, key);
    await assertNoProblems(page);
  });

  /** Tab ids of left-behind queues that no SDK would write, each holding one valid event. */
  const ODD_TAB_IDS = {
    empty: "",
    "leading dash": "-tab",
    "path-like": "../../etc/passwd",
    "spaces and a newline": " tab \n id ",
    emoji: "💥🧨",
    "5,000 characters": "t".repeat(5_000),
    "nested prefix": "x:queue:y",
    "a lock name": "lunary-tab:other",
    "NUL character": "a\u0000b",
  };

  // WebKitGTK refuses a Web Lock name over 1,024 characters (NotSupportedError: the
  // request's promise rejects, its callback never runs), so the 5,000-character tab id is
  // a lock no tab can hold: its queue is judged by its timestamp, as without Web Locks.
  faultCase(`c7 left-behind queues under odd tab ids (${Object.keys(ODD_TAB_IDS).length} kinds): taken over and delivered`, {}, async (t) => {
    const { collector } = suite;
    const key = suite.newProjectKey();
    const threadId = randomUUID();
    const written = Date.now() - 60_000;
    const events = Object.fromEntries(
      Object.keys(ODD_TAB_IDS).map((kind, i) => [kind, wireChat({ threadId, content: `odd tab ${kind}`, timestamp: written - 1_000 + i })]),
    );
    const records = Object.fromEntries(Object.entries(ODD_TAB_IDS).map(([kind, tab]) => [`queue:${tab}`, queueRecord(written, [events[kind].line])]));
    const page = await hostilePage(t, writeRecords(key, records), "odd-tab-ids");
    const { stats } = await readmeStoredAndUserKept(page, key);
    const stored = new Set((await collector.events(key)).map((e) => e.runId));
    const missing = Object.entries(events).filter(([, e]) => !stored.has(e.runId)).map(([kind]) => kind);
    assert.deepEqual(missing, [], "the event of every odd tab id is delivered");
    assert.equal(stats.restored, Object.keys(ODD_TAB_IDS).length);
    assert.equal(stats.dropped.total, 0);
    const left = await page.evaluate((names) => names.filter((k) => localStorage.getItem(k) !== null), Object.keys(records).map((k) => `lunary:${key}:${k}`));
    assert.deepEqual(left, [], "every odd queue was taken over");
    const server = await collector.stats(key);
    assert.equal(server.duplicates, 0);
    await assertNoProblems(page);
  });

  faultCase("c8 lone surrogate in a left-behind queue's tab id: a name Rust cannot read back is discarded, counted, and removed", {}, async (t) => {
    const { collector } = suite;
    const key = suite.newProjectKey();
    const event = wireChat({ threadId: randomUUID(), content: "lone surrogate tab", timestamp: Date.now() - 60_000 });
    const name = "queue:a\uD800b";
    const page = await hostilePage(t, writeRecords(key, { [name]: queueRecord(Date.now() - 60_000, [event.line]) }), "surrogate-tab-id");
    const { stats } = await readmeStoredAndUserKept(page, key);
    assert.equal(stats.discarded, 1, "the record is counted as discarded");
    assert.ok(!(await collector.events(key)).some((e) => e.runId === event.runId), "its event is not sent");
    assert.equal(await page.evaluate((k) => localStorage.getItem(k), `lunary:${key}:${name}`), null, "and the key is removed, not left forever");
    assert.ok((await page.problems()).warnings.some((w) => /key is not valid Unicode/.test(w)), "with a warning");
  });

  // --- d. the quota runs out in the middle of the session -------------------------------------

  /** setItem works for the first `n` writes (of any storage), then throws QuotaExceededError. */
  const QUOTA_AFTER = (n) => `
  (() => {
    const setItem = Storage.prototype.setItem;
    const writes = (window.__writes = { ok: 0, refused: 0, keys: [] });
    Storage.prototype.setItem = function (key, value) {
      if (writes.ok >= ${n}) {
        writes.refused++;
        throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
      }
      writes.ok++;
      writes.keys.push(String(key));
      return setItem.call(this, key, value);
    };
  })();
  `;

  faultCase("d quota runs out mid-session (every setItem throws after 2 writes) while the server fails: nothing lost, nothing thrown", {}, async (t) => {
    const { collector } = suite;
    await isolateFaults(t, collector);
    const key = suite.newProjectKey();
    const page = await hostilePage(t, QUOTA_AFTER(2), "quota-mid-session");
    await page.evaluate(
      ({ key, apiUrl }) => {
        lunary.init({ appId: key, apiUrl, flushIntervalMs: 50, retryBaseMs: 50, retryMaxMs: 300 });
        lunary.identify("user123", { name: "John", email: "john@example.org" });
      },
      { key, apiUrl: collector.url },
    );
    await addFault(collector, { mode: "500", count: 100_000 });
    // Messages tracked over ~2.5 s while nothing gets through: the queue is saved again and again.
    const early = [];
    for (let round = 0; round < 5; round++) {
      early.push(
        ...(await page.evaluate((round) => {
          window.__thread ??= lunary.openThread({ tags: ["quota"] });
          return [0, 1, 2].map((i) => window.__thread.trackMessage({ role: "user", content: `round ${round} #${i}` }));
        }, round)),
      );
      await sleep(500);
    }
    const mid = await page.evaluate(() => ({ writes: window.__writes, stats: lunary.stats() }));
    t.diagnostic(`writes: ${JSON.stringify(mid.writes)}`);
    assert.equal(mid.writes.ok, 2, "two writes went through");
    assert.ok(mid.writes.refused >= 1, "later writes were refused");
    assert.equal(mid.stats.storage, "memory", "the SDK moved down to memory");
    assert.equal(mid.stats.storageFallbacks, 2);
    assert.equal(mid.stats.delivered, 0);
    assert.equal(mid.stats.queued, early.length, "all still queued");
    assert.equal(mid.stats.dropped.total, 0);
    await clearFaults(collector);

    const { stats } = await readmeStoredAndUserKept(page, key);
    const stored = (await collector.events(key)).map((e) => e.runId);
    assert.deepEqual(early.filter((id) => !stored.includes(id)), [], "every message tracked while storage failed is delivered");
    assert.equal((await collector.stats(key)).duplicates, 0, "each once");
    assert.equal(stats.dropped.total, 0);
    assert.equal(stats.delivered, early.length + 4);
    assert.equal(stats.queued, 0);
    // The probe records console.error calls of the page's scripts (not the browser's own
    // network log lines for the 500s): none at all.
    await assertNoProblems(page);
    const warnings = (await storageWarnings(page));
    assert.equal(warnings.length, 2, `one warning per fallback: ${JSON.stringify(warnings)}`);
  });

  // --- e. Storage.prototype answering garbage -----------------------------------------------

  /**
   * getItem overrides, applied to the SDK's user and queue keys (the page's other keys read
   * normally; a value under the opt-out key, garbage or not, means opted out: see c6).
   */
  const GARBAGE_GETITEM = {
    "returns an object (a number, a boolean go the same way)": "return { userId: 'user9' };",
    "returns an array": "return ['lunary-queue/1 5'];",
    "returns a Symbol": "return Symbol('x');",
    "returns a fake string (length 100,000, charCodeAt)": "return { length: 100000, charCodeAt: () => 65, slice: () => '' };",
    "throws on our keys only": "throw new TypeError('getItem refused by the page');",
    "returns an object whose length getter throws": "return { get length() { throw new Error('length getter'); } };",
  };

  faultCase(`e getItem overridden on Storage.prototype to answer garbage for the SDK's keys (${Object.keys(GARBAGE_GETITEM).length} kinds)`, {}, async (t) => {
    const failures = [];
    for (const [kind, body] of Object.entries(GARBAGE_GETITEM)) {
      const key = suite.newProjectKey();
      const before = `
  localStorage.setItem("page:own", "kept");
  localStorage.setItem("lunary:${key}:user", '{"userId":"saved"}');
  localStorage.setItem("lunary:${key}:queue:${randomUUID()}", "lunary-queue/1 5");
  const getItem = Storage.prototype.getItem;
  Storage.prototype.getItem = function (key) {
    if (!/^lunary:.*:(user|queue:.*)$/s.test(String(key))) return getItem.call(this, key);
    ${body}
  };`;
      // A fresh context (profile) per kind: the records of one kind cannot meet the next.
      const context = await suite.newContext(t);
      const page = await context.newPage();
      try {
        await page.load(suite.server.addPage(probedPage({ before }), "garbage-getitem"));
        const { stats } = await readmeStoredAndUserKept(page, key);
        assert.equal(stats.dropped.total, 0);
        assert.equal(await page.evaluate(() => localStorage.getItem("page:own")), "kept", "the page's own data reads as before");
        await assertNoProblems(page);
        t.diagnostic(`${kind}: storage ${stats.storage}, fallbacks ${stats.storageFallbacks}, discarded ${stats.discarded}, warnings ${JSON.stringify((await storageWarnings(page)).map((w) => w.replace(/lunary:[-0-9a-f]+:/, "lunary:<key>:")))}`);
      } catch (err) {
        failures.push(`${kind}: ${err.message.split("\n")[0]}`);
      } finally {
        await context.close();
      }
    }
    assert.deepEqual(failures, [], "every kind of garbage survived");
  });
});
