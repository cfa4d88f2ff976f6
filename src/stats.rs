//! Per-type statistics (the seed's `BufferTypeStatistics`): the counters a pool keeps and the
//! snapshot copied out to callers.

use crate::pool::FreeList;
use crate::state::Aes5BufferType;
use crate::sync::{load_u64, raise_to_u32, widen, AtomicCounter, AtomicU32, CounterValue, Ordering};
use crate::wide_sum::WideSum;

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

/// The live counters of one pool.
pub(crate) struct PoolCounters {
    pub total_allocations: AtomicCounter,
    pub total_releases: AtomicCounter,
    pub allocation_failures: AtomicCounter,
    pub peak_allocated: AtomicU32,
    pub quarantined: AtomicU32,
    pub hold_time_sum_ns: WideSum,
    pub hold_samples: AtomicCounter,
    pub utilization_sum: WideSum,
    pub utilization_samples: AtomicCounter,
}

impl PoolCounters {
    pub(crate) fn new() -> Self {
        PoolCounters {
            total_allocations: AtomicCounter::new(0),
            total_releases: AtomicCounter::new(0),
            allocation_failures: AtomicCounter::new(0),
            peak_allocated: AtomicU32::new(0),
            quarantined: AtomicU32::new(0),
            hold_time_sum_ns: WideSum::new(),
            hold_samples: AtomicCounter::new(0),
            utilization_sum: WideSum::new(),
            utilization_samples: AtomicCounter::new(0),
        }
    }

    /// Counts a successful allocation; returns its 1-based sequence number in the pool.
    #[inline(always)]
    pub(crate) fn count_allocation(&self, allocated_after: u32) -> CounterValue {
        raise_to_u32(&self.peak_allocated, allocated_after);
        self.total_allocations.fetch_add(1, Ordering::Release).wrapping_add(1)
    }

    /// Counts a successful release.
    #[inline(always)]
    pub(crate) fn count_release(&self) {
        self.total_releases.fetch_add(1, Ordering::Release);
    }

    /// Samples the pool's fill level (monitoring on).
    #[inline]
    pub(crate) fn sample_utilization(&self, allocated: u32) {
        self.utilization_sum.add(u64::from(allocated));
        self.utilization_samples.fetch_add(1, Ordering::Relaxed);
    }

    /// Records how long a buffer was held (monitoring on).
    #[inline]
    pub(crate) fn record_hold(&self, held_ns: u64) {
        self.hold_time_sum_ns.add(held_ns);
        self.hold_samples.fetch_add(1, Ordering::Relaxed);
    }

    /// Copies the counters out. Releases are read before allocations, and both counters are
    /// published with release ordering, so `total_releases <= total_allocations` holds.
    pub(crate) fn snapshot(
        &self,
        list: &FreeList,
        buffer_type: Aes5BufferType,
        total: u32,
        capacity: u32,
    ) -> PoolStatistics {
        let total_releases = self.total_releases.load(Ordering::Acquire);
        let allocated = list.allocated();
        let total_allocations = self.total_allocations.load(Ordering::Acquire);
        let samples = self.utilization_samples.load(Ordering::Relaxed);
        let sum = self.utilization_sum.read();
        let holds = self.hold_samples.load(Ordering::Relaxed);
        let hold_sum = self.hold_time_sum_ns.read();
        PoolStatistics {
            buffer_type,
            total_buffers: total,
            allocated_buffers: allocated,
            peak_allocated: self.peak_allocated.load(Ordering::Relaxed).max(allocated),
            quarantined_buffers: self.quarantined.load(Ordering::Acquire),
            buffer_capacity_bytes: capacity,
            allocation_failures: load_u64(&self.allocation_failures, Ordering::Relaxed),
            total_allocations: widen(total_allocations),
            total_releases: widen(total_releases),
            average_hold_time_ns: hold_sum.checked_div(widen(holds)).unwrap_or(0),
            average_utilization: if samples == 0 || total == 0 {
                0.0
            } else {
                (sum as f32 / samples as f32 / total as f32).min(1.0)
            },
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::pool::SlotControl;
    use std::vec::Vec;

    #[test]
    fn snapshot_reports_counts_peak_and_averages() {
        let slots: Vec<SlotControl> = (0..4).map(|i| SlotControl::new(FreeList::initial_next(i, 4))).collect();
        let list = FreeList::new(4);
        let c = PoolCounters::new();
        let (a, n) = list.pop(&slots).unwrap();
        assert_eq!(c.count_allocation(n), 1);
        c.sample_utilization(n);
        let (_, n) = list.pop(&slots).unwrap();
        assert_eq!(c.count_allocation(n), 2);
        c.sample_utilization(n);
        list.push(&slots, a);
        c.count_release();
        c.sample_utilization(1);
        c.record_hold(300);
        c.record_hold(100);
        c.allocation_failures.fetch_add(1, Ordering::Relaxed);
        let s = c.snapshot(&list, 1, 4, 2048);
        assert_eq!(s.buffer_type, 1);
        assert_eq!((s.total_buffers, s.allocated_buffers, s.peak_allocated), (4, 1, 2));
        assert_eq!((s.total_allocations, s.total_releases, s.allocation_failures), (2, 1, 1));
        assert_eq!(s.average_hold_time_ns, 200);
        assert!((s.average_utilization - (4.0 / 3.0 / 4.0)).abs() < 1e-6);
        assert_eq!(s.buffer_capacity_bytes, 2048);
    }
}
