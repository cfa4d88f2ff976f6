//! The hot path: allocate, release and validate (their refusals are counted, kept and logged
//! by `refusal`).
//!
//! Allocate and release are lock-free and O(1), one atomic step each on the pool's free word
//! (see `pool`): allocate clears the buffer's bit with a compare-and-swap, release sets it
//! with a `fetch_or` whose old value refuses a double release. Nothing else on their path is a
//! read-modify-write (a new peak aside); the counts are derived when read. With performance
//! monitoring off they read no clock. Refusals and monitoring are out of line.

use core::ptr::NonNull;

use crate::geometry::{SlotPlace, POOLS, POOL_CAPACITY, POOL_COUNT, POOL_FIRST_SLOT, SLOT_PLACES};
use crate::manager::accepted_formats::FormatKey;
use crate::manager::custody::{place_of, Place, JUST_ALLOCATED, PLACE_QUARANTINED};
use crate::manager::guards::GuardDamage;
use crate::manager::monitoring::SampleKind;
use crate::manager::refusal::Refusal;
use crate::manager::state_machine::{
    ManagerState, AES5_STATE_ACTIVE, AES5_STATE_READY, AES5_STATE_SHUTTING_DOWN, AES5_STATE_WARNING,
};
use crate::manager::ManagerCore;
use crate::platform::atomics::{low_u32, Ordering};
use crate::types::format::AudioFormat;
use crate::types::header::{AudioBuffer, PreparedFormat, SlotIdentity};
use crate::types::refusal_reason::*;
use crate::types::status::Status;

/// Which call refused, for the debug log and the last-refusal record (numbered there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Operation {
    Allocate,
    Release,
    Validate,
    Shutdown,
    Transition,
    Enqueue,
    Dequeue,
    CheckIntegrity,
}

impl Operation {
    const ALL: [Operation; 8] = [
        Operation::Allocate,
        Operation::Release,
        Operation::Validate,
        Operation::Shutdown,
        Operation::Transition,
        Operation::Enqueue,
        Operation::Dequeue,
        Operation::CheckIntegrity,
    ];

    /// The operation numbered `raw` (`operation as u32`).
    pub(crate) fn from_raw(raw: u32) -> Option<Operation> {
        Operation::ALL.get(raw as usize).copied()
    }

    /// The call's name without the `aes5_buffer_manager_` prefix, NUL-terminated.
    pub(crate) fn name(self) -> &'static [u8] {
        match self {
            Operation::Allocate => b"allocate\0",
            Operation::Release => b"release\0",
            Operation::Validate => b"validate_buffer\0",
            Operation::Shutdown => b"shutdown\0",
            Operation::Transition => b"transition_state\0",
            Operation::Enqueue => b"enqueue\0",
            Operation::Dequeue => b"dequeue\0",
            Operation::CheckIntegrity => b"check_integrity\0",
        }
    }
}

/// Attempts of `validate` to read a header while its buffer stays held by the same allocation.
const VALIDATE_ATTEMPTS: usize = 4;

impl ManagerCore {
    /// Counts, keeps and logs an allocation refused for its format, naming the field and the
    /// rule.
    #[cold]
    #[inline(never)]
    fn refuse_format(&self, status: Status, format: &AudioFormat, pool: usize) -> Status {
        let problem = self.format_problem_for(format, pool);
        self.refuse(Refusal::new(Operation::Allocate, status, AES5_REFUSAL_BAD_FORMAT).about(problem, pool as u32))
    }

    /// Why `format` is refused for pool `pool` (`AES5_FORMAT_OK` if it is not).
    pub(crate) fn format_problem_for(
        &self,
        format: &AudioFormat,
        pool: usize,
    ) -> crate::types::format_problem::Aes5FormatProblem {
        use crate::types::format_problem::{format_problem, AES5_FORMAT_ABOVE_CAPACITY, AES5_FORMAT_OK};
        match format_problem(format, &self.config.limits) {
            AES5_FORMAT_OK => match (format.validate(&self.config.limits), POOLS.get(pool)) {
                (Ok(bytes), Some(shape)) if bytes as usize > shape.capacity => AES5_FORMAT_ABOVE_CAPACITY,
                _ => AES5_FORMAT_OK,
            },
            problem => problem,
        }
    }

