//! One pool's lock-free free list, and the ownership word of each buffer.
//!
//! The free list is a Treiber stack over slot indices. Its head is one atomic word that packs
//! the top index, the number of buffers currently allocated from the pool, and an ABA tag
//! that changes on every pop and push:
//!
//! | bits   | field                                  |
//! |--------|----------------------------------------|
//! | 0..8   | top slot index (`0xFF` = empty)        |
//! | 8..16  | allocated count (0..=254)              |
//! | 16..   | tag (16 bits on 32-bit targets, 48 on 64-bit) |
//!
//! Allocate and release are one successful compare-and-swap each: O(1), no lock, and the
//! allocated count can never be seen out of step with the list. A stale pop can only succeed
//! if the tag wrapped exactly while the popper was preempted (2^16 pool operations on
//! ARMv7-M/ARMv8-M, 2^48 on 64-bit hosts).
//!
//! Ownership of a buffer changes in one atomic step: release moves the buffer's word from
//! HELD to RELEASING with a compare-and-swap, so of two racing releases exactly one wins and
//! the other sees a double release.

use crate::status::Status;
use crate::sync::{counter_from_u32, low_u32, AtomicCounter, AtomicU32, CounterValue, Ordering};

const INDEX_MASK: CounterValue = 0xFF;
const EMPTY: CounterValue = INDEX_MASK;
const COUNT_SHIFT: u32 = 8;
const COUNT_ONE: CounterValue = 1 << COUNT_SHIFT;
const TAG_ONE: CounterValue = 1 << 16;

#[inline(always)]
const fn top_of(head: CounterValue) -> CounterValue {
    head & INDEX_MASK
}

#[inline(always)]
const fn count_of(head: CounterValue) -> u32 {
    low_u32((head >> COUNT_SHIFT) & 0xFF)
}

/// Rebuilds a head word with a new top, a count changed by `count_delta`, and the next tag.
#[inline(always)]
const fn next_head(head: CounterValue, top: CounterValue, count_delta: CounterValue) -> CounterValue {
    let tag_and_count = (head & !INDEX_MASK).wrapping_add(count_delta).wrapping_add(TAG_ONE);
    tag_and_count | top
}

/// Per-buffer ownership word: a generation counter (bits 2..) and the state (bits 0..2).
pub(crate) struct SlotControl {
    state: AtomicU32,
    next: AtomicU32,
}

/// Buffer state: in the free list (or about to be).
pub(crate) const SLOT_FREE: u32 = 0;
/// Buffer state: handed out to a caller.
pub(crate) const SLOT_HELD: u32 = 1;
/// Buffer state: a release owns it and is checking it.
pub(crate) const SLOT_RELEASING: u32 = 2;
/// Buffer state: found corrupted on release; never handed out again.
pub(crate) const SLOT_QUARANTINED: u32 = 3;
const STATE_MASK: u32 = 3;
const GENERATION_ONE: u32 = 4;

/// The state part of an ownership word.
#[inline(always)]
pub(crate) const fn slot_state(word: u32) -> u32 {
    word & STATE_MASK
}

impl SlotControl {
    /// A free slot whose successor in the free list is `next`.
    pub(crate) fn new(next: u32) -> Self {
        SlotControl { state: AtomicU32::new(SLOT_FREE), next: AtomicU32::new(next) }
    }

    /// The ownership word (acquire: a HELD word makes the owner's header writes visible).
    #[inline(always)]
    pub(crate) fn observe(&self) -> u32 {
        self.state.load(Ordering::Acquire)
    }

    /// Marks a freshly popped slot as held, starting a new generation. Only the popper calls
    /// this, after writing the header.
    #[inline(always)]
    pub(crate) fn mark_held(&self) {
        let word = self.state.load(Ordering::Relaxed);
        self.state.store((word & !STATE_MASK).wrapping_add(GENERATION_ONE) | SLOT_HELD, Ordering::Release);
    }

