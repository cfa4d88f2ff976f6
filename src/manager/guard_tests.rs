//! Guard zones at every hand-off, and the integrity sweep.

use crate::geometry::{GUARD_BYTES, SLOT_PLACES, TOTAL_SLOTS};
use crate::observability::integrity::IntegrityReport;
use crate::verification::test_fixture::*;
use core::ptr::NonNull;
use std::string::ToString;

fn sweep(m: &crate::manager::ManagerCore) -> IntegrityReport {
    let mut report = IntegrityReport::default();
    // SAFETY: a reference is valid for writes.
    unsafe { m.check_integrity(&mut report) };
    report
}

/// The byte `offset` bytes after the start of the data of `h` (negative: before it).
fn byte_at(h: NonNull<AudioBuffer>, offset: isize) -> *mut u8 {
    // SAFETY: the header is one of the manager's; the address stays inside the storage.
    unsafe { (*h.as_ptr()).data_pointer.offset(offset) }
}

fn capacity(h: NonNull<AudioBuffer>) -> isize {
    // SAFETY: as above.
    unsafe { (*h.as_ptr()).buffer_capacity_bytes as isize }
}

fn id(h: NonNull<AudioBuffer>) -> u32 {
    // SAFETY: as above.
    unsafe { (*h.as_ptr()).buffer_id }
}

#[test]
fn a_clean_manager_sweeps_clean() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let held = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    let r = sweep(m);
    assert_eq!(r, IntegrityReport { buffers_checked: TOTAL_SLOTS as u32, ..IntegrityReport::default() });
    m.release(held.as_ptr()).unwrap();
    assert_eq!(sweep(m).damaged_count, 0, "a released header is clean");
    assert_eq!(m.state(), AES5_STATE_ACTIVE);
}

#[test]
fn one_byte_past_the_end_of_each_pool_is_caught_at_release() {
    if GUARD_BYTES == 0 {
        return;
    }
    for ty in all_types() {
        let heard = Heard::default();
        let mut f = Fixture::new();
        let m = f.init(&logging(&heard)).unwrap();
        let h = m.allocate(ty, &pcm()).unwrap();
        let neighbour = m.allocate(ty, &pcm()).ok();
        // SAFETY: the byte right after the held buffer's data: its guard zone, damaged on purpose.
        unsafe { *byte_at(h, capacity(h)) ^= 0x5A };
        let state = m.state();
        assert_eq!(m.validate(h.as_ptr()), Err(Status::Corrupted), "validate reports it");
        assert_eq!((m.state(), m.metrics().overruns_detected), (state, 0), "validate changes nothing");
        assert_eq!(m.release(h.as_ptr()), Err(Status::Corrupted));
        assert_eq!(m.state(), AES5_STATE_ERROR);
        let metrics = m.metrics();
        assert_eq!((metrics.overruns_detected, metrics.corruption_detected), (1, 1));
        let s = m.pool_statistics(BufferType::from_raw(ty).unwrap());
        assert_eq!(s.quarantined_buffers, 1);
        let n = id(h);
        let expected = std::format!(
            "release: data written past the end of buffer {n} (into the guard zone it shares with buffer {}); quarantined now",
            n + 1
        );
        assert!(heard.lock().unwrap().contains(&expected), "{:?}", heard.lock().unwrap());
        // The neighbour's data was not reached: it is released as usual.
        if let Some(other) = neighbour {
            assert_eq!(m.release(other.as_ptr()), Ok(()));
        }
        assert_eq!(m.release(h.as_ptr()), Err(Status::Corrupted), "never back in service");
        assert_eq!(m.metrics().overruns_detected, 1, "counted once");
    }
}

#[test]
fn one_byte_before_the_first_buffer_is_caught_and_named() {
    if GUARD_BYTES == 0 {
        return;
    }
    let heard = Heard::default();
    let mut f = Fixture::new();
    let m = f.init(&logging(&heard)).unwrap();
    let first = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    assert_eq!(id(first), 0);
    // SAFETY: the byte before the first buffer's data: the first guard zone.
    unsafe { *byte_at(first, -1) ^= 1 }; // a changed byte, whatever the word held
    assert_eq!(m.enqueue(0, first.as_ptr()), Err(Status::Corrupted), "caught at the hand-off");
    let heard = heard.lock().unwrap();
    assert!(
        heard.contains(
            &"enqueue: data written before the start of buffer 0 (into the guard zone before the first buffer); \
              quarantined now"
                .to_string()
        ),
        "{heard:?}"
    );
    assert_eq!(m.metrics().overruns_detected, 1);
    assert_eq!(m.queue_statistics(0).unwrap().total_enqueued, 0);
}

#[test]
fn a_zeroed_zone_blames_both_neighbours_and_the_free_one_is_quarantined_by_the_sweep() {
    if GUARD_BYTES == 0 {
        return;
    }
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let a = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    let b = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    m.release(b.as_ptr()).unwrap();
    // An overrun of `a` through the whole zone into `b`'s data (b is free now).
    for offset in capacity(a)..capacity(a) + GUARD_BYTES as isize + 4 {
        // SAFETY: a's guard zone and the start of b's data, damaged on purpose.
        unsafe { *byte_at(a, offset) = 0 };
    }
    let r = sweep(m);
    assert_eq!((r.damaged_guards, r.damaged_free_headers, r.quarantined, r.damaged_count), (1, 0, 1, 2));
    assert_eq!(&r.damaged_ids[..2], &[id(a), id(b)]);
    assert_eq!(m.state(), AES5_STATE_ERROR, "damage found");
    assert_eq!(m.metrics().overruns_detected, 1, "b, quarantined by the sweep");
    assert_eq!(m.release(a.as_ptr()), Err(Status::Corrupted), "a, at its own release");
    assert_eq!(m.metrics().overruns_detected, 2);
    m.transition(AES5_STATE_READY).unwrap();
    // Neither comes back: every other Primary buffer can be allocated, these two never.
    let rest: Vec<_> = (0..POOLS[0].count - 2).map(|_| m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap()).collect();
    assert!(!rest.contains(&a) && !rest.contains(&b));
    assert_eq!(m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()), Err(Status::PoolExhausted));
    // A second sweep reports the same damage and quarantines nothing more.
    let again = sweep(m);
    assert_eq!((again.damaged_guards, again.quarantined), (1, 0));
}

