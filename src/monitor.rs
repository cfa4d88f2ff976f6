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
        for (pool, &capacity) in self.pools.iter().zip(POOL_BUFFER_BYTES.iter()) {
            let held = pool.list.allocated();
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
                    if let Some(p) = self.pools.get(pool) {
                        if allocated_at != 0 {
                            p.counters.record_hold(start_ns.saturating_sub(allocated_at));
                        }
                    }
                }
            }
        }
        if let Some(p) = self.pools.get(pool) {
            p.counters.sample_utilization(allocated);
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
