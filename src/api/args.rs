//! Checking argument kinds. Wrong kinds throw a `TypeError` naming the function and the
//! argument; `undefined` and `null` both mean "not given" for optional arguments.

use crate::prelude::*;

use wasm_bindgen::prelude::*;

use crate::error::{Arg, ArgError};

impl From<ArgError> for JsValue {
    fn from(error: ArgError) -> JsValue {
        js_sys::TypeError::new(&error.message()).into()
    }
}

pub const NON_EMPTY_STRING: &str = "a non-empty string";
pub const OBJECT: &str = "an object";

/// Not given: `undefined` or `null`.
pub fn absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// A plain object or class instance: not `null`, not an array, not a function (nor a
/// revoked Proxy, which cannot even be asked whether it is an array).
pub fn is_object(value: &JsValue) -> bool {
    value.is_object() && super::fields::is_array(value) == Ok(false)
}

/// An array (false for a revoked Proxy).
pub fn is_array(value: &JsValue) -> bool {
    super::fields::is_array(value) == Ok(true)
}

/// A field read through a getter that may throw.
pub fn field(read: Result<JsValue, JsValue>, at: Arg) -> Result<JsValue, ArgError> {
    read.map_err(|_| ArgError::new(at, "readable (its getter threw)"))
}

/// A non-empty string.
pub fn string(value: &JsValue, at: Arg) -> Result<String, ArgError> {
    match value.as_string() {
        Some(text) if !text.is_empty() => Ok(text),
        _ => Err(ArgError::new(at, NON_EMPTY_STRING)),
    }
}

/// A non-empty string, or not given (`""` counts as not given).
pub fn optional_string(value: &JsValue, at: Arg) -> Result<Option<String>, ArgError> {
    if absent(value) {
        return Ok(None);
    }
    match value.as_string() {
        Some(text) => Ok(Some(text).filter(|text| !text.is_empty())),
        None => Err(ArgError::new(at, "a string")),
    }
}

/// An object, or not given; `true` when given.
pub fn optional_object(value: &JsValue, at: Arg) -> Result<bool, ArgError> {
    if absent(value) {
        Ok(false)
    } else if is_object(value) {
        Ok(true)
    } else {
        Err(ArgError::new(at, OBJECT))
    }
}

/// A boolean, or not given.
pub fn optional_bool(value: &JsValue, at: Arg) -> Result<Option<bool>, ArgError> {
    if absent(value) {
        return Ok(None);
    }
    value
        .as_bool()
        .map(Some)
        .ok_or(ArgError::new(at, "a boolean"))
}

/// A whole number from `min` up, or not given.
pub fn optional_count(
    value: &JsValue,
    at: Arg,
    min: f64,
    expected: &'static str,
) -> Result<Option<u64>, ArgError> {
    if absent(value) {
        return Ok(None);
    }
    match value.as_f64() {
        Some(number) if number.is_finite() && number >= min && is_whole(number) => {
            Ok(Some(number as u64))
        }
        _ => Err(ArgError::new(at, expected)),
    }
}

/// Whether a finite `number` has no fractional part (`f64::fract` is not in `core`). Every
/// float of magnitude 2^53 or more is whole.
fn is_whole(number: f64) -> bool {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    number >= EXACT || number <= -EXACT || number == (number as i64) as f64
}
