//! The manager's operations: init, allocate, release, validate, state changes and shutdown.
//!
//! Allocate and release are lock-free and O(1): one compare-and-swap on the pool's free list,
//! one on the buffer's ownership word (release), and a handful of counter updates. With
//! performance monitoring off they read no clock.

use core::mem::size_of;
use core::ptr::{self, addr_of, addr_of_mut, NonNull};

use crate::config::RuntimeConfig;
use crate::format::AudioFormat;
use crate::geometry::{
    pool_of_slot, DATA_ALIGNMENT, POOL_BUFFER_BYTES, POOL_BUFFER_COUNTS, POOL_COUNT, POOL_DATA_START, POOL_DATA_STRIDE,
    POOL_FIRST_SLOT, TOTAL_SLOTS,
};
use crate::header::{AudioBuffer, SlotIdentity};
use crate::history::{HistoryRing, Sample, SampleKind};
use crate::layout::{
    BufferManager, BufferManagerStorage, ManagerCore, ManagerCounters, MetricCells, PoolControl, WarningWindow,
    MANAGER_MAGIC,
};
use crate::metrics::TimingCells;
use crate::pool::{slot_state, FreeList, SlotControl, SLOT_HELD, SLOT_QUARANTINED};
use crate::state::{
    BufferType, ManagerState, AES5_STATE_ACTIVE, AES5_STATE_ERROR, AES5_STATE_READY, AES5_STATE_SHUTDOWN,
    AES5_STATE_SHUTTING_DOWN, AES5_STATE_WARNING,
};
use crate::stats::PoolCounters;
use crate::status::Status;
use crate::sync::{raise_to_u32, widen, AtomicCounter, AtomicU32, CounterValue, Ordering};

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

/// Allocation attempts after which the Warning success-rate window restarts.
pub(crate) const WARNING_WINDOW_ATTEMPTS: u64 = 1024;

/// Allocated counts above which a pool counts as more than 90 % used.
const WARN_ABOVE: [u32; POOL_COUNT] = [
    (POOL_BUFFER_COUNTS[0] * 9 / 10) as u32,
    (POOL_BUFFER_COUNTS[1] * 9 / 10) as u32,
    (POOL_BUFFER_COUNTS[2] * 9 / 10) as u32,
];

impl ManagerCore {
    /// True when `core` holds a live manager: magic, own address and identity check intact,
    /// and not shut down.
    ///
    /// # Safety
    /// `core` must be valid for reads of `size_of::<ManagerCore>()` bytes.
    unsafe fn is_live(core: *const ManagerCore) -> bool {
        // SAFETY: the caller guarantees the bytes are readable; every field read here is an
        // integer (or an atomic of one), for which any bit pattern is valid.
        unsafe {
            let addr = core as usize;
            ptr::read(addr_of!((*core).magic)) == MANAGER_MAGIC
                && ptr::read(addr_of!((*core).self_addr)) == addr
                && ptr::read(addr_of!((*core).identity_check)) == Self::identity_check_for(addr)
                && (*addr_of!((*core).state)).load(Ordering::Acquire) != AES5_STATE_SHUTDOWN
        }
    }