    /// Takes ownership back from the caller in one atomic step (HELD → RELEASING).
    ///
    /// Returns the RELEASING word, or `DoubleRelease` when the buffer is free or being
    /// released by someone else, or `Corrupted` when it is quarantined.
    #[inline(always)]
    pub(crate) fn begin_release(&self) -> Result<u32, Status> {
        let mut word = self.state.load(Ordering::Acquire);
        loop {
            match slot_state(word) {
                SLOT_HELD => {
                    let releasing = (word & !STATE_MASK) | SLOT_RELEASING;
                    match self.state.compare_exchange(word, releasing, Ordering::Acquire, Ordering::Acquire) {
                        Ok(_) => return Ok(releasing),
                        Err(current) => word = current,
                    }
                }
                SLOT_QUARANTINED => return Err(Status::Corrupted),
                _ => return Err(Status::DoubleRelease),
            }
        }
    }

    /// Ends a release that found the buffer intact: the slot becomes free (before it is pushed
    /// back, so a second release already sees it free).
    #[inline(always)]
    pub(crate) fn finish_release(&self, releasing: u32) {
        self.state.store((releasing & !STATE_MASK) | SLOT_FREE, Ordering::Release);
    }

    /// Ends a release that found the buffer corrupted: the slot is quarantined for good.
    pub(crate) fn quarantine(&self, releasing: u32) {
        self.state.store((releasing & !STATE_MASK) | SLOT_QUARANTINED, Ordering::Release);
    }
}

/// The free list of one pool.
pub(crate) struct FreeList {
    head: AtomicCounter,
}

impl FreeList {
    /// A free list holding every slot of `slots` (slot `i` links to `i + 1`), none allocated.
    pub(crate) fn new(slot_count: usize) -> Self {
        let top = if slot_count == 0 { EMPTY } else { 0 };
        FreeList { head: AtomicCounter::new(top) }
    }

    /// The successor index to store in slot `index` of a pool of `slot_count` slots.
    pub(crate) fn initial_next(index: usize, slot_count: usize) -> u32 {
        if index + 1 < slot_count {
            (index + 1) as u32
        } else {
            low_u32(EMPTY)
        }
    }

    /// Buffers currently allocated from this pool.
    #[inline(always)]
    pub(crate) fn allocated(&self) -> u32 {
        count_of(self.head.load(Ordering::SeqCst))
    }

    /// Buffers currently allocated, read with a read-modify-write of the head (an add of 0).
    ///
    /// Shutdown decides "no buffer is held" with this read: being a read-modify-write, it
    /// either comes after a concurrent pop in the head's modification order (and sees that
    /// buffer) or the pop acquires from it (and then sees the state change that preceded it),
    /// so no allocation can slip past a completing shutdown. A plain load gives the same
    /// guarantee only through the single total order of `SeqCst`, which is harder to check.
    pub(crate) fn allocated_synchronized(&self) -> u32 {
        count_of(self.head.fetch_add(0, Ordering::AcqRel))
    }

