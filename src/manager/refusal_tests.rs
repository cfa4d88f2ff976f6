//! Every refusal reason, produced by the call that has it, read back from the last-refusal
//! record and heard by `log_detail` with the same text.

use crate::geometry::{GUARD_BYTES, POOLS, QUEUE_COUNT, TOTAL_SLOTS};
use crate::manager::refusal::LastRefusal;
use crate::manager::ManagerCore;
use crate::observability::integrity::IntegrityReport;
use crate::observability::report::AES5_NO_BUFFER;
use crate::types::format_problem::AES5_FORMAT_NO_CHANNELS;
use crate::types::refusal_reason::*;
use crate::verification::test_fixture::*;
use core::ffi::CStr;
use core::mem::MaybeUninit;
use core::ptr::NonNull;
use std::string::String;

/// The last refusal and its text.
fn last(m: &ManagerCore) -> (LastRefusal, String) {
    let mut out = MaybeUninit::<LastRefusal>::uninit();
    // SAFETY: `out` is valid for writes; `last_refusal` writes every field.
    let r = unsafe {
        m.last_refusal(out.as_mut_ptr());
        out.assume_init()
    };
    // SAFETY: the text and the operation name are NUL-terminated.
    let (text, operation) =
        unsafe { (CStr::from_ptr(r.text.as_ptr()).to_string_lossy(), CStr::from_ptr(r.operation).to_string_lossy()) };
    (r, std::format!("{operation}: {text}"))
}

/// What one refusal must be: its status, reason, numbers and a part of its text.
struct Expected<'a> {
    status: Status,
    reason: Aes5RefusalReason,
    subject: u32,
    detail: u32,
    quarantined_now: bool,
    says: &'a str,
}

/// A refusal that quarantined nothing.
fn x(status: Status, reason: Aes5RefusalReason, subject: u32, detail: u32, says: &str) -> Expected<'_> {
    Expected { status, reason, subject, detail, quarantined_now: false, says }
}

/// Checks that the last refusal is `expected`, the next number after `number`, and that
/// `log_detail` heard the same text last.
fn check(m: &ManagerCore, heard: &Heard, number: &mut u32, expected: Expected) {
    let (r, text) = last(m);
    *number += 1;
    assert_eq!(r.number, *number, "{text}");
    assert_eq!((r.status, r.reason), (expected.status.code(), expected.reason), "{text}");
    assert_eq!((r.subject, r.detail, r.quarantined_now), (expected.subject, expected.detail, expected.quarantined_now));
    assert!(text.contains(expected.says), "{text:?} should say {:?}", expected.says);
    assert_eq!(heard.lock().unwrap().last(), Some(&text), "log_detail heard the same text");
}

/// A copy of the header of `h`, a buffer the test holds.
fn header(h: NonNull<AudioBuffer>) -> AudioBuffer {
    // SAFETY: a header of a live manager, readable.
    unsafe { *h.as_ptr() }
}

fn id(h: NonNull<AudioBuffer>) -> u32 {
    header(h).buffer_id
}

#[test]
fn a_new_manager_has_no_refusal() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    let (r, text) = last(m);
    assert_eq!((r.number, r.status, r.reason, r.subject, r.detail), (0, 0, AES5_REFUSAL_NONE, 0, 0));
    assert_eq!(text, ": no refusal since init");
}

#[test]
fn allocation_refusals_name_the_type_the_rule_and_the_pool() {
    let heard = Heard::default();
    let mut f = Fixture::new();
    let m = f.init(&logging(&heard)).unwrap();
    let mut n = 0;
    let e = x;
    assert_eq!(m.allocate(9, &pcm()), Err(Status::InvalidArgument));
    check(
        m,
        &heard,
        &mut n,
        e(Status::InvalidArgument, AES5_REFUSAL_BAD_BUFFER_TYPE, 9, 0, "allocate: buffer type 9 is not"),
    );
    assert_eq!(m.allocate(AES5_BUFFER_TYPE_INPUT, &pcm()), Err(Status::NoPoolForType));
    check(m, &heard, &mut n, e(Status::NoPoolForType, AES5_REFUSAL_NO_POOL, 3, 0, "buffer type 3 (Input) has no pool"));
    let silent = AudioFormat { channel_count: 0, ..pcm() };
    assert_eq!(m.allocate(AES5_BUFFER_TYPE_SCRATCH, &silent), Err(Status::UnsupportedFormat));
    check(
        m,
        &heard,
        &mut n,
        e(Status::UnsupportedFormat, AES5_REFUSAL_BAD_FORMAT, AES5_FORMAT_NO_CHANNELS, 2, "channel_count is 0"),
    );
    let held: Vec<_> = (0..POOLS[0].count).map(|_| m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap()).collect();
    assert_eq!(m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()), Err(Status::PoolExhausted));
    let says =
        std::format!("all {} buffers of the Primary pool ({} bytes each) are held", POOLS[0].count, POOLS[0].capacity);
    check(m, &heard, &mut n, e(Status::PoolExhausted, AES5_REFUSAL_POOL_EXHAUSTED, 0, POOLS[0].count as u32, &says));
    for h in held {
        m.release(h.as_ptr()).unwrap();
    }
}

