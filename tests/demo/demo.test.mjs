// The demo as a person uses it, in every engine of ENGINES: the built chat app (www/dist)
// served by a collector, then the collector's inspector showing what arrived. Clicks, typing
// and keys are real input (Playwright in Chromium, WebDriver element interaction in Firefox
// and WebKit: tests/e2e/support/engines.mjs); screenshots go to target/demo-*.png.
// Each engine gets its own collector; the pages are opened through the probe proxy
// (support.mjs), which gives them the e2e probe so that page.problems() sees uncaught
// errors, console errors, CSP violations and failed loads the same way in every engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { assertNoProblems } from "../e2e/support/engine-suite.mjs";
import { DEMO_PROJECT, demoSuites, eventually } from "./support.mjs";

const TIMEOUT = 90_000;
const ada = { name: "Ada Lovelace", email: "ada@analytical.example", group: "Acme Corp", avatar: "otter" };
const questions = ["Hi there!", "What does the Pro plan cost?", "And how do I export my data as CSV?"];
const comment = "Clear answer, thanks";

const ANSWERS = ".message.from-assistant:not(.typing)";
const USER_MESSAGES = ".message.from-user";
const demoReady = () => window.__demoReady === true;
const loaded = () => document.readyState === "complete";

/** Types a question like a person (Enter sends) and waits for the canned answer. */
async function ask(page, text) {
  const before = await page.count(ANSWERS);
  await page.fill("#composer-input", text);
  await page.press("#composer-input", "Enter");
  await page.waitFor(ANSWERS, { nth: before, timeout: 10_000 });
}

/** A selector of the `nth` answer (by its message id, so that it holds across re-renders). */
const answerAt = async (page, nth) => `.message[data-id="${await page.attribute(ANSWERS, "data-id", { nth })}"]`;

const savedThread = (page) =>
  page.evaluate((key) => JSON.parse(localStorage.getItem(`lunary-demo:${key}:thread`) || "null"), DEMO_PROJECT);

