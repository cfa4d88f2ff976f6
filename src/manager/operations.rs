//! The hot path: allocate, release and validate, and how refused calls are counted and logged.
//!
//! Allocate and release are lock-free and O(1), one atomic step each on the pool's free word
//! (see `pool`): allocate clears the buffer's bit with a compare-and-swap, release sets it
//! with a `fetch_or` whose old value refuses a double release. Nothing else on their path is a
//! read-modify-write (a new peak aside); the counts are derived when read. With performance
//! monitoring off they read no clock. Refusals and monitoring are out of line.

use core::ptr::NonNull;

use crate::geometry::{SlotPlace, POOLS, POOL_CAPACITY, POOL_COUNT, POOL_FIRST_SLOT, SLOT_PLACES};
use crate::manager::custody::{place_of, Place, JUST_ALLOCATED, PLACE_QUARANTINED};
use crate::manager::detail_text::DetailText;
use crate::manager::guards::GuardDamage;
use crate::manager::monitoring::SampleKind;
use crate::manager::state_machine::{
    ManagerState, AES5_STATE_ACTIVE, AES5_STATE_READY, AES5_STATE_SHUTTING_DOWN, AES5_STATE_WARNING,
};
use crate::manager::ManagerCore;
use crate::platform::atomics::{low_u32, Ordering};
use crate::types::format::AudioFormat;
use crate::types::header::{AudioBuffer, FormatWords, SlotIdentity};
use crate::types::status::Status;

