//! What a panic does in the `no_std` wasm build. The library never panics on purpose (see
//! the lints in lib.rs); should one happen anyway, the instance traps, as with
//! `panic = "abort"`, without formatting a message no one would see.

#[cfg(all(target_arch = "wasm32", not(test), not(feature = "std")))]
#[panic_handler]
fn on_panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
