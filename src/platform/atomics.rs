//! The atomic types the core uses, in one place.
//!
//! Every shared-state access of the library goes through these names, so that a model checker
//! (`--cfg loom`) or another atomic backend can replace them without touching the algorithms.
//! Loom is a test-only dependency: the switch applies to the crate's own test build
//! (`RUSTFLAGS="--cfg loom" cargo test --release --lib`); other builds keep core's atomics.
//!
//! Cores without compare-and-swap (ARMv6-M) get [`crate::platform::critical_section::AtomicU32`], whose
//! read-modify-write operations run in a short critical section.
//!
//! Counter width: statistics counters are 64-bit where the target has 64-bit atomics (x86-64,
//! AArch64) and 32-bit elsewhere (ARMv7-M, ARMv8-M), so every field is read without tearing.
//! 32-bit counters wrap modulo 2^32; differences such as `allocations - releases` stay exact
//! as long as fewer than 2^32 operations separate the two reads.

#[cfg(all(not(all(loom, test)), not(target_has_atomic = "32")))]
pub(crate) use crate::platform::critical_section::AtomicU32;
#[cfg(all(not(all(loom, test)), target_has_atomic = "32"))]
pub(crate) use core::sync::atomic::AtomicU32;
#[cfg(not(all(loom, test)))]
pub(crate) use core::sync::atomic::{fence, Ordering};
#[cfg(all(loom, test))]
pub(crate) use loom::sync::atomic::{fence, AtomicU32, Ordering};

#[cfg(all(not(all(loom, test)), target_has_atomic = "64"))]
pub(crate) use core::sync::atomic::AtomicU64 as AtomicCounter;
#[cfg(all(loom, test, target_has_atomic = "64"))]
pub(crate) use loom::sync::atomic::AtomicU64 as AtomicCounter;
#[cfg(not(target_has_atomic = "64"))]
pub(crate) use AtomicU32 as AtomicCounter;

/// The integer behind [`AtomicCounter`].
#[cfg(target_has_atomic = "64")]
pub(crate) type CounterValue = u64;
/// The integer behind [`AtomicCounter`].
#[cfg(not(target_has_atomic = "64"))]
pub(crate) type CounterValue = u32;

/// Reads a counter as `u64` (identity on 64-bit targets, widening on 32-bit ones).
#[inline]
#[allow(clippy::useless_conversion)]
pub(crate) fn load_u64(cell: &AtomicCounter, order: Ordering) -> u64 {
    u64::from(cell.load(order))
}

/// Widens a counter value to `u64`.
#[inline]
#[allow(clippy::useless_conversion)]
pub(crate) fn widen(value: CounterValue) -> u64 {
    u64::from(value)
}

/// The low 32 bits of a counter value (the identity on 32-bit-counter targets).
#[inline(always)]
#[allow(clippy::unnecessary_cast)]
pub(crate) const fn low_u32(value: CounterValue) -> u32 {
    value as u32
}

/// Converts a `u64` measurement to the counter width, saturating.
#[inline]
pub(crate) fn to_counter(value: u64) -> CounterValue {
    CounterValue::try_from(value).unwrap_or(CounterValue::MAX)
}

/// Raises `cell` to at least `value` (lock-free; no write when it is already higher).
#[inline]
pub(crate) fn raise_to_u32(cell: &AtomicU32, value: u32) {
    if cell.load(Ordering::Relaxed) < value {
        cell.fetch_max(value, Ordering::Relaxed);
    }
}

/// Raises `cell` to at least `value` (lock-free; no write when it is already higher).
#[inline]
pub(crate) fn raise_counter(cell: &AtomicCounter, value: CounterValue) {
    if cell.load(Ordering::Relaxed) < value {
        cell.fetch_max(value, Ordering::Relaxed);
    }
}

/// Lowers `cell` to at most `value` (lock-free; no write when it is already lower).
#[inline]
pub(crate) fn lower_counter(cell: &AtomicCounter, value: CounterValue) {
    if cell.load(Ordering::Relaxed) > value {
        cell.fetch_min(value, Ordering::Relaxed);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn raise_and_lower_only_move_one_way() {
        let c = AtomicCounter::new(10);
        raise_counter(&c, 5);
        assert_eq!(c.load(Ordering::Relaxed), 10);
        raise_counter(&c, 12);
        assert_eq!(c.load(Ordering::Relaxed), 12);
        lower_counter(&c, 20);
        assert_eq!(c.load(Ordering::Relaxed), 12);
        lower_counter(&c, 3);
        assert_eq!(c.load(Ordering::Relaxed), 3);
        let u = AtomicU32::new(1);
        raise_to_u32(&u, 0);
        assert_eq!(u.load(Ordering::Relaxed), 1);
        raise_to_u32(&u, 9);
        assert_eq!(u.load(Ordering::Relaxed), 9);
    }

    #[test]
    fn to_counter_saturates() {
        assert_eq!(to_counter(7), 7);
        assert_eq!(to_counter(u64::MAX), CounterValue::MAX);
    }
}