    /// Initialises a manager in `storage`.
    ///
    /// # Safety
    /// `storage` must be valid for reads and writes of `size_of::<BufferManagerStorage>()`
    /// bytes, aligned, and used by no other thread during the call.
    pub(crate) unsafe fn init(
        storage: *mut BufferManagerStorage,
        config: &RuntimeConfig,
    ) -> Result<NonNull<ManagerCore>, Status> {
        let active = config.validate()?;
        let core = storage.cast::<ManagerCore>();
        // SAFETY: the caller guarantees `storage` is readable for the whole storage size,
        // which the layout proof shows is larger than ManagerCore.
        if unsafe { Self::is_live(core) } {
            return Err(Status::AlreadyInitialized);
        }
        let addr = storage as usize;
        let data_start = (addr + size_of::<ManagerCore>()).div_ceil(DATA_ALIGNMENT) * DATA_ALIGNMENT;
        let data_offset = data_start - addr;
        let timed = active.monitoring && active.clock.is_available();
        // SAFETY: exclusive access to the storage during init (caller's contract). Every
        // field is written through raw pointers before any reference to the core exists;
        // the data pointers are derived from `storage` and stay inside it (layout proof).
        unsafe {
            addr_of_mut!((*core).magic).write(0);
            addr_of_mut!((*core).identity_check).write(0);
            addr_of_mut!((*core).self_addr).write(addr);
            addr_of_mut!((*core).state).write(AtomicU32::new(ManagerState::Initializing as u32));
            addr_of_mut!((*core).state_changes).write(AtomicU32::new(1));
            addr_of_mut!((*core).data_offset).write(data_offset);
            addr_of_mut!((*core).timed).write(timed);
            addr_of_mut!((*core).config).write(active);
            let now = if timed { active.clock.now() } else { 0 };
            addr_of_mut!((*core).init_time_ns).write(now);
            addr_of_mut!((*core).state_change_time_ns).write(AtomicCounter::new(crate::sync::to_counter(now)));
            let pools = addr_of_mut!((*core).pools).cast::<PoolControl>();
            for (p, &count) in POOL_BUFFER_COUNTS.iter().enumerate() {
                pools.add(p).write(PoolControl { list: FreeList::new(count), counters: PoolCounters::new() });
            }
            let slots = addr_of_mut!((*core).slots).cast::<SlotControl>();
            let keys = addr_of_mut!((*core).keys).cast::<u32>();
            let headers = addr_of_mut!((*core).headers).cast::<AudioBuffer>();
            for slot in 0..TOTAL_SLOTS {
                let p = pool_of_slot(slot);
                let local = slot - POOL_FIRST_SLOT[p];
                slots.add(slot).write(SlotControl::new(FreeList::initial_next(local, POOL_BUFFER_COUNTS[p])));
                let data = storage.cast::<u8>().add(data_offset + POOL_DATA_START[p] + local * POOL_DATA_STRIDE[p]);
                let identity =
                    SlotIdentity { buffer_id: slot as u32, buffer_type: p as u8, capacity: POOL_BUFFER_BYTES[p], data };
                keys.add(slot).write(identity.key());
                headers.add(slot).write(AudioBuffer::fresh(&identity));
            }
            addr_of_mut!((*core).counters).write(ManagerCounters {
                rejected_allocations: AtomicCounter::new(0),
                rejected_releases: AtomicCounter::new(0),
                validation_errors: AtomicCounter::new(0),
                corruption_detected: AtomicCounter::new(0),
                timeout_errors: AtomicCounter::new(0),
            });
            addr_of_mut!((*core).metrics).write(MetricCells {
                allocate: TimingCells::new(),
                release: TimingCells::new(),
                peak_buffers: AtomicU32::new(0),
                peak_memory_bytes: AtomicU32::new(0),
            });
            addr_of_mut!((*core).warning).write(WarningWindow {
                attempts_at_entry: AtomicCounter::new(0),
                failures_at_entry: AtomicCounter::new(0),
            });
            addr_of_mut!((*core).history).write(HistoryRing::new());
            addr_of_mut!((*core).identity_check).write(Self::identity_check_for(addr));
            addr_of_mut!((*core).magic).write(MANAGER_MAGIC);
        }
        // SAFETY: every field is initialised now.
        let manager = unsafe { &*core };
        manager.change_state(ManagerState::Initializing as u32, AES5_STATE_READY);
        // SAFETY: `core` is non-null: it came from a reference-derived storage pointer.
        Ok(unsafe { NonNull::new_unchecked(core) })
    }

    /// Proves `handle` is a live manager before any reference to it is made.
    ///
    /// # Safety
    /// A non-null `handle` must point to readable memory of at least `size_of::<ManagerCore>()`
    /// bytes (in practice: a pointer returned by init, whose storage is still around).
    #[inline(always)]
    pub(crate) unsafe fn from_handle<'a>(handle: *const BufferManager) -> Result<&'a ManagerCore, Status> {
        if handle.is_null() {
            return Err(Status::NullPointer);
        }
        let core = handle.cast::<ManagerCore>();
        // A misaligned handle cannot be one that init returned.
        if !core.is_aligned() {
            return Err(Status::InvalidState);
        }
        // SAFETY: readable per the caller's contract; integers only.
        let (magic, addr) = unsafe { (ptr::read(addr_of!((*core).magic)), ptr::read(addr_of!((*core).self_addr))) };
        if magic != MANAGER_MAGIC || addr != core as usize {
            return Err(Status::InvalidState);
        }
        // SAFETY: magic and own address show init wrote every field.
        Ok(unsafe { &*core })
    }