    /// The identity slot `slot`, at `place`, must have, computed from the layout alone.
    #[inline(always)]
    pub(crate) fn identity(&self, slot: usize, place: &SlotPlace) -> SlotIdentity {
        SlotIdentity {
            buffer_id: slot as u32,
            buffer_type: place.pool,
            capacity: place.capacity as usize,
            data: (self.data_base + place.data_offset as usize) as *mut u8,
        }
    }

    /// Allocates a buffer of `raw_type` for `format`.
    #[inline]
    pub(crate) fn allocate(&self, raw_type: u32, format: &AudioFormat) -> Result<NonNull<AudioBuffer>, Status> {
        let start_ns = if self.is_timed() { self.config.clock.now() } else { 0 };
        // An early refusal only: the check that counts is the one after the take.
        let state = self.state.load(Ordering::Relaxed);
        if !ManagerState::allows_allocation(state) {
            return Err(self.refuse_in_state(Operation::Allocate, state));
        }
        let pool_index = raw_type as usize;
        let (Some(pool), Some(&capacity)) = (self.pools.get(pool_index), POOL_CAPACITY.get(pool_index)) else {
            return Err(self.refuse(Self::no_pool(raw_type)));
        };
        let key = FormatKey::of(format);
        let prepared = match self.accepted_formats.find(&key, pool_index as u8) {
            Some(prepared) => prepared,
            None => self.accept_new_format(&key, format, pool_index)?,
        };
        if prepared.bytes as usize > capacity {
            return Err(self.refuse_format(Status::FormatTooLarge, format, pool_index));
        }
        let Some((local, free_after)) = pool.take() else {
            return Err(self.pool_exhausted(pool_index, state, start_ns));
        };
        // Shutdown may have begun since the first state check: never hand out a buffer then.
        // The take acquired from shutdown's read of the free word if it came after it, so
        // this load sees the state shutdown stored before that read.
        let state = self.state.load(Ordering::Relaxed);
        if !ManagerState::allows_allocation(state) {
            return Err(self.undo_allocation(pool_index, local, state));
        }
        let slot = POOL_FIRST_SLOT[pool_index] + local;
        let (Some(generation), Some(cell), Some(place), Some(custody)) =
            (self.generations.get(slot), self.headers.get(slot), SLOT_PLACES.get(slot), self.custody.get(slot))
        else {
            return Err(self.undo_allocation(pool_index, local, state));
        };
        let sequence = generation.load(Ordering::Relaxed).wrapping_add(1);
        // SAFETY: the take made this call the buffer's only owner; no one else writes the
        // header until the caller gets it, and readers only read it.
        let header = unsafe { &mut *cell.get() };
        if !self.config.validation {
            // Never checked on release, so possibly damaged: restore the identity.
            header.restore_identity(&self.identity(slot, place));
        }
        header.stamp(slot as u32, low_u32(sequence), &prepared, start_ns);
        // Relaxed: the count is for readers of statistics; the buffer itself is published by
        // returning it to the caller.
        generation.store(sequence, Ordering::Relaxed);
        // Into the caller's hands; the store publishes the count to the held-buffer finder.
        // (With timing, `after_allocation` records the hand-off time.)
        custody.allocated();
        let held = pool.held_after(free_after);
        pool.note_held(held);
        if state != AES5_STATE_ACTIVE || pool.crowded_with(held) || self.is_monitored() {
            self.after_allocation(pool_index, slot, state, held, start_ns);
        }
        Ok(NonNull::from(header))
    }

