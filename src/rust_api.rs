//! The safe Rust API over the same core the C API uses: a manager borrowing its storage, and
//! an RAII buffer handle that releases on drop.

use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::manager::refusal::LastRefusal;
use crate::manager::state_machine::ManagerState;
use crate::manager::storage::{BufferManagerStorage, StorageLayout};
use crate::manager::ManagerCore;
use crate::observability::hand_offs::{HeldBuffer, QueueStatistics};
use crate::observability::integrity::IntegrityReport;
use crate::observability::metrics::RealtimeMetrics;
use crate::observability::report::PerformanceReport;
use crate::observability::statistics::ManagerStatistics;
use crate::observability::statistics::PoolStatistics;
use crate::types::buffer_type::BufferType;
use crate::types::config::RuntimeConfig;
use crate::types::format::AudioFormat;
use crate::types::header::AudioBuffer;
use crate::types::status::Status;

/// A buffer manager living in borrowed storage. Share it between threads by reference; every
/// method takes `&self` and is lock-free (statistics reads included).
///
/// ```
/// use aes5_buffer_manager::{AudioFormat, BufferManagerStorage, BufferType, Manager, ManagerState};
///
/// let mut storage = Box::new(BufferManagerStorage::new());
/// let manager = Manager::new(&mut storage, None)?;
/// let format = AudioFormat::pcm(48_000, 2, 16, 256);
/// let mut buffer = manager.allocate(BufferType::Primary, &format)?;
/// assert_eq!(buffer.data().len(), 2 * 256 * 2);
/// buffer.data_mut().fill(0);
/// drop(buffer); // released here
/// assert_eq!(manager.state(), ManagerState::Active);
/// assert_eq!(manager.pool_statistics(BufferType::Primary).total_releases, 1);
/// # Ok::<(), aes5_buffer_manager::Status>(())
/// ```
pub struct Manager<'s> {
    core: &'s ManagerCore,
}

// SAFETY: every shared field of the core is an atomic or immutable after init; headers are
// reached only through ownership-checked handles.
unsafe impl Sync for ManagerCore {}
// SAFETY: as above; the raw pointers in the core point into the storage the core lives in,
// or are the integrator's callback contexts, which the configuration documents as shareable.
unsafe impl Send for ManagerCore {}

impl<'s> Manager<'s> {
    /// Initialises a manager in `storage` (zeroed, or holding a manager that was shut down).
    /// `None` takes the default configuration.
    pub fn new(storage: &'s mut BufferManagerStorage, config: Option<&RuntimeConfig>) -> Result<Self, Status> {
        let default = RuntimeConfig::default();
        // SAFETY: `storage` is an exclusive borrow of a whole, aligned storage for 's.
        let core = unsafe { ManagerCore::init(storage, config.unwrap_or(&default))? };
        // SAFETY: init wrote every field; the borrow of the storage keeps it alive for 's.
        Ok(Manager { core: unsafe { core.as_ref() } })
    }

