//! The page's life: when it is hidden or goes away, what is queued leaves with
//! `fetch(…, {keepalive: true})` (the browser finishes those requests after the page is
//! gone) and the rest is written to storage; when the network comes back, sending
//! resumes.

use super::page_static::page_static;
use core::cell::Cell;
use wasm_bindgen::prelude::*;

use super::callback::listener;
use super::{persist, runtime};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = addEventListener)]
    fn add_page_listener(kind: &str, listener: &js_sys::Function) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = document, js_name = addEventListener)]
    fn add_document_listener(kind: &str, listener: &js_sys::Function) -> Result<(), JsValue>;
}

page_static! {
    static INSTALLED: Cell<bool> = const { Cell::new(false) };
    /// Between `pagehide` and a `pageshow` (back from the back/forward cache). Browsers
    /// fire `visibilitychange` after `pagehide` on unload: the page is still gone then.
    static GONE: Cell<bool> = const { Cell::new(false) };
}

/// Whether the page has been left (`pagehide`) and not shown again.
pub fn page_gone() -> bool {
    GONE.with(Cell::get)
}

/// Listens for the page being hidden or left and for the network coming back (once).
pub fn install() {
    if INSTALLED.with(|cell| cell.replace(true)) {
        return;
    }
    let visibility = listener(on_visibility_change).into_js_value();
    let _ = add_document_listener("visibilitychange", visibility.unchecked_ref());
    let pagehide = listener(on_pagehide).into_js_value();
    let _ = add_page_listener("pagehide", pagehide.unchecked_ref());
    let pageshow = listener(on_pageshow).into_js_value();
    let _ = add_page_listener("pageshow", pageshow.unchecked_ref());
    let online = listener(runtime::pump).into_js_value();
    let _ = add_page_listener("online", online.unchecked_ref());
}

fn on_pagehide() {
    GONE.with(|gone| gone.set(true));
    leave();
}

fn on_pageshow() {
    if GONE.with(|gone| gone.replace(false)) {
        runtime::page_shown();
    }
}

fn on_visibility_change() {
    if document_field("visibilityState").as_string().as_deref() == Some("hidden") {
        leave();
    } else if let Some(project) = runtime::project_key() {
        // Back in view: take over what tabs closed meanwhile left behind.
        persist::adopt_left_behind(&project);
    }
}

/// The page is hidden or going away: send what fits in keepalive requests, and write the
/// rest (all of it, if offline) to storage.
fn leave() {
    if runtime::online() {
        runtime::send_keepalive();
    }
    persist::save_now();
}

fn document_field(name: &str) -> JsValue {
    let document =
        js_sys::Reflect::get(&js_sys::global(), &"document".into()).unwrap_or(JsValue::UNDEFINED);
    js_sys::Reflect::get(&document, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

/// `navigator.onLine`, true where it cannot be read.
pub fn navigator_online() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|navigator| js_sys::Reflect::get(&navigator, &"onLine".into()))
        .ok()
        .and_then(|online| online.as_bool())
        .unwrap_or(true)
}
