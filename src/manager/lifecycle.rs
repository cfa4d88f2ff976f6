//! The manager's life: init in caller storage, proving a handle, state changes, explicit
//! transitions and shutdown.

use core::mem::size_of;
use core::ptr::{self, addr_of, addr_of_mut, NonNull};

use crate::geometry::{DATA_ALIGNMENT, POOLS, SLOT_PLACES, TOTAL_SLOTS};
use crate::manager::operations::Operation;
use crate::manager::pool::PoolWords;
use crate::manager::refusal::Refusal;
use crate::manager::state_machine::{
    ManagerState, AES5_STATE_ACTIVE, AES5_STATE_ERROR, AES5_STATE_READY, AES5_STATE_SHUTDOWN, AES5_STATE_SHUTTING_DOWN,
    AES5_STATE_WARNING,
};
use crate::manager::storage::{BufferManager, BufferManagerStorage};
use crate::manager::{CacheLineGap, ManagerCore, MetricCells, MANAGER_MAGIC};
use crate::observability::history::Snapshot;
use crate::observability::metrics::TimingCells;
use crate::observability::statistics::PoolCounters;
use crate::platform::atomics::{AtomicU32, Ordering};
use crate::platform::in_place::{write_initial, zero_words};
use crate::platform::wide_sum::{WideStamp, WideSum};
use crate::types::config::RuntimeConfig;
use crate::types::header::{AudioBuffer, SlotIdentity};
use crate::types::refusal_reason::{AES5_REFUSAL_BAD_STATE, AES5_REFUSAL_BUFFERS_HELD, AES5_REFUSAL_NOT_A_TRANSITION};
use crate::types::status::Status;

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
        // Behind the build constant too, so a build without monitoring never reads the clock
        // here nor starts the trend history (validation refuses monitoring there anyway).
        let timed = crate::geometry::MONITORING_BUILT && active.monitoring && active.clock.is_available();
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
            addr_of_mut!((*core).data_base).write(data_start);
            addr_of_mut!((*core).timed).write(timed);
            addr_of_mut!((*core).config).write(active);
            let now = if timed { active.clock.now() } else { 0 };
            addr_of_mut!((*core).init_time_ns).write(now);
            addr_of_mut!((*core).state_change_time_ns).write(WideStamp::new(now));
            write_initial(addr_of_mut!((*core).accepted_formats));
            addr_of_mut!((*core).gap).write(CacheLineGap::new());
            let pools = addr_of_mut!((*core).pools).cast::<PoolWords>();
            let pool_counters = addr_of_mut!((*core).pool_counters).cast::<PoolCounters>();
            for (p, shape) in POOLS.iter().enumerate() {
                pools.add(p).write(PoolWords::new(shape.count));
                write_initial(pool_counters.add(p));
            }
            write_initial(addr_of_mut!((*core).generations));
            write_initial(addr_of_mut!((*core).custody));
            write_initial(addr_of_mut!((*core).queues));
            // Headers start as zero words (all-zero is a valid header: integers and a null
            // pointer); each then gets its fixed identity.
            let headers = addr_of_mut!((*core).headers).cast::<AudioBuffer>();
            zero_words(headers.cast::<u32>(), size_of::<[AudioBuffer; TOTAL_SLOTS]>() / 4);
            for (slot, place) in SLOT_PLACES.iter().enumerate() {
                let data = storage.cast::<u8>().add(data_offset + place.data_offset as usize);
                let capacity = place.capacity as usize;
                let identity = SlotIdentity { buffer_id: slot as u32, buffer_type: place.pool, capacity, data };
                AudioBuffer::write_identity(headers.add(slot), &identity);
            }
            write_initial(addr_of_mut!((*core).counters));
            // The guard zones around every buffer's data (the data itself is not touched).
            ManagerCore::write_guards(storage.cast::<u8>().add(data_offset), Self::identity_check_for(addr));
            addr_of_mut!((*core).metrics).write(MetricCells {
                allocate: TimingCells::new(),
                release: TimingCells::new(),
                allocate_squares: WideSum::new(),
                held_now: AtomicU32::new(0),
                peak_buffers: AtomicU32::new(0),
                peak_memory_bytes: AtomicU32::new(0),
                interval_peak_bytes: AtomicU32::new(0),
            });
            write_initial(addr_of_mut!((*core).warning));
            write_initial(addr_of_mut!((*core).history));
            write_initial(addr_of_mut!((*core).last_refusal));
            if timed {
                // The baseline the first interval of the trend is measured from.
                (*addr_of!((*core).history)).start(&Snapshot { timestamp_ns: now, ..Snapshot::default() });
            }
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
        debug_assert!(ManagerState::is_legal_transition(from, to), "state change {from} -> {to} is not an edge");
        if self.state.compare_exchange(from, to, Ordering::SeqCst, Ordering::Acquire).is_err() {
            return false;
        }
        self.state_changes.fetch_add(1, Ordering::Relaxed);
        if self.is_timed() {
            self.state_change_time_ns.store(self.config.clock.now());
        }
        true
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
                _ => return Err(self.refuse_in_state(Operation::Shutdown, state)),
            }
        }
        if self.complete_shutdown_if_drained() {
            Ok(())
        } else {
            let refusal = Refusal::new(Operation::Shutdown, Status::BuffersOutstanding, AES5_REFUSAL_BUFFERS_HELD);
            Err(self.refuse(refusal.about(self.usage().0, 0)))
        }
    }

    /// Completes a requested shutdown when no buffer is held. True when shut down.
    pub(crate) fn complete_shutdown_if_drained(&self) -> bool {
        match self.state.load(Ordering::SeqCst) {
            AES5_STATE_SHUTDOWN => return true,
            AES5_STATE_SHUTTING_DOWN => {}
            _ => return false,
        }
        if self.pools.iter().any(|pool| pool.held_synchronized() != 0) {
            return false;
        }
        self.change_state(AES5_STATE_SHUTTING_DOWN, AES5_STATE_SHUTDOWN);
        self.state.load(Ordering::SeqCst) == AES5_STATE_SHUTDOWN
    }

    /// The explicit transitions of `transition_state`: the current state (no-op), Error →
    /// Ready, and ShuttingDown (exactly as shutdown).
    pub(crate) fn transition(&self, raw_to: u32) -> Result<(), Status> {
        let Some(to) = ManagerState::from_raw(raw_to) else {
            let refusal = Refusal::new(Operation::Transition, Status::InvalidArgument, AES5_REFUSAL_BAD_STATE);
            return Err(self.refuse(refusal.about(raw_to, 0)));
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
            _ => {
                let refusal = Refusal::new(Operation::Transition, Status::InvalidState, AES5_REFUSAL_NOT_A_TRANSITION);
                Err(self.refuse(refusal.about(current, raw_to)))
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::verification::test_fixture::*;

    #[test]
    fn shutdown_waits_for_the_last_release_and_storage_can_be_reused() {
        let mut f = Fixture::new();
        let m = f.init(&RuntimeConfig::default()).unwrap();
        let a = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
        let b = m.allocate(AES5_BUFFER_TYPE_CONVERSION, &pcm()).unwrap();
        assert_eq!(m.shutdown(), Err(Status::BuffersOutstanding));
        assert_eq!(m.state(), AES5_STATE_SHUTTING_DOWN);
        assert_eq!(m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()), Err(Status::InvalidState));
        m.release(a.as_ptr()).unwrap();
        assert_eq!(m.state(), AES5_STATE_SHUTTING_DOWN);
        m.release(b.as_ptr()).unwrap();
        assert_eq!(m.state(), AES5_STATE_SHUTDOWN);
        assert_eq!(m.release(b.as_ptr()), Err(Status::InvalidState));
        assert_eq!(m.shutdown(), Err(Status::InvalidState));
        let again = f.init(&RuntimeConfig::default()).unwrap();
        assert_eq!(again.state(), AES5_STATE_READY);
        assert_eq!(again.statistics().total_operations, 0);
        assert_eq!(f.init(&RuntimeConfig::default()).err(), Some(Status::AlreadyInitialized));
    }

    #[test]
    fn quarantined_buffers_do_not_block_shutdown() {
        let mut f = Fixture::new();
        let m = f.init(&RuntimeConfig::default()).unwrap();
        let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
        assert_eq!(m.shutdown(), Err(Status::BuffersOutstanding));
        // SAFETY: held by the test; damaged on purpose.
        unsafe { (*h.as_ptr()).magic_number = 1 };
        assert_eq!(m.release(h.as_ptr()), Err(Status::Corrupted));
        assert_eq!(m.state(), AES5_STATE_SHUTDOWN);
    }

    #[test]
    fn explicit_transitions_follow_the_table() {
        let mut f = Fixture::new();
        let m = f.init(&RuntimeConfig::default()).unwrap();
        assert_eq!(m.transition(AES5_STATE_READY), Ok(()));
        for to in [
            AES5_STATE_UNINITIALIZED,
            AES5_STATE_INITIALIZING,
            AES5_STATE_ACTIVE,
            AES5_STATE_WARNING,
            AES5_STATE_ERROR,
            AES5_STATE_SHUTDOWN,
        ] {
            assert_eq!(m.transition(to), Err(Status::InvalidState), "to {to}");
        }
        assert_eq!(m.transition(8), Err(Status::InvalidArgument));
        assert_eq!(m.transition(0xFFFF_FFFF), Err(Status::InvalidArgument));
        let changes = m.statistics().state_change_count;
        assert_eq!(changes, 2);
        assert_eq!(m.transition(AES5_STATE_SHUTTING_DOWN), Ok(()));
        assert_eq!(m.state(), AES5_STATE_SHUTDOWN);
    }

    #[test]
    fn init_refuses_bad_configuration_and_live_storage() {
        let mut f = Fixture::new();
        let bad = RuntimeConfig { max_channels: 0, ..RuntimeConfig::default() };
        assert_eq!(f.init(&bad).err(), Some(Status::InvalidArgument));
        f.init(&RuntimeConfig::default()).unwrap();
        assert_eq!(f.init(&RuntimeConfig::default()).err(), Some(Status::AlreadyInitialized));
    }

    #[test]
    fn random_bytes_do_not_pass_for_a_manager() {
        let mut f = Fixture::new();
        for (i, w) in f.storage.opaque_words.iter_mut().enumerate() {
            *w = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
        let handle = &*f.storage as *const BufferManagerStorage as *const BufferManager;
        // SAFETY: the storage is readable; the check must refuse it.
        assert_eq!(unsafe { ManagerCore::from_handle(handle) }.err(), Some(Status::InvalidState));
        let m = f.init(&RuntimeConfig::default()).unwrap();
        // Init wrote every counter, sum, header and history entry over the random bytes.
        let s = m.statistics();
        assert_eq!((s.total_operations, s.failed_operations, s.memory_corruption_count), (0, 0, 0));
        for p in &s.buffer_type_stats {
            assert_eq!((p.allocated_buffers, p.total_allocations, p.allocation_failures), (0, 0, 0));
            assert_eq!((p.average_hold_time_ns, p.average_utilization), (0, 0.0));
        }
        let metrics = m.metrics();
        assert_eq!((metrics.timed_allocations, metrics.min_allocation_time_ns, metrics.timeout_errors), (0, 0, 0));
        // The ring holds only init's baseline: one empty interval, from init to the report
        // (none with monitoring compiled out).
        let report = m.performance_report(0);
        let intervals = u32::from(crate::geometry::MONITORING_BUILT);
        let expected = crate::observability::report::TrendAnalysis { sample_count: intervals, ..Default::default() };
        assert_eq!(report.trend, expected);
        let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
        assert_eq!(m.validate(h.as_ptr()), Ok(()));
        // SAFETY: the buffer is held.
        assert_eq!(unsafe { (*h.as_ptr()).sequence_number }, 1);
    }
}
