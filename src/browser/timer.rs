//! A `setTimeout` that is armed for the earliest moment it is asked for and never
//! re-armed for a later one, so a burst of calls costs no timer calls.

use crate::prelude::*;

use core::cell::Cell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: f64) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue) -> Result<(), JsValue>;
}

/// Browsers take a delay over 2^31 - 1 ms (about 24.8 days) as 0: longer waits are cut to it
/// (the timer then fires early and is armed again).
const MAX_DELAY_MS: u64 = (1 << 31) - 1;

/// Runs `run` once after `ms` milliseconds (false if the timer could not be set).
pub fn after(ms: u64, run: impl FnOnce() + 'static) -> bool {
    after_boxed(ms, Box::new(run))
}

/// [`after`] for one closure type: each closure type given to wasm-bindgen costs its own
/// glue, so every caller's closure goes through this one.
fn after_boxed(ms: u64, run: Box<dyn FnOnce()>) -> bool {
    let callback = super::callback::once(run);
    set_timeout(callback.unchecked_ref(), ms.min(MAX_DELAY_MS) as f64).is_ok()
}

/// One timer running one function.
pub struct Timer {
    tick: Closure<dyn FnMut()>,
    /// When the armed timeout fires (0: none armed).
    armed_at: Cell<u64>,
    handle: Cell<Option<f64>>,
}

impl Timer {
    /// A timer that runs `run` (after marking itself unarmed) when it fires.
    pub fn new(run: fn()) -> Self {
        Timer {
            tick: super::callback::listener(run),
            armed_at: Cell::new(0),
            handle: Cell::new(None),
        }
    }

    /// Called first thing when the timer fires.
    pub fn fired(&self) {
        self.armed_at.set(0);
        self.handle.set(None);
    }

    /// Makes sure the function runs at `at` (epoch ms) or earlier; `now` is the time now.
    pub fn arm(&self, at: u64, now: u64) {
        let armed = self.armed_at.get();
        if armed != 0 && armed <= at {
            return;
        }
        if let Some(handle) = self.handle.take() {
            let _ = clear_timeout(&JsValue::from(handle));
        }
        let delay = at.saturating_sub(now).min(MAX_DELAY_MS) as f64;
        if let Ok(handle) = set_timeout(self.tick.as_ref().unchecked_ref(), delay) {
            self.armed_at.set(at.max(1));
            self.handle.set(handle.as_f64());
        }
    }
}
