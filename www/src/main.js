// A small support chat, tracked with lunary-wasm the way an app would do it:
//   sign in      → lunary.identify(userId, {name, email, avatar, group})
//   log out      → lunary.reset()
//   a new chat   → lunary.openThread({tags})        (its id is kept to reopen it after a reload)
//   a message    → thread.trackMessage({role, content})  → the message's id
//   👍 / 👎 / 💬  → lunary.trackFeedback(answerId, {thumb, comment})
// Everything the user typed is put on the page as text (textContent), never as HTML.
import lunary from "lunary-wasm";
import { resolveConfig } from "./config.js";
import { cannedReply, replyDelay } from "./assistant.js";
import { appStore } from "./store.js";
import { icon } from "./icons.js";
import "./style.css";

const config = resolveConfig(window.location, import.meta.env);
let setupProblem = null; // init refuses, e.g., an ?apiUrl= that is not https:
try {
  lunary.init({ appId: config.appId, apiUrl: config.apiUrl, onError: showDeliveryProblem });
} catch (error) {
  setupProblem = `tracking is off: ${error instanceof Error ? error.message : String(error)}`;
}
const store = appStore(config.appId);

const PERSONAS = [
  { name: "Ada Lovelace", email: "ada@analytical.example", group: "Acme Corp", avatar: "otter" },
  { name: "Grace Hopper", email: "grace@cobol.example", group: "Globex", avatar: "fox" },
  { name: "Alan Turing", email: "alan@bletchley.example", group: "Initech", avatar: "heron" },
  { name: "Katherine Johnson", email: "katherine@orbit.example", group: "Umbrella Labs", avatar: "lynx" },
];
const avatarUrl = (name) => new URL(`avatars/${name}.svg`, window.location.href).href;

/** @type {{userId: string, name: string, email?: string, avatar?: string, group?: string} | null} */
let profile = null;
/** @type {import("lunary-wasm").Thread | null} */
let thread = null;
/** @type {{id: string, tags: string[], topic: string, startedAt: number} | null} */
let threadInfo = null;
/** @type {Array<{id: string, role: string, content: string, at: number, feedback?: {thumb: "up" | "down" | null, comment?: string | null}}>} */
let transcript = [];
let replyTimer = 0;
let editingComment = null; // id of the answer whose comment box is open
let restored = { user: false, thread: false };

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** An element with attributes and children; strings become text nodes. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2).toLowerCase(), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child != null && child !== false) node.append(child);
  return node;
}

const initials = (name) =>
  String(name || "?")
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0].toUpperCase())
    .join("") || "?";
const firstName = () => (profile?.name || "there").split(/\s+/)[0];
const shortId = (id) => String(id).slice(0, 8);
const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

// ---------------------------------------------------------------- signing in and out

function showLogin() {
  $("chat").hidden = true;
  $("account").hidden = true;
  $("login").hidden = false;
  const persona = PERSONAS[Math.floor(Math.random() * PERSONAS.length)];
  /** @type {HTMLInputElement} */ ($("login-name")).value = persona.name;
  /** @type {HTMLInputElement} */ ($("login-email")).value = persona.email;
  /** @type {HTMLInputElement} */ ($("login-group")).value = persona.group;
  const choices = $("avatar-choices");
  choices.replaceChildren(
    ...PERSONAS.map(({ avatar }) =>
      el(
        "label",
        { className: "avatar-choice", title: avatar },
        el("input", { type: "radio", name: "avatar", value: avatar, checked: avatar === persona.avatar }),
        el("img", { src: avatarUrl(avatar), alt: avatar, width: 40, height: 40 }),
      ),
    ),
    el(
      "label",
      { className: "avatar-choice", title: "no avatar" },
      el("input", { type: "radio", name: "avatar", value: "" }),
      el("span", { className: "avatar avatar-initials", text: "–" }),
    ),
  );
  $("login-name").focus();
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(/** @type {HTMLFormElement} */ (event.target));
  const name = String(form.get("name") || "").trim();
  const email = String(form.get("email") || "").trim();
  const group = String(form.get("group") || "").trim();
  const avatar = String(form.get("avatar") || "");
  if (!name || !email) return;

  const userId = email.toLowerCase(); // this app's user id; yours is probably a database id
  const userProps = { name, email };
  if (avatar) userProps.avatar = avatarUrl(avatar);
  if (group) userProps.group = group;
  lunary.identify(userId, userProps);

  profile = { userId, ...userProps };
  store.saveProfile(profile);
  restored = { user: false, thread: false };
  startThread(/** @type {HTMLSelectElement} */ ($("topic")).value || "general");
  showChat();
});

$("logout").addEventListener("click", () => {
  lunary.reset(); // later events name no user
  clearTimeout(replyTimer);
  store.clear();
  profile = null;
  thread = null;
  threadInfo = null;
  transcript = [];
  showLogin();
});

// ---------------------------------------------------------------- conversations

