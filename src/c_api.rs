//! The C ABI: every exported function of `include/aes5_buffer_manager.h`.
//!
//! Rules of this module: pointers are checked for NULL before use, integers from C are mapped
//! to enums with checked conversions, out-parameters are written only on success, and there is
//! no panic path (the lints below enforce it).
//!
//! The pointer contract of every exported function, stated once here and in the header's
//! conventions rather than on each function: a `manager` argument is NULL or a handle
//! returned by `aes5_buffer_manager_init` whose storage still exists; every other non-NULL
//! pointer points to a live object of its type; a buffer pointer may point anywhere (it is
//! proved by address before it is read). Functions with a further requirement say so in a
//! `# Safety` section of their own.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
// The shared pointer contract is in the module documentation above, once, instead of an
// identical `# Safety` section on every function.
#![allow(clippy::missing_safety_doc)]

use core::ffi::c_char;
use core::mem::align_of;

use crate::manager::operations::Operation;
use crate::manager::refusal::{LastRefusal, Refusal};
use crate::manager::state_machine::{state_name, Aes5ManagerState};
use crate::manager::storage::{BufferManager, BufferManagerStorage, StorageLayout};
use crate::manager::ManagerCore;
use crate::observability::hand_offs::{HeldBuffer, QueueStatistics};
use crate::observability::integrity::IntegrityReport;
use crate::observability::metrics::RealtimeMetrics;
use crate::observability::report::{warning_name, PerformanceReport};
use crate::observability::statistics::ManagerStatistics;
use crate::observability::statistics::PoolStatistics;
use crate::types::buffer_type::{buffer_type_name, Aes5BufferType, BufferType};
use crate::types::config::RuntimeConfig;
use crate::types::format::{is_aes5_frequency, AudioFormat, FormatLimits};
use crate::types::format_problem::{describe_problem, format_problem, Aes5FormatProblem};
use crate::types::header::AudioBuffer;
use crate::types::status::{describe, Aes5Status, Status, AES5_OK};

/// Writes `value` to `out` and returns `AES5_OK`.
///
/// # Safety
/// `out` must be non-null, aligned and writable.
unsafe fn deliver<T>(out: *mut T, value: T) -> Aes5Status {
    // SAFETY: the caller checked `out` for NULL; C guarantees alignment and writability of
    // the object it passes.
    unsafe { out.write(value) };
    AES5_OK
}

/// Status of a `Result<(), Status>`.
fn status(result: Result<(), Status>) -> Aes5Status {
    Status::code_of(&result)
}

/// The shape of the read-only queries of a small value: prove the handle, check `out`, run
/// `read`, deliver.
///
/// # Safety
/// `manager` must be NULL or a handle returned by init whose storage still exists; `out` must
/// be NULL or point to a writable `T`.
unsafe fn query<T>(
    manager: *const BufferManager,
    out: *mut T,
    read: impl FnOnce(&ManagerCore) -> Result<T, Status>,
) -> Aes5Status {
    let fill = |core: &ManagerCore, out: *mut T| {
        let value = read(core)?;
        // SAFETY: `query_into` checked `out` for NULL; C guarantees alignment and writability.
        unsafe { deliver(out, value) };
        Ok(())
    };
    // SAFETY: forwarded caller contract; `fill` writes `*out` whole, or nothing on `Err`.
    unsafe { query_into(manager, out, fill) }
}

/// The shape of the queries that fill a structure: prove the handle, check `out`, then let
/// `fill` write every field of `*out` in place (no copy of the structure is made).
///
/// # Safety
/// As [`query`]; `fill` must write every field of `*out` when it returns `Ok`, and none when
/// it returns `Err`.
unsafe fn query_into<T>(
    manager: *const BufferManager,
    out: *mut T,
    fill: impl FnOnce(&ManagerCore, *mut T) -> Result<(), Status>,
) -> Aes5Status {
    // SAFETY: a non-null handle comes from init (the caller's contract).
    let core = match unsafe { ManagerCore::from_handle(manager) } {
        Ok(core) => core,
        Err(e) => return e.code(),
    };
    if out.is_null() {
        return Status::NullPointer.code();
    }
    status(fill(core, out))
}

/// The shape of the format helpers: check both pointers, compute, deliver.
///
/// # Safety
/// `format` must be NULL or point to an initialised format; `out` NULL or writable.
unsafe fn format_query<T>(
    format: *const AudioFormat,
    out: *mut T,
    compute: impl FnOnce(&AudioFormat) -> Result<T, Status>,
) -> Aes5Status {
    // SAFETY: a non-null format points to a caller-initialised struct of integers.
    let Some(format) = (unsafe { format.as_ref() }) else {
        return Status::NullPointer.code();
    };
    if out.is_null() {
        return Status::NullPointer.code();
    }
    match compute(format) {
        // SAFETY: checked for NULL above.
        Ok(value) => unsafe { deliver(out, value) },
        Err(e) => e.code(),
    }
}

/// Fills `*out_config` with the default runtime configuration: the widest format limits
/// (1024 samples, 8 channels, 384000 Hz), `min_success_rate` 0.999, `allocation_timeout_ns`
/// 100000, monitoring (when compiled in, `AES5_MONITORING`) and validation on, debug logging
/// off, no clock or log callback.
///
/// @param out_config  where to write the defaults.
/// @return AES5_OK, or AES5_ERR_NULL_POINTER if `out_config` is NULL.
/// Thread/ISR safety: reentrant; touches only `*out_config`.
#[no_mangle]
pub unsafe extern "C" fn aes5_runtime_config_default(out_config: *mut RuntimeConfig) -> Aes5Status {
    if out_config.is_null() {
        return Status::NullPointer.code();
    }
    // SAFETY: checked for NULL above; C guarantees alignment and writability.
    unsafe { RuntimeConfig::write_default(out_config) };
    AES5_OK
}