    /// Takes a free slot. Returns its pool-local index and the allocated count after the pop,
    /// or `None` when the pool is empty.
    #[inline(always)]
    pub(crate) fn pop(&self, slots: &[SlotControl]) -> Option<(usize, u32)> {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            let top = top_of(head);
            // A top that is EMPTY (or, impossibly, out of range) means no free slot.
            let slot = slots.get(top as usize)?;
            let next = counter_from_u32(slot.next.load(Ordering::Relaxed));
            let new = next_head(head, next & INDEX_MASK, COUNT_ONE);
            match self.head.compare_exchange_weak(head, new, Ordering::SeqCst, Ordering::Acquire) {
                Ok(_) => return Some((top as usize, count_of(new))),
                Err(current) => head = current,
            }
        }
    }

    /// Returns slot `index` to the list. Returns the allocated count after the push.
    #[inline(always)]
    pub(crate) fn push(&self, slots: &[SlotControl], index: usize) -> u32 {
        let Some(slot) = slots.get(index) else {
            return self.allocated();
        };
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            slot.next.store(low_u32(top_of(head)), Ordering::Relaxed);
            let new = next_head(head, index as CounterValue, COUNT_ONE.wrapping_neg());
            match self.head.compare_exchange_weak(head, new, Ordering::SeqCst, Ordering::Relaxed) {
                Ok(_) => return count_of(new),
                Err(current) => head = current,
            }
        }
    }

    /// Forgets one allocated buffer without returning it to the list (quarantine). Returns the
    /// allocated count after the change.
    pub(crate) fn forget_one(&self) -> u32 {
        let before = self.head.fetch_sub(COUNT_ONE, Ordering::SeqCst);
        count_of(before).saturating_sub(1)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::vec::Vec;

    fn pool(n: usize) -> (FreeList, Vec<SlotControl>) {
        let slots = (0..n).map(|i| SlotControl::new(FreeList::initial_next(i, n))).collect();
        (FreeList::new(n), slots)
    }

    #[test]
    fn pops_every_slot_once_then_reports_empty() {
        let (list, slots) = pool(5);
        let mut seen = HashSet::new();
        for expected_count in 1..=5 {
            let (index, count) = list.pop(&slots).expect("slot");
            assert!(seen.insert(index));
            assert_eq!(count, expected_count);
        }
        assert_eq!(list.pop(&slots), None);
        assert_eq!(list.allocated(), 5);
    }

    #[test]
    fn push_makes_a_slot_available_again_and_counts_down() {
        let (list, slots) = pool(2);
        let (a, _) = list.pop(&slots).unwrap();
        let (b, _) = list.pop(&slots).unwrap();
        assert_eq!(list.push(&slots, a), 1);
        assert_eq!(list.pop(&slots), Some((a, 2)));
        assert_eq!(list.push(&slots, b), 1);
        assert_eq!(list.push(&slots, a), 0);
        assert_eq!(list.allocated(), 0);
    }

    #[test]
    fn forgetting_a_buffer_lowers_the_count_but_not_the_list() {
        let (list, slots) = pool(3);
        let (a, _) = list.pop(&slots).unwrap();
        let _ = a;
        assert_eq!(list.forget_one(), 0);
        assert_eq!(list.pop(&slots).map(|(_, c)| c), Some(1));
        assert_eq!(list.pop(&slots).map(|(_, c)| c), Some(2));
        assert_eq!(list.pop(&slots), None);
    }

    #[test]
    fn the_tag_changes_on_every_operation() {
        let (list, slots) = pool(1);
        let h0 = list.head.load(Ordering::Relaxed);
        list.pop(&slots).unwrap();
        list.push(&slots, 0);
        let h1 = list.head.load(Ordering::Relaxed);
        assert_eq!(top_of(h0), top_of(h1));
        assert_eq!(count_of(h0), count_of(h1));
        assert_ne!(h0, h1);
    }

    #[test]
    fn ownership_moves_once() {
        let slot = SlotControl::new(0);
        assert_eq!(slot.begin_release(), Err(Status::DoubleRelease));
        slot.mark_held();
        let word = slot.begin_release().expect("held");
        assert_eq!(slot_state(word), SLOT_RELEASING);
        assert_eq!(slot.begin_release(), Err(Status::DoubleRelease));
        slot.finish_release(word);
        assert_eq!(slot_state(slot.observe()), SLOT_FREE);
        assert_eq!(slot.begin_release(), Err(Status::DoubleRelease));
        slot.mark_held();
        let word = slot.begin_release().unwrap();
        slot.quarantine(word);
        assert_eq!(slot.begin_release(), Err(Status::Corrupted));
    }

    #[test]
    fn generations_advance_on_each_allocation() {
        let slot = SlotControl::new(0);
        slot.mark_held();
        let first = slot.observe();
        let w = slot.begin_release().unwrap();
        slot.finish_release(w);
        slot.mark_held();
        assert_ne!(first, slot.observe());
        assert_eq!(slot_state(slot.observe()), SLOT_HELD);
    }

    #[test]
    fn threads_never_share_a_slot() {
        use std::sync::atomic::AtomicU8;
        use std::sync::Arc;
        let (list, slots) = pool(4);
        let shared = Arc::new((list, slots, (0..4).map(|_| AtomicU8::new(0)).collect::<Vec<_>>()));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let s = Arc::clone(&shared);
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        if let Some((i, _)) = s.0.pop(&s.1) {
                            assert_eq!(s.2[i].fetch_add(1, Ordering::SeqCst), 0, "slot {i} handed out twice");
                            s.2[i].fetch_sub(1, Ordering::SeqCst);
                            s.0.push(&s.1, i);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(shared.0.allocated(), 0);
    }
}
