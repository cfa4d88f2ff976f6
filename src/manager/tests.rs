//! The hot path: allocate, release and validate against every status of docs/DESIGN.md §4.

use crate::geometry::{DATA_ALIGNMENT, STORAGE_BYTES, TOTAL_SLOTS};
use crate::verification::test_fixture::*;
use core::ffi::{c_char, c_void};
use std::borrow::ToOwned;
use std::string::String;
use std::sync::atomic::AtomicUsize;

#[test]
fn allocate_hands_out_distinct_aligned_buffers_inside_the_storage() {
    let mut f = Fixture::new();
    let start = &*f.storage as *const _ as usize;
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let mut seen = Vec::new();
    for (p, ty) in all_types().into_iter().enumerate() {
        for _ in 0..POOLS[p].count {
            let h = m.allocate(ty, &pcm()).unwrap();
            // SAFETY: the buffer is held by this test.
            let h = unsafe { h.as_ref() };
            let data = h.data_pointer as usize;
            assert_eq!(data % DATA_ALIGNMENT, 0);
            assert!(data >= start && data + h.buffer_capacity_bytes <= start + STORAGE_BYTES);
            assert_eq!(h.buffer_capacity_bytes, POOLS[p].capacity);
            assert_eq!(h.data_size_bytes, 2 * 256 * 2);
            assert_eq!(u32::from(h.buffer_type), ty);
            assert_eq!(h.magic_number, crate::types::header::AES5_BUFFER_MAGIC);
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
        let held: Vec<_> = (0..POOLS[p].count).map(|_| m.allocate(ty, &pcm()).unwrap()).collect();
        let before = stable_view(&m.statistics());
        assert_eq!(m.allocate(ty, &pcm()), Err(Status::PoolExhausted));
        assert_eq!(stable_view(&m.statistics()), before);
        let s = m.pool_statistics(BufferType::from_raw(ty).unwrap());
        assert_eq!(s.allocation_failures, 1);
        assert_eq!(s.allocated_buffers as usize, POOLS[p].count);
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
fn a_quarantined_buffer_stays_out_of_service_even_with_its_header_repaired() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    // The second buffer of the pool (bit 1 of its words), so bit arithmetic is exercised.
    let first = m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap();
    let h = m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap();
    m.release(first.as_ptr()).unwrap();
    // SAFETY: the buffer is held by this test; damaged, then repaired, on purpose.
    unsafe { (*h.as_ptr()).checksum ^= 1 };
    assert_eq!(m.release(h.as_ptr()), Err(Status::Corrupted));
    // SAFETY: as above.
    unsafe { (*h.as_ptr()).checksum ^= 1 };
    assert_eq!(m.release(h.as_ptr()), Err(Status::Corrupted), "a quarantined buffer was released");
    assert_eq!(m.validate(h.as_ptr()), Err(Status::Corrupted));
    m.transition(AES5_STATE_READY).unwrap();
    let s = m.pool_statistics(BufferType::Scratch);
    assert_eq!((s.allocated_buffers, s.quarantined_buffers, s.total_releases), (0, 1, 1));
    let other = m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap();
    assert_ne!(other, h);
    assert_eq!(m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()), Err(Status::PoolExhausted));
}

#[test]
fn a_damaged_header_of_a_free_buffer_is_a_double_release_not_a_quarantine() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    m.release(h.as_ptr()).unwrap();
    // SAFETY: the header lies in the fixture's storage; damaged after release on purpose.
    unsafe { (*h.as_ptr()).checksum ^= 1 };
    let before = stable_view(&m.statistics());
    assert_eq!(m.release(h.as_ptr()), Err(Status::DoubleRelease));
    assert_eq!(stable_view(&m.statistics()), before, "a refused release changed a count");
    assert_eq!(m.state(), AES5_STATE_ACTIVE);
}

