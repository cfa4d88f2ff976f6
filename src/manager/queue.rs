//! A hand-off queue: a first-in, first-out ring of buffer slots between two pipeline stages
//! (a DMA interrupt and a task, two tasks, a task and an interrupt). Lock-free, O(1), never
//! full, callable from any thread or interrupt handler on both sides.
//!
//! The ring has `CELLS` cells, a power of two above the number of buffers, and two positions
//! that only grow: `write`, the enqueues so far, and `read`, the dequeues so far.
//! - **Enqueue** claims position `p` with one `fetch_add` of `write` and stores the slot into
//!   cell `p % CELLS`, tagged with `p + 1` (modulo 2^24) in the same word.
//! - **Dequeue** loads `read` = `p` and cell `p % CELLS`: if its tag is `p + 1`, the slot is
//!   there, and a compare-and-swap of `read` from `p` to `p + 1` makes this caller its only
//!   taker (of two racing consumers exactly one moves `read` past `p`); otherwise the queue is
//!   empty, or another consumer moved `read` meanwhile and the call looks again.
//!
//! **Why a queue is never full, and cells need no release.** A buffer waits in at most one
//! queue at a time and only once (the custody word, see `custody`, moves from *held* to
//! *queued* before the claim, and only a dequeue of its position makes it *held* again). So
//! the positions claimed but not yet dequeued belong to distinct buffers: `write - read` is
//! at most the number of buffers, less than `CELLS`. A producer at `p` therefore always finds
//! the consumer of `p - CELLS` past its claim, with the slot already read (a consumer reads
//! the cell before it claims), and may overwrite the cell. Unlike Vyukov's bounded queue, the
//! consumer never hands the cell back, so a consumer stalled after its claim cannot make a
//! producer see the ring full.
//!
//! **What a consumer can see.** Dequeues take buffers in the order the enqueues claimed
//! their positions. A dequeue that overlaps an enqueue still between its claim and its store
//! finds that position empty and returns "empty", even if later enqueues have completed: the
//! buffers behind it are dequeued once the store lands. With one producer per queue (an
//! interrupt handler filling it, a task filling the other direction) this never happens.

use crate::platform::atomics::{low_u32, raise_counter, AtomicCounter, AtomicU32, CounterValue, Ordering};
use crate::platform::in_place::ZeroInitial;

/// Bits of a cell word that hold the slot.
const SLOT_BITS: u32 = 8;
/// The position tag of a cell word: the low 24 bits of (position + 1).
const TAG_MASK: u32 = (1 << (32 - SLOT_BITS)) - 1;

/// The cell word that publishes `slot` at `position`.
#[inline(always)]
fn cell_word(position: CounterValue, slot: usize) -> u32 {
    (tag(position) << SLOT_BITS) | slot as u32
}

/// The tag a cell carries once `position` is published in it.
#[inline(always)]
fn tag(position: CounterValue) -> u32 {
    low_u32(position).wrapping_add(1) & TAG_MASK
}

/// One queue's counts, read together: `length <= peak`, `dequeued <= enqueued`, and
/// `length` at most the number of buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct QueueCounts {
    pub length: u32,
    pub peak_length: u32,
    pub enqueued: CounterValue,
    pub dequeued: CounterValue,
}

/// Attempts of a reader to see `read` unchanged around its reading of `write`.
const COUNT_ATTEMPTS: usize = 4;

/// A hand-off queue of buffer slots (see the module documentation), `CELLS` a power of two
/// larger than the number of buffers that can ever wait in it.
pub(crate) struct HandOffQueue<const CELLS: usize> {
    /// Positions claimed by enqueues: the enqueues since init.
    write: AtomicCounter,
    /// Positions claimed by dequeues: the dequeues since init.
    read: AtomicCounter,
    /// The most buffers that waited at once, as enqueues saw it (counter-wide, so that the
    /// queue has no padding: init writes it as zero words).
    peak: AtomicCounter,
    cells: [AtomicU32; CELLS],
}

