//! Statistics: the counters a pool keeps, the per-type snapshot copied out to callers, and the
//! manager-wide statistics around them.

use crate::platform::atomics::{load_u64, widen, AtomicCounter, CounterValue, Ordering};
use crate::platform::in_place::{put, zero_words};
use crate::platform::wide_sum::WideSum;
use crate::types::buffer_type::{Aes5BufferType, AES5_BUFFER_TYPE_COUNT};
use crate::types::manager_state::Aes5ManagerState;

/// Statistics of one buffer type, copied by value.
///
/// At every read, even under concurrent load: `allocated_buffers <= total_buffers`,
/// `peak_allocated >= allocated_buffers`, `total_releases <= total_allocations`. When the
/// manager is quiescent: `total_allocations - total_releases - quarantined_buffers ==
/// allocated_buffers`. Counters are 64-bit on 64-bit hosts and 32-bit (wrapping) on Cortex-M.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PoolStatistics {
    /// The `aes5_buffer_type_t` these statistics describe.
    pub buffer_type: Aes5BufferType,
    /// Buffers in the pool (0 for types without a pool).
    pub total_buffers: u32,
    /// Buffers currently held by callers.
    pub allocated_buffers: u32,
    /// Highest `allocated_buffers` seen since init.
    pub peak_allocated: u32,
    /// Buffers found corrupted on release and taken out of service.
    pub quarantined_buffers: u32,
    /// Capacity in bytes of one buffer of the pool.
    pub buffer_capacity_bytes: u32,
    /// Allocations refused because the pool was empty (the only allocation failures).
    pub allocation_failures: u64,
    /// Successful allocations.
    pub total_allocations: u64,
    /// Successful releases.
    pub total_releases: u64,
    /// Mean time between allocation and release, in ns (monitoring on; else 0).
    pub average_hold_time_ns: u64,
    /// Mean fraction of the pool in use, sampled at every allocate and release (monitoring on;
    /// else 0), 0.0..=1.0.
    pub average_utilization: f32,
}

/// Manager-wide statistics, with a fixed array of per-type
/// statistics indexed by `aes5_buffer_type_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ManagerStatistics {
    /// The state at the time of the read.
    pub current_state: Aes5ManagerState,
    /// State changes since init (init itself counts two: → Initializing → Ready).
    pub state_change_count: u32,
    /// Clock reading at the last state change (0 without monitoring or clock).
    pub state_change_timestamp_ns: u64,
    /// Allocate and release calls made on this manager since init: successes + refusals.
    pub total_operations: u64,
    /// Allocate and release calls that were refused, for any reason (statistics stay
    /// readable after Shutdown; calls refused there are counted too).
    pub failed_operations: u64,
    /// Allocations refused because the pool was empty.
    pub allocation_failures: u64,
    /// Allocate and release calls refused for invalid caller input (as `validation_errors`
    /// of the metrics).
    pub validation_failures: u64,
    /// Corrupted buffers detected (and quarantined) by release.
    pub memory_corruption_count: u64,
    /// (total_operations - failed_operations) / total_operations; 1.0 before any call.
    pub operation_success_rate: f32,
    /// Bytes of the storage the manager's layout uses.
    pub total_memory_usage_bytes: u32,
    /// Per-type statistics; Input, Output and Metadata have no pool and stay zero.
    pub buffer_type_stats: [PoolStatistics; AES5_BUFFER_TYPE_COUNT],
}

/// What the statistics read of one pool's words (the manager's `PoolWords`), so that this
/// module does not know the manager.
pub(crate) trait PoolBitmaps {
    /// Bit `i` set while buffer `i` is free.
    fn free_set(&self) -> u32;
    /// Bit `i` set while buffer `i` is quarantined.
    fn quarantine_set(&self) -> u32;
    /// Buffers held now.
    fn held(&self) -> u32;
    /// The most buffers held at once since init.
    fn peak(&self) -> u32;
}

/// The counters of one pool that allocate and release do not need: pool-empty refusals and
/// the monitoring sums. Allocations, releases, held and quarantined buffers are derived from
/// the pool's words and its buffers' allocation counts ([`allocation_counts`]).
pub(crate) struct PoolCounters {
    pub allocation_failures: AtomicCounter,
    /// Sum of the hold times of the pool's releases (with a clock every successful release
    /// adds one, so their number is the derived release count).
    pub hold_time_sum_ns: WideSum,
    /// Sum of the buffers held at each utilisation sample (their number is derived, see
    /// [`Monitoring::sampled`]).
    pub utilization_sum: WideSum,
}

/// What monitoring recorded for every operation, so which sums have one term per operation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Monitoring {
    /// Monitoring was on: every successful allocate and release, and every pool-empty
    /// refusal, added one utilisation sample.
    pub sampled: bool,
    /// Monitoring was on with a clock: every successful release added one hold time.
    pub timed: bool,
}

