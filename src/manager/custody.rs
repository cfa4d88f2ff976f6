//! Where each buffer is: free, held by a caller, waiting in a hand-off queue, or quarantined.
//!
//! One 32-bit custody word per buffer is the record, and every change of hands that callers
//! can race is one atomic step on it:
//! - **Out of a caller's hands.** Release clears the word's *held* bit with one `fetch_and`;
//!   enqueue and quarantine move the word from *held* to their place with a compare-and-swap.
//!   Either way the step succeeds only from *held*: of two racing changes of one buffer (two
//!   releases, two enqueues, an enqueue and a release) exactly one finds it held and wins; the
//!   other finds where the winner put it, changes nothing, and is refused with that place's
//!   status.
//! - **Into a caller's hands** (allocate, dequeue): by then the caller is the buffer's only
//!   owner (allocate through the pool's free word, dequeue through the queue's read position),
//!   and no other context changes a word whose *held* bit is clear, so a store suffices.
//!
//! The pool's free word stays the index allocate searches: release first clears the *held*
//! bit, then sets the free bit, so in between the buffer is neither held nor handed out.
//!
//! The word: bits 0..8 the place (*held* is bit 0, [`PLACE_HELD`]; [`PLACE_FREE`] 0;
//! [`PLACE_QUARANTINED`]; `PLACE_QUEUED | queue << 1`); bits 8..16 the queue a held buffer was
//! last dequeued from (0xFF: none since its allocation); bits 16..32 a change count, kept only
//! when hand-offs are timed (monitoring with a clock). Then every change into a caller's hands
//! or into a queue goes through an odd count: the word moves to its new place with the
//! count plus 1, the time is written, then the count plus 2 is stored. A reader that finds the same even
//! word before and after reading the time has a time that belongs to that place (a seqlock
//! whose writer never waits for anyone). Release leaves the count alone: a free buffer has no
//! entry to read, and its next allocation moves the count on. Without timing the count stays 0
//! and the places alone are what a reader reads.

use crate::platform::atomics::{fence, AtomicU32, Ordering};
use crate::platform::in_place::ZeroInitial;

/// The buffer is in its pool's free set (or on its way there).
pub(crate) const PLACE_FREE: u32 = 0;
/// A caller holds the buffer (allocated, or dequeued): bit 0, the only place with it set.
pub(crate) const PLACE_HELD: u32 = 1;
/// Out of service for good (a damaged header or guard).
pub(crate) const PLACE_QUARANTINED: u32 = 2;
/// Waiting in hand-off queue `(place >> 1) & 0x1F` (this bit set, bit 0 clear).
const PLACE_QUEUED: u32 = 0x40;
const PLACE_MASK: u32 = 0xFF;
const LAST_QUEUE_SHIFT: u32 = 8;
/// The last-queue byte of a buffer not dequeued since its allocation.
const NO_LAST_QUEUE: u32 = 0xFF;
/// One step of the change count.
const COUNT_STEP: u32 = 1 << 16;
/// The word of a buffer just allocated: held, not dequeued since, with an odd count (a timed
/// allocation records its time next).
pub(crate) const JUST_ALLOCATED: u32 = COUNT_STEP | NO_LAST_QUEUE << LAST_QUEUE_SHIFT | PLACE_HELD;

/// The place of a buffer, decoded from its custody word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    Free,
    /// Held by a caller; the queue it was last dequeued from, if any since its allocation.
    Held {
        last_queue: Option<u8>,
    },
    /// Waiting in this hand-off queue.
    Queued(u8),
    Quarantined,
}

/// The place word of hand-off queue `queue` (0..=16, `AES5_QUEUE_COUNT`'s range).
#[inline(always)]
pub(crate) const fn queued_in(queue: usize) -> u32 {
    PLACE_QUEUED | (queue as u32) << 1
}

/// The place `word` records.
pub(crate) const fn place_of(word: u32) -> Place {
    let place = word & PLACE_MASK;
    if place & PLACE_HELD != 0 {
        let last = (word >> LAST_QUEUE_SHIFT) & 0xFF;
        Place::Held { last_queue: if last == NO_LAST_QUEUE { None } else { Some(last as u8) } }
    } else if place == PLACE_FREE {
        Place::Free
    } else if place & PLACE_QUEUED != 0 {
        Place::Queued(((place >> 1) & 0x1F) as u8)
    } else {
        Place::Quarantined
    }
}

