//! The one SDK instance of the page: the core's tracker, where to send, the store, and
//! the loop that moves events from the outbox to the server.
//!
//! Borrows of the shared state are short and never span a call into page-controlled
//! code (storage, fetch, console, promise callbacks): such code may call back into the
//! SDK, and a borrow held across it would make that call fail.

use crate::prelude::*;

use super::page_static::page_static;
use core::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;

use super::storage::Store;
use super::timer::Timer;
use super::transport::{self, Endpoint};
use super::{clock, console, lifecycle, persist, report, user};
use crate::core::outbox::{Handled, Next, Policy, Reply, Request};
use crate::core::stats::Dropped;
use crate::core::tracker::Tracker;

page_static! {
    static TRACKER: RefCell<Tracker> = RefCell::new(Tracker::new(Policy::default()));
    static ENDPOINT: RefCell<Option<Endpoint>> = const { RefCell::new(None) };
    pub static STORE: Store = Store::default();
    static SEND_TIMER: Timer = Timer::new(on_send_timer);
    static VERBOSE: Cell<bool> = const { Cell::new(false) };
    /// Answers that came back after `pagehide`, applied if the page is shown again.
    static LATE_REPLIES: RefCell<Vec<(u64, Reply)>> = const { RefCell::new(Vec::new()) };
    /// Pending `flush()` promises: the mark each waits for and its resolver.
    static WAITERS: RefCell<Vec<(u64, js_sys::Function)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on the tracker; `None` only if called re-entrantly from inside another borrow.
pub fn with_tracker<R>(f: impl FnOnce(&mut Tracker) -> R) -> Option<R> {
    TRACKER.with(|tracker| {
        tracker
            .try_borrow_mut()
            .ok()
            .map(|mut tracker| f(&mut tracker))
    })
}

/// Whether `verbose: true` was given.
pub fn verbose() -> bool {
    VERBOSE.with(Cell::get)
}

/// The project key given to `init`, if any.
pub fn project_key() -> Option<String> {
    ENDPOINT.with(|endpoint| endpoint.try_borrow().ok()?.as_ref().map(|e| e.key.clone()))
}

/// Whether the browser thinks it is online (sending waits for the `online` event if not).
pub fn online() -> bool {
    lifecycle::navigator_online()
}

/// `init`: where to send and the options; applies identity calls made before it to the
/// project's saved user; takes over events left behind by earlier pages and tabs.
pub fn configure(endpoint: Endpoint, policy: Policy, verbose: bool, respect_do_not_track: bool) {
    VERBOSE.with(|cell| cell.set(verbose));
    let key = endpoint.key.clone();
    ENDPOINT.with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(endpoint);
        }
    });
    let (user, opted_out) = STORE.with(|store| user::at_init(store, &key, respect_do_not_track));
    let dropped = with_tracker(|t| {
        t.set_user(user);
        t.outbox.set_enabled(true);
        let opted = t.outbox.set_opted_out(opted_out);
        t.outbox.set_policy(policy).or(opted)
    });
    lifecycle::install();
    persist::start(&key);
    after_change(dropped.flatten());
}

/// After a tracking call: log the event when verbose, then as after any change.
pub fn after_track(now: u64, dropped: Option<Dropped>) {
    if verbose() {
        if let Some(Some(json)) = with_tracker(|t| t.outbox.newest().map(str::to_string)) {
            console::log(&["queued ", &json]);
        }
    }
    if let Some(dropped) = dropped {
        report::dropped(&dropped);
    }
    schedule(now);
    persist::save_soon(now);
}

/// After the outbox changed: report what it dropped, make sure it will be sent and saved.
pub fn after_change(dropped: Option<Dropped>) {
    after_track(clock::now(), dropped);
}

/// Arms the send timer for when the outbox next needs attention.
fn schedule(now: u64) {
    if let Some(Some(at)) = with_tracker(|t| t.outbox.due_at(now)) {
        SEND_TIMER.with(|timer| timer.arm(at, now));
    }
}

fn on_send_timer() {
    SEND_TIMER.with(Timer::fired);
    pump();
}

/// Sends the next batch if one is due, or arms the timer for when it will be. While the
/// browser is offline nothing is sent: the `online` event pumps again.
pub fn pump() {
    // While queues left behind are being taken over, wait: they go first.
    if !online() || lifecycle::page_gone() || persist::taking_over() {
        return;
    }
    let now = clock::now();
    match with_tracker(|t| t.outbox.next(now)) {
        Some(Next::Send(request)) => start(request),
        Some(Next::WakeAt(at)) => SEND_TIMER.with(|timer| timer.arm(at, now)),
        Some(Next::Idle) | None => {}
    }
}

/// While the page goes away: sends what fits in the keepalive budget.
pub fn send_keepalive() {
    while let Some(Some(request)) = with_tracker(|t| t.outbox.take_keepalive(clock::now())) {
        start(request);
    }
}

