// The collector's inspector: users, conversations with their feedback, a live feed of raw
// events and the ingest counters, read from the JSON read API once a second.
//
// Everything that came from an SDK (names, messages, comments, any field) is put on the page
// as text: elements are built with textContent and attributes, never from HTML strings.

const POLL_MS = 1000;
const MAX_FEED_ROWS = 400;

const state = {
  project: "", // "" = every project
  paused: false,
  follow: true, // show the conversation with the latest message
  selected: null, // thread id picked by a click (when not following)
  shownThread: null,
  projects: new Set(),
  last: new Map(), // what was rendered last, by part, as JSON text: render only on change
  feedCount: 0,
  feedProject: null,
  events: [],
  users: [],
};

const $ = (id) => document.getElementById(id);

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
  for (const child of children.flat()) if (child != null && child !== false) node.append(child);
  return node;
}

// ------------------------------------------------------------------ formatting

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const str = (value) => (typeof value === "string" ? value : value == null ? "" : JSON.stringify(value));
const short = (id) => str(id).slice(0, 8);
const clip = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);
const oneLine = (value) => str(value).replace(/\s+/g, " ").trim();

function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}
const clock = (ms, seconds = true) =>
  new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", ...(seconds ? { second: "2-digit" } : {}) });

/** A <time> whose "… ago" text the poller refreshes. */
const relTime = (ms) => el("time", { "data-ago": ms, dateTime: new Date(ms).toISOString(), title: new Date(ms).toLocaleString(), text: ago(ms) });

function hue(text) {
  let h = 0;
  for (const ch of str(text)) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}
