//! The performance report: metrics, trend analysis over the history's snapshots, the
//! requirements verdict and warning flags (never strings).

use crate::observability::history::{Snapshot, SQUARE_UNIT_SHIFT};
use crate::observability::metrics::RealtimeMetrics;
use crate::platform::divide::divide;

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
/// Warning flag: a buffer has stayed in one place (a caller's hands, or one hand-off queue)
/// longer than the configured `max_hold_ns` (see `oldest_hand_off_age_ns`).
pub const AES5_WARNING_LONG_HOLD: u32 = 1 << 6;

/// The `oldest_hand_off_buffer_id` of a report in which no buffer is held (or there is no
/// clock).
pub const AES5_NO_BUFFER: u32 = 0xFFFF_FFFF;

/// Static, NUL-terminated short name of one `AES5_WARNING_*` flag ("low-success-rate", ...);
/// "unknown" for anything else, including 0 and several flags at once.
pub(crate) fn warning_name(flag: u32) -> &'static [u8] {
    match flag {
        AES5_WARNING_LOW_SUCCESS_RATE => b"low-success-rate\0",
        AES5_WARNING_HIGH_LATENCY => b"high-latency\0",
        AES5_WARNING_HIGH_UTILIZATION => b"high-utilization\0",
        AES5_WARNING_CORRUPTION => b"corruption\0",
        AES5_WARNING_TIMEOUTS => b"timeouts\0",
        AES5_WARNING_NOT_MONITORED => b"not-monitored\0",
        AES5_WARNING_LONG_HOLD => b"long-hold\0",
        _ => b"unknown\0",
    }
}

/// Success rate below which `AES5_WARNING_LOW_SUCCESS_RATE` is set.
pub const AES5_LOW_SUCCESS_RATE_THRESHOLD: f32 = 0.99;
/// Average allocation time (ns) above which `AES5_WARNING_HIGH_LATENCY` is set.
pub const AES5_HIGH_LATENCY_THRESHOLD_NS: u64 = 75_000;
/// Utilisation above which `AES5_WARNING_HIGH_UTILIZATION` is set.
pub const AES5_HIGH_UTILIZATION_THRESHOLD: f32 = 0.90;

/// Trend analysis over the intervals between the history's snapshots that end inside the
/// analysis period. The report's own reading of the counts is the end of the newest interval,
/// so a trend exists from the first timed operation on. Needs monitoring and a clock; all
/// zero otherwise.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TrendAnalysis {
    /// Mean duration of the successful allocations in the window, ns.
    pub average_allocation_time_ns: f32,
    /// Standard deviation of those durations, ns (squares are summed in units of 64 ns²,
    /// rounded, and saturate at about 370 µs).
    pub allocation_time_stddev_ns: f32,
    /// Mean memory utilisation at the ends of the window's intervals, 0.0..=1.0.
    pub average_memory_utilization: f32,
    /// Highest memory utilisation after any allocation in the window's intervals, 0.0..=1.0.
    pub peak_memory_utilization: f32,
    /// Allocation success rate of the newer half of the window's intervals minus that of the
    /// older half: positive = improving, negative = degrading, 0 = steady or too few intervals.
    pub success_rate_trend: f32,
    /// The analysis period that was requested (0 = the whole history).
    pub analysis_period_ns: u64,
    /// Intervals in the window (snapshots taken `trend_interval_ns` apart, the newest ending
    /// at the report).
    pub sample_count: u32,
    /// Snapshots lost because two writers met on one history entry.
    pub dropped_samples: u32,
}

/// The performance report: the metrics, the trend over the history, the verdict against the
/// configured requirements, and warnings as `AES5_WARNING_*` flags (no strings).
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
    /// How long the buffer that has stayed longest in one place (a caller's hands, or one
    /// hand-off queue) has been there, ns: the age of the oldest allocate, enqueue or dequeue
    /// among the buffers that are not free. 0 without monitoring or a clock, or when none is
    /// held.
    pub oldest_hand_off_age_ns: u64,
    /// That buffer's id (the lowest of equally old ones), or `AES5_NO_BUFFER`.
    pub oldest_hand_off_buffer_id: u32,
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