fn start(request: Request) {
    let endpoint = ENDPOINT.with(|e| e.try_borrow().ok().and_then(|e| e.clone()));
    if let Some(endpoint) = endpoint {
        if verbose() {
            console::log(&["sending to ", &endpoint.url]);
        }
        // Started here, not in the future: a page going away gets no later turn.
        let started = transport::start(&endpoint, &request.body, request.keepalive);
        wasm_bindgen_futures::spawn_local(finish(request.id, request.keepalive, started));
    }
}

/// How long a keepalive request's network error waits before it counts. When the page is
/// navigated away, Chromium can fail the page's side of a keepalive request a few
/// milliseconds before `pagehide`, though the browser still delivers it: taken as a failure
/// there, its events would be saved for the next page and sent twice. Once `pagehide` has
/// come, the error is a late reply like any other (and the timer of a page that is gone
/// never fires).
const KEEPALIVE_ERROR_GRACE_MS: u64 = 100;

async fn finish(id: u64, keepalive: bool, started: Result<js_sys::Promise, JsValue>) {
    let reply = transport::answer(started).await;
    if keepalive && matches!(reply, Reply::NetworkError) && !lifecycle::page_gone() {
        let later = move || settle(id, Reply::NetworkError);
        if super::timer::after(KEEPALIVE_ERROR_GRACE_MS, later) {
            return;
        }
    }
    settle(id, reply);
}

/// Applies an answer, or keeps it for later if the page is gone meanwhile.
fn settle(id: u64, reply: Reply) {
    if lifecycle::page_gone() {
        // The browser fails the page's side of requests as it unloads, though it sends
        // them: taken as failures, they would be sent twice. The saved queue already says
        // what became of them; if the page is shown again, they are applied then.
        LATE_REPLIES.with(|late| {
            if let Ok(mut late) = late.try_borrow_mut() {
                late.push((id, reply));
            }
        });
        return;
    }
    apply(id, reply);
}

/// The page is shown again (back from the back/forward cache): what came back meanwhile.
pub fn page_shown() {
    let late = LATE_REPLIES.with(|late| {
        late.try_borrow_mut()
            .map(|mut late| core::mem::take(&mut *late))
            .unwrap_or_default()
    });
    for (id, reply) in late {
        apply(id, reply);
    }
    pump();
}

fn apply(id: u64, reply: Reply) {
    let status = match &reply {
        Reply::Status { status, .. } => Some(*status),
        Reply::NetworkError => None,
    };
    let now = clock::now();
    let random = js_sys::Math::random();
    let handled = with_tracker(|t| t.outbox.on_reply(now, id, reply, random)).unwrap_or_default();
    announce(&handled, status);
    settle_flushes();
    persist::save_soon(now);
    pump();
}

fn announce(handled: &Handled, status: Option<u16>) {
    for dropped in &handled.dropped {
        report::dropped(dropped);
    }
    if let Some(wait) = handled.retry_in_ms {
        let count = with_tracker(|t| t.outbox.pending()).unwrap_or(0);
        report::retrying(status, count, wait, verbose());
    } else if verbose() {
        let mut count = String::new();
        crate::core::json::push_u64(&mut count, handled.delivered as u64);
        console::log(&["delivered ", &count, " event(s)"]);
    }
}

/// `flush()`: a promise that resolves once everything tracked before the call has been
/// delivered or dropped (at once when there is nothing to wait for). It never rejects.
pub fn flush() -> js_sys::Promise {
    let taking_over = persist::taking_over();
    let waiting = with_tracker(|t| {
        let mark = t.outbox.flush_mark();
        (t.outbox.enabled() && (taking_over || !t.outbox.settled(mark))).then_some(mark)
    });
    let Some(Some(mark)) = waiting else {
        return js_sys::Promise::resolve(&JsValue::UNDEFINED);
    };
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        WAITERS.with(|waiters| {
            if let Ok(mut waiters) = waiters.try_borrow_mut() {
                waiters.push((mark, resolve));
            }
        });
    });
    pump();
    promise
}

/// Resolves the flushes whose events have all left the outbox (once events left behind
/// by earlier pages, which go before them, have been taken over).
pub fn settle_flushes() {
    if persist::taking_over() {
        return;
    }
    let ready: Vec<js_sys::Function> = WAITERS.with(|waiters| {
        let Ok(mut waiters) = waiters.try_borrow_mut() else {
            return Vec::new();
        };
        let mut ready = Vec::new();
        waiters.retain(|(mark, resolve)| {
            let done = with_tracker(|t| t.outbox.settled(*mark)).unwrap_or(true);
            if done {
                ready.push(resolve.clone());
            }
            !done
        });
        ready
    });
    for resolve in ready {
        let _ = resolve.call0(&JsValue::UNDEFINED);
    }
}
