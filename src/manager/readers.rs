//! Copying statistics, metrics and the performance report out of a live manager.

use crate::geometry::{HISTORY_CAPACITY, POOLS, TOTAL_CAPACITY_BYTES};
use crate::manager::storage::REQUIRED_BYTES;
use crate::manager::ManagerCore;
use crate::observability::history::Snapshot;
use crate::observability::metrics::{ratio, RealtimeMetrics};
use crate::observability::report::{analyze, warnings, PerformanceReport, AES5_NO_BUFFER};
use crate::observability::statistics::{
    allocation_counts, write_empty_statistics, AllocationCounts, ManagerStatistics, Monitoring, PoolStatistics,
    PoolTotals,
};
use crate::platform::atomics::{load_u64, widen, AtomicCounter, Ordering};
use crate::platform::in_place::put;
use crate::types::buffer_type::{BufferType, AES5_BUFFER_TYPE_COUNT};

impl ManagerCore {
    /// The allocation counts of each buffer of pool `pool`.
    pub(crate) fn pool_generations(&self, pool: usize) -> &[AtomicCounter] {
        POOLS
            .get(pool)
            .and_then(|shape| self.generations.get(shape.first_slot..shape.first_slot + shape.count))
            .unwrap_or(&[])
    }

    /// Allocations and releases of pool `pool`, derived.
    pub(crate) fn pool_counts(&self, pool: usize) -> AllocationCounts {
        match self.pools.get(pool) {
            Some(words) => allocation_counts(words, self.pool_generations(pool)),
            None => AllocationCounts::default(),
        }
    }

    /// The counts of every pool added up: the one sum over the pools behind the metrics, the
    /// Warning window and the trend snapshots.
    pub(crate) fn pool_totals(&self) -> PoolTotals {
        let mut totals = PoolTotals::default();
        for (pool, counters) in self.pool_counters.iter().enumerate() {
            let counts = self.pool_counts(pool);
            totals.allocations = totals.allocations.wrapping_add(counts.allocations);
            totals.releases = totals.releases.wrapping_add(counts.releases);
            totals.failures = totals.failures.wrapping_add(counters.allocation_failures.load(Ordering::Relaxed));
        }
        totals
    }

    /// Writes the statistics of one buffer type into `out` (zeros with the type set, for types
    /// without a pool).
    ///
    /// # Safety
    /// `out` must be valid for writes and aligned (its contents may be uninitialised).
    pub(crate) unsafe fn write_pool_statistics(&self, buffer_type: BufferType, out: *mut PoolStatistics) {
        let raw = buffer_type as u32;
        let pool = buffer_type.pool();
        let parts = pool.and_then(|p| Some((self.pools.get(p)?, self.pool_counters.get(p)?, POOLS.get(p)?, p)));
        match parts {
            // SAFETY: forwarded contract.
            Some((words, counters, shape, p)) => unsafe {
                counters.write_snapshot(
                    out,
                    words,
                    self.pool_generations(p),
                    raw,
                    shape.capacity as u32,
                    Monitoring { sampled: self.is_monitored(), timed: self.is_timed() },
                )
            },
            // SAFETY: forwarded contract.
            None => unsafe { write_empty_statistics(out, raw) },
        }
    }

