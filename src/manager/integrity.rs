//! The integrity sweep: every guard word and every free buffer's header checked once, for an
//! idle loop or a watchdog task. Lock-free and O(buffers), safe beside traffic from threads
//! and interrupt handlers.
//!
//! - A guard zone with a changed word is counted; its buffers are blamed by adjacency (see
//!   `guards`): a changed first word blames the buffer before the zone, a changed last word the
//!   buffer after it. A change confined to the inside of a zone reached neither buffer's data
//!   (a contiguous write would have changed an edge word first), so it blames neither.
//! - A free buffer's header must be as release (or init) left it: intact and with every
//!   field a holder may write zero. Anything else is a write after the release.
//! - A blamed buffer that is free is quarantined: one `fetch_and` on its pool's free word takes
//!   it out of the free set (if an allocation took it first, it is a held buffer now and is only
//!   reported); owning it, the sweep checks the damage again (what it read could have been an
//!   allocation's half-written stamp) and either quarantines it for good or gives it back.
//! - A blamed buffer that is held or queued is reported; its own release or hand-off finds
//!   the damaged guard word and quarantines it.
//!
//! While the sweep owns a free buffer to confirm its damage, an allocation from that pool may
//! find it empty.

use crate::geometry::{SLOT_PLACES, TOTAL_SLOTS};
use crate::manager::guards::{zone, GuardDamage};
use crate::manager::operations::Operation;
use crate::manager::refusal::Refusal;
use crate::manager::state_machine::{AES5_STATE_ACTIVE, AES5_STATE_ERROR, AES5_STATE_READY, AES5_STATE_WARNING};
use crate::manager::ManagerCore;
use crate::observability::integrity::{IntegrityReport, AES5_INTEGRITY_MAX_IDS};
use crate::platform::atomics::Ordering;
use crate::platform::in_place::put;
use crate::types::header::AudioBuffer;
use crate::types::refusal_reason::AES5_REFUSAL_WRITTEN_AFTER_RELEASE;
use crate::types::status::Status;

/// Why the sweep blames a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Blame {
    Guard(GuardDamage),
    FreeHeader,
}

/// A set of buffer ids (at most 3 × 32 buffers).
#[derive(Clone, Copy, Default)]
struct SlotSet(u128);

impl SlotSet {
    fn insert(&mut self, slot: usize) {
        if slot < 128 {
            self.0 |= 1 << slot;
        }
    }
    fn contains(&self, slot: usize) -> bool {
        slot < 128 && self.0 & (1 << slot) != 0
    }
}

impl ManagerCore {
    /// Why buffer `slot` is damaged now, if it is: a changed guard word adjacent to its data,
    /// or, when `free`, a header written after its release.
    fn damage_of(&self, slot: usize, free: bool) -> Option<Blame> {
        let place = SLOT_PLACES.get(slot)?;
        if let Err(damage) = self.check_guard_edges(place) {
            return Some(Blame::Guard(damage));
        }
        let header = self.headers.get(slot)?.get().cast_const();
        // SAFETY: one of this manager's headers; read field by field, volatile.
        (free && !unsafe { AudioBuffer::is_clean_free_at(header, &self.identity(slot, place)) })
            .then_some(Blame::FreeHeader)
    }

    /// True while the buffer at `place` is in its pool's free set.
    fn is_free(&self, place: &crate::geometry::SlotPlace) -> bool {
        self.pools.get(usize::from(place.pool)).is_some_and(|p| p.free_set() >> place.local & 1 != 0)
    }

    /// True while buffer `slot` is in its pool's free set.
    fn is_free_slot(&self, slot: usize) -> bool {
        SLOT_PLACES.get(slot).is_some_and(|place| self.is_free(place))
    }

    /// Takes free buffer `slot` out of service if it is still free and still damaged. True when
    /// this call quarantined it.
    fn quarantine_if_free_and_damaged(&self, slot: usize) -> bool {
        let (Some(place), Some(custody)) = (SLOT_PLACES.get(slot), self.custody.get(slot)) else {
            return false;
        };
        let (pool_index, local) = (usize::from(place.pool), usize::from(place.local));
        let Some(pool) = self.pools.get(pool_index) else {
            return false;
        };
        if !pool.take_if_free(local) {
            return false;
        }
        // The buffer is this call's now, as if allocated: check again.
        let Some(blame) = self.damage_of(slot, true) else {
            pool.give_back(local);
            self.complete_shutdown_if_drained();
            return false;
        };
        custody.quarantine_owned();
        pool.quarantine(local);
        self.counters.corruption_detected.fetch_add(1, Ordering::Relaxed);
        if matches!(blame, Blame::Guard(_)) {
            self.counters.overruns_detected.fetch_add(1, Ordering::Relaxed);
        }
        self.enter_error();
        self.complete_shutdown_if_drained();
        self.log_sweep_quarantine(slot, blame);
        true
    }

