//! A refusal in words: the `log_detail` text and `aes5_last_refusal_t::text`, composed from
//! the reason and its two numbers alone, so both say the same thing.
//!
//! Each reason has one template in a table; a few control bytes in it stand for the numbers
//! and names the refusal carries, and one small loop fills them in. Written this way the
//! texts cost their bytes and one loop of code (on Cortex-M4F a chain of calls per reason was
//! 4.3 KB of code, a `match` of templates 1 KB).

use crate::geometry::POOLS;
use crate::manager::detail_text::DetailText;
use crate::manager::operations::Operation;
use crate::manager::refusal::Refusal;
use crate::manager::state_machine::state_name;
use crate::observability::report::AES5_NO_BUFFER;
use crate::types::buffer_type::buffer_type_name;
use crate::types::format_problem::describe_problem;
use crate::types::refusal_reason::*;

/// `subject` in decimal.
const SUBJECT: u8 = 1;
/// `detail` in decimal.
const DETAIL: u8 = 2;
/// The name of state `subject`.
const SUBJECT_STATE: u8 = 3;
/// The name of state `detail`.
const DETAIL_STATE: u8 = 4;
/// The name of buffer type `subject`.
const SUBJECT_TYPE: u8 = 5;
/// The refused call's name.
const OPERATION: u8 = 6;
/// The text of format problem `subject`.
const PROBLEM: u8 = 7;
/// The buffer capacity of pool `subject`, in bytes.
const CAPACITY: u8 = 8;

/// The templates, indexed by reason (`AES5_REFUSAL_NONE` first). A static table of slices:
/// one load finds a template, where a `match` compiled to a branch per reason.
static TEMPLATES: [&[u8]; AES5_REFUSAL_BEING_RECORDED as usize + 1] = [
    b"no refusal since init",
    b"parameter \x01 of \x06 is NULL",
    b"buffer type \x01 is not an aes5_buffer_type_t (0 to 5)",
    b"buffer type \x01 (\x05) has no pool in this build: allocate Primary, Conversion or Scratch",
    b"\x07",
    b"all \x02 buffers of the \x05 pool (\x08 bytes each) are held",
    b"the manager is in Error (a damaged buffer was found): transition_state to Ready first",
    b"shutdown is pending: nothing is allocated any more",
    b"the manager is \x03: init it again",
    b"\x03 -> \x04 is not a change transition_state makes: it goes Error -> Ready, or to ShuttingDown",
    b"state \x01 is not an aes5_manager_state_t (0 to 7)",
    b"shutdown is pending until the last held buffer is released (held now: \x01)",
    b"queue \x01 does not exist (AES5_QUEUE_COUNT is \x02)",
    b"the pointer is outside this manager's storage: from malloc, the stack, a copy of a header, or another manager",
    b"the pointer is \x02 bytes into buffer \x01's data: pass the buffer's header, not its data pointer",
    b"the pointer is at offset \x02 of buffer \x01's header, not at its start",
    b"the pointer is in the guard zone before buffer \x01's data",
    b"the pointer is inside the manager's own records (byte \x02 of the storage), not a buffer",
    b"buffer \x01 (sequence \x02) is already free: released before",
    b"buffer \x01 waits in queue \x02: the queue owns it until a dequeue",
    b"buffer \x01 was quarantined before: it stays out of service until init",
    b"buffer \x01's header's magic number was overwritten",
    b"buffer \x01's header's identity was changed (buffer_id, type, buffer_capacity_bytes or data_pointer)",
    b"buffer \x01's data_size_bytes (\x02) is above its capacity",
    b"buffer \x01's header's checksum does not match its format and sequence",
    b"data written past the end of buffer \x01 (into the guard zone it shares with buffer \x02)",
    b"data written before the start of buffer \x01 (into the guard zone it shares with buffer \x02)",
    b"buffer \x01 is free and its header was written after its release",
    b"queue \x01 gave slot \x02, not a buffer: the manager's records were overwritten",
    b"a refusal is being recorded by the call this one interrupted; ask again",
];

/// The template of `refusal`'s text: its reason's, or for a guard zone at either end of the
/// data region (no neighbour to name) one of these.
fn template(refusal: &Refusal) -> &'static [u8] {
    match (refusal.reason, refusal.subject, refusal.detail) {
        (AES5_REFUSAL_GUARD_ZONE_POINTER, AES5_NO_BUFFER, _) => {
            b"the pointer is in the guard zone after the last buffer"
        }
        (AES5_REFUSAL_WRITTEN_PAST_END, _, AES5_NO_BUFFER) => {
            b"data written past the end of buffer \x01 (into the guard zone after the last buffer)"
        }
        (AES5_REFUSAL_WRITTEN_BEFORE_START, _, AES5_NO_BUFFER) => {
            b"data written before the start of buffer \x01 (into the guard zone before the first buffer)"
        }
        (reason, _, _) => reason_template(reason),
    }
}

/// The template of `reason` (the whole text of a reason without numbers).
pub(crate) fn reason_template(reason: Aes5RefusalReason) -> &'static [u8] {
    TEMPLATES.get(reason as usize).copied().unwrap_or(b"unknown reason")
}

/// Appends the text of `refusal` to `text`.
#[inline(never)]
pub(crate) fn describe(refusal: &Refusal, text: &mut DetailText) {
    let (subject, detail) = (refusal.subject, refusal.detail);
    // Runs of plain text, each ended by a placeholder (or the template's end).
    for piece in template(refusal).split_inclusive(|&byte| byte < b' ') {
        let (last, plain) = match piece.split_last() {
            Some((&last, plain)) if last < b' ' => (last, plain),
            _ => (0, piece),
        };
        text.push(plain);
        match last {
            SUBJECT => text.number(subject),
            DETAIL => text.number(detail),
            SUBJECT_STATE => text.push(state_name(subject)),
            DETAIL_STATE => text.push(state_name(detail)),
            SUBJECT_TYPE => text.push(buffer_type_name(subject)),
            OPERATION => text.push(refusal.operation.name()),
            PROBLEM => text.push(describe_problem(subject)),
            CAPACITY => text.number(POOLS.get(subject as usize).map_or(0, |shape| shape.capacity as u32)),
            _ => text,
        };
    }
    if refusal.quarantined_now {
        match refusal.operation {
            Operation::CheckIntegrity => text.push(b"; quarantined by the integrity sweep"),
            _ => text.push(b"; quarantined now"),
        };
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::types::status::Status;

    #[test]
    fn every_reason_has_its_own_text_with_its_numbers_filled_in() {
        let mut texts = std::vec::Vec::new();
        for reason in AES5_REFUSAL_NULL_ARGUMENT..=AES5_REFUSAL_BEING_RECORDED {
            let refusal = Refusal::new(Operation::Release, Status::Corrupted, reason).about(3, 5);
            let mut text = DetailText::new();
            describe(&refusal, &mut text);
            let bytes = text.as_bytes_with_nul();
            assert!(bytes.iter().all(|&b| b >= b' ' || b == 0), "a control byte left in {bytes:?}");
            assert_ne!(bytes, b"no refusal since init\0", "reason {reason} has no text");
            texts.push(bytes.to_vec());
        }
        let count = texts.len();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), count, "two reasons share a text");
    }
}
