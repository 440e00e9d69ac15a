//! Web Locks (`navigator.locks`): how tabs of one app know which of them are alive. Each
//! tab holds a lock named after it for as long as it lives; the browser releases it when
//! the tab goes away, however it goes. Where the API is missing (insecure contexts, old
//! browsers), callers fall back to timestamps.

use crate::prelude::*;

use wasm_bindgen::prelude::*;

use alloc::rc::Rc;
use core::cell::RefCell;

use super::callback::once_with;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["navigator", "locks"], js_name = request)]
    fn request_lock(
        name: &str,
        options: &JsValue,
        callback: &JsValue,
    ) -> Result<LockRequest, JsValue>;

    /// The promise `navigator.locks.request` answers.
    type LockRequest;

    /// `request.then(on_ok, on_err)` with plain function values (the callbacks of
    /// callback.rs), not `Closure`s as js_sys's `Promise::then2` takes.
    #[wasm_bindgen(method, js_name = then)]
    fn then_or(this: &LockRequest, on_ok: &JsValue, on_err: &JsValue) -> JsValue;
}

/// Holds the lock `name` until the page goes away; `on_held` runs once it is held.
/// Returns false where Web Locks are missing.
pub fn hold_forever(name: &str, on_held: fn()) -> bool {
    let callback = once_with(Box::new(move |_lock| {
        on_held();
        // A promise that never settles keeps the lock for the page's lifetime.
        js_sys::Promise::new(&mut |_, _| {}).into()
    }));
    request_lock(name, &js_sys::Object::new(), &callback).is_ok()
}

/// Waits for `name` however long it takes (a tab's lock is free once the tab is gone),
/// then, still holding it, runs `with_lock` after `settle_ms`. Returns false where Web
/// Locks are missing.
pub fn when_free(name: &str, settle_ms: u64, with_lock: impl FnOnce() + 'static) -> bool {
    let callback = once_with(Box::new(move |_lock| {
        hold_then(settle_ms, Box::new(with_lock))
    }));
    request_lock(name, &js_sys::Object::new(), &callback).is_ok()
}

/// An answer callback the lock's callback and its refusal share; the first takes it.
type Shared = Rc<RefCell<Option<Box<dyn FnOnce(Option<bool>)>>>>;

/// Asks for `name` if no one else holds it: if held, `then(Some(true))` runs after
/// `settle_ms`, still holding it; if someone else holds it, `then(Some(false))` runs at once;
/// if the browser refuses the request itself (its promise rejects without calling back:
/// WebKitGTK answers NotSupportedError for a name over 1,024 characters, one no tab can
/// hold either), `then(None)`. Returns false (and never calls `then`) where Web Locks are
/// missing.
pub fn if_available(name: &str, settle_ms: u64, then: impl FnOnce(Option<bool>) + 'static) -> bool {
    let options = js_sys::Object::new();
    if js_sys::Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE).is_err() {
        return false;
    }
    // Whichever of the lock callback and the refusal comes first takes `then`.
    let then: Shared = Rc::new(RefCell::new(Some(Box::new(then))));
    let take = |then: &Shared| then.try_borrow_mut().ok().and_then(|mut slot| slot.take());
    let on_lock = then.clone();
    let callback = once_with(Box::new(move |lock| {
        let Some(then) = take(&on_lock) else {
            return JsValue::UNDEFINED;
        };
        if lock.is_null() || lock.is_undefined() {
            then(Some(false));
            JsValue::UNDEFINED
        } else {
            hold_then(settle_ms, Box::new(move || then(Some(true))))
        }
    }));
    let Ok(request) = request_lock(name, &options, &callback) else {
        return false;
    };
    let on_refused = once_with(Box::new(move |_error| {
        if let Some(then) = take(&then) {
            then(None);
        }
        JsValue::UNDEFINED
    }));
    let _ = request.then_or(&JsValue::UNDEFINED, &on_refused);
    true
}

/// A promise (the lock is held until it settles) that runs `run` after `ms`, then settles.
/// Another tab's last writes to storage can reach this one a moment after its lock was
/// released: the wait lets them arrive before they are read.
fn hold_then(ms: u64, run: Box<dyn FnOnce()>) -> JsValue {
    let mut run = Some(run);
    js_sys::Promise::new(&mut |resolve, _reject| {
        let run = run.take();
        let done = move || {
            if let Some(run) = run {
                run();
            }
            let _ = resolve.call0(&JsValue::UNDEFINED);
        };
        if !super::timer::after(ms, done) {
            // No timers: nothing will settle the promise; the lock stays held, which
            // only keeps other tabs from taking the same queue.
        }
    })
    .into()
}