    /// Current state.
    #[inline(always)]
    pub(crate) fn state(&self) -> u32 {
        self.state.load(Ordering::Acquire)
    }

    /// Moves `from → to` if the manager is in `from`; counts and timestamps the change.
    pub(crate) fn change_state(&self, from: u32, to: u32) -> bool {
        if self.state.compare_exchange(from, to, Ordering::SeqCst, Ordering::Acquire).is_err() {
            return false;
        }
        self.state_changes.fetch_add(1, Ordering::Relaxed);
        if self.timed {
            self.state_change_time_ns.store(crate::sync::to_counter(self.config.clock.now()), Ordering::Relaxed);
        }
        true
    }

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
        header.stamp(key, sequence as u32, format, bytes, start_ns);
        control.mark_held();
        self.after_allocation(pool_index, state, allocated, start_ns);
        Ok(NonNull::from(header))
    }

    #[inline(always)]
    fn after_allocation(&self, pool: usize, state: u32, allocated: u32, start_ns: u64) {
        let mut state = state;
        let mut above = WARN_ABOVE.get(pool).is_some_and(|&limit| allocated > limit);
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
        let header = unsafe { &*cell.get() };
        if self.config.validation && !header.is_intact(&self.identity(slot, pool_index), key) {
            return Err(self.quarantine(slot, pool_index, releasing));
        }
        let allocated_at = header.allocation_time_ns;
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

    /// Requests shutdown: moves to ShuttingDown, and to Shutdown once no buffer is held.
    pub(crate) fn shutdown(&self) -> Result<(), Status> {
        loop {
            let state = self.state();
            match state {
                AES5_STATE_READY | AES5_STATE_ACTIVE | AES5_STATE_WARNING | AES5_STATE_ERROR => {
                    if self.change_state(state, AES5_STATE_SHUTTING_DOWN) {
                        break;
                    }
                }
                AES5_STATE_SHUTTING_DOWN => break,
                _ => return Err(self.refuse_other(Operation::Shutdown, Status::InvalidState)),
            }
        }
        if self.complete_shutdown_if_drained() {
            Ok(())
        } else {
            Err(self.refuse_other(Operation::Shutdown, Status::BuffersOutstanding))
        }
    }

    /// Completes a requested shutdown when no buffer is held. True when shut down.
    pub(crate) fn complete_shutdown_if_drained(&self) -> bool {
        match self.state.load(Ordering::SeqCst) {
            AES5_STATE_SHUTDOWN => return true,
            AES5_STATE_SHUTTING_DOWN => {}
            _ => return false,
        }
        if self.pools.iter().any(|pool| pool.list.allocated() != 0) {
            return false;
        }
        self.change_state(AES5_STATE_SHUTTING_DOWN, AES5_STATE_SHUTDOWN);
        self.state.load(Ordering::SeqCst) == AES5_STATE_SHUTDOWN
    }

    /// The explicit transitions of `transition_state`: the current state (no-op), Error →
    /// Ready, and ShuttingDown (exactly as shutdown).
    pub(crate) fn transition(&self, raw_to: u32) -> Result<(), Status> {
        let Some(to) = ManagerState::from_raw(raw_to) else {
            return Err(self.refuse_other(Operation::Transition, Status::InvalidArgument));
        };
        let current = self.state();
        if current == to as u32 {
            return Ok(());
        }
        match to {
            ManagerState::ShuttingDown => self.shutdown(),
            ManagerState::Ready
                if current == AES5_STATE_ERROR && self.change_state(AES5_STATE_ERROR, AES5_STATE_READY) =>
            {
                Ok(())
            }
            _ => Err(self.refuse_other(Operation::Transition, Status::InvalidState)),
        }
    }

    /// Allocation attempts (successes + pool-empty failures) and failures, all pools.
    pub(crate) fn allocation_attempts(&self) -> (CounterValue, CounterValue) {
        let mut attempts: CounterValue = 0;
        let mut failures: CounterValue = 0;
        for pool in &self.pools {
            let f = pool.counters.allocation_failures.load(Ordering::Relaxed);
            attempts = attempts.wrapping_add(pool.counters.total_allocations.load(Ordering::Relaxed)).wrapping_add(f);
            failures = failures.wrapping_add(f);
        }
        (attempts, failures)
    }

    /// Active → Warning, remembering where the success-rate window starts.
    #[cold]
    fn enter_warning(&self) {
        let (attempts, failures) = self.allocation_attempts();
        if self.change_state(AES5_STATE_ACTIVE, AES5_STATE_WARNING) {
            self.warning.attempts_at_entry.store(attempts, Ordering::Relaxed);
            self.warning.failures_at_entry.store(failures, Ordering::Relaxed);
        }
    }

    /// True when any pool is more than 90 % allocated.
    fn any_pool_crowded(&self) -> bool {
        self.pools.iter().zip(WARN_ABOVE).any(|(pool, limit)| pool.list.allocated() > limit)
    }

    /// Warning → Active once the pressure has ended: every pool at or below 90 % and the
    /// success rate of the current window of allocation attempts at least
    /// `min_success_rate`. The window starts when Warning begins and restarts every
    /// `WARNING_WINDOW_ATTEMPTS` attempts, so failures older than one window stop counting.
    #[cold]
    fn maybe_leave_warning(&self) {
        let (attempts, failures) = self.allocation_attempts();
        let mut window = widen(attempts.wrapping_sub(self.warning.attempts_at_entry.load(Ordering::Relaxed)));
        let mut failed = widen(failures.wrapping_sub(self.warning.failures_at_entry.load(Ordering::Relaxed)));
        if window >= WARNING_WINDOW_ATTEMPTS {
            self.warning.attempts_at_entry.store(attempts, Ordering::Relaxed);
            self.warning.failures_at_entry.store(failures, Ordering::Relaxed);
            window = 0;
            failed = 0;
        }
        if self.any_pool_crowded() {
            return;
        }
        let succeeded = window.saturating_sub(failed);
        let required = u64::from(self.config.min_success_ppm).saturating_mul(window);
        if succeeded.saturating_mul(1_000_000) >= required {
            self.change_state(AES5_STATE_WARNING, AES5_STATE_ACTIVE);
        }
    }

    /// Buffers held and bytes of capacity held, all pools.
    pub(crate) fn usage(&self) -> (u32, u32) {
        let mut buffers = 0;
        let mut bytes = 0;
        for (pool, &capacity) in self.pools.iter().zip(POOL_BUFFER_BYTES.iter()) {
            let held = pool.list.allocated();
            buffers += held;
            bytes += held * capacity as u32;
        }
        (buffers, bytes)
    }

    /// Monitoring work after an allocate or release: timing, peaks, utilisation, history.
    #[cold]
    fn monitor(&self, pool: usize, kind: SampleKind, success: bool, allocated: u32, start_ns: u64, allocated_at: u64) {
        let end_ns = if self.timed { self.config.clock.now() } else { 0 };
        let elapsed = end_ns.saturating_sub(start_ns);
        if self.timed && success {
            match kind {
                SampleKind::Allocate => {
                    self.metrics.allocate.record(elapsed);
                    if elapsed > self.config.allocation_timeout_ns {
                        self.counters.timeout_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                SampleKind::Release => {
                    self.metrics.release.record(elapsed);
                    if let Some(p) = self.pools.get(pool) {
                        if allocated_at != 0 {
                            p.counters.record_hold(start_ns.saturating_sub(allocated_at));
                        }
                    }
                }
            }
        }
        if let Some(p) = self.pools.get(pool) {
            p.counters.sample_utilization(allocated);
        }
        let (buffers, bytes) = self.usage();
        if kind == SampleKind::Allocate && success {
            raise_to_u32(&self.metrics.peak_buffers, buffers);
            raise_to_u32(&self.metrics.peak_memory_bytes, bytes);
        }
        self.history.record(&Sample {
            ticket: 0,
            timestamp_ns: end_ns,
            op_ns: u32::try_from(elapsed).unwrap_or(u32::MAX),
            allocated: buffers as u16,
            memory_bytes: bytes,
            kind,
            success,
        });
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
