//! Performance monitoring after an allocate or release: timing, peaks, utilisation and the
//! trend history's snapshots. Runs only when monitoring is on.

use crate::geometry::POOLS;
use crate::manager::ManagerCore;
use crate::observability::history::{square_units, Snapshot};
use crate::platform::atomics::{raise_to_u32, widen, Ordering};

/// Which operation is monitored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SampleKind {
    Allocate,
    Release,
}

/// One buffer of `capacity` bytes in the packed count of `MetricCells::held_now`.
#[inline(always)]
const fn held_unit(capacity: usize) -> u32 {
    1 | (capacity as u32) << HELD_BYTES_SHIFT
}

/// Where the bytes start in the packed count: below them, the buffers.
const HELD_BYTES_SHIFT: u32 = 8;

/// The packed count's (buffers, bytes).
#[inline(always)]
const fn unpack_held(held: u32) -> (u32, u32) {
    (held & ((1 << HELD_BYTES_SHIFT) - 1), held >> HELD_BYTES_SHIFT)
}

// Every buffer held at once fits each field of the packed count.
static_assertions::const_assert!(crate::geometry::TOTAL_SLOTS < 1 << HELD_BYTES_SHIFT);
static_assertions::const_assert!((crate::geometry::TOTAL_CAPACITY_BYTES as u64) < 1 << (32 - HELD_BYTES_SHIFT));

impl ManagerCore {
    /// A monitored held buffer of pool `pool` left its holder without a release (quarantined):
    /// the packed count of buffers held goes down as `usage()` does.
    #[cold]
    pub(crate) fn note_quarantined_from_holder(&self, pool: usize) {
        if let (true, Some(shape)) = (self.is_monitored(), POOLS.get(pool)) {
            self.metrics.held_now.fetch_add(held_unit(shape.capacity).wrapping_neg(), Ordering::Relaxed);
        }
    }

    /// Buffers held and bytes of capacity held, all pools.
    pub(crate) fn usage(&self) -> (u32, u32) {
        let mut buffers = 0;
        let mut bytes = 0;
        for (words, shape) in self.pools.iter().zip(&POOLS) {
            let held = words.held();
            buffers += held;
            bytes += held * shape.capacity as u32;
        }
        (buffers, bytes)
    }

