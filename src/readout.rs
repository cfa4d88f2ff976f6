//! Copying statistics, metrics and the performance report out of a live manager.

use crate::geometry::{HISTORY_CAPACITY, POOL_BUFFER_BYTES, POOL_BUFFER_COUNTS, POOL_FIRST_SLOT, TOTAL_CAPACITY_BYTES};
use crate::history::Sample;
use crate::layout::{ManagerCore, REQUIRED_BYTES};
use crate::metrics::{ratio, RealtimeMetrics};
use crate::report::{analyze, warnings, PerformanceReport};
use crate::state::{Aes5ManagerState, BufferType, AES5_BUFFER_TYPE_COUNT};
use crate::stats::{allocation_counts, AllocationCounts, PoolStatistics};
use crate::sync::{load_u64, widen, AtomicCounter, Ordering};

/// Manager-wide statistics (the seed's `ManagerStatistics`), with a fixed array of per-type
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

impl ManagerCore {
    /// The allocation counts of each buffer of pool `pool`.
    pub(crate) fn pool_generations(&self, pool: usize) -> &[AtomicCounter] {
        match (POOL_FIRST_SLOT.get(pool), POOL_BUFFER_COUNTS.get(pool)) {
            (Some(&first), Some(&count)) => self.generations.get(first..first + count).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Allocations and releases of pool `pool`, derived.
    pub(crate) fn pool_counts(&self, pool: usize) -> AllocationCounts {
        match self.pools.get(pool) {
            Some(words) => allocation_counts(words, self.pool_generations(pool)),
            None => AllocationCounts::default(),
        }
    }

    /// Statistics of one buffer type (zeros with the type set, for types without a pool).
    pub(crate) fn pool_statistics(&self, buffer_type: BufferType) -> PoolStatistics {
        let raw = buffer_type as u32;
        match buffer_type.pool() {
            Some(p) => match (self.pools.get(p), self.pool_counters.get(p), POOL_BUFFER_BYTES.get(p)) {
                (Some(words), Some(counters), Some(&bytes)) => {
                    counters.snapshot(words, self.pool_generations(p), raw, bytes as u32)
                }
                _ => PoolStatistics { buffer_type: raw, ..PoolStatistics::default() },
            },
            None => PoolStatistics { buffer_type: raw, ..PoolStatistics::default() },
        }
    }

    /// The whole statistics structure.
    pub(crate) fn statistics(&self) -> ManagerStatistics {
        let mut per_type = [PoolStatistics::default(); AES5_BUFFER_TYPE_COUNT];
        for (out, buffer_type) in per_type.iter_mut().zip(BufferType::ALL) {
            *out = self.pool_statistics(buffer_type);
        }
        let mut successes = 0u64;
        let mut allocation_failures = 0u64;
        for s in &per_type {
            successes += s.total_allocations + s.total_releases;
            allocation_failures += s.allocation_failures;
        }
        let rejected = load_u64(&self.counters.rejected_allocations, Ordering::Relaxed)
            + load_u64(&self.counters.rejected_releases, Ordering::Relaxed);
        let failed = allocation_failures + rejected;
        let total = successes + failed;
        ManagerStatistics {
            current_state: self.state(),
            state_change_count: self.state_changes.load(Ordering::Relaxed),
            state_change_timestamp_ns: self.state_change_time_ns.read(),
            total_operations: total,
            failed_operations: failed,
            allocation_failures,
            validation_failures: load_u64(&self.counters.validation_errors, Ordering::Relaxed),
            memory_corruption_count: load_u64(&self.counters.corruption_detected, Ordering::Relaxed),
            operation_success_rate: ratio(successes, total, 1.0),
            total_memory_usage_bytes: REQUIRED_BYTES as u32,
            buffer_type_stats: per_type,
        }
    }

    /// The real-time metrics.
    pub(crate) fn metrics(&self) -> RealtimeMetrics {
        let allocate = self.metrics.allocate.read();
        let release = self.metrics.release.read();
        let (mut allocations, mut failures, mut releases) = (0u64, 0u64, 0u64);
        for (pool, counters) in self.pool_counters.iter().enumerate() {
            let counts = self.pool_counts(pool);
            releases += widen(counts.releases);
            allocations += widen(counts.allocations);
            failures += load_u64(&counters.allocation_failures, Ordering::Relaxed);
        }
        let (buffers, bytes) = self.usage();
        RealtimeMetrics {
            allocation_count: allocations,
            allocation_failures: failures,
            timed_allocations: allocate.count,
            total_allocation_time_ns: allocate.total,
            min_allocation_time_ns: allocate.min,
            max_allocation_time_ns: allocate.max,
            average_allocation_time_ns: allocate.average(),
            release_count: releases,
            release_failures: load_u64(&self.counters.rejected_releases, Ordering::Relaxed),
            timed_releases: release.count,
            total_release_time_ns: release.total,
            min_release_time_ns: release.min,
            max_release_time_ns: release.max,
            average_release_time_ns: release.average(),
            validation_errors: load_u64(&self.counters.validation_errors, Ordering::Relaxed),
            corruption_detected: load_u64(&self.counters.corruption_detected, Ordering::Relaxed),
            timeout_errors: load_u64(&self.counters.timeout_errors, Ordering::Relaxed),
            current_allocated_buffers: buffers,
            peak_allocated_buffers: self.metrics.peak_buffers.load(Ordering::Relaxed).max(buffers),
            current_memory_usage_bytes: bytes,
            peak_memory_usage_bytes: self.metrics.peak_memory_bytes.load(Ordering::Relaxed).max(bytes),
            allocation_success_rate: ratio(allocations, allocations + failures, 1.0),
            memory_utilization_ratio: ratio(u64::from(bytes), TOTAL_CAPACITY_BYTES as u64, 0.0),
        }
    }

    /// The performance report over the last `period_ns` of history (0 = all of it).
    pub(crate) fn performance_report(&self, period_ns: u64) -> PerformanceReport {
        let now = if self.timed { self.config.clock.now() } else { 0 };
        let metrics = self.metrics();
        let mut samples = [Sample::EMPTY; HISTORY_CAPACITY];
        let count = self.history.read_all(&mut samples);
        let trend = analyze(
            samples.get(..count).unwrap_or(&[]),
            now,
            period_ns,
            TOTAL_CAPACITY_BYTES as u32,
            self.history.dropped(),
        );
        let attempts = metrics.allocation_count + metrics.allocation_failures;
        let rate_ok = metrics.allocation_count.saturating_mul(1_000_000)
            >= u64::from(self.config.min_success_ppm).saturating_mul(attempts);
        let fast_enough = metrics.average_allocation_time_ns <= self.config.allocation_timeout_ns;
        PerformanceReport {
            metrics,
            trend,
            monitoring_duration_ns: now.saturating_sub(self.init_time_ns),
            warnings: warnings(&metrics, self.timed),
            meets_performance_requirements: fast_enough && rate_ok,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::test_fixture::*;

    #[test]
    fn concurrent_threads_keep_every_invariant() {
        let mut f = Fixture::new();
        let m = f.init(&RuntimeConfig::default()).unwrap();
        let workers_done = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..3u32 {
                let (m, done) = (&m, &workers_done);
                s.spawn(move || {
                    for i in 0..20_000u32 {
                        if let Ok(h) = m.allocate((i + t) % 3, &pcm()) {
                            // SAFETY: the buffer is held by this thread alone.
                            unsafe {
                                let data = (*h.as_ptr()).data_pointer.cast::<u32>();
                                data.write(t);
                                std::thread::yield_now();
                                assert_eq!(data.read(), t, "buffer shared between threads");
                            }
                            assert_eq!(m.release(h.as_ptr()), Ok(()));
                        }
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                });
            }
            s.spawn(|| {
                while workers_done.load(Ordering::SeqCst) < 3 {
                    let s = m.statistics();
                    for p in &s.buffer_type_stats {
                        assert!(p.allocated_buffers <= p.total_buffers);
                        assert!(p.peak_allocated >= p.allocated_buffers);
                        assert!(p.total_releases <= p.total_allocations);
                    }
                    let metrics = m.metrics();
                    assert!(metrics.peak_allocated_buffers >= metrics.current_allocated_buffers);
                }
            });
        });
        let s = m.statistics();
        for p in &s.buffer_type_stats {
            assert_eq!(
                p.total_allocations - p.total_releases - u64::from(p.quarantined_buffers),
                u64::from(p.allocated_buffers)
            );
            assert_eq!(p.allocated_buffers, 0);
        }
        assert_eq!(s.failed_operations, s.allocation_failures);
    }
}