function startThread(topic) {
  const tags = ["demo-chat", topic];
  thread = lunary.openThread({ tags });
  threadInfo = { id: thread.id, tags, topic, startedAt: Date.now() };
  transcript = [];
  store.saveThread(threadInfo);
  store.saveTranscript(thread.id, transcript);
}

function resumeThread(saved) {
  // The same id makes the new messages join the same conversation on the server.
  thread = lunary.openThread({ id: saved.id, tags: saved.tags });
  threadInfo = saved;
  transcript = store.transcript(saved.id);
  const last = transcript[transcript.length - 1];
  if (last?.role === "user") scheduleReply(last.content); // the page was left mid-answer
}

$("new-thread").addEventListener("click", () => {
  clearTimeout(replyTimer);
  restored = { ...restored, thread: false };
  startThread(/** @type {HTMLSelectElement} */ ($("topic")).value || "general");
  showChat();
  $("composer-input").focus();
});

function saveTranscript() {
  if (threadInfo) store.saveTranscript(threadInfo.id, transcript);
}

// ---------------------------------------------------------------- messages

const input = /** @type {HTMLTextAreaElement} */ ($("composer-input"));

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  send();
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
input.addEventListener("input", autosize);

function autosize() {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}

const waitingForReply = () => transcript[transcript.length - 1]?.role === "user";

function send() {
  const content = input.value.trim();
  if (!content || !thread || waitingForReply()) return;
  const id = thread.trackMessage({ role: "user", content });
  transcript.push({ id, role: "user", content, at: Date.now() });
  saveTranscript();
  updateStatus();
  input.value = "";
  autosize();
  renderMessages();
  scheduleReply(content);
}

function scheduleReply(question) {
  const threadAtQuestion = thread;
  renderMessages();
  replyTimer = window.setTimeout(() => {
    if (!thread || thread !== threadAtQuestion) return; // logged out or moved on meanwhile
    const turn = transcript.filter((m) => m.role === "assistant").length;
    const content = cannedReply(question, { name: firstName(), turn });
    const id = thread.trackMessage({ role: "assistant", content });
    transcript.push({ id, role: "assistant", content, at: Date.now(), feedback: { thumb: null } });
    saveTranscript();
    updateStatus();
    renderMessages();
  }, replyDelay(question));
}

// ---------------------------------------------------------------- feedback

function setFeedback(message, change) {
  message.feedback = { thumb: null, ...message.feedback, ...change };
  /** @type {import("lunary-wasm").Feedback} */
  const feedback = { thumb: message.feedback.thumb };
  // The comment goes along once the user has written one (null once they clear it).
  if (message.feedback.comment !== undefined) feedback.comment = message.feedback.comment;
  lunary.trackFeedback(message.id, feedback);
  saveTranscript();
  updateStatus();
  renderMessages();
}

function feedbackBar(message) {
  const thumb = message.feedback?.thumb ?? null;
  const comment = message.feedback?.comment;
  const thumbButton = (value, label) =>
    el(
      "button",
      {
        type: "button",
        className: `thumb thumb-${value}`,
        "aria-pressed": String(thumb === value),
        "aria-label": label,
        title: label,
        onClick: () => setFeedback(message, { thumb: thumb === value ? null : value }),
      },
      icon(value),
    );

  const bar = el(
    "div",
    { className: "feedback" },
    thumbButton("up", "Helpful"),
    thumbButton("down", "Not helpful"),
    editingComment === message.id
      ? null
      : el(
          "button",
          {
            type: "button",
            className: "comment-toggle",
            onClick: () => {
              editingComment = message.id;
              renderMessages();
            },
          },
          icon("comment"),
          comment ? "Edit comment" : "Comment",
        ),
  );

  if (editingComment !== message.id) {
    return [bar, comment ? el("p", { className: "comment" }, icon("comment"), el("span", { className: "comment-text", text: comment })) : null];
  }

  const field = el("input", {
    type: "text",
    className: "comment-input",
    maxlength: 500,
    placeholder: "What was good or wrong about this answer?",
    "aria-label": "comment",
  });
  field.value = comment ?? "";
  const form = el(
    "form",
    {
      className: "comment-form",
      onSubmit: (event) => {
        event.preventDefault();
        editingComment = null;
        const text = field.value.trim();
        if (text || comment) setFeedback(message, { comment: text || null });
        else renderMessages();
      },
    },
    field,
    el("button", { type: "submit", className: "button small primary", text: "Save" }),
    el("button", {
      type: "button",
      className: "button small ghost",
      text: "Cancel",
      onClick: () => {
        editingComment = null;
        renderMessages();
      },
    }),
  );
  queueMicrotask(() => field.focus());
  return [bar, form];
}

// ---------------------------------------------------------------- rendering