#[test]
fn a_foreign_pointer_is_placed_outside_in_a_data_area_in_a_header_in_a_guard_or_in_the_records() {
    let heard = Heard::default();
    let mut f = Fixture::new();
    let m = f.init(&logging(&heard)).unwrap();
    let h = m.allocate(AES5_BUFFER_TYPE_CONVERSION, &pcm()).unwrap();
    let before = stable_view(&m.statistics());
    let mut n = 0;
    fn e(reason: Aes5RefusalReason, subject: u32, detail: u32, says: &str) -> Expected<'_> {
        x(Status::ForeignBuffer, reason, subject, detail, says)
    }
    // Only addresses are formed below (wrapping arithmetic): the library must not read them.
    let copy = header(h);
    assert_eq!(m.release(&copy), Err(Status::ForeignBuffer));
    check(
        m,
        &heard,
        &mut n,
        e(AES5_REFUSAL_OUTSIDE_STORAGE, 0, 0, "release: the pointer is outside this manager's storage"),
    );
    let data = header(h).data_pointer;
    assert_eq!(m.enqueue(0, data.cast()), Err(Status::ForeignBuffer));
    check(m, &heard, &mut n, e(AES5_REFUSAL_DATA_POINTER, id(h), 0, "enqueue: the pointer is 0 bytes into buffer"));
    assert_eq!(m.validate(data.wrapping_add(100).cast()), Err(Status::ForeignBuffer));
    check(
        m,
        &heard,
        &mut n,
        e(AES5_REFUSAL_DATA_POINTER, id(h), 100, "pass the buffer's header, not its data pointer"),
    );
    let inside = h.as_ptr().cast::<u8>().wrapping_add(8);
    assert_eq!(m.release(inside.cast()), Err(Status::ForeignBuffer));
    check(m, &heard, &mut n, e(AES5_REFUSAL_INSIDE_HEADER, id(h), 8, "at offset 8 of buffer"));
    if GUARD_BYTES > 0 {
        let zone = data.wrapping_add(header(h).buffer_capacity_bytes + 4);
        assert_eq!(m.release(zone.cast()), Err(Status::ForeignBuffer));
        let next = id(h) + 1;
        let says = std::format!("in the guard zone before buffer {next}'s data");
        check(m, &heard, &mut n, e(AES5_REFUSAL_GUARD_ZONE_POINTER, next, 4, &says));
    }
    let records = (m as *const ManagerCore).cast::<u8>().wrapping_add(4);
    assert_eq!(m.release(records.cast()), Err(Status::ForeignBuffer));
    check(m, &heard, &mut n, e(AES5_REFUSAL_MANAGER_RECORDS, 0, 4, "inside the manager's own records (byte 4"));
    assert_eq!(stable_view(&m.statistics()), before, "refusals change no buffer");
    m.release(h.as_ptr()).unwrap();
}

#[test]
fn a_buffer_not_in_the_callers_hands_is_named_with_its_place() {
    let heard = Heard::default();
    let mut f = Fixture::new();
    let m = f.init(&logging(&heard)).unwrap();
    let mut n = 0;
    let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    let (slot, sequence) = (id(h), header(h).sequence_number);
    m.release(h.as_ptr()).unwrap();
    assert_eq!(m.release(h.as_ptr()), Err(Status::DoubleRelease));
    let says = std::format!("release: buffer {slot} (sequence {sequence}) is already free");
    let e = |status, reason, detail, says| x(status, reason, slot, detail, says);
    check(m, &heard, &mut n, e(Status::DoubleRelease, AES5_REFUSAL_ALREADY_FREE, sequence, &says));
    let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    assert_eq!(id(h), slot);
    m.enqueue(1, h.as_ptr()).unwrap();
    assert_eq!(m.validate(h.as_ptr()), Err(Status::BufferQueued));
    let says = std::format!("validate_buffer: buffer {slot} waits in queue 1");
    check(m, &heard, &mut n, e(Status::BufferQueued, AES5_REFUSAL_IN_QUEUE, 1, &says));
    let h = m.dequeue(1).unwrap();
    // SAFETY: a header the test holds, damaged on purpose.
    unsafe { (*h.as_ptr()).magic_number ^= 1 };
    assert_eq!(m.release(h.as_ptr()), Err(Status::Corrupted));
    check(
        m,
        &heard,
        &mut n,
        Expected { quarantined_now: true, ..e(Status::Corrupted, AES5_REFUSAL_BAD_MAGIC, 0, "; quarantined now") },
    );
    assert_eq!(m.enqueue(0, h.as_ptr()), Err(Status::Corrupted));
    let says = std::format!("enqueue: buffer {slot} was quarantined before");
    check(m, &heard, &mut n, e(Status::Corrupted, AES5_REFUSAL_QUARANTINED_BEFORE, 0, &says));
}

