//! Unsent events in storage, so a reload, a closed tab or a crash does not lose them.
//!
//! Each tab writes only its own key, `lunary:<project>:queue:<tab id>` (tabs never write
//! the same key, so there are no lost updates between them), at most about once a second
//! and at once when the page is hidden or goes away. A tab that is gone leaves its key
//! behind; the next tab to start takes it over: under the gone tab's Web Lock where
//! there are Web Locks (so two tabs can never take over the same queue), else once the
//! key has not been written for `STALE_MS` (a live tab rewrites it every `HEARTBEAT_MS`;
//! a page that finds a fresh key looks again when it would be stale). A tab whose lock is held is asked again a few
//! times (a page that is reloading releases it a moment after the new page starts), and
//! then waited for: its queue is taken over the moment it closes.

use crate::prelude::*;

use super::page_static::page_static;
use core::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;

use super::runtime::{self, STORE};
use super::timer::Timer;
use super::{clock, console, lifecycle, locks, random, timer};
use crate::core::persisted;

/// How soon after a change the queue is written.
const SAVE_DELAY_MS: u64 = 1000;
/// Without Web Locks: how often a tab with unsent events rewrites its key to show it is
/// alive, and how old a key must be to count as left behind.
const HEARTBEAT_MS: u64 = 10_000;
const STALE_MS: u64 = 30_000;
/// A second look for left-behind queues after start.
const RECHECK_MS: u64 = 2000;
/// How often a held lock of another tab is asked for again before waiting for it, and
/// the first pause (tripled each time). Sending waits meanwhile: taken-over events go first.
const ASK_AGAIN: u32 = 3;
const ASK_AGAIN_FIRST_MS: u64 = 50;
/// How long a gone tab's lock is held before its queue is read: its last writes to
/// storage may reach this tab a moment after the lock was released.
const SETTLE_MS: u64 = 300;

page_static! {
    static TAB_ID: String = random::new_id();
    static SAVE_TIMER: Timer = Timer::new(on_save_timer);
    static RECHECK_TIMER: Timer = Timer::new(on_recheck_timer);
    static STARTED: Cell<bool> = const { Cell::new(false) };
    /// The tab's own lock is held (or Web Locks are missing): its key may be written.
    static MAY_WRITE: Cell<bool> = const { Cell::new(false) };
    static USES_LOCKS: Cell<bool> = const { Cell::new(false) };
    /// Lock requests of the takeover not answered yet (a `flush()` waits for them).
    static TAKING_OVER: Cell<u32> = const { Cell::new(0) };
    /// Tabs whose lock this tab waits for, so it asks only once.
    static WAITING_FOR: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// Stored lines that were not events and were thrown away.
    static DISCARDED: Cell<u64> = const { Cell::new(0) };
}

fn prefix(project: &str) -> String {
    let mut key = String::from("lunary:");
    key.push_str(project);
    key.push_str(":queue:");
    key
}

fn tab_lock(tab: &str) -> String {
    let mut name = String::from("lunary-tab:");
    name.push_str(tab);
    name
}

fn own_key(project: &str) -> String {
    let mut key = prefix(project);
    TAB_ID.with(|tab| key.push_str(tab));
    key
}

/// Stored lines discarded because they were not events (corrupt or foreign data).
pub fn discarded() -> u64 {
    DISCARDED.with(Cell::get)
}

/// At `init`: claims this tab's lock (once), then takes over the queues of tabs that are
/// gone; and again a little later, in case a page that just unloaded still held its lock.
pub fn start(project: &str) {
    if !STARTED.with(|cell| cell.replace(true)) {
        let name = TAB_ID.with(|tab| tab_lock(tab));
        let uses_locks = locks::hold_forever(&name, on_own_lock);
        USES_LOCKS.with(|cell| cell.set(uses_locks));
        if uses_locks {
            TAKING_OVER.with(|cell| cell.set(cell.get() + 1));
            return;
        }
        MAY_WRITE.with(|cell| cell.set(true));
    }
    if MAY_WRITE.with(Cell::get) {
        adopt_left_behind(project);
    }
}

fn on_own_lock() {
    MAY_WRITE.with(|cell| cell.set(true));
    adopt_now_and_later();
    save_soon(clock::now());
    answered();
}

/// Whether a takeover is under way (its lock requests not all answered yet).
pub fn taking_over() -> bool {
    TAKING_OVER.with(Cell::get) > 0
}

/// One lock request of the takeover answered; the last one lets flushes settle.
fn answered() {
    let left = TAKING_OVER.with(|cell| {
        cell.set(cell.get().saturating_sub(1));
        cell.get()
    });
    if left == 0 {
        runtime::settle_flushes();
        runtime::pump();
    }
}

fn adopt_now_and_later() {
    if let Some(project) = runtime::project_key() {
        adopt_left_behind(&project);
        let now = clock::now();
        RECHECK_TIMER.with(|timer| timer.arm(now + RECHECK_MS, now));
    }
}

fn on_recheck_timer() {
    RECHECK_TIMER.with(Timer::fired);
    if let Some(project) = runtime::project_key() {
        adopt_left_behind(&project);
    }
}

/// Takes over every other tab's queue whose tab is gone.
pub fn adopt_left_behind(project: &str) {
    let own = own_key(project);
    let prefix = prefix(project);
    let keys = STORE.with(|store| store.keys_with_prefix(&prefix));
    for key in keys.into_iter().filter(|key| *key != own) {
        let tab = key.get(prefix.len()..).unwrap_or_default().to_string();
        let waited_for =
            WAITING_FOR.with(|waiting| waiting.try_borrow().is_ok_and(|w| w.contains(&tab)));
        if USES_LOCKS.with(Cell::get) {
            if waited_for {
                // Already taken over the moment that tab closes.
                continue;
            }
            if locks::if_available(&tab_lock(&tab), SETTLE_MS, move |held| {
                on_lock_answer(key, tab, held, 0)
            }) {
                TAKING_OVER.with(|cell| cell.set(cell.get() + 1));
            }
        } else {
            adopt_if_stale(&key);
        }
    }
}

