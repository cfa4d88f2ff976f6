//! One pool's buffers as bitmaps: which are free, which are quarantined, and the highest number
//! held at once.
//!
//! The free set is one atomic word per pool, bit `i` set while buffer `i` is free. It is at
//! the same time the ownership record, so each operation is one atomic step on it:
//! - allocate clears the lowest set bit with a compare-and-swap (O(1): a find-first-set);
//! - release sets the buffer's bit with a `fetch_or`, and the old value tells in that same step
//!   whether the buffer was already free: of two racing releases exactly one sees the bit
//!   clear and wins, the other is refused as a double release and changes nothing (setting a
//!   set bit is no change).
//!
//! A buffer found damaged on release keeps its free bit clear for good and gets its bit in the
//! quarantine word instead. Buffers held = pool size − free − quarantined, read from the two
//! words; nothing else counts them. Hence a pool holds at most 32 buffers
//! ([`MAX_BUFFERS_PER_POOL`]), on every target.

use crate::geometry::MAX_BUFFERS_PER_POOL;
use crate::platform::atomics::{AtomicU32, Ordering};
use crate::platform::bits::count_ones;

/// The bitmap of a pool of `count` buffers with every buffer's bit set.
pub(crate) const fn full_mask(count: usize) -> u32 {
    if count >= MAX_BUFFERS_PER_POOL {
        u32::MAX
    } else {
        (1u32 << count) - 1
    }
}

/// The free set, quarantine set and peak of one pool, with its size and Warning threshold.
pub(crate) struct PoolWords {
    /// Bit `i` set: buffer `i` of the pool is free.
    free: AtomicU32,
    /// Bit `i` set: buffer `i` was found damaged on release and is out of service for good.
    quarantined: AtomicU32,
    /// The highest number of buffers held at once since init (raised by allocate).
    peak: AtomicU32,
    /// Buffers in the pool (fixed at init).
    count: u32,
    /// Held buffers above which the pool counts as more than 90 % used (fixed at init).
    warn_above: u32,
}

impl PoolWords {
    /// A pool of `count` buffers, all free.
    pub(crate) fn new(count: usize) -> Self {
        PoolWords {
            free: AtomicU32::new(full_mask(count)),
            quarantined: AtomicU32::new(0),
            peak: AtomicU32::new(0),
            count: count as u32,
            warn_above: (count * 9 / 10) as u32,
        }
    }

    /// Takes the lowest free buffer. Returns its index in the pool and the free set after the
    /// take, or `None` when the pool is empty.
    ///
    /// The successful compare-and-swap acquires, so the new owner sees everything the buffer's
    /// last releaser wrote; and a take that follows shutdown's read of the free word in that
    /// word's modification order also sees the state shutdown set before that read.
    #[inline(always)]
    pub(crate) fn take(&self) -> Option<(usize, u32)> {
        let mut free = self.free.load(Ordering::Relaxed);
        loop {
            if free == 0 {
                return None;
            }
            let taken = free & free.wrapping_sub(1);
            match self.free.compare_exchange_weak(free, taken, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Some((free.trailing_zeros() as usize, taken)),
                Err(current) => free = current,
            }
        }
    }

    /// Gives buffer `index` back in one atomic step. True when it was held; false when it was
    /// already free (a double release, which this call did not change).
    ///
    /// Releasing publishes the releaser's writes to the buffer's next owner. It also acquires,
    /// so a release that follows shutdown's read of the free word sees the ShuttingDown state
    /// and completes the shutdown.
    #[inline(always)]
    pub(crate) fn give_back(&self, index: usize) -> bool {
        let bit = 1u32 << index;
        self.free.fetch_or(bit, Ordering::AcqRel) & bit == 0
    }

    /// True while buffer `index` is in the free set (the tests' view; the hot path reads the
    /// custody word).
    #[cfg(test)]
    #[inline(always)]
    pub(crate) fn is_free(&self, index: usize) -> bool {
        self.free.load(Ordering::Acquire) & (1u32 << index) != 0
    }

    /// True when buffer `index` is quarantined (the tests' view). Relaxed: a buffer is
    /// quarantined for good.
    #[cfg(all(test, not(loom)))]
    #[inline(always)]
    pub(crate) fn is_quarantined(&self, index: usize) -> bool {
        self.quarantined.load(Ordering::Relaxed) & (1u32 << index) != 0
    }

    /// Takes buffer `index` out of the free set if it is in it (the integrity sweep, to own a
    /// free buffer it found damaged). True when it was free: the caller owns it now.
    pub(crate) fn take_if_free(&self, index: usize) -> bool {
        let bit = 1u32 << index;
        self.free.fetch_and(!bit, Ordering::AcqRel) & bit != 0
    }

    /// Takes held buffer `index` out of service for good. True when this call quarantined it,
    /// false when it already was.
    pub(crate) fn quarantine(&self, index: usize) -> bool {
        let bit = 1u32 << index;
        self.quarantined.fetch_or(bit, Ordering::AcqRel) & bit == 0
    }

    /// Buffers held by callers after a take left `free_after`.
    #[inline(always)]
    pub(crate) fn held_after(&self, free_after: u32) -> u32 {
        let out_of_pool = free_after | self.quarantined.load(Ordering::Relaxed);
        self.count - count_ones(out_of_pool)
    }

    /// Buffers held by callers now.
    #[inline(always)]
    pub(crate) fn held(&self) -> u32 {
        self.held_after(self.free.load(Ordering::Acquire))
    }

