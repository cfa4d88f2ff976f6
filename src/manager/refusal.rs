//! Refusals: every refused call is counted, logged with its exact reason, and kept as the
//! manager's last refusal (`aes5_buffer_manager_get_last_refusal`).
//!
//! The hot path only decides *that* a call is refused, with its status. The reason (which
//! state, where a foreign pointer points, which header field is damaged, which buffer and
//! sequence) is worked out here afterwards, out of line, from what the refusing call saw and
//! what the manager records; nothing on the accepted path pays for it.

use core::ffi::c_char;

use crate::geometry::{POOLS, QUEUE_COUNT, SLOT_PLACES, TOTAL_SLOTS};
use crate::manager::custody::{place_of, Place};
use crate::manager::detail_text::DetailText;
use crate::manager::guards::{zone, GuardDamage};
use crate::manager::operations::Operation;
use crate::manager::refusal_record::{Reading, RECORD_WORDS};
use crate::manager::refusal_text::{describe, reason_template};
use crate::manager::state_machine::{AES5_STATE_ERROR, AES5_STATE_SHUTTING_DOWN};
use crate::manager::ManagerCore;
use crate::observability::report::AES5_NO_BUFFER;
use crate::platform::atomics::{low_u32, Ordering};
use crate::platform::in_place::put;
use crate::types::header::AudioBuffer;
use crate::types::refusal_reason::*;
use crate::types::status::{Aes5Status, Status, AES5_OK};

/// The manager's last refusal, as `aes5_buffer_manager_get_last_refusal` copies it out
/// (`aes5_last_refusal_t`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LastRefusal {
    /// Refusals recorded since init: 0 when none was, and it grows by one with each recorded
    /// refusal, so a caller can tell whether a new one came. A refusal made while another is
    /// being recorded (on another core, or by the code an interrupt handler interrupted) is
    /// counted and logged but not recorded.
    pub number: u32,
    /// The status the refused call returned (`AES5_OK` when none was recorded).
    pub status: Aes5Status,
    /// Why, exactly (`AES5_REFUSAL_*`); `subject` and `detail` are explained with each reason.
    pub reason: Aes5RefusalReason,
    /// The buffer, pool, queue, state or parameter the reason names.
    pub subject: u32,
    /// A second number, as the reason explains (a sequence number, an offset, a size).
    pub detail: u32,
    /// The refusing call took the damaged buffer out of service (quarantined it) itself.
    pub quarantined_now: bool,
    /// The refused call, without the `aes5_buffer_manager_` prefix ("release", ...); static.
    pub operation: *const c_char,
    /// The reason in words, NUL-terminated: the text `log_detail` received.
    pub text: [c_char; AES5_REFUSAL_TEXT_BYTES],
}

/// One refusal: the call, its status, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub operation: Operation,
    pub status: Status,
    pub reason: Aes5RefusalReason,
    pub subject: u32,
    pub detail: u32,
    pub quarantined_now: bool,
}

impl Refusal {
    pub(crate) const fn new(operation: Operation, status: Status, reason: Aes5RefusalReason) -> Self {
        Refusal { operation, status, reason, subject: 0, detail: 0, quarantined_now: false }
    }

    pub(crate) const fn about(mut self, subject: u32, detail: u32) -> Self {
        self.subject = subject;
        self.detail = detail;
        self
    }

    /// A NULL pointer as parameter `position` (the manager is 1).
    pub(crate) const fn null_argument(operation: Operation, position: u32) -> Self {
        Refusal::new(operation, Status::NullPointer, AES5_REFUSAL_NULL_ARGUMENT).about(position, 0)
    }

    /// Damage to the guard zones of buffer `slot`.
    pub(crate) fn guard(operation: Operation, slot: usize, damage: GuardDamage) -> Self {
        let (reason, neighbour) = match damage {
            GuardDamage::AfterEnd => (AES5_REFUSAL_WRITTEN_PAST_END, (slot + 1 < TOTAL_SLOTS).then_some(slot + 1)),
            GuardDamage::BeforeStart => (AES5_REFUSAL_WRITTEN_BEFORE_START, slot.checked_sub(1)),
        };
        let neighbour = neighbour.map_or(AES5_NO_BUFFER, |other| other as u32);
        Refusal::new(operation, Status::Corrupted, reason).about(slot as u32, neighbour)
    }

    /// The record's words: status, operation, reason and the quarantine flag in the first.
    fn words(&self) -> [u32; RECORD_WORDS] {
        let first = self.status.code()
            | (self.operation as u32) << 8
            | (self.reason & 0xFF) << 16
            | u32::from(self.quarantined_now) << 24;
        [first, self.subject, self.detail]
    }