/// Initialises a manager in caller-owned storage.
///
/// The storage may hold anything (zeroes, a `NOLOAD` section's power-up bytes, a manager that
/// was shut down): init writes every byte it later reads. The one content it refuses is a live
/// manager at this address (AES5_ERR_ALREADY_INITIALIZED), as after a warm reset that kept
/// RAM: zero the storage first, or shut that manager down. The storage must stay valid and
/// untouched for as long as the manager is used. The configuration is copied.
///
/// @param storage      storage aligned to `_Alignof(aes5_buffer_manager_storage_t)`.
/// @param config       runtime configuration, or NULL for the defaults.
/// @param out_manager  receives the manager handle on success.
/// @return AES5_OK; AES5_ERR_NULL_POINTER (storage or out_manager NULL);
///         AES5_ERR_MISALIGNED_STORAGE; AES5_ERR_INVALID_ARGUMENT (a config field out of
///         range); AES5_ERR_ALREADY_INITIALIZED (the storage holds a live manager).
/// Thread/ISR safety: not concurrent with any other call on the same storage; different
/// storages may be initialised concurrently.
///
/// # Safety
/// Non-NULL pointers must point to live objects of their type; `storage` must not be in
/// use by any other call while init runs.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_init(
    storage: *mut BufferManagerStorage,
    config: *const RuntimeConfig,
    out_manager: *mut *mut BufferManager,
) -> Aes5Status {
    if storage.is_null() || out_manager.is_null() {
        return Status::NullPointer.code();
    }
    if (storage as usize) % align_of::<BufferManagerStorage>() != 0 {
        return Status::MisalignedStorage.code();
    }
    let defaults = RuntimeConfig::default();
    // SAFETY: a non-null config points to a caller-initialised struct; every field of it is
    // an integer, float, nullable function pointer or raw pointer, valid for any bits.
    let config = unsafe { config.as_ref() }.unwrap_or(&defaults);
    // SAFETY: storage is non-null and aligned; the caller owns it exclusively during init.
    match unsafe { ManagerCore::init(storage, config) } {
        // SAFETY: out_manager was checked for NULL.
        Ok(core) => unsafe { deliver(out_manager, core.as_ptr().cast::<BufferManager>()) },
        Err(e) => e.code(),
    }
}

/// Initialises a manager exactly as `aes5_buffer_manager_init`, after checking that
/// `storage_bytes` (the caller's `sizeof(aes5_buffer_manager_storage_t)`) is the storage size
/// this library was built for. Use it through the `AES5_BUFFER_MANAGER_INIT` macro: code
/// compiled against a header from a build with another geometry then gets
/// AES5_ERR_STORAGE_SIZE_MISMATCH instead of a library that runs past the end of its storage.
///
/// @param storage        storage aligned to `_Alignof(aes5_buffer_manager_storage_t)`.
/// @param storage_bytes  `sizeof(aes5_buffer_manager_storage_t)` as the caller sees it.
/// @param config         runtime configuration, or NULL for the defaults.
/// @param out_manager    receives the manager handle on success.
/// @return as `aes5_buffer_manager_init`, plus AES5_ERR_STORAGE_SIZE_MISMATCH.
/// Thread/ISR safety: as `aes5_buffer_manager_init`.
///
/// # Safety
/// As `aes5_buffer_manager_init`.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_init_checked(
    storage: *mut BufferManagerStorage,
    storage_bytes: usize,
    config: *const RuntimeConfig,
    out_manager: *mut *mut BufferManager,
) -> Aes5Status {
    if storage.is_null() || out_manager.is_null() {
        return Status::NullPointer.code();
    }
    if storage_bytes != core::mem::size_of::<BufferManagerStorage>() {
        return Status::StorageSizeMismatch.code();
    }
    // SAFETY: forwarded caller contract.
    unsafe { aes5_buffer_manager_init(storage, config, out_manager) }
}

/// Requests shutdown. With no buffer held the manager goes to Shutdown at once; otherwise it
/// goes to ShuttingDown (allocation refused, release allowed) and the last release completes
/// the shutdown. After Shutdown the storage may be initialised again.
///
/// @param manager  the manager.
/// @return AES5_OK (now Shutdown); AES5_ERR_BUFFERS_OUTSTANDING (ShuttingDown until the last
///         release); AES5_ERR_NULL_POINTER; AES5_ERR_INVALID_STATE (already shut down, or
///         `manager` was never initialised).
/// Thread/ISR safety: not concurrent with init; safe against concurrent allocate/release
/// (no buffer is handed out once shutdown has begun).
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_shutdown(manager: *mut BufferManager) -> Aes5Status {
    // SAFETY: a non-null handle comes from init (documented contract).
    match unsafe { ManagerCore::from_handle(manager) } {
        Ok(core) => status(core.shutdown()),
        Err(e) => e.code(),
    }
}