    /// Validates a format not accepted before and remembers it, or refuses the allocation.
    #[cold]
    #[inline(never)]
    fn accept_new_format(&self, key: &FormatKey, format: &AudioFormat, pool: usize) -> Result<PreparedFormat, Status> {
        match format.validate(&self.config.limits) {
            Ok(bytes) => {
                self.accepted_formats.remember(key, bytes);
                Ok(PreparedFormat::new(key.words(pool as u8), bytes))
            }
            Err(status) => Err(self.refuse_format(status, format, pool)),
        }
    }

    /// The refusal for a buffer type without a pool: a named type or an invalid number.
    #[cold]
    fn no_pool(raw_type: u32) -> Refusal {
        let refusal = match crate::types::buffer_type::BufferType::from_raw(raw_type) {
            Some(_) => Refusal::new(Operation::Allocate, Status::NoPoolForType, AES5_REFUSAL_NO_POOL),
            None => Refusal::new(Operation::Allocate, Status::InvalidArgument, AES5_REFUSAL_BAD_BUFFER_TYPE),
        };
        refusal.about(raw_type, 0)
    }

    /// Gives back a buffer taken by an allocation that shutdown overtook.
    #[cold]
    fn undo_allocation(&self, pool: usize, local: usize, state: u32) -> Status {
        if let Some(words) = self.pools.get(pool) {
            words.give_back(local);
        }
        self.complete_shutdown_if_drained();
        self.refuse_in_state(Operation::Allocate, state)
    }

    /// State changes and monitoring after an allocation of buffer `slot`, when anything is to
    /// be done: the first allocation (Ready → Active), a crowded pool, Warning, or monitoring
    /// on (then, with a clock, the allocation's hand-off time is recorded too).
    #[cold]
    fn after_allocation(&self, pool: usize, slot: usize, state: u32, allocated: u32, start_ns: u64) {
        if let (true, Some(custody)) = (self.is_timed(), self.custody.get(slot)) {
            custody.record_hand_off(JUST_ALLOCATED, start_ns);
        }
        let mut state = state;
        let mut above = self.crowds(pool, allocated);
        if state == AES5_STATE_READY {
            // First allocation since init or recovery: other pools may already be crowded
            // (buffers held across an Error → Ready recovery).
            self.change_state(AES5_STATE_READY, AES5_STATE_ACTIVE);
            state = self.state();
            above = above || self.any_pool_crowded();
        }
        if above && state == AES5_STATE_ACTIVE {
            self.enter_warning();
        } else if state == AES5_STATE_WARNING {
            self.maybe_leave_warning();
        }
        if self.is_monitored() {
            self.monitor(pool, SampleKind::Allocate, true, allocated, start_ns, 0);
        }
    }

    #[cold]
    fn pool_exhausted(&self, pool: usize, state: u32, start_ns: u64) -> Status {
        if state == AES5_STATE_ACTIVE {
            self.enter_warning();
        }
        if let Some(counters) = self.pool_counters.get(pool) {
            counters.allocation_failures.fetch_add(1, Ordering::Relaxed);
            if self.is_monitored() {
                let allocated = self.held_in(pool);
                self.monitor(pool, SampleKind::Allocate, false, allocated, start_ns, 0);
            }
        }
        let refusal = Refusal::new(Operation::Allocate, Status::PoolExhausted, AES5_REFUSAL_POOL_EXHAUSTED);
        self.keep_and_log(&refusal.about(pool as u32, Self::pool_size(pool)));
        Status::PoolExhausted
    }

    /// Buffers held from pool `pool` now.
    pub(crate) fn held_in(&self, pool: usize) -> u32 {
        self.pools.get(pool).map_or(0, crate::manager::pool::PoolWords::held)
    }

