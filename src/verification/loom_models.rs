//! Loom models of the lock-free core (`RUSTFLAGS="--cfg loom" cargo test --release --lib`).
//!
//! Under `--cfg loom` every atomic of the library is loom's (see `sync`), so these models run
//! the library's own code — the pools' free and quarantine words, the manager's allocate,
//! release and shutdown, the statistics snapshot, the split sums and stamps — under every
//! interleaving loom explores. The history ring's models live in `history.rs` (they need its
//! private fields). Every actor of a model is a spawned thread: loom interleaves spawned
//! threads with each other, but what the model's own thread does between spawning and
//! joining them was found to run before them in every execution. Each model is bounded (threads, operations, preemptions) so that the whole
//! suite stays within minutes; `LOOM_MAX_PREEMPTIONS` overrides the default bound.

use loom::sync::Arc;
use loom::thread;

use crate::geometry::POOLS;
use crate::manager::pool::PoolWords;
use crate::manager::state_machine::{AES5_STATE_ACTIVE, AES5_STATE_READY, AES5_STATE_SHUTDOWN};
use crate::manager::storage::BufferManagerStorage;
use crate::manager::ManagerCore;
use crate::platform::atomics::Ordering;
use crate::platform::wide_sum::{SplitSum, WideStamp};
use crate::types::buffer_type::{BufferType, AES5_BUFFER_TYPE_PRIMARY};
use crate::types::config::RuntimeConfig;
use crate::types::format::AudioFormat;
use crate::types::header::AudioBuffer;
use crate::types::status::Status;
use std::boxed::Box;
use std::vec::Vec;

/// Preemptions per execution when `LOOM_MAX_PREEMPTIONS` is not set: every model below
/// finishes within half a minute at this bound (the whole suite in about a minute).
const DEFAULT_PREEMPTIONS: usize = 4;

/// Runs one model with the suite's bounds and prints how many executions loom explored.
/// `LOOM_MAX_PREEMPTIONS` replaces the default bound.
pub(crate) fn check<F>(name: &str, model: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(builder.preemption_bound.unwrap_or(DEFAULT_PREEMPTIONS));
    run(builder, name, model);
}

/// As [`check`] for the largest models: at most `preemptions` (a lower `LOOM_MAX_PREEMPTIONS`
/// still applies), so that a deeper run of the suite stays within hours.
pub(crate) fn check_bounded<F>(name: &str, preemptions: usize, model: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(builder.preemption_bound.map_or(preemptions, |env| env.min(preemptions)));
    run(builder, name, model);
}

fn run<F>(builder: loom::model::Builder, name: &str, model: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let counted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&counted);
    let started = std::time::Instant::now();
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        model();
    });
    std::println!(
        "loom model {name}: {} executions in {:.1} s (preemption bound {:?})",
        counted.load(std::sync::atomic::Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
        builder.preemption_bound
    );
}

/// A manager in heap storage shared by the model's threads. The storage is plain words, so
/// dropping it runs no destructor of the loom atomics laid out inside it.
struct SharedManager {
    storage: Box<BufferManagerStorage>,
    /// The ticking clock's count (`SharedManager::ticking`), boxed so that its address, the
    /// clock's context, stays put.
    ticks: Box<loom::sync::atomic::AtomicU64>,
}

// SAFETY: after init the manager is only reached through `core()`, whose methods are the
// library's thread-safe allocate/release/statistics paths; headers handed out are owned by
// exactly one thread at a time (which is what the models check).
unsafe impl Sync for SharedManager {}
// SAFETY: as above; the storage moves with the box.
unsafe impl Send for SharedManager {}

impl SharedManager {
    /// A fresh manager; monitoring off (no clock, no history) unless `monitoring`, which uses a
    /// fixed clock (a model must be deterministic).
    fn new(monitoring: bool) -> Arc<Self> {
        let mut storage = Box::new(BufferManagerStorage::new());
        let config = RuntimeConfig {
            enable_performance_monitoring: u8::from(monitoring),
            now_ns: Some(fixed_clock),
            ..RuntimeConfig::default()
        };
        // SAFETY: the storage is owned here, zeroed and aligned (a Box of the storage type).
        unsafe { ManagerCore::init(&mut *storage, &config) }.expect("init");
        Arc::new(SharedManager { storage, ticks: Box::new(loom::sync::atomic::AtomicU64::new(0)) })
    }

    /// A monitored manager whose clock reads 1, 2, 3, ... (a loom atomic counts the reads, so
    /// which call got which time is part of the explored schedule): init takes 1.
    fn ticking() -> Arc<Self> {
        let mut storage = Box::new(BufferManagerStorage::new());
        let ticks = Box::new(loom::sync::atomic::AtomicU64::new(0));
        let config = RuntimeConfig {
            enable_performance_monitoring: 1,
            now_ns: Some(ticking_clock),
            clock_context: (&*ticks as *const loom::sync::atomic::AtomicU64).cast_mut().cast(),
            ..RuntimeConfig::default()
        };
        // SAFETY: the storage is owned here, zeroed and aligned (a Box of the storage type).
        unsafe { ManagerCore::init(&mut *storage, &config) }.expect("init");
        Arc::new(SharedManager { storage, ticks })
    }