/// Variance of `n` durations whose sum is `sum` ns and whose squares sum to `squares` square
/// units. The large terms cancel in integers (`sum = q·n + r`), so what is left is small
/// enough for `f32`; each rounded square is off by at most 32 ns², and so is the variance.
///
/// `sum² / n = q²·n + 2·q·r + r²/n` never exceeds the sum of the squares (Cauchy–Schwarz), so
/// the integer difference is exact in wrapping arithmetic while that sum fits in 63 bits; a
/// difference that comes out negative is the rounding of the squares, and reads as 0.
fn variance(n: u32, sum: u64, squares: u64) -> f32 {
    if n < 2 {
        return 0.0;
    }
    let n64 = u64::from(n);
    let q = divide(sum, n64);
    let r = sum.wrapping_sub(q.wrapping_mul(n64));
    let excess = (squares << SQUARE_UNIT_SHIFT)
        .wrapping_sub(q.wrapping_mul(q).wrapping_mul(n64))
        .wrapping_sub(q.wrapping_mul(r) << 1) as i64;
    let rest = r as f32 / n as f32;
    (excess.max(0) as f32 / n as f32 - rest * rest).max(0.0)
}

/// Counts and sums of a run of intervals: the differences between its first and last
/// snapshot (counts wrap at 2^32 and sums at 2^64, so a window holds up to 2^32 - 1
/// allocations).
#[derive(Clone, Copy, Default)]
struct Totals {
    allocations: u32,
    failures: u32,
    allocate_ns: u64,
    squares: u64,
}

impl Totals {
    fn between(older: &Snapshot, newer: &Snapshot) -> Self {
        Totals {
            allocations: newer.allocations.wrapping_sub(older.allocations),
            failures: newer.failures.wrapping_sub(older.failures),
            allocate_ns: newer.allocate_ns.wrapping_sub(older.allocate_ns),
            squares: newer.allocate_squares.wrapping_sub(older.allocate_squares),
        }
    }

    fn success_rate(&self) -> Option<f32> {
        let attempts = self.allocations as f32 + self.failures as f32;
        (attempts > 0.0).then(|| self.allocations as f32 / attempts)
    }
}

/// Analyses the intervals between consecutive `snapshots` (oldest first, the newest being the
/// report's own reading) that end at or after `newest - period` (all of them when `period` is
/// 0). `capacity_bytes` is the pools' total capacity.
#[inline(never)]
pub(crate) fn analyze(snapshots: &[Snapshot], period_ns: u64, capacity_bytes: u32, dropped: u32) -> TrendAnalysis {
    let mut trend = TrendAnalysis { analysis_period_ns: period_ns, dropped_samples: dropped, ..Default::default() };
    let Some(newest) = snapshots.last() else {
        return trend;
    };
    let cutoff = if period_ns == 0 { 0 } else { newest.timestamp_ns.saturating_sub(period_ns) };
    // The snapshots are in time order: the window's intervals are those after the first
    // snapshot at or after the cutoff, each measured from the snapshot before it.
    let first_end = snapshots.iter().position(|s| s.timestamp_ns >= cutoff).unwrap_or(snapshots.len()).max(1);
    let Some(window) = snapshots.get(first_end - 1..) else {
        return trend;
    };
    let n = window.len() - 1;
    if n == 0 {
        return trend;
    }
    let (Some(oldest), Some(middle)) = (window.first(), window.get(n / 2)) else {
        return trend;
    };
    let all = Totals::between(oldest, newest);
    // The older half of the intervals, then the newer (with one interval, only a newer half).
    let older = Totals::between(oldest, middle);
    let newer = Totals::between(middle, newest);
    if let (Some(a), Some(b)) = (older.success_rate(), newer.success_rate()) {
        trend.success_rate_trend = b - a;
    }
    let utilization = |bytes: u32| if capacity_bytes == 0 { 0.0 } else { bytes as f32 / capacity_bytes as f32 };
    let (mut util_sum, mut util_peak) = (0f32, 0f32);
    for end in window.iter().skip(1) {
        util_sum += utilization(end.held_bytes);
        util_peak = util_peak.max(utilization(end.peak_bytes));
    }
    if all.allocations > 0 {
        trend.average_allocation_time_ns = all.allocate_ns as f32 / all.allocations as f32;
        trend.allocation_time_stddev_ns = sqrt(variance(all.allocations, all.allocate_ns, all.squares));
    }
    trend.average_memory_utilization = util_sum / n as f32;
    trend.peak_memory_utilization = util_peak.min(1.0);
    trend.sample_count = n as u32;
    trend
}

