//! `stats()`: the delivery counters, so an app (and the tests) can see that every event
//! was delivered, is still queued, or was dropped for a reason.

use wasm_bindgen::prelude::*;

use crate::browser::persist;
use crate::browser::runtime::{self, STORE};

/// `stats()`: `{tracked, restored, delivered, queued, retried, requests, dropped: {total,
/// queueFull, status, refused, tooLarge}, storage, storageFallbacks, discarded}`.
#[wasm_bindgen(unchecked_return_type = "DeliveryStats")]
pub fn stats() -> JsValue {
    let Some((stats, queued)) =
        runtime::with_tracker(|t| (t.outbox.stats.clone(), t.outbox.pending()))
    else {
        return JsValue::UNDEFINED;
    };
    let dropped = js_sys::Object::new();
    set(&dropped, "total", stats.dropped());
    set(&dropped, "queueFull", stats.dropped_queue_full);
    set(&dropped, "status", stats.dropped_status);
    set(&dropped, "refused", stats.dropped_refused);
    set(&dropped, "tooLarge", stats.dropped_too_large);
    set(&dropped, "optedOut", stats.dropped_opted_out);
    let object = js_sys::Object::new();
    set(&object, "tracked", stats.tracked);
    set(&object, "restored", stats.restored);
    set(&object, "delivered", stats.delivered);
    set(&object, "queued", queued as u64);
    set(&object, "retried", stats.retried);
    set(&object, "requests", stats.requests);
    let _ = js_sys::Reflect::set(&object, &"dropped".into(), &dropped);
    let (backend, fallbacks, lossy_keys) =
        STORE.with(|store| (store.backend().name(), store.fallbacks(), store.discarded()));
    let _ = js_sys::Reflect::set(&object, &"storage".into(), &backend.into());
    set(&object, "storageFallbacks", u64::from(fallbacks));
    set(
        &object,
        "discarded",
        persist::discarded().saturating_add(lossy_keys),
    );
    object.into()
}

fn set(object: &js_sys::Object, key: &str, value: u64) {
    let _ = js_sys::Reflect::set(object, &key.into(), &JsValue::from(value as f64));
}