    fn core(&self) -> &ManagerCore {
        let core = (&*self.storage as *const BufferManagerStorage).cast::<ManagerCore>();
        // SAFETY: init succeeded in this storage, which lives as long as `self`.
        unsafe { &*core }
    }
}

/// The models' clock: always the same instant, so every execution takes the same branches.
unsafe extern "C" fn fixed_clock(_context: *mut core::ffi::c_void) -> u64 {
    1_000_000
}

/// A clock that counts its reads (context: the `SharedManager`'s `ticks`).
unsafe extern "C" fn ticking_clock(context: *mut core::ffi::c_void) -> u64 {
    // SAFETY: the context is the manager's boxed counter, which outlives the manager.
    let ticks = unsafe { &*context.cast::<loom::sync::atomic::AtomicU64>() };
    ticks.fetch_add(1, Ordering::Relaxed) + 1
}

/// A header pointer that may cross threads (the models check who owns it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Handle(*mut AudioBuffer);
// SAFETY: only the address moves; the library proves it before use.
unsafe impl Send for Handle {}

fn pcm() -> AudioFormat {
    AudioFormat::pcm(48_000, 2, 16, 64)
}

fn primary() -> BufferType {
    BufferType::Primary
}

// ---------------------------------------------------------------------------------------------
// Pool level: the free word alone, every preemption explored.
// ---------------------------------------------------------------------------------------------

struct Pool {
    words: PoolWords,
    size: usize,
    /// One loom cell per buffer: two owners touching one buffer is a causality error.
    data: Vec<loom::cell::UnsafeCell<u32>>,
}

// SAFETY: `data` is only touched by the thread that took the buffer (what the model checks,
// through loom's cell tracking).
unsafe impl Sync for Pool {}
// SAFETY: as above.
unsafe impl Send for Pool {}

impl Pool {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(Pool {
            words: PoolWords::new(n),
            size: n,
            data: (0..n).map(|_| loom::cell::UnsafeCell::new(0)).collect(),
        })
    }

    /// Allocate, write an owner tag, check it, release: the library's pool sequence.
    fn cycle(&self, tag: u32) -> bool {
        let Some((index, free_after)) = self.words.take() else {
            return false;
        };
        let held = self.words.held_after(free_after);
        assert!(held >= 1 && held as usize <= self.size, "held count {held} out of range");
        // SAFETY: loom checks that no other thread accesses this cell concurrently.
        self.data[index].with_mut(|p| unsafe { *p = tag });
        // SAFETY: as above.
        let seen = self.data[index].with(|p| unsafe { *p });
        assert_eq!(seen, tag, "buffer {index} written by another owner");
        assert!(self.words.give_back(index), "the holder's release succeeds");
        true
    }

    /// Checks that no buffer is held, then takes every buffer: each exactly once, then none.
    fn drain(&self) {
        assert_eq!(self.words.held(), 0, "a buffer is still counted as held");
        let mut seen = std::vec![false; self.size];
        while let Some((index, _)) = self.words.take() {
            assert!(!seen[index], "buffer {index} is twice in the free set");
            seen[index] = true;
        }
        assert!(seen.iter().all(|&s| s), "a buffer was lost");
    }
}

