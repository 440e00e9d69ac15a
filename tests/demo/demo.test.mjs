// The demo as a person uses it: the built chat app (www/dist) served by a collector, then the
// collector's inspector showing what arrived. Screenshots go to target/demo-*.png.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { DEMO_PROJECT, artifactsDir, eventually, launchBrowser, openPage, startCollector } from "./support.mjs";

const TIMEOUT = 90_000;
const ada = { name: "Ada Lovelace", email: "ada@analytical.example", group: "Acme Corp", avatar: "otter" };
const questions = ["Hi there!", "What does the Pro plan cost?", "And how do I export my data as CSV?"];
const comment = "Clear answer, thanks";

let collector;
let browser;
const shared = {}; // what the first test learned, for the ones after it

before(async () => {
  collector = await startCollector();
  browser = await launchBrowser();
  await mkdir(artifactsDir, { recursive: true });
});

after(async () => {
  await browser?.close().catch(() => {});
  await collector?.stop();
});

const appUrl = () => `${collector.url}/demo/`;
const answers = (page) => page.locator(".message.from-assistant:not(.typing)");
const userMessages = (page) => page.locator(".message.from-user");

async function openApp(context) {
  const page = await openPage(context);
  await page.goto(appUrl());
  await page.waitForFunction(() => window.__demoReady === true);
  return page;
}

/** Types a question like a person (Enter sends) and waits for the canned answer. */
async function ask(page, text) {
  const before = await answers(page).count();
  await page.locator("#composer-input").fill(text);
  await page.locator("#composer-input").press("Enter");
  await assert.doesNotReject(answers(page).nth(before).waitFor({ timeout: 10_000 }), `an answer to "${text}"`);
}

/** Waits until the collector stored `count` events of the demo project. */
const stored = (count) =>
  eventually(
    () => collector.get(`/api/stats?project=${DEMO_PROJECT}`),
    (stats) => stats.stored >= count,
    { what: `${count} events stored` },
  );

const savedThread = (page) =>
  page.evaluate((key) => JSON.parse(localStorage.getItem(`lunary-demo:${key}:thread`) || "null"), DEMO_PROJECT);

test("a person signs in, chats, rates an answer, reloads, chats on and logs out; the inspector shows it all", { timeout: TIMEOUT }, async (t) => {
  const context = await browser.newContext({ viewport: { width: 760, height: 940 }, deviceScaleFactor: 1 });
  t.after(() => context.close().catch(() => {}));
  const page = await openApp(context);

  // Sign in.
  await page.locator("#login-form").waitFor();
  await page.locator("#login-name").fill(ada.name);
  await page.locator("#login-email").fill(ada.email);
  await page.locator("#login-group").fill(ada.group);
  await page.locator(`.avatar-choice input[value="${ada.avatar}"]`).check({ force: true });
  await page.locator("#login-submit").click();
  await page.locator("#chat").waitFor();
  assert.equal(await page.locator("#account-name").textContent(), ada.name);
  const thread = await savedThread(page);
  assert.ok(thread?.id, "the app keeps the conversation's id");
  assert.deepEqual(thread.tags, ["demo-chat", "general"]);

  // Two questions, then a thumbs-up and a comment on the second answer.
  await ask(page, questions[0]);
  await ask(page, questions[1]);
  const rated = answers(page).nth(1);
  await rated.locator(".thumb-up").click();
  await rated.locator(".comment-toggle").click();
  await rated.locator(".comment-input").fill(comment);
  await rated.locator(".comment-input").press("Enter");
  assert.equal(await rated.locator(".thumb-up").getAttribute("aria-pressed"), "true");
  assert.equal(await rated.locator(".comment").textContent(), comment);
  const ratedId = await rated.getAttribute("data-id");
  // A person reads the answer for a moment before reloading: by then all is delivered
  // (2 questions, 2 answers, the thumb and the comment).
  await stored(6);

  // Reload: still signed in (the SDK kept the user), same conversation (reopened by id).
  await page.reload();
  await page.waitForFunction(() => window.__demoReady === true);
  await page.locator("#chat").waitFor();
  assert.equal(await page.locator("#account-name").textContent(), ada.name, "still signed in after the reload");
  assert.equal((await savedThread(page)).id, thread.id, "the same conversation after the reload");
  assert.match(await page.locator("#reload-hint-text").textContent(), /Still here after the reload.*getUserId\(\).*"ada@analytical\.example"/);
  assert.equal(await userMessages(page).count(), 2, "the transcript is back");
  assert.equal(await answers(page).nth(1).locator(".thumb-up").getAttribute("aria-pressed"), "true");

  await ask(page, questions[2]);
  assert.equal(await userMessages(page).count(), 3);
  await stored(8);
  await page.waitForFunction(() => / 0 queued/.test(document.getElementById("status-counts").textContent));
  await page.screenshot({ path: resolve(artifactsDir, "demo-app.png") });

  // What the collector stored, through its API: 6 messages, feedback on the rated answer.
  const detail = await collector.get(`/api/threads/${thread.id}?project=${DEMO_PROJECT}`);
  assert.deepEqual(
    detail.messages.map((m) => m.role),
    ["user", "assistant", "user", "assistant", "user", "assistant"],
  );
  assert.deepEqual(detail.messages.filter((m) => m.role === "user").map((m) => m.content), questions);
  assert.equal(detail.messages[3].runId, ratedId);
  assert.deepEqual(detail.messages[3].feedback, { thumb: "up", comment });
  assert.deepEqual(detail.tags, ["demo-chat", "general"]);

  // Log out: the sign-in form, and a reload does not bring the user back.
  await page.locator("#logout").click();
  await page.locator("#login-form").waitFor();
  await page.reload();
  await page.waitForFunction(() => window.__demoReady === true);
  assert.equal(await page.locator("#login").isVisible(), true, "logged out for good");
  assert.deepEqual(page.problems, [], "no error in the app");

  shared.thread = thread;
  shared.ratedId = ratedId;
});

