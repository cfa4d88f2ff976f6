//! Lock-free, torn-free 64-bit values on 32-bit atomics: the timing sums behind averages and
//! the state-change timestamp.
//!
//! Where the target has 64-bit atomics a sum is one `AtomicU64`. ARMv6-M, ARMv7-M and ARMv8-M
//! have only 32-bit atomics, so there the sum is split into two 32-bit words (`SplitSum`): the
//! low word is the sum modulo 2^32, and the high word counts the multiples of 2^31 the sum has
//! passed ("crossings"). The low word's top bit is the parity of the true crossing count, so
//! when the high word's parity differs from it, exactly one crossing is *pending*: its add is
//! in the low word but the high word has not been bumped yet.
//!
//! The protocol keeps at most one crossing pending, whatever is preempted where:
//! - a writer adds with a compare-and-swap on the low word, and only from a state with no
//!   crossing pending; one that finds a crossing pending first completes it (a compare-and-swap
//!   of the high word from the value it read), so a writer preempted between its two steps
//!   never holds anyone up and never leaves a second crossing unaccounted;
//! - a reader loads high, low, high; equal high words bracket the low word, and the one
//!   pending crossing is corrected from the parity.
//!
//! So a read is never torn and never goes backwards. Each add is below 2^31, so it crosses
//! at most once. Sums reach 2^62 before wrapping. The one theoretical gap: a writer
//! preempted between reading the low word and its compare-and-swap while the sum advances by
//! an exact multiple of 2^32 (4.3 s of summed operation time, landing on the same 32-bit
//! value) would pass the compare-and-swap with a stale view.

use crate::platform::atomics::{fence, AtomicU32, Ordering};

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

    /// True when the crossing count `high` lags the low word's parity by one.
    #[inline(always)]
    fn pending(high: u32, low: u32) -> bool {
        high % 2 != low / HALF
    }

    /// Completes a pending crossing: `high` was read before a low word that showed it pending,
    /// so a high word still equal to `high` is exactly one bump behind.
    #[inline(always)]
    fn complete_crossing(&self, high: u32) {
        let _ = self.high.compare_exchange(high, high.wrapping_add(1), Ordering::AcqRel, Ordering::Relaxed);
    }

    /// Adds `value` (saturated to 2^31 - 1): a compare-and-swap of the low word, plus one of the
    /// high word when the add crosses a multiple of 2^31. Lock-free. Out of line: the
    /// monitored path adds to four sums, and one copy of the protocol is smaller than four.
    #[inline(never)]
    pub(crate) fn add(&self, value: u64) {
        let value = u32::try_from(value).unwrap_or(MAX_ADD).min(MAX_ADD);
        loop {
            let high = self.high.load(Ordering::Acquire);
            let low = self.low.load(Ordering::Acquire);
            if Self::pending(high, low) {
                self.complete_crossing(high);
                continue;
            }
            let sum = low.wrapping_add(value);
            if self.low.compare_exchange_weak(low, sum, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                if Self::pending(high, sum) {
                    self.complete_crossing(high);
                }
                return;
            }
        }
    }

    /// The sum. Lock-free: it is read again only when a crossing completed during the read.
    pub(crate) fn read(&self) -> u64 {
        loop {
            let before = self.high.load(Ordering::Acquire);
            let low = self.low.load(Ordering::Acquire);
            if self.high.load(Ordering::Acquire) == before {
                let crossings = u64::from(before) + u64::from(Self::pending(before, low));
                return (crossings << 31) | u64::from(low % HALF);
            }
        }
    }
}

/// The 64-bit-atomics implementation.
#[cfg(target_has_atomic = "64")]
pub(crate) struct WideSum(crate::platform::atomics::AtomicCounter);

#[cfg(target_has_atomic = "64")]
impl WideSum {
    pub(crate) fn new() -> Self {
        WideSum(crate::platform::atomics::AtomicCounter::new(0))
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
        // The saturation is below 2^31, so one add crosses at most one multiple of 2^31.
        let fresh = SplitSum::new();
        fresh.add(u64::MAX);
        assert_eq!(fresh.read(), 0x7FFF_FFFF);
    }

    #[test]
    fn a_writer_preempted_between_its_two_steps_holds_no_one_up() {
        let s = SplitSum::new();
        for (start, step) in [(HALF - 10, 20u32), (u32::MAX - 5, 10)] {
            let total = s.read() + u64::from(start.wrapping_sub(s.low.load(Ordering::Relaxed)));
            while s.read() < total {
                s.add(total - s.read());
            }
            assert_eq!(s.read(), total);
            // A writer preempted between its two steps: its add crossed, its bump is pending.
            s.low.fetch_add(step, Ordering::Relaxed);
            assert_eq!(s.read(), total + u64::from(step), "bump pending");
            // Others keep adding, crossing again and again, before it resumes.
            for _ in 0..5 {
                s.add(u64::from(MAX_ADD));
            }
            let expected = total + u64::from(step) + 5 * u64::from(MAX_ADD);
            assert_eq!(s.read(), expected, "later crossings while one was pending");
            let (high, low) = (s.high.load(Ordering::Relaxed), s.low.load(Ordering::Relaxed));
            assert!(!SplitSum::pending(high, low), "the next writer completes the pending crossing");
            // The preempted writer resumes with its stale view: its bump must change nothing.
            let stale = s.high.load(Ordering::Relaxed).wrapping_sub(6);
            s.complete_crossing(stale);
            assert_eq!(s.read(), expected, "stale bump");
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
