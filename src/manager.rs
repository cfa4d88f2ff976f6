//! The hot path: allocate, release and validate, and how refused calls are counted and logged.
//!
//! Allocate and release are lock-free and O(1): one compare-and-swap on the pool's free list,
//! one on the buffer's ownership word (release), and a handful of counter updates. With
//! performance monitoring off they read no clock.

use core::ptr::{self, NonNull};

use crate::format::AudioFormat;
use crate::geometry::{
    pool_of_slot, POOL_BUFFER_BYTES, POOL_BUFFER_COUNTS, POOL_DATA_START, POOL_DATA_STRIDE, POOL_FIRST_SLOT,
};
use crate::header::{AudioBuffer, SlotIdentity};
use crate::history::SampleKind;
use crate::layout::ManagerCore;
use crate::pool::{slot_state, SlotControl, SLOT_HELD, SLOT_QUARANTINED};
use crate::state::{
    BufferType, ManagerState, AES5_STATE_ACTIVE, AES5_STATE_ERROR, AES5_STATE_READY, AES5_STATE_SHUTTING_DOWN,
    AES5_STATE_WARNING,
};
use crate::status::Status;
use crate::sync::{low_u32, Ordering};

/// Which call refused, for the debug log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operation {
    Allocate,
    Release,
    Validate,
    Shutdown,
    Transition,
}

impl Operation {
    fn name(self) -> &'static [u8] {
        match self {
            Operation::Allocate => b"allocate\0",
            Operation::Release => b"release\0",
            Operation::Validate => b"validate_buffer\0",
            Operation::Shutdown => b"shutdown\0",
            Operation::Transition => b"transition_state\0",
        }
    }
}

/// Attempts of `validate` to read a header while its ownership word stays unchanged.
const VALIDATE_ATTEMPTS: usize = 4;

impl ManagerCore {
    fn log(&self, operation: Operation, status: Status) {
        if let Some(log) = self.config.log {
            // SAFETY: the integrator supplied this callback and context for exactly this use;
            // the operation name is a static NUL-terminated string.
            unsafe { log(self.config.log_context, status.code(), operation.name().as_ptr().cast()) };
        }
    }