demoSuites((s) => {
  const shared = {}; // what the first test learned, for the ones after it
  const appUrl = () => `${s.site.url}/demo/`;

  /** Waits until the collector stored `count` events of the demo project. */
  const stored = (count) =>
    eventually(
      () => s.collector.get(`/api/stats?project=${DEMO_PROJECT}`),
      (stats) => stats.stored >= count,
      { what: `${count} events stored` },
    );

  /** Loads `url` in `page`; the page must have the probe, or "no problems" would mean nothing. */
  async function loadProbed(page, url, until) {
    await page.load(url, { until });
    assert.equal(await page.evaluate(() => typeof window.__probe), "object", `${page.engine}: ${url} has the probe`);
    return page;
  }

  const openApp = async (context, url = appUrl()) => loadProbed(await context.newPage(), url, demoReady);
  const openInspector = async (context) => loadProbed(await context.newPage(), `${s.site.url}/inspector/`, loaded);

  test("a person signs in, chats, rates an answer, reloads, chats on and logs out; the inspector shows it all", { timeout: TIMEOUT }, async (t) => {
    const context = await s.newContext(t, { viewport: { width: 760, height: 940 } });
    const page = await openApp(context);

    // Sign in: the form comes pre-filled with a random persona; the person types over it
    // and picks the otter (a click on its picture: the radio itself is invisible).
    await page.waitFor("#login-form");
    await page.fill("#login-name", ada.name);
    await page.fill("#login-email", ada.email);
    await page.fill("#login-group", ada.group);
    await page.click(`.avatar-choice[title="${ada.avatar}"]`);
    assert.equal(await page.evaluate((v) => document.querySelector(`input[name=avatar][value="${v}"]`).checked, ada.avatar), true, "the otter is picked");
    await page.click("#login-submit");
    await page.waitFor("#chat");
    assert.equal(await page.text("#account-name"), ada.name);
    const thread = await savedThread(page);
    assert.ok(thread?.id, "the app keeps the conversation's id");
    assert.deepEqual(thread.tags, ["demo-chat", "general"]);

    // Two questions, then a thumbs-up and a comment on the second answer.
    await ask(page, questions[0]);
    await ask(page, questions[1]);
    const rated = await answerAt(page, 1);
    await page.click(`${rated} .thumb-up`);
    await page.click(`${rated} .comment-toggle`);
    await page.fill(`${rated} .comment-input`, comment);
    await page.press(`${rated} .comment-input`, "Enter");
    await page.waitFor(`${rated} .comment`);
    assert.equal(await page.attribute(`${rated} .thumb-up`, "aria-pressed"), "true");
    assert.equal(await page.text(`${rated} .comment`), comment);
    const ratedId = await page.attribute(rated, "data-id");
    // A person reads the answer for a moment before reloading: by then all is delivered
    // (2 questions, 2 answers, the thumb and the comment).
    await stored(6);

    // Reload: still signed in (the SDK kept the user), same conversation (reopened by id).
    await page.reload({ until: demoReady });
    await page.waitFor("#chat");
    assert.equal(await page.text("#account-name"), ada.name, "still signed in after the reload");
    assert.equal((await savedThread(page)).id, thread.id, "the same conversation after the reload");
    assert.match(await page.text("#reload-hint-text"), /Still here after the reload.*getUserId\(\).*"ada@analytical\.example"/);
    assert.equal(await page.count(USER_MESSAGES), 2, "the transcript is back");
    assert.equal(await page.attribute(`${await answerAt(page, 1)} .thumb-up`, "aria-pressed"), "true");

    await ask(page, questions[2]);
    assert.equal(await page.count(USER_MESSAGES), 3);
    await stored(8);
    await page.waitForFunction(() => / 0 queued/.test(document.getElementById("status-counts").textContent));
    await page.screenshot(s.shot("app"));

    // What the collector stored, through its API: 6 messages, feedback on the rated answer.
    const detail = await s.collector.get(`/api/threads/${thread.id}?project=${DEMO_PROJECT}`);
    assert.deepEqual(
      detail.messages.map((m) => m.role),
      ["user", "assistant", "user", "assistant", "user", "assistant"],
    );
    assert.deepEqual(detail.messages.filter((m) => m.role === "user").map((m) => m.content), questions);
    assert.equal(detail.messages[3].runId, ratedId);
    assert.deepEqual(detail.messages[3].feedback, { thumb: "up", comment });
    assert.deepEqual(detail.tags, ["demo-chat", "general"]);

    // Log out: the sign-in form, and a reload does not bring the user back.
    await page.click("#logout");
    await page.waitFor("#login-form");
    await page.reload({ until: demoReady });
    assert.equal(await page.isVisible("#login"), true, "logged out for good");
    await assertNoProblems(page);

    shared.thread = thread;
    shared.ratedId = ratedId;
  });

  test("the inspector shows the user, the conversation in order and the feedback on its message", { timeout: TIMEOUT }, async (t) => {
    assert.ok(shared.thread, "needs the first test's conversation");
    const context = await s.newContext(t, { viewport: { width: 1440, height: 960 } });
    const page = await openInspector(context);

    // The user card.
    const user = `.user-card[data-user-id="${ada.email}"]`;
    await page.waitFor(user);
    assert.equal(await page.text(`${user} .user-name`), ada.name);
    assert.equal(await page.text(`${user} .user-email`), ada.email);
    assert.equal(await page.text(`${user} .chip.group`), ada.group);
    assert.equal(await page.text(`${user} .thread-count`), "1 conversation");
    assert.match(await page.text(`${user} .user-meta`), /^first seen (just now|\d+ s ago)last seen (just now|\d+ s ago)1 conversation$/);
    assert.match(await page.attribute(`${user} img.avatar`, "src"), /\/demo\/avatars\/otter\.svg$/);
    await page.waitForFunction((sel) => {
      const img = document.querySelector(sel);
      return img?.complete && img.naturalWidth > 0;
    }, `${user} img.avatar`);

    // The conversation: three questions and three answers in order, feedback on the rated one.
    const transcript = `.transcript[data-thread-id="${shared.thread.id}"]`;
    await page.waitFor(transcript);
    await eventually(() => page.count(`${transcript} .msg`), (n) => n === 6, { what: "6 messages in the inspector" });
    const roles = await page.evaluate((sel) => [...document.querySelectorAll(sel)].map((li) => li.dataset.role), `${transcript} .msg`);
    assert.deepEqual(roles, ["user", "assistant", "user", "assistant", "user", "assistant"]);
    assert.deepEqual(await page.texts(`${transcript} .msg.user .msg-body`), questions);
    const withFeedback = `${transcript} .msg:has(.fb)`;
    assert.equal(await page.count(withFeedback), 1, "feedback on exactly one message");
    assert.equal(await page.attribute(withFeedback, "data-run-id"), shared.ratedId, "on the rated answer");
    assert.equal(await page.attribute(`${withFeedback} .fb`, "data-thumb"), "up");
    assert.equal(await page.text(`${withFeedback} .fb-thumb`), "helpful");
    assert.equal(await page.text(`${withFeedback} .fb-comment`), comment);
    assert.deepEqual(await page.texts(`.thread-item[data-thread-id="${shared.thread.id}"] .chip`), ["demo-chat", "general"]);

    // Delivery health and the live feed agree with the API.
    const events = (await s.collector.get(`/api/events?project=${DEMO_PROJECT}`)).events;
    const stats = await s.collector.get("/api/stats");
    assert.equal(stats.stored, events.length);
    assert.equal(stats.duplicates, 0);
    assert.equal(stats.rejected, 0);
    await page.waitForFunction((n) => document.querySelectorAll("#events .ev").length === n, events.length);
    assert.equal(await page.text("#stat-stored"), String(stats.stored));
    assert.equal(await page.text("#stat-rejected"), "0");
    assert.match(await page.text("#reasons"), /nothing rejected/);
    assert.equal(await page.count("#events .ev[data-kind=feedback]"), events.filter((e) => e.event.event === "feedback").length);

    // Live: a new event shows up without a reload.
    const live = await fetch(`${s.collector.url}/v1/runs/ingest`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${DEMO_PROJECT}` },
      body: JSON.stringify({ events: [{ type: "log", event: "info", parentRunId: shared.thread.id, runId: "live-check", message: "inspector live check", timestamp: Date.now() }] }),
    });
    assert.equal(live.status, 200);
    await page.waitFor("#events .ev-summary", { hasText: "inspector live check", timeout: 5_000 });
    // Paused (as a person would, to look), so that the feed stays as it is for the picture,
    // without the live check: the picture is about the chat.
    await page.click("#pause");
    await page.waitFor('#pause[aria-pressed="true"]', { state: "attached" });
    await page.evaluate(() => document.querySelector("#events .ev-log-info").remove());

    await page.waitFor(".ev.fresh", { state: "detached", timeout: 100 }).catch(() => {});
    await page.screenshot(s.shot("inspector"));
    await assertNoProblems(page);
  });

  test("the page at / shows the app and the inspector side by side", { timeout: TIMEOUT }, async (t) => {
    const context = await s.newContext(t, { viewport: { width: 1600, height: 960 } });
    const page = await context.newPage();
    await page.load(`${s.site.url}/`, { until: loaded });
    const app = { frame: 'iframe[name="app"]' };
    const inspector = { frame: 'iframe[name="inspector"]' };
    await page.waitFor("#login-form", app);
    await page.waitFor(`.user-card[data-user-id="${ada.email}"]`, inspector);
    await page.waitFor(".transcript .msg", { ...inspector, nth: 5 });
    // Side by side: the app on the left, the inspector on the right, both full height.
    const [left, right] = await page.evaluate(() =>
      ["app", "inspector"].map((n) => {
        const r = document.querySelector(`iframe[name="${n}"]`).getBoundingClientRect();
        return { x: r.x, y: r.y, width: r.width, height: r.height };
      }),
    );
    assert.ok(left.x + left.width <= right.x && left.y === right.y, `the frames side by side: ${JSON.stringify([left, right])}`);
    assert.ok(left.width >= 360 && right.width >= 360 && left.height > 600 && right.height > 600, "both frames big enough to use");
    await page.screenshot(s.shot("side-by-side"));
    // The page at / runs no script (its CSP allows none), so the probe is in its frames.
    const probes = await page.evaluate(() =>
      ["app", "inspector"].map((n) => {
        const probe = document.querySelector(`iframe[name="${n}"]`).contentWindow.__probe;
        return { frame: n, probed: !!probe, pageErrors: probe?.pageErrors, consoleErrors: probe?.consoleErrors };
      }),
    );
    assert.deepEqual(
      probes,
      ["app", "inspector"].map((frame) => ({ frame, probed: true, pageErrors: [], consoleErrors: [] })),
      "no error in the frames",
    );
  });

  test("?apiUrl=…&appId=… sends elsewhere: here, cross-origin to the collector under another project", { timeout: TIMEOUT }, async (t) => {
    const context = await s.newContext(t);
    const project = randomUUID();
    const otherOrigin = s.collector.url.replace("127.0.0.1", "localhost"); // the collector itself, another origin than the page's
    const page = await openApp(context, `${appUrl()}?apiUrl=${encodeURIComponent(otherOrigin)}&appId=${project}`);
    assert.match(await page.text("#status-target"), new RegExp(`→ ${otherOrigin} · project ${project.slice(0, 8)}`));
    await page.click("#login-submit");
    await ask(page, "Hello from another origin");
    const events = await eventually(
      () => s.collector.get(`/api/events?project=${project}`),
      (body) => body.events.length === 2,
      { what: "2 events under the other project" },
    );
    assert.deepEqual(events.events.map((row) => row.event.message.role), ["user", "assistant"]);

    // An apiUrl init refuses (plain http to a remote host) turns tracking off, visibly.
    const refused = await openApp(context, `${appUrl()}?apiUrl=${encodeURIComponent("http://lunary.example.com")}&appId=${project}`);
    assert.match(await refused.text("#status-problem"), /tracking is off: .*apiUrl/);
    await assertNoProblems(page);
    await assertNoProblems(refused);
  });

  test("what users type is shown as text in the app and in the inspector, never run as HTML", { timeout: TIMEOUT }, async (t) => {
    const context = await s.newContext(t);
    const page = await openApp(context);
    const name = `<img src=x onerror="window.__pwned=1">Mallory`;
    const text = `<script>window.__pwned=2</script><b>bold?</b> <img src=x onerror="window.__pwned=3">`;
    const badComment = `<img src=x onerror="window.__pwned=4">`;
    await page.fill("#login-name", name);
    await page.fill("#login-email", "mallory@evil.example");
    await page.fill("#login-group", "<i>group</i>");
    await page.click("#login-submit");
    await ask(page, text);
    const answer = await answerAt(page, 0);
    await page.click(`${answer} .thumb-down`);
    await page.click(`${answer} .comment-toggle`);
    await page.fill(`${answer} .comment-input`, badComment);
    await page.press(`${answer} .comment-input`, "Enter");
    await page.waitFor(`${answer} .comment`);
    assert.equal(await page.text("#account-name"), name);
    assert.equal(await page.text(`${USER_MESSAGES} .bubble`), text);
    assert.equal(await page.count(".messages img, .messages script, .messages b"), 0);
    const threadId = (await savedThread(page)).id;

    const inspector = await openInspector(context);
    await inspector.click(".thread-item", { hasText: "Mallory" });
    const transcript = `.transcript[data-thread-id="${threadId}"]`;
    await inspector.waitFor(`${transcript} .fb-comment`);
    assert.equal(await inspector.text(`${transcript} .msg.user .msg-body`), text);
    assert.equal(await inspector.text(`${transcript} .fb-comment`), badComment);
    assert.equal(await inspector.text(`.user-card[data-user-id="mallory@evil.example"] .user-name`), name);
    assert.equal(await inspector.count(".msg-body img, .msg-body script, .msg-body b, .user-name img, .fb img, .ev-summary img"), 0);
    for (const p of [page, inspector]) {
      assert.equal(await p.evaluate(() => window.__pwned), undefined, `${p.engine}: no injected code ran`);
      await assertNoProblems(p);
    }
  });

  // Not a demo scenario: proof that the probe the proxy adds sees, in this engine, what the
  // "no problems" checks above rely on it to see: /__probe-check.js (support.mjs), loaded by
  // the app's page after it loaded, logs a console error, adds an image the CSP blocks (a
  // violation and a failed load), leaves a promise rejected and throws.
  test("the probe in the demo pages records CSP violations, failed loads, uncaught errors and console errors", { timeout: TIMEOUT }, async (t) => {
    const context = await s.newContext(t);
    const page = await openApp(context);
    await assertNoProblems(page);
    await page.evaluate(() => {
      const script = document.createElement("script");
      script.src = "/__probe-check.js";
      document.head.append(script);
    });
    await page.waitForFunction(() => window.__probe.pageErrors.length >= 2 && window.__probe.consoleErrors.length >= 3);
    const { pageErrors, consoleErrors } = await page.problems();
    const seen = `${page.engine}: ${JSON.stringify({ pageErrors, consoleErrors })}`;
    assert.equal(pageErrors.length, 2, seen);
    assert.ok(pageErrors.some((e) => /^Error: probe check: uncaught/.test(e)), seen);
    assert.ok(pageErrors.some((e) => /^unhandled rejection: Error: probe check: rejected/.test(e)), seen);
    assert.equal(consoleErrors.length, 3, seen);
    assert.ok(consoleErrors.includes("probe check: console.error"), seen);
    assert.ok(consoleErrors.some((e) => /^CSP violation: img-src.* blocked http:\/\/127\.0\.0\.1:9\/probe-check\.png/.test(e)), seen);
    assert.ok(consoleErrors.includes("failed to load: <img> http://127.0.0.1:9/probe-check.png"), seen);
  });
});
