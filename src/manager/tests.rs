//! Behaviour of the manager core: every status of DESIGN.md §4, the state machine, and the
//! statistics invariants.

use super::*;
use crate::config::RuntimeConfig;
use crate::geometry::{DATA_ALIGNMENT, STORAGE_BYTES, TOTAL_SLOTS};
use crate::layout::{BufferManager, BufferManagerStorage};
use crate::readout::ManagerStatistics;
use crate::state::*;
use crate::warning::WARNING_WINDOW_ATTEMPTS;
use core::ffi::{c_char, c_void};
use std::boxed::Box;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::vec::Vec;

struct Fixture {
    storage: Box<BufferManagerStorage>,
}

impl Fixture {
    fn new() -> Self {
        Fixture { storage: Box::new(BufferManagerStorage::new()) }
    }

    fn init(&mut self, config: &RuntimeConfig) -> Result<&ManagerCore, Status> {
        // SAFETY: the fixture owns the storage exclusively.
        let core = unsafe { ManagerCore::init(&mut *self.storage, config)? };
        // SAFETY: init wrote every field; the storage lives as long as the fixture.
        Ok(unsafe { &*core.as_ptr() })
    }
}

fn pcm() -> AudioFormat {
    AudioFormat::pcm(48_000, 2, 16, 256)
}

fn all_types() -> [u32; 3] {
    [AES5_BUFFER_TYPE_PRIMARY, AES5_BUFFER_TYPE_CONVERSION, AES5_BUFFER_TYPE_SCRATCH]
}

/// Statistics without the fields a refused call may change (its own failure counters).
fn stable_view(s: &ManagerStatistics) -> Vec<(u32, u32, u64, u64, u32)> {
    s.buffer_type_stats
        .iter()
        .map(|p| (p.allocated_buffers, p.peak_allocated, p.total_allocations, p.total_releases, p.quarantined_buffers))
        .collect()
}

#[test]
fn allocate_hands_out_distinct_aligned_buffers_inside_the_storage() {
    let mut f = Fixture::new();
    let start = &*f.storage as *const _ as usize;
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let mut seen = Vec::new();
    for (p, ty) in all_types().into_iter().enumerate() {
        for _ in 0..POOL_BUFFER_COUNTS[p] {
            let h = m.allocate(ty, &pcm()).unwrap();
            // SAFETY: the buffer is held by this test.
            let h = unsafe { h.as_ref() };
            let data = h.data_pointer as usize;
            assert_eq!(data % DATA_ALIGNMENT, 0);
            assert!(data >= start && data + h.buffer_capacity_bytes <= start + STORAGE_BYTES);
            assert_eq!(h.buffer_capacity_bytes, POOL_BUFFER_BYTES[p]);
            assert_eq!(h.data_size_bytes, 2 * 256 * 2);
            assert_eq!(u32::from(h.buffer_type), ty);
            assert_eq!(h.magic_number, crate::header::AES5_BUFFER_MAGIC);
            seen.push((data, h.buffer_capacity_bytes));
        }
    }
    seen.sort_unstable();
    for pair in seen.windows(2) {
        assert!(pair[0].0 + pair[0].1 <= pair[1].0, "data areas overlap");
    }
    assert_eq!(seen.len(), TOTAL_SLOTS);
}

#[test]
fn every_pool_exhausts_and_recovers() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    for (p, ty) in all_types().into_iter().enumerate() {
        let held: Vec<_> = (0..POOL_BUFFER_COUNTS[p]).map(|_| m.allocate(ty, &pcm()).unwrap()).collect();
        let before = stable_view(&m.statistics());
        assert_eq!(m.allocate(ty, &pcm()), Err(Status::PoolExhausted));
        assert_eq!(stable_view(&m.statistics()), before);
        let s = m.pool_statistics(BufferType::from_raw(ty).unwrap());
        assert_eq!(s.allocation_failures, 1);
        assert_eq!(s.allocated_buffers as usize, POOL_BUFFER_COUNTS[p]);
        for h in held {
            m.release(h.as_ptr()).unwrap();
        }
        let again = m.allocate(ty, &pcm()).unwrap();
        m.release(again.as_ptr()).unwrap();
        assert_eq!(m.pool_statistics(BufferType::from_raw(ty).unwrap()).allocated_buffers, 0);
    }
}

