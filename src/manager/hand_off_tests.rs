//! Enqueue, dequeue, queue statistics and the held-buffer finder against every status of
//! docs/DESIGN.md §4.

use crate::geometry::{QUEUE_COUNT, TOTAL_SLOTS};
use crate::observability::hand_offs::{HeldBuffer, QueueStatistics, AES5_NO_QUEUE};
use crate::observability::report::{AES5_NO_BUFFER, AES5_WARNING_LONG_HOLD};
use crate::verification::test_fixture::*;
use core::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize};

/// What a refused call must leave alone: the pools' holdings and every queue's statistics.
type Holdings = (Vec<(u32, u32, u64, u64, u32)>, Vec<QueueStatistics>);

fn everything(m: &crate::manager::ManagerCore) -> Holdings {
    let queues = (0..QUEUE_COUNT as u32).map(|q| m.queue_statistics(q).unwrap()).collect();
    (stable_view(&m.statistics()), queues)
}

fn finder(m: &crate::manager::ManagerCore) -> Vec<HeldBuffer> {
    let mut entries = [HeldBuffer::default(); TOTAL_SLOTS];
    // SAFETY: the array holds `TOTAL_SLOTS` entries.
    let found = unsafe { m.write_held_buffers(entries.as_mut_ptr(), TOTAL_SLOTS as u32) };
    entries[..found as usize].to_vec()
}

#[test]
fn buffers_pass_through_a_queue_first_in_first_out() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let held: Vec<_> = all_types().into_iter().map(|ty| m.allocate(ty, &pcm()).unwrap()).collect();
    for h in &held {
        m.enqueue(1, h.as_ptr()).unwrap();
    }
    let s = m.queue_statistics(1).unwrap();
    assert_eq!((s.length, s.peak_length, s.total_enqueued, s.total_dequeued), (3, 3, 3, 0));
    // Queued buffers still count as allocated (they are not free).
    assert_eq!(m.statistics().buffer_type_stats[0].allocated_buffers, 1);
    for h in &held {
        assert_eq!(m.dequeue(1), Ok(*h));
        assert_eq!(m.validate(h.as_ptr()), Ok(()), "a dequeued buffer is the caller's");
    }
    assert_eq!(m.dequeue(1), Err(Status::QueueEmpty));
    let s = m.queue_statistics(1).unwrap();
    assert_eq!((s.length, s.peak_length, s.total_enqueued, s.total_dequeued), (0, 3, 3, 3));
    for h in held {
        m.release(h.as_ptr()).unwrap();
    }
    let stats = m.statistics();
    assert!(stats
        .buffer_type_stats
        .iter()
        .all(|p| p.allocated_buffers == 0 && p.total_releases == p.total_allocations));
}

#[test]
fn every_buffer_fits_in_one_queue_and_the_ring_laps() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let mut held = Vec::new();
    for (p, ty) in all_types().into_iter().enumerate() {
        held.extend((0..POOLS[p].count).map(|_| m.allocate(ty, &pcm()).unwrap()));
    }
    for round in 0..50 {
        for h in &held {
            m.enqueue(0, h.as_ptr()).unwrap();
        }
        assert_eq!(m.queue_statistics(0).unwrap().length as usize, TOTAL_SLOTS, "round {round}");
        for h in &held {
            assert_eq!(m.dequeue(0), Ok(*h));
        }
    }
    assert_eq!(m.queue_statistics(0).unwrap().peak_length as usize, TOTAL_SLOTS);
}

#[test]
fn a_queued_buffer_belongs_to_the_queue() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    m.enqueue(2, h.as_ptr()).unwrap();
    let before = everything(m);
    let failures = m.metrics().hand_off_failures;
    assert_eq!(m.release(h.as_ptr()), Err(Status::BufferQueued));
    assert_eq!(m.enqueue(2, h.as_ptr()), Err(Status::BufferQueued));
    assert_eq!(m.enqueue(0, h.as_ptr()), Err(Status::BufferQueued));
    assert_eq!(m.validate(h.as_ptr()), Err(Status::BufferQueued));
    assert_eq!(everything(m), before, "refused calls changed something");
    assert_eq!(m.metrics().hand_off_failures, failures + 2);
    assert_eq!(m.dequeue(2), Ok(h));
    m.release(h.as_ptr()).unwrap();
}