    /// Allocates a buffer of `buffer_type` for `format`. The buffer returns to its pool when
    /// the handle is dropped.
    pub fn allocate(&self, buffer_type: BufferType, format: &AudioFormat) -> Result<Buffer<'_>, Status> {
        let header = self.core.allocate(buffer_type as u32, format)?;
        Ok(Buffer { core: self.core, header, _owns: PhantomData })
    }

    /// Hands `buffer` to hand-off queue `queue` (`0..AES5_QUEUE_COUNT`), consuming the handle:
    /// the queue owns the buffer until [`Manager::dequeue`] hands it out again. Refused, the
    /// handle comes back with the status (a damaged buffer is quarantined, as a release does,
    /// and its handle then releases nothing when dropped).
    pub fn enqueue<'m>(&'m self, queue: u32, buffer: Buffer<'m>) -> Result<(), (Status, Buffer<'m>)> {
        match self.core.enqueue(queue, buffer.header.as_ptr()) {
            Ok(()) => {
                core::mem::forget(buffer);
                Ok(())
            }
            Err(status) => Err((status, buffer)),
        }
    }

    /// Takes the oldest buffer of hand-off queue `queue`; `Err(QueueEmpty)` when there is none.
    /// The handle releases the buffer when dropped, like an allocated one.
    pub fn dequeue(&self, queue: u32) -> Result<Buffer<'_>, Status> {
        let header = self.core.dequeue(queue)?;
        Ok(Buffer { core: self.core, header, _owns: PhantomData })
    }

    /// Statistics of hand-off queue `queue`; `Err(InvalidArgument)` for no such queue.
    pub fn queue_statistics(&self, queue: u32) -> Result<QueueStatistics, Status> {
        self.core.queue_statistics(queue).ok_or(Status::InvalidArgument)
    }

    /// The held-buffer finder: fills `entries` with the buffers that are not free (as many as
    /// fit) and returns how many it found.
    pub fn held_buffers(&self, entries: &mut [HeldBuffer]) -> usize {
        let capacity = u32::try_from(entries.len()).unwrap_or(u32::MAX);
        // SAFETY: `entries` is valid for writes of its length, at least `capacity`.
        unsafe { self.core.write_held_buffers(entries.as_mut_ptr(), capacity) as usize }
    }

    /// The integrity sweep: every guard word and every free buffer's header checked once;
    /// damaged free buffers quarantined, damaged held ones reported (see
    /// `aes5_buffer_manager_check_integrity`).
    pub fn check_integrity(&self) -> IntegrityReport {
        let mut report = IntegrityReport::default();
        // SAFETY: a reference is valid for writes.
        unsafe { self.core.check_integrity(&mut report) };
        report
    }

    /// Why the last refused call was refused: its status, the exact reason and the text
    /// `log_detail` received (see `aes5_buffer_manager_get_last_refusal`).
    pub fn last_refusal(&self) -> LastRefusal {
        let mut out = core::mem::MaybeUninit::<LastRefusal>::uninit();
        // SAFETY: `out` is valid for writes; `last_refusal` writes every field.
        unsafe {
            self.core.last_refusal(out.as_mut_ptr());
            out.assume_init()
        }
    }

    /// Requests shutdown. `Err(BuffersOutstanding)` while buffers are held: the last release
    /// completes it.
    pub fn shutdown(&self) -> Result<(), Status> {
        self.core.shutdown()
    }

    /// The current state.
    pub fn state(&self) -> ManagerState {
        ManagerState::from_raw(self.core.state()).unwrap_or(ManagerState::Error)
    }

    /// Explicit transition: the current state (no-op), Error → Ready, or ShuttingDown.
    pub fn transition_state(&self, to: ManagerState) -> Result<(), Status> {
        self.core.transition(to as u32)
    }

    /// Reports whether `buffer` is held and intact.
    pub fn validate(&self, buffer: &Buffer<'_>) -> Result<(), Status> {
        self.core.validate(buffer.header.as_ptr())
    }

    /// Manager-wide statistics.
    pub fn statistics(&self) -> ManagerStatistics {
        self.core.statistics()
    }

    /// Statistics of one buffer type.
    pub fn pool_statistics(&self, buffer_type: BufferType) -> PoolStatistics {
        self.core.pool_statistics(buffer_type)
    }

    /// Real-time metrics.
    pub fn metrics(&self) -> RealtimeMetrics {
        self.core.metrics()
    }

    /// Performance report over the last `analysis_period_ns` of history (0 = all).
    pub fn performance_report(&self, analysis_period_ns: u64) -> PerformanceReport {
        self.core.performance_report(analysis_period_ns)
    }

    /// How the storage is divided.
    pub fn storage_layout() -> StorageLayout {
        ManagerCore::layout()
    }
}

impl Drop for Manager<'_> {
    /// Shuts the manager down. Every `Buffer` borrows the manager, so none is held here
    /// unless one was leaked with `mem::forget` (then the manager stays ShuttingDown).
    fn drop(&mut self) {
        let _ = self.core.shutdown();
    }
}

/// A held buffer. Dereferences to nothing implicitly: use [`Buffer::data`] and
/// [`Buffer::data_mut`] for the audio, [`Buffer::header`] for the metadata.
pub struct Buffer<'m> {
    core: &'m ManagerCore,
    header: NonNull<AudioBuffer>,
    _owns: PhantomData<&'m mut AudioBuffer>,
}

