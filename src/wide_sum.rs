//! Lock-free, torn-free 64-bit values on 32-bit atomics: the timing sums behind averages and
//! the state-change timestamp.
//!
//! Where the target has 64-bit atomics it is one `AtomicU64`. ARMv6-M, ARMv7-M and ARMv8-M
//! have only 32-bit atomics, so there the sum is split into two 32-bit words (`SplitSum`): the
//! low word is the sum modulo 2^32, and the high word counts how often the low word crossed a
//! multiple of 2^31. Each add is below 2^31, so it crosses at most one such boundary, and the
//! writer that crossed it bumps the high word right after. A reader loads the high word, then
//! the low word: the low word's top bit is the parity of the true crossing count, so a high
//! word that lags by the one bump in flight is corrected exactly. The read is wait-free, never
//! torn and never goes backwards (unless a writer is held between its two steps while the sum
//! advances by 2^31 more, i.e. 2.1 s of summed operation time). Sums reach 2^63 before
//! wrapping, so averages stay exact for centuries of summed operation time instead of 4.29 s.

use crate::sync::{fence, AtomicU32, Ordering};

#[cfg(any(test, not(target_has_atomic = "64")))]
/// Largest value one `add` takes on the split sum (larger values saturate).
const MAX_ADD: u32 = (1 << 31) - 1;
#[cfg(any(test, not(target_has_atomic = "64")))]
const HALF: u32 = 1 << 31;

/// The 32-bit-atomics implementation (also compiled for the host's tests).
#[cfg(any(test, not(target_has_atomic = "64")))]
pub(crate) struct SplitSum {
    low: AtomicU32,
    high: AtomicU32,
}

#[cfg(any(test, not(target_has_atomic = "64")))]
impl SplitSum {
    pub(crate) fn new() -> Self {
        SplitSum { low: AtomicU32::new(0), high: AtomicU32::new(0) }
    }