/// The word after `word` that records `place` and `last_queue`, its count advanced by
/// `steps` (0 without timing; 1 to announce a time being written).
#[inline(always)]
const fn next_word(word: u32, place: u32, last_queue: u32, steps: u32) -> u32 {
    ((word & !0xFFFF).wrapping_add(steps * COUNT_STEP)) | (last_queue << LAST_QUEUE_SHIFT) | place
}

/// A consistent reading of one buffer's custody: its word and the time of the change that
/// put it there (0 without a clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CustodyReading {
    pub word: u32,
    pub hand_off_ns: u64,
}

/// Every buffer's custody word, and the time of its last hand-off (two halves, written only
/// inside the odd-count window), in two arrays: allocate and release touch only the words, one
/// scaled-index store or read-modify-write each.
pub(crate) struct CustodyTable<const N: usize> {
    words: [AtomicU32; N],
    times: [[AtomicU32; 2]; N],
}

// SAFETY: zero words: every buffer free, no time recorded (tested in `manager::zero_initial_tests`).
unsafe impl<const N: usize> ZeroInitial for CustodyTable<N> {
    fn initial() -> Self {
        CustodyTable {
            words: core::array::from_fn(|_| AtomicU32::new(0)),
            times: core::array::from_fn(|_| [AtomicU32::new(0), AtomicU32::new(0)]),
        }
    }
}

impl<const N: usize> CustodyTable<N> {
    /// Buffer `slot`'s custody, or `None` past the last buffer.
    #[inline(always)]
    pub(crate) fn get(&self, slot: usize) -> Option<SlotCustody<'_>> {
        Some(SlotCustody { word: self.words.get(slot)?, time: self.times.get(slot)? })
    }
}

/// One buffer's custody word and hand-off time.
#[derive(Clone, Copy)]
pub(crate) struct SlotCustody<'a> {
    word: &'a AtomicU32,
    time: &'a [AtomicU32; 2],
}

/// Attempts of a reader to see a custody word unchanged around the time it reads.
const READ_ATTEMPTS: usize = 4;

