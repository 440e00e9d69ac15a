//! Telling the app what went wrong: every dropped event (always, on the console) and
//! every failed request (on the console when `verbose`), and both to `init({onError})`.

use crate::prelude::*;

use super::page_static::page_static;
use core::cell::RefCell;
use wasm_bindgen::prelude::*;

use super::console;
use crate::core::json::push_u64;
use crate::core::stats::Dropped;

page_static! {
    static ON_ERROR: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

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
    let mut count = String::new();
    push_u64(&mut count, dropped.count as u64);
    let message = dropped.reason.describe();
    console::warn(&["dropped ", &count, " event(s): ", &message]);
    call_hook(
        "dropped",
        dropped.reason.key(),
        dropped.count,
        &message,
        None,
    );
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