#[test]
fn double_release_is_refused_and_changes_nothing() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let a = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    let b = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    m.release(a.as_ptr()).unwrap();
    let before = m.statistics();
    assert_eq!(m.release(a.as_ptr()), Err(Status::DoubleRelease));
    let after = m.statistics();
    assert_eq!(stable_view(&after), stable_view(&before));
    assert_eq!(after.validation_failures, before.validation_failures + 1);
    assert_eq!(m.validate(b.as_ptr()), Ok(()));
    assert_eq!(m.validate(a.as_ptr()), Err(Status::DoubleRelease));
}

#[test]
fn foreign_pointers_are_refused_without_being_read() {
    let mut f = Fixture::new();
    let mut g = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let other = g.init(&RuntimeConfig::default()).unwrap();
    let mine = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    let theirs = other.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    let on_stack = AudioBuffer::default();
    // SAFETY: only addresses are formed here; the library must not dereference them.
    let (mid_header, data) = unsafe {
        (mine.as_ptr().cast::<u8>().add(4).cast::<AudioBuffer>(), mine.as_ref().data_pointer.cast::<AudioBuffer>())
    };
    let before = m.statistics();
    for p in [theirs.as_ptr() as *const AudioBuffer, &on_stack, mid_header, data, 8 as *const AudioBuffer] {
        assert_eq!(m.release(p), Err(Status::ForeignBuffer));
        assert_eq!(m.validate(p), Err(Status::ForeignBuffer));
    }
    assert_eq!(stable_view(&m.statistics()), stable_view(&before));
    assert_eq!(m.validate(mine.as_ptr()), Ok(()));
    assert_eq!(other.validate(theirs.as_ptr()), Ok(()));
}

#[test]
fn a_corrupted_header_is_quarantined_for_good() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let h = m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap();
    // SAFETY: the buffer is held by this test; it damages a library-owned field on purpose.
    unsafe { (*h.as_ptr()).checksum ^= 0xDEAD };
    assert_eq!(m.validate(h.as_ptr()), Err(Status::Corrupted));
    assert_eq!(m.state(), AES5_STATE_ACTIVE, "validate changes nothing");
    assert_eq!(m.release(h.as_ptr()), Err(Status::Corrupted));
    assert_eq!(m.state(), AES5_STATE_ERROR);
    let s = m.pool_statistics(BufferType::Scratch);
    assert_eq!((s.allocated_buffers, s.quarantined_buffers, s.total_releases), (0, 1, 0));
    assert_eq!(m.release(h.as_ptr()), Err(Status::Corrupted));
    assert_eq!(m.validate(h.as_ptr()), Err(Status::Corrupted));
    assert_eq!(m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()), Err(Status::InvalidState));
    m.transition(AES5_STATE_READY).unwrap();
    // Only one Scratch buffer remains in service.
    let other = m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap();
    assert_ne!(other, h);
    assert_eq!(m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()), Err(Status::PoolExhausted));
    assert_eq!(m.metrics().corruption_detected, 1);
}

#[test]
fn data_size_above_capacity_counts_as_corruption() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    // SAFETY: held by the test; caller-owned field set out of range on purpose.
    unsafe { (*h.as_ptr()).data_size_bytes = POOL_BUFFER_BYTES[0] + 1 };
    assert_eq!(m.release(h.as_ptr()), Err(Status::Corrupted));
}

#[test]
fn without_memory_validation_ownership_is_still_checked() {
    let mut f = Fixture::new();
    let config = RuntimeConfig { enable_memory_validation: 0, ..RuntimeConfig::default() };
    let m = f.init(&config).unwrap();
    let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    // SAFETY: held by the test.
    unsafe { (*h.as_ptr()).magic_number = 0 };
    assert_eq!(m.release(h.as_ptr()), Ok(()));
    assert_eq!(m.release(h.as_ptr()), Err(Status::DoubleRelease));
}