/// Two threads allocate and release from one two-buffer pool, twice each: no buffer is ever
/// held by two threads (loom's cell tracking and the owner tag), and at the end every buffer
/// is free and can be allocated exactly once again.
#[test]
fn pool_two_threads_allocate_and_release() {
    check("pool_two_threads_allocate_and_release", || {
        let pool = Pool::new(2);
        let threads: Vec<_> = (1..=2u32)
            .map(|t| {
                let pool = Arc::clone(&pool);
                thread::spawn(move || {
                    for round in 0..2 {
                        assert!(pool.cycle(t * 10 + round), "a two-buffer pool ran dry with two users");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        pool.drain();
    });
}

/// Three threads on a one-buffer pool: the buffer is never shared, and it is free again at
/// the end.
#[test]
fn pool_three_threads_contend_for_one_buffer() {
    check("pool_three_threads_contend_for_one_buffer", || {
        let pool = Pool::new(1);
        let threads: Vec<_> = (1..=3u32)
            .map(|t| {
                let pool = Arc::clone(&pool);
                thread::spawn(move || pool.cycle(t))
            })
            .collect();
        let wins = threads.into_iter().map(|t| t.join().unwrap()).filter(|&w| w).count();
        assert!(wins >= 1, "no thread got the only buffer");
        pool.drain();
    });
}

/// Two releases of one held buffer race the release of another buffer of the same pool (all
/// three change the one free word): exactly one of the two wins, the loser changes nothing,
/// the other release is not disturbed, and the pool neither loses nor duplicates a buffer.
#[test]
fn pool_double_release_races_another_release() {
    check("pool_double_release_races_another_release", || {
        let pool = Pool::new(2);
        let (first, _) = pool.words.take().expect("a buffer");
        let (second, _) = pool.words.take().expect("a second buffer");
        let releasers: Vec<_> = (0..2)
            .map(|_| {
                let pool = Arc::clone(&pool);
                thread::spawn(move || pool.words.give_back(first))
            })
            .collect();
        let other = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || pool.words.give_back(second))
        };
        let wins = releasers.into_iter().map(|t| t.join().unwrap()).filter(|&w| w).count();
        assert_eq!(wins, 1, "two releases of one buffer both won, or neither");
        assert!(other.join().unwrap(), "the release of the other buffer was refused");
        pool.drain();
    });
}

// ---------------------------------------------------------------------------------------------
// Manager level: the library's allocate/release/shutdown/statistics code paths.
// ---------------------------------------------------------------------------------------------

/// Two threads each allocate a Primary buffer and release it through the manager: the two
/// buffers differ, and the statistics reconcile at the end.
#[test]
fn manager_two_threads_allocate_and_release() {
    check("manager_two_threads_allocate_and_release", || {
        let shared = SharedManager::new(false);
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let core = shared.core();
                    let buffer = core.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).expect("allocate");
                    let handle = Handle(buffer.as_ptr());
                    assert_eq!(core.validate(handle.0), Ok(()), "a held buffer validates");
                    core.release(handle.0).expect("release");
                    handle
                })
            })
            .collect();
        let handles: Vec<Handle> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let core = shared.core();
        let s = core.pool_statistics(primary());
        assert_eq!((s.allocated_buffers, s.total_allocations, s.total_releases), (0, 2, 2));
        assert!((1..=2).contains(&s.peak_allocated), "peak {}", s.peak_allocated);
        if s.peak_allocated == 2 {
            assert_ne!(handles[0], handles[1], "one buffer held by two threads at once");
        }
        assert_eq!(core.statistics().failed_operations, 0);
        assert_eq!(core.state(), AES5_STATE_ACTIVE);
    });
}

/// Two threads release the same held buffer at once: exactly one succeeds, the other gets
/// `DoubleRelease`, and the counts show one release and one refused release.
#[test]
fn manager_double_release_races_release() {
    check("manager_double_release_races_release", || {
        let shared = SharedManager::new(false);
        let buffer = Handle(shared.core().allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).expect("allocate").as_ptr());
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || shared.core().release(buffer.0))
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "releases: {results:?}");
        assert!(results.contains(&Err(Status::DoubleRelease)), "releases: {results:?}");
        let core = shared.core();
        let s = core.pool_statistics(primary());
        assert_eq!((s.allocated_buffers, s.total_allocations, s.total_releases), (0, 1, 1));
        assert_eq!(core.counters.rejected_releases.load(Ordering::Relaxed), 1);
        // The buffer is free again, and in the free set exactly once.
        let slot = core.slot_of(buffer.0).expect("a header");
        assert!(core.pools[0].is_free(slot - POOLS[0].first_slot));
    });
}

/// Two threads release the same held buffer whose header was damaged: it is quarantined
/// exactly once (one corruption counted, the manager in Error), both calls are refused as
/// corrupted, and the buffer is neither free nor held afterwards.
#[test]
fn manager_damaged_release_races_release() {
    check("manager_damaged_release_races_release", || {
        let shared = SharedManager::new(false);
        let buffer = Handle(shared.core().allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).expect("allocate").as_ptr());
        // SAFETY: the buffer is held here and no thread touches it yet; damaged on purpose.
        unsafe { (*buffer.0).checksum ^= 1 };
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || shared.core().release(buffer.0))
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results, [Err(Status::Corrupted), Err(Status::Corrupted)]);
        let core = shared.core();
        let s = core.pool_statistics(primary());
        assert_eq!((s.allocated_buffers, s.quarantined_buffers, s.total_allocations, s.total_releases), (0, 1, 1, 0));
        assert_eq!(core.counters.corruption_detected.load(Ordering::Relaxed), 1);
        assert_eq!(core.state(), crate::manager::state_machine::AES5_STATE_ERROR);
        let slot = core.slot_of(buffer.0).expect("a header");
        assert!(!core.pools[0].is_free(slot - POOLS[0].first_slot), "a quarantined buffer back in the free set");
    });
}