#[test]
fn bad_hand_offs_get_their_status_and_change_nothing() {
    let mut f = Fixture::new();
    let mut g = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let other = g.init(&RuntimeConfig::default()).unwrap();
    let h = m.allocate(AES5_BUFFER_TYPE_CONVERSION, &pcm()).unwrap();
    let freed = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    m.release(freed.as_ptr()).unwrap();
    let theirs = other.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    // SAFETY: only an address is formed; the library must not read it.
    let inside = unsafe { h.as_ptr().cast::<u8>().add(8).cast::<AudioBuffer>() };
    let before = everything(m);
    let validation_before = m.statistics().validation_failures;
    for queue in [QUEUE_COUNT as u32, u32::MAX] {
        assert_eq!(m.enqueue(queue, h.as_ptr()), Err(Status::InvalidArgument));
        assert_eq!(m.dequeue(queue), Err(Status::InvalidArgument));
        assert_eq!(m.queue_statistics(queue), None);
    }
    assert_eq!(m.enqueue(0, freed.as_ptr()), Err(Status::DoubleRelease));
    for foreign in [theirs.as_ptr() as *const AudioBuffer, inside, 8 as *const AudioBuffer] {
        assert_eq!(m.enqueue(0, foreign), Err(Status::ForeignBuffer));
    }
    assert_eq!(m.dequeue(0), Err(Status::QueueEmpty));
    assert_eq!(everything(m), before);
    // Two invalid queue numbers, a double release, three foreign pointers.
    assert_eq!(m.statistics().validation_failures, validation_before + 6);
    assert_eq!(m.metrics().hand_off_failures, 6);
    m.release(h.as_ptr()).unwrap();
}

#[test]
fn a_damaged_header_is_quarantined_at_enqueue() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let h = m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap();
    // SAFETY: held by the test; a library-owned field damaged on purpose.
    unsafe { (*h.as_ptr()).sample_rate_hz = 44_100 };
    assert_eq!(m.enqueue(0, h.as_ptr()), Err(Status::Corrupted));
    assert_eq!(m.state(), AES5_STATE_ERROR);
    assert_eq!(m.queue_statistics(0).unwrap().total_enqueued, 0);
    assert_eq!(m.pool_statistics(BufferType::Scratch).quarantined_buffers, 1);
    assert_eq!(m.enqueue(0, h.as_ptr()), Err(Status::Corrupted));
    assert_eq!(m.release(h.as_ptr()), Err(Status::Corrupted));
    assert_eq!(m.metrics().corruption_detected, 1);
    assert!(finder(m).is_empty(), "a quarantined buffer is not listed");
}

#[test]
fn hand_offs_work_in_every_state_release_works_in() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let a = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    let b = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    m.enqueue(0, a.as_ptr()).unwrap();
    // Queued buffers are outstanding: shutdown waits for them.
    assert_eq!(m.shutdown(), Err(Status::BuffersOutstanding));
    m.enqueue(0, b.as_ptr()).unwrap();
    assert_eq!(m.dequeue(0), Ok(a));
    m.release(a.as_ptr()).unwrap();
    assert_eq!(m.state(), AES5_STATE_SHUTTING_DOWN);
    assert_eq!(m.dequeue(0), Ok(b));
    m.release(b.as_ptr()).unwrap();
    assert_eq!(m.state(), AES5_STATE_SHUTDOWN);
    assert_eq!(m.dequeue(0), Err(Status::InvalidState));
    assert_eq!(m.enqueue(0, b.as_ptr()), Err(Status::InvalidState));
}

