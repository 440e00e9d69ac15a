//! The one SDK instance of the page: the core's tracker, where to send, the store, and
//! the loop that moves events from the outbox to the server.
//!
//! Borrows of the shared state are short and never span a call into page-controlled
//! code (storage, fetch, console, promise callbacks): such code may call back into the
//! SDK, and a borrow held across it would make that call fail.

use std::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;

use super::storage::Store;
use super::transport::{self, Endpoint};
use super::{clock, console, identity_store, timer};
use crate::core::identity::{after_identify, PendingIdentity};
use crate::core::json::RawJson;
use crate::core::outbox::{DropReason, Dropped, Handled, Next, Policy};
use crate::core::tracker::Tracker;

thread_local! {
    static TRACKER: RefCell<Tracker> = RefCell::new(Tracker::new(Policy::default()));
    static ENDPOINT: RefCell<Option<Endpoint>> = const { RefCell::new(None) };
    static STORE: Store = Store::default();
    static VERBOSE: Cell<bool> = const { Cell::new(false) };
    /// `identify`/`reset` calls made before `init` gave the key to the saved user.
    static PENDING: RefCell<PendingIdentity> = RefCell::new(PendingIdentity::default());
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

/// `init`: where to send, batching options; loads this project's saved user unless one
/// was identified before `init`, which is saved instead.
pub fn configure(endpoint: Endpoint, policy: Policy, verbose: bool) {
    VERBOSE.with(|cell| cell.set(verbose));
    let key = endpoint.key.clone();
    ENDPOINT.with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(endpoint);
        }
    });
    let pending = PENDING.with(|pending| {
        pending
            .try_borrow_mut()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    });
    let saved = STORE.with(|store| identity_store::load(store, &key));
    let user = if pending.is_empty() {
        saved
    } else {
        let user = pending.apply(saved);
        STORE.with(|store| match &user {
            Some(user) => identity_store::save(store, &key, user),
            None => identity_store::forget(store, &key),
        });
        user
    };
    with_tracker(|t| t.set_user(user));
    with_tracker(|t| {
        t.outbox.set_policy(policy);
        t.outbox.set_enabled(true);
    });
    pump();
}

/// `identify`: sets the user (merging props for the same id) and saves it for the
/// project; before `init`, remembers the call to apply to the saved user then.
pub fn identify(id: String, props: Option<RawJson>) {
    let changed = with_tracker(|t| {
        let user = after_identify(t.user(), id.clone(), props.clone());
        let changed = t.user() != Some(&user);
        t.set_user(Some(user.clone()));
        changed.then_some(user)
    });
    match project_key() {
        Some(key) => {
            if let Some(Some(user)) = changed {
                STORE.with(|store| identity_store::save(store, &key, &user));
            }
        }
        None => PENDING.with(|pending| {
            if let Ok(mut pending) = pending.try_borrow_mut() {
                pending.identify(id, props);
            }
        }),
    }
}

/// `reset`: forgets the user, in memory and in storage (or at `init`, before it).
pub fn reset() {
    with_tracker(|t| t.set_user(None));
    match project_key() {
        Some(key) => STORE.with(|store| identity_store::forget(store, &key)),
        None => PENDING.with(|pending| {
            if let Ok(mut pending) = pending.try_borrow_mut() {
                pending.reset();
            }
        }),
    }
}

/// After a tracking call: report what the queue had to drop, log the event when verbose,
/// and make sure the timer will send it.
pub fn after_track(now: u64, dropped: Option<Dropped>) {
    if let Some(dropped) = dropped {
        report_dropped(&dropped);
    }
    if verbose() {
        if let Some(Some(json)) = with_tracker(|t| t.outbox.newest().map(str::to_string)) {
            console::log(&["queued ", &json]);
        }
    }
    if let Some(Some(at)) = with_tracker(|t| t.outbox.due_at(now)) {
        timer::arm(at, now);
    }
}

/// Sends the next batch if one is due, or arms the timer for when it will be.
pub fn pump() {
    let now = clock::now();
    let Some(next) = with_tracker(|t| t.outbox.next(now)) else {
        return;
    };
    match next {
        Next::Send(body) => {
            let endpoint = ENDPOINT.with(|e| e.try_borrow().ok().and_then(|e| e.clone()));
            match endpoint {
                Some(endpoint) => wasm_bindgen_futures::spawn_local(send(endpoint, body)),
                // Unreachable in practice: the outbox is enabled only by `configure`.
                None => {
                    let now = clock::now();
                    with_tracker(|t| {
                        t.outbox
                            .on_reply(now, crate::core::outbox::Reply::NetworkError)
                    });
                }
            }
        }
        Next::WakeAt(at) => timer::arm(at, now),
        Next::Idle => {}
    }
}

async fn send(endpoint: Endpoint, body: String) {
    if verbose() {
        console::log(&["sending to ", &endpoint.url]);
    }
    let reply = transport::post(&endpoint, &body, false).await;
    let now = clock::now();
    let handled = with_tracker(|t| t.outbox.on_reply(now, reply)).unwrap_or_default();
    report(&handled);
    settle_flushes(handled.retrying);
    pump();
}

fn report(handled: &Handled) {
    for dropped in &handled.dropped {
        report_dropped(dropped);
    }
    if handled.retrying {
        console::warn(&["could not deliver a batch; it stays queued and will be retried"]);
    } else if verbose() {
        let mut count = String::new();
        crate::core::json::push_u64(&mut count, handled.delivered as u64);
        console::log(&["delivered ", &count, " event(s)"]);
    }
}

fn report_dropped(dropped: &Dropped) {
    let mut count = String::new();
    crate::core::json::push_u64(&mut count, dropped.count as u64);
    match &dropped.reason {
        DropReason::QueueFull => {
            console::warn(&["dropped ", &count, " oldest event(s): the queue is full"])
        }
        DropReason::Status(status) => {
            let mut code = String::new();
            crate::core::json::push_u64(&mut code, u64::from(*status));
            console::warn(&["dropped ", &count, " event(s): the server answered ", &code]);
        }
        DropReason::Refused(reason) => {
            console::warn(&["dropped ", &count, " event(s) the server refused: ", reason])
        }
    }
}

/// `flush()`: a promise that resolves once everything tracked before the call has been
/// answered by the server (or at once when there is nothing to wait for).
pub fn flush() -> js_sys::Promise {
    let waiting = with_tracker(|t| {
        let mark = t.outbox.flush_mark();
        (t.outbox.enabled() && !t.outbox.settled(mark)).then_some(mark)
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

/// Resolves the flushes whose events are all answered (all of them after a failed
/// attempt: a flush waits for one answer, not for the server to recover).
fn settle_flushes(failed: bool) {
    let ready: Vec<js_sys::Function> = WAITERS.with(|waiters| {
        let Ok(mut waiters) = waiters.try_borrow_mut() else {
            return Vec::new();
        };
        let mut ready = Vec::new();
        waiters.retain(|(mark, resolve)| {
            let done = failed || with_tracker(|t| t.outbox.settled(*mark)).unwrap_or(true);
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