impl SlotCustody<'_> {
    /// The custody word now.
    #[inline(always)]
    pub(crate) fn word(&self) -> u32 {
        self.word.load(Ordering::Acquire)
    }

    /// Release's step: clears the *held* bit in one `fetch_and`. `Ok` when the buffer was
    /// held (it is free now); `Err(word found)` otherwise, when clearing a clear bit changed
    /// nothing.
    ///
    /// Relaxed: what the holder wrote is published by the free word's `fetch_or` that
    /// follows, and a refused caller only reads the place.
    #[inline(always)]
    pub(crate) fn release_from_holder(&self) -> Result<(), u32> {
        let old = self.word.fetch_and(!PLACE_HELD, Ordering::Relaxed);
        if old & PLACE_HELD != 0 {
            Ok(())
        } else {
            Err(old)
        }
    }

    /// Takes a held buffer out of its holder's hands to `place` (a queue, or quarantine), in
    /// one compare-and-swap. `Ok(word written)` when it was held; `Err(word found)`, having
    /// changed nothing, otherwise. With `timed`, the word written has an odd count: finish
    /// with [`Self::record_hand_off`].
    ///
    /// Relaxed, as [`Self::release_from_holder`] (the queue cell's release store publishes).
    #[inline(always)]
    pub(crate) fn take_from_holder(&self, place: u32, timed: bool) -> Result<u32, u32> {
        let steps = if timed { 1 } else { 0 };
        let mut word = self.word.load(Ordering::Relaxed);
        loop {
            if word & PLACE_HELD == 0 {
                return Err(word);
            }
            let next = next_word(word, place, NO_LAST_QUEUE, steps);
            match self.word.compare_exchange_weak(word, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Ok(next),
                Err(current) => word = current,
            }
        }
    }

    /// Allocate's step, by the buffer's sole owner: the buffer is held, not dequeued since.
    /// One release store of a constant word (a reader that sees it sees the allocation count
    /// stored before). Its count is odd: with timing, the allocation's hand-off time is still
    /// to be written by [`Self::record_hand_off`]`(`[`JUST_ALLOCATED`]`, time)` (allocate's
    /// cold path does it before the buffer goes back to its caller); without timing no
    /// reader looks at the count.
    #[inline(always)]
    pub(crate) fn allocated(&self) {
        self.word.store(JUST_ALLOCATED, Ordering::Release);
    }

    /// Puts a buffer out of service for good, by its sole owner (a free buffer the integrity
    /// sweep took out of its pool's free set).
    pub(crate) fn quarantine_owned(&self) {
        self.word.store(PLACE_QUARANTINED, Ordering::Release);
    }

    /// Dequeue's step, by the buffer's sole owner (it won the queue's read position): the
    /// buffer is held, last dequeued from `queue`.
    #[inline(always)]
    pub(crate) fn dequeued(&self, queue: usize, now_ns: Option<u64>) {
        let last = queue as u32;
        match now_ns {
            None => self.word.store(last << LAST_QUEUE_SHIFT | PLACE_HELD, Ordering::Release),
            Some(now) => self.hand_over_timed(last, now),
        }
    }

    /// Into a caller's hands with the time recorded inside an odd-count window.
    fn hand_over_timed(&self, last_queue: u32, now_ns: u64) {
        let odd = next_word(self.word.load(Ordering::Relaxed), PLACE_HELD, last_queue, 1);
        self.word.store(odd, Ordering::Relaxed);
        self.record_hand_off(odd, now_ns);
    }

    /// Writes the hand-off time of the change that left `odd_word`, then closes the window.
    pub(crate) fn record_hand_off(&self, odd_word: u32, now_ns: u64) {
        // The time must not be seen before the odd word that announces it.
        fence(Ordering::Release);
        self.time[0].store(now_ns as u32, Ordering::Relaxed);
        self.time[1].store((now_ns >> 32) as u32, Ordering::Relaxed);
        self.word.store(odd_word.wrapping_add(COUNT_STEP), Ordering::Release);
    }

    /// The word, the hand-off time and what `also` reads (the buffer's allocation count and
    /// allocation time), read so that all of it belongs to one custody word: the same word,
    /// even when hand-offs are `timed`, and the same `also`, before and after. `Err(word last
    /// seen)` when the word was odd (a timed hand-off caught while it happens: from an
    /// interrupt handler that preempted it, it stays odd until the handler returns) or kept
    /// changing over a few attempts.
    pub(crate) fn read_with<T: PartialEq>(
        &self,
        timed: bool,
        also: impl Fn() -> T,
    ) -> Result<(CustodyReading, T), u32> {
        let mut word = self.word();
        for _ in 0..READ_ATTEMPTS {
            let extra = also();
            let low = self.time[0].load(Ordering::Relaxed);
            let high = self.time[1].load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            let again = self.word.load(Ordering::Relaxed);
            let settled = !timed || (word / COUNT_STEP) % 2 == 0;
            if again == word && settled && also() == extra {
                let hand_off_ns = u64::from(high) << 32 | u64::from(low);
                return Ok((CustodyReading { word, hand_off_ns }, extra));
            }
            word = self.word();
        }
        Err(word)
    }
}

