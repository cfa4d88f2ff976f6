//! Shared by the unit tests of the manager modules: a manager in boxed storage, a default
//! format, and the statistics a refused call must leave alone.

pub(crate) use crate::geometry::POOLS;
pub(crate) use crate::manager::state_machine::*;
pub(crate) use crate::manager::storage::BufferManagerStorage;
use crate::manager::ManagerCore;
pub(crate) use crate::observability::statistics::ManagerStatistics;
pub(crate) use crate::platform::atomics::Ordering;
pub(crate) use crate::types::buffer_type::*;
pub(crate) use crate::types::config::RuntimeConfig;
pub(crate) use crate::types::format::AudioFormat;
pub(crate) use crate::types::header::AudioBuffer;
pub(crate) use crate::types::status::Status;
pub(crate) use std::boxed::Box;
pub(crate) use std::vec::Vec;

/// A manager in storage owned by the test.
pub(crate) struct Fixture {
    pub storage: Box<BufferManagerStorage>,
}

impl Fixture {
    pub(crate) fn new() -> Self {
        Fixture { storage: Box::new(BufferManagerStorage::new()) }
    }

    pub(crate) fn init(&mut self, config: &RuntimeConfig) -> Result<&ManagerCore, Status> {
        // SAFETY: the fixture owns the storage exclusively.
        let core = unsafe { ManagerCore::init(&mut *self.storage, config)? };
        // SAFETY: init wrote every field; the storage lives as long as the fixture.
        Ok(unsafe { &*core.as_ptr() })
    }
}

/// 48 kHz stereo 16-bit, 256 sample frames (1024 bytes).
pub(crate) fn pcm() -> AudioFormat {
    AudioFormat::pcm(48_000, 2, 16, 256)
}

/// The three pooled buffer types.
pub(crate) fn all_types() -> [u32; 3] {
    [AES5_BUFFER_TYPE_PRIMARY, AES5_BUFFER_TYPE_CONVERSION, AES5_BUFFER_TYPE_SCRATCH]
}

/// Statistics without the fields a refused call may change (its own failure counters).
pub(crate) fn stable_view(s: &ManagerStatistics) -> Vec<(u32, u32, u64, u64, u32)> {
    s.buffer_type_stats
        .iter()
        .map(|p| (p.allocated_buffers, p.peak_allocated, p.total_allocations, p.total_releases, p.quarantined_buffers))
        .collect()
}

/// The `log_detail` texts a test heard, each "operation: detail" (its context points at one
/// of these).
pub(crate) type Heard = std::sync::Mutex<Vec<std::string::String>>;

unsafe extern "C" fn hear(
    context: *mut core::ffi::c_void,
    _status: u32,
    operation: *const core::ffi::c_char,
    detail: *const core::ffi::c_char,
) {
    use core::ffi::CStr;
    // SAFETY: the test passes a live `Heard` as the context; the texts are NUL-terminated.
    let (heard, operation, detail) = unsafe {
        (
            &*context.cast::<Heard>(),
            CStr::from_ptr(operation).to_string_lossy(),
            CStr::from_ptr(detail).to_string_lossy(),
        )
    };
    heard.lock().unwrap().push(std::format!("{operation}: {detail}"));
}

/// The default configuration with debug logging into `heard`.
pub(crate) fn logging(heard: &Heard) -> RuntimeConfig {
    RuntimeConfig {
        enable_debug_logging: 1,
        log_detail: Some(hear),
        log_context: (heard as *const Heard).cast_mut().cast(),
        ..RuntimeConfig::default()
    }
}

/// Counts one finished worker thread when dropped, also when the worker panics, so that a
/// thread waiting for the workers (a reader looping until they are done) ends and the test
/// fails instead of hanging.
pub(crate) struct CountsWhenDone<'a>(pub &'a std::sync::atomic::AtomicUsize);

impl Drop for CountsWhenDone<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}
