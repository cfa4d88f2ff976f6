//! Status codes: the fixed numbering of docs/DESIGN.md §4 and their static descriptions.

use super::c_enum::c_enum;

/// Result code of every fallible C API function. `AES5_OK` (0) is success; values are never
/// renumbered or reused.
pub type Aes5Status = u32;

/// Success.
pub const AES5_OK: Aes5Status = 0;
/// A required pointer parameter is NULL.
pub const AES5_ERR_NULL_POINTER: Aes5Status = 1;
/// An enum or configuration value is out of range.
pub const AES5_ERR_INVALID_ARGUMENT: Aes5Status = 2;
/// The storage is not aligned to `_Alignof(aes5_buffer_manager_storage_t)`.
pub const AES5_ERR_MISALIGNED_STORAGE: Aes5Status = 3;
/// The call is not allowed in the manager's current state.
pub const AES5_ERR_INVALID_STATE: Aes5Status = 4;
/// The audio format is not one this library accepts (rate, channels, bits, frame, encoding).
pub const AES5_ERR_UNSUPPORTED_FORMAT: Aes5Status = 5;
/// The format is valid but needs more bytes than one buffer of the pool holds.
pub const AES5_ERR_FORMAT_TOO_LARGE: Aes5Status = 6;
/// Every buffer of the pool is held.
pub const AES5_ERR_POOL_EXHAUSTED: Aes5Status = 7;
/// The buffer type has no pool in this build (Input, Output, Metadata).
pub const AES5_ERR_NO_POOL_FOR_TYPE: Aes5Status = 8;
/// The pointer is not a buffer header that this manager handed out.
pub const AES5_ERR_FOREIGN_BUFFER: Aes5Status = 9;
/// The buffer is already free.
pub const AES5_ERR_DOUBLE_RELEASE: Aes5Status = 10;
/// The buffer header is damaged (magic, checksum, capacity) or the buffer is quarantined.
pub const AES5_ERR_CORRUPTED: Aes5Status = 11;
/// Shutdown was requested while buffers are held; the last release completes it.
pub const AES5_ERR_BUFFERS_OUTSTANDING: Aes5Status = 12;
/// The storage already holds a live manager.
pub const AES5_ERR_ALREADY_INITIALIZED: Aes5Status = 13;
/// The storage size the caller was compiled with differs from the one the library was built
/// for (a header from a build with another geometry).
pub const AES5_ERR_STORAGE_SIZE_MISMATCH: Aes5Status = 14;
/// The buffer waits in a hand-off queue: it belongs to the queue, not to the caller, until a
/// dequeue hands it out again.
pub const AES5_ERR_BUFFER_QUEUED: Aes5Status = 15;
/// The hand-off queue holds no buffer.
pub const AES5_ERR_QUEUE_EMPTY: Aes5Status = 16;

