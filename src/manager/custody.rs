//! Where each buffer is: free, held by a caller, waiting in a hand-off queue, or quarantined.
//!
//! One 32-bit custody word per buffer is the record, and every change of hands that callers
//! can race is one atomic step on it:
//! - **Out of a caller's hands** (release, enqueue, quarantine): a compare-and-swap that
//!   succeeds only from *held*. Of two racing changes of one buffer (two releases, two
//!   enqueues, an enqueue and a release) exactly one finds it held and wins; the other finds
//!   where the winner put it, changes nothing, and is refused with that place's status.
//! - **Into a caller's hands** (allocate, dequeue): by then the caller is the buffer's only
//!   owner (allocate through the pool's free word, dequeue through the queue's read position),
//!   and no other context changes a word that does not say *held*, so a store suffices.
//!
//! The pool's free word stays the index allocate searches: release first moves the custody
//! word to *free*, then sets the free bit, so in between the buffer is neither held nor handed
//! out.
//!
//! The word: bits 0..8 the place ([`PLACE_FREE`], [`PLACE_HELD`], [`PLACE_QUARANTINED`],
//! `PLACE_QUEUED + queue`); bits 8..16 the queue a held buffer was last dequeued from (0xFF:
//! none since its allocation); bits 16..32 a change count that grows by 2 with every change.
//! With a clock, a change that records its time goes through an odd count: the word moves to
//! its new place with the count + 1, the time is written, then the count + 2 is stored. A
//! reader that finds the same even word before and after reading the time has a time that
//! belongs to that place (a seqlock whose writer never waits for anyone).

use crate::platform::atomics::{fence, AtomicU32, Ordering};
use crate::platform::in_place::ZeroInitial;

/// The buffer is in its pool's free set (or on its way there).
pub(crate) const PLACE_FREE: u32 = 0;
/// A caller holds the buffer: allocated, or dequeued.
pub(crate) const PLACE_HELD: u32 = 1;
/// Out of service for good (a damaged header or guard).
pub(crate) const PLACE_QUARANTINED: u32 = 2;
/// Waiting in hand-off queue `word & 0x3F` (this bit set).
const PLACE_QUEUED: u32 = 0x40;
const PLACE_MASK: u32 = 0xFF;
const LAST_QUEUE_SHIFT: u32 = 8;
/// The last-queue byte of a buffer not dequeued since its allocation.
const NO_LAST_QUEUE: u32 = 0xFF;
/// One step of the change count.
const COUNT_STEP: u32 = 1 << 16;

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

/// The place word of hand-off queue `queue`.
#[inline(always)]
pub(crate) const fn queued_in(queue: usize) -> u32 {
    PLACE_QUEUED | queue as u32
}

/// The place `word` records.
pub(crate) const fn place_of(word: u32) -> Place {
    match word & PLACE_MASK {
        PLACE_FREE => Place::Free,
        PLACE_HELD => {
            let last = (word >> LAST_QUEUE_SHIFT) & 0xFF;
            Place::Held { last_queue: if last == NO_LAST_QUEUE { None } else { Some(last as u8) } }
        }
        place if place & PLACE_QUEUED != 0 => Place::Queued((place & 0x3F) as u8),
        _ => Place::Quarantined,
    }
}

/// The word after `word` that records `place` and `last_queue`, its count advanced by
/// `steps` (2 for a whole change, 1 to announce a time being written).
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

/// One buffer's custody word and the time of its last hand-off (two halves, written only
/// inside the odd-count window).
pub(crate) struct SlotCustody {
    word: AtomicU32,
    hand_off_low: AtomicU32,
    hand_off_high: AtomicU32,
}

// SAFETY: three zero words; a zero word is a free buffer (tested in `in_place`).
unsafe impl ZeroInitial for SlotCustody {
    fn initial() -> Self {
        SlotCustody { word: AtomicU32::new(0), hand_off_low: AtomicU32::new(0), hand_off_high: AtomicU32::new(0) }
    }
}

/// Attempts of a reader to see a custody word unchanged around the time it reads.
const READ_ATTEMPTS: usize = 4;

impl SlotCustody {
    /// The custody word now.
    #[inline(always)]
    pub(crate) fn word(&self) -> u32 {
        self.word.load(Ordering::Acquire)
    }

    /// Takes a held buffer out of its holder's hands to `place`, in one compare-and-swap.
    /// `Ok(word written)` when it was held; `Err(word found)`, having changed nothing,
    /// otherwise. With `timed`, the word written has an odd count: finish with
    /// [`Self::record_hand_off`].
    ///
    /// Relaxed: what the holder wrote is published by the step that follows (the pool's free
    /// word, the queue's cell), and a refused caller only reads the place.
    #[inline(always)]
    pub(crate) fn take_from_holder(&self, place: u32, timed: bool) -> Result<u32, u32> {
        let steps = if timed { 1 } else { 2 };
        let mut word = self.word.load(Ordering::Relaxed);
        loop {
            if word & PLACE_MASK != PLACE_HELD {
                return Err(word);
            }
            let next = next_word(word, place, NO_LAST_QUEUE, steps);
            match self.word.compare_exchange_weak(word, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Ok(next),
                Err(current) => word = current,
            }
        }
    }

