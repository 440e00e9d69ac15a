//! The developer console: where drops are always reported, and everything else when
//! `verbose` is on. A page may replace `console`; a throwing one is ignored.

use crate::prelude::*;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = console, js_name = warn)]
    fn console_warn(message: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = console, js_name = log)]
    fn console_log(message: &str) -> Result<(), JsValue>;
}

/// Prefixes every line so it is clear which library speaks.
const PREFIX: &str = "lunary-wasm: ";

/// A warning: something was dropped or could not be done.
pub fn warn(parts: &[&str]) {
    let _ = console_warn(&line(parts));
}

/// A verbose-mode log line.
pub fn log(parts: &[&str]) {
    let _ = console_log(&line(parts));
}

fn line(parts: &[&str]) -> String {
    let mut text = String::from(PREFIX);
    for part in parts {
        text.push_str(part);
    }
    text
}