/// Allocates a buffer of `type` for `format`. Lock-free and O(1); never waits.
///
/// On success `*out_buffer` points to the buffer's header: `data_pointer` is the aligned
/// audio area of `buffer_capacity_bytes` bytes, `data_size_bytes` is the format's size.
///
/// @param manager     the manager.
/// @param type        AES5_BUFFER_TYPE_PRIMARY, _CONVERSION or _SCRATCH (the others have no
///                    pool).
/// @param format      the audio format the buffer will hold.
/// @param out_buffer  receives the buffer on success.
/// @return AES5_OK; AES5_ERR_NULL_POINTER; AES5_ERR_INVALID_ARGUMENT (type > 5);
///         AES5_ERR_INVALID_STATE (not Ready/Active/Warning); AES5_ERR_NO_POOL_FOR_TYPE;
///         AES5_ERR_UNSUPPORTED_FORMAT; AES5_ERR_FORMAT_TOO_LARGE; AES5_ERR_POOL_EXHAUSTED.
/// Thread/ISR safety: callable concurrently from any thread and interrupt handler.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_allocate(
    manager: *mut BufferManager,
    r#type: Aes5BufferType,
    format: *const AudioFormat,
    out_buffer: *mut *mut AudioBuffer,
) -> Aes5Status {
    // SAFETY: a non-null handle comes from init (documented contract).
    let core = match unsafe { ManagerCore::from_handle(manager) } {
        Ok(core) => core,
        Err(e) => return e.code(),
    };
    if out_buffer.is_null() {
        return core.refuse(Refusal::null_argument(Operation::Allocate, 4)).code();
    }
    // SAFETY: a non-null format points to a caller-initialised struct of integers.
    let Some(format) = (unsafe { format.as_ref() }) else {
        return core.refuse(Refusal::null_argument(Operation::Allocate, 3)).code();
    };
    match core.allocate(r#type, format) {
        // SAFETY: out_buffer was checked for NULL.
        Ok(header) => unsafe { deliver(out_buffer, header.as_ptr()) },
        Err(e) => e.code(),
    }
}

/// Returns a buffer to its pool. Ownership changes in one atomic step, so of two releases of
/// one buffer exactly one succeeds. With memory validation on, a damaged header is
/// quarantined: never handed out again, counted, and the manager goes to Error.
///
/// The pointer is proved to be exactly one of this manager's headers by address arithmetic
/// before anything is read through it.
///
/// @param manager  the manager.
/// @param buffer   a buffer this manager handed out.
/// @return AES5_OK; AES5_ERR_NULL_POINTER; AES5_ERR_INVALID_STATE (not initialised or shut
///         down); AES5_ERR_FOREIGN_BUFFER (not one of this manager's headers);
///         AES5_ERR_DOUBLE_RELEASE (already free); AES5_ERR_CORRUPTED (damaged, now
///         quarantined, or quarantined before).
/// Thread/ISR safety: callable concurrently from any thread and interrupt handler.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_release(
    manager: *mut BufferManager,
    buffer: *mut AudioBuffer,
) -> Aes5Status {
    // SAFETY: a non-null handle comes from init (documented contract).
    let core = match unsafe { ManagerCore::from_handle(manager) } {
        Ok(core) => core,
        Err(e) => return e.code(),
    };
    if buffer.is_null() {
        return core.refuse(Refusal::null_argument(Operation::Release, 2)).code();
    }
    status(core.release(buffer))
}

/// Reports on a buffer without changing anything.
///
/// @param manager  the manager.
/// @param buffer   the buffer to check.
/// @return AES5_OK (held and intact); AES5_ERR_DOUBLE_RELEASE (free);
///         AES5_ERR_CORRUPTED (damaged or quarantined); AES5_ERR_FOREIGN_BUFFER;
///         AES5_ERR_NULL_POINTER; AES5_ERR_INVALID_STATE (`manager` was never initialised).
/// Thread/ISR safety: callable concurrently from any thread and interrupt handler.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_validate_buffer(
    manager: *const BufferManager,
    buffer: *const AudioBuffer,
) -> Aes5Status {
    // SAFETY: a non-null handle comes from init (documented contract).
    let core = match unsafe { ManagerCore::from_handle(manager) } {
        Ok(core) => core,
        Err(e) => return e.code(),
    };
    if buffer.is_null() {
        return core.refuse(Refusal::null_argument(Operation::Validate, 2)).code();
    }
    status(core.validate(buffer))
}

/// Hands `buffer`, which the caller holds, to hand-off queue `queue`: from then on the queue
/// owns it, and the caller must not touch it or its data until a dequeue hands it out again.
/// The buffer is checked as release checks it (pointer proof, header with memory validation
/// on); the custody change is one compare-and-swap, so of two racing enqueues, or an enqueue
/// and a release, of one buffer exactly one succeeds. A queue holds every buffer of the
/// manager if need be: an enqueue never finds it full.
///
/// Cost: O(1), lock-free (one compare-and-swap on the buffer's custody word, one `fetch_add`
/// and one store on the queue; a clock read with monitoring), never waits.
///
/// @param manager  the manager.
/// @param queue    0 ..= AES5_QUEUE_COUNT - 1.
/// @param buffer   a buffer the caller holds (allocated, or dequeued).
/// @return AES5_OK; AES5_ERR_NULL_POINTER; AES5_ERR_INVALID_ARGUMENT (queue out of range);
///         AES5_ERR_INVALID_STATE (a state in which release is refused);
///         AES5_ERR_FOREIGN_BUFFER; AES5_ERR_DOUBLE_RELEASE (the buffer is free);
///         AES5_ERR_BUFFER_QUEUED (it already waits in a queue); AES5_ERR_CORRUPTED (damaged:
///         quarantined now, as release does, or before).
/// Thread/ISR safety: callable concurrently from any thread and interrupt handler.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_enqueue(
    manager: *mut BufferManager,
    queue: u32,
    buffer: *mut AudioBuffer,
) -> Aes5Status {
    // SAFETY: a non-null handle comes from init (documented contract).
    let core = match unsafe { ManagerCore::from_handle(manager) } {
        Ok(core) => core,
        Err(e) => return e.code(),
    };
    if buffer.is_null() {
        return core.refuse(Refusal::null_argument(Operation::Enqueue, 3)).code();
    }
    status(core.enqueue(queue, buffer))
}