    /// Writes the whole statistics structure into `out`.
    ///
    /// # Safety
    /// As [`Self::write_pool_statistics`].
    pub(crate) unsafe fn write_statistics(&self, out: *mut ManagerStatistics) {
        // The totals add up the per-type entries written here, not `pool_totals`: a second
        // reading could differ from the first under load, and the totals must agree with the
        // entries beside them.
        let (mut successes, mut allocation_failures) = (0u64, 0u64);
        // SAFETY: `out` is valid for writes, so is its array field; the array has one element
        // per buffer type.
        let per_type = unsafe { core::ptr::addr_of_mut!((*out).buffer_type_stats) }.cast::<PoolStatistics>();
        for (index, buffer_type) in BufferType::ALL.into_iter().enumerate().take(AES5_BUFFER_TYPE_COUNT) {
            // SAFETY: `index` < AES5_BUFFER_TYPE_COUNT, the array's length.
            let entry = unsafe { per_type.add(index) };
            // SAFETY: forwarded contract; the entry is written whole before it is read back.
            let written = unsafe {
                self.write_pool_statistics(buffer_type, entry);
                &*entry
            };
            successes += written.total_allocations + written.total_releases;
            allocation_failures += written.allocation_failures;
        }
        let rejected = load_u64(&self.counters.rejected_allocations, Ordering::Relaxed)
            + load_u64(&self.counters.rejected_releases, Ordering::Relaxed);
        let failed = allocation_failures + rejected;
        let total = successes + failed;
        put!(out, current_state, self.state());
        put!(out, state_change_count, self.state_changes.load(Ordering::Relaxed));
        put!(out, state_change_timestamp_ns, self.state_change_time_ns.read());
        put!(out, total_operations, total);
        put!(out, failed_operations, failed);
        put!(out, allocation_failures, allocation_failures);
        put!(out, validation_failures, load_u64(&self.counters.validation_errors, Ordering::Relaxed));
        put!(out, memory_corruption_count, load_u64(&self.counters.corruption_detected, Ordering::Relaxed));
        put!(out, operation_success_rate, ratio(successes, total, 1.0));
        put!(out, total_memory_usage_bytes, REQUIRED_BYTES as u32);
    }

    /// Writes the real-time metrics into `out`.
    ///
    /// # Safety
    /// As [`Self::write_pool_statistics`].
    pub(crate) unsafe fn write_metrics(&self, out: *mut RealtimeMetrics) {
        let totals = self.pool_totals();
        let (allocations, releases, failures) =
            (widen(totals.allocations), widen(totals.releases), widen(totals.failures));
        // With a clock every successful allocation and release is timed (`monitor`).
        let timed = |count: u64| if self.is_timed() { count } else { 0 };
        let allocate = self.metrics.allocate.read(timed(allocations));
        let release = self.metrics.release.read(timed(releases));
        let (buffers, bytes) = self.usage();
        put!(out, allocation_count, allocations);
        put!(out, allocation_failures, failures);
        put!(out, timed_allocations, allocate.count);
        put!(out, total_allocation_time_ns, allocate.total);
        put!(out, min_allocation_time_ns, allocate.min);
        put!(out, max_allocation_time_ns, allocate.max);
        put!(out, average_allocation_time_ns, allocate.average());
        put!(out, release_count, releases);
        put!(out, release_failures, load_u64(&self.counters.rejected_releases, Ordering::Relaxed));
        put!(out, timed_releases, release.count);
        put!(out, total_release_time_ns, release.total);
        put!(out, min_release_time_ns, release.min);
        put!(out, max_release_time_ns, release.max);
        put!(out, average_release_time_ns, release.average());
        put!(out, validation_errors, load_u64(&self.counters.validation_errors, Ordering::Relaxed));
        put!(out, corruption_detected, load_u64(&self.counters.corruption_detected, Ordering::Relaxed));
        put!(out, timeout_errors, load_u64(&self.counters.timeout_errors, Ordering::Relaxed));
        put!(out, hand_off_failures, load_u64(&self.counters.rejected_hand_offs, Ordering::Relaxed));
        put!(out, overruns_detected, load_u64(&self.counters.overruns_detected, Ordering::Relaxed));
        put!(out, current_allocated_buffers, buffers);
        put!(out, peak_allocated_buffers, self.metrics.peak_buffers.load(Ordering::Relaxed).max(buffers));
        put!(out, current_memory_usage_bytes, bytes);
        put!(out, peak_memory_usage_bytes, self.metrics.peak_memory_bytes.load(Ordering::Relaxed).max(bytes));
        put!(out, allocation_success_rate, ratio(allocations, allocations + failures, 1.0));
        put!(out, memory_utilization_ratio, ratio(u64::from(bytes), TOTAL_CAPACITY_BYTES as u64, 0.0));
    }