#[test]
fn the_finder_says_who_holds_each_buffer_and_since_when() {
    static NOW: AtomicU64 = AtomicU64::new(1_000);
    unsafe extern "C" fn clock(_: *mut core::ffi::c_void) -> u64 {
        NOW.load(Ordering::SeqCst)
    }
    let mut f = Fixture::new();
    let config = RuntimeConfig { now_ns: Some(clock), max_hold_ns: 5_000, ..RuntimeConfig::default() };
    let m = f.init(&config).unwrap();
    if !crate::geometry::MONITORING_BUILT {
        return;
    }
    assert!(finder(m).is_empty());
    let a = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    NOW.store(2_000, Ordering::SeqCst);
    let b = m.allocate(AES5_BUFFER_TYPE_CONVERSION, &pcm()).unwrap();
    NOW.store(3_000, Ordering::SeqCst);
    m.enqueue(3, b.as_ptr()).unwrap();
    let entries = finder(m);
    // SAFETY: both buffers are this test's (held, or queued by it).
    let (id_a, id_b) = unsafe { ((*a.as_ptr()).buffer_id, (*b.as_ptr()).buffer_id) };
    let expected_a = HeldBuffer {
        buffer_id: id_a,
        buffer_type: AES5_BUFFER_TYPE_PRIMARY,
        sequence_number: 1,
        queue: AES5_NO_QUEUE,
        last_queue: AES5_NO_QUEUE,
        allocation_time_ns: 1_000,
        last_hand_off_ns: 1_000,
    };
    let expected_b = HeldBuffer {
        buffer_id: id_b,
        buffer_type: AES5_BUFFER_TYPE_CONVERSION,
        sequence_number: 1,
        queue: 3,
        last_queue: AES5_NO_QUEUE,
        allocation_time_ns: 2_000,
        last_hand_off_ns: 3_000,
    };
    assert_eq!(entries, [expected_a, expected_b]);
    NOW.store(4_000, Ordering::SeqCst);
    assert_eq!(m.dequeue(3), Ok(b));
    let entries = finder(m);
    assert_eq!(entries[1], HeldBuffer { queue: AES5_NO_QUEUE, last_queue: 3, last_hand_off_ns: 4_000, ..expected_b });
    // Counting only, and a short array.
    // SAFETY: a NULL array with capacity 0 is never written; the one-entry array holds one.
    unsafe {
        assert_eq!(m.write_held_buffers(core::ptr::null_mut(), 0), 2);
        let mut one = [HeldBuffer::default()];
        assert_eq!(m.write_held_buffers(one.as_mut_ptr(), 1), 2);
        assert_eq!(one[0], expected_a);
    }
    // The report names the oldest hand-off, and warns once it is older than max_hold_ns.
    NOW.store(6_000, Ordering::SeqCst);
    let r = m.performance_report(0);
    assert_eq!((r.oldest_hand_off_buffer_id, r.oldest_hand_off_age_ns), (id_a, 5_000));
    assert_eq!(r.warnings & AES5_WARNING_LONG_HOLD, 0, "exactly max_hold_ns is not longer");
    NOW.store(6_001, Ordering::SeqCst);
    assert_ne!(m.performance_report(0).warnings & AES5_WARNING_LONG_HOLD, 0);
    m.release(a.as_ptr()).unwrap();
    m.release(b.as_ptr()).unwrap();
    let r = m.performance_report(0);
    assert_eq!((r.oldest_hand_off_buffer_id, r.oldest_hand_off_age_ns), (AES5_NO_BUFFER, 0));
    assert_eq!(r.warnings & AES5_WARNING_LONG_HOLD, 0);
}

#[test]
fn without_a_clock_the_finder_still_finds_and_the_hold_check_is_silent() {
    let mut f = Fixture::new();
    let config = RuntimeConfig { enable_performance_monitoring: 0, max_hold_ns: 1_000, ..RuntimeConfig::default() };
    let m = f.init(&config).unwrap();
    let a = m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap();
    m.enqueue(0, a.as_ptr()).unwrap();
    let entries = finder(m);
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].queue, entries[0].last_hand_off_ns, entries[0].allocation_time_ns), (0, 0, 0));
    let r = m.performance_report(0);
    assert_eq!((r.warnings & AES5_WARNING_LONG_HOLD, r.oldest_hand_off_buffer_id), (0, AES5_NO_BUFFER));
    assert_eq!(m.dequeue(0), Ok(a));
    m.release(a.as_ptr()).unwrap();
}

/// A header pointer that may cross threads in these tests.
#[derive(Clone, Copy)]
struct Shared(NonNull<AudioBuffer>);
// SAFETY: only the address crosses; the library proves it before use.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl Shared {
    fn ptr(self) -> *mut AudioBuffer {
        self.0.as_ptr()
    }
}

#[test]
fn of_an_enqueue_and_a_release_of_one_buffer_exactly_one_wins() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    for _ in 0..2_000 {
        let h = Shared(m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap());
        let wins = AtomicUsize::new(0);
        let (enqueued, released) = std::thread::scope(|s| {
            let e = s.spawn(move || m.enqueue(0, h.ptr()));
            let r = s.spawn(move || m.release(h.ptr()));
            (e.join().unwrap(), r.join().unwrap())
        });
        for outcome in [enqueued, released] {
            if outcome.is_ok() {
                wins.fetch_add(1, Ordering::SeqCst);
            }
        }
        assert_eq!(wins.load(Ordering::SeqCst), 1, "enqueue {enqueued:?}, release {released:?}");
        if enqueued.is_ok() {
            assert_eq!(released, Err(Status::BufferQueued));
            assert_eq!(m.dequeue(0), Ok(h.0));
            m.release(h.0.as_ptr()).unwrap();
        } else {
            assert_eq!(enqueued, Err(Status::DoubleRelease));
        }
    }
    let s = m.pool_statistics(BufferType::Primary);
    assert_eq!((s.allocated_buffers, s.total_allocations, s.total_releases), (0, 2_000, 2_000));
}