/// Takes the oldest buffer of hand-off queue `queue` (first in, first out); the caller now
/// holds it and may release it, enqueue it again or keep it. Of two consumers racing on one
/// queue, each buffer goes to exactly one. A dequeue that overlaps an enqueue of the same
/// queue still in progress may find the queue empty.
///
/// Cost: O(1), lock-free (two loads and one compare-and-swap on the queue, one store on the
/// buffer's custody word; a clock read with monitoring), never waits.
///
/// @param manager     the manager.
/// @param queue       0 ..= AES5_QUEUE_COUNT - 1.
/// @param out_buffer  receives the buffer on success (untouched otherwise).
/// @return AES5_OK; AES5_ERR_QUEUE_EMPTY; AES5_ERR_NULL_POINTER; AES5_ERR_INVALID_ARGUMENT
///         (queue out of range); AES5_ERR_INVALID_STATE (a state in which release is
///         refused).
/// Thread/ISR safety: callable concurrently from any thread and interrupt handler.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_dequeue(
    manager: *mut BufferManager,
    queue: u32,
    out_buffer: *mut *mut AudioBuffer,
) -> Aes5Status {
    // SAFETY: a non-null handle comes from init (documented contract).
    let core = match unsafe { ManagerCore::from_handle(manager) } {
        Ok(core) => core,
        Err(e) => return e.code(),
    };
    if out_buffer.is_null() {
        return core.refuse(Refusal::null_argument(Operation::Dequeue, 3)).code();
    }
    match core.dequeue(queue) {
        // SAFETY: out_buffer was checked for NULL.
        Ok(header) => unsafe { deliver(out_buffer, header.as_ptr()) },
        Err(e) => e.code(),
    }
}

/// Copies the statistics of hand-off queue `queue`: its length now, its peak length, and its
/// enqueues and dequeues since init.
///
/// @param manager         the manager.
/// @param queue           0 ..= AES5_QUEUE_COUNT - 1.
/// @param out_statistics  receives the statistics.
/// @return AES5_OK; AES5_ERR_NULL_POINTER; AES5_ERR_INVALID_ARGUMENT (queue out of range);
///         AES5_ERR_INVALID_STATE (`manager` was never initialised).
/// Thread/ISR safety: lock-free; callable concurrently from any thread and interrupt handler.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_get_queue_statistics(
    manager: *const BufferManager,
    queue: u32,
    out_statistics: *mut QueueStatistics,
) -> Aes5Status {
    // SAFETY: forwarded caller contract.
    unsafe { query(manager, out_statistics, |core| core.queue_statistics(queue).ok_or(Status::InvalidArgument)) }
}

/// The held-buffer finder: lists every buffer that is not free (quarantined buffers aside),
/// with where it is now (`queue`, or AES5_NO_QUEUE when a caller holds it), the queue it was
/// last dequeued from, and when it was allocated and handed to where it is. Answers "who holds
/// this buffer, and since when" for a leak or a stuck stage.
///
/// Writes at most `capacity` entries and sets `*out_count` to the number of buffers found
/// (more than `capacity` when the array was too small). Each entry belongs to one moment (it
/// may be stale, never torn).
///
/// Cost: O(buffers), lock-free: a few loads per buffer (and one clock read with monitoring);
/// meant for a task, a shell command or a watchdog rather than an interrupt handler, though
/// safe there.
///
/// @param manager      the manager.
/// @param out_entries  an array of `capacity` entries; may be NULL when `capacity` is 0 (to
///                     count only).
/// @param capacity     entries `out_entries` holds.
/// @param out_count    receives the number of buffers that are not free.
/// @return AES5_OK; AES5_ERR_NULL_POINTER (`out_count` NULL, or `out_entries` NULL with
///         `capacity` > 0); AES5_ERR_INVALID_STATE (`manager` was never initialised).
/// Thread/ISR safety: lock-free; callable concurrently from any thread and interrupt handler.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_get_held_buffers(
    manager: *const BufferManager,
    out_entries: *mut HeldBuffer,
    capacity: u32,
    out_count: *mut u32,
) -> Aes5Status {
    if out_entries.is_null() && capacity > 0 {
        return Status::NullPointer.code();
    }
    // SAFETY: forwarded caller contract; `out_entries` holds `capacity` entries (or is unused).
    unsafe { query(manager, out_count, |core| Ok(core.write_held_buffers(out_entries, capacity))) }
}