    /// The refusal the record's words stand for (`None` for words no refusal writes).
    fn from_words(words: [u32; RECORD_WORDS]) -> Option<Self> {
        let [first, subject, detail] = words;
        Some(Refusal {
            status: Status::from_raw(first & 0xFF)?,
            operation: Operation::from_raw((first >> 8) & 0xFF)?,
            reason: (first >> 16) & 0xFF,
            quarantined_now: (first >> 24) & 1 != 0,
            subject,
            detail,
        })
    }
}

impl ManagerCore {
    /// Counts, keeps and logs `refusal`; returns its status.
    #[cold]
    #[inline(never)]
    pub(crate) fn refuse(&self, refusal: Refusal) -> Status {
        let status = refusal.status;
        // The calls with failure counters of their own; of the others (validate, dequeue,
        // shutdown, transition_state) a refusal is an answer and counts nothing.
        let counter = match refusal.operation {
            Operation::Allocate if status != Status::PoolExhausted => Some(&self.counters.rejected_allocations),
            Operation::Release => Some(&self.counters.rejected_releases),
            Operation::Enqueue => Some(&self.counters.rejected_hand_offs),
            _ => None,
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Relaxed);
            if status.is_validation_error() {
                self.counters.validation_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.keep_and_log(&refusal);
        status
    }

    /// Keeps `refusal` as the last one and hands it to the log callbacks (counted elsewhere).
    #[cold]
    pub(crate) fn keep_and_log(&self, refusal: &Refusal) {
        self.last_refusal.write(refusal.words());
        if self.config.log.is_some() || self.config.log_detail.is_some() {
            let mut text = DetailText::new();
            describe(refusal, &mut text);
            self.log_text(refusal.operation, refusal.status, text.as_bytes_with_nul());
        }
    }

    /// Logs a refusal with `detail`, a NUL-terminated text valid during the call (composed
    /// for this refusal), for `log_detail`.
    fn log_text(&self, operation: Operation, status: Status, detail: &[u8]) {
        let name = operation.name().as_ptr().cast();
        if let Some(log) = self.config.log {
            // SAFETY: the integrator supplied this callback and context for exactly this use;
            // the operation name is a static NUL-terminated string.
            unsafe { log(self.config.log_context, status.code(), name) };
        }
        if let Some(log_detail) = self.config.log_detail {
            // SAFETY: as above; `detail` is NUL-terminated and lives until the call returns.
            unsafe { log_detail(self.config.log_context, status.code(), name, detail.as_ptr().cast()) };
        }
    }

    /// `operation` refused in state `state` (one that does not allow it).
    #[cold]
    #[inline(never)]
    pub(crate) fn refuse_in_state(&self, operation: Operation, state: u32) -> Status {
        let reason = match state {
            AES5_STATE_ERROR => AES5_REFUSAL_MANAGER_IN_ERROR,
            AES5_STATE_SHUTTING_DOWN => AES5_REFUSAL_SHUTTING_DOWN,
            _ => AES5_REFUSAL_SHUT_DOWN,
        };
        self.refuse(Refusal::new(operation, Status::InvalidState, reason).about(state, 0))
    }

    /// `operation` refused `pointer`, which is not one of this manager's headers: where it
    /// points instead.
    #[cold]
    #[inline(never)]
    pub(crate) fn refuse_pointer(&self, operation: Operation, pointer: *const AudioBuffer) -> Status {
        let (reason, subject, detail) = self.whereabouts(pointer as usize);
        self.refuse(Refusal::new(operation, Status::ForeignBuffer, reason).about(subject, detail))
    }

    /// What `pointer`, not a header's start, points into: the reason and its two numbers.
    fn whereabouts(&self, pointer: usize) -> (Aes5RefusalReason, u32, u32) {
        let storage = pointer.wrapping_sub(self.self_addr);
        if storage >= crate::geometry::STORAGE_BYTES {
            return (AES5_REFUSAL_OUTSIDE_STORAGE, 0, 0);
        }
        let headers = pointer.wrapping_sub(self.headers.as_ptr() as usize);
        let header_bytes = core::mem::size_of::<AudioBuffer>();
        if headers < header_bytes * TOTAL_SLOTS {
            return (AES5_REFUSAL_INSIDE_HEADER, (headers / header_bytes) as u32, (headers % header_bytes) as u32);
        }
        let data = pointer.wrapping_sub(self.data_base);
        for (slot, place) in SLOT_PLACES.iter().enumerate() {
            let into = data.wrapping_sub(place.data_offset as usize);
            if into < place.capacity as usize {
                return (AES5_REFUSAL_DATA_POINTER, slot as u32, into as u32);
            }
        }
        for index in 0..=TOTAL_SLOTS {
            let Some(z) = zone(index) else { break };
            let into = data.wrapping_sub(z.start);
            if into < z.end - z.start {
                return (AES5_REFUSAL_GUARD_ZONE_POINTER, z.after.map_or(AES5_NO_BUFFER, |s| s as u32), into as u32);
            }
        }
        (AES5_REFUSAL_MANAGER_RECORDS, 0, storage as u32)
    }

    /// `operation` refused buffer `slot` because no caller holds it: its custody word `word`
    /// says where it is.
    #[cold]
    #[inline(never)]
    pub(crate) fn refuse_not_held(&self, operation: Operation, slot: usize, word: u32) -> Status {
        let refusal = match place_of(word) {
            Place::Free => {
                let sequence = self.generations.get(slot).map_or(0, |g| low_u32(g.load(Ordering::Relaxed)));
                Refusal::new(operation, Status::DoubleRelease, AES5_REFUSAL_ALREADY_FREE).about(slot as u32, sequence)
            }
            Place::Queued(queue) => {
                Refusal::new(operation, Status::BufferQueued, AES5_REFUSAL_IN_QUEUE).about(slot as u32, queue as u32)
            }
            Place::Quarantined | Place::Held { .. } => {
                Refusal::new(operation, Status::Corrupted, AES5_REFUSAL_QUARANTINED_BEFORE).about(slot as u32, 0)
            }
        };
        self.refuse(refusal)
    }

    /// `operation` found the header of buffer `slot` damaged: which field. The buffer was
    /// quarantined by this call when `quarantined_now`.
    #[cold]
    #[inline(never)]
    pub(crate) fn refuse_damaged_header(&self, operation: Operation, slot: usize, quarantined_now: bool) -> Status {
        let (reason, detail) = match (self.headers.get(slot), SLOT_PLACES.get(slot)) {
            (Some(cell), Some(place)) => {
                // SAFETY: `cell` is this manager's header `slot`, readable while it lives.
                unsafe { AudioBuffer::damage_at(cell.get(), &self.identity(slot, place)) }
                    // Damaged when the caller looked, repaired since (a racing write): the
                    // checksum is what every field change reaches.
                    .unwrap_or((AES5_REFUSAL_BAD_CHECKSUM, 0))
            }
            _ => (AES5_REFUSAL_BAD_CHECKSUM, 0),
        };
        let mut refusal = Refusal::new(operation, Status::Corrupted, reason).about(slot as u32, detail);
        refusal.quarantined_now = quarantined_now;
        self.refuse(refusal)
    }

    /// Copies the last refusal into `out`.
    ///
    /// # Safety
    /// `out` must be valid for writes and aligned (its contents may be uninitialised).
    pub(crate) unsafe fn last_refusal(&self, out: *mut LastRefusal) {
        let mut text = DetailText::new();
        let (number, status, reason, subject, detail, quarantined_now, operation) = match self.last_refusal.read() {
            Reading::Recorded { number, words } => match Refusal::from_words(words) {
                Some(r) => {
                    describe(&r, &mut text);
                    let name = r.operation.name();
                    (number, r.status.code(), r.reason, r.subject, r.detail, r.quarantined_now, name)
                }
                None => {
                    text.push(reason_template(AES5_REFUSAL_NONE));
                    (number, AES5_OK, AES5_REFUSAL_NONE, 0, 0, false, &b"\0"[..])
                }
            },
            Reading::BeingRecorded { number } => {
                text.push(reason_template(AES5_REFUSAL_BEING_RECORDED));
                (number, AES5_OK, AES5_REFUSAL_BEING_RECORDED, 0, 0, false, &b"\0"[..])
            }
        };
        put!(out, number, number);
        put!(out, status, status);
        put!(out, reason, reason);
        put!(out, subject, subject);
        put!(out, detail, detail);
        put!(out, quarantined_now, quarantined_now);
        put!(out, operation, operation.as_ptr().cast());
        let bytes = text.as_bytes_with_nul();
        for index in 0..AES5_REFUSAL_TEXT_BYTES {
            let byte = bytes.get(index).copied().unwrap_or(0);
            // SAFETY: the contract of this function; `index` is inside the array.
            unsafe { core::ptr::addr_of_mut!((*out).text).cast::<c_char>().add(index).write(byte as c_char) };
        }
    }

    /// Buffers in pool `pool`.
    pub(crate) fn pool_size(pool: usize) -> u32 {
        POOLS.get(pool).map_or(0, |shape| shape.count as u32)
    }

    /// A queue index is out of range.
    pub(crate) fn bad_queue(operation: Operation, queue: u32) -> Refusal {
        Refusal::new(operation, Status::InvalidArgument, AES5_REFUSAL_BAD_QUEUE).about(queue, QUEUE_COUNT as u32)
    }
}

static_assertions::const_assert!(crate::types::refusal_reason::AES5_REFUSAL_BEING_RECORDED < 256);