test("the inspector shows the user, the conversation in order and the feedback on its message", { timeout: TIMEOUT }, async (t) => {
  assert.ok(shared.thread, "needs the first test's conversation");
  const context = await browser.newContext({ viewport: { width: 1440, height: 960 }, deviceScaleFactor: 1 });
  t.after(() => context.close().catch(() => {}));
  const page = await openPage(context);
  await page.goto(`${collector.url}/inspector/`);

  // The user card.
  const user = page.locator(`.user-card[data-user-id="${ada.email}"]`);
  await user.waitFor();
  assert.equal(await user.locator(".user-name").textContent(), ada.name);
  assert.equal(await user.locator(".user-email").textContent(), ada.email);
  assert.equal(await user.locator(".chip.group").textContent(), ada.group);
  assert.equal(await user.locator(".thread-count").textContent(), "1 conversation");
  assert.match(await user.locator(".user-meta").textContent(), /^first seen (just now|\d+ s ago)last seen (just now|\d+ s ago)1 conversation$/);
  const avatar = user.locator("img.avatar");
  assert.match(await avatar.getAttribute("src"), /\/demo\/avatars\/otter\.svg$/);
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await avatar.elementHandle());

  // The conversation: three questions and three answers in order, feedback on the rated one.
  const transcript = page.locator(`.transcript[data-thread-id="${shared.thread.id}"]`);
  await transcript.waitFor();
  const messages = transcript.locator(".msg");
  await eventually(() => messages.count(), (n) => n === 6, { what: "6 messages in the inspector" });
  const roles = await messages.evaluateAll((items) => items.map((li) => li.dataset.role));
  assert.deepEqual(roles, ["user", "assistant", "user", "assistant", "user", "assistant"]);
  const texts = await transcript.locator(".msg.user .msg-body").allTextContents();
  assert.deepEqual(texts, questions);
  const withFeedback = transcript.locator(".msg:has(.fb)");
  assert.equal(await withFeedback.count(), 1, "feedback on exactly one message");
  assert.equal(await withFeedback.getAttribute("data-run-id"), shared.ratedId, "on the rated answer");
  assert.equal(await withFeedback.locator(".fb").getAttribute("data-thumb"), "up");
  assert.equal(await withFeedback.locator(".fb-thumb").textContent(), "helpful");
  assert.equal(await withFeedback.locator(".fb-comment").textContent(), comment);
  assert.deepEqual(await page.locator(`.thread-item[data-thread-id="${shared.thread.id}"] .chip`).allTextContents(), ["demo-chat", "general"]);

  // Delivery health and the live feed agree with the API.
  const events = (await collector.get(`/api/events?project=${DEMO_PROJECT}`)).events;
  const stats = await collector.get("/api/stats");
  assert.equal(stats.stored, events.length);
  assert.equal(stats.duplicates, 0);
  assert.equal(stats.rejected, 0);
  await page.waitForFunction((n) => document.querySelectorAll("#events .ev").length === n, events.length);
  assert.equal(await page.locator("#stat-stored").textContent(), String(stats.stored));
  assert.equal(await page.locator("#stat-rejected").textContent(), "0");
  assert.match(await page.locator("#reasons").textContent(), /nothing rejected/);
  assert.equal(await page.locator("#events .ev[data-kind=feedback]").count(), events.filter((e) => e.event.event === "feedback").length);

  // Live: a new event shows up without a reload.
  const live = await fetch(`${collector.url}/v1/runs/ingest`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${DEMO_PROJECT}` },
    body: JSON.stringify({ events: [{ type: "log", event: "info", parentRunId: shared.thread.id, runId: "live-check", message: "inspector live check", timestamp: Date.now() }] }),
  });
  assert.equal(live.status, 200);
  await page.locator("#events .ev-summary", { hasText: "inspector live check" }).waitFor({ timeout: 5_000 });
  await page.locator("#events .ev-log-info").first().evaluate((li) => li.remove()); // keep the picture about the chat

  await page.locator(".ev.fresh").first().waitFor({ state: "detached", timeout: 100 }).catch(() => {});
  await page.screenshot({ path: resolve(artifactsDir, "demo-inspector.png") });
  assert.deepEqual(page.problems, [], "no error in the inspector");
});

test("the page at / shows the app and the inspector side by side", { timeout: TIMEOUT }, async (t) => {
  const context = await browser.newContext({ viewport: { width: 1600, height: 960 }, deviceScaleFactor: 1 });
  t.after(() => context.close().catch(() => {}));
  const page = await openPage(context);
  await page.goto(`${collector.url}/`);
  const app = page.frameLocator('iframe[name="app"]');
  const inspector = page.frameLocator('iframe[name="inspector"]');
  await app.locator("#login-form").waitFor();
  await inspector.locator(`.user-card[data-user-id="${ada.email}"]`).waitFor();
  await inspector.locator(".transcript .msg").nth(5).waitFor();
  await page.screenshot({ path: resolve(artifactsDir, "demo-side-by-side.png") });
  assert.deepEqual(page.problems, [], "no error in the page or its frames");
});

test("?apiUrl=…&appId=… sends elsewhere: here, cross-origin to the collector under another project", { timeout: TIMEOUT }, async (t) => {
  const context = await browser.newContext();
  t.after(() => context.close().catch(() => {}));
  const page = await openPage(context);
  const project = randomUUID();
  const otherOrigin = collector.url.replace("127.0.0.1", "localhost"); // same server, another origin
  await page.goto(`${appUrl()}?apiUrl=${encodeURIComponent(otherOrigin)}&appId=${project}`);
  await page.waitForFunction(() => window.__demoReady === true);
  assert.match(await page.locator("#status-target").textContent(), new RegExp(`→ ${otherOrigin} · project ${project.slice(0, 8)}`));
  await page.locator("#login-submit").click();
  await ask(page, "Hello from another origin");
  const stored = await eventually(
    () => collector.get(`/api/events?project=${project}`),
    (body) => body.events.length === 2,
    { what: "2 events under the other project" },
  );
  assert.deepEqual(stored.events.map((row) => row.event.message.role), ["user", "assistant"]);

  // An apiUrl init refuses (plain http to a remote host) turns tracking off, visibly.
  const refused = await openPage(context);
  await refused.goto(`${appUrl()}?apiUrl=${encodeURIComponent("http://lunary.example.com")}&appId=${project}`);
  await refused.waitForFunction(() => window.__demoReady === true);
  assert.match(await refused.locator("#status-problem").textContent(), /tracking is off: .*apiUrl/);
  assert.deepEqual([...page.problems, ...refused.problems], []);
});

test("what users type is shown as text in the app and in the inspector, never run as HTML", { timeout: TIMEOUT }, async (t) => {
  const context = await browser.newContext();
  t.after(() => context.close().catch(() => {}));
  const page = await openApp(context);
  const name = `<img src=x onerror="window.__pwned=1">Mallory`;
  const text = `<script>window.__pwned=2</script><b>bold?</b> <img src=x onerror="window.__pwned=3">`;
  await page.locator("#login-name").fill(name);
  await page.locator("#login-email").fill("mallory@evil.example");
  await page.locator("#login-group").fill("<i>group</i>");
  await page.locator("#login-submit").click();
  await ask(page, text);
  await answers(page).first().locator(".thumb-down").click();
  await answers(page).first().locator(".comment-toggle").click();
  await answers(page).first().locator(".comment-input").fill(`<img src=x onerror="window.__pwned=4">`);
  await answers(page).first().locator(".comment-input").press("Enter");
  assert.equal(await page.locator("#account-name").textContent(), name);
  assert.equal(await userMessages(page).first().locator(".bubble").textContent(), text);
  assert.equal(await page.locator(".messages img, .messages script, .messages b").count(), 0);
  const threadId = (await savedThread(page)).id;

  const inspector = await openPage(context);
  await inspector.goto(`${collector.url}/inspector/`);
  await inspector.locator(".thread-item", { hasText: "Mallory" }).click();
  const transcript = inspector.locator(`.transcript[data-thread-id="${threadId}"]`);
  await transcript.locator(".fb-comment").waitFor();
  assert.equal(await transcript.locator(".msg.user .msg-body").textContent(), text);
  assert.equal(await transcript.locator(".fb-comment").textContent(), `<img src=x onerror="window.__pwned=4">`);
  assert.equal(await inspector.locator(`.user-card[data-user-id="mallory@evil.example"] .user-name`).textContent(), name);
  assert.equal(await inspector.locator(".msg-body img, .msg-body script, .msg-body b, .user-name img, .fb img, .ev-summary img").count(), 0);
  for (const p of [page, inspector]) {
    assert.equal(await p.evaluate(() => window.__pwned), undefined, "no injected code ran");
    assert.deepEqual(p.problems, []);
  }
});