// SAFETY: a held buffer is owned by this handle alone; moving it to another thread moves the
// ownership, and release from any thread is allowed.
unsafe impl Send for Buffer<'_> {}

impl Buffer<'_> {
    /// The header (format, identity, caller fields).
    pub fn header(&self) -> &AudioBuffer {
        // SAFETY: this handle owns the held buffer; the library writes the header only before
        // handing it out and after it is released.
        unsafe { self.header.as_ref() }
    }

    /// Sets the header's `timestamp_ns`, the caller's time stamp of the audio in the buffer
    /// (the library never reads or changes it while the buffer is held).
    pub fn set_timestamp_ns(&mut self, timestamp_ns: u64) {
        // SAFETY: as in `header`; the handle is borrowed mutably.
        unsafe { self.header.as_mut().timestamp_ns = timestamp_ns };
    }

    /// Sets the bytes of valid audio. `Err(InvalidArgument)` above the capacity.
    pub fn set_data_size(&mut self, bytes: usize) -> Result<(), Status> {
        if bytes > self.header().buffer_capacity_bytes {
            return Err(Status::InvalidArgument);
        }
        // SAFETY: as in `header`; the handle is borrowed mutably.
        unsafe { self.header.as_mut().data_size_bytes = bytes };
        Ok(())
    }

    /// The valid audio bytes (`data_size_bytes` of them).
    pub fn data(&self) -> &[u8] {
        let h = self.header();
        // SAFETY: data_pointer is the buffer's aligned data area inside the manager's storage,
        // data_size_bytes <= capacity (enforced by set_data_size), and this handle owns it.
        unsafe { core::slice::from_raw_parts(h.data_pointer, h.data_size_bytes.min(h.buffer_capacity_bytes)) }
    }

    /// The valid audio bytes, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let h = *self.header();
        // SAFETY: as in `data`, and the handle is borrowed mutably so no other slice exists.
        unsafe { core::slice::from_raw_parts_mut(h.data_pointer, h.data_size_bytes.min(h.buffer_capacity_bytes)) }
    }

    /// The whole data area (`buffer_capacity_bytes`), writable.
    pub fn capacity_mut(&mut self) -> &mut [u8] {
        let h = *self.header();
        // SAFETY: as in `data_mut`, over the full capacity of the owned data area.
        unsafe { core::slice::from_raw_parts_mut(h.data_pointer, h.buffer_capacity_bytes) }
    }

    /// Releases the buffer now and reports the outcome (drop releases silently).
    pub fn release(self) -> Result<(), Status> {
        let this = core::mem::ManuallyDrop::new(self);
        this.core.release(this.header.as_ptr())
    }
}

impl core::fmt::Debug for Buffer<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Buffer").field("buffer_id", &self.header().buffer_id).finish()
    }
}