    /// Puts the buffer into its new owner's hands (allocate: `last_queue` none; dequeue: the
    /// queue). Only the buffer's sole owner calls this. With a time (`now_ns`, monitoring with
    /// a clock), the hand-off time is recorded inside an odd-count window.
    #[inline(always)]
    pub(crate) fn hand_to_holder(&self, last_queue: Option<usize>, now_ns: Option<u64>) {
        let last = match last_queue {
            Some(queue) => queue as u32,
            None => NO_LAST_QUEUE,
        };
        let word = self.word.load(Ordering::Relaxed);
        match now_ns {
            None => self.word.store(next_word(word, PLACE_HELD, last, 2), Ordering::Release),
            Some(now) => {
                let odd = next_word(word, PLACE_HELD, last, 1);
                self.word.store(odd, Ordering::Relaxed);
                self.record_hand_off(odd, now);
            }
        }
    }

    /// Writes the hand-off time of the change that left `odd_word`, then closes the window.
    pub(crate) fn record_hand_off(&self, odd_word: u32, now_ns: u64) {
        // The time must not be seen before the odd word that announces it.
        fence(Ordering::Release);
        self.hand_off_low.store(now_ns as u32, Ordering::Relaxed);
        self.hand_off_high.store((now_ns >> 32) as u32, Ordering::Relaxed);
        self.word.store(odd_word.wrapping_add(COUNT_STEP), Ordering::Release);
    }

    /// The word, the hand-off time and what `also` reads (the buffer's allocation count and
    /// allocation time), read so that all of it belongs to one custody word: the same even
    /// word before and after. `Err(word last seen)` when the word was odd (a hand-off caught
    /// while it happens: from an interrupt handler that preempted it, it stays odd until the
    /// handler returns) or kept changing over a few attempts.
    pub(crate) fn read_with<T>(&self, also: impl Fn() -> T) -> Result<(CustodyReading, T), u32> {
        let mut word = self.word();
        for _ in 0..READ_ATTEMPTS {
            let low = self.hand_off_low.load(Ordering::Relaxed);
            let high = self.hand_off_high.load(Ordering::Relaxed);
            let extra = also();
            fence(Ordering::Acquire);
            let again = self.word.load(Ordering::Relaxed);
            if again == word && (word / COUNT_STEP) % 2 == 0 {
                let hand_off_ns = u64::from(high) << 32 | u64::from(low);
                return Ok((CustodyReading { word, hand_off_ns }, extra));
            }
            word = self.word();
        }
        Err(word)
    }
}

/// The change count of `word` (two per change).
#[cfg(all(test, not(loom)))]
pub(crate) const fn changes(word: u32) -> u32 {
    word >> 16
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn held(custody: &SlotCustody) {
        custody.hand_to_holder(None, None);
    }

    #[test]
    fn a_new_buffer_is_free_and_cannot_take_from_holder() {
        let c = SlotCustody::initial();
        assert_eq!(place_of(c.word()), Place::Free);
        assert_eq!(c.take_from_holder(PLACE_FREE, false), Err(0));
        assert_eq!(c.word(), 0, "a refused change writes nothing");
    }

    #[test]
    fn every_change_counts_two_and_records_its_place() {
        let c = SlotCustody::initial();
        held(&c);
        assert_eq!(place_of(c.word()), Place::Held { last_queue: None });
        let queued = c.take_from_holder(queued_in(3), false).unwrap();
        assert_eq!(place_of(queued), Place::Queued(3));
        assert_eq!(c.take_from_holder(PLACE_FREE, false), Err(queued), "a queued buffer is not the caller's");
        c.hand_to_holder(Some(3), None);
        assert_eq!(place_of(c.word()), Place::Held { last_queue: Some(3) });
        let freed = c.take_from_holder(PLACE_FREE, false).unwrap();
        assert_eq!(place_of(freed), Place::Free);
        assert_eq!(changes(freed), 8, "four changes");
    }

    #[test]
    fn a_timed_change_passes_an_odd_count_and_keeps_its_time() {
        let c = SlotCustody::initial();
        c.hand_to_holder(None, Some(5));
        assert_eq!(c.read_with(|| 3), Ok((CustodyReading { word: c.word(), hand_off_ns: 5 }, 3)));
        let odd = c.take_from_holder(queued_in(1), true).unwrap();
        assert_eq!(changes(odd) % 2, 1);
        // A reader inside the window gets no time, never the old one.
        assert_eq!(c.read_with(|| ()), Err(odd));
        c.record_hand_off(odd, 0x1_0000_0009);
        let (reading, ()) = c.read_with(|| ()).unwrap();
        assert_eq!((place_of(reading.word), reading.hand_off_ns), (Place::Queued(1), 0x1_0000_0009));
        assert_eq!(changes(reading.word), 4);
    }

    #[test]
    fn quarantine_is_a_place_of_its_own() {
        let c = SlotCustody::initial();
        held(&c);
        let word = c.take_from_holder(PLACE_QUARANTINED, false).unwrap();
        assert_eq!(place_of(word), Place::Quarantined);
        assert_eq!(c.take_from_holder(PLACE_FREE, false), Err(word));
    }

    #[test]
    fn the_count_wraps_without_touching_the_place() {
        let c = SlotCustody { word: AtomicU32::new(0xFFFF_0000 | PLACE_HELD), ..SlotCustody::initial() };
        let word = c.take_from_holder(queued_in(15), false).unwrap();
        assert_eq!(place_of(word), Place::Queued(15));
        assert_eq!(changes(word), 1);
    }
}
