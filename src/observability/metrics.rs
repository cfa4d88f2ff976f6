//! Real-time metrics: timing of allocate and release, peaks,
//! and error counters.

use crate::platform::atomics::{
    load_u64, lower_counter, raise_counter, to_counter, widen, AtomicCounter, CounterValue, Ordering,
};
use crate::platform::wide_sum::WideSum;

/// Manager-wide real-time metrics, copied by value. Timing fields need performance monitoring
/// and a clock; without them they stay 0 while the counts still work.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RealtimeMetrics {
    /// Successful allocations.
    pub allocation_count: u64,
    /// Allocations refused because the pool was empty.
    pub allocation_failures: u64,
    /// Allocations that were timed.
    pub timed_allocations: u64,
    /// Sum of timed allocation durations, ns.
    pub total_allocation_time_ns: u64,
    /// Fastest timed allocation, ns (0 when none was timed).
    pub min_allocation_time_ns: u64,
    /// Slowest timed allocation, ns.
    pub max_allocation_time_ns: u64,
    /// Mean timed allocation, ns.
    pub average_allocation_time_ns: u64,
    /// Successful releases.
    pub release_count: u64,
    /// Refused releases (foreign, double, corrupted, wrong state).
    pub release_failures: u64,
    /// Releases that were timed.
    pub timed_releases: u64,
    /// Sum of timed release durations, ns.
    pub total_release_time_ns: u64,
    /// Fastest timed release, ns (0 when none was timed).
    pub min_release_time_ns: u64,
    /// Slowest timed release, ns.
    pub max_release_time_ns: u64,
    /// Mean timed release, ns.
    pub average_release_time_ns: u64,
    /// Allocate, release and enqueue calls refused for invalid caller input (NULL,
    /// out-of-range values, bad formats, types without a pool, foreign pointers, double
    /// releases, buffers waiting in a queue).
    pub validation_errors: u64,
    /// Damaged buffers quarantined: a damaged header or guard found by release or enqueue, or
    /// damage the integrity sweep found on a free buffer.
    pub corruption_detected: u64,
    /// Allocations slower than `allocation_timeout_ns` (they still succeeded).
    pub timeout_errors: u64,
    /// Refused enqueues, for any reason (a dequeue of an empty queue is not a failure).
    pub hand_off_failures: u64,
    /// Buffers quarantined because data was written past their end or before their start (a
    /// guard word next to their data changed), by a release, an enqueue or the integrity
    /// sweep. Each is also one of `corruption_detected`.
    pub overruns_detected: u64,
    /// Buffers held now, all pools.
    pub current_allocated_buffers: u32,
    /// Highest `current_allocated_buffers` seen (tracked at each allocation with monitoring
    /// on; never below the current value).
    pub peak_allocated_buffers: u32,
    /// Bytes of buffer capacity held now.
    pub current_memory_usage_bytes: u32,
    /// Highest `current_memory_usage_bytes` seen (as `peak_allocated_buffers`).
    pub peak_memory_usage_bytes: u32,
    /// successes / (successes + pool-empty failures); 1.0 before any attempt.
    pub allocation_success_rate: f32,
    /// `current_memory_usage_bytes` / total pool capacity.
    pub memory_utilization_ratio: f32,
}

/// Lock-free sum, minimum and maximum of one kind of timed operation. The count is not kept:
/// with monitoring and a clock every successful operation is timed, so it is the derived
/// allocation or release count ([`TimingCells::read`] takes it).
pub(crate) struct TimingCells {
    total: WideSum,
    min: AtomicCounter,
    max: AtomicCounter,
}

/// A copy of [`TimingCells`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Timing {
    pub count: u64,
    pub total: u64,
    pub min: u64,
    pub max: u64,
}

impl Timing {
    pub(crate) fn average(&self) -> u64 {
        average(self.total, self.count)
    }
}

impl TimingCells {
    pub(crate) fn new() -> Self {
        TimingCells { total: WideSum::new(), min: AtomicCounter::new(CounterValue::MAX), max: AtomicCounter::new(0) }
    }

    #[inline]
    pub(crate) fn record(&self, ns: u64) {
        let value = to_counter(ns);
        self.total.add(ns);
        lower_counter(&self.min, value);
        raise_counter(&self.max, value);
    }

    /// The sum of the durations.
    pub(crate) fn total(&self) -> u64 {
        self.total.read()
    }

    /// The figures, with `count` operations timed.
    pub(crate) fn read(&self, count: u64) -> Timing {
        let min = self.min.load(Ordering::Relaxed);
        Timing {
            count,
            total: self.total.read(),
            min: if min == CounterValue::MAX { 0 } else { widen(min) },
            max: load_u64(&self.max, Ordering::Relaxed),
        }
    }
}

/// The mean of `count` values summing to `sum` (0 when there are none).
pub(crate) fn average(sum: u64, count: u64) -> u64 {
    crate::platform::divide::divide(sum, count)
}

/// Ratio `num / den` as f32, with `empty` when `den` is 0.
pub(crate) fn ratio(num: u64, den: u64, empty: f32) -> f32 {
    if den == 0 {
        empty
    } else {
        (num as f32 / den as f32).clamp(0.0, 1.0)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn timing_tracks_min_max_and_average() {
        let t = TimingCells::new();
        assert_eq!(t.read(0), Timing::default());
        for ns in [50, 10, 30] {
            t.record(ns);
        }
        let r = t.read(3);
        assert_eq!((r.count, r.total, r.min, r.max, r.average()), (3, 90, 10, 50, 30));
    }

    #[test]
    fn ratios_are_clamped_and_default_when_empty() {
        assert_eq!(ratio(0, 0, 1.0), 1.0);
        assert_eq!(ratio(1, 4, 1.0), 0.25);
        assert_eq!(ratio(5, 4, 0.0), 1.0);
    }
}