    /// True when `held` buffers put the pool above 90 %.
    #[inline(always)]
    pub(crate) fn crowded_with(&self, held: u32) -> bool {
        held > self.warn_above
    }

    /// Buffers held, read with a read-modify-write of the free word (an or of 0).
    ///
    /// Shutdown decides "no buffer is held" with this read: being a read-modify-write, it
    /// either comes after a concurrent take in the free word's modification order (and sees
    /// that buffer held) or the take acquires from it (and then sees the state change that
    /// preceded it), so no allocation can slip past a completing shutdown.
    pub(crate) fn held_synchronized(&self) -> u32 {
        self.held_after(self.free.fetch_or(0, Ordering::AcqRel))
    }

    /// The free set (bit `i` set: buffer `i` free).
    #[inline(always)]
    pub(crate) fn free_set(&self) -> u32 {
        self.free.load(Ordering::Acquire)
    }

    /// The quarantine set.
    #[inline(always)]
    pub(crate) fn quarantine_set(&self) -> u32 {
        self.quarantined.load(Ordering::Acquire)
    }

    /// Raises the peak to `held` (a load; a read-modify-write only for a new peak).
    #[inline(always)]
    pub(crate) fn note_held(&self, held: u32) {
        if self.peak.load(Ordering::Relaxed) < held {
            self.peak.fetch_max(held, Ordering::Relaxed);
        }
    }

    /// The highest number of buffers held at once since init.
    pub(crate) fn peak(&self) -> u32 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl crate::observability::statistics::PoolBitmaps for PoolWords {
    fn free_set(&self) -> u32 {
        PoolWords::free_set(self)
    }
    fn quarantine_set(&self) -> u32 {
        PoolWords::quarantine_set(self)
    }
    fn held(&self) -> u32 {
        PoolWords::held(self)
    }
    fn peak(&self) -> u32 {
        PoolWords::peak(self)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::vec::Vec;

    #[test]
    fn takes_every_buffer_once_then_reports_empty() {
        let pool = PoolWords::new(5);
        let mut seen = HashSet::new();
        for expected_held in 1..=5 {
            let (index, free) = pool.take().expect("buffer");
            assert!(seen.insert(index));
            assert_eq!(pool.held_after(free), expected_held);
        }
        assert_eq!(pool.take(), None);
        assert_eq!(pool.held(), 5);
    }

    #[test]
    fn a_full_word_pool_hands_out_all_32() {
        let pool = PoolWords::new(MAX_BUFFERS_PER_POOL);
        let taken: HashSet<usize> = (0..32).map(|_| pool.take().unwrap().0).collect();
        assert_eq!(taken.len(), 32);
        assert_eq!(pool.take(), None);
        assert!(pool.give_back(31));
        assert_eq!(pool.take().map(|(i, _)| i), Some(31));
    }

    #[test]
    fn giving_back_twice_is_refused_and_changes_nothing() {
        let pool = PoolWords::new(3);
        let (a, _) = pool.take().unwrap();
        assert!(pool.give_back(a));
        let before = pool.free_set();
        assert!(!pool.give_back(a), "second release must see the buffer free");
        assert_eq!(pool.free_set(), before);
        assert!(!pool.give_back(2), "never taken");
        assert_eq!(pool.held(), 0);
    }

    #[test]
    fn quarantined_buffers_are_neither_held_nor_free() {
        let pool = PoolWords::new(3);
        let (a, _) = pool.take().unwrap();
        assert_eq!(pool.held(), 1);
        assert!(pool.quarantine(a));
        assert!(!pool.quarantine(a));
        assert!(pool.is_quarantined(a) && !pool.is_free(a));
        assert_eq!(pool.held(), 0);
        assert_eq!(pool.held_synchronized(), 0);
        let rest: Vec<usize> = (0..2).map(|_| pool.take().unwrap().0).collect();
        assert!(!rest.contains(&a));
        assert_eq!(pool.take(), None);
    }

    #[test]
    fn a_pool_is_crowded_above_90_percent() {
        for (count, most_not_crowded) in [(1, 0), (2, 1), (4, 3), (8, 7), (10, 9), (20, 18), (32, 28)] {
            let pool = PoolWords::new(count);
            assert!(!pool.crowded_with(most_not_crowded), "{most_not_crowded} of {count}");
            assert!(pool.crowded_with(most_not_crowded + 1), "{} of {count}", most_not_crowded + 1);
        }
    }

    #[test]
    fn the_peak_only_rises() {
        let pool = PoolWords::new(4);
        pool.note_held(3);
        pool.note_held(1);
        assert_eq!(pool.peak(), 3);
        pool.note_held(4);
        assert_eq!(pool.peak(), 4);
    }

    #[test]
    fn threads_never_share_a_buffer() {
        use std::sync::atomic::AtomicU8;
        let pool = PoolWords::new(4);
        let owners: Vec<AtomicU8> = (0..4).map(|_| AtomicU8::new(0)).collect();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..20_000 {
                        if let Some((i, _)) = pool.take() {
                            assert_eq!(owners[i].fetch_add(1, Ordering::SeqCst), 0, "buffer {i} handed out twice");
                            owners[i].fetch_sub(1, Ordering::SeqCst);
                            assert!(pool.give_back(i));
                        }
                    }
                });
            }
        });
        assert_eq!(pool.held(), 0);
    }
}