#[test]
fn a_zone_copied_from_its_neighbour_fails() {
    if GUARD_BYTES == 0 {
        return;
    }
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let a = m.allocate(AES5_BUFFER_TYPE_CONVERSION, &pcm()).unwrap();
    let b = m.allocate(AES5_BUFFER_TYPE_CONVERSION, &pcm()).unwrap();
    // Copy the zone after `b` over the zone after `a` (the same length, other offsets).
    for offset in 0..GUARD_BYTES as isize {
        // SAFETY: two guard zones inside the storage.
        unsafe { *byte_at(a, capacity(a) + offset) = *byte_at(b, capacity(b) + offset) };
    }
    assert_eq!(m.release(b.as_ptr()), Err(Status::Corrupted), "b's own start word was overwritten too");
    assert_eq!(m.release(a.as_ptr()), Err(Status::Corrupted));
}

#[test]
fn damage_inside_a_zone_is_counted_but_blames_no_buffer() {
    if GUARD_BYTES < 12 {
        return;
    }
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let a = m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap();
    // SAFETY: a word in the middle of a's guard zone.
    unsafe { *byte_at(a, capacity(a) + 4) ^= 1 };
    let r = sweep(m);
    assert_eq!((r.damaged_guards, r.damaged_count, r.quarantined), (1, 0, 0));
    assert_eq!(m.release(a.as_ptr()), Ok(()), "a contiguous overrun would have changed the edge word first");
}

#[test]
fn a_header_written_after_release_is_found_by_the_sweep() {
    let heard = Heard::default();
    let mut f = Fixture::new();
    let m = f.init(&logging(&heard)).unwrap();
    let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    m.release(h.as_ptr()).unwrap();
    // SAFETY: a stale pointer written through after the release: the bug the sweep finds.
    unsafe { (*h.as_ptr()).timestamp_ns = 42 };
    let r = sweep(m);
    assert_eq!((r.damaged_free_headers, r.quarantined, r.damaged_count, r.damaged_ids[0]), (1, 1, 1, id(h)));
    assert_eq!(m.metrics().overruns_detected, 0, "a header, not a guard");
    assert_eq!(m.metrics().corruption_detected, 1);
    let expected =
        std::format!("check_integrity: buffer {} is free and its header was written after its release; quarantined by the integrity sweep", id(h));
    assert!(heard.lock().unwrap().contains(&expected), "{:?}", heard.lock().unwrap());
    m.transition(AES5_STATE_READY).unwrap();
    for _ in 0..POOLS[0].count - 1 {
        assert_ne!(m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()), Ok(h), "handed out again");
    }
    assert_eq!(m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()), Err(Status::PoolExhausted));
}

#[test]
fn without_validation_the_guards_are_not_checked_at_hand_offs() {
    if GUARD_BYTES == 0 {
        return;
    }
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig { enable_memory_validation: 0, ..RuntimeConfig::default() }).unwrap();
    let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    // SAFETY: the guard zone after the buffer, damaged on purpose.
    unsafe { *byte_at(h, capacity(h)) ^= 1 };
    assert_eq!(m.release(h.as_ptr()), Ok(()));
    // The sweep still finds it, and takes the free buffer out of service.
    let r = sweep(m);
    assert_eq!((r.damaged_guards, r.quarantined), (1, 1));
}

#[test]
fn the_sweep_beside_traffic_never_quarantines_an_intact_buffer() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let done = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..2u32 {
            let (m, done) = (&m, &done);
            s.spawn(move || {
                let _done = CountsWhenDone(done);
                for i in 0..20_000u32 {
                    if let Ok(h) = m.allocate((i + t) % 3, &pcm()) {
                        // SAFETY: held by this thread; caller fields may be written.
                        unsafe { (*h.as_ptr()).timestamp_ns = u64::from(i) };
                        m.release(h.as_ptr()).unwrap();
                    }
                }
            });
        }
        s.spawn(|| {
            while done.load(Ordering::SeqCst) < 2 {
                let r = sweep(m);
                assert_eq!((r.damaged_count, r.quarantined, r.damaged_guards), (0, 0, 0), "{r:?}");
                std::thread::yield_now();
            }
        });
    });
    assert_eq!(m.metrics().corruption_detected, 0);
    assert_eq!(m.state(), AES5_STATE_ACTIVE);
}

#[test]
fn every_guard_word_is_written_at_init_and_the_data_is_not() {
    if GUARD_BYTES == 0 {
        return;
    }
    let mut f = Fixture::new();
    for w in f.storage.opaque_words.iter_mut() {
        *w = 0xA5A5_A5A5_A5A5_A5A5;
    }
    let m = f.init(&RuntimeConfig::default()).unwrap();
    assert_eq!(sweep(m).damaged_guards, 0);
    let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    // SAFETY: the held buffer's data: init left the caller's bytes there.
    assert_eq!(unsafe { *byte_at(h, 0) }, 0xA5);
    assert_eq!(SLOT_PLACES[0].data_offset as usize, crate::geometry::LEAD_BYTES);
}