/// Which call refused, for the debug log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    fn name(self) -> &'static [u8] {
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
    fn log(&self, operation: Operation, status: Status) {
        self.log_with(operation, status, crate::types::status::describe(status.code()));
    }

    /// Logs a refusal with `detail`, a static NUL-terminated text, for `log_detail`.
    fn log_with(&self, operation: Operation, status: Status, detail: &'static [u8]) {
        self.log_text(operation, status, detail);
    }

    /// Logs a refusal with `detail`, a NUL-terminated text valid during the call (composed
    /// for this refusal), for `log_detail`.
    pub(crate) fn log_text(&self, operation: Operation, status: Status, detail: &[u8]) {
        let name = operation.name().as_ptr().cast();
        if let Some(log) = self.config.log {
            // SAFETY: the integrator supplied this callback and context for exactly this use;
            // the operation name is a static NUL-terminated string.
            unsafe { log(self.config.log_context, status.code(), name) };
        }
        if let Some(log_detail) = self.config.log_detail {
            // SAFETY: as above; `detail` is NUL-terminated and lives until the call returns.
            unsafe { log_detail(self.config.log_context, status.code(), name, detail.as_ptr().cast()) };
        }
    }

    /// Counts and logs an allocation refused for its format, naming the field and the rule.
    #[cold]
    #[inline(never)]
    fn refuse_format(&self, status: Status, format: &AudioFormat, pool: usize) -> Status {
        self.counters.rejected_allocations.fetch_add(1, Ordering::Relaxed);
        self.count_validation(status);
        if self.config.log.is_some() || self.config.log_detail.is_some() {
            let problem = self.format_problem_for(format, pool);
            self.log_with(Operation::Allocate, status, crate::types::format_problem::describe_problem(problem));
        }
        status
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

    pub(crate) fn count_validation(&self, status: Status) {
        if status.is_validation_error() {
            self.counters.validation_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts and logs an allocation refused for a reason other than an empty pool.
    #[cold]
    #[inline(never)]
    pub(crate) fn refuse_allocation(&self, status: Status) -> Status {
        self.counters.rejected_allocations.fetch_add(1, Ordering::Relaxed);
        self.count_validation(status);
        self.log(Operation::Allocate, status);
        status
    }

    /// Counts and logs a refused release.
    #[cold]
    #[inline(never)]
    pub(crate) fn refuse_release(&self, status: Status) -> Status {
        self.counters.rejected_releases.fetch_add(1, Ordering::Relaxed);
        self.count_validation(status);
        self.log(Operation::Release, status);
        status
    }

    /// Logs a refusal of a call that has no failure counter of its own.
    #[cold]
    pub(crate) fn refuse_other(&self, operation: Operation, status: Status) -> Status {
        self.log(operation, status);
        status
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
            return Err(self.refuse_allocation(Status::InvalidState));
        }
        let pool_index = raw_type as usize;
        let (Some(pool), Some(&capacity)) = (self.pools.get(pool_index), POOL_CAPACITY.get(pool_index)) else {
            return Err(self.refuse_allocation(Self::no_pool_status(raw_type)));
        };
        let bytes = match format.validate(&self.config.limits) {
            Ok(bytes) => bytes,
            Err(status) => return Err(self.refuse_format(status, format, pool_index)),
        };
        if bytes as usize > capacity {
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
            return Err(self.undo_allocation(pool_index, local));
        }
        let slot = POOL_FIRST_SLOT[pool_index] + local;
        let (Some(generation), Some(cell), Some(place), Some(custody)) =
            (self.generations.get(slot), self.headers.get(slot), SLOT_PLACES.get(slot), self.custody.get(slot))
        else {
            return Err(self.undo_allocation(pool_index, local));
        };
        let sequence = generation.load(Ordering::Relaxed).wrapping_add(1);
        // SAFETY: the take made this call the buffer's only owner; no one else writes the
        // header until the caller gets it, and readers only read it.
        let header = unsafe { &mut *cell.get() };
        if !self.config.validation {
            // Never checked on release, so possibly damaged: restore the identity.
            header.restore_identity(&self.identity(slot, place));
        }
        let words = FormatWords::of(format, pool_index as u8);
        header.stamp(slot as u32, low_u32(sequence), &words, bytes, start_ns);
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

    /// The refusal for a buffer type without a pool: a named type or an invalid number.
    #[cold]
    fn no_pool_status(raw_type: u32) -> Status {
        match crate::types::buffer_type::BufferType::from_raw(raw_type) {
            Some(_) => Status::NoPoolForType,
            None => Status::InvalidArgument,
        }
    }

    /// Gives back a buffer taken by an allocation that shutdown overtook.
    #[cold]
    fn undo_allocation(&self, pool: usize, local: usize) -> Status {
        if let Some(words) = self.pools.get(pool) {
            words.give_back(local);
        }
        self.complete_shutdown_if_drained();
        self.refuse_allocation(Status::InvalidState)
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
        self.log(Operation::Allocate, Status::PoolExhausted);
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
        if !ManagerState::allows_release(self.state.load(Ordering::Relaxed)) {
            return Err(self.refuse_release(Status::InvalidState));
        }
        let Some((slot, place)) = self.slot_of(buffer).and_then(|slot| Some((slot, SLOT_PLACES.get(slot)?))) else {
            return Err(self.refuse_release(Status::ForeignBuffer));
        };
        let (pool_index, local) = (usize::from(place.pool), usize::from(place.local));
        let (Some(pool), Some(custody)) = (self.pools.get(pool_index), self.custody.get(slot)) else {
            return Err(self.refuse_release(Status::ForeignBuffer));
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
            return Err(self.refuse_release(refusal_for(word)));
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

    /// Counts and logs a refused release or enqueue.
    pub(crate) fn refuse_hand_over(&self, operation: Operation, status: Status) -> Status {
        match operation {
            Operation::Release => self.refuse_release(status),
            _ => self.refuse_enqueue(status),
        }
    }

    /// A release or an enqueue found the buffer damaged: its header, or a guard word next to
    /// its data. A held buffer is taken out of service for good and the manager goes to
    /// Error; a free, queued or quarantined one is refused with its place's status and stays as
    /// it is.
    #[cold]
    pub(crate) fn hand_off_damaged(&self, operation: Operation, slot: usize, damage: Damage) -> Status {
        let (Some(custody), Some(place)) = (self.custody.get(slot), SLOT_PLACES.get(slot)) else {
            return self.refuse_hand_over(operation, Status::ForeignBuffer);
        };
        if let Err(word) = custody.take_from_holder(PLACE_QUARANTINED, false) {
            return self.refuse_hand_over(operation, refusal_for(word));
        }
        if let Some(pool) = self.pools.get(usize::from(place.pool)) {
            pool.quarantine(usize::from(place.local));
        }
        self.counters.corruption_detected.fetch_add(1, Ordering::Relaxed);
        self.enter_error();
        self.complete_shutdown_if_drained();
        match damage {
            Damage::Header => self.refuse_hand_over(operation, Status::Corrupted),
            Damage::Guard(guard) => {
                self.counters.overruns_detected.fetch_add(1, Ordering::Relaxed);
                self.refuse_for_guard(operation, slot, guard)
            }
        }
    }

    /// Counts and logs a release or enqueue refused for a damaged guard, naming the buffer,
    /// the side and the neighbour.
    #[cold]
    fn refuse_for_guard(&self, operation: Operation, slot: usize, damage: GuardDamage) -> Status {
        let status = Status::Corrupted;
        match operation {
            Operation::Release => self.counters.rejected_releases.fetch_add(1, Ordering::Relaxed),
            _ => self.counters.rejected_hand_offs.fetch_add(1, Ordering::Relaxed),
        };
        self.log_guard_damage(operation, status, slot, damage);
        status
    }

    /// Logs guard damage of buffer `slot` (when a log is set).
    #[cold]
    pub(crate) fn log_guard_damage(&self, operation: Operation, status: Status, slot: usize, damage: GuardDamage) {
        if self.config.log.is_none() && self.config.log_detail.is_none() {
            return;
        }
        let mut text = DetailText::new();
        self.describe_guard_damage(&mut text, slot, damage);
        self.log_text(operation, status, text.as_bytes_with_nul());
    }

    /// "data written past the end of buffer N (into the guard zone it shares with buffer M)",
    /// or before its start.
    pub(crate) fn describe_guard_damage(&self, text: &mut DetailText, slot: usize, damage: GuardDamage) {
        let neighbour = match damage {
            GuardDamage::AfterEnd => {
                text.push(b"data written past the end of buffer ").number(slot as u32);
                (slot + 1 < crate::geometry::TOTAL_SLOTS).then_some(slot + 1)
            }
            GuardDamage::BeforeStart => {
                text.push(b"data written before the start of buffer ").number(slot as u32);
                slot.checked_sub(1)
            }
        };
        match (neighbour, damage) {
            (Some(other), _) => {
                text.push(b" (into the guard zone it shares with buffer ").number(other as u32).push(b")")
            }
            (None, GuardDamage::AfterEnd) => text.push(b" (into the guard zone after the last buffer)"),
            (None, GuardDamage::BeforeStart) => text.push(b" (into the guard zone before the first buffer)"),
        };
    }

    /// Reports whether `buffer` is held and intact; changes nothing.
    pub(crate) fn validate(&self, buffer: *const AudioBuffer) -> Result<(), Status> {
        let Some((slot, place)) = self.slot_of(buffer).and_then(|slot| Some((slot, SLOT_PLACES.get(slot)?))) else {
            return Err(self.refuse_other(Operation::Validate, Status::ForeignBuffer));
        };
        let (Some(custody), Some(generation)) = (self.custody.get(slot), self.generations.get(slot)) else {
            return Err(self.refuse_other(Operation::Validate, Status::ForeignBuffer));
        };
        let identity = self.identity(slot, place);
        let mut verdict = Err(Status::DoubleRelease);
        let mut guard = None;
        // A header read is trusted only if the buffer stayed in the same hands around it (its
        // custody word and its allocation count unchanged). A caller validating a buffer it
        // holds always gets a stable reading; a buffer changing hands on every attempt gets
        // the verdict of the last read.
        for _ in 0..VALIDATE_ATTEMPTS {
            let allocation = generation.load(Ordering::Acquire);
            let word = custody.word();
            if !matches!(place_of(word), Place::Held { .. }) {
                verdict = Err(refusal_for(word));
                break;
            }
            // SAFETY: `slot_of` proved `buffer` is exactly this manager's header `slot`.
            let intact = unsafe { AudioBuffer::is_intact_at(buffer, &identity) };
            guard = self.check_guard_edges(place).err();
            verdict = if intact && guard.is_none() { Ok(()) } else { Err(Status::Corrupted) };
            if custody.word() == word && generation.load(Ordering::Acquire) == allocation {
                break;
            }
        }
        verdict.map_err(|status| match (status, guard) {
            (Status::Corrupted, Some(damage)) => {
                self.log_guard_damage(Operation::Validate, status, slot, damage);
                status
            }
            _ => self.refuse_other(Operation::Validate, status),
        })
    }
}

/// What a hand-off found damaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Damage {
    /// The header: magic, identity, checksum or size.
    Header,
    /// A guard word next to the data.
    Guard(GuardDamage),
}

/// Why a buffer that is not in a caller's hands cannot be released, enqueued or validated:
/// its place, as its custody word `word` records it.
#[cold]
pub(crate) fn refusal_for(word: u32) -> Status {
    match place_of(word) {
        Place::Free => Status::DoubleRelease,
        Place::Queued(_) => Status::BufferQueued,
        Place::Quarantined | Place::Held { .. } => Status::Corrupted,
    }
}

// Allocate indexes the pools by the raw buffer type: the pooled types are numbered 0, 1, 2.
static_assertions::const_assert!(POOL_COUNT == 3);
static_assertions::const_assert!(matches!(crate::types::buffer_type::BufferType::Scratch.pool(), Some(2)));
static_assertions::const_assert!(matches!(crate::types::buffer_type::BufferType::Conversion.pool(), Some(1)));
static_assertions::const_assert!(matches!(crate::types::buffer_type::BufferType::Primary.pool(), Some(0)));
