//! The shell: the browser APIs the core needs, each wrapped so that nothing it does can
//! throw into the page or trap the module. Every import that runs page-controlled code
//! (storage, fetch, timers, console) is bound with `catch`.

pub mod callback;
pub mod clock;
pub mod console;
pub mod identity_store;
pub mod lifecycle;
pub mod locks;
pub mod page_static;
pub mod persist;
pub mod privacy;
pub mod random;
pub mod report;
pub mod runtime;
pub mod storage;
pub mod timer;
pub mod transport;
pub mod user;