    /// Releases `buffer`, which must be a header this manager handed out and still held.
    #[inline]
    pub(crate) fn release(&self, buffer: *const AudioBuffer) -> Result<(), Status> {
        let start_ns = if self.is_timed() { self.config.clock.now() } else { 0 };
        // An early refusal only (a stale state here still meets the free word's verdict).
        let state = self.state.load(Ordering::Relaxed);
        if !ManagerState::allows_release(state) {
            return Err(self.refuse_in_state(Operation::Release, state));
        }
        let Some((slot, place)) = self.slot_of(buffer).and_then(|slot| Some((slot, SLOT_PLACES.get(slot)?))) else {
            return Err(self.refuse_pointer(Operation::Release, buffer));
        };
        let (pool_index, local) = (usize::from(place.pool), usize::from(place.local));
        let (Some(pool), Some(custody)) = (self.pools.get(pool_index), self.custody.get(slot)) else {
            return Err(self.refuse_pointer(Operation::Release, buffer));
        };
        if self.config.validation {
            // The guards first: two words, checked before the header's fields are loaded.
            if let Err(damage) = self.check_guard_edges(place) {
                return Err(self.hand_off_damaged(Operation::Release, slot, Damage::Guard(damage)));
            }
            // SAFETY: `slot_of` proved `buffer` is exactly this manager's header `slot`.
            if !unsafe { AudioBuffer::is_intact_at(buffer, &self.identity(slot, place)) } {
                return Err(self.hand_off_damaged(Operation::Release, slot, Damage::Header));
            }
        }
        let allocated_at = if self.is_timed() {
            // SAFETY: as above; the caller is giving the buffer up.
            unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*buffer).allocation_time_ns)) }
        } else {
            0
        };
        // The ownership step: of two racing releases or enqueues of this buffer exactly one
        // finds it held. A quarantined, queued or free buffer is refused here, unchanged.
        if let Err(word) = custody.release_from_holder() {
            return Err(self.refuse_not_held(Operation::Release, slot, word));
        }
        // The buffer is this call's until the give-back: clear what a holder may write, so a
        // write after the release shows in the free header (the integrity sweep looks).
        // SAFETY: as above, and no one else owns the buffer now.
        unsafe { AudioBuffer::clear_caller_fields(buffer.cast_mut()) };
        let was_held = pool.give_back(local);
        debug_assert!(was_held, "a buffer the custody word held was in the free set");
        // Ordered after the give-back, which acquired from shutdown's read of the free word
        // if it came after it: a pending shutdown is seen here and completed.
        let state = self.state.load(Ordering::Relaxed);
        if state != AES5_STATE_ACTIVE || self.is_monitored() {
            self.after_release(pool_index, state, start_ns, allocated_at);
        }
        Ok(())
    }

    /// State changes and monitoring after a release outside plain Active.
    #[cold]
    fn after_release(&self, pool: usize, state: u32, start_ns: u64, allocated_at: u64) {
        if state == AES5_STATE_WARNING {
            self.maybe_leave_warning();
        } else if state == AES5_STATE_SHUTTING_DOWN {
            self.complete_shutdown_if_drained();
        }
        if self.is_monitored() {
            let allocated = self.held_in(pool);
            self.monitor(pool, SampleKind::Release, true, allocated, start_ns, allocated_at);
        }
    }

    /// A release or an enqueue found the buffer damaged: its header, or a guard word next to
    /// its data. A held buffer is taken out of service for good and the manager goes to
    /// Error; a free, queued or quarantined one is refused with its place's status and stays as
    /// it is.
    #[cold]
    pub(crate) fn hand_off_damaged(&self, operation: Operation, slot: usize, damage: Damage) -> Status {
        let Some(custody) = self.custody.get(slot) else {
            return self.refuse(Refusal::new(operation, Status::ForeignBuffer, AES5_REFUSAL_MANAGER_RECORDS));
        };
        if let Err(word) = custody.take_from_holder(PLACE_QUARANTINED, false) {
            return self.refuse_not_held(operation, slot, word);
        }
        if let Some(place) = SLOT_PLACES.get(slot) {
            if let Some(pool) = self.pools.get(usize::from(place.pool)) {
                pool.quarantine(usize::from(place.local));
                self.note_quarantined_from_holder(usize::from(place.pool));
            }
        }
        self.counters.corruption_detected.fetch_add(1, Ordering::Relaxed);
        self.enter_error();
        self.complete_shutdown_if_drained();
        match damage {
            Damage::Header => self.refuse_damaged_header(operation, slot, true),
            Damage::Guard(guard) => {
                self.counters.overruns_detected.fetch_add(1, Ordering::Relaxed);
                let mut refusal = Refusal::guard(operation, slot, guard);
                refusal.quarantined_now = true;
                self.refuse(refusal)
            }
        }
    }

    /// Reports whether `buffer` is held and intact; changes nothing.
    pub(crate) fn validate(&self, buffer: *const AudioBuffer) -> Result<(), Status> {
        let Some((slot, place)) = self.slot_of(buffer).and_then(|slot| Some((slot, SLOT_PLACES.get(slot)?))) else {
            return Err(self.refuse_pointer(Operation::Validate, buffer));
        };
        let (Some(custody), Some(generation)) = (self.custody.get(slot), self.generations.get(slot)) else {
            return Err(self.refuse_pointer(Operation::Validate, buffer));
        };
        let identity = self.identity(slot, place);
        let mut finding = Finding::Intact;
        // A header read is trusted only if the buffer stayed in the same hands around it (its
        // custody word and its allocation count unchanged). A caller validating a buffer it
        // holds always gets a stable reading; a buffer changing hands on every attempt gets
        // the verdict of the last read.
        for _ in 0..VALIDATE_ATTEMPTS {
            let allocation = generation.load(Ordering::Acquire);
            let word = custody.word();
            if !matches!(place_of(word), Place::Held { .. }) {
                finding = Finding::NotHeld(word);
                break;
            }
            // SAFETY: `slot_of` proved `buffer` is exactly this manager's header `slot`.
            let intact = unsafe { AudioBuffer::is_intact_at(buffer, &identity) };
            finding = match (self.check_guard_edges(place), intact) {
                (Err(damage), _) => Finding::Damaged(Damage::Guard(damage)),
                (Ok(()), false) => Finding::Damaged(Damage::Header),
                (Ok(()), true) => Finding::Intact,
            };
            if custody.word() == word && generation.load(Ordering::Acquire) == allocation {
                break;
            }
        }
        match finding {
            Finding::Intact => Ok(()),
            Finding::NotHeld(word) => Err(self.refuse_not_held(Operation::Validate, slot, word)),
            Finding::Damaged(Damage::Header) => Err(self.refuse_damaged_header(Operation::Validate, slot, false)),
            Finding::Damaged(Damage::Guard(damage)) => {
                Err(self.refuse(Refusal::guard(Operation::Validate, slot, damage)))
            }
        }
    }
}

/// What `validate` found.
#[derive(Clone, Copy)]
enum Finding {
    Intact,
    /// Not in a caller's hands: its custody word.
    NotHeld(u32),
    Damaged(Damage),
}

/// What a hand-off found damaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Damage {
    /// The header: magic, identity, checksum or size.
    Header,
    /// A guard word next to the data.
    Guard(GuardDamage),
}

// Allocate indexes the pools by the raw buffer type: the pooled types are numbered 0, 1, 2.
static_assertions::const_assert!(POOL_COUNT == 3);
static_assertions::const_assert!(matches!(crate::types::buffer_type::BufferType::Scratch.pool(), Some(2)));
static_assertions::const_assert!(matches!(crate::types::buffer_type::BufferType::Conversion.pool(), Some(1)));
static_assertions::const_assert!(matches!(crate::types::buffer_type::BufferType::Primary.pool(), Some(0)));
