//! The core: plain Rust with no browser in it, so every rule about events, users,
//! batching and retries is tested natively with `cargo test`.

pub mod api_url;
pub mod clock;
pub mod event;
pub mod identity;
pub mod json;
pub mod merge;
pub mod outbox;
pub mod persisted;
pub mod queue;
pub mod retry;
pub mod stats;
pub mod tracker;
pub mod uuid;

#[cfg(test)]
mod wire_tests;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties;
