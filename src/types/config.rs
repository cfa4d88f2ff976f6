//! Runtime configuration: defaults, validation, and the
//! validated form a manager keeps.

use crate::platform::in_place::put;
use core::ffi::{c_char, c_void};

use crate::geometry::MONITORING_BUILT;
use crate::platform::clock::{Aes5ClockFn, Clock};
use crate::types::format::{
    FormatLimits, AES5_MAX_CHANNELS, AES5_MAX_FRAME_SIZE_SAMPLES, AES5_MAX_SAMPLE_RATE_HZ, AES5_MIN_SAMPLE_RATE_HZ,
};
use crate::types::status::{Aes5Status, Status};

/// Debug-logging callback: called when `enable_debug_logging` is 1 for every refused
/// allocate, release, validate_buffer, shutdown, transition_state, enqueue and dequeue call on
/// an initialised manager (a dequeue of an empty queue is not a refusal: it is not reported),
/// and for damage the integrity sweep finds. `operation` is a static NUL-terminated name:
/// "allocate", "release", "validate_buffer", "shutdown", "transition_state", "enqueue",
/// "dequeue" or "check_integrity". It runs in the caller's context
/// (possibly an interrupt handler) and must not call back into the library. NULL (`None`)
/// means no callback.
pub type Aes5LogFn = Option<unsafe extern "C" fn(context: *mut c_void, status: Aes5Status, operation: *const c_char)>;

/// Detailed debug-logging callback (`log_detail`): as [`Aes5LogFn`], with one more
/// NUL-terminated text, the exact reason of the refusal (for example "buffer 3 (sequence 17) is
/// already free: released before"; `aes5_buffer_manager_get_last_refusal` gives the same text
/// and its numbers later). The text is composed for the call and valid only until the callback
/// returns: copy it to keep it. NULL (`None`) means no callback.
pub type Aes5LogDetailFn = Option<
    unsafe extern "C" fn(context: *mut c_void, status: Aes5Status, operation: *const c_char, detail: *const c_char),
>;

/// Default `allocation_timeout_ns`: 100 µs.
pub const AES5_DEFAULT_ALLOCATION_TIMEOUT_NS: u64 = 100_000;
/// Smallest accepted `allocation_timeout_ns`: 1 µs.
pub const AES5_MIN_ALLOCATION_TIMEOUT_NS: u64 = 1_000;
/// Default `trend_interval_ns`: 100 ms (the trend then spans the last 1.6 s with the default
/// history of 16 snapshots).
pub const AES5_DEFAULT_TREND_INTERVAL_NS: u64 = 100_000_000;
/// Smallest accepted `trend_interval_ns`: 1 µs.
pub const AES5_MIN_TREND_INTERVAL_NS: u64 = 1_000;
/// Largest accepted `trend_interval_ns`: one hour (not exported: the literal needs 64 bits,
/// which a C90 or C++03 header cannot spell portably).
pub(crate) const AES5_MAX_TREND_INTERVAL_NS: u64 = 3_600_000_000_000;
/// Smallest non-zero `max_hold_ns`: 1 µs.
pub const AES5_MIN_MAX_HOLD_NS: u64 = 1_000;
/// Largest accepted `max_hold_ns`: one hour (not exported, as `AES5_MAX_TREND_INTERVAL_NS`).
pub(crate) const AES5_MAX_MAX_HOLD_NS: u64 = 3_600_000_000_000;
/// Default `min_success_rate`.
pub const AES5_DEFAULT_MIN_SUCCESS_RATE: f32 = 0.999;
/// Smallest accepted `min_success_rate`.
pub const AES5_MIN_SUCCESS_RATE_FLOOR: f32 = 0.95;