    /// Adds `value` (saturated to 2^31 - 1). One atomic add, plus one when the low word
    /// crosses a multiple of 2^31.
    #[inline]
    pub(crate) fn add(&self, value: u64) {
        let value = u32::try_from(value).unwrap_or(MAX_ADD).min(MAX_ADD);
        let before = self.low.fetch_add(value, Ordering::AcqRel);
        if (before ^ before.wrapping_add(value)) & HALF != 0 {
            self.high.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// The sum: the crossing count, corrected by the low word's top bit for the one bump that
    /// may be in flight, gives the wraps of the low word.
    pub(crate) fn read(&self) -> u64 {
        let counted = self.high.load(Ordering::Acquire);
        let low = self.low.load(Ordering::Acquire);
        let crossings = if counted % 2 == low / HALF { counted } else { counted.wrapping_add(1) };
        (u64::from(crossings / 2) << 32) | u64::from(low)
    }
}

/// The 64-bit-atomics implementation.
#[cfg(target_has_atomic = "64")]
pub(crate) struct WideSum(crate::sync::AtomicCounter);

#[cfg(target_has_atomic = "64")]
impl WideSum {
    pub(crate) fn new() -> Self {
        WideSum(crate::sync::AtomicCounter::new(0))
    }

    /// Adds `value` (wrapping at 2^64).
    #[inline]
    pub(crate) fn add(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }

    /// The sum.
    pub(crate) fn read(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The sum type of this target.
#[cfg(not(target_has_atomic = "64"))]
pub(crate) use SplitSum as WideSum;

/// A 64-bit timestamp that many contexts may overwrite and any may read, torn-free on 32-bit
/// atomics: a seqlock over two slots whose writers claim it with a compare-and-swap. A writer
/// that finds it claimed skips its store (two state changes at the same instant: one timestamp
/// is kept). A writer fills the slot readers are not reading and then publishes it, so a
/// reader that interrupts a writer half-way still reads the previous value whole, and never
/// waits for that writer.
pub(crate) struct WideStamp {
    /// Even: slot `(sequence / 2) % 2` holds the value. Odd: a writer is filling the other one.
    sequence: AtomicU32,
    slots: [StampSlot; 2],
}

struct StampSlot {
    low: AtomicU32,
    high: AtomicU32,
}

impl StampSlot {
    fn new(value: u64) -> Self {
        StampSlot { low: AtomicU32::new(value as u32), high: AtomicU32::new((value >> 32) as u32) }
    }
}

impl WideStamp {
    pub(crate) fn new(value: u64) -> Self {
        WideStamp { sequence: AtomicU32::new(0), slots: [StampSlot::new(value), StampSlot::new(0)] }
    }

    /// The slot that sequence value `sequence` says is published.
    fn published(&self, sequence: u32) -> &StampSlot {
        let [even, odd] = &self.slots;
        if (sequence / 2) % 2 == 0 {
            even
        } else {
            odd
        }
    }

    /// Stores `value` unless another writer is storing right now.
    pub(crate) fn store(&self, value: u64) {
        let sequence = self.sequence.load(Ordering::Relaxed);
        if sequence % 2 == 1
            || self
                .sequence
                .compare_exchange(sequence, sequence.wrapping_add(1), Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        // The acquiring claim orders these writes after the previous writer's (see the history
        // ring's `write`); the fence orders the claim before them for readers.
        fence(Ordering::Release);
        let slot = self.published(sequence.wrapping_add(2));
        slot.low.store(value as u32, Ordering::Relaxed);
        slot.high.store((value >> 32) as u32, Ordering::Relaxed);
        self.sequence.store(sequence.wrapping_add(2), Ordering::Release);
    }

    /// The last stored value, never torn. Lock-free: a read is repeated only when a writer
    /// started filling the very slot being read (a second store completed during the read),
    /// never because a writer was interrupted.
    pub(crate) fn read(&self) -> u64 {
        loop {
            let before = self.sequence.load(Ordering::Acquire);
            let slot = self.published(before);
            let value =
                (u64::from(slot.high.load(Ordering::Relaxed)) << 32) | u64::from(slot.low.load(Ordering::Relaxed));
            fence(Ordering::Acquire);
            // The slot read is rewritten only by the second writer to claim after `before`.
            let margin = if before % 2 == 0 { 2 } else { 1 };
            if self.sequence.load(Ordering::Relaxed).wrapping_sub(before) <= margin {
                return value;
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_split_sum_carries_exactly() {
        let s = SplitSum::new();
        let mut expected = 0u64;
        for step in [MAX_ADD, MAX_ADD, 5, MAX_ADD, 1, 1 << 30, 77] {
            s.add(u64::from(step));
            expected += u64::from(step);
            assert_eq!(s.read(), expected);
        }
        assert!(expected > u64::from(u32::MAX));
        s.add(u64::MAX);
        assert_eq!(s.read(), expected + u64::from(MAX_ADD), "oversized adds saturate");
    }

    #[test]
    fn a_read_between_the_two_steps_of_a_crossing_add_is_exact() {
        let s = SplitSum::new();
        for (start, step) in [(HALF - 10, 20u32), (u32::MAX - 5, 10)] {
            let total = s.read() + u64::from(start) - u64::from(s.low.load(Ordering::Relaxed));
            s.add(total - s.read());
            assert_eq!(s.read(), total);
            // A writer preempted between its two steps: its add crossed, its bump is pending.
            s.low.fetch_add(step, Ordering::Relaxed);
            assert_eq!(s.read(), total + u64::from(step), "bump pending");
            s.high.fetch_add(1, Ordering::Relaxed);
            assert_eq!(s.read(), total + u64::from(step), "bump done");
        }
    }

    #[test]
    fn concurrent_adds_are_never_lost_or_torn() {
        let s = SplitSum::new();
        let step = 1u64 << 29;
        std::thread::scope(|scope| {
            for _ in 0..3 {
                scope.spawn(|| {
                    for _ in 0..20_000 {
                        s.add(step);
                    }
                });
            }
            scope.spawn(|| {
                let mut last = 0;
                for _ in 0..20_000 {
                    let now = s.read();
                    assert!(now >= last, "sum went backwards: {last} -> {now}");
                    assert_eq!(now % step, 0, "torn read {now}");
                    last = now;
                }
            });
        });
        assert_eq!(s.read(), 3 * 20_000 * step);
    }

    #[test]
    fn stamps_are_stored_whole_and_never_torn() {
        let stamp = WideStamp::new(7);
        assert_eq!(stamp.read(), 7);
        stamp.store(u64::MAX - 1);
        assert_eq!(stamp.read(), u64::MAX - 1);
        std::thread::scope(|scope| {
            for w in 1..=2u64 {
                let stamp = &stamp;
                scope.spawn(move || {
                    for i in 0..50_000u64 {
                        // Both halves carry the same number, so a torn read shows.
                        let v = (i * 2 + w) & 0xFFFF;
                        stamp.store((v << 32) | v);
                    }
                });
            }
            scope.spawn(|| {
                for _ in 0..50_000 {
                    let v = stamp.read();
                    assert!(v >> 32 == v & 0xFFFF_FFFF || v == u64::MAX - 1, "torn {v:#x}");
                }
            });
        });
    }

    #[test]
    fn the_target_sum_adds_and_reads() {
        let s = WideSum::new();
        s.add(10);
        s.add(32);
        assert_eq!(s.read(), 42);
    }
}