c_enum! {
    /// The failure reasons of the Rust API; `Status as u32` is the C status code. Each text
    /// is what `aes5_status_string` returns: the code's name, then what it means.
    pub enum Status {
        /// See [`AES5_ERR_NULL_POINTER`].
        NullPointer = AES5_ERR_NULL_POINTER => "AES5_ERR_NULL_POINTER: a required pointer is NULL",
        /// See [`AES5_ERR_INVALID_ARGUMENT`].
        InvalidArgument = AES5_ERR_INVALID_ARGUMENT
            => "AES5_ERR_INVALID_ARGUMENT: an enum or configuration value is out of range",
        /// See [`AES5_ERR_MISALIGNED_STORAGE`].
        MisalignedStorage = AES5_ERR_MISALIGNED_STORAGE
            => "AES5_ERR_MISALIGNED_STORAGE: storage is not aligned as the header requires",
        /// See [`AES5_ERR_INVALID_STATE`].
        InvalidState = AES5_ERR_INVALID_STATE
            => "AES5_ERR_INVALID_STATE: the call is not allowed in the current manager state",
        /// See [`AES5_ERR_UNSUPPORTED_FORMAT`].
        UnsupportedFormat = AES5_ERR_UNSUPPORTED_FORMAT
            => "AES5_ERR_UNSUPPORTED_FORMAT: the audio format is not supported",
        /// See [`AES5_ERR_FORMAT_TOO_LARGE`].
        FormatTooLarge = AES5_ERR_FORMAT_TOO_LARGE
            => "AES5_ERR_FORMAT_TOO_LARGE: the format needs more bytes than a buffer holds",
        /// See [`AES5_ERR_POOL_EXHAUSTED`].
        PoolExhausted = AES5_ERR_POOL_EXHAUSTED => "AES5_ERR_POOL_EXHAUSTED: every buffer of the pool is held",
        /// See [`AES5_ERR_NO_POOL_FOR_TYPE`].
        NoPoolForType = AES5_ERR_NO_POOL_FOR_TYPE => "AES5_ERR_NO_POOL_FOR_TYPE: the buffer type has no pool",
        /// See [`AES5_ERR_FOREIGN_BUFFER`].
        ForeignBuffer = AES5_ERR_FOREIGN_BUFFER
            => "AES5_ERR_FOREIGN_BUFFER: the pointer is not a buffer of this manager",
        /// See [`AES5_ERR_DOUBLE_RELEASE`].
        DoubleRelease = AES5_ERR_DOUBLE_RELEASE => "AES5_ERR_DOUBLE_RELEASE: the buffer is already free",
        /// See [`AES5_ERR_CORRUPTED`].
        Corrupted = AES5_ERR_CORRUPTED => "AES5_ERR_CORRUPTED: the buffer header is damaged or quarantined",
        /// See [`AES5_ERR_BUFFERS_OUTSTANDING`].
        BuffersOutstanding = AES5_ERR_BUFFERS_OUTSTANDING
            => "AES5_ERR_BUFFERS_OUTSTANDING: buffers are still held; the last release completes shutdown",
        /// See [`AES5_ERR_ALREADY_INITIALIZED`].
        AlreadyInitialized = AES5_ERR_ALREADY_INITIALIZED
            => "AES5_ERR_ALREADY_INITIALIZED: the storage holds a live manager",
        /// See [`AES5_ERR_STORAGE_SIZE_MISMATCH`].
        StorageSizeMismatch = AES5_ERR_STORAGE_SIZE_MISMATCH
            => "AES5_ERR_STORAGE_SIZE_MISMATCH: the header and the library were built for different geometries",
        /// See [`AES5_ERR_BUFFER_QUEUED`].
        BufferQueued = AES5_ERR_BUFFER_QUEUED
            => "AES5_ERR_BUFFER_QUEUED: the buffer waits in a hand-off queue; dequeue it first",
        /// See [`AES5_ERR_QUEUE_EMPTY`].
        QueueEmpty = AES5_ERR_QUEUE_EMPTY => "AES5_ERR_QUEUE_EMPTY: the hand-off queue holds no buffer",
    }
}

impl Status {
    /// The C status code of this failure.
    pub const fn code(self) -> Aes5Status {
        self as Aes5Status
    }

    /// The C status code of a result: `AES5_OK` for `Ok`.
    pub fn code_of<T>(result: &Result<T, Status>) -> Aes5Status {
        match result {
            Ok(_) => AES5_OK,
            Err(status) => status.code(),
        }
    }

    /// True when the failure is the caller's invalid input (counted as a validation error).
    pub const fn is_validation_error(self) -> bool {
        matches!(
            self,
            Status::NullPointer
                | Status::InvalidArgument
                | Status::UnsupportedFormat
                | Status::FormatTooLarge
                | Status::NoPoolForType
                | Status::ForeignBuffer
                | Status::DoubleRelease
                | Status::BufferQueued
        )
    }
}

/// Static NUL-terminated description of a status code; unknown codes get a fixed text.
pub fn describe(code: Aes5Status) -> &'static [u8] {
    match Status::from_raw(code) {
        Some(status) => status.text(),
        None if code == AES5_OK => b"AES5_OK: success\0",
        None => b"AES5_ERR_UNKNOWN: not a status code of this library\0",
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_their_fixed_values() {
        // The numbering is part of the ABI: success is 0, the failures are 1, 2, ... in order.
        assert_eq!(AES5_OK, 0);
        for (index, status) in Status::ALL.into_iter().enumerate() {
            assert_eq!(status.code(), index as u32 + 1, "{status:?}");
        }
        assert_eq!(Status::ALL.len(), 16);
        assert_eq!((AES5_ERR_BUFFER_QUEUED, AES5_ERR_QUEUE_EMPTY), (15, 16));
    }

    #[test]
    fn every_text_starts_with_its_own_code_name() {
        for status in Status::ALL {
            let prefix = std::format!("{}: ", status.code_name());
            assert!(status.text().starts_with(prefix.as_bytes()), "{status:?}");
        }
    }

    #[test]
    fn every_description_is_nul_terminated_and_names_its_code() {
        for code in 0..=17u32 {
            let text = describe(code);
            assert_eq!(text.last(), Some(&0u8));
            assert_eq!(text.iter().filter(|&&b| b == 0).count(), 1);
        }
        assert!(describe(7).starts_with(b"AES5_ERR_POOL_EXHAUSTED"));
        assert!(describe(0xFFFF_FFFF).starts_with(b"AES5_ERR_UNKNOWN"));
    }

    #[test]
    fn code_of_maps_results() {
        assert_eq!(Status::code_of::<()>(&Ok(())), AES5_OK);
        assert_eq!(Status::code_of::<()>(&Err(Status::Corrupted)), 11);
    }
}