/// The integrity sweep: checks every guard word around every buffer's data and every free
/// buffer's header. A guard zone with a changed word is counted in `damaged_guards`; the
/// buffers next to it are blamed by adjacency (a changed word right after a buffer's data: it
/// was overrun; right before: underrun; a change inside the zone blames neither). A free
/// header written after its release counts in `damaged_free_headers`. Blamed free buffers are
/// quarantined (never handed out again; counted in `corruption_detected`, and
/// `overruns_detected` for a guard; the manager goes to Error); blamed held or queued buffers
/// are reported, and their own release or enqueue quarantines them. Nothing is repaired.
///
/// Meant for an idle loop or a watchdog task. Cost: O(buffers): every guard word (by
/// default 8 words per buffer) and the header of every free buffer are read once, about 300
/// instructions per buffer on Cortex-M4F when nothing is damaged (4,238 for the default 14
/// buffers with 2 held, measured by `scripts/cortex-m-costs.sh`); lock-free and safe beside
/// traffic from threads and interrupt handlers (while it confirms the damage of a free buffer
/// it holds that buffer, so an allocation from its pool may find the pool empty).
///
/// @param manager     the manager.
/// @param out_report  receives what the sweep found.
/// @return AES5_OK (the report says what was found); AES5_ERR_NULL_POINTER;
///         AES5_ERR_INVALID_STATE (`manager` was never initialised).
/// Thread/ISR safety: lock-free; callable concurrently from any thread and interrupt handler.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_check_integrity(
    manager: *mut BufferManager,
    out_report: *mut IntegrityReport,
) -> Aes5Status {
    // SAFETY: forwarded caller contract; the sweep writes every field of `*out_report`.
    unsafe {
        query_into(manager, out_report, |core, out| {
            core.check_integrity(out);
            Ok(())
        })
    }
}

/// Why the manager's last refused call was refused, without a log callback: the call, its
/// status, the exact reason (`AES5_REFUSAL_*`) with the buffer, pool, queue or state it names,
/// and the same text `log_detail` received. Every refusal of allocate, release,
/// validate_buffer, enqueue, dequeue, shutdown and transition_state is recorded (a dequeue of
/// an empty queue is an answer, not a refusal), and so is each buffer the integrity sweep
/// quarantines. `number` counts the refusals recorded, so a caller can tell a new one from the
/// last it saw.
///
/// Best effort under concurrency: the record is never torn, but a refusal made while another
/// is being recorded (on another core, or in the code an interrupt handler interrupted) is
/// counted and logged and not recorded; and a handler that interrupted a refusal being
/// recorded gets `AES5_REFUSAL_BEING_RECORDED` instead of waiting for it.
///
/// Cost: lock-free, never waits; composes the text on the stack (no `printf`).
///
/// @param manager      the manager.
/// @param out_refusal  receives the last refusal (`reason` AES5_REFUSAL_NONE and `number` 0
///                     when none was recorded since init).
/// @return AES5_OK; AES5_ERR_NULL_POINTER; AES5_ERR_INVALID_STATE (`manager` was never
///         initialised).
/// Thread/ISR safety: lock-free; callable concurrently from any thread and interrupt handler.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_get_last_refusal(
    manager: *const BufferManager,
    out_refusal: *mut LastRefusal,
) -> Aes5Status {
    // SAFETY: forwarded caller contract; `last_refusal` writes every field of `*out_refusal`.
    unsafe {
        query_into(manager, out_refusal, |core, out| {
            core.last_refusal(out);
            Ok(())
        })
    }
}

/// Reads the manager's state.
///
/// @param manager    the manager.
/// @param out_state  receives an AES5_STATE_* value.
/// @return AES5_OK; AES5_ERR_NULL_POINTER; AES5_ERR_INVALID_STATE (`manager` was never initialised).
/// Thread/ISR safety: callable concurrently from any thread and interrupt handler.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_get_state(
    manager: *const BufferManager,
    out_state: *mut Aes5ManagerState,
) -> Aes5Status {
    // SAFETY: forwarded caller contract.
    unsafe { query(manager, out_state, |core| Ok(core.state())) }
}

/// Requests a state transition. Accepted: the current state (no-op), Error → Ready
/// (explicit recovery), and ShuttingDown (exactly as aes5_buffer_manager_shutdown). Ready →
/// Active, Active ↔ Warning and ShuttingDown → Shutdown happen by themselves.
///
/// @param manager  the manager.
/// @param to       the requested AES5_STATE_* value.
/// The no-op rule comes first: requesting ShuttingDown while already ShuttingDown returns
/// AES5_OK.
///
/// @return AES5_OK; AES5_ERR_INVALID_ARGUMENT (to > 7); AES5_ERR_INVALID_STATE (not an
///         accepted transition, or `manager` was never initialised);
///         AES5_ERR_BUFFERS_OUTSTANDING (ShuttingDown with buffers held); AES5_ERR_NULL_POINTER.
/// Thread/ISR safety: callable concurrently with allocate/release; not with init.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_transition_state(
    manager: *mut BufferManager,
    to: Aes5ManagerState,
) -> Aes5Status {
    // SAFETY: a non-null handle comes from init (documented contract).
    match unsafe { ManagerCore::from_handle(manager) } {
        Ok(core) => status(core.transition(to)),
        Err(e) => e.code(),
    }
}

/// Copies the manager-wide statistics, with per-type statistics for all six types.
///
/// @param manager  the manager.
/// @param out      receives the statistics.
/// @return AES5_OK; AES5_ERR_NULL_POINTER; AES5_ERR_INVALID_STATE (`manager` was never initialised).
/// Thread/ISR safety: lock-free; callable concurrently from any thread and interrupt
/// handler. Each field is read without tearing.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_get_statistics(
    manager: *const BufferManager,
    out: *mut ManagerStatistics,
) -> Aes5Status {
    // SAFETY: forwarded caller contract.
    // SAFETY: forwarded caller contract; `out` was checked for NULL and C guarantees the
    // alignment and writability of the object it passes.
    unsafe {
        query_into(manager, out, |core, out| {
            core.write_statistics(out);
            Ok(())
        })
    }
}

