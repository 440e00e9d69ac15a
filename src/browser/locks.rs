//! Web Locks (`navigator.locks`): how tabs of one app know which of them are alive. Each
//! tab holds a lock named after it for as long as it lives; the browser releases it when
//! the tab goes away, however it goes. Where the API is missing (insecure contexts, old
//! browsers), callers fall back to timestamps.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["navigator", "locks"], js_name = request)]
    fn request_lock(
        name: &str,
        options: &JsValue,
        callback: &JsValue,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// Holds the lock `name` until the page goes away; `on_held` runs once it is held.
/// Returns false where Web Locks are missing.
pub fn hold_forever(name: &str, on_held: fn()) -> bool {
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        on_held();
        // A promise that never settles keeps the lock for the page's lifetime.
        js_sys::Promise::new(&mut |_, _| {}).into()
    });
    request_lock(name, &js_sys::Object::new(), &callback).is_ok()
}

/// Runs `with_lock` while holding `name`, if no one else holds it (it is not called at
/// all otherwise). Returns false where Web Locks are missing.
pub fn if_available(name: &str, with_lock: impl FnOnce() + 'static) -> bool {
    let options = js_sys::Object::new();
    if js_sys::Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE).is_err() {
        return false;
    }
    let callback = Closure::once_into_js(move |lock: JsValue| {
        if !lock.is_null() && !lock.is_undefined() {
            with_lock();
        }
    });
    request_lock(name, &options, &callback).is_ok()
}