    /// Writes the performance report over the last `period_ns` of history (0 = all of it)
    /// into `out`.
    ///
    /// # Safety
    /// As [`Self::write_pool_statistics`].
    pub(crate) unsafe fn write_performance_report(&self, period_ns: u64, out: *mut PerformanceReport) {
        let now = if self.is_timed() { self.config.clock.now() } else { 0 };
        // SAFETY: forwarded contract; the metrics are written whole before they are read back.
        let metrics = unsafe {
            let metrics = core::ptr::addr_of_mut!((*out).metrics);
            self.write_metrics(metrics);
            &*metrics
        };
        // The ring's snapshots, then the counts now as the end of the newest interval.
        let mut snapshots = [Snapshot::default(); HISTORY_CAPACITY + 1];
        let mut count = 0;
        if self.is_timed() {
            count = self.history.read_all(&mut snapshots[..HISTORY_CAPACITY]);
            if let Some(last) = snapshots.get_mut(count) {
                *last = self.cumulative(now, false);
                count += 1;
            }
        }
        let trend = analyze(
            snapshots.get(..count).unwrap_or(&[]),
            period_ns,
            TOTAL_CAPACITY_BYTES as u32,
            self.history.dropped(),
        );
        let attempts = metrics.allocation_count + metrics.allocation_failures;
        let rate_ok = metrics.allocation_count.saturating_mul(1_000_000)
            >= u64::from(self.config.min_success_ppm).saturating_mul(attempts);
        let fast_enough = metrics.average_allocation_time_ns <= self.config.allocation_timeout_ns;
        let oldest = self.oldest_hand_off(now);
        let max_hold = self.config.max_hold_ns;
        let long_hold = max_hold != 0 && oldest.is_some_and(|(_, age)| age > max_hold);
        let flags = warnings(metrics, self.is_timed(), long_hold);
        put!(out, trend, trend);
        put!(out, monitoring_duration_ns, now.saturating_sub(self.init_time_ns));
        put!(out, warnings, flags);
        put!(out, meets_performance_requirements, fast_enough && rate_ok);
        put!(out, oldest_hand_off_age_ns, oldest.map_or(0, |(_, age)| age));
        put!(out, oldest_hand_off_buffer_id, oldest.map_or(AES5_NO_BUFFER, |(id, _)| id));
    }

    /// [`Self::write_pool_statistics`] into a value.
    pub(crate) fn pool_statistics(&self, buffer_type: BufferType) -> PoolStatistics {
        let mut out = PoolStatistics::default();
        // SAFETY: a reference is valid for writes.
        unsafe { self.write_pool_statistics(buffer_type, &mut out) };
        out
    }

    /// [`Self::write_statistics`] into a value.
    pub(crate) fn statistics(&self) -> ManagerStatistics {
        let mut out = ManagerStatistics::default();
        // SAFETY: a reference is valid for writes.
        unsafe { self.write_statistics(&mut out) };
        out
    }

    /// [`Self::write_metrics`] into a value.
    pub(crate) fn metrics(&self) -> RealtimeMetrics {
        let mut out = RealtimeMetrics::default();
        // SAFETY: a reference is valid for writes.
        unsafe { self.write_metrics(&mut out) };
        out
    }

    /// [`Self::write_performance_report`] into a value.
    pub(crate) fn performance_report(&self, period_ns: u64) -> PerformanceReport {
        let mut out = PerformanceReport::default();
        // SAFETY: a reference is valid for writes.
        unsafe { self.write_performance_report(period_ns, &mut out) };
        out
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::verification::test_fixture::*;

    #[test]
    fn concurrent_threads_keep_every_invariant() {
        let mut f = Fixture::new();
        let m = f.init(&RuntimeConfig::default()).unwrap();
        let workers_done = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..3u32 {
                let (m, done) = (&m, &workers_done);
                s.spawn(move || {
                    let _done = CountsWhenDone(done);
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