    /// Monitoring work after an allocate or release: timing, peaks (after a successful
    /// allocation: only an allocation raises them), utilisation, and the snapshot when a trend
    /// interval has elapsed.
    #[cold]
    pub(crate) fn monitor(
        &self,
        pool: usize,
        kind: SampleKind,
        success: bool,
        allocated: u32,
        start_ns: u64,
        allocated_at: u64,
    ) {
        let end_ns = if self.is_timed() { self.config.clock.now() } else { 0 };
        let elapsed = end_ns.saturating_sub(start_ns);
        if self.is_timed() && success {
            match kind {
                SampleKind::Allocate => {
                    self.metrics.allocate.record(elapsed);
                    self.metrics.allocate_squares.add(square_units(elapsed));
                    if elapsed > self.config.allocation_timeout_ns {
                        self.counters.timeout_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                SampleKind::Release => {
                    self.metrics.release.record(elapsed);
                    // Every timed release adds a hold time (the number of them is the derived
                    // release count); the allocation was timed by the same clock.
                    if let Some(p) = self.pool_counters.get(pool) {
                        p.record_hold(start_ns.saturating_sub(allocated_at));
                    }
                }
            }
        }
        if let Some(p) = self.pool_counters.get(pool) {
            p.sample_utilization(allocated);
        }
        if let (true, Some(shape)) = (success, POOLS.get(pool)) {
            let unit = held_unit(shape.capacity);
            if kind == SampleKind::Allocate {
                let (buffers, bytes) =
                    unpack_held(self.metrics.held_now.fetch_add(unit, Ordering::Relaxed).wrapping_add(unit));
                raise_to_u32(&self.metrics.peak_buffers, buffers);
                raise_to_u32(&self.metrics.peak_memory_bytes, bytes);
                raise_to_u32(&self.metrics.interval_peak_bytes, bytes);
            } else {
                self.metrics.held_now.fetch_add(unit.wrapping_neg(), Ordering::Relaxed);
            }
        }
        if self.is_timed() && self.history.is_due(end_ns, self.config.trend_interval_units) {
            self.take_snapshot(end_ns);
        }
    }

    /// Takes the trend snapshot due at `now_ns`, unless another call claimed it first.
    #[cold]
    #[inline(never)]
    fn take_snapshot(&self, now_ns: u64) {
        if self.history.claim(now_ns, self.config.trend_interval_units) {
            self.history.record(&self.cumulative(now_ns, true));
        }
    }

    /// The cumulative figures at `now_ns`. With `restart_interval`, the interval's peak starts
    /// again from the bytes held now (a snapshot); without, it is only read (a report).
    pub(crate) fn cumulative(&self, now_ns: u64, restart_interval: bool) -> Snapshot {
        // The snapshot keeps 32 bits of each sum, so wrapping is exact.
        let totals = self.pool_totals();
        let (_, held_bytes) = self.usage();
        let peak = if restart_interval {
            self.metrics.interval_peak_bytes.swap(held_bytes, Ordering::Relaxed)
        } else {
            self.metrics.interval_peak_bytes.load(Ordering::Relaxed)
        };
        Snapshot {
            timestamp_ns: now_ns,
            allocations: widen(totals.allocations) as u32,
            failures: widen(totals.failures) as u32,
            allocate_ns: self.metrics.allocate.total(),
            allocate_squares: self.metrics.allocate_squares.read(),
            held_bytes,
            peak_bytes: peak.max(held_bytes),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::verification::test_fixture::*;
    use core::ffi::c_void;
    use std::sync::atomic::{AtomicU64, AtomicUsize};

    static CLOCK_NOW: AtomicU64 = AtomicU64::new(1_000);

    static CLOCK_READS: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn stepping_clock(_ctx: *mut c_void) -> u64 {
        CLOCK_READS.fetch_add(1, Ordering::SeqCst);
        CLOCK_NOW.fetch_add(250, Ordering::SeqCst)
    }

    unsafe extern "C" fn counting_clock(ctx: *mut c_void) -> u64 {
        // SAFETY: the test passes a live AtomicUsize.
        unsafe { (*(ctx as *const AtomicUsize)).fetch_add(1, Ordering::SeqCst) as u64 }
    }

    #[test]
    fn monitoring_off_reads_no_clock_on_the_hot_path() {
        let reads = AtomicUsize::new(0);
        let mut f = Fixture::new();
        let config = RuntimeConfig {
            enable_performance_monitoring: 0,
            now_ns: Some(counting_clock),
            clock_context: &reads as *const AtomicUsize as *mut c_void,
            ..RuntimeConfig::default()
        };
        let m = f.init(&config).unwrap();
        for _ in 0..50 {
            let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
            m.release(h.as_ptr()).unwrap();
        }
        assert_eq!(reads.load(Ordering::SeqCst), 0);
        let metrics = m.metrics();
        assert_eq!((metrics.allocation_count, metrics.release_count, metrics.timed_allocations), (50, 50, 0));
        assert_ne!(m.performance_report(0).warnings & crate::observability::report::AES5_WARNING_NOT_MONITORED, 0);
    }

    #[test]
    #[cfg_attr(aes5_no_monitoring, ignore = "monitoring is compiled out (AES5_MONITORING=0)")]
    fn monitoring_times_operations_and_fills_the_report() {
        let mut f = Fixture::new();
        let config =
            RuntimeConfig { now_ns: Some(stepping_clock), allocation_timeout_ns: 1_000, ..RuntimeConfig::default() };
        let m = f.init(&config).unwrap();
        for _ in 0..10 {
            let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
            m.release(h.as_ptr()).unwrap();
        }
        let metrics = m.metrics();
        // Each operation spans one clock step of 250 ns; the first also timestamps Ready → Active.
        assert_eq!(
            (metrics.timed_allocations, metrics.min_allocation_time_ns, metrics.max_allocation_time_ns),
            (10, 250, 500)
        );
        assert_eq!(metrics.average_release_time_ns, 250);
        assert_eq!(metrics.timeout_errors, 0);
        assert!(metrics.peak_allocated_buffers >= 1);
        let hold = m.pool_statistics(BufferType::Primary).average_hold_time_ns;
        assert!(hold >= 250, "{hold}");
        let report = m.performance_report(0);
        // 20 operations of 250 ns are far from the first 100 ms snapshot: one interval, from
        // init to the report.
        assert_eq!(report.trend.sample_count, 1);
        assert!((report.trend.average_allocation_time_ns - 275.0).abs() < 1e-3);
        // Squares are summed at 64 ns² (rounded): 75 ns within that resolution.
        assert!((report.trend.allocation_time_stddev_ns - 75.0).abs() < 0.5);
        assert!(report.meets_performance_requirements);
        assert_eq!(report.warnings, 0);
        assert!(report.monitoring_duration_ns > 0);
        assert!(CLOCK_READS.load(Ordering::SeqCst) > 0);
    }

    /// The step of `own_stepping_clock`, ns.
    const STEP: u64 = 2_000;

    /// A clock advancing `STEP` ns per read, private to one test.
    unsafe extern "C" fn own_stepping_clock(ctx: *mut c_void) -> u64 {
        // SAFETY: the test passes a live AtomicU64.
        unsafe { (*(ctx as *const AtomicU64)).fetch_add(STEP, Ordering::SeqCst) }
    }

    #[test]
    #[cfg_attr(aes5_no_monitoring, ignore = "monitoring is compiled out (AES5_MONITORING=0)")]
    fn only_successful_allocations_are_timed_and_a_timeout_is_strictly_longer() {
        let count = crate::geometry::POOLS[2].count as u64;
        // Each allocation spans two steps: the first also timestamps Ready -> Active, the
        // second (the pool full) Active -> Warning. A timeout of two steps is exceeded by none;
        // a nanosecond less, by both.
        assert_eq!(count, 2, "the Scratch pool of the default geometry");
        for (timeout, timeouts) in [(2 * STEP, 0), (2 * STEP - 1, count)] {
            let now = AtomicU64::new(1_000);
            let mut f = Fixture::new();
            let config = RuntimeConfig {
                now_ns: Some(own_stepping_clock),
                clock_context: &now as *const AtomicU64 as *mut c_void,
                allocation_timeout_ns: timeout,
                ..RuntimeConfig::default()
            };
            let m = f.init(&config).unwrap();
            let held: std::vec::Vec<_> =
                (0..count).map(|_| m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap()).collect();
            // A refusal for an empty pool adds to no time sum.
            assert_eq!(m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()), Err(Status::PoolExhausted));
            let metrics = m.metrics();
            assert_eq!(metrics.timed_allocations, count);
            assert_eq!(metrics.total_allocation_time_ns, 2 * STEP * count, "timeout {timeout}");
            assert_eq!((metrics.min_allocation_time_ns, metrics.max_allocation_time_ns), (2 * STEP, 2 * STEP));
            assert_eq!(metrics.timeout_errors, timeouts, "timeout {timeout}");
            for h in held {
                m.release(h.as_ptr()).unwrap();
            }
        }
    }

    /// The packed count of buffers and bytes held, as `usage()` counts them.
    fn held_now(m: &crate::manager::ManagerCore) -> (u32, u32) {
        super::unpack_held(m.metrics.held_now.load(Ordering::SeqCst))
    }

    #[test]
    #[cfg_attr(aes5_no_monitoring, ignore = "monitoring is compiled out (AES5_MONITORING=0)")]
    fn the_count_behind_the_peaks_follows_allocations_releases_and_quarantines() {
        let mut f = Fixture::new();
        let m = f.init(&RuntimeConfig::default()).unwrap();
        let mut held: std::vec::Vec<_> = all_types().into_iter().map(|ty| m.allocate(ty, &pcm()).unwrap()).collect();
        held.push(m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap());
        assert_eq!(held_now(m), m.usage());
        assert_eq!(m.usage().0, 4);
        // A damaged header: the release quarantines the buffer, which is held no more.
        let damaged = held.pop().unwrap();
        // SAFETY: the buffer is held by this test.
        unsafe { (*damaged.as_ptr()).magic_number ^= 1 };
        assert_eq!(m.release(damaged.as_ptr()), Err(Status::Corrupted));
        assert_eq!(held_now(m), m.usage());
        assert_eq!(m.usage().0, 3);
        let metrics = m.metrics();
        assert_eq!((metrics.peak_allocated_buffers, metrics.current_allocated_buffers), (4, 3));
        for h in held {
            m.release(h.as_ptr()).unwrap();
        }
        assert_eq!(held_now(m), (0, 0));
        assert_eq!(m.metrics().peak_memory_usage_bytes, 4 * crate::geometry::POOLS[0].capacity as u32);
    }

    const HISTORY: usize = crate::geometry::HISTORY_CAPACITY;

    unsafe extern "C" fn manual_clock(ctx: *mut c_void) -> u64 {
        // SAFETY: the test passes a live AtomicU64.
        unsafe { (*(ctx as *const AtomicU64)).load(Ordering::SeqCst) }
    }

    /// Monitoring with the clock `now` (set by the test) and a snapshot every millisecond.
    fn millisecond_trend(now: &AtomicU64) -> RuntimeConfig {
        RuntimeConfig {
            now_ns: Some(manual_clock),
            clock_context: now as *const AtomicU64 as *mut c_void,
            trend_interval_ns: 1_000_000,
            ..RuntimeConfig::default()
        }
    }

    #[test]
    #[cfg_attr(aes5_no_monitoring, ignore = "monitoring is compiled out (AES5_MONITORING=0)")]
    fn one_snapshot_per_interval_and_the_ring_spans_its_capacity() {
        let now = AtomicU64::new(1_000_000);
        let mut f = Fixture::new();
        let m = f.init(&millisecond_trend(&now)).unwrap();
        let pair = || {
            let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
            m.release(h.as_ptr()).unwrap();
        };
        // Many operations inside one interval take no snapshot.
        for _ in 0..10 {
            pair();
        }
        assert_eq!(m.performance_report(0).trend.sample_count, 1);
        // Each millisecond, three pairs: the first operation past the interval takes one.
        for interval in 1..=5u32 {
            now.fetch_add(1_000_000, Ordering::SeqCst);
            for _ in 0..3 {
                pair();
            }
            assert_eq!(m.performance_report(0).trend.sample_count, interval + 1, "after {interval} intervals");
        }
        let held = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
        // The window selects the intervals ending inside it: the one ending at the snapshot
        // taken at this very millisecond, and the one from there to the report.
        assert_eq!(m.performance_report(500_000).trend.sample_count, 2);
        for _ in 0..2 * HISTORY {
            now.fetch_add(1_000_000, Ordering::SeqCst);
            pair();
        }
        let report = m.performance_report(0);
        // The ring keeps HISTORY snapshots: HISTORY - 1 intervals between them, one to the report.
        assert_eq!(report.trend.sample_count, HISTORY as u32);
        assert_eq!(report.trend.dropped_samples, 0);
        // One Primary buffer stayed held throughout. Each snapshot was taken by an allocation
        // holding a second; the report's reading came after its release.
        let capacity = crate::geometry::TOTAL_CAPACITY_BYTES as f32;
        let one = crate::geometry::POOLS[0].capacity as f32 / capacity;
        let average = (2.0 * (HISTORY - 1) as f32 + 1.0) * one / HISTORY as f32;
        assert!((report.trend.average_memory_utilization - average).abs() < 1e-6, "{report:?}");
        assert!((report.trend.peak_memory_utilization - 2.0 * one).abs() < 1e-6, "{report:?}");
        m.release(held.as_ptr()).unwrap();
    }

    #[test]
    #[cfg_attr(aes5_no_monitoring, ignore = "monitoring is compiled out (AES5_MONITORING=0)")]
    fn the_success_trend_compares_the_older_and_newer_intervals() {
        let now = AtomicU64::new(0);
        let mut f = Fixture::new();
        let m = f.init(&millisecond_trend(&now)).unwrap();
        let count = crate::geometry::POOLS[2].count;
        // Two clean intervals, then two in which the Scratch pool runs dry once each.
        for failing in [false, false, true, true] {
            now.fetch_add(1_000_000, Ordering::SeqCst);
            let taken: std::vec::Vec<_> =
                (0..count).map(|_| m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap()).collect();
            if failing {
                assert!(m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).is_err());
            }
            for h in taken {
                m.release(h.as_ptr()).unwrap();
            }
        }
        now.fetch_add(1_000_000, Ordering::SeqCst);
        let trend = m.performance_report(0).trend;
        // Snapshots at init and at 1, 2, 3, 4 ms, each taken by the interval's first allocation
        // (which it counts), then the report at 5 ms: five intervals. The older two hold
        // 1 + count allocations and no refusal; the newer three 3·count - 1 and both refusals.
        assert_eq!(trend.sample_count, 5);
        let newer = (3 * count - 1) as f32 / (3 * count + 1) as f32;
        assert!((trend.success_rate_trend - (newer - 1.0)).abs() < 1e-6, "{trend:?}");
    }
}