/// The warning flags for a set of metrics; `long_hold` when a buffer stayed in one place
/// longer than `max_hold_ns`.
pub(crate) fn warnings(m: &RealtimeMetrics, timed: bool, long_hold: bool) -> u32 {
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
    if long_hold {
        flags |= AES5_WARNING_LONG_HOLD;
    }
    flags
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::observability::history::square_units;

    /// The cumulative snapshot after `times` more allocations (and `failures` refusals), with
    /// `held` bytes held and `peak` the interval's peak.
    fn after(previous: &Snapshot, ts: u64, times: &[u64], failures: u32, held: u32, peak: u32) -> Snapshot {
        Snapshot {
            timestamp_ns: ts,
            allocations: previous.allocations + times.len() as u32,
            failures: previous.failures + failures,
            allocate_ns: previous.allocate_ns + times.iter().sum::<u64>(),
            allocate_squares: previous.allocate_squares + times.iter().map(|&t| square_units(t)).sum::<u64>(),
            held_bytes: held,
            peak_bytes: peak,
        }
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
    fn the_variance_of_equal_durations_is_zero_within_the_square_resolution() {
        for t in [1u64, 250, 5_000, 99_999] {
            let n = 1_000u32;
            let v = variance(n, t * u64::from(n), square_units(t) * u64::from(n));
            assert!(v <= 32.0, "{t} ns: {v}");
            if t % 8 == 0 {
                assert_eq!(v, 0.0, "{t} ns: a square that is a multiple of 64 ns² is exact");
            }
        }
        // 100, 200, 300: variance 6666.7 (population), within the 64 ns² resolution.
        let squares: u64 = [100u64, 200, 300].iter().map(|&t| square_units(t)).sum();
        assert!((variance(3, 600, squares) - 6_666.667).abs() < 32.0);
        assert_eq!(variance(1, 600, 0), 0.0);
    }

    #[test]
    fn mean_deviation_and_utilisation_come_from_the_differences() {
        let base = Snapshot { timestamp_ns: 0, ..Snapshot::default() };
        let first = after(&base, 10, &[100, 200], 0, 512, 512);
        let second = after(&first, 20, &[300], 1, 1024, 1024);
        let t = analyze(&[base, first, second], 0, 1024, 0);
        assert_eq!(t.sample_count, 2);
        assert!((t.average_allocation_time_ns - 200.0).abs() < 1e-3);
        assert!((t.allocation_time_stddev_ns - 81.6497).abs() < 0.5, "{}", t.allocation_time_stddev_ns);
        assert!((t.average_memory_utilization - 0.75).abs() < 1e-6);
        assert_eq!(t.peak_memory_utilization, 1.0);
        // Older interval: 2/2 ok; newer: 1/2 ok.
        assert!((t.success_rate_trend + 0.5).abs() < 1e-6);
    }

    #[test]
    fn the_period_selects_the_intervals_that_end_inside_it() {
        let base = Snapshot::default();
        let old = after(&base, 10, &[100], 5, 0, 0);
        let recent = after(&old, 100, &[300], 0, 0, 0);
        let newest = after(&recent, 110, &[500], 0, 0, 0);
        let t = analyze(&[base, old, recent, newest], 30, 1024, 2);
        assert_eq!(t.sample_count, 2);
        assert_eq!(t.analysis_period_ns, 30);
        assert_eq!(t.dropped_samples, 2);
        assert!((t.average_allocation_time_ns - 400.0).abs() < 1e-3);
        assert_eq!(t.success_rate_trend, 0.0);
        assert_eq!(analyze(&[newest], 0, 1024, 0).sample_count, 0, "one snapshot is no interval");
    }

    #[test]
    fn counts_that_wrapped_still_difference_exactly() {
        let base = Snapshot { allocations: u32::MAX - 1, allocate_ns: u64::MAX - 49, ..Snapshot::default() };
        let next = Snapshot {
            timestamp_ns: 5,
            allocations: 2,
            allocate_ns: 350,
            allocate_squares: 4 * square_units(100),
            ..Snapshot::default()
        };
        let t = analyze(&[base, next], 0, 1024, 0);
        assert!((t.average_allocation_time_ns - 100.0).abs() < 1e-3);
        assert_eq!(t.allocation_time_stddev_ns, 0.0);
    }

    #[test]
    fn warning_flags_follow_the_thresholds() {
        let calm = RealtimeMetrics { allocation_success_rate: 1.0, ..Default::default() };
        assert_eq!(warnings(&calm, true, false), 0);
        assert_eq!(warnings(&calm, false, false), AES5_WARNING_NOT_MONITORED);
        assert_eq!(warnings(&calm, true, true), AES5_WARNING_LONG_HOLD);
        let stressed = RealtimeMetrics {
            allocation_success_rate: 0.98,
            average_allocation_time_ns: 75_001,
            memory_utilization_ratio: 0.95,
            corruption_detected: 1,
            timeout_errors: 2,
            ..Default::default()
        };
        assert_eq!(
            warnings(&stressed, true, false),
            AES5_WARNING_LOW_SUCCESS_RATE
                | AES5_WARNING_HIGH_LATENCY
                | AES5_WARNING_HIGH_UTILIZATION
                | AES5_WARNING_CORRUPTION
                | AES5_WARNING_TIMEOUTS
        );
    }
}
