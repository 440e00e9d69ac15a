//! Telling the app what went wrong: every dropped event (always, on the console) and
//! every failed request (on the console when `verbose`), and both to `init({onError})`.
//! Console warnings about drops are at most one a second (a burst past the queue's bound
//! drops thousands of events in one task, and each console call is slow); the next warning
//! counts the ones held back. `onError` hears of every drop.

use crate::prelude::*;

use super::page_static::page_static;
use core::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;

use super::{clock, console};
use crate::core::json::push_u64;
use crate::core::stats::Dropped;

page_static! {
    static ON_ERROR: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
    /// When the last drop warning was written (epoch ms, 0: never).
    static LAST_WARNING_MS: Cell<u64> = const { Cell::new(0) };
    /// Events dropped since then without a warning.
    static HELD_BACK: Cell<u64> = const { Cell::new(0) };
}

/// The least time between two drop warnings on the console.
const WARNING_INTERVAL_MS: u64 = 1000;

/// Sets (or clears) the app's `onError` hook.
pub fn set_hook(hook: Option<js_sys::Function>) {
    ON_ERROR.with(|cell| {
        if let Ok(mut cell) = cell.try_borrow_mut() {
            *cell = hook;
        }
    });
}

/// Events that will never be delivered.
pub fn dropped(dropped: &Dropped) {
    let message = dropped.reason.describe();
    warn_dropped(dropped.count as u64, &message);
    call_hook(
        "dropped",
        dropped.reason.key(),
        dropped.count,
        &message,
        None,
    );
}

fn warn_dropped(count: u64, message: &str) {
    let now = clock::now();
    let last = LAST_WARNING_MS.with(Cell::get);
    if last != 0 && now.saturating_sub(last) < WARNING_INTERVAL_MS {
        HELD_BACK.with(|held| held.set(held.get().saturating_add(count)));
        return;
    }
    LAST_WARNING_MS.with(|cell| cell.set(now.max(1)));
    let held = HELD_BACK.with(|held| held.replace(0));
    let mut text = String::from("dropped ");
    push_u64(&mut text, count);
    text.push_str(" event(s): ");
    text.push_str(message);
    if held > 0 {
        text.push_str(" (and ");
        push_u64(&mut text, held);
        text.push_str(" more since the last warning; see stats().dropped)");
    }
    console::warn(&[&text]);
}

/// A request that failed and will be tried again.
pub fn retrying(status: Option<u16>, count: usize, wait_ms: u64, verbose: bool) {
    let mut message = String::from("request failed (");
    match status {
        Some(status) => {
            message.push_str("status ");
            push_u64(&mut message, u64::from(status));
        }
        None => message.push_str("network error"),
    }
    message.push_str("); retrying in ");
    push_u64(&mut message, wait_ms);
    message.push_str(" ms");
    if verbose {
        console::log(&[&message]);
    }
    let reason = if status.is_some() {
        "status"
    } else {
        "network"
    };
    call_hook("retry", reason, count, &message, status);
}

/// Calls `onError({type, reason, count, message, status?})`; what it throws is ignored.
fn call_hook(kind: &str, reason: &str, count: usize, message: &str, status: Option<u16>) {
    let Some(hook) = ON_ERROR.with(|cell| cell.try_borrow().ok().and_then(|hook| hook.clone()))
    else {
        return;
    };
    let report = js_sys::Object::new();
    let set =
        |key: &str, value: JsValue| js_sys::Reflect::set(&report, &key.into(), &value).is_ok();
    let filled = set("type", kind.into())
        && set("reason", reason.into())
        && set("count", (count as f64).into())
        && set("message", message.into())
        && status.is_none_or(|status| set("status", f64::from(status).into()));
    if filled {
        let _ = hook.call1(&JsValue::UNDEFINED, &report);
    }
}
