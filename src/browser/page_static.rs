//! Page-wide state of the shell, declared with [`page_static!`] like `thread_local!`.
//!
//! On wasm32 built without the `atomics` feature the module runs on the page's one thread,
//! so a plain `static` is enough and costs none of `thread_local!`'s per-access machinery
//! (about 9 KB of the wasm when measured with twiggy). Natively — the core's tests compile
//! this module too — it stays a `thread_local!`.

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
mod single_thread {
    use core::cell::LazyCell;

    /// A value with a constant initializer.
    pub struct Const<T>(T);

    /// A value initialized on first use.
    pub struct Lazy<T>(LazyCell<T>);

    // SAFETY: without the `atomics` target feature there is exactly one thread (the page's),
    // so these values are never reached from another thread.
    unsafe impl<T> Sync for Const<T> {}
    // SAFETY: as above.
    unsafe impl<T> Sync for Lazy<T> {}

    impl<T> Const<T> {
        pub const fn new(value: T) -> Self {
            Const(value)
        }

        /// Runs `f` on the value (the same call shape as `LocalKey::with`).
        #[inline]
        pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
            f(&self.0)
        }
    }

    impl<T> Lazy<T> {
        pub const fn new(init: fn() -> T) -> Self {
            Lazy(LazyCell::new(init))
        }

        /// Runs `f` on the value, creating it first if needed.
        #[inline]
        pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
            f(&self.0)
        }
    }

    /// Declares page-wide statics (see the module docs).
    macro_rules! page_static {
        () => {};
        ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr }; $($rest:tt)*) => {
            $(#[$attr])* $vis static $name: $crate::browser::page_static::Const<$t> =
                $crate::browser::page_static::Const::new($init);
            $crate::browser::page_static::page_static!($($rest)*);
        };
        ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr; $($rest:tt)*) => {
            $(#[$attr])* $vis static $name: $crate::browser::page_static::Lazy<$t> =
                $crate::browser::page_static::Lazy::new(|| $init);
            $crate::browser::page_static::page_static!($($rest)*);
        };
    }
    pub(crate) use page_static;
}

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
pub(crate) use single_thread::page_static;
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
pub use single_thread::{Const, Lazy};

/// Declares page-wide statics (see the module docs).
#[cfg(not(all(target_arch = "wasm32", not(target_feature = "atomics"))))]
macro_rules! page_static {
    ($($body:tt)*) => { std::thread_local! { $($body)* } };
}
#[cfg(not(all(target_arch = "wasm32", not(target_feature = "atomics"))))]
pub(crate) use page_static;