/// Copies the statistics of one buffer type.
///
/// @param manager  the manager.
/// @param type     an AES5_BUFFER_TYPE_* value (types without a pool report zeros).
/// @param out      receives the statistics.
/// @return AES5_OK; AES5_ERR_NULL_POINTER; AES5_ERR_INVALID_ARGUMENT (type > 5);
///         AES5_ERR_INVALID_STATE (`manager` was never initialised).
/// Thread/ISR safety: lock-free; callable concurrently from any thread and interrupt handler.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_get_pool_statistics(
    manager: *const BufferManager,
    r#type: Aes5BufferType,
    out: *mut PoolStatistics,
) -> Aes5Status {
    let fill = |core: &ManagerCore, out: *mut PoolStatistics| match BufferType::from_raw(r#type) {
        Some(buffer_type) => {
            // SAFETY: `out` was checked for NULL; C guarantees alignment and writability.
            unsafe { core.write_pool_statistics(buffer_type, out) };
            Ok(())
        }
        None => Err(Status::InvalidArgument),
    };
    // SAFETY: forwarded caller contract.
    unsafe { query_into(manager, out, fill) }
}

/// Copies the real-time metrics.
///
/// @param manager  the manager.
/// @param out      receives the metrics.
/// @return AES5_OK; AES5_ERR_NULL_POINTER; AES5_ERR_INVALID_STATE (`manager` was never initialised).
/// Thread/ISR safety: lock-free; callable concurrently from any thread and interrupt handler.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_get_metrics(
    manager: *const BufferManager,
    out: *mut RealtimeMetrics,
) -> Aes5Status {
    // SAFETY: forwarded caller contract.
    // SAFETY: as in `aes5_buffer_manager_get_statistics`.
    unsafe {
        query_into(manager, out, |core, out| {
            core.write_metrics(out);
            Ok(())
        })
    }
}

/// Builds the performance report: metrics, trend analysis of the history snapshots taken in
/// the last `analysis_period_ns` (0 = the whole history), the requirements verdict and the
/// AES5_WARNING_* flags.
///
/// @param manager             the manager.
/// @param analysis_period_ns  window of history to analyse, ns (0 = all).
/// @param out                 receives the report.
/// @return AES5_OK; AES5_ERR_NULL_POINTER; AES5_ERR_INVALID_STATE (`manager` was never initialised).
/// Thread/ISR safety: lock-free; callable concurrently from any thread. It walks the whole
/// history ring (AES5_HISTORY_CAPACITY entries), so prefer a thread over an interrupt handler.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_get_performance_report(
    manager: *const BufferManager,
    analysis_period_ns: u64,
    out: *mut PerformanceReport,
) -> Aes5Status {
    // SAFETY: forwarded caller contract.
    // SAFETY: as in `aes5_buffer_manager_get_statistics`.
    unsafe {
        query_into(manager, out, |core, out| {
            core.write_performance_report(analysis_period_ns, out);
            Ok(())
        })
    }
}

/// Describes how `aes5_buffer_manager_storage_t` is divided (control block, headers,
/// statistics, history, data) for this build's geometry.
///
/// @param out  receives the layout.
/// @return AES5_OK, or AES5_ERR_NULL_POINTER.
/// Thread/ISR safety: reentrant.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_storage_layout(out: *mut StorageLayout) -> Aes5Status {
    if out.is_null() {
        return Status::NullPointer.code();
    }
    // SAFETY: checked for NULL above.
    unsafe { deliver(out, ManagerCore::layout()) }
}

/// Validates a format against the compile-time limits and gives the bytes one buffer of it
/// needs (channels × frame samples × container bytes).
///
/// @param format     the format.
/// @param out_bytes  receives the byte count.
/// @return AES5_OK; AES5_ERR_NULL_POINTER; AES5_ERR_UNSUPPORTED_FORMAT.
/// Thread/ISR safety: reentrant.
#[no_mangle]
pub unsafe extern "C" fn aes5_audio_format_bytes(format: *const AudioFormat, out_bytes: *mut u32) -> Aes5Status {
    // SAFETY: forwarded caller contract.
    unsafe { format_query(format, out_bytes, AudioFormat::bytes_needed) }
}

/// Gives the exact effective sampling frequency of a format, pull-up/pull-down included, as
/// the fraction `*out_numerator / *out_denominator` Hz (48 kHz pulled down = 48000000/1001).
///
/// @param format           the format (validated against the compile-time limits).
/// @param out_numerator    receives the numerator, Hz.
/// @param out_denominator  receives the denominator.
/// @return AES5_OK; AES5_ERR_NULL_POINTER; AES5_ERR_UNSUPPORTED_FORMAT.
/// Thread/ISR safety: reentrant.
#[no_mangle]
pub unsafe extern "C" fn aes5_audio_format_effective_rate(
    format: *const AudioFormat,
    out_numerator: *mut u64,
    out_denominator: *mut u64,
) -> Aes5Status {
    if out_numerator.is_null() {
        return Status::NullPointer.code();
    }
    // SAFETY: forwarded caller contract; the numerator is written only with the denominator.
    unsafe {
        format_query(format, out_denominator, |f| {
            let (num, den) = f.effective_rate_hz()?;
            deliver(out_numerator, num);
            Ok(den)
        })
    }
}