/// Allocations and releases of one pool, derived.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AllocationCounts {
    pub allocations: CounterValue,
    pub releases: CounterValue,
}

/// The counts of every pool added up (modulo the counter width, like each count).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PoolTotals {
    pub allocations: CounterValue,
    pub releases: CounterValue,
    /// Allocations refused because the pool was empty.
    pub failures: CounterValue,
}

impl PoolTotals {
    /// Allocation attempts that reached a pool: successes and pool-empty refusals.
    pub(crate) fn attempts(&self) -> CounterValue {
        self.allocations.wrapping_add(self.failures)
    }
}

/// Reads the allocations of each buffer of a pool and derives the releases: a buffer that is
/// free has had every allocation released; one that is held or quarantined, all but its
/// last. The counts are read before the free word, so an allocation that completes in between
/// reads as held with its previous count, like one in progress.
///
/// Allocate takes the buffer before it counts the allocation, so while an allocation is in
/// progress its buffer reads as held with the previous count: `total_releases` reads one low
/// for that instant. Every invariant still holds at every read (`releases <= allocations`,
/// `allocations - releases - quarantined == held` whenever no allocation is in progress).
pub(crate) fn allocation_counts(words: &impl PoolBitmaps, generations: &[AtomicCounter]) -> AllocationCounts {
    let mut counts = AllocationCounts::default();
    let mut last_allocated: u32 = 0;
    for (index, generation) in generations.iter().enumerate() {
        let allocations = generation.load(Ordering::Acquire);
        counts.allocations = counts.allocations.wrapping_add(allocations);
        if allocations != 0 {
            last_allocated |= 1 << index;
        }
    }
    let free = words.free_set();
    // Each buffer that has been allocated and is not free has one allocation not released.
    let outstanding = last_allocated & !free;
    counts.releases =
        counts.allocations.wrapping_sub(CounterValue::from(crate::platform::bits::count_ones(outstanding)));
    counts
}

// SAFETY: every field of new counters is a zero counter or sum (tested in `manager::zero_initial_tests`).
unsafe impl crate::platform::in_place::ZeroInitial for PoolCounters {
    fn initial() -> Self {
        PoolCounters::new()
    }
}

impl PoolCounters {
    /// Counters at zero (init writes them in place, as zero words).
    #[cfg_attr(not(any(test, loom)), allow(dead_code))]
    pub(crate) fn new() -> Self {
        PoolCounters {
            allocation_failures: AtomicCounter::new(0),
            hold_time_sum_ns: WideSum::new(),
            utilization_sum: WideSum::new(),
        }
    }

    /// Samples the pool's fill level (monitoring on).
    #[inline]
    pub(crate) fn sample_utilization(&self, allocated: u32) {
        self.utilization_sum.add(u64::from(allocated));
    }

    /// Records how long a buffer was held (monitoring on).
    #[inline]
    pub(crate) fn record_hold(&self, held_ns: u64) {
        self.hold_time_sum_ns.add(held_ns);
    }

    /// Writes the statistics of this pool into `out`, field by field.
    ///
    /// # Safety
    /// `out` must be valid for writes and aligned (its contents may be uninitialised).
    pub(crate) unsafe fn write_snapshot(
        &self,
        out: *mut PoolStatistics,
        words: &impl PoolBitmaps,
        generations: &[AtomicCounter],
        buffer_type: Aes5BufferType,
        capacity: u32,
        monitoring: Monitoring,
    ) {
        let total = generations.len() as u32;
        let counts = allocation_counts(words, generations);
        let allocated = words.held();
        let failures = load_u64(&self.allocation_failures, Ordering::Relaxed);
        let samples = if monitoring.sampled {
            widen(counts.allocations).wrapping_add(widen(counts.releases)).wrapping_add(failures)
        } else {
            0
        };
        let sum = self.utilization_sum.read();
        let holds = if monitoring.timed { counts.releases } else { 0 };
        let hold_sum = self.hold_time_sum_ns.read();
        put!(out, buffer_type, buffer_type);
        put!(out, total_buffers, total);
        put!(out, allocated_buffers, allocated);
        put!(out, peak_allocated, words.peak().max(allocated));
        put!(out, quarantined_buffers, words.quarantine_set().count_ones());
        put!(out, buffer_capacity_bytes, capacity);
        put!(out, allocation_failures, failures);
        put!(out, total_allocations, widen(counts.allocations));
        put!(out, total_releases, widen(counts.releases));
        put!(out, average_hold_time_ns, crate::observability::metrics::average(hold_sum, widen(holds)));
        put!(
            out,
            average_utilization,
            if samples == 0 || total == 0 { 0.0 } else { (sum as f32 / samples as f32 / total as f32).min(1.0) }
        );
    }
}