/// The change count of `word` (two per timed change; allocation's store leaves 1).
#[cfg(all(test, not(loom)))]
pub(crate) const fn changes(word: u32) -> u32 {
    word >> 16
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn one() -> CustodyTable<1> {
        CustodyTable::initial()
    }

    #[test]
    fn a_new_buffer_is_free_and_cannot_leave_hands() {
        let table = one();
        let c = table.get(0).unwrap();
        assert_eq!(place_of(c.word()), Place::Free);
        assert_eq!(c.release_from_holder(), Err(0));
        assert_eq!(c.take_from_holder(queued_in(0), false), Err(0));
        assert_eq!(c.word(), 0, "a refused change writes nothing");
    }

    #[test]
    fn every_place_is_decoded_and_only_held_has_bit_0() {
        for queue in 0..=16 {
            assert_eq!(place_of(queued_in(queue)), Place::Queued(queue as u8));
            assert_eq!(queued_in(queue) & PLACE_HELD, 0);
        }
        assert_eq!(place_of(PLACE_QUARANTINED), Place::Quarantined);
        assert_eq!(place_of(JUST_ALLOCATED), Place::Held { last_queue: None });
        assert_eq!(changes(JUST_ALLOCATED), 1, "odd until a timed allocation records its time");
    }

    #[test]
    fn a_buffer_goes_round_and_every_wrong_step_is_refused() {
        let table = one();
        let c = table.get(0).unwrap();
        c.allocated();
        assert_eq!(place_of(c.word()), Place::Held { last_queue: None });
        let queued = c.take_from_holder(queued_in(3), false).unwrap();
        assert_eq!(place_of(queued), Place::Queued(3));
        assert_eq!(c.release_from_holder(), Err(queued), "a queued buffer is not the caller's");
        assert_eq!(c.take_from_holder(queued_in(1), false), Err(queued));
        assert_eq!(c.word(), queued);
        c.dequeued(3, None);
        assert_eq!(place_of(c.word()), Place::Held { last_queue: Some(3) });
        assert_eq!(c.release_from_holder(), Ok(()));
        let free = c.word();
        assert_eq!(place_of(free), Place::Free);
        assert_eq!(c.release_from_holder(), Err(free), "a double release");
        assert_eq!(c.word(), free);
        assert_eq!(changes(free), 0, "untimed changes keep no count");
        c.allocated();
        assert_eq!(c.read_with(false, || 7), Ok((CustodyReading { word: JUST_ALLOCATED, hand_off_ns: 0 }, 7)));
    }

    #[test]
    fn a_timed_change_passes_an_odd_count_and_keeps_its_time() {
        let table = one();
        let c = table.get(0).unwrap();
        c.allocated();
        assert_eq!(c.read_with(true, || ()), Err(JUST_ALLOCATED), "the allocation's time is not written yet");
        c.record_hand_off(JUST_ALLOCATED, 5);
        assert_eq!(changes(c.word()), 2);
        assert_eq!(c.read_with(true, || 3), Ok((CustodyReading { word: c.word(), hand_off_ns: 5 }, 3)));
        let odd = c.take_from_holder(queued_in(1), true).unwrap();
        assert_eq!(changes(odd) % 2, 1);
        // A reader inside the window gets no time, never the old one.
        assert_eq!(c.read_with(true, || ()), Err(odd));
        c.record_hand_off(odd, 0x1_0000_0009);
        let (reading, ()) = c.read_with(true, || ()).unwrap();
        assert_eq!((place_of(reading.word), reading.hand_off_ns), (Place::Queued(1), 0x1_0000_0009));
        assert_eq!(changes(reading.word), 4);
        c.dequeued(1, Some(11));
        assert_eq!(changes(c.word()), 6);
        assert_eq!(c.release_from_holder(), Ok(()));
        assert_eq!(changes(c.word()), 6, "release leaves the count");
    }

    #[test]
    fn a_reading_whose_extras_changed_is_not_trusted() {
        let table = one();
        let c = table.get(0).unwrap();
        c.allocated();
        let calls = core::cell::Cell::new(0);
        let changing = || {
            calls.set(calls.get() + 1);
            calls.get()
        };
        assert!(c.read_with(false, changing).is_err());
    }

    #[test]
    fn quarantine_is_a_place_of_its_own() {
        let table = one();
        let c = table.get(0).unwrap();
        c.allocated();
        let word = c.take_from_holder(PLACE_QUARANTINED, false).unwrap();
        assert_eq!(place_of(word), Place::Quarantined);
        assert_eq!(c.release_from_holder(), Err(word));
    }

    #[test]
    fn the_count_wraps_without_touching_the_place() {
        let table = one();
        table.words[0].store(0xFFFF_0000 | PLACE_HELD, Ordering::Relaxed);
        let c = table.get(0).unwrap();
        let word = c.take_from_holder(queued_in(15), true).unwrap();
        assert_eq!(place_of(word), Place::Queued(15));
        assert_eq!(changes(word), 0);
    }
}
