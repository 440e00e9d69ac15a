//! lunary-wasm: Lunary's browser user tracking (`identify`, `openThread`,
//! `trackMessage`, `trackFeedback`, …) in Rust compiled to WebAssembly.
//!
//! Three layers, calls pointing one way: [`api`] (the `#[wasm_bindgen]` exports: check
//! arguments, translate) → [`core`] (plain Rust: events, users, batching) and
//! [`browser`] (the shell: storage, fetch, timers, clock, random ids). The core knows
//! nothing of the browser, so it is tested natively.
//!
//! A panic in wasm traps the instance and ends all tracking on the page, so panicking
//! constructs are denied outside tests.
//!
//! The wasm build is `no_std`: std's panic machinery alone (its hook, message formatting)
//! was about 5 KB of the module. Native builds (the core's tests) and `--features std`
//! (the wasm-bindgen tests) link std as usual.
#![no_std]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

extern crate alloc;
#[cfg(any(not(target_arch = "wasm32"), test, feature = "std"))]
#[macro_use]
extern crate std;

mod allocator;
pub mod api;
pub mod browser;
pub mod core;
pub mod error;
mod panic;
mod prelude;