// SAFETY: counters and cells all zero: an empty queue whose cells carry tag 0, which no
// position of the first lap expects (tested in `manager::zero_initial_tests`).
unsafe impl<const CELLS: usize> ZeroInitial for HandOffQueue<CELLS> {
    fn initial() -> Self {
        HandOffQueue {
            write: AtomicCounter::new(0),
            read: AtomicCounter::new(0),
            peak: AtomicCounter::new(0),
            cells: core::array::from_fn(|_| AtomicU32::new(0)),
        }
    }
}

impl<const CELLS: usize> HandOffQueue<CELLS> {
    const MASK: usize = {
        assert!(CELLS.is_power_of_two() && CELLS <= 1 << SLOT_BITS);
        CELLS - 1
    };

    /// Appends `slot`, which the caller has just moved to *queued* in its custody word (so
    /// the queue holds fewer than `CELLS` buffers). Returns the queue's length as this
    /// enqueue left it.
    ///
    /// The claim acquires and releases so that it is ordered with the custody changes and
    /// dequeues that led to it; the cell store publishes the buffer, header and data, to the
    /// consumer that reads it.
    #[inline(always)]
    pub(crate) fn push(&self, slot: usize) -> u32 {
        let position = self.write.fetch_add(1, Ordering::AcqRel);
        if let Some(cell) = self.cells.get(position as usize & Self::MASK) {
            cell.store(cell_word(position, slot), Ordering::Release);
        }
        let read = self.read.load(Ordering::Relaxed);
        let length = (position.wrapping_add(1)).wrapping_sub(read);
        // A reading of `read` from after more dequeues than enqueues (a stale `position`)
        // reads as an empty queue.
        let length = if length > CELLS as CounterValue { 0 } else { length };
        raise_counter(&self.peak, length);
        low_u32(length)
    }

    /// Takes the oldest slot, or `None` when the queue is empty. Of two racing consumers,
    /// each slot goes to exactly one.
    #[inline(always)]
    pub(crate) fn pop(&self) -> Option<usize> {
        // Relaxed: this only picks the position to try; the cell's acquiring load and the
        // claim's compare-and-swap decide.
        let mut position = self.read.load(Ordering::Relaxed);
        loop {
            let cell = self.cells.get(position as usize & Self::MASK)?.load(Ordering::Acquire);
            if cell >> SLOT_BITS != tag(position) {
                // Not published at `position`: empty, unless another consumer moved on.
                let now = self.read.load(Ordering::Acquire);
                if now == position {
                    return None;
                }
                position = now;
                continue;
            }
            match self.read.compare_exchange_weak(
                position,
                position.wrapping_add(1),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some((cell & ((1 << SLOT_BITS) - 1)) as usize),
                Err(now) => position = now,
            }
        }
    }