/// Allocate (then release) races shutdown: no buffer is handed out once the manager is shut
/// down, a held buffer keeps it in ShuttingDown, and the last release completes the shutdown.
#[test]
fn manager_allocate_races_shutdown() {
    check("manager_allocate_races_shutdown", || {
        let shared = SharedManager::new(false);
        let user = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let core = shared.core();
                match core.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()) {
                    Ok(buffer) => {
                        // While the buffer is held, shutdown cannot have completed.
                        assert_ne!(core.state(), AES5_STATE_SHUTDOWN, "buffer handed out after Shutdown");
                        let slot = core.slot_of(buffer.as_ptr()).unwrap();
                        assert!(!core.pools[0].is_free(slot - POOLS[0].first_slot), "a held buffer in the free set");
                        core.release(buffer.as_ptr()).expect("release while shutting down");
                        true
                    }
                    Err(status) => {
                        assert_eq!(status, Status::InvalidState, "allocation refused for another reason");
                        false
                    }
                }
            })
        };
        let stopper = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || shared.core().shutdown())
        };
        let outcome = stopper.join().unwrap();
        let allocated = user.join().unwrap();
        let core = shared.core();
        assert_eq!(core.state(), AES5_STATE_SHUTDOWN, "shutdown never completed (shutdown said {outcome:?})");
        let s = core.pool_statistics(primary());
        assert_eq!(s.allocated_buffers, 0);
        assert_eq!(s.total_allocations, u64::from(allocated));
        assert_eq!(s.total_releases, u64::from(allocated));
        // BuffersOutstanding is also correct when the allocation had taken a buffer from the
        // free set and then saw the shutdown and put it back: that return completed it.
        assert!(matches!(outcome, Ok(()) | Err(Status::BuffersOutstanding)), "{outcome:?}");
    });
}

/// A buffer held across a shutdown request: shutdown reports it outstanding, allocation is
/// refused, and the release (racing a second allocation attempt) completes the shutdown.
#[test]
fn manager_release_completes_a_pending_shutdown() {
    check("manager_release_completes_a_pending_shutdown", || {
        let shared = SharedManager::new(false);
        let core = shared.core();
        let held = Handle(core.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).expect("allocate").as_ptr());
        let releaser = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || shared.core().release(held.0))
        };
        let stopper = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let core = shared.core();
                let shutdown = core.shutdown();
                let late = core.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).map(|b| Handle(b.as_ptr()));
                (shutdown, late)
            })
        };
        let (shutdown, late) = stopper.join().unwrap();
        assert_eq!(late.err(), Some(Status::InvalidState), "allocation after a shutdown request");
        assert_eq!(releaser.join().unwrap(), Ok(()));
        assert!(matches!(shutdown, Ok(()) | Err(Status::BuffersOutstanding)), "{shutdown:?}");
        assert_eq!(core.state(), AES5_STATE_SHUTDOWN, "the last release did not complete the shutdown");
        let s = core.pool_statistics(primary());
        assert_eq!((s.allocated_buffers, s.total_allocations, s.total_releases), (0, 1, 1));
    });
}

/// Statistics read while two threads allocate and release: never a torn or impossible value
/// (allocated within capacity and the number of users, peak at least allocated, releases at
/// most allocations), and the final snapshot reconciles.
#[test]
fn manager_statistics_read_during_allocate_and_release() {
    // Three threads, the reader's many loads: bound 2 keeps it within seconds.
    check_bounded("manager_statistics_read_during_allocate_and_release", 2, || {
        let shared = SharedManager::new(false);
        let users: Vec<_> = (0..2)
            .map(|_| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let core = shared.core();
                    let buffer = core.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).expect("allocate");
                    core.release(buffer.as_ptr()).expect("release");
                })
            })
            .collect();
        let reader = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let s = shared.core().pool_statistics(primary());
                assert!(s.allocated_buffers <= s.total_buffers && s.allocated_buffers <= 2, "{s:?}");
                assert!(s.peak_allocated >= s.allocated_buffers, "{s:?}");
                assert!(s.total_releases <= s.total_allocations && s.total_allocations <= 2, "{s:?}");
                assert!((0.0..=1.0).contains(&s.average_utilization), "{s:?}");
            })
        };
        reader.join().unwrap();
        let core = shared.core();
        for u in users {
            u.join().unwrap();
        }
        let s = core.pool_statistics(primary());
        assert_eq!((s.allocated_buffers, s.total_allocations, s.total_releases), (0, 2, 2));
        assert!(matches!(core.state(), AES5_STATE_ACTIVE | AES5_STATE_READY));
    });
}

/// With monitoring on (fixed clock), one thread allocates and releases while another reads the
/// pool's statistics: the read is consistent (utilisation within 0..=1, counts within what
/// happened); afterwards the whole statistics, metrics and report agree, and the trend's one
/// interval (the fixed clock never reaches a snapshot) holds the allocation. (A concurrent read of the metrics as well took loom beyond four minutes.)
#[test]
fn manager_monitored_reads_during_allocate_and_release() {
    check_bounded("manager_monitored_reads_during_allocate_and_release", 1, || {
        let shared = SharedManager::new(true);
        let user = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let core = shared.core();
                let buffer = core.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).expect("allocate");
                core.release(buffer.as_ptr()).expect("release");
            })
        };
        let reader = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let core = shared.core();
                let p = core.pool_statistics(primary());
                assert!(p.allocated_buffers <= 1 && p.peak_allocated >= p.allocated_buffers, "{p:?}");
                assert!(p.total_releases <= p.total_allocations && p.total_allocations <= 1, "{p:?}");
                assert!((0.0..=1.0).contains(&p.average_utilization), "{p:?}");
            })
        };
        reader.join().unwrap();
        let core = shared.core();
        user.join().unwrap();
        assert_eq!(core.statistics().failed_operations, 0);
        let report = core.performance_report(0);
        assert_eq!(report.metrics.allocation_count, 1);
        assert_eq!(report.metrics.release_count, 1);
        assert_eq!(report.trend.sample_count, 1, "{report:?}");
        assert_eq!(report.trend.success_rate_trend, 0.0, "{report:?}");
    });
}

