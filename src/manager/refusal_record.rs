//! The last refusal, kept in the control block so that a test, a shell or a debugger can ask
//! why a call failed without a log callback: three words under a sequence counter.
//!
//! Lock-free and interrupt-safe, best effort under concurrency:
//! - a writer never waits. It claims the record by moving the counter from even to odd with
//!   one compare-and-swap, writes the words, and makes the counter even again. A writer that
//!   finds the record claimed (another refusal is being recorded, on another core or in the
//!   code it interrupted) leaves it alone: its refusal is still counted and logged, only not
//!   kept here;
//! - a reader never sees words of two refusals mixed: it reads the counter, the words, and the
//!   counter again, and trusts the words only if the counter was even and unchanged. It tries
//!   a few times; an interrupt handler that reads while the code it interrupted is writing
//!   would otherwise wait for ever, so after the last attempt it reports "being recorded".

use crate::platform::atomics::{AtomicU32, Ordering};
use crate::platform::in_place::ZeroInitial;

/// The counter, even when the words are complete; the number of refusals recorded is half of it.
pub(crate) struct RefusalRecord {
    turn: AtomicU32,
    words: [AtomicU32; RECORD_WORDS],
}

/// Words of one recorded refusal.
pub(crate) const RECORD_WORDS: usize = 3;

/// Attempts of a reader before it reports the record as being written.
const READ_ATTEMPTS: usize = 4;

/// What a reader got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reading {
    /// The words of refusal number `number` (counting from 1; 0 with zero words: none yet).
    Recorded { number: u32, words: [u32; RECORD_WORDS] },
    /// A writer held the record during every attempt.
    BeingRecorded { number: u32 },
}

// SAFETY: a zero counter and zero words (tested in `manager::zero_initial_tests`).
unsafe impl ZeroInitial for RefusalRecord {
    fn initial() -> Self {
        RefusalRecord { turn: AtomicU32::new(0), words: core::array::from_fn(|_| AtomicU32::new(0)) }
    }
}

impl RefusalRecord {
    /// Records `words`, unless another writer holds the record now.
    pub(crate) fn write(&self, words: [u32; RECORD_WORDS]) {
        let turn = self.turn.load(Ordering::Relaxed);
        if turn & 1 != 0 {
            return;
        }
        // Acquire: this claim reads the last writer's release of the record, so this writer's
        // words come after that writer's in every word's modification order (with Relaxed, a
        // later refusal's words could be overwritten by an earlier one's: loom found it). What
        // orders the words after the claim for a reader is each word's release store below.
        if self.turn.compare_exchange(turn, turn.wrapping_add(1), Ordering::Acquire, Ordering::Relaxed).is_err() {
            return;
        }
        for (cell, word) in self.words.iter().zip(words) {
            // Release: a reader that loads this word (acquire) then sees the odd counter,
            // or a later value, on its second counter read, and drops what it read.
            cell.store(word, Ordering::Release);
        }
        // Release: a reader that sees the even counter sees every word stored before it.
        self.turn.store(turn.wrapping_add(2), Ordering::Release);
    }

    /// Reads the last complete record.
    pub(crate) fn read(&self) -> Reading {
        let mut number = 0;
        for _ in 0..READ_ATTEMPTS {
            let before = self.turn.load(Ordering::Acquire);
            number = before.wrapping_add(1) / 2;
            if before & 1 != 0 {
                continue;
            }
            let mut words = [0u32; RECORD_WORDS];
            for (word, cell) in words.iter_mut().zip(&self.words) {
                // Acquire: orders the counter's second read after this load (see `write`).
                *word = cell.load(Ordering::Acquire);
            }
            if self.turn.load(Ordering::Relaxed) == before {
                return Reading::Recorded { number, words };
            }
        }
        Reading::BeingRecorded { number }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_new_record_is_empty_and_each_write_replaces_it_whole() {
        let record = RefusalRecord::initial();
        assert_eq!(record.read(), Reading::Recorded { number: 0, words: [0; 3] });
        record.write([1, 2, 3]);
        assert_eq!(record.read(), Reading::Recorded { number: 1, words: [1, 2, 3] });
        record.write([4, 5, 6]);
        assert_eq!(record.read(), Reading::Recorded { number: 2, words: [4, 5, 6] });
    }

    #[test]
    fn a_writer_that_finds_the_record_claimed_leaves_it_and_a_reader_reports_it_busy() {
        let record = RefusalRecord::initial();
        record.write([1, 2, 3]);
        // As if interrupted between its claim and its last store.
        record.turn.store(3, Ordering::Relaxed);
        record.write([7, 8, 9]);
        assert_eq!(record.read(), Reading::BeingRecorded { number: 2 });
        record.turn.store(4, Ordering::Relaxed);
        assert_eq!(record.read(), Reading::Recorded { number: 2, words: [1, 2, 3] });
    }
}