#[test]
fn data_size_above_capacity_counts_as_corruption() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    // SAFETY: held by the test; caller-owned field set out of range on purpose.
    unsafe { (*h.as_ptr()).data_size_bytes = POOLS[0].capacity + 1 };
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
fn without_memory_validation_a_damaged_header_is_not_handed_out_again() {
    // Found by fuzzing: the identity fields were stamped only at init, so a data pointer
    // overwritten by one owner reached the next owner of the buffer.
    let mut f = Fixture::new();
    let config = RuntimeConfig { enable_memory_validation: 0, ..RuntimeConfig::default() };
    let m = f.init(&config).unwrap();
    let h = m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap();
    // SAFETY: the test holds this header.
    let (data, id) = unsafe { ((*h.as_ptr()).data_pointer, (*h.as_ptr()).buffer_id) };
    // SAFETY: held by the test; damaged on purpose.
    unsafe {
        (*h.as_ptr()).data_pointer = data.wrapping_add(4096);
        (*h.as_ptr()).buffer_id ^= 0x55;
        (*h.as_ptr()).buffer_type = 9;
    }
    assert_eq!(m.release(h.as_ptr()), Ok(()));
    let again = m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap();
    assert_eq!(again, h, "the free list is LIFO: the same buffer comes back");
    // SAFETY: held by the test.
    let header = unsafe { &*again.as_ptr() };
    assert_eq!((header.data_pointer, header.buffer_id, header.buffer_type), (data, id, 2));
    assert_eq!(m.validate(again.as_ptr()), Ok(()));
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

/// What the two log callbacks heard: (callback, status, operation, detail).
static HEARD: std::sync::Mutex<Vec<(&str, u32, String, String)>> = std::sync::Mutex::new(Vec::new());

fn text(s: *const c_char) -> String {
    // SAFETY: the library passes static NUL-terminated strings.
    unsafe { core::ffi::CStr::from_ptr(s) }.to_str().unwrap().to_owned()
}

unsafe extern "C" fn hear(_ctx: *mut c_void, status: u32, operation: *const c_char) {
    HEARD.lock().unwrap().push(("log", status, text(operation), String::new()));
}

unsafe extern "C" fn hear_detail(_ctx: *mut c_void, status: u32, operation: *const c_char, detail: *const c_char) {
    HEARD.lock().unwrap().push(("log_detail", status, text(operation), text(detail)));
}

/// The reason `log_detail` gives for `problem`.
fn reason(problem: crate::types::format_problem::Aes5FormatProblem) -> String {
    std::str::from_utf8(crate::types::format_problem::describe_problem(problem))
        .unwrap()
        .trim_end_matches('\0')
        .to_owned()
}

/// A format that fills exactly the capacity of a pool's buffer (2 channels of 16 bits).
fn exactly(capacity: usize) -> AudioFormat {
    AudioFormat { frame_size_samples: (capacity / 4) as u16, ..pcm() }
}

#[test]
fn a_format_of_exactly_the_capacity_fits_and_one_frame_more_is_named_as_too_large() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    use crate::types::format_problem::{AES5_FORMAT_ABOVE_CAPACITY, AES5_FORMAT_OK, AES5_FORMAT_RATE_NOT_AES5};
    for (pool, capacity) in POOLS.iter().map(|shape| shape.capacity).enumerate() {
        let fits = exactly(capacity);
        let above = AudioFormat { frame_size_samples: fits.frame_size_samples + 1, ..fits };
        assert_eq!(m.format_problem_for(&fits, pool), AES5_FORMAT_OK, "pool {pool}");
        assert_eq!(m.format_problem_for(&above, pool), AES5_FORMAT_ABOVE_CAPACITY, "pool {pool}");
        let odd_rate = AudioFormat { sample_rate_hz: 47_999, ..fits };
        assert_eq!(m.format_problem_for(&odd_rate, pool), AES5_FORMAT_RATE_NOT_AES5);
        let ty = all_types()[pool];
        let held = m.allocate(ty, &fits).expect("a format of exactly the capacity fits");
        // SAFETY: the buffer is held by this test.
        assert_eq!(unsafe { held.as_ref() }.data_size_bytes, capacity);
        assert_eq!(m.allocate(ty, &above), Err(Status::FormatTooLarge));
        m.release(held.as_ptr()).unwrap();
    }
}