/// Gives the duration of one buffer of a format (`frame_size_samples` at the effective rate)
/// in nanoseconds, computed from the exact rate ratio and rounded to the nearest ns.
///
/// @param format  the format (validated against the compile-time limits).
/// @param out_ns  receives the duration, ns.
/// @return AES5_OK; AES5_ERR_NULL_POINTER; AES5_ERR_UNSUPPORTED_FORMAT.
/// Thread/ISR safety: reentrant.
#[no_mangle]
pub unsafe extern "C" fn aes5_audio_format_frame_duration_ns(
    format: *const AudioFormat,
    out_ns: *mut u64,
) -> Aes5Status {
    // SAFETY: forwarded caller contract.
    unsafe { format_query(format, out_ns, AudioFormat::frame_duration_ns) }
}

/// True for the nine AES5-2018 nominal sampling frequencies: 32000, 44100, 48000, 88200,
/// 96000, 176400, 192000, 352800 and 384000 Hz.
///
/// Thread/ISR safety: reentrant.
#[no_mangle]
pub extern "C" fn aes5_is_aes5_frequency(sample_rate_hz: u32) -> bool {
    is_aes5_frequency(sample_rate_hz)
}

/// Static, NUL-terminated description of a status code; never NULL (unknown codes get a
/// fixed text).
///
/// Thread/ISR safety: reentrant.
#[no_mangle]
pub extern "C" fn aes5_status_string(status: Aes5Status) -> *const c_char {
    describe(status).as_ptr().cast()
}

/// Static, NUL-terminated name of a manager state: "Uninitialized", "Initializing", "Ready",
/// "Active", "Warning", "Error", "ShuttingDown" or "Shutdown"; "unknown" for other values,
/// never NULL.
///
/// Thread/ISR safety: reentrant.
#[no_mangle]
pub extern "C" fn aes5_state_string(state: Aes5ManagerState) -> *const c_char {
    state_name(state).as_ptr().cast()
}

/// Static, NUL-terminated name of a buffer type: "Primary", "Conversion", "Scratch", "Input",
/// "Output" or "Metadata"; "unknown" for other values, never NULL.
///
/// Thread/ISR safety: reentrant.
#[no_mangle]
pub extern "C" fn aes5_buffer_type_string(buffer_type: Aes5BufferType) -> *const c_char {
    buffer_type_name(buffer_type).as_ptr().cast()
}

/// Static, NUL-terminated short name of one `AES5_WARNING_*` flag: "low-success-rate",
/// "high-latency", "high-utilization", "corruption", "timeouts", "not-monitored" or "long-hold";
/// "unknown" for any other value (pass one flag at a time: bit `1u << i` of a report's
/// `warnings`), never NULL.
///
/// Thread/ISR safety: reentrant.
#[no_mangle]
pub extern "C" fn aes5_warning_string(flag: u32) -> *const c_char {
    warning_name(flag).as_ptr().cast()
}

/// Static, NUL-terminated text of an `AES5_FORMAT_*` problem, naming the field and the rule;
/// never NULL (unknown values get a fixed text).
///
/// Thread/ISR safety: reentrant.
#[no_mangle]
pub extern "C" fn aes5_format_problem_string(problem: Aes5FormatProblem) -> *const c_char {
    describe_problem(problem).as_ptr().cast()
}

/// Says exactly why a format is refused, against the compile-time limits (the check
/// `aes5_audio_format_bytes` makes): the first field, in declaration order, that breaks a
/// rule, or `AES5_FORMAT_OK`.
///
/// @param format       the format.
/// @param out_problem  receives an `AES5_FORMAT_*` value.
/// @return AES5_OK (the check ran; the verdict is in `*out_problem`); AES5_ERR_NULL_POINTER.
/// Thread/ISR safety: reentrant.
#[no_mangle]
pub unsafe extern "C" fn aes5_audio_format_check(
    format: *const AudioFormat,
    out_problem: *mut Aes5FormatProblem,
) -> Aes5Status {
    // SAFETY: forwarded caller contract.
    unsafe { format_query(format, out_problem, |f| Ok(format_problem(f, &FormatLimits::WIDEST))) }
}