#[test]
fn damage_names_the_field_and_whether_this_call_quarantined_it() {
    type Damage = fn(&mut AudioBuffer);
    let cases: [(Damage, Aes5RefusalReason, &str); 4] = [
        (|b| b.magic_number = 0, AES5_REFUSAL_BAD_MAGIC, "'s header's magic number was overwritten"),
        (|b| b.buffer_capacity_bytes += 1, AES5_REFUSAL_IDENTITY_CHANGED, "'s header's identity was changed"),
        (|b| b.data_size_bytes = b.buffer_capacity_bytes + 1, AES5_REFUSAL_SIZE_ABOVE_CAPACITY, "'s data_size_bytes ("),
        (|b| b.sequence_number += 1, AES5_REFUSAL_BAD_CHECKSUM, "'s header's checksum does not match"),
    ];
    for (damage, reason, says) in cases {
        let heard = Heard::default();
        let mut f = Fixture::new();
        let m = f.init(&logging(&heard)).unwrap();
        let mut n = 0;
        let h = m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap();
        // SAFETY: a header the test holds, damaged on purpose.
        unsafe { damage(&mut *h.as_ptr()) };
        let detail = if reason == AES5_REFUSAL_SIZE_ABOVE_CAPACITY { POOLS[2].capacity as u32 + 1 } else { 0 };
        let e = |quarantined_now| Expected { quarantined_now, ..x(Status::Corrupted, reason, id(h), detail, says) };
        assert_eq!(m.validate(h.as_ptr()), Err(Status::Corrupted));
        check(m, &heard, &mut n, e(false));
        assert!(!last(m).1.contains("quarantined"), "validate changes nothing");
        assert_eq!(m.release(h.as_ptr()), Err(Status::Corrupted));
        check(m, &heard, &mut n, e(true));
        assert!(last(m).1.ends_with("; quarantined now"));
    }
}

#[test]
fn state_refusals_say_what_would_allow_the_call() {
    let heard = Heard::default();
    let mut f = Fixture::new();
    let m = f.init(&logging(&heard)).unwrap();
    let mut n = 0;
    let e = x;
    let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    assert_eq!(m.transition(AES5_STATE_READY), Err(Status::InvalidState));
    let says = "transition_state: Active -> Ready is not a change transition_state makes";
    check(
        m,
        &heard,
        &mut n,
        e(Status::InvalidState, AES5_REFUSAL_NOT_A_TRANSITION, AES5_STATE_ACTIVE, AES5_STATE_READY, says),
    );
    assert_eq!(m.transition(99), Err(Status::InvalidArgument));
    check(m, &heard, &mut n, e(Status::InvalidArgument, AES5_REFUSAL_BAD_STATE, 99, 0, "state 99 is not"));
    let queue = QUEUE_COUNT as u32;
    assert_eq!(m.dequeue(queue), Err(Status::InvalidArgument));
    let says = std::format!("dequeue: queue {queue} does not exist (AES5_QUEUE_COUNT is {queue})");
    check(m, &heard, &mut n, e(Status::InvalidArgument, AES5_REFUSAL_BAD_QUEUE, queue, queue, &says));
    // Error: a damaged buffer was found.
    let damaged = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    // SAFETY: a header the test holds, damaged on purpose.
    unsafe { (*damaged.as_ptr()).magic_number = 0 };
    assert_eq!(m.release(damaged.as_ptr()), Err(Status::Corrupted));
    n += 1;
    assert_eq!(m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()), Err(Status::InvalidState));
    let says = "allocate: the manager is in Error (a damaged buffer was found): transition_state to Ready first";
    check(m, &heard, &mut n, e(Status::InvalidState, AES5_REFUSAL_MANAGER_IN_ERROR, AES5_STATE_ERROR, 0, says));
    // ShuttingDown, with one buffer held (the quarantined one is out of service, not held).
    assert_eq!(m.shutdown(), Err(Status::BuffersOutstanding));
    let says = "shutdown: shutdown is pending until the last held buffer is released (held now: 1)";
    check(m, &heard, &mut n, e(Status::BuffersOutstanding, AES5_REFUSAL_BUFFERS_HELD, 1, 0, says));
    assert_eq!(m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()), Err(Status::InvalidState));
    let says = "allocate: shutdown is pending";
    check(m, &heard, &mut n, e(Status::InvalidState, AES5_REFUSAL_SHUTTING_DOWN, AES5_STATE_SHUTTING_DOWN, 0, says));
    m.release(h.as_ptr()).unwrap();
    assert_eq!(m.state(), AES5_STATE_SHUTDOWN);
    assert_eq!(m.release(h.as_ptr()), Err(Status::InvalidState));
    let says = "release: the manager is Shutdown: init it again";
    check(m, &heard, &mut n, e(Status::InvalidState, AES5_REFUSAL_SHUT_DOWN, AES5_STATE_SHUTDOWN, 0, says));
}

