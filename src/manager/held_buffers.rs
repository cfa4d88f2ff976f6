//! The held-buffer finder: every buffer that is not free, where it is now (a caller's hands or
//! a queue) and since when; and the oldest such hand-off, for the performance report.
//!
//! It reads each buffer's custody word, allocation count, allocation time and hand-off time
//! between two readings of the same even custody word (see `custody`), so an entry may be
//! stale by the time the caller reads it, but it never mixes two hand-offs. A hand-off caught
//! while it happens is listed at its new place with the finder's own clock reading as its time
//! (and its allocation time, when the buffer keeps changing hands too fast to read). Lock-free,
//! O(buffers), safe beside any traffic.

use crate::geometry::SLOT_PLACES;
use crate::manager::custody::{place_of, Place};
use crate::manager::ManagerCore;
use crate::observability::hand_offs::{HeldBuffer, AES5_NO_QUEUE};
use crate::platform::atomics::{low_u32, Ordering};
use crate::platform::in_place::put;

/// Where a buffer that is not free is, as `(queue, last_queue)`; `None` for a free or
/// quarantined buffer.
fn whereabouts(word: u32) -> Option<(u32, u32)> {
    match place_of(word) {
        Place::Held { last_queue } => Some((AES5_NO_QUEUE, last_queue.map_or(AES5_NO_QUEUE, u32::from))),
        Place::Queued(queue) => Some((u32::from(queue), AES5_NO_QUEUE)),
        Place::Free | Place::Quarantined => None,
    }
}

impl ManagerCore {
    /// The finder's entry for buffer `slot`, or `None` when it is free or quarantined. `now`
    /// stands for the times of a hand-off caught while it happens.
    pub(crate) fn held_buffer(&self, slot: usize, now: u64) -> Option<HeldBuffer> {
        let (custody, generation, cell, place) =
            (self.custody.get(slot)?, self.generations.get(slot)?, self.headers.get(slot)?, SLOT_PLACES.get(slot)?);
        let header = cell.get();
        let also = || {
            // SAFETY: the header is this manager's own; the volatile read judges the field
            // once, whoever writes it.
            let allocated = unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*header).allocation_time_ns)) };
            (low_u32(generation.load(Ordering::Relaxed)), allocated)
        };
        let (word, hand_off_ns, (sequence, allocated_ns)) = match custody.read_with(self.is_timed(), also) {
            Ok((reading, extra)) => (reading.word, reading.hand_off_ns, extra),
            Err(word) => (word, now, (low_u32(generation.load(Ordering::Relaxed)), now)),
        };
        let (queue, last_queue) = whereabouts(word)?;
        Some(HeldBuffer {
            buffer_id: slot as u32,
            buffer_type: u32::from(place.pool),
            sequence_number: sequence,
            queue,
            last_queue,
            allocation_time_ns: allocated_ns,
            last_hand_off_ns: hand_off_ns,
        })
    }

    /// Writes the finder's entries, at most `capacity` of them, into `out`; returns how many
    /// buffers it found (possibly more than `capacity`).
    ///
    /// # Safety
    /// `out` must be valid for writes of `capacity` entries and aligned (when `capacity` is 0
    /// it is not used).
    pub(crate) unsafe fn write_held_buffers(&self, out: *mut HeldBuffer, capacity: u32) -> u32 {
        let now = if self.is_timed() { self.config.clock.now() } else { 0 };
        let mut found = 0u32;
        for slot in 0..SLOT_PLACES.len() {
            let Some(entry) = self.held_buffer(slot, now) else {
                continue;
            };
            if found < capacity {
                // SAFETY: `found` < `capacity`, inside the caller's array.
                let target = unsafe { out.add(found as usize) };
                put!(target, buffer_id, entry.buffer_id);
                put!(target, buffer_type, entry.buffer_type);
                put!(target, sequence_number, entry.sequence_number);
                put!(target, queue, entry.queue);
                put!(target, last_queue, entry.last_queue);
                put!(target, allocation_time_ns, entry.allocation_time_ns);
                put!(target, last_hand_off_ns, entry.last_hand_off_ns);
            }
            found += 1;
        }
        found
    }

    /// The buffer that has stayed longest in one place (a caller's hands or one queue) and
    /// for how long at `now`: `(buffer_id, age_ns)`. `None` without a clock, or when every
    /// buffer is free.
    pub(crate) fn oldest_hand_off(&self, now: u64) -> Option<(u32, u64)> {
        if !self.is_timed() {
            return None;
        }
        let mut oldest: Option<(u32, u64)> = None;
        for slot in 0..SLOT_PLACES.len() {
            let Some(entry) = self.held_buffer(slot, now) else {
                continue;
            };
            let age = now.saturating_sub(entry.last_hand_off_ns);
            if oldest.map_or(true, |(_, longest)| age > longest) {
                oldest = Some((entry.buffer_id, age));
            }
        }
        oldest
    }
}
