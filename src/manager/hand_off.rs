//! Enqueue and dequeue: the hand-offs between pipeline stages, through the manager's
//! hand-off queues, with the buffer's custody changing hands in one atomic step each way.
//!
//! Enqueue is release's twin: the same state check, pointer proof and header check, then the
//! custody word moves from *held* to *queued* in one compare-and-swap (of two racing enqueues
//! or an enqueue and a release of one buffer, exactly one wins), then the slot goes into the
//! queue's ring. Dequeue takes the oldest slot from the ring (of two racing consumers exactly
//! one gets it) and puts the buffer into the caller's hands. Both are lock-free and O(1); with
//! monitoring and a clock they read the clock once, to time the hand-off.

use core::ptr::NonNull;

use crate::geometry::{SLOT_PLACES, TOTAL_SLOTS};
use crate::manager::custody::queued_in;
use crate::manager::operations::{Damage, Operation};
use crate::manager::refusal::Refusal;
use crate::manager::state_machine::ManagerState;
use crate::manager::ManagerCore;
use crate::observability::hand_offs::QueueStatistics;
use crate::platform::atomics::{widen, Ordering};
use crate::types::header::AudioBuffer;
use crate::types::refusal_reason::AES5_REFUSAL_BAD_QUEUE_ENTRY;
use crate::types::status::Status;

impl ManagerCore {
    /// Hands `buffer`, held by the caller, to queue `queue`.
    #[inline]
    pub(crate) fn enqueue(&self, queue: u32, buffer: *const AudioBuffer) -> Result<(), Status> {
        let state = self.state.load(Ordering::Relaxed);
        if !ManagerState::allows_release(state) {
            return Err(self.refuse_in_state(Operation::Enqueue, state));
        }
        let Some(target) = self.queues.get(queue as usize) else {
            return Err(self.refuse(Self::bad_queue(Operation::Enqueue, queue)));
        };
        let queue = queue as usize;
        let Some((slot, place, custody)) =
            self.slot_of(buffer).and_then(|slot| Some((slot, SLOT_PLACES.get(slot)?, self.custody.get(slot)?)))
        else {
            return Err(self.refuse_pointer(Operation::Enqueue, buffer));
        };
        if self.config.validation {
            // The stage that overran is caught at its own hand-off, not two stages later. The
            // guards first, as release checks them.
            if let Err(damage) = self.check_guard_edges(place) {
                return Err(self.hand_off_damaged(Operation::Enqueue, slot, Damage::Guard(damage)));
            }
            // SAFETY: `slot_of` proved `buffer` is exactly this manager's header `slot`.
            if !unsafe { AudioBuffer::is_intact_at(buffer, &self.identity(slot, place)) } {
                return Err(self.hand_off_damaged(Operation::Enqueue, slot, Damage::Header));
            }
        }
        let timed = self.is_timed();
        match custody.take_from_holder(queued_in(queue), timed) {
            Ok(word) if timed => custody.record_hand_off(word, self.config.clock.now()),
            Ok(_) => {}
            Err(word) => return Err(self.refuse_not_held(Operation::Enqueue, slot, word)),
        }
        target.push(slot);
        Ok(())
    }

    /// Takes the oldest buffer of queue `queue` into the caller's hands.
    #[inline]
    pub(crate) fn dequeue(&self, queue: u32) -> Result<NonNull<AudioBuffer>, Status> {
        let state = self.state.load(Ordering::Relaxed);
        if !ManagerState::allows_release(state) {
            return Err(self.refuse_in_state(Operation::Dequeue, state));
        }
        let Some(source) = self.queues.get(queue as usize) else {
            return Err(self.refuse(Self::bad_queue(Operation::Dequeue, queue)));
        };
        let queue = queue as usize;
        // An empty queue is the normal answer of a polling consumer: neither logged nor
        // counted.
        let slot = source.pop().ok_or(Status::QueueEmpty)?;
        let (Some(custody), Some(cell)) = (self.custody.get(slot), self.headers.get(slot)) else {
            // A cell holds only slots enqueued from this manager's own headers.
            let refusal = Refusal::new(Operation::Dequeue, Status::Corrupted, AES5_REFUSAL_BAD_QUEUE_ENTRY);
            return Err(self.refuse(refusal.about(queue as u32, slot as u32)));
        };
        let now = if self.is_timed() { Some(self.config.clock.now()) } else { None };
        custody.dequeued(queue, now);
        // SAFETY: a header cell's pointer is never null.
        Ok(unsafe { NonNull::new_unchecked(cell.get()) })
    }

    /// The statistics of queue `queue`, or `None` when there is no such queue.
    pub(crate) fn queue_statistics(&self, queue: u32) -> Option<QueueStatistics> {
        let counts = self.queues.get(queue as usize)?.counts(TOTAL_SLOTS as u32);
        Some(QueueStatistics {
            length: counts.length,
            peak_length: counts.peak_length,
            total_enqueued: widen(counts.enqueued),
            total_dequeued: widen(counts.dequeued),
        })
    }
}
