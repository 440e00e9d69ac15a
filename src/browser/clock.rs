//! The wall clock, in epoch milliseconds.

use crate::core::clock::millis;

/// `Date.now()`.
pub fn now() -> u64 {
    millis(js_sys::Date::now())
}
