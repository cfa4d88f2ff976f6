//! The panic handler of the `no_std` library: present with the default `panic-handler`
//! feature, absent when the `std` feature links std or a Rust firmware that has its own
//! handler turns default features off.
//!
//! The library has no panic path by design (FFI lints, checked arithmetic and lookups), so this
//! runs only on a library bug. It never formats the message, which keeps `core::fmt` out of
//! firmware images.
//! - Linux/macOS: `abort()`.
//! - Bare metal: calls `aes5_panic_hook()`, which the firmware may define (log, reset, trap as
//!   it sees fit). On Arm the library carries a weak default that executes a permanently
//!   undefined instruction, so the firmware's fault handler decides; no semihosting, no
//!   endless loop baked in. See README, "Bare-metal integration".

#[cfg(all(feature = "panic-handler", any(target_os = "linux", target_os = "macos")))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: abort() has no preconditions and does not return.
    unsafe { libc::abort() }
}

#[cfg(all(feature = "panic-handler", not(any(target_os = "linux", target_os = "macos"))))]
extern "C" {
    /// Provided by the firmware; must not return.
    fn aes5_panic_hook() -> !;
}

#[cfg(all(feature = "panic-handler", not(any(target_os = "linux", target_os = "macos"))))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: the firmware provides this symbol (documented integration hook).
    unsafe { aes5_panic_hook() }
}

// The weak default of `aes5_panic_hook` on Arm bare metal: `udf` raises a fault (HardFault or
// UsageFault) that the firmware handles. A strong definition in the firmware replaces it.
#[cfg(all(feature = "panic-handler", target_arch = "arm", not(any(target_os = "linux", target_os = "macos"))))]
core::arch::global_asm!(
    ".section .text.aes5_panic_hook,\"ax\",%progbits",
    ".weak aes5_panic_hook",
    ".type aes5_panic_hook,%function",
    ".thumb_func",
    "aes5_panic_hook:",
    "udf #0xa5",
    ".size aes5_panic_hook, . - aes5_panic_hook",
    ".text",
);

/// Precompiled `core` objects reference the unwinding personality even though this library is
/// built with `panic = "abort"` and never unwinds; this empty definition satisfies the linker.
#[cfg(feature = "panic-handler")]
#[no_mangle]
extern "C" fn rust_eh_personality() {}