    /// Moves a healthy manager to Error (damage was found).
    pub(crate) fn enter_error(&self) {
        loop {
            let state = self.state();
            let healthy = matches!(state, AES5_STATE_READY | AES5_STATE_ACTIVE | AES5_STATE_WARNING);
            if !healthy || self.change_state(state, AES5_STATE_ERROR) {
                break;
            }
        }
    }

    /// Keeps and logs a quarantine by the sweep, as a refusal of `check_integrity`.
    #[cold]
    fn log_sweep_quarantine(&self, slot: usize, blame: Blame) {
        let mut refusal = match blame {
            Blame::Guard(damage) => Refusal::guard(Operation::CheckIntegrity, slot, damage),
            Blame::FreeHeader => {
                Refusal::new(Operation::CheckIntegrity, Status::Corrupted, AES5_REFUSAL_WRITTEN_AFTER_RELEASE)
                    .about(slot as u32, 0)
            }
        };
        refusal.quarantined_now = true;
        self.keep_and_log(&refusal);
    }

    /// The sweep; writes the report into `out`.
    ///
    /// # Safety
    /// `out` must be valid for writes and aligned (its contents may be uninitialised).
    pub(crate) unsafe fn check_integrity(&self, out: *mut IntegrityReport) {
        let mut damaged_guards = 0u32;
        // Buffers blamed (guard words next to their data changed, or a confirmed free header),
        // and those already quarantined here.
        let (mut blamed, mut confirmed) = (SlotSet::default(), SlotSet::default());
        for index in 0..=TOTAL_SLOTS {
            let Some(z) = zone(index) else { continue };
            let (first, last, any) = self.zone_damage(&z);
            damaged_guards += u32::from(any);
            if let (true, Some(before)) = (first, z.before) {
                blamed.insert(before);
            }
            if let (true, Some(after)) = (last, z.after) {
                blamed.insert(after);
            }
        }
        // A free header that reads as written after its release may be an allocation's stamp
        // caught half-way: only one confirmed by owning the buffer counts.
        let (mut damaged_free_headers, mut quarantined) = (0u32, 0u32);
        for (slot, place) in SLOT_PLACES.iter().enumerate() {
            if blamed.contains(slot) || !self.is_free(place) || self.damage_of(slot, true) != Some(Blame::FreeHeader) {
                continue;
            }
            if self.quarantine_if_free_and_damaged(slot) {
                damaged_free_headers += 1;
                quarantined += 1;
                blamed.insert(slot);
                confirmed.insert(slot);
            }
        }
        let mut damaged_count = 0u32;
        // SAFETY: `out` is valid for writes (the caller's contract), so is its array field.
        let ids = unsafe { core::ptr::addr_of_mut!((*out).damaged_ids) }.cast::<u32>();
        for slot in (0..TOTAL_SLOTS).filter(|&slot| blamed.contains(slot)) {
            if damaged_count < AES5_INTEGRITY_MAX_IDS {
                // SAFETY: `damaged_count` < the array's length; `out` is writable.
                unsafe { ids.add(damaged_count as usize).write(slot as u32) };
            }
            damaged_count += 1;
            if !confirmed.contains(slot) && self.is_free_slot(slot) {
                quarantined += u32::from(self.quarantine_if_free_and_damaged(slot));
            }
        }
        for index in damaged_count.min(AES5_INTEGRITY_MAX_IDS)..AES5_INTEGRITY_MAX_IDS {
            // SAFETY: as above.
            unsafe { ids.add(index as usize).write(0) };
        }
        put!(out, buffers_checked, TOTAL_SLOTS as u32);
        put!(out, damaged_guards, damaged_guards);
        put!(out, damaged_free_headers, damaged_free_headers);
        put!(out, quarantined, quarantined);
        put!(out, damaged_count, damaged_count);
    }
}
