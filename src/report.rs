//! The performance report: metrics, trend analysis over the history ring, the requirements
//! verdict and warning flags (never strings).

use crate::history::{Sample, SampleKind};
use crate::metrics::RealtimeMetrics;

/// Warning flag: allocation success rate below 0.99.
pub const AES5_WARNING_LOW_SUCCESS_RATE: u32 = 1 << 0;
/// Warning flag: average allocation time above 75 µs.
pub const AES5_WARNING_HIGH_LATENCY: u32 = 1 << 1;
/// Warning flag: memory utilisation above 90 %.
pub const AES5_WARNING_HIGH_UTILIZATION: u32 = 1 << 2;
/// Warning flag: corrupted buffers were detected (see `corruption_detected`).
pub const AES5_WARNING_CORRUPTION: u32 = 1 << 3;
/// Warning flag: allocations exceeded `allocation_timeout_ns`.
pub const AES5_WARNING_TIMEOUTS: u32 = 1 << 4;
/// Warning flag: performance monitoring is off or there is no clock; timing is not measured.
pub const AES5_WARNING_NOT_MONITORED: u32 = 1 << 5;

/// Success rate below which `AES5_WARNING_LOW_SUCCESS_RATE` is set.
pub const AES5_LOW_SUCCESS_RATE_THRESHOLD: f32 = 0.99;
/// Average allocation time (ns) above which `AES5_WARNING_HIGH_LATENCY` is set.
pub const AES5_HIGH_LATENCY_THRESHOLD_NS: u64 = 75_000;
/// Utilisation above which `AES5_WARNING_HIGH_UTILIZATION` is set.
pub const AES5_HIGH_UTILIZATION_THRESHOLD: f32 = 0.90;

/// Trend analysis over the history snapshots inside the analysis period.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TrendAnalysis {
    /// Mean duration of the successful allocations in the window, ns.
    pub average_allocation_time_ns: f32,
    /// Standard deviation of those durations, ns.
    pub allocation_time_stddev_ns: f32,
    /// Mean memory utilisation over the window's snapshots, 0.0..=1.0.
    pub average_memory_utilization: f32,
    /// Highest memory utilisation in the window, 0.0..=1.0.
    pub peak_memory_utilization: f32,
    /// Allocation success rate of the newer half of the window minus that of the older half:
    /// positive = improving, negative = degrading, 0 = steady or too few samples.
    pub success_rate_trend: f32,
    /// The analysis period that was requested (0 = the whole history).
    pub analysis_period_ns: u64,
    /// Snapshots inside the window.
    pub sample_count: u32,
    /// Snapshots lost because two writers met on one history entry.
    pub dropped_samples: u32,
}

/// The seed's `PerformanceReport`, without strings: warnings are `AES5_WARNING_*` flags.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PerformanceReport {
    /// The real-time metrics at the time of the report.
    pub metrics: RealtimeMetrics,
    /// Trend analysis of the history ring.
    pub trend: TrendAnalysis,
    /// Time since init, ns (0 without a clock).
    pub monitoring_duration_ns: u64,
    /// Bit set of `AES5_WARNING_*`.
    pub warnings: u32,
    /// True when the average allocation time is within `allocation_timeout_ns` and the success
    /// rate reaches `min_success_rate`.
    pub meets_performance_requirements: bool,
}

/// Square root by Newton's method (no `std` here); exact enough for a report.
fn sqrt(x: f32) -> f32 {
    if x <= 0.0 || x.is_nan() {
        return 0.0;
    }
    let mut guess = if x > 1.0 { x / 2.0 } else { 1.0 };
    for _ in 0..32 {
        let next = 0.5 * (guess + x / guess);
        if (next - guess).abs() <= f32::EPSILON * next {
            return next;
        }
        guess = next;
    }
    guess
}

/// Analyses the snapshots (oldest first) taken at or after `now - period` (all of them when
/// `period` is 0). `capacity_bytes` is the pools' total capacity.
pub(crate) fn analyze(
    samples: &[Sample],
    now_ns: u64,
    period_ns: u64,
    capacity_bytes: u32,
    dropped: u32,
) -> TrendAnalysis {
    let cutoff = if period_ns == 0 { 0 } else { now_ns.saturating_sub(period_ns) };
    let in_window = |s: &&Sample| s.timestamp_ns >= cutoff;
    let n = samples.iter().filter(in_window).count();
    let half = n / 2;

    // Welford's running mean and variance of successful allocation times.
    let (mut count, mut mean, mut m2) = (0f32, 0f32, 0f32);
    let (mut util_sum, mut util_peak) = (0f32, 0f32);
    // Allocation attempts and successes of the older and the newer half of the window.
    let mut halves = [(0u32, 0u32); 2];
    for (i, s) in samples.iter().filter(in_window).enumerate() {
        if s.kind == SampleKind::Allocate {
            if let Some(h) = halves.get_mut(usize::from(i >= half)) {
                h.0 += 1;
                h.1 += u32::from(s.success);
            }
            if s.success {
                count += 1.0;
                let x = s.op_ns as f32;
                let delta = x - mean;
                mean += delta / count;
                m2 += delta * (x - mean);
            }
        }
        let util = if capacity_bytes == 0 { 0.0 } else { s.memory_bytes as f32 / capacity_bytes as f32 };
        util_sum += util;
        util_peak = util_peak.max(util);
    }
    let rate = |(attempts, ok): (u32, u32)| (attempts > 0).then(|| ok as f32 / attempts as f32);
    let trend = match (rate(halves[0]), rate(halves[1])) {
        (Some(a), Some(b)) => b - a,
        _ => 0.0,
    };
    TrendAnalysis {
        average_allocation_time_ns: mean,
        allocation_time_stddev_ns: if count > 1.0 { sqrt(m2 / count) } else { 0.0 },
        average_memory_utilization: if n == 0 { 0.0 } else { util_sum / n as f32 },
        peak_memory_utilization: util_peak,
        success_rate_trend: trend,
        analysis_period_ns: period_ns,
        sample_count: n as u32,
        dropped_samples: dropped,
    }
}