function showChat() {
  $("login").hidden = true;
  $("chat").hidden = false;
  $("account").hidden = false;

  $("account-name").textContent = profile?.name ?? "";
  $("account-group").textContent = profile?.group ?? "";
  const img = /** @type {HTMLImageElement} */ ($("account-avatar"));
  const hasAvatar = typeof profile?.avatar === "string" && /^https?:/i.test(profile.avatar);
  img.hidden = !hasAvatar;
  if (hasAvatar) img.src = profile.avatar;
  else img.removeAttribute("src");
  $("account-initials").hidden = hasAvatar;
  $("account-initials").textContent = initials(profile?.name);

  $("thread-topic").textContent = threadInfo?.topic ?? "";
  $("thread-id").textContent = threadInfo ? shortId(threadInfo.id) : "";
  $("thread-id").title = threadInfo ? `thread id ${threadInfo.id}` : "";
  renderHint();
  renderMessages();
}

function renderHint() {
  const text = $("reload-hint-text");
  const userId = lunary.getUserId() ?? "(nobody)";
  const code = (value) => el("code", { text: value });
  if (restored.user && restored.thread) {
    $("reload-hint").classList.add("restored");
    text.replaceChildren(
      "✓ Still here after the reload: ",
      code("getUserId()"),
      " → ",
      code(`"${userId}"`),
      ", and ",
      code(`openThread("${shortId(threadInfo?.id ?? "")}…")`),
      " reopened this conversation.",
    );
  } else {
    $("reload-hint").classList.remove("restored");
    text.replaceChildren(
      "Try a reload: lunary-wasm keeps you signed in (",
      code("getUserId()"),
      " → ",
      code(`"${userId}"`),
      ") and the app reopens this conversation by its id.",
    );
  }
}

function renderMessages() {
  const list = $("messages");
  const items = transcript.map((message) => {
    const mine = message.role === "user";
    return el(
      "li",
      { className: `message ${mine ? "from-user" : "from-assistant"}`, "data-role": message.role, "data-id": message.id },
      mine ? null : el("span", { className: "avatar avatar-bot", "aria-hidden": "true", text: "A" }),
      el(
        "div",
        { className: "bubble-wrap" },
        el("div", { className: "bubble", text: message.content }),
        el("div", { className: "meta", text: `${mine ? "You" : "Assistant"} · ${clock(message.at)}` }),
        ...(mine ? [] : feedbackBar(message)),
      ),
    );
  });
  if (transcript.length === 0) {
    items.push(
      el(
        "li",
        { className: "empty" },
        el("strong", { text: `Hi ${firstName()}, how can we help?` }),
        el("span", { text: "Try “What does the Pro plan cost?” or “How do I export my data?”" }),
      ),
    );
  }
  if (waitingForReply()) {
    items.push(
      el(
        "li",
        { className: "message from-assistant typing", "aria-label": "assistant is typing" },
        el("span", { className: "avatar avatar-bot", "aria-hidden": "true", text: "A" }),
        el("div", { className: "bubble" }, el("span", { className: "dots" }, el("i"), el("i"), el("i"))),
      ),
    );
  }
  list.replaceChildren(...items);
  list.scrollTop = list.scrollHeight;
  /** @type {HTMLButtonElement} */ ($("send")).disabled = waitingForReply();
}

// ---------------------------------------------------------------- delivery status

let lastProblem = null;

/** init({onError}): told about every dropped event and every failed request. */
function showDeliveryProblem(report) {
  const text = report.type === "retry" ? `retrying: ${report.message}` : `dropped ${report.count}: ${report.message}`;
  lastProblem = { at: Date.now(), text };
  updateStatus();
}

function updateStatus() {
  const target = config.apiUrl === window.location.origin ? `${config.apiUrl} (this server)` : config.apiUrl;
  $("status-target").textContent = `→ ${target} · project ${shortId(config.appId)}…`;
  $("status-target").title = `apiUrl ${config.apiUrl}\nappId ${config.appId}\n(set with ?apiUrl=…&appId=…)`;
  const stats = lunary.stats();
  if (stats) {
    const dropped = stats.dropped.total ? ` · ${stats.dropped.total} dropped` : "";
    $("status-counts").textContent = `this page: ${stats.delivered} delivered · ${stats.queued} queued${dropped}`;
  }
  const problem = setupProblem ?? (lastProblem && Date.now() - lastProblem.at < 15_000 ? lastProblem.text : "");
  $("status-problem").textContent = problem;
  $("status-dot").className = `status-dot ${problem ? "warn" : stats && stats.queued === 0 ? "ok" : "busy"}`;
}

$("reload").addEventListener("click", async () => {
  await lunary.flush(); // not needed (unsent events are kept), but the inspector is then up to date
  window.location.reload();
});

// ---------------------------------------------------------------- start-up
// (last, so that everything above is defined when it runs)

{
  const userId = lunary.getUserId(); // the SDK remembers the identified user across reloads
  if (userId) {
    const saved = store.profile();
    profile = saved && saved.userId === userId ? saved : { userId, name: userId };
    restored.user = true;
    const savedThread = store.thread();
    if (savedThread?.id) {
      resumeThread(savedThread);
      restored.thread = true;
    } else {
      startThread("general");
    }
    showChat();
  } else {
    showLogin();
  }
  updateStatus();
  setInterval(updateStatus, 1000);
  window.__demoReady = true; // for the demo's browser test
}