#[test]
fn bad_arguments_get_their_status_and_change_nothing() {
    let mut f = Fixture::new();
    let config = RuntimeConfig { max_channels: 2, ..RuntimeConfig::default() };
    let m = f.init(&config).unwrap();
    let held = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    let before = m.statistics();
    let cases = [
        (6, pcm(), Status::InvalidArgument),
        (0xFFFF_FFFF, pcm(), Status::InvalidArgument),
        (AES5_BUFFER_TYPE_INPUT, pcm(), Status::NoPoolForType),
        (AES5_BUFFER_TYPE_OUTPUT, pcm(), Status::NoPoolForType),
        (AES5_BUFFER_TYPE_METADATA, pcm(), Status::NoPoolForType),
        (0, AudioFormat::pcm(47_999, 2, 16, 256), Status::UnsupportedFormat),
        (0, AudioFormat::pcm(48_000, 3, 16, 256), Status::UnsupportedFormat),
        (0, AudioFormat::pcm(48_000, 2, 16, 1025), Status::UnsupportedFormat),
        (0, AudioFormat::pcm(48_000, 2, 32, 1024), Status::FormatTooLarge),
    ];
    for (i, (ty, format, status)) in cases.iter().enumerate() {
        assert_eq!(m.allocate(*ty, format), Err(*status), "case {i}");
    }
    let after = m.statistics();
    assert_eq!(stable_view(&after), stable_view(&before));
    assert_eq!(after.validation_failures, before.validation_failures + cases.len() as u64);
    assert_eq!(after.allocation_failures, 0);
    assert_eq!(m.validate(held.as_ptr()), Ok(()));
}

#[test]
fn shutdown_waits_for_the_last_release_and_storage_can_be_reused() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let a = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    let b = m.allocate(AES5_BUFFER_TYPE_CONVERSION, &pcm()).unwrap();
    assert_eq!(m.shutdown(), Err(Status::BuffersOutstanding));
    assert_eq!(m.state(), AES5_STATE_SHUTTING_DOWN);
    assert_eq!(m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()), Err(Status::InvalidState));
    m.release(a.as_ptr()).unwrap();
    assert_eq!(m.state(), AES5_STATE_SHUTTING_DOWN);
    m.release(b.as_ptr()).unwrap();
    assert_eq!(m.state(), AES5_STATE_SHUTDOWN);
    assert_eq!(m.release(b.as_ptr()), Err(Status::InvalidState));
    assert_eq!(m.shutdown(), Err(Status::InvalidState));
    let again = f.init(&RuntimeConfig::default()).unwrap();
    assert_eq!(again.state(), AES5_STATE_READY);
    assert_eq!(again.statistics().total_operations, 0);
    assert_eq!(f.init(&RuntimeConfig::default()).err(), Some(Status::AlreadyInitialized));
}

#[test]
fn quarantined_buffers_do_not_block_shutdown() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    assert_eq!(m.shutdown(), Err(Status::BuffersOutstanding));
    // SAFETY: held by the test; damaged on purpose.
    unsafe { (*h.as_ptr()).magic_number = 1 };
    assert_eq!(m.release(h.as_ptr()), Err(Status::Corrupted));
    assert_eq!(m.state(), AES5_STATE_SHUTDOWN);
}

#[test]
fn explicit_transitions_follow_the_table() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    assert_eq!(m.transition(AES5_STATE_READY), Ok(()));
    for to in [
        AES5_STATE_UNINITIALIZED,
        AES5_STATE_INITIALIZING,
        AES5_STATE_ACTIVE,
        AES5_STATE_WARNING,
        AES5_STATE_ERROR,
        AES5_STATE_SHUTDOWN,
    ] {
        assert_eq!(m.transition(to), Err(Status::InvalidState), "to {to}");
    }
    assert_eq!(m.transition(8), Err(Status::InvalidArgument));
    assert_eq!(m.transition(0xFFFF_FFFF), Err(Status::InvalidArgument));
    let changes = m.statistics().state_change_count;
    assert_eq!(changes, 2);
    assert_eq!(m.transition(AES5_STATE_SHUTTING_DOWN), Ok(()));
    assert_eq!(m.state(), AES5_STATE_SHUTDOWN);
}

#[test]
fn warning_starts_above_90_percent_and_ends_when_pressure_ends() {
    let mut f = Fixture::new();
    let config = RuntimeConfig { min_success_rate: 0.95, ..RuntimeConfig::default() };
    let m = f.init(&config).unwrap();
    let cap = POOL_BUFFER_COUNTS[2];
    let held: Vec<_> = (0..cap).map(|_| m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap()).collect();
    assert_eq!(m.state(), AES5_STATE_WARNING);
    assert_eq!(m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()), Err(Status::PoolExhausted));
    for h in held {
        m.release(h.as_ptr()).unwrap();
    }
    // One failure among the attempts since Warning began: 95 % needs 19 successes per failure.
    assert_eq!(m.state(), AES5_STATE_WARNING);
    let mut successes = 0;
    while m.state() == AES5_STATE_WARNING {
        let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
        m.release(h.as_ptr()).unwrap();
        successes += 1;
        assert!(successes < 100, "Warning never ended");
    }
    assert_eq!(m.state(), AES5_STATE_ACTIVE);
    assert!((17..=20).contains(&successes), "{successes}");
}

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