    /// The counts now, read without tearing even beside concurrent traffic. `length` is
    /// `enqueued - dequeued` read between two equal readings of `read`, and at most
    /// `max_length` (the number of buffers) whatever the interleaving.
    pub(crate) fn counts(&self, max_length: u32) -> QueueCounts {
        let mut dequeued = self.read.load(Ordering::Acquire);
        let mut enqueued = self.write.load(Ordering::Acquire);
        for _ in 0..COUNT_ATTEMPTS {
            let again = self.read.load(Ordering::Acquire);
            if again == dequeued {
                break;
            }
            dequeued = again;
            enqueued = self.write.load(Ordering::Acquire);
        }
        // `write` read after `read` is never behind it, so the difference is exact or, when
        // `read` kept moving, too high by at most the dequeues in between: bounded below.
        let length = low_u32(enqueued.wrapping_sub(dequeued).min(CounterValue::from(max_length)));
        let peak_length = low_u32(self.peak.load(Ordering::Relaxed)).max(length);
        QueueCounts { length, peak_length, enqueued, dequeued }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::vec::Vec;

    type Queue = HandOffQueue<4>;

    #[test]
    fn buffers_come_out_in_the_order_they_went_in() {
        let q = Queue::initial();
        assert_eq!(q.pop(), None);
        assert_eq!(q.push(2), 1);
        assert_eq!(q.push(0), 2);
        assert_eq!(q.push(1), 3);
        assert_eq!((q.pop(), q.pop()), (Some(2), Some(0)));
        assert_eq!(q.push(2), 2);
        assert_eq!((q.pop(), q.pop(), q.pop()), (Some(1), Some(2), None));
        let c = q.counts(3);
        assert_eq!((c.length, c.peak_length, c.enqueued, c.dequeued), (0, 3, 4, 4));
    }

    #[test]
    fn the_ring_laps_many_times_without_filling() {
        // Three buffers cycle through a ring of four cells, one always lagging behind.
        let q = Queue::initial();
        q.push(0);
        q.push(1);
        for i in 0..10_000usize {
            q.push(2 + i % 2);
            let slot = q.pop().unwrap();
            assert!(slot < 4);
            q.push(slot);
            q.pop().unwrap();
            assert!(q.counts(3).length <= 3);
        }
        let c = q.counts(3);
        assert_eq!(c.enqueued - c.dequeued, 2);
        assert_eq!(c.peak_length, 3);
    }

    #[test]
    fn positions_past_the_tag_width_still_match() {
        let q = Queue::initial();
        let start = CounterValue::from(TAG_MASK) - 2;
        q.write.store(start, Ordering::Relaxed);
        q.read.store(start, Ordering::Relaxed);
        for slot in 0..3 {
            q.push(slot);
        }
        assert_eq!((q.pop(), q.pop(), q.pop(), q.pop()), (Some(0), Some(1), Some(2), None));
    }

    #[test]
    fn a_read_position_seen_ahead_of_the_push_reads_as_an_empty_queue() {
        // A producer preempted after its claim, while consumers took its buffer and more,
        // reads `read` past its own position: the length it saw is none, not 2^64 - 1.
        let q = Queue::initial();
        q.read.store(5, Ordering::Relaxed);
        q.write.store(3, Ordering::Relaxed);
        assert_eq!(q.push(1), 0);
        assert_eq!(q.peak.load(Ordering::Relaxed), 0);
        q.write.store(7, Ordering::Relaxed);
        assert_eq!(q.push(2), 3, "a length within the ring is kept");
        assert_eq!(q.peak.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn a_stalled_consumer_never_makes_the_ring_full() {
        // Consumer A has read cell 0 (slot 0) but not yet claimed; meanwhile B dequeues
        // everything and the producers lap the ring: A's claim then fails and nothing is lost.
        let q = Queue::initial();
        q.push(0);
        let stale = q.cells[0].load(Ordering::Acquire);
        assert_eq!(q.pop(), Some(0));
        for _ in 0..4 {
            q.push(0);
            assert_eq!(q.pop(), Some(0));
        }
        assert!(q.read.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire).is_err());
        assert_ne!(stale, q.cells[0].load(Ordering::Acquire));
    }

    #[test]
    fn two_consumers_never_share_a_slot() {
        let q = HandOffQueue::<16>::initial();
        let owners: Vec<std::sync::atomic::AtomicU8> = (0..12).map(|_| std::sync::atomic::AtomicU8::new(0)).collect();
        for slot in 0..12 {
            q.push(slot);
        }
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..50_000 {
                        if let Some(slot) = q.pop() {
                            assert_eq!(owners[slot].fetch_add(1, Ordering::SeqCst), 0, "slot {slot} taken twice");
                            owners[slot].fetch_sub(1, Ordering::SeqCst);
                            q.push(slot);
                        }
                    }
                });
            }
        });
        let mut seen = HashSet::new();
        while let Some(slot) = q.pop() {
            assert!(seen.insert(slot));
        }
        assert_eq!(seen.len(), 12);
    }
}