/// Runtime configuration. Fill it with `aes5_runtime_config_default`, change what you need,
/// and pass it to `aes5_buffer_manager_init` (which copies it).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RuntimeConfig {
    /// Largest frame accepted, 1..=1024 (default 1024).
    pub max_frame_size_samples: u32,
    /// Largest channel count accepted, 1..=8 (default 8).
    pub max_channels: u32,
    /// Highest nominal rate accepted, 32000..=384000 (default 384000).
    pub max_sample_rate_hz: u32,
    /// Lowest acceptable allocation success rate, 0.95..=1.0 (default 0.999). Drives the
    /// report's `meets_performance_requirements` and when the Warning state ends: the
    /// success rate of the allocation attempts since Warning began must reach it (the whole
    /// rule, with its window of attempts, is in docs/DESIGN.md §2.3).
    pub min_success_rate: f32,
    /// An allocation slower than this is counted in `timeout_errors` (it still succeeds).
    /// At least 1000 ns (default 100000).
    pub allocation_timeout_ns: u64,
    /// Time between two snapshots of the trend history, 1 µs ..= 1 h (default 100 ms). With
    /// monitoring and a clock, the first allocate or release after an interval has elapsed
    /// takes a snapshot of the cumulative counts and sums; the report's trend analysis is
    /// computed from the differences between snapshots, so it spans `AES5_HISTORY_CAPACITY`
    /// intervals. Compared at a resolution of 4,096 ns.
    pub trend_interval_ns: u64,
    /// 1: time every allocate/release, keep min/max/average, utilisation and the trend
    /// history. 0: the hot path reads no clock. Default 1; in a library built with
    /// `AES5_MONITORING=0` (monitoring compiled out) the default is 0 and 1 is refused with
    /// `AES5_ERR_INVALID_ARGUMENT`.
    pub enable_performance_monitoring: u8,
    /// 1: release checks the header's magic and checksum and quarantines damaged buffers.
    /// 0: only ownership is checked. Default 1.
    pub enable_memory_validation: u8,
    /// 1: refused calls are reported to `log` (if set; see its type). Default 0.
    pub enable_debug_logging: u8,
    /// Clock callback; NULL = the host's monotonic clock (Linux, macOS) or no timing
    /// (bare metal: timing metrics stay 0, counts still work).
    pub now_ns: Aes5ClockFn,
    /// Passed to `now_ns`.
    pub clock_context: *mut c_void,
    /// Debug-logging callback, or NULL.
    pub log: Aes5LogFn,
    /// Passed to `log` and `log_detail`.
    pub log_context: *mut c_void,
    /// Detailed debug-logging callback, or NULL: called like `log` (and besides it, when both
    /// are set) with one more static NUL-terminated text, `detail`, saying exactly why the call
    /// was refused. For a refused format it names the field and the rule
    /// (`aes5_format_problem_string`); otherwise it is the status's text.
    pub log_detail: Aes5LogDetailFn,
    /// Longest a buffer may stay in one place (held by a caller, or waiting in one hand-off
    /// queue) before the performance report sets `AES5_WARNING_LONG_HOLD`: 0 (the default)
    /// turns the check off; otherwise 1 µs ..= 1 h. Needs monitoring and a clock (hand-offs
    /// are timed only then).
    pub max_hold_ns: u64,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            max_frame_size_samples: AES5_MAX_FRAME_SIZE_SAMPLES,
            max_channels: AES5_MAX_CHANNELS,
            max_sample_rate_hz: AES5_MAX_SAMPLE_RATE_HZ,
            min_success_rate: AES5_DEFAULT_MIN_SUCCESS_RATE,
            allocation_timeout_ns: AES5_DEFAULT_ALLOCATION_TIMEOUT_NS,
            trend_interval_ns: AES5_DEFAULT_TREND_INTERVAL_NS,
            enable_performance_monitoring: MONITORING_BUILT as u8,
            enable_memory_validation: 1,
            enable_debug_logging: 0,
            now_ns: None,
            clock_context: core::ptr::null_mut(),
            log: None,
            log_context: core::ptr::null_mut(),
            log_detail: None,
            max_hold_ns: 0,
        }
    }
}