function initials(name) {
  const parts = oneLine(name).split(" ").filter(Boolean).slice(0, 2);
  return parts.map((p) => [...p][0].toUpperCase()).join("") || "?";
}
function safeImageUrl(value) {
  if (typeof value !== "string" || value.length > 2048) return null;
  try {
    const url = new URL(value, location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** A round avatar: the user's image, or their initials on a color of their own. */
function avatar(props, userId, size = "") {
  const name = isObject(props) && typeof props.name === "string" ? props.name : userId;
  const letters = el("span", { className: `avatar initials ${size}`, "aria-hidden": "true", text: initials(name) });
  letters.classList.add(`h${Math.floor(hue(userId) / 30)}`);
  const src = isObject(props) ? safeImageUrl(props.avatar) : null;
  if (!src) return letters;
  const img = el("img", { className: `avatar ${size}`, src, alt: "", loading: "lazy", referrerpolicy: "no-referrer" });
  img.addEventListener("error", () => img.replaceWith(letters), { once: true });
  return img;
}

const displayName = (props, userId) =>
  isObject(props) && typeof props.name === "string" && props.name.trim() ? props.name : str(userId) || "anonymous";

function chips(tags, className = "chip") {
  return Array.isArray(tags) ? tags.map((tag) => el("span", { className, text: str(tag) })) : [];
}

const thumbText = { up: "helpful", down: "not helpful" };

const SVG = "http://www.w3.org/2000/svg";
/** A thumb icon (up or down), as SVG elements. */
function thumbIcon(down) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", "M3 10h4v11H3z M7 10l4-7c1.2 0 2.3 1 2 2.4L12.2 10H19a2 2 0 0 1 2 2.3l-1.3 7A2 2 0 0 1 17.7 21H7");
  if (down) path.setAttribute("transform", "rotate(180 12 12)");
  svg.append(path);
  return svg;
}

function feedbackBadge(feedback) {
  if (!isObject(feedback)) return null;
  const thumb = feedback.thumb;
  const comment = typeof feedback.comment === "string" ? feedback.comment : null;
  const other = Object.entries(feedback).filter(([k, v]) => k !== "thumb" && k !== "comment" && v != null);
  if (!thumb && !comment && other.length === 0) return null;
  return el(
    "div",
    { className: "fb", "data-thumb": typeof thumb === "string" ? thumb : "" },
    typeof thumb === "string"
      ? el(
          "span",
          { className: `fb-thumb ${thumb === "up" ? "up" : thumb === "down" ? "down" : ""}` },
          thumb === "up" || thumb === "down" ? thumbIcon(thumb === "down") : null,
          thumbText[thumb] ?? thumb,
        )
      : null,
    comment ? el("q", { className: "fb-comment", text: comment }) : null,
    other.map(([k, v]) => el("span", { className: "fb-other", text: `${k}: ${oneLine(v)}` })),
  );
}

// ------------------------------------------------------------------ data

async function get(path) {
  const response = await fetch(path, { cache: "no-store", headers: { Accept: "application/json" } });
  const text = await response.text();
  if (!response.ok) throw Object.assign(new Error(`${path}: ${response.status}`), { status: response.status });
  return { text, json: JSON.parse(text) };
}

/** Renders `part` only when its data changed since the last time. */
function changed(part, text) {
  if (state.last.get(part) === text) return false;
  state.last.set(part, text);
  return true;
}

const query = () => (state.project ? `?project=${encodeURIComponent(state.project)}` : "");

/** Reads everything once and renders what changed. */
async function refresh() {
  try {
    const q = query();
    const [stats, users, threads, events] = await Promise.all([
      get(`/api/stats${q}`),
      get(`/api/users${q}`),
      get(`/api/threads${q}`),
      get(`/api/events${q}`),
    ]);
    state.events = events.json.events ?? [];
    state.users = users.json.users ?? [];
    const threadList = threads.json.threads ?? [];
    noteProjects(state.users, threadList, state.events);
    if (changed("stats", stats.text)) renderStats(stats.json);
    const id = chooseThread(threadList);
    if (changed("users", users.text)) renderUsers(state.users);
    if (changed("threads", `${threads.text}|${users.text}|${state.events.length}|${id}`)) renderThreads(threadList, id);
    renderFeed(state.events);
    if (id) {
      try {
        const detail = await get(`/api/threads/${encodeURIComponent(id)}${q}`);
        if (changed("thread", users.text + detail.text)) renderThread(detail.json);
      } catch (error) {
        if (error.status !== 404) throw error;
      }
    } else if (changed("thread", "none")) {
      renderNoThread();
    }
    setLive("ok", `live · updated ${clock(Date.now())}`);
  } catch (error) {
    setLive("down", `collector unreachable (${error.message}); retrying`);
  }
  refreshTimes();
}

// One read at a time. The poller reads once a second unless paused; poll(true) (after a
// click) reads at once, or right after the read in progress.
let timer = 0;
let running = false;
let again = false;
async function poll(force = false) {
  clearTimeout(timer);
  if (running) {
    again = again || force;
    return;
  }
  running = true;
  try {
    if (force || !state.paused) await refresh();
    else refreshTimes();
  } finally {
    running = false;
  }
  const soon = again;
  again = false;
  timer = setTimeout(() => poll(soon), soon ? 0 : POLL_MS);
}

function setLive(kind, text) {
  $("live").dataset.state = state.paused ? "paused" : kind;
  $("live-text").textContent = state.paused ? "paused" : text;
}

function refreshTimes() {
  for (const node of document.querySelectorAll("time[data-ago]")) {
    node.textContent = ago(Number(node.dataset.ago));
  }
}

/** The thread to show: the clicked one, or the one with the latest message. */
function chooseThread(threads) {
  if (!state.follow && state.selected && threads.some((t) => t.id === state.selected)) return state.selected;
  for (let i = state.events.length - 1; i >= 0; i--) {
    const event = state.events[i].event;
    if (event?.type === "thread" && typeof event.parentRunId === "string" && threads.some((t) => t.id === event.parentRunId)) {
      return event.parentRunId;
    }
  }
  return threads.length ? threads[threads.length - 1].id : null;
}

function noteProjects(...lists) {
  const before = state.projects.size;
  for (const list of lists) for (const row of list ?? []) if (typeof row.project === "string") state.projects.add(row.project);
  if (state.projects.size === before) return;
  const select = $("project");
  select.replaceChildren(
    el("option", { value: "", text: "all projects" }),
    ...[...state.projects].sort().map((p) => el("option", { value: p, text: p })),
  );
  select.value = state.project;
}

// ------------------------------------------------------------------ rendering

function renderStats(stats) {
  const set = (id, value) => ($(id).textContent = Number.isFinite(value) ? value.toLocaleString() : "–");
  set("stat-received", stats.received);
  set("stat-stored", stats.stored);
  set("stat-duplicates", stats.duplicates);
  set("stat-rejected", stats.rejected);
  set("stat-requests", stats.requests);
  $("tile-duplicates").classList.toggle("notice", stats.duplicates > 0);
  $("tile-rejected").classList.toggle("bad", stats.rejected > 0);
  const reasons = Object.entries(isObject(stats.rejectedReasons) ? stats.rejectedReasons : {});
  const faults = Number(stats.faultsInjected) || 0;
  $("reasons").replaceChildren(
    ...(reasons.length
      ? [el("span", { className: "reasons-title", text: "Rejected because" }), ...reasons.map(([reason, count]) => el("span", { className: "reason" }, el("b", { text: `${count}×` }), ` ${reason}`))]
      : [el("span", { className: "reasons-ok", text: "✓ nothing rejected" })]),
    ...(faults ? [el("span", { className: "reason fault", text: `${faults} fault${faults === 1 ? "" : "s"} injected` })] : []),
  );
}

function renderUsers(users) {
  $("users-count").textContent = String(users.length);
  const showProject = !state.project && state.projects.size > 1;
  const sorted = [...users].sort((a, b) => b.lastSeen - a.lastSeen);
  $("users").replaceChildren(
    ...(sorted.length
      ? sorted.map((user) => {
          const props = isObject(user.userProps) ? user.userProps : {};
          const name = displayName(props, user.userId);
          const email = typeof props.email === "string" ? props.email : null;
          const group = props.group != null ? str(props.group) : null;
          const extra = Object.entries(props).filter(([k]) => !["name", "email", "avatar", "group"].includes(k));
          return el(
            "li",
            { className: "user-card", "data-user-id": str(user.userId) },
            avatar(props, user.userId),
            el(
              "div",
              { className: "user-main" },
              el("div", { className: "user-line" }, el("span", { className: "user-name", text: name }), group ? el("span", { className: "chip group", text: group }) : null),
              email ? el("div", { className: "user-email", text: email }) : null,
              user.userId !== email ? el("div", { className: "user-id mono", title: "userId", text: str(user.userId) }) : null,
              extra.length ? el("div", { className: "user-extra", text: extra.map(([k, v]) => `${k}: ${oneLine(v)}`).join(" · ") }) : null,
              el(
                "div",
                { className: "user-meta" },
                el("span", {}, "first seen ", relTime(user.firstSeen)),
                el("span", {}, "last seen ", relTime(user.lastSeen)),
                el("span", { className: "thread-count", text: `${user.threadCount} conversation${user.threadCount === 1 ? "" : "s"}` }),
              ),
              showProject ? el("div", { className: "project-tag mono", text: `project ${short(user.project)}…` }) : null,
            ),
          );
        })
      : [el("li", { className: "empty", text: "No users yet. Identify one with lunary.identify() and they appear here." })]),
  );
}

function lastMessages() {
  const last = new Map();
  for (const { event } of state.events) {
    if (event?.type === "thread" && event.event === "chat" && typeof event.parentRunId === "string") {
      last.set(event.parentRunId, event);
    }
  }
  return last;
}

function renderThreads(threads, shownId) {
  $("threads-count").textContent = String(threads.length);
  const usersById = new Map(state.users.map((u) => [`${u.project}\n${u.userId}`, u]));
  const last = lastMessages();
  $("threads").replaceChildren(
    ...(threads.length
      ? [...threads].reverse().map((thread) => {
          const user = usersById.get(`${thread.project}\n${thread.userId}`);
          const latest = last.get(thread.id);
          const preview = latest ? `${str(latest.message?.role)}: ${oneLine(latest.message?.content)}` : "";
          return el(
            "li",
            {},
            el(
              "button",
              {
                type: "button",
                className: `thread-item${thread.id === shownId ? " selected" : ""}`,
                "data-thread-id": thread.id,
                "aria-current": thread.id === shownId ? "true" : null,
                onClick: () => setFollow(false, thread.id),
              },
              el(
                "div",
                { className: "thread-line" },
                thread.userId ? avatar(user?.userProps, thread.userId, "small") : el("span", { className: "avatar initials small", text: "?" }),
                el("span", { className: "thread-user", text: thread.userId ? displayName(user?.userProps, thread.userId) : "no user" }),
                el("span", { className: "thread-count", text: `${thread.messageCount} msg` }),
              ),
              el("div", { className: "thread-tags" }, chips(thread.tags), el("span", { className: "mono faint", text: short(thread.id) })),
              preview ? el("div", { className: "thread-preview", text: clip(preview, 90) }) : null,
            ),
          );
        })
      : [el("li", { className: "empty", text: "No conversations yet. Messages tracked with thread.trackMessage() show up here." })]),
  );
}

function renderNoThread() {
  state.shownThread = null;
  $("thread").replaceChildren(el("div", { className: "empty big" }, el("strong", { text: "Waiting for a conversation…" }), el("span", { text: "Send a message in the chat app and it shows up here within a second." })));
}

function renderThread(thread) {
  state.shownThread = thread.id;
  const props = isObject(thread.userProps) ? thread.userProps : {};
  const userName = thread.userId ? displayName(props, thread.userId) : "no user";
  const counts = { user: 0, assistant: 0, feedback: 0 };
  for (const m of thread.messages) {
    if (m.role === "user") counts.user++;
    else if (m.role === "assistant") counts.assistant++;
    if (feedbackBadge(m.feedback)) counts.feedback++;
  }
  const head = el(
    "div",
    { className: "thread-head" },
    thread.userId ? avatar(props, thread.userId, "large") : null,
    el(
      "div",
      { className: "thread-head-main" },
      el("div", { className: "thread-head-title" }, el("span", { text: userName }), typeof props.email === "string" ? el("span", { className: "muted", text: props.email }) : null),
      el("div", { className: "thread-tags" }, chips(thread.tags), el("span", { className: "mono faint", title: "thread id", text: thread.id })),
      el("div", { className: "thread-summary", text: `${counts.user} from the user · ${counts.assistant} answers · ${counts.feedback} with feedback` }),
    ),
  );
  const messages = thread.messages.map((m) => {
    const role = str(m.role) || "?";
    const kind = role === "user" ? "user" : role === "assistant" ? "assistant" : "other";
    const who = kind === "user" ? userName : kind === "assistant" ? "Assistant" : role;
    const content = typeof m.content === "string" ? m.content : m.content == null ? "" : JSON.stringify(m.content, null, 2);
    return el(
      "li",
      { className: `msg ${kind}`, "data-role": role, "data-run-id": str(m.runId) },
      el(
        "div",
        { className: "msg-head" },
        el("span", { className: "msg-who", text: who }),
        typeof m.timestamp === "number" ? el("time", { title: new Date(m.timestamp).toLocaleString(), text: clock(m.timestamp) }) : null,
        el("span", { className: "mono faint", title: "message id (runId)", text: short(m.runId) }),
      ),
      el("div", { className: "msg-body", text: content }),
      feedbackBadge(m.feedback),
    );
  });
  const list = el("ol", { className: "transcript", "data-thread-id": thread.id }, messages.length ? messages : el("li", { className: "empty", text: "No messages." }));
  const old = $("thread").querySelector(".transcript");
  // Like a chat: stay at the newest message, unless the reader scrolled up in this thread.
  const atEnd = !old || old.dataset.threadId !== thread.id || old.scrollHeight - old.scrollTop - old.clientHeight < 40;
  const keep = old && !atEnd ? old.scrollTop : 0;
  $("thread").replaceChildren(head, list);
  list.scrollTop = atEnd ? list.scrollHeight : keep;
}

function eventSummary(event, contentById) {
  if (!isObject(event)) return ["other", oneLine(event)];
  const who = typeof event.userId === "string" ? displayName(event.userProps, event.userId) : null;
  if (event.event === "chat") {
    const role = str(event.message?.role);
    contentById.set(event.runId, oneLine(event.message?.content));
    return ["chat", `${role === "user" && who ? who : role}: ${oneLine(event.message?.content)}`];
  }
  if (event.event === "feedback") {
    const fb = isObject(event.feedback) ? event.feedback : {};
    const parts = [];
    if (fb.thumb) parts.push(fb.thumb === "up" ? "thumbs up" : fb.thumb === "down" ? "thumbs down" : str(fb.thumb));
    if (typeof fb.comment === "string") parts.push(`“${fb.comment}”`);
    const target = contentById.get(event.runId);
    parts.push(target ? `on “${clip(target, 48)}”` : `on ${short(event.runId)}`);
    return ["feedback", `${who ? `${who} ` : ""}${parts.join(" ")}`];
  }
  if (event.type === "log") return [`log-${event.event}`, oneLine(event.message)];
  if (event.event === "custom-event") return ["custom", `${str(event.name)}${who ? ` · ${who}` : ""}`];
  return ["other", `${str(event.type)} ${str(event.event)} ${short(event.runId)}`];
}

function renderFeed(rows) {
  const list = $("events");
  if (state.feedProject !== state.project || rows.length < state.feedCount) {
    list.replaceChildren();
    state.feedCount = 0;
    state.feedProject = state.project;
    state.contentById = new Map();
  }
  $("events-count").textContent = String(rows.length);
  const initial = state.feedCount === 0;
  const fresh = [];
  for (let i = state.feedCount; i < rows.length; i++) {
    const { receivedAt, project, event } = rows[i];
    const [kind, summary] = eventSummary(event, state.contentById);
    const label = kind.startsWith("log-") ? kind.slice(4) : kind === "chat" ? str(event.message?.role) || "chat" : kind;
    fresh.push(
      el(
        "li",
        { className: `ev ev-${kind}${initial ? "" : " fresh"}`, "data-kind": kind },
        el(
          "details",
          {},
          el(
            "summary",
            {},
            el("time", { title: `received ${new Date(receivedAt).toLocaleString()}`, text: clock(receivedAt) }),
            el("span", { className: `badge b-${kind}`, text: label }),
            el("span", { className: "ev-summary", text: clip(summary, 140) }),
          ),
          el("div", { className: "ev-meta mono", text: `project ${str(project)} · ${str(event?.type)} / ${str(event?.event)}` }),
          el("pre", { className: "ev-json", text: JSON.stringify(event, null, 2) }),
        ),
      ),
    );
  }
  state.feedCount = rows.length;
  if (fresh.length) list.prepend(...fresh.reverse());
  while (list.childElementCount > MAX_FEED_ROWS) list.lastElementChild.remove();
  if (rows.length === 0 && !list.firstChild) {
    list.append(el("li", { className: "empty", text: "No events yet. They appear here the moment the collector stores them." }));
    state.feedCount = 0;
  } else if (rows.length && list.querySelector(".empty")) {
    list.querySelector(".empty").remove();
  }
}

// ------------------------------------------------------------------ controls

$("project").addEventListener("change", (event) => {
  state.project = event.target.value;
  state.last.clear();
  state.selected = null;
  poll(true);
});

$("pause").addEventListener("click", () => {
  state.paused = !state.paused;
  $("pause").setAttribute("aria-pressed", String(state.paused));
  $("pause").textContent = state.paused ? "Resume" : "Pause";
  setLive("ok", "live");
  poll(!state.paused);
});

function setFollow(follow, selected = null) {
  state.follow = follow;
  state.selected = selected;
  $("follow").setAttribute("aria-pressed", String(follow));
  $("follow").textContent = follow ? "Following latest" : "Follow latest";
  state.last.delete("threads");
  state.last.delete("thread");
  poll(true);
}
$("follow").addEventListener("click", () => setFollow(true));

renderNoThread();
poll(true);
