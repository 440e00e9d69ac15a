//! One timer for the whole SDK: armed for the earliest moment the outbox needs
//! attention, never re-armed for a later one, so a burst of calls costs no `setTimeout`.

use std::cell::Cell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: f64) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue) -> Result<(), JsValue>;
}

thread_local! {
    /// What the timer runs: the runtime's pump.
    static TICK: Closure<dyn FnMut()> = Closure::new(on_tick);
    /// When the armed timer fires (0: none armed).
    static ARMED_AT: Cell<u64> = const { Cell::new(0) };
    static HANDLE: Cell<Option<i32>> = const { Cell::new(None) };
}

fn on_tick() {
    ARMED_AT.with(|armed| armed.set(0));
    HANDLE.with(|handle| handle.set(None));
    super::runtime::pump();
}

/// Makes sure the pump runs at `at` (epoch ms) or earlier; `now` is the current time.
pub fn arm(at: u64, now: u64) {
    let armed = ARMED_AT.with(Cell::get);
    if armed != 0 && armed <= at {
        return;
    }
    if let Some(handle) = HANDLE.with(Cell::take) {
        let _ = clear_timeout(&JsValue::from(handle));
    }
    let delay = at.saturating_sub(now) as f64;
    let handle = TICK.with(|tick| set_timeout(tick.as_ref().unchecked_ref(), delay));
    if let Ok(handle) = handle {
        ARMED_AT.with(|armed| armed.set(at.max(1)));
        HANDLE.with(|cell| cell.set(handle.as_f64().map(|id| id as i32)));
    }
}