#[cfg(all(test, not(loom)))]
impl PoolCounters {
    /// [`Self::write_snapshot`] into a value.
    pub(crate) fn snapshot(
        &self,
        words: &impl PoolBitmaps,
        generations: &[AtomicCounter],
        buffer_type: Aes5BufferType,
        capacity: u32,
    ) -> PoolStatistics {
        let mut out = PoolStatistics::default();
        // SAFETY: a reference is valid for writes.
        unsafe {
            self.write_snapshot(
                &mut out,
                words,
                generations,
                buffer_type,
                capacity,
                Monitoring { sampled: true, timed: true },
            )
        };
        out
    }
}

/// Writes the statistics of a type without a pool into `out`: the type, and zeros.
///
/// # Safety
/// As [`PoolCounters::write_snapshot`].
pub(crate) unsafe fn write_empty_statistics(out: *mut PoolStatistics, buffer_type: Aes5BufferType) {
    // Every field is an integer or a float, for which zero bytes are 0 (volatile words: a run
    // of zero stores would otherwise become a call to `memset`).
    const { assert!(core::mem::size_of::<PoolStatistics>() % 4 == 0) };
    // SAFETY: `out` is valid for writes of a PoolStatistics and aligned (to 8, so to 4).
    unsafe { zero_words(out.cast::<u32>(), core::mem::size_of::<PoolStatistics>() / 4) };
    put!(out, buffer_type, buffer_type);
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    // The real pool words, for what the statistics derive from them.
    use crate::manager::pool::PoolWords;
    use std::vec::Vec;

    fn generations(n: usize) -> Vec<AtomicCounter> {
        (0..n).map(|_| AtomicCounter::new(0)).collect()
    }

    /// What allocate does: take, then count.
    fn allocate(words: &PoolWords, generations: &[AtomicCounter]) -> usize {
        let (index, free) = words.take().unwrap();
        generations[index].fetch_add(1, Ordering::Release);
        words.note_held(words.held_after(free));
        index
    }

    #[test]
    fn snapshot_derives_counts_and_reports_peak_and_averages() {
        let words = PoolWords::new(4);
        let gens = generations(4);
        let c = PoolCounters::new();
        let a = allocate(&words, &gens);
        c.sample_utilization(1);
        allocate(&words, &gens);
        c.sample_utilization(2);
        assert!(words.give_back(a));
        c.sample_utilization(1);
        c.record_hold(300);
        // A refusal counts and samples too (what `pool_exhausted` does).
        c.allocation_failures.fetch_add(1, Ordering::Relaxed);
        c.sample_utilization(1);
        let s = c.snapshot(&words, &gens, 1, 2048);
        assert_eq!(s.buffer_type, 1);
        assert_eq!((s.total_buffers, s.allocated_buffers, s.peak_allocated), (4, 1, 2));
        assert_eq!((s.total_allocations, s.total_releases, s.allocation_failures), (2, 1, 1));
        assert_eq!(s.average_hold_time_ns, 300, "one release, held 300 ns");
        // Four samples (two allocations, one release, one refusal) of 1, 2, 1 and 1 buffers.
        assert!((s.average_utilization - (5.0 / 4.0 / 4.0)).abs() < 1e-6);
        assert_eq!(s.buffer_capacity_bytes, 2048);
    }

    #[test]
    fn without_samples_the_averages_are_zero() {
        let words = PoolWords::new(3);
        let gens = generations(3);
        allocate(&words, &gens);
        let s = PoolCounters::new().snapshot(&words, &gens, 0, 64);
        assert_eq!(s.average_utilization, 0.0);
        assert_eq!(s.average_hold_time_ns, 0);
        assert_eq!((s.allocated_buffers, s.total_allocations), (1, 1));
    }

    #[test]
    fn a_quarantined_buffer_counts_its_last_allocation_as_not_released() {
        let words = PoolWords::new(2);
        let gens = generations(2);
        let c = PoolCounters::new();
        for _ in 0..3 {
            let i = allocate(&words, &gens);
            assert!(words.give_back(i));
        }
        let i = allocate(&words, &gens);
        assert!(words.quarantine(i));
        let s = c.snapshot(&words, &gens, 0, 64);
        assert_eq!((s.total_allocations, s.total_releases, s.quarantined_buffers, s.allocated_buffers), (4, 3, 1, 0));
    }

    #[test]
    fn an_allocation_in_progress_keeps_every_invariant() {
        let words = PoolWords::new(2);
        let gens = generations(2);
        // Taken but not yet counted: the state an interrupted allocate leaves.
        let (_index, _) = words.take().unwrap();
        let counts = allocation_counts(&words, &gens);
        assert_eq!((counts.allocations, counts.releases), (0, 0));
        assert_eq!(words.held(), 1);
    }
}