/// Says exactly why `aes5_buffer_manager_allocate(manager, buffer_type, format, ...)` would
/// refuse the format: against the manager's configured limits and the pool's buffer capacity
/// (`AES5_FORMAT_ABOVE_CAPACITY` is `AES5_ERR_FORMAT_TOO_LARGE`). Changes nothing; costs the
/// hot path nothing (allocate runs its own check, and asks for the reason only when it
/// refuses, to pass it to `log_detail`).
///
/// @param manager      the manager.
/// @param buffer_type  an `AES5_BUFFER_TYPE_*` with a pool.
/// @param format       the format.
/// @param out_problem  receives an `AES5_FORMAT_*` value.
/// @return AES5_OK (the verdict is in `*out_problem`); AES5_ERR_NULL_POINTER;
///         AES5_ERR_INVALID_STATE (`manager` was never initialised); AES5_ERR_INVALID_ARGUMENT
///         (not a buffer type); AES5_ERR_NO_POOL_FOR_TYPE.
/// Thread/ISR safety: lock-free; callable from any thread and interrupt handler.
#[no_mangle]
pub unsafe extern "C" fn aes5_buffer_manager_check_format(
    manager: *const BufferManager,
    buffer_type: Aes5BufferType,
    format: *const AudioFormat,
    out_problem: *mut Aes5FormatProblem,
) -> Aes5Status {
    // SAFETY: a non-null format points to a caller-initialised struct of integers.
    let Some(format) = (unsafe { format.as_ref() }) else {
        return Status::NullPointer.code();
    };
    // SAFETY: forwarded caller contract.
    unsafe {
        query(manager, out_problem, |core| {
            let pool = BufferType::from_raw(buffer_type).ok_or(Status::InvalidArgument)?.pool();
            let pool = pool.ok_or(Status::NoPoolForType)?;
            Ok(core.format_problem_for(format, pool))
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::manager::state_machine::AES5_STATE_READY;
    use crate::types::buffer_type::AES5_BUFFER_TYPE_PRIMARY;
    use crate::types::status::*;
    use core::ptr::{null, null_mut};
    use std::boxed::Box;

    #[test]
    fn null_pointers_are_refused_and_out_parameters_untouched() {
        let mut storage = Box::new(BufferManagerStorage::new());
        let mut manager: *mut BufferManager = null_mut();
        // SAFETY: every pointer passed is NULL or points to a live local.
        unsafe {
            assert_eq!(aes5_runtime_config_default(null_mut()), AES5_ERR_NULL_POINTER);
            assert_eq!(aes5_buffer_manager_init(null_mut(), null(), &mut manager), AES5_ERR_NULL_POINTER);
            assert_eq!(aes5_buffer_manager_init(&mut *storage, null(), null_mut()), AES5_ERR_NULL_POINTER);
            assert!(manager.is_null());
            assert_eq!(aes5_buffer_manager_init(&mut *storage, null(), &mut manager), AES5_OK);
            let mut state = 0xABCDu32;
            assert_eq!(aes5_buffer_manager_get_state(null(), &mut state), AES5_ERR_NULL_POINTER);
            assert_eq!(state, 0xABCD);
            assert_eq!(aes5_buffer_manager_get_state(manager, &mut state), AES5_OK);
            assert_eq!(state, AES5_STATE_READY);
            let mut out: *mut AudioBuffer = 8 as *mut AudioBuffer;
            let format = AudioFormat::pcm(48_000, 2, 16, 64);
            assert_eq!(
                aes5_buffer_manager_allocate(manager, AES5_BUFFER_TYPE_PRIMARY, null(), &mut out),
                AES5_ERR_NULL_POINTER
            );
            assert_eq!(out as usize, 8);
            assert_eq!(aes5_buffer_manager_allocate(manager, 6, &format, &mut out), AES5_ERR_INVALID_ARGUMENT);
            assert_eq!(out as usize, 8);
            assert_eq!(aes5_buffer_manager_release(manager, null_mut()), AES5_ERR_NULL_POINTER);
            assert_eq!(aes5_buffer_manager_validate_buffer(manager, null()), AES5_ERR_NULL_POINTER);
            let mut stats = PoolStatistics::default();
            assert_eq!(
                aes5_buffer_manager_get_pool_statistics(manager, 0xFFFF_FFFF, &mut stats),
                AES5_ERR_INVALID_ARGUMENT
            );
            assert_eq!(aes5_buffer_manager_get_statistics(manager, null_mut()), AES5_ERR_NULL_POINTER);
            assert_eq!(aes5_buffer_manager_get_metrics(manager, null_mut()), AES5_ERR_NULL_POINTER);
            assert_eq!(aes5_buffer_manager_get_performance_report(manager, 0, null_mut()), AES5_ERR_NULL_POINTER);
            assert_eq!(aes5_buffer_manager_storage_layout(null_mut()), AES5_ERR_NULL_POINTER);
            let report = aes5_buffer_manager_get_statistics(manager, &mut ManagerStatistics::default());
            assert_eq!(report, AES5_OK);
            // Failed operations count allocate and release calls only: the two refused
            // allocations and the refused release (validate is neither).
            let mut s = ManagerStatistics::default();
            aes5_buffer_manager_get_statistics(manager, &mut s);
            assert_eq!(s.failed_operations, 3);
            assert_eq!(aes5_buffer_manager_shutdown(manager), AES5_OK);
            assert_eq!(aes5_buffer_manager_shutdown(null_mut()), AES5_ERR_NULL_POINTER);
        }
    }

    #[test]
    fn misaligned_storage_is_refused() {
        let mut storage = Box::new(BufferManagerStorage::new());
        let mut manager: *mut BufferManager = null_mut();
        let shifted = (&mut *storage as *mut BufferManagerStorage).cast::<u8>().wrapping_add(4).cast();
        // SAFETY: the library must refuse the pointer before touching it.
        let status = unsafe { aes5_buffer_manager_init(shifted, null(), &mut manager) };
        assert_eq!(status, AES5_ERR_MISALIGNED_STORAGE);
        assert!(manager.is_null());
    }

    #[test]
    fn format_helpers_and_status_strings() {
        let f = AudioFormat {
            rate_pull: crate::types::format::AES5_RATE_PULL_DOWN,
            ..AudioFormat::pcm(48_000, 2, 24, 480)
        };
        let (mut bytes, mut num, mut den, mut ns) = (0u32, 0u64, 0u64, 0u64);
        // SAFETY: all pointers point to live locals.
        unsafe {
            assert_eq!(aes5_audio_format_bytes(&f, &mut bytes), AES5_OK);
            assert_eq!(aes5_audio_format_effective_rate(&f, &mut num, &mut den), AES5_OK);
            assert_eq!(aes5_audio_format_frame_duration_ns(&f, &mut ns), AES5_OK);
            assert_eq!(aes5_audio_format_bytes(null(), &mut bytes), AES5_ERR_NULL_POINTER);
        }
        assert_eq!((bytes, num, den, ns), (2 * 480 * 4, 48_000_000, 1001, 10_010_000));
        assert!(aes5_is_aes5_frequency(352_800) && !aes5_is_aes5_frequency(22_050));
        for code in 0..20 {
            assert!(!aes5_status_string(code).is_null());
        }
    }
}
