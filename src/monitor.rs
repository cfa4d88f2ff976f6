//! Performance monitoring after an allocate or release: timing, peaks, utilisation and the
//! history ring. Runs only when monitoring is on.

use crate::geometry::POOL_BUFFER_BYTES;
use crate::history::{Sample, SampleKind};
use crate::layout::ManagerCore;
use crate::sync::{raise_to_u32, Ordering};

impl ManagerCore {
    /// Buffers held and bytes of capacity held, all pools.
    pub(crate) fn usage(&self) -> (u32, u32) {
        let mut buffers = 0;
        let mut bytes = 0;
        for (pool, &capacity) in POOL_BUFFER_BYTES.iter().enumerate() {
            let held = self.held_in(pool);
            buffers += held;
            bytes += held * capacity as u32;
        }
        (buffers, bytes)
    }

    /// Monitoring work after an allocate or release: timing, peaks, utilisation, history.
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
        let end_ns = if self.timed { self.config.clock.now() } else { 0 };
        let elapsed = end_ns.saturating_sub(start_ns);
        if self.timed && success {
            match kind {
                SampleKind::Allocate => {
                    self.metrics.allocate.record(elapsed);
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
        let (buffers, bytes) = self.usage();
        if kind == SampleKind::Allocate && success {
            raise_to_u32(&self.metrics.peak_buffers, buffers);
            raise_to_u32(&self.metrics.peak_memory_bytes, bytes);
        }
        self.history.record(&Sample {
            ticket: 0,
            timestamp_ns: end_ns,
            op_ns: u32::try_from(elapsed).unwrap_or(u32::MAX),
            allocated: buffers as u16,
            memory_bytes: bytes,
            kind,
            success,
        });
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::test_fixture::*;
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
        assert_ne!(m.performance_report(0).warnings & crate::report::AES5_WARNING_NOT_MONITORED, 0);
    }

    #[test]
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
        assert_eq!(report.trend.sample_count, 20);
        assert!((report.trend.average_allocation_time_ns - 275.0).abs() < 1e-3);
        assert!((report.trend.allocation_time_stddev_ns - 75.0).abs() < 1e-2);
        assert!(report.meets_performance_requirements);
        assert_eq!(report.warnings, 0);
        assert!(report.monitoring_duration_ns > 0);
        assert!(CLOCK_READS.load(Ordering::SeqCst) > 0);
    }
}