// ---------------------------------------------------------------------------------------------
// The 64-bit values on 32-bit atomics.
// ---------------------------------------------------------------------------------------------

/// Two adds race a reader just below the low word's first crossing of 2^31: the reader sees
/// only sums that existed (never torn), and the final sum is exact.
#[test]
fn split_sum_carries_race_a_reader() {
    check("split_sum_carries_race_a_reader", || split_sum_model((1 << 31) - 2));
}

/// The same just below the low word's wrap at 2^32 (the second crossing, where the high word
/// must account for the wrap).
#[test]
fn split_sum_wraps_race_a_reader() {
    check("split_sum_wraps_race_a_reader", || split_sum_model((1 << 32) - 2));
}

/// Adds of 3 and 5 race a reader on a sum that starts at `base`.
fn split_sum_model(base: u64) {
    let sum = Arc::new(SplitSum::new());
    let first = base.min((1 << 31) - 1);
    sum.add(first);
    sum.add(base - first);
    let adders: Vec<_> = [3u64, 5]
        .into_iter()
        .map(|v| {
            let sum = Arc::clone(&sum);
            thread::spawn(move || sum.add(v))
        })
        .collect();
    // The reader is a thread of its own, so loom interleaves it with the adders.
    let reader = {
        let sum = Arc::clone(&sum);
        thread::spawn(move || sum.read())
    };
    let seen = reader.join().unwrap();
    // Whatever the interleaving, a read is one of the sums that existed: never torn, never
    // off by the crossing in flight.
    let possible = [base, base + 3, base + 5, base + 8];
    assert!(possible.contains(&seen), "impossible sum {seen}");
    for a in adders {
        a.join().unwrap();
    }
    assert_eq!(sum.read(), base + 8);
}

/// Two stores race a reader on a 64-bit stamp: the reader gets one whole stored value.
#[test]
fn wide_stamp_stores_race_a_reader() {
    check("wide_stamp_stores_race_a_reader", || {
        let stamp = Arc::new(WideStamp::new(0x0000_0001_0000_0001));
        let writers: Vec<_> = [0x0000_0002_0000_0002u64, 0x0000_0003_0000_0003]
            .into_iter()
            .map(|v| {
                let stamp = Arc::clone(&stamp);
                thread::spawn(move || stamp.store(v))
            })
            .collect();
        let reader = {
            let stamp = Arc::clone(&stamp);
            thread::spawn(move || stamp.read())
        };
        let v = reader.join().unwrap();
        assert_eq!(v >> 32, v & 0xFFFF_FFFF, "torn stamp {v:#x}");
        for w in writers {
            w.join().unwrap();
        }
        let v = stamp.read();
        assert!(v == 0x0000_0002_0000_0002 || v == 0x0000_0003_0000_0003, "final stamp {v:#x}");
    });
}

/// Two refusals race a reader on the last-refusal record: the reader gets the words of one
/// refusal whole (never a mix), or "being recorded"; a writer that finds the record claimed
/// leaves it, and the count says how many were kept.
#[test]
fn refusal_record_writers_race_a_reader() {
    use crate::manager::refusal_record::{Reading, RefusalRecord};
    use crate::platform::in_place::ZeroInitial;
    check_bounded("refusal_record_writers_race_a_reader", 2, || {
        let record = Arc::new(RefusalRecord::initial());
        let writers: Vec<_> = [1u32, 2]
            .into_iter()
            .map(|v| {
                let record = Arc::clone(&record);
                thread::spawn(move || record.write([v, v * 10, v * 100]))
            })
            .collect();
        let reader = {
            let record = Arc::clone(&record);
            thread::spawn(move || record.read())
        };
        match reader.join().unwrap() {
            Reading::Recorded { number: 0, words } => assert_eq!(words, [0, 0, 0]),
            Reading::Recorded { number, words: [v, tens, hundreds] } => {
                assert!(number <= 2 && (v == 1 || v == 2), "{number} {v}");
                assert_eq!((tens, hundreds), (v * 10, v * 100), "torn record");
            }
            Reading::BeingRecorded { number } => assert!(number <= 2),
        }
        for w in writers {
            w.join().unwrap();
        }
        match record.read() {
            Reading::Recorded { number, words: [v, tens, hundreds] } => {
                assert!((1..=2).contains(&number) && (v == 1 || v == 2), "{number} {v}");
                assert_eq!((tens, hundreds), (v * 10, v * 100), "final {number} {:?}", record.read());
            }
            other => panic!("after both writers: {other:?}"),
        }
    });
}

