//! Atomic read-modify-write for cores without compare-and-swap (ARMv6-M: Cortex-M0, M0+, M1).
//!
//! ARMv6-M has single-copy-atomic 32-bit loads and stores but no LDREX/STREX. Every
//! read-modify-write here runs inside a short critical section of a few instructions; plain
//! loads and stores stay plain. The critical section is the firmware's choice, made with one of
//! two cargo features:
//! - `single-core`: the library masks interrupts itself (saves PRIMASK, `cpsid i`, restores).
//!   Correct on a single-core part; NMI and HardFault handlers must not call the library.
//! - `firmware-critical-section`: the library calls `aes5_critical_section_enter()` and
//!   `aes5_critical_section_exit(state)`, which the firmware defines (for example with an RTOS
//!   lock, or a hardware spinlock on a dual-core part). See README, "Bare-metal integration".
//!
//! Cores with compare-and-swap never compile this module.

use core::sync::atomic::{self, Ordering};

#[cfg(all(feature = "single-core", feature = "firmware-critical-section"))]
compile_error!("enable only one of the features `single-core` and `firmware-critical-section`");

#[cfg(not(any(feature = "single-core", feature = "firmware-critical-section")))]
compile_error!(
    "this target has no compare-and-swap: enable the feature `single-core` (the library masks \
     interrupts) or `firmware-critical-section` (the firmware defines \
     aes5_critical_section_enter/exit)"
);

/// Runs `f` with interrupts masked, restoring the previous PRIMASK afterwards.
#[cfg(feature = "single-core")]
#[inline(always)]
fn critical<R>(f: impl FnOnce() -> R) -> R {
    let primask: u32;
    // SAFETY: reads PRIMASK and masks interrupts; no memory or stack effects. Without `nomem`
    // the block is also a compiler barrier, so no access of `f` moves before it.
    unsafe { core::arch::asm!("mrs {0}, PRIMASK", "cpsid i", out(reg) primask, options(nostack, preserves_flags)) };
    let result = f();
    if primask & 1 == 0 {
        // SAFETY: unmasks interrupts only if they were unmasked on entry; a compiler barrier
        // as above, so no access of `f` moves after it.
        unsafe { core::arch::asm!("cpsie i", options(nostack, preserves_flags)) };
    }
    result
}

#[cfg(feature = "firmware-critical-section")]
extern "C" {
    /// Defined by the firmware: enters a critical section that excludes every other context
    /// calling the library (interrupts, other cores); returns a state for the matching exit.
    fn aes5_critical_section_enter() -> u32;
    /// Defined by the firmware: leaves the critical section entered with `state`.
    fn aes5_critical_section_exit(state: u32);
}

/// Runs `f` inside the firmware's critical section.
#[cfg(feature = "firmware-critical-section")]
#[inline(always)]
fn critical<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: the firmware defines this hook for exactly this use (README, header).
    let state = unsafe { aes5_critical_section_enter() };
    atomic::fence(Ordering::SeqCst);
    let result = f();
    atomic::fence(Ordering::SeqCst);
    // SAFETY: pairs with the enter above, with the state it returned.
    unsafe { aes5_critical_section_exit(state) };
    result
}

/// A 32-bit atomic with the subset of `core::sync::atomic::AtomicU32`'s API the library uses,
/// same size and alignment; read-modify-write operations run in a critical section.
#[repr(transparent)]
pub(crate) struct AtomicU32(atomic::AtomicU32);

impl AtomicU32 {
    /// A new atomic holding `value`.
    pub const fn new(value: u32) -> Self {
        AtomicU32(atomic::AtomicU32::new(value))
    }

    /// Single-copy-atomic load.
    #[inline(always)]
    pub fn load(&self, order: Ordering) -> u32 {
        self.0.load(order)
    }

    /// Single-copy-atomic store.
    #[inline(always)]
    pub fn store(&self, value: u32, order: Ordering) {
        self.0.store(value, order)
    }

    /// Applies `update` to the value inside the critical section; returns the previous value.
    #[inline(always)]
    fn modify(&self, update: impl FnOnce(u32) -> u32) -> u32 {
        critical(|| {
            let previous = self.0.load(Ordering::Relaxed);
            self.0.store(update(previous), Ordering::Relaxed);
            previous
        })
    }

    /// Stores `new` if the value is `current`; returns `Ok(previous)` or `Err(actual)`.
    #[inline(always)]
    pub fn compare_exchange(&self, current: u32, new: u32, _success: Ordering, _failure: Ordering) -> Result<u32, u32> {
        critical(|| {
            let actual = self.0.load(Ordering::Relaxed);
            if actual == current {
                self.0.store(new, Ordering::Relaxed);
                Ok(actual)
            } else {
                Err(actual)
            }
        })
    }

    /// As [`compare_exchange`](Self::compare_exchange); never fails spuriously.
    #[inline(always)]
    pub fn compare_exchange_weak(
        &self,
        current: u32,
        new: u32,
        success: Ordering,
        failure: Ordering,
    ) -> Result<u32, u32> {
        self.compare_exchange(current, new, success, failure)
    }

    /// Wrapping add; returns the previous value.
    #[inline(always)]
    pub fn fetch_add(&self, value: u32, _order: Ordering) -> u32 {
        self.modify(|v| v.wrapping_add(value))
    }

    /// Maximum; returns the previous value.
    #[inline(always)]
    pub fn fetch_max(&self, value: u32, _order: Ordering) -> u32 {
        self.modify(|v| v.max(value))
    }

    /// Minimum; returns the previous value.
    #[inline(always)]
    pub fn fetch_min(&self, value: u32, _order: Ordering) -> u32 {
        self.modify(|v| v.min(value))
    }

    /// Stores `value`; returns the previous value.
    #[inline(always)]
    pub fn swap(&self, value: u32, _order: Ordering) -> u32 {
        self.modify(|_| value)
    }

    /// Bitwise or; returns the previous value.
    #[inline(always)]
    pub fn fetch_or(&self, value: u32, _order: Ordering) -> u32 {
        self.modify(|v| v | value)
    }

    /// Bitwise and; returns the previous value.
    #[inline(always)]
    pub fn fetch_and(&self, value: u32, _order: Ordering) -> u32 {
        self.modify(|v| v & value)
    }
}