static LOGGED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn logger(_ctx: *mut c_void, status: u32, operation: *const c_char) {
    // SAFETY: the library passes a static NUL-terminated string.
    let name = unsafe { core::ffi::CStr::from_ptr(operation) };
    assert_eq!(name.to_str().unwrap(), "release");
    assert_eq!(status, Status::DoubleRelease.code());
    LOGGED.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn debug_logging_reports_refusals() {
    let mut f = Fixture::new();
    let config = RuntimeConfig { enable_debug_logging: 1, log: Some(logger), ..RuntimeConfig::default() };
    let m = f.init(&config).unwrap();
    let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    m.release(h.as_ptr()).unwrap();
    assert_eq!(LOGGED.load(Ordering::SeqCst), 0);
    assert_eq!(m.release(h.as_ptr()), Err(Status::DoubleRelease));
    assert_eq!(LOGGED.load(Ordering::SeqCst), 1);
}

#[test]
fn init_refuses_bad_configuration_and_live_storage() {
    let mut f = Fixture::new();
    let bad = RuntimeConfig { max_channels: 0, ..RuntimeConfig::default() };
    assert_eq!(f.init(&bad).err(), Some(Status::InvalidArgument));
    f.init(&RuntimeConfig::default()).unwrap();
    assert_eq!(f.init(&RuntimeConfig::default()).err(), Some(Status::AlreadyInitialized));
}

#[test]
fn random_bytes_do_not_pass_for_a_manager() {
    let mut f = Fixture::new();
    for (i, w) in f.storage.opaque_words.iter_mut().enumerate() {
        *w = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    let handle = &*f.storage as *const BufferManagerStorage as *const BufferManager;
    // SAFETY: the storage is readable; the check must refuse it.
    assert_eq!(unsafe { ManagerCore::from_handle(handle) }.err(), Some(Status::InvalidState));
    assert!(f.init(&RuntimeConfig::default()).is_ok());
}

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

#[test]
fn of_two_racing_releases_exactly_one_wins() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    for _ in 0..500 {
        let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
        let address = h.as_ptr() as usize;
        let barrier = std::sync::Barrier::new(2);
        let results: Vec<_> = std::thread::scope(|s| {
            let racers: Vec<_> = (0..2)
                .map(|_| {
                    let (m, barrier) = (&m, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        m.release(address as *const AudioBuffer)
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
        assert!(results.contains(&Err(Status::DoubleRelease)));
    }
    let s = m.pool_statistics(BufferType::Primary);
    assert_eq!((s.total_allocations, s.total_releases, s.allocated_buffers), (500, 500, 0));
}

#[test]
fn recovery_with_a_crowded_pool_returns_to_warning() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let scratch: Vec<_> =
        (0..POOL_BUFFER_COUNTS[2]).map(|_| m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap()).collect();
    assert_eq!(m.state(), AES5_STATE_WARNING);
    let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    // SAFETY: held by the test; damaged on purpose.
    unsafe { (*h.as_ptr()).checksum ^= 1 };
    assert_eq!(m.release(h.as_ptr()), Err(Status::Corrupted));
    m.transition(AES5_STATE_READY).unwrap();
    let p = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    assert_eq!(m.state(), AES5_STATE_WARNING, "Scratch is still full");
    m.release(p.as_ptr()).unwrap();
    drop(scratch);
}

#[test]
fn with_a_perfect_success_rate_required_warning_ends_after_one_clean_window() {
    let mut f = Fixture::new();
    let config = RuntimeConfig { min_success_rate: 1.0, ..RuntimeConfig::default() };
    let m = f.init(&config).unwrap();
    let held: Vec<_> =
        (0..POOL_BUFFER_COUNTS[2]).map(|_| m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap()).collect();
    assert_eq!(m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()), Err(Status::PoolExhausted));
    for h in held {
        m.release(h.as_ptr()).unwrap();
    }
    let mut successes = 0u64;
    while m.state() == AES5_STATE_WARNING {
        let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
        m.release(h.as_ptr()).unwrap();
        successes += 1;
        assert!(successes <= 2 * WARNING_WINDOW_ATTEMPTS, "Warning never ended");
    }
    assert!(successes + POOL_BUFFER_COUNTS[2] as u64 + 1 >= WARNING_WINDOW_ATTEMPTS, "{successes}");
}