/// The accepted-format table: two allocations remember two new formats while a third looks
/// one up. The lookup finds nothing or exactly the remembered entry (words, bytes and digest,
/// never an entry half written), and both are found afterwards.
#[test]
fn accepted_formats_writers_race_a_reader() {
    use crate::manager::accepted_formats::{AcceptedFormats, FormatKey};
    use crate::platform::in_place::ZeroInitial;
    use crate::types::header::PreparedFormat;
    check("accepted_formats_writers_race_a_reader", || {
        let table = Arc::new(AcceptedFormats::initial());
        let keys =
            [FormatKey::of(&AudioFormat::pcm(48_000, 2, 16, 64)), FormatKey::of(&AudioFormat::pcm(96_000, 1, 24, 32))];
        let writers: Vec<_> = keys
            .iter()
            .zip([256u32, 128])
            .map(|(&key, bytes)| {
                let table = Arc::clone(&table);
                thread::spawn(move || table.remember(&key, bytes))
            })
            .collect();
        let found = table.find(&keys[1], 2);
        if let Some(prepared) = found {
            assert_eq!(prepared, PreparedFormat::new(keys[1].words(2), 128), "a torn entry");
        }
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(table.find(&keys[0], 0), Some(PreparedFormat::new(keys[0].words(0), 256)));
        assert_eq!(table.find(&keys[1], 1), Some(PreparedFormat::new(keys[1].words(1), 128)));
    });
}

/// The state machine's first transition under contention: two first allocations race, Ready →
/// Active happens once and the change counter counts it once.
#[test]
fn manager_first_allocations_change_state_once() {
    check("manager_first_allocations_change_state_once", || {
        let shared = SharedManager::new(false);
        assert_eq!(shared.core().state(), AES5_STATE_READY);
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    Handle(shared.core().allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap().as_ptr())
                })
            })
            .collect();
        let handles: Vec<Handle> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_ne!(handles[0], handles[1], "one buffer handed to two threads");
        let core = shared.core();
        assert_eq!(core.state(), AES5_STATE_ACTIVE);
        assert_eq!(core.statistics().state_change_count, 3, "Initializing, Ready, Active");
    });
}

// ---------------------------------------------------------------------------------------------
// Hand-off queues: the ring alone (a small ring, so that it laps), then the manager's enqueue,
// dequeue, release, shutdown and held-buffer finder.
// ---------------------------------------------------------------------------------------------

use crate::manager::queue::HandOffQueue;
use crate::platform::in_place::ZeroInitial;

/// Two buffers cycle through a ring of four cells: each of two threads takes whatever is
/// oldest and puts it back twice, so the ring laps while a consumer may stall between its read
/// of a cell and its claim. No slot is ever taken by two threads at once (an owner tag per
/// slot), none is lost, and no enqueue ever finds its cell unconsumed.
#[test]
fn queue_two_cycling_threads_lap_a_small_ring() {
    check_bounded("queue_two_cycling_threads_lap_a_small_ring", 3, || {
        let queue = Arc::new(HandOffQueue::<4>::initial());
        let owners = Arc::new([loom::sync::atomic::AtomicUsize::new(0), loom::sync::atomic::AtomicUsize::new(0)]);
        queue.push(0);
        queue.push(1);
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (queue, owners) = (Arc::clone(&queue), Arc::clone(&owners));
                thread::spawn(move || {
                    for _ in 0..2 {
                        if let Some(slot) = queue.pop() {
                            assert_eq!(owners[slot].fetch_add(1, Ordering::SeqCst), 0, "slot {slot} taken twice");
                            owners[slot].fetch_sub(1, Ordering::SeqCst);
                            queue.push(slot);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut left = [queue.pop(), queue.pop(), queue.pop()];
        left.sort();
        assert_eq!(left, [None, Some(0), Some(1)], "a slot was lost or duplicated");
        let counts = queue.counts(2);
        assert_eq!((counts.length, counts.enqueued - counts.dequeued), (0, 0));
    });
}

/// A producer enqueues two buffers while a consumer dequeues: the consumer gets them in order
/// (never the second before the first), each exactly once, and what it did not get is still
/// in the queue at the end. The statistics read by the consumer keep their invariants.
#[test]
fn manager_enqueue_races_dequeue() {
    check("manager_enqueue_races_dequeue", || {
        let shared = SharedManager::new(false);
        let core = shared.core();
        let a = Handle(core.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).expect("allocate").as_ptr());
        let b = Handle(core.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).expect("allocate").as_ptr());
        let producer = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                shared.core().enqueue(0, a.0).expect("enqueue a");
                shared.core().enqueue(0, b.0).expect("enqueue b");
            })
        };
        let consumer = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let core = shared.core();
                let mut got = Vec::new();
                for _ in 0..2 {
                    if let Ok(buffer) = core.dequeue(0) {
                        got.push(Handle(buffer.as_ptr()));
                    }
                    let s = core.queue_statistics(0).unwrap();
                    assert!(s.length <= s.peak_length && s.total_dequeued <= s.total_enqueued, "{s:?}");
                }
                got
            })
        };
        producer.join().unwrap();
        let mut got = consumer.join().unwrap();
        let core = shared.core();
        while let Ok(buffer) = core.dequeue(0) {
            got.push(Handle(buffer.as_ptr()));
        }
        assert_eq!(got, [a, b], "first in, first out, each once");
        let s = core.queue_statistics(0).unwrap();
        assert_eq!((s.length, s.total_enqueued, s.total_dequeued), (0, 2, 2));
        for h in got {
            core.release(h.0).expect("the dequeued buffer is the caller's");
        }
    });
}