/// The warning flags for a set of metrics.
pub(crate) fn warnings(m: &RealtimeMetrics, timed: bool) -> u32 {
    let mut flags = 0;
    if m.allocation_success_rate < AES5_LOW_SUCCESS_RATE_THRESHOLD {
        flags |= AES5_WARNING_LOW_SUCCESS_RATE;
    }
    if m.average_allocation_time_ns > AES5_HIGH_LATENCY_THRESHOLD_NS {
        flags |= AES5_WARNING_HIGH_LATENCY;
    }
    if m.memory_utilization_ratio > AES5_HIGH_UTILIZATION_THRESHOLD {
        flags |= AES5_WARNING_HIGH_UTILIZATION;
    }
    if m.corruption_detected > 0 {
        flags |= AES5_WARNING_CORRUPTION;
    }
    if m.timeout_errors > 0 {
        flags |= AES5_WARNING_TIMEOUTS;
    }
    if !timed {
        flags |= AES5_WARNING_NOT_MONITORED;
    }
    flags
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn alloc(ts: u64, ns: u32, ok: bool, mem: u32) -> Sample {
        Sample { timestamp_ns: ts, op_ns: ns, success: ok, memory_bytes: mem, ..Sample::EMPTY }
    }

    #[test]
    fn sqrt_is_accurate() {
        for x in [0.25f32, 2.0, 9.0, 1e6, 12345.678] {
            let r = sqrt(x);
            assert!((r * r - x).abs() <= x * 1e-5, "{x}");
        }
        assert_eq!(sqrt(-1.0), 0.0);
        assert_eq!(sqrt(f32::NAN), 0.0);
    }

    #[test]
    fn mean_stddev_and_utilization_over_the_window() {
        let s =
            [alloc(10, 100, true, 0), alloc(20, 200, true, 512), alloc(30, 300, true, 1024), alloc(40, 0, false, 1024)];
        let t = analyze(&s, 40, 0, 1024, 0);
        assert_eq!(t.sample_count, 4);
        assert!((t.average_allocation_time_ns - 200.0).abs() < 1e-3);
        assert!((t.allocation_time_stddev_ns - 81.6497).abs() < 1e-2);
        assert!((t.average_memory_utilization - 0.625).abs() < 1e-6);
        assert_eq!(t.peak_memory_utilization, 1.0);
        // Older half: 2/2 ok; newer half: 1/2 ok.
        assert!((t.success_rate_trend + 0.5).abs() < 1e-6);
    }

    #[test]
    fn the_period_selects_recent_samples() {
        let s = [alloc(10, 100, false, 0), alloc(100, 300, true, 0), alloc(110, 500, true, 0)];
        let t = analyze(&s, 120, 30, 1024, 2);
        assert_eq!(t.sample_count, 2);
        assert_eq!(t.analysis_period_ns, 30);
        assert_eq!(t.dropped_samples, 2);
        assert!((t.average_allocation_time_ns - 400.0).abs() < 1e-3);
        assert_eq!(t.success_rate_trend, 0.0);
    }

    #[test]
    fn warning_flags_follow_the_thresholds() {
        let calm = RealtimeMetrics { allocation_success_rate: 1.0, ..Default::default() };
        assert_eq!(warnings(&calm, true), 0);
        assert_eq!(warnings(&calm, false), AES5_WARNING_NOT_MONITORED);
        let stressed = RealtimeMetrics {
            allocation_success_rate: 0.98,
            average_allocation_time_ns: 75_001,
            memory_utilization_ratio: 0.95,
            corruption_detected: 1,
            timeout_errors: 2,
            ..Default::default()
        };
        assert_eq!(
            warnings(&stressed, true),
            AES5_WARNING_LOW_SUCCESS_RATE
                | AES5_WARNING_HIGH_LATENCY
                | AES5_WARNING_HIGH_UTILIZATION
                | AES5_WARNING_CORRUPTION
                | AES5_WARNING_TIMEOUTS
        );
    }
}
