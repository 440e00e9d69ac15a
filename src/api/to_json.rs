//! App data to JSON text, by the browser's own `JSON.stringify` (no serializer in the
//! wasm). What JSON cannot carry is handled as `JSON.stringify` handles it (functions
//! and symbols left out, `toJSON` honoured); a value it throws on (a cycle, a BigInt) is
//! left out of the event with a warning, and the rest of the event is still tracked.

use wasm_bindgen::prelude::*;

use crate::browser::{console, storage::error_name};
use crate::core::json::RawJson;

/// The JSON text of `value`, or `None` when there is none (`undefined`, a function) or it
/// cannot be serialized. `what` names the value in the warning (`trackMessage: message`).
pub fn to_json(value: &JsValue, what: &str) -> Option<RawJson> {
    stringify(value, what)?.as_string().map(RawJson::trusted)
}

/// `JSON.stringify(value)` as the JS string it made (not copied into the wasm): `undefined`
/// when there is no text, `None` (after a warning) when it throws.
pub fn stringify(value: &JsValue, what: &str) -> Option<JsValue> {
    match js_sys::JSON::stringify(value) {
        Ok(text) => Some(text.into()),
        Err(error) => {
            console::warn(&[
                what,
                " could not be serialized (",
                &error_name(&error),
                "); sent without it",
            ]);
            None
        }
    }
}