/// Two consumers race on one queue holding one buffer: exactly one gets it, the other finds
/// the queue empty, and the winner holds it (validate says so).
#[test]
fn manager_two_consumers_race_for_one_buffer() {
    check("manager_two_consumers_race_for_one_buffer", || {
        let shared = SharedManager::new(false);
        let core = shared.core();
        let a = Handle(core.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).expect("allocate").as_ptr());
        core.enqueue(1, a.0).expect("enqueue");
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || shared.core().dequeue(1).map(|b| Handle(b.as_ptr())))
            })
            .collect();
        let results: Vec<_> = consumers.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
        assert!(results.contains(&Ok(a)) && results.contains(&Err(Status::QueueEmpty)), "{results:?}");
        assert_eq!(core.validate(a.0), Ok(()));
        core.release(a.0).expect("release");
    });
}

/// An enqueue and a release of the same held buffer race: exactly one succeeds. If the
/// enqueue won, the release is refused as `BufferQueued` and the buffer waits in the queue; if
/// the release won, the enqueue is refused as `DoubleRelease` and the queue stays empty.
#[test]
fn manager_enqueue_races_release_of_one_buffer() {
    check("manager_enqueue_races_release_of_one_buffer", || {
        let shared = SharedManager::new(false);
        let buffer = Handle(shared.core().allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).expect("allocate").as_ptr());
        let enqueuer = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || shared.core().enqueue(0, buffer.0))
        };
        let releaser = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || shared.core().release(buffer.0))
        };
        let (enqueued, released) = (enqueuer.join().unwrap(), releaser.join().unwrap());
        let core = shared.core();
        let s = core.pool_statistics(primary());
        match (enqueued, released) {
            (Ok(()), Err(Status::BufferQueued)) => {
                assert_eq!(core.queue_statistics(0).unwrap().length, 1);
                assert_eq!((s.allocated_buffers, s.total_releases), (1, 0));
                assert_eq!(core.dequeue(0).map(|b| Handle(b.as_ptr())), Ok(buffer));
                core.release(buffer.0).expect("release after dequeue");
            }
            (Err(Status::DoubleRelease), Ok(())) => {
                assert_eq!(core.queue_statistics(0).unwrap().total_enqueued, 0);
                assert_eq!((s.allocated_buffers, s.total_releases), (0, 1));
            }
            other => panic!("not exactly one winner: {other:?}"),
        }
    });
}

/// Shutdown races a consumer that dequeues the last queued buffer and releases it: the
/// queued buffer keeps the manager in ShuttingDown, and the release completes the shutdown.
#[test]
fn manager_dequeue_races_shutdown() {
    check("manager_dequeue_races_shutdown", || {
        let shared = SharedManager::new(false);
        let core = shared.core();
        let queued = Handle(core.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).expect("allocate").as_ptr());
        core.enqueue(0, queued.0).expect("enqueue");
        let consumer = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let core = shared.core();
                let buffer = core.dequeue(0).expect("dequeue works while shutting down");
                assert_ne!(core.state(), AES5_STATE_SHUTDOWN, "shut down with a buffer held");
                core.release(buffer.as_ptr())
            })
        };
        let stopper = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || shared.core().shutdown())
        };
        let shutdown = stopper.join().unwrap();
        assert_eq!(consumer.join().unwrap(), Ok(()));
        // Ok when the consumer had released the buffer before the request.
        assert!(matches!(shutdown, Ok(()) | Err(Status::BuffersOutstanding)), "{shutdown:?}");
        assert_eq!(core.state(), AES5_STATE_SHUTDOWN, "the last release did not complete the shutdown");
    });
}