/// Without a lock to go by: takes the queue under `key` over if it is stale. One not
/// stale yet may be a live tab's, or the queue of the page this one replaced: it is
/// looked at again when it would be stale.
fn adopt_if_stale(key: &str) {
    let now = clock::now();
    if let Some(stale_at) = adopt(key, Some(now)) {
        RECHECK_TIMER.with(|timer| timer.arm(stale_at, now));
    }
}

/// The answer to asking for a gone (or going) tab's lock: taken over under it if held;
/// else asked again shortly, and after that waited for. A lock the browser refuses to name
/// (`None`: no tab can hold it, so no SDK tab wrote that key) is judged by its timestamp,
/// as without Web Locks.
fn on_lock_answer(key: String, tab: String, held: Option<bool>, asked_again: u32) {
    if held == Some(true) {
        adopt(&key, None);
    } else if held.is_none() {
        adopt_if_stale(&key);
    } else if asked_again < ASK_AGAIN {
        let pause = ASK_AGAIN_FIRST_MS * 3u64.pow(asked_again);
        let name = tab_lock(&tab);
        let retry = move || {
            let next = move |held| on_lock_answer(key, tab, held, asked_again + 1);
            if !locks::if_available(&name, SETTLE_MS, next) {
                answered();
            }
        };
        if timer::after(pause, retry) {
            // Still counted as under way: the retry answers for it.
            return;
        }
    } else {
        wait_for(key, tab);
    }
    answered();
}

/// Takes the queue over when its tab closes (a live tab's lock is held until then).
fn wait_for(key: String, tab: String) {
    let first = WAITING_FOR.with(|waiting| {
        let Ok(mut waiting) = waiting.try_borrow_mut() else {
            return false;
        };
        let first = !waiting.contains(&tab);
        if first {
            waiting.push(tab.clone());
        }
        first
    });
    if first {
        let name = tab_lock(&tab);
        locks::when_free(&name, SETTLE_MS, move || {
            WAITING_FOR.with(|waiting| {
                if let Ok(mut waiting) = waiting.try_borrow_mut() {
                    waiting.retain(|known| *known != tab);
                }
            });
            adopt(&key, None);
        });
    }
}

/// Moves the queue under `key` into this tab's outbox. With `stale_before`, only a queue
/// not written since `STALE_MS` before that time is taken; for one written since, answers
/// when it will be stale.
fn adopt(key: &str, stale_before: Option<u64>) -> Option<u64> {
    let text = STORE.with(|store| store.get(key))?;
    let Some((written, lines)) = persisted::decode(&text) else {
        STORE.with(|store| store.remove(key));
        console::warn(&["discarded unreadable saved events under ", key]);
        DISCARDED.with(|cell| cell.set(cell.get() + 1));
        return None;
    };
    let stale_at = written.saturating_add(STALE_MS);
    if stale_before.is_some_and(|now| stale_at > now) {
        return Some(stale_at);
    }
    let (events, bad): (Vec<&str>, Vec<&str>) = lines.into_iter().partition(|line| is_event(line));
    if !bad.is_empty() {
        console::warn(&["discarded saved lines that are not events under ", key]);
        DISCARDED.with(|cell| cell.set(cell.get() + bad.len() as u64));
    }
    let events: Vec<String> = events.into_iter().map(str::to_string).collect();
    let dropped = runtime::with_tracker(|t| t.outbox.restore(events)).flatten();
    // Ours first, then theirs gone: a crash between the two duplicates, never loses.
    save_now();
    STORE.with(|store| store.remove(key));
    runtime::after_change(dropped);
    None
}

/// A saved line is kept only if it is a JSON object with an `event` name.
fn is_event(line: &str) -> bool {
    js_sys::JSON::parse(line)
        .ok()
        .filter(|value| value.is_object())
        .and_then(|value| js_sys::Reflect::get(&value, &JsValue::from_str("event")).ok())
        .is_some_and(|event| event.is_string())
}

/// Writes the queue within about a second (many changes, one write).
pub fn save_soon(now: u64) {
    SAVE_TIMER.with(|timer| timer.arm(now + SAVE_DELAY_MS, now));
}

fn on_save_timer() {
    SAVE_TIMER.with(Timer::fired);
    save_now();
}

/// Writes the queue now. Once the page is gone, events sent with keepalive count as sent
/// (the browser finishes those requests; no answer will come back to say so).
pub fn save_now() {
    if !MAY_WRITE.with(Cell::get) {
        return;
    }
    let Some(project) = runtime::project_key() else {
        return;
    };
    let now = clock::now();
    let text = runtime::with_tracker(|t| {
        let events = t.outbox.snapshot(lifecycle::page_gone());
        (!events.is_empty())
            .then(|| persisted::encode_within(now, &events, persisted::STORED_BYTES).0)
    });
    let key = own_key(&project);
    match text {
        Some(Some(text)) => {
            STORE.with(|store| store.set(&key, &text));
            if !USES_LOCKS.with(Cell::get) {
                SAVE_TIMER.with(|timer| timer.arm(now + HEARTBEAT_MS, now));
            }
        }
        Some(None) => STORE.with(|store| store.remove(&key)),
        // The tracker is busy (a re-entrant call): what is stored stays; the next save
        // writes the queue. Removing it here could lose the events.
        None => {}
    }
}
