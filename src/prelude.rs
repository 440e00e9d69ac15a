//! The names std's prelude gives every module, for this `no_std` crate.

pub use alloc::boxed::Box;
pub use alloc::string::{String, ToString};
pub use alloc::vec::Vec;