/// The held-buffer finder reads a buffer that is enqueued and dequeued meanwhile, with a clock
/// that gives every hand-off its own time (the enqueue and the dequeue read the next two
/// ticks after the allocation's): the entry it returns is one place of the buffer with exactly that place's time (or, for
/// a hand-off caught in its window, the finder's own `now`), never a place with another place's
/// time. (The finder's loop over the other, free, slots would add only steps to explore, so the
/// reader reads this buffer's entry alone.)
#[test]
fn manager_finder_reads_beside_hand_offs() {
    check_bounded("manager_finder_reads_beside_hand_offs", 1, || {
        use crate::observability::hand_offs::AES5_NO_QUEUE;
        const NOW: u64 = 99;
        let shared = SharedManager::ticking();
        let core = shared.core();
        let buffer = Handle(core.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).expect("allocate").as_ptr());
        // SAFETY: held by this thread until the mover starts.
        let allocated = unsafe { (*buffer.0).allocation_time_ns };
        let before = shared.ticks.load(Ordering::Relaxed);
        let mover = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let core = shared.core();
                core.enqueue(2, buffer.0).expect("enqueue");
                core.dequeue(2).expect("dequeue")
            })
        };
        let reader = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let core = shared.core();
                let slot = core.slot_of(buffer.0).expect("a header");
                let e = core.held_buffer(slot, NOW).expect("the buffer is never free here");
                assert_eq!(e.sequence_number, 1);
                let expected = match (e.queue, e.last_queue) {
                    (AES5_NO_QUEUE, AES5_NO_QUEUE) => allocated,
                    (2, AES5_NO_QUEUE) => before + 1,
                    (AES5_NO_QUEUE, 2) => before + 2,
                    _ => panic!("impossible place {e:?}"),
                };
                assert!(e.last_hand_off_ns == expected || e.last_hand_off_ns == NOW, "{e:?}: time of another place");
                assert!(e.allocation_time_ns == allocated || e.allocation_time_ns == NOW, "{e:?}");
            })
        };
        reader.join().unwrap();
        mover.join().unwrap();
        assert!(allocated > 0 && allocated <= before);
        assert_eq!(shared.ticks.load(Ordering::Relaxed), before + 2, "one clock read per hand-off");
        core.release(buffer.0).expect("release");
    });
}

// ---------------------------------------------------------------------------------------------
// The integrity sweep beside traffic.
// ---------------------------------------------------------------------------------------------

/// The sweep runs while a thread allocates a buffer, writes its caller fields and releases it:
/// it never takes an intact buffer for a damaged one (whatever it reads half-way: a stamp in
/// progress, caller fields being cleared), quarantines nothing and leaves the state alone.
#[test]
fn sweep_beside_allocate_and_release() {
    check_bounded("sweep_beside_allocate_and_release", 2, || {
        let shared = SharedManager::new(false);
        let user = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let core = shared.core();
                let buffer =
                    core.allocate(crate::types::buffer_type::AES5_BUFFER_TYPE_SCRATCH, &pcm()).expect("allocate");
                // SAFETY: held by this thread; caller fields may be written.
                unsafe { (*buffer.as_ptr()).timestamp_ns = 7 };
                core.release(buffer.as_ptr()).expect("release");
            })
        };
        let sweeper = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let mut report = crate::observability::integrity::IntegrityReport::default();
                // SAFETY: a local report.
                unsafe { shared.core().check_integrity(&mut report) };
                report
            })
        };
        user.join().unwrap();
        let report = sweeper.join().unwrap();
        assert_eq!((report.damaged_count, report.quarantined, report.damaged_free_headers), (0, 0, 0), "{report:?}");
        let core = shared.core();
        assert_eq!(core.state(), AES5_STATE_ACTIVE);
        let s = core.pool_statistics(BufferType::Scratch);
        assert_eq!((s.allocated_buffers, s.quarantined_buffers, s.total_releases), (0, 0, 1));
    });
}

/// A free buffer whose header was written after its release (the only free buffer of its
/// pool) is raced by an allocation and the sweep: exactly one gets it. Either the allocation
/// holds it (its stamp cleans the header) and the sweep quarantines nothing, or the sweep
/// quarantines it and the allocation finds the pool empty.
#[test]
fn sweep_races_allocate_for_a_damaged_free_buffer() {
    check_bounded("sweep_races_allocate_for_a_damaged_free_buffer", 2, || {
        use crate::types::buffer_type::AES5_BUFFER_TYPE_SCRATCH;
        let shared = SharedManager::new(false);
        let core = shared.core();
        let kept = Handle(core.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).expect("allocate").as_ptr());
        let dirty = Handle(core.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).expect("allocate").as_ptr());
        core.release(dirty.0).expect("release");
        // SAFETY: a write through a stale pointer after the release, on purpose.
        unsafe { (*dirty.0).processing_count = 3 };
        let allocator = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || shared.core().allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).map(|b| Handle(b.as_ptr())))
        };
        let sweeper = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let mut report = crate::observability::integrity::IntegrityReport::default();
                // SAFETY: a local report.
                unsafe { shared.core().check_integrity(&mut report) };
                report
            })
        };
        let allocated = allocator.join().unwrap();
        let report = sweeper.join().unwrap();
        match allocated {
            Ok(got) => {
                assert_eq!(got, dirty);
                assert_eq!(report.quarantined, 0, "quarantined a buffer an allocation holds: {report:?}");
                core.release(got.0).expect("the allocation's buffer is intact and its own");
            }
            Err(status) => {
                assert!(
                    matches!(status, Status::PoolExhausted | Status::InvalidState),
                    "allocation refused for {status:?}"
                );
                assert_eq!((report.quarantined, report.damaged_free_headers), (1, 1), "{report:?}");
                assert_eq!(core.pool_statistics(BufferType::Scratch).quarantined_buffers, 1);
            }
        }
        core.release(kept.0).expect("release");
    });
}
