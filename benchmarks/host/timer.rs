//! A cycle counter for timing single operations: the time-stamp counter on x86-64 (fenced so
//! the timed operation cannot drift outside the reads), the monotonic clock elsewhere.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Reads the counter.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn ticks() -> u64 {
    // SAFETY: LFENCE and RDTSC exist on every x86-64 CPU and have no memory effects.
    unsafe {
        core::arch::x86_64::_mm_lfence();
        let t = core::arch::x86_64::_rdtsc();
        core::arch::x86_64::_mm_lfence();
        t
    }
}

/// Reads the counter.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub fn ticks() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// A cheap clock callback for the library (`now_ns`): the raw counter scaled to nanoseconds,
/// as a firmware would pass a cycle-counter clock. [`Calibration::measure`] must have run.
///
/// # Safety
/// None beyond the callback contract; `context` is ignored.
pub unsafe extern "C" fn cycle_clock_ns(_context: *mut core::ffi::c_void) -> u64 {
    let scale = NS_PER_TICK_Q32.load(Ordering::Relaxed);
    ((u128::from(raw_ticks()) * u128::from(scale)) >> 32) as u64
}

/// A clock callback that costs next to nothing: it always returns the same time. With it a
/// monitored manager does all of its bookkeeping (every sum, minimum and maximum, the
/// snapshot check) on zero durations, so a pair with it minus a pair without monitoring is the
/// bookkeeping plus four calls of a trivial callback.
///
/// # Safety
/// None beyond the callback contract; `context` is ignored.
pub unsafe extern "C" fn fixed_clock_ns(_context: *mut core::ffi::c_void) -> u64 {
    1_000_000
}

/// Nanoseconds per tick in 32.32 fixed point, set by [`Calibration::measure`].
static NS_PER_TICK_Q32: AtomicU64 = AtomicU64::new(1 << 32);

/// The counter without fences (what a clock callback would read).
#[inline(always)]
fn raw_ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: RDTSC exists on every x86-64 CPU and has no memory effects.
    unsafe {
        core::arch::x86_64::_rdtsc()
    }
    #[cfg(not(target_arch = "x86_64"))]
    ticks()
}

/// The name of the counter, for the report.
pub fn counter_name() -> &'static str {
    if cfg!(target_arch = "x86_64") {
        "time-stamp counter (lfence; rdtsc; lfence)"
    } else {
        "monotonic clock"
    }
}

/// The counter's rate and the cost of reading it.
#[derive(Clone, Copy, Debug)]
pub struct Calibration {
    /// Counter ticks per nanosecond.
    pub ticks_per_ns: f64,
    /// Median ticks between two back-to-back reads; subtracted from every timed operation.
    pub overhead_ticks: u64,
}

impl Calibration {
    /// Measures the counter against the monotonic clock over 200 ms, and the read overhead.
    pub fn measure() -> Self {
        static CALIBRATION: OnceLock<Calibration> = OnceLock::new();
        *CALIBRATION.get_or_init(|| {
            let start = Instant::now();
            let t0 = ticks();
            while start.elapsed() < Duration::from_millis(200) {}
            let t1 = ticks();
            let ticks_per_ns = (t1 - t0) as f64 / start.elapsed().as_nanos() as f64;
            let mut gaps: Vec<u64> = (0..100_001)
                .map(|_| {
                    let a = ticks();
                    let b = ticks();
                    b - a
                })
                .collect();
            gaps.sort_unstable();
            NS_PER_TICK_Q32.store(((1u64 << 32) as f64 / ticks_per_ns) as u64, Ordering::Relaxed);
            Calibration { ticks_per_ns, overhead_ticks: gaps[gaps.len() / 2] }
        })
    }

    /// Nanoseconds of a timed span of `ticks`, less the read overhead.
    pub fn net_ns(&self, ticks: u64) -> f64 {
        ticks.saturating_sub(self.overhead_ticks) as f64 / self.ticks_per_ns
    }

    /// The read overhead in nanoseconds.
    pub fn overhead_ns(&self) -> f64 {
        self.overhead_ticks as f64 / self.ticks_per_ns
    }
}