#[test]
fn a_pipeline_of_threads_loses_and_duplicates_nothing() {
    // Stage 1 allocates, tags and enqueues to queue 0; two stage-2 threads race to dequeue
    // from queue 0, check the tag and hand on to queue 1; stage 3 dequeues, checks and
    // releases. A reader checks the queues' invariants all along.
    const FRAMES: u32 = 20_000;
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let done = AtomicUsize::new(0);
    let released = AtomicU32::new(0);
    // Not a timing assertion: a stage that panicked must not leave the others spinning for
    // ever, so every loop gives up (and fails the test) after a minute.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let in_time = || assert!(std::time::Instant::now() < deadline, "the pipeline stalled");
    let tag = |h: NonNull<AudioBuffer>| {
        // SAFETY: the caller holds the buffer; its data holds at least 4 bytes.
        unsafe { (*h.as_ptr()).data_pointer.cast::<u32>() }
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut sent = 0;
            while sent < FRAMES {
                in_time();
                match m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()) {
                    Ok(h) => {
                        // SAFETY: held by this thread.
                        unsafe { tag(h).write(sent) };
                        m.enqueue(0, h.as_ptr()).unwrap();
                        sent += 1;
                    }
                    Err(_) => std::thread::yield_now(),
                }
            }
            done.fetch_add(1, Ordering::SeqCst);
        });
        for _ in 0..2 {
            s.spawn(|| {
                while released.load(Ordering::SeqCst) < FRAMES {
                    in_time();
                    match m.dequeue(0) {
                        Ok(h) => {
                            // SAFETY: dequeued by this thread alone.
                            unsafe { tag(h).write(tag(h).read() | 0x8000_0000) };
                            m.enqueue(1, h.as_ptr()).unwrap();
                        }
                        // Five threads share the cores: let the others run.
                        Err(_) => std::thread::yield_now(),
                    }
                }
            });
        }
        s.spawn(|| {
            let mut seen = std::collections::HashSet::new();
            while (seen.len() as u32) < FRAMES {
                in_time();
                let Ok(h) = m.dequeue(1) else {
                    std::thread::yield_now();
                    continue;
                };
                {
                    // SAFETY: dequeued by this thread alone.
                    let value = unsafe { tag(h).read() };
                    assert_eq!(value & 0x8000_0000, 0x8000_0000, "skipped the middle stage");
                    assert!(seen.insert(value & 0x7FFF_FFFF), "frame {value:#x} arrived twice");
                    m.release(h.as_ptr()).unwrap();
                    released.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        s.spawn(|| {
            while released.load(Ordering::SeqCst) < FRAMES {
                in_time();
                for q in 0..2 {
                    let s = m.queue_statistics(q).unwrap();
                    assert!(s.length <= s.peak_length && s.total_dequeued <= s.total_enqueued);
                    assert!(s.length as usize <= TOTAL_SLOTS);
                }
                assert!(finder(m).len() <= TOTAL_SLOTS);
                std::thread::yield_now();
            }
        });
    });
    for q in 0..2 {
        let s = m.queue_statistics(q).unwrap();
        assert_eq!((s.length, s.total_enqueued, s.total_dequeued), (0, u64::from(FRAMES), u64::from(FRAMES)));
    }
    assert!(finder(m).is_empty());
    let p = m.pool_statistics(BufferType::Primary);
    assert_eq!((p.allocated_buffers, p.total_allocations, p.total_releases), (0, u64::from(FRAMES), u64::from(FRAMES)));
    assert_eq!(done.load(Ordering::SeqCst), 1);
}

#[test]
fn the_report_names_the_oldest_hand_off_whatever_the_buffer_order() {
    static NOW: AtomicU64 = AtomicU64::new(1_000);
    unsafe extern "C" fn clock(_: *mut core::ffi::c_void) -> u64 {
        NOW.load(Ordering::SeqCst)
    }
    if !crate::geometry::MONITORING_BUILT {
        return;
    }
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig { now_ns: Some(clock), ..RuntimeConfig::default() }).unwrap();
    // The older buffer has the higher id (a Conversion buffer, allocated first).
    let older = m.allocate(AES5_BUFFER_TYPE_CONVERSION, &pcm()).unwrap();
    NOW.store(4_000, Ordering::SeqCst);
    let younger = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    let tie = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    NOW.store(10_000, Ordering::SeqCst);
    let r = m.performance_report(0);
    // SAFETY: held by the test.
    let (older_id, younger_id) = unsafe { ((*older.as_ptr()).buffer_id, (*younger.as_ptr()).buffer_id) };
    assert!(older_id > younger_id);
    assert_eq!((r.oldest_hand_off_buffer_id, r.oldest_hand_off_age_ns), (older_id, 9_000));
    m.release(older.as_ptr()).unwrap();
    // Two buffers of the same age: the lower id is named.
    let r = m.performance_report(0);
    assert_eq!((r.oldest_hand_off_buffer_id, r.oldest_hand_off_age_ns), (younger_id, 6_000));
    m.release(younger.as_ptr()).unwrap();
    m.release(tie.as_ptr()).unwrap();
}