impl RuntimeConfig {
    /// Writes the defaults into `out` field by field (as [`RuntimeConfig::default`], without a
    /// copy of the structure: no `memcpy` in a firmware image).
    ///
    /// # Safety
    /// `out` must be valid for writes and aligned (its contents may be uninitialised).
    pub(crate) unsafe fn write_default(out: *mut RuntimeConfig) {
        put!(out, max_frame_size_samples, AES5_MAX_FRAME_SIZE_SAMPLES);
        put!(out, max_channels, AES5_MAX_CHANNELS);
        put!(out, max_sample_rate_hz, AES5_MAX_SAMPLE_RATE_HZ);
        put!(out, min_success_rate, AES5_DEFAULT_MIN_SUCCESS_RATE);
        put!(out, allocation_timeout_ns, AES5_DEFAULT_ALLOCATION_TIMEOUT_NS);
        put!(out, trend_interval_ns, AES5_DEFAULT_TREND_INTERVAL_NS);
        put!(out, enable_performance_monitoring, MONITORING_BUILT as u8);
        put!(out, enable_memory_validation, 1);
        put!(out, enable_debug_logging, 0);
        put!(out, now_ns, None);
        put!(out, clock_context, core::ptr::null_mut());
        put!(out, log, None);
        put!(out, log_context, core::ptr::null_mut());
        put!(out, log_detail, None);
        put!(out, max_hold_ns, 0);
    }
}

/// A configuration that passed validation, in the form the hot path reads.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ActiveConfig {
    pub limits: FormatLimits,
    pub allocation_timeout_ns: u64,
    /// `trend_interval_ns` in the history's time units.
    pub trend_interval_units: u32,
    /// `min_success_rate` in parts per million.
    pub min_success_ppm: u32,
    pub monitoring: bool,
    pub validation: bool,
    pub clock: Clock,
    pub log: Aes5LogFn,
    pub log_detail: Aes5LogDetailFn,
    pub log_context: *mut c_void,
    /// `max_hold_ns`; 0: no check.
    pub max_hold_ns: u64,
}

fn flag(value: u8) -> Result<bool, Status> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Status::InvalidArgument),
    }
}

