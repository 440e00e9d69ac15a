//! The user's choice not to be tracked: `optOut()`/`optIn()` (kept per project in
//! storage) and, with `init({respectDoNotTrack: true})`, the browser's Do Not Track and
//! Global Privacy Control signals.

use crate::prelude::*;

use wasm_bindgen::prelude::*;

/// The storage key of a project's opt-out flag.
pub fn opt_out_key(project: &str) -> String {
    let mut key = String::from("lunary:");
    key.push_str(project);
    key.push_str(":optout");
    key
}

/// Whether the browser asks not to be tracked (`navigator.doNotTrack == "1"`,
/// `window.doNotTrack == "1"` or `navigator.globalPrivacyControl`).
pub fn browser_asks_not_to_track() -> bool {
    let global = js_sys::global();
    let read = |object: &JsValue, name: &str| {
        js_sys::Reflect::get(object, &name.into()).unwrap_or(JsValue::UNDEFINED)
    };
    let navigator = read(&global, "navigator");
    read(&navigator, "doNotTrack").as_string().as_deref() == Some("1")
        || read(&global, "doNotTrack").as_string().as_deref() == Some("1")
        || read(&navigator, "globalPrivacyControl").as_bool() == Some(true)
}