#[test]
fn guard_damage_and_sweep_findings_are_kept_too() {
    if GUARD_BYTES == 0 {
        return;
    }
    let heard = Heard::default();
    let mut f = Fixture::new();
    let m = f.init(&logging(&heard)).unwrap();
    let mut n = 0;
    let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
    // SAFETY: one byte past the end of the buffer's data: its guard zone, written on purpose.
    unsafe { *h.as_ref().data_pointer.add(h.as_ref().buffer_capacity_bytes) ^= 1 };
    assert_eq!(m.validate(h.as_ptr()), Err(Status::Corrupted));
    let next = if (id(h) as usize) + 1 < TOTAL_SLOTS { id(h) + 1 } else { AES5_NO_BUFFER };
    fn e(reason: Aes5RefusalReason, subject: u32, detail: u32, quarantined_now: bool, says: &str) -> Expected<'_> {
        Expected { quarantined_now, ..x(Status::Corrupted, reason, subject, detail, says) }
    }
    check(
        m,
        &heard,
        &mut n,
        e(AES5_REFUSAL_WRITTEN_PAST_END, id(h), next, false, "data written past the end of buffer"),
    );
    let free = m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap();
    m.release(free.as_ptr()).unwrap();
    // SAFETY: a stale pointer written through after the release: the bug the sweep finds.
    unsafe { (*free.as_ptr()).timestamp_ns = 7 };
    let mut report = IntegrityReport::default();
    // SAFETY: a reference is valid for writes.
    unsafe { m.check_integrity(&mut report) };
    // The held buffer's damaged guard is reported, not quarantined: the sweep's one refusal
    // is the free header.
    let says = "is free and its header was written after its release; quarantined by the integrity sweep";
    check(m, &heard, &mut n, e(AES5_REFUSAL_WRITTEN_AFTER_RELEASE, id(free), 0, true, says));
    assert_eq!(report.quarantined, 1);
}

#[test]
fn a_queue_cell_that_is_not_a_buffer_is_named() {
    let heard = Heard::default();
    let mut f = Fixture::new();
    let m = f.init(&logging(&heard)).unwrap();
    let mut n = 0;
    // The manager's own records overwritten: a queue cell naming no buffer.
    m.queues[2].push(TOTAL_SLOTS + 3);
    assert_eq!(m.dequeue(2), Err(Status::Corrupted));
    let says = std::format!("dequeue: queue 2 gave slot {}, not a buffer", TOTAL_SLOTS + 3);
    let e = Expected {
        status: Status::Corrupted,
        reason: AES5_REFUSAL_BAD_QUEUE_ENTRY,
        subject: 2,
        detail: TOTAL_SLOTS as u32 + 3,
        quarantined_now: false,
        says: &says,
    };
    check(m, &heard, &mut n, e);
}

#[test]
fn without_a_log_callback_the_refusal_is_still_kept() {
    let mut f = Fixture::new();
    let m = f.init(&RuntimeConfig::default()).unwrap();
    assert_eq!(m.allocate(AES5_BUFFER_TYPE_OUTPUT, &pcm()), Err(Status::NoPoolForType));
    let (r, text) = last(m);
    assert_eq!((r.number, r.reason, r.subject), (1, AES5_REFUSAL_NO_POOL, AES5_BUFFER_TYPE_OUTPUT));
    assert_eq!(
        text,
        "allocate: buffer type 4 (Output) has no pool in this build: allocate Primary, Conversion or Scratch"
    );
}