impl Drop for Buffer<'_> {
    fn drop(&mut self) {
        let _ = self.core.release(self.header.as_ptr());
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::boxed::Box;

    fn format() -> AudioFormat {
        AudioFormat::pcm(48_000, 2, 16, 64)
    }

    #[test]
    fn dropping_a_buffer_releases_it() {
        let mut storage = Box::new(BufferManagerStorage::new());
        let manager = Manager::new(&mut storage, None).unwrap();
        {
            let mut a = manager.allocate(BufferType::Primary, &format()).unwrap();
            a.data_mut().fill(0x5A);
            assert_eq!(a.data().len(), 256);
            assert!(a.data().iter().all(|&b| b == 0x5A));
            assert_eq!(manager.pool_statistics(BufferType::Primary).allocated_buffers, 1);
            assert_eq!(manager.validate(&a), Ok(()));
        }
        let s = manager.pool_statistics(BufferType::Primary);
        assert_eq!((s.allocated_buffers, s.total_releases), (0, 1));
        assert_eq!(manager.state(), ManagerState::Active);
    }

    #[test]
    fn explicit_release_reports_and_does_not_release_twice() {
        let mut storage = Box::new(BufferManagerStorage::new());
        let manager = Manager::new(&mut storage, None).unwrap();
        let b = manager.allocate(BufferType::Scratch, &format()).unwrap();
        assert_eq!(b.release(), Ok(()));
        let s = manager.statistics();
        assert_eq!(s.buffer_type_stats[2].total_releases, 1);
        assert_eq!(s.failed_operations, 0, "the consumed handle must not release again");
    }

    #[test]
    fn caller_fields_are_bounded_by_the_capacity() {
        let mut storage = Box::new(BufferManagerStorage::new());
        let manager = Manager::new(&mut storage, None).unwrap();
        let mut b = manager.allocate(BufferType::Conversion, &format()).unwrap();
        let capacity = b.header().buffer_capacity_bytes;
        assert_eq!(b.set_data_size(capacity + 1), Err(Status::InvalidArgument));
        b.set_data_size(capacity).unwrap();
        b.set_timestamp_ns(42);
        assert_eq!(b.data().len(), capacity);
        assert_eq!(b.capacity_mut().len(), capacity);
        assert_eq!(b.header().timestamp_ns, 42);
        assert_eq!(manager.validate(&b), Ok(()));
    }

    #[test]
    fn the_manager_shuts_down_on_drop_and_the_storage_is_reusable() {
        let mut storage = Box::new(BufferManagerStorage::new());
        {
            let manager = Manager::new(&mut storage, None).unwrap();
            let _b = manager.allocate(BufferType::Primary, &format()).unwrap();
        }
        let manager = Manager::new(&mut storage, None).unwrap();
        assert_eq!(manager.state(), ManagerState::Ready);
        assert_eq!(manager.transition_state(ManagerState::Ready), Ok(()));
        assert_eq!(manager.transition_state(ManagerState::Active), Err(Status::InvalidState));
        assert!(manager.metrics().allocation_success_rate >= 1.0);
        // The new manager's one interval, from init to the report, holds nothing (and with
        // monitoring compiled out there is no interval at all).
        let trend = manager.performance_report(0).trend;
        assert_eq!(
            (trend.sample_count, trend.average_allocation_time_ns, trend.peak_memory_utilization),
            (u32::from(crate::geometry::MONITORING_BUILT), 0.0, 0.0)
        );
        assert!(Manager::storage_layout().required_bytes <= Manager::storage_layout().storage_bytes);
    }

    #[test]
    fn a_buffer_handle_goes_through_a_queue() {
        let mut storage = Box::new(BufferManagerStorage::new());
        let manager = Manager::new(&mut storage, None).unwrap();
        let mut b = manager.allocate(BufferType::Primary, &format()).unwrap();
        b.data_mut()[0] = 0x42;
        let id = b.header().buffer_id;
        manager.enqueue(1, b).unwrap();
        assert_eq!(manager.queue_statistics(1).map(|q| q.length), Ok(1));
        let mut entries = [HeldBuffer::default(); 4];
        assert_eq!(manager.held_buffers(&mut entries), 1);
        assert_eq!((entries[0].buffer_id, entries[0].queue), (id, 1));
        assert!(matches!(manager.dequeue(0), Err(Status::QueueEmpty)));
        let back = manager.dequeue(1).unwrap();
        assert_eq!((back.header().buffer_id, back.data()[0]), (id, 0x42));
        // A refused enqueue gives the handle back, still holding the buffer.
        let (status, back) = manager.enqueue(99, back).unwrap_err();
        assert_eq!(status, Status::InvalidArgument);
        assert_eq!(manager.validate(&back), Ok(()));
        assert_eq!(manager.queue_statistics(99), Err(Status::InvalidArgument));
        drop(back);
        assert_eq!(manager.held_buffers(&mut []), 0);
        assert_eq!(manager.pool_statistics(BufferType::Primary).total_releases, 1);
    }

    #[test]
    fn buffers_move_between_threads() {
        let mut storage = Box::new(BufferManagerStorage::new());
        let manager = Manager::new(&mut storage, None).unwrap();
        std::thread::scope(|s| {
            let b = manager.allocate(BufferType::Primary, &format()).unwrap();
            s.spawn(move || drop(b)).join().unwrap();
        });
        assert_eq!(manager.pool_statistics(BufferType::Primary).total_releases, 1);
    }
}