impl RuntimeConfig {
    /// Checks every field; `InvalidArgument` names no field, so check the documented ranges.
    pub(crate) fn validate(&self) -> Result<ActiveConfig, Status> {
        let rate = self.min_success_rate;
        let ranges_ok = (1..=AES5_MAX_FRAME_SIZE_SAMPLES).contains(&self.max_frame_size_samples)
            && (1..=AES5_MAX_CHANNELS).contains(&self.max_channels)
            && (AES5_MIN_SAMPLE_RATE_HZ..=AES5_MAX_SAMPLE_RATE_HZ).contains(&self.max_sample_rate_hz)
            && self.allocation_timeout_ns >= AES5_MIN_ALLOCATION_TIMEOUT_NS
            && (AES5_MIN_TREND_INTERVAL_NS..=AES5_MAX_TREND_INTERVAL_NS).contains(&self.trend_interval_ns)
            && (AES5_MIN_SUCCESS_RATE_FLOOR..=1.0).contains(&rate)
            && (self.max_hold_ns == 0 || (AES5_MIN_MAX_HOLD_NS..=AES5_MAX_MAX_HOLD_NS).contains(&self.max_hold_ns));
        if !ranges_ok {
            return Err(Status::InvalidArgument);
        }
        let monitoring = flag(self.enable_performance_monitoring)?;
        if monitoring && !MONITORING_BUILT {
            return Err(Status::InvalidArgument);
        }
        let validation = flag(self.enable_memory_validation)?;
        let logging = flag(self.enable_debug_logging)?;
        Ok(ActiveConfig {
            limits: FormatLimits {
                max_sample_rate_hz: self.max_sample_rate_hz,
                max_channels: self.max_channels,
                max_frame_size_samples: self.max_frame_size_samples,
            },
            allocation_timeout_ns: self.allocation_timeout_ns,
            trend_interval_units: crate::observability::history::interval_units(self.trend_interval_ns),
            min_success_ppm: (rate * 1_000_000.0 + 0.5) as u32,
            monitoring,
            validation,
            clock: Clock { now_ns: self.now_ns, context: self.clock_context },
            log: if logging { self.log } else { None },
            log_detail: if logging { self.log_detail } else { None },
            log_context: self.log_context,
            max_hold_ns: self.max_hold_ns,
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn monitoring_is_on_by_default_where_built_and_refused_where_compiled_out() {
        let default = RuntimeConfig::default();
        assert_eq!(default.enable_performance_monitoring, u8::from(MONITORING_BUILT));
        assert!(!default.validate().expect("the default is valid").monitoring || MONITORING_BUILT);
        let asked = RuntimeConfig { enable_performance_monitoring: 1, ..default };
        match asked.validate() {
            Ok(active) => assert!(MONITORING_BUILT && active.monitoring),
            Err(status) => assert!(!MONITORING_BUILT && status == Status::InvalidArgument),
        }
        let off = RuntimeConfig { enable_performance_monitoring: 0, ..default };
        assert!(!off.validate().expect("monitoring off is always valid").monitoring);
    }

    #[test]
    fn written_defaults_match_the_default() {
        let mut written = core::mem::MaybeUninit::<RuntimeConfig>::uninit();
        // SAFETY: a MaybeUninit is valid for writes; every field is written.
        let written = unsafe {
            RuntimeConfig::write_default(written.as_mut_ptr());
            written.assume_init()
        };
        assert_eq!(std::format!("{written:?}"), std::format!("{:?}", RuntimeConfig::default()));
    }

    #[test]
    fn the_default_is_valid_and_matches_the_design() {
        let c = RuntimeConfig::default();
        let a = c.validate().expect("default is valid");
        assert_eq!(a.limits, FormatLimits::WIDEST);
        assert_eq!(a.limits.max_sample_rate_hz, 384_000);
        assert_eq!(a.min_success_ppm, 999_000);
        assert!(a.monitoring == MONITORING_BUILT && a.validation && a.log.is_none());
    }

    #[test]
    fn every_out_of_range_field_is_refused() {
        let base = RuntimeConfig::default();
        let bad: [RuntimeConfig; 18] = [
            RuntimeConfig { max_hold_ns: AES5_MIN_MAX_HOLD_NS - 1, ..base },
            RuntimeConfig { max_hold_ns: AES5_MAX_MAX_HOLD_NS + 1, ..base },
            RuntimeConfig { trend_interval_ns: AES5_MIN_TREND_INTERVAL_NS - 1, ..base },
            RuntimeConfig { trend_interval_ns: AES5_MAX_TREND_INTERVAL_NS + 1, ..base },
            RuntimeConfig { max_frame_size_samples: 0, ..base },
            RuntimeConfig { max_frame_size_samples: 1025, ..base },
            RuntimeConfig { max_channels: 0, ..base },
            RuntimeConfig { max_channels: 9, ..base },
            RuntimeConfig { max_sample_rate_hz: 31_999, ..base },
            RuntimeConfig { max_sample_rate_hz: 384_001, ..base },
            RuntimeConfig { allocation_timeout_ns: 999, ..base },
            RuntimeConfig { min_success_rate: 0.94, ..base },
            RuntimeConfig { min_success_rate: 1.01, ..base },
            RuntimeConfig { min_success_rate: f32::NAN, ..base },
            RuntimeConfig { enable_performance_monitoring: 2, ..base },
            RuntimeConfig { enable_memory_validation: 0xFF, ..base },
            RuntimeConfig { enable_debug_logging: 7, ..base },
            RuntimeConfig { min_success_rate: f32::INFINITY, ..base },
        ];
        for (i, c) in bad.iter().enumerate() {
            assert_eq!(c.validate().err(), Some(Status::InvalidArgument), "case {i}");
        }
    }

    #[test]
    fn the_hold_limit_is_off_or_between_a_microsecond_and_an_hour() {
        for ok in [0, AES5_MIN_MAX_HOLD_NS, 5_000_000, AES5_MAX_MAX_HOLD_NS] {
            let c = RuntimeConfig { max_hold_ns: ok, ..Default::default() };
            assert_eq!(c.validate().map(|a| a.max_hold_ns), Ok(ok));
        }
    }

    #[test]
    fn the_limits_can_be_lowered() {
        let c = RuntimeConfig {
            max_sample_rate_hz: 48_000,
            max_channels: 2,
            max_frame_size_samples: 64,
            ..Default::default()
        };
        let a = c.validate().unwrap();
        assert_eq!(a.limits, FormatLimits { max_sample_rate_hz: 48_000, max_channels: 2, max_frame_size_samples: 64 });
    }
}