    fn count_validation(&self, status: Status) {
        if status.is_validation_error() {
            self.counters.validation_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts and logs an allocation refused for a reason other than an empty pool.
    #[cold]
    pub(crate) fn refuse_allocation(&self, status: Status) -> Status {
        self.counters.rejected_allocations.fetch_add(1, Ordering::Relaxed);
        self.count_validation(status);
        self.log(Operation::Allocate, status);
        status
    }

    /// Counts and logs a refused release.
    #[cold]
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

    #[inline(always)]
    fn pool_slots(&self, pool: usize) -> &[SlotControl] {
        let first = POOL_FIRST_SLOT[pool];
        self.slots.get(first..first + POOL_BUFFER_COUNTS[pool]).unwrap_or(&[])
    }

    /// The identity slot `slot` must have, computed from the layout alone.
    #[inline(always)]
    fn identity(&self, slot: usize, pool: usize) -> SlotIdentity {
        let local = slot - POOL_FIRST_SLOT[pool];
        let data = self.self_addr + self.data_offset + POOL_DATA_START[pool] + local * POOL_DATA_STRIDE[pool];
        SlotIdentity {
            buffer_id: slot as u32,
            buffer_type: pool as u8,
            capacity: POOL_BUFFER_BYTES[pool],
            data: data as *mut u8,
        }
    }

    /// Allocates a buffer of `raw_type` for `format`.
    #[inline]
    pub(crate) fn allocate(&self, raw_type: u32, format: &AudioFormat) -> Result<NonNull<AudioBuffer>, Status> {
        let start_ns = if self.timed { self.config.clock.now() } else { 0 };
        let state = self.state();
        if !ManagerState::allows_allocation(state) {
            return Err(self.refuse_allocation(Status::InvalidState));
        }
        let Some(buffer_type) = BufferType::from_raw(raw_type) else {
            return Err(self.refuse_allocation(Status::InvalidArgument));
        };
        let Some(pool_index) = buffer_type.pool() else {
            return Err(self.refuse_allocation(Status::NoPoolForType));
        };
        let bytes = match format.validate(&self.config.limits) {
            Ok(bytes) => bytes,
            Err(status) => return Err(self.refuse_allocation(status)),
        };
        let (Some(pool), Some(&capacity)) = (self.pools.get(pool_index), POOL_BUFFER_BYTES.get(pool_index)) else {
            return Err(self.refuse_allocation(Status::NoPoolForType));
        };
        if bytes as usize > capacity {
            return Err(self.refuse_allocation(Status::FormatTooLarge));
        }
        let slots = self.pool_slots(pool_index);
        let Some((local, allocated)) = pool.list.pop(slots) else {
            return Err(self.pool_exhausted(pool_index, state, start_ns));
        };
        // Shutdown may have begun since the first state check: never hand out a buffer then.
        let state = self.state.load(Ordering::SeqCst);
        if !ManagerState::allows_allocation(state) {
            pool.list.push(slots, local);
            self.complete_shutdown_if_drained();
            return Err(self.refuse_allocation(Status::InvalidState));
        }
        let slot = POOL_FIRST_SLOT[pool_index] + local;
        let (Some(control), Some(&key), Some(cell)) =
            (self.slots.get(slot), self.keys.get(slot), self.headers.get(slot))
        else {
            return Err(self.refuse_allocation(Status::InvalidState));
        };
        let sequence = pool.counters.count_allocation(allocated);
        // SAFETY: the pop made this call the slot's only owner; no one else reads or writes
        // the header until `mark_held` publishes it to the caller.
        let header = unsafe { &mut *cell.get() };
        header.stamp(key, low_u32(sequence), format, bytes, start_ns);
        control.mark_held();
        self.after_allocation(pool_index, state, allocated, start_ns);
        Ok(NonNull::from(header))
    }

    #[inline(always)]
    fn after_allocation(&self, pool: usize, state: u32, allocated: u32, start_ns: u64) {
        let mut state = state;
        let mut above = Self::crowds(pool, allocated);
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
        if self.config.monitoring {
            self.monitor(pool, SampleKind::Allocate, true, allocated, start_ns, 0);
        }
    }

    #[cold]
    fn pool_exhausted(&self, pool: usize, state: u32, start_ns: u64) -> Status {
        if state == AES5_STATE_ACTIVE {
            self.enter_warning();
        }
        if let Some(p) = self.pools.get(pool) {
            p.counters.allocation_failures.fetch_add(1, Ordering::Relaxed);
            if self.config.monitoring {
                let allocated = p.list.allocated();
                self.monitor(pool, SampleKind::Allocate, false, allocated, start_ns, 0);
            }
        }
        self.log(Operation::Allocate, Status::PoolExhausted);
        Status::PoolExhausted
    }

    /// Releases `buffer`, which must be a header this manager handed out and still held.
    #[inline]
    pub(crate) fn release(&self, buffer: *const AudioBuffer) -> Result<(), Status> {
        let start_ns = if self.timed { self.config.clock.now() } else { 0 };
        if !ManagerState::allows_release(self.state()) {
            return Err(self.refuse_release(Status::InvalidState));
        }
        let Some(slot) = self.slot_of(buffer) else {
            return Err(self.refuse_release(Status::ForeignBuffer));
        };
        let (Some(control), Some(&key), Some(cell)) =
            (self.slots.get(slot), self.keys.get(slot), self.headers.get(slot))
        else {
            return Err(self.refuse_release(Status::ForeignBuffer));
        };
        let releasing = match control.begin_release() {
            Ok(word) => word,
            Err(status) => return Err(self.refuse_release(status)),
        };
        let pool_index = pool_of_slot(slot);
        // SAFETY: RELEASING makes this call the header's only owner; the caller gave it up.
        let header = unsafe { &mut *cell.get() };
        let allocated_at = header.allocation_time_ns;
        let identity = self.identity(slot, pool_index);
        if self.config.validation {
            if !header.is_intact(&identity, key) {
                return Err(self.quarantine(slot, pool_index, releasing));
            }
        } else {
            // Unchecked, so possibly damaged: the next owner gets the header as init wrote it,
            // never a stray identity or data pointer.
            *header = AudioBuffer::fresh(&identity);
        }
        control.finish_release(releasing);
        let Some(pool) = self.pools.get(pool_index) else {
            return Ok(());
        };
        let allocated = pool.list.push(self.pool_slots(pool_index), slot - POOL_FIRST_SLOT[pool_index]);
        pool.counters.count_release();
        let state = self.state.load(Ordering::SeqCst);
        if state == AES5_STATE_WARNING {
            self.maybe_leave_warning();
        } else if state == AES5_STATE_SHUTTING_DOWN {
            self.complete_shutdown_if_drained();
        }
        if self.config.monitoring {
            self.monitor(pool_index, SampleKind::Release, true, allocated, start_ns, allocated_at);
        }
        Ok(())
    }

    /// Takes a corrupted buffer out of service for good and moves the manager to Error.
    #[cold]
    fn quarantine(&self, slot: usize, pool_index: usize, releasing: u32) -> Status {
        if let Some(control) = self.slots.get(slot) {
            control.quarantine(releasing);
        }
        if let Some(pool) = self.pools.get(pool_index) {
            pool.list.forget_one();
            pool.counters.quarantined.fetch_add(1, Ordering::Release);
        }
        self.counters.corruption_detected.fetch_add(1, Ordering::Relaxed);
        loop {
            let state = self.state();
            let healthy = matches!(state, AES5_STATE_READY | AES5_STATE_ACTIVE | AES5_STATE_WARNING);
            if !healthy || self.change_state(state, AES5_STATE_ERROR) {
                break;
            }
        }
        self.complete_shutdown_if_drained();
        self.refuse_release(Status::Corrupted)
    }

    /// Reports whether `buffer` is held and intact; changes nothing.
    pub(crate) fn validate(&self, buffer: *const AudioBuffer) -> Result<(), Status> {
        let Some(slot) = self.slot_of(buffer) else {
            return Err(self.refuse_other(Operation::Validate, Status::ForeignBuffer));
        };
        let (Some(control), Some(&key), Some(cell)) =
            (self.slots.get(slot), self.keys.get(slot), self.headers.get(slot))
        else {
            return Err(self.refuse_other(Operation::Validate, Status::ForeignBuffer));
        };
        let identity = self.identity(slot, pool_of_slot(slot));
        let mut word = control.observe();
        let mut verdict = Err(Status::DoubleRelease);
        // A header read is trusted only if the ownership word did not change around it. A
        // caller validating a buffer it holds always gets a stable word; a buffer changing
        // hands on every attempt gets the verdict of the last read.
        for _ in 0..VALIDATE_ATTEMPTS {
            match slot_state(word) {
                SLOT_HELD => {}
                SLOT_QUARANTINED => {
                    verdict = Err(Status::Corrupted);
                    break;
                }
                _ => {
                    verdict = Err(Status::DoubleRelease);
                    break;
                }
            }
            // SAFETY: the header lies inside this manager's storage; a volatile copy reads it
            // without assuming it is stable (its owner may be writing its own fields).
            let copy = unsafe { ptr::read_volatile(cell.get()) };
            verdict = if copy.is_intact(&identity, key) { Ok(()) } else { Err(Status::Corrupted) };
            let after = control.observe();
            if after == word {
                break;
            }
            word = after;
        }
        verdict.map_err(|status| self.refuse_other(Operation::Validate, status))
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