#[test]
fn each_log_callback_alone_hears_a_refused_format_and_log_detail_names_the_problem() {
    use crate::types::format_problem::{AES5_FORMAT_ABOVE_CAPACITY, AES5_FORMAT_RATE_NOT_AES5};
    let capacity = POOLS[0].capacity;
    let above = AudioFormat { frame_size_samples: exactly(capacity).frame_size_samples + 1, ..pcm() };
    let odd_rate = AudioFormat { sample_rate_hz: 47_999, ..pcm() };
    let only_log = RuntimeConfig { enable_debug_logging: 1, log: Some(hear), ..RuntimeConfig::default() };
    let only_detail =
        RuntimeConfig { enable_debug_logging: 1, log_detail: Some(hear_detail), ..RuntimeConfig::default() };
    for config in [only_log, only_detail] {
        let mut f = Fixture::new();
        let m = f.init(&config).unwrap();
        HEARD.lock().unwrap().clear();
        assert_eq!(m.allocate(AES5_BUFFER_TYPE_PRIMARY, &odd_rate), Err(Status::UnsupportedFormat));
        assert_eq!(m.allocate(AES5_BUFFER_TYPE_PRIMARY, &above), Err(Status::FormatTooLarge));
        let heard = std::mem::take(&mut *HEARD.lock().unwrap());
        let callback = if config.log.is_some() { "log" } else { "log_detail" };
        let expected: Vec<_> = [
            (Status::UnsupportedFormat, AES5_FORMAT_RATE_NOT_AES5),
            (Status::FormatTooLarge, AES5_FORMAT_ABOVE_CAPACITY),
        ]
        .into_iter()
        .map(|(status, problem)| {
            let detail = if callback == "log" { String::new() } else { reason(problem) };
            (callback, status.code(), "allocate".to_owned(), detail)
        })
        .collect();
        assert_eq!(heard, expected);
    }
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
fn a_format_accepted_before_stamps_the_same_header_and_keeps_every_refusal() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig { max_channels: 2, ..RuntimeConfig::default() }).unwrap();
    // The first allocation validates the format and remembers it; the second finds it.
    let kept = |n: usize| n.min(crate::geometry::ACCEPTED_FORMATS);
    let first = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    assert_eq!(m.accepted_formats.published(), kept(1));
    let second = m.allocate(AES5_BUFFER_TYPE_CONVERSION, &pcm()).unwrap();
    assert_eq!(m.accepted_formats.published(), kept(1), "found, not remembered again");
    // SAFETY: both buffers are held by this test.
    let (a, b) = unsafe { (first.as_ref(), second.as_ref()) };
    assert_eq!((a.format(), b.format()), (pcm(), pcm()));
    assert_eq!((a.data_size_bytes, b.data_size_bytes), (2 * 256 * 2, 2 * 256 * 2));
    assert_eq!(u32::from(b.buffer_type), AES5_BUFFER_TYPE_CONVERSION);
    for h in [first, second] {
        m.validate(h.as_ptr()).unwrap();
        m.release(h.as_ptr()).unwrap();
    }
    // A format too large for its pool is valid, so it is remembered, and still refused every
    // time: the capacity is checked whether the format was found or validated.
    let large = AudioFormat::pcm(48_000, 2, 32, 1024);
    for _ in 0..2 {
        assert_eq!(m.allocate(AES5_BUFFER_TYPE_PRIMARY, &large), Err(Status::FormatTooLarge));
    }
    assert_eq!(m.accepted_formats.published(), kept(2));
    // A format outside this manager's limits is never remembered.
    for _ in 0..2 {
        assert_eq!(
            m.allocate(AES5_BUFFER_TYPE_PRIMARY, &AudioFormat::pcm(48_000, 4, 16, 16)),
            Err(Status::UnsupportedFormat)
        );
    }
    assert_eq!(m.accepted_formats.published(), kept(2));
}

#[test]
fn with_monitoring_off_the_first_allocation_activates_and_a_crowded_pool_warns() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig { enable_performance_monitoring: 0, ..RuntimeConfig::default() }).unwrap();
    assert_eq!(m.state(), AES5_STATE_READY);
    let first = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    assert_eq!(m.state(), AES5_STATE_ACTIVE, "Ready -> Active on the first allocation");
    // The Scratch pool full is above 90 %: its last allocation enters Warning.
    let count = crate::geometry::POOLS[2].count;
    let scratch: Vec<_> = (0..count).map(|_| m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap()).collect();
    assert_eq!(m.state(), AES5_STATE_WARNING, "a crowded pool warns without monitoring");
    for h in scratch.into_iter().chain([first]) {
        m.release(h.as_ptr()).unwrap();
    }
    assert_eq!(m.state(), AES5_STATE_ACTIVE, "the pressure ended");
}
