//! JS callbacks made from Rust closures. wasm-bindgen emits glue (in the wasm and in the
//! JS) per closure *type*, so every callback of the shell is made here from one of three
//! types: a listener running a `fn()`, a boxed one-shot, and a boxed one-shot taking and
//! returning a value.

use crate::prelude::*;

use wasm_bindgen::prelude::*;

/// A callback that runs `run` each time it is called (event listeners, timer ticks).
pub fn listener(run: fn()) -> Closure<dyn FnMut()> {
    Closure::new(run)
}

/// A callback that runs `run` the first time it is called; freed after that call.
pub fn once(run: Box<dyn FnOnce()>) -> JsValue {
    Closure::once_into_js(run)
}

/// A callback taking one value and returning one, run at most once; freed after that call.
pub fn once_with(run: Box<dyn FnOnce(JsValue) -> JsValue>) -> JsValue {
    Closure::once_into_js(move |value: JsValue| run(value))
}
