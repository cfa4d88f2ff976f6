//! Buffer types: the C numbering, the Rust enum, and which types have a pool.

use super::c_enum::c_enum;
use crate::geometry::POOL_COUNT;

/// Buffer type as passed through the C API (`aes5_buffer_type_t`); validated, never
/// transmuted.
pub type Aes5BufferType = u32;
/// Primary audio processing buffers.
pub const AES5_BUFFER_TYPE_PRIMARY: Aes5BufferType = 0;
/// Sampling-frequency conversion buffers.
pub const AES5_BUFFER_TYPE_CONVERSION: Aes5BufferType = 1;
/// Temporary processing buffers.
pub const AES5_BUFFER_TYPE_SCRATCH: Aes5BufferType = 2;
/// Input staging buffers (no pool by default: `AES5_ERR_NO_POOL_FOR_TYPE`).
pub const AES5_BUFFER_TYPE_INPUT: Aes5BufferType = 3;
/// Output staging buffers (no pool by default: `AES5_ERR_NO_POOL_FOR_TYPE`).
pub const AES5_BUFFER_TYPE_OUTPUT: Aes5BufferType = 4;
/// Control and metadata buffers (no pool by default: `AES5_ERR_NO_POOL_FOR_TYPE`).
pub const AES5_BUFFER_TYPE_METADATA: Aes5BufferType = 5;
/// Number of buffer types (length of the per-type statistics array).
pub const AES5_BUFFER_TYPE_COUNT: usize = 6;

c_enum! {
    /// A buffer type of the Rust API. Its text is the name `aes5_buffer_type_string` returns.
    pub enum BufferType {
        /// Primary audio processing buffers.
        Primary = AES5_BUFFER_TYPE_PRIMARY => "Primary",
        /// Sampling-frequency conversion buffers.
        Conversion = AES5_BUFFER_TYPE_CONVERSION => "Conversion",
        /// Temporary processing buffers.
        Scratch = AES5_BUFFER_TYPE_SCRATCH => "Scratch",
        /// Input staging (no pool).
        Input = AES5_BUFFER_TYPE_INPUT => "Input",
        /// Output staging (no pool).
        Output = AES5_BUFFER_TYPE_OUTPUT => "Output",
        /// Metadata (no pool).
        Metadata = AES5_BUFFER_TYPE_METADATA => "Metadata",
    }
}

static_assertions::const_assert!(BufferType::ALL.len() == AES5_BUFFER_TYPE_COUNT);

impl BufferType {
    /// The pool serving this type, if it has one: the first `POOL_COUNT` types have a pool
    /// each, numbered as the types are.
    #[inline(always)]
    pub const fn pool(self) -> Option<usize> {
        let index = self as usize;
        if index < POOL_COUNT {
            Some(index)
        } else {
            None
        }
    }
}

/// Static, NUL-terminated name of a buffer type ("Primary", ...; "unknown" out of range).
pub(crate) fn buffer_type_name(raw: Aes5BufferType) -> &'static [u8] {
    match BufferType::from_raw(raw) {
        Some(buffer_type) => buffer_type.text(),
        None => b"unknown\0",
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn raw_values_round_trip_and_out_of_range_is_refused() {
        for raw in 0..6 {
            assert_eq!(BufferType::from_raw(raw).map(|t| t as u32), Some(raw));
        }
        for bad in [6, 7, 0xFFFF_FFFF] {
            assert_eq!(BufferType::from_raw(bad), None);
        }
    }

    #[test]
    fn only_three_types_have_pools() {
        let pooled: std::vec::Vec<_> = BufferType::ALL.iter().filter_map(|t| t.pool()).collect();
        assert_eq!(pooled, [0, 1, 2]);
    }

    #[test]
    fn names_are_the_variant_names() {
        for buffer_type in BufferType::ALL {
            let name = buffer_type_name(buffer_type as u32);
            assert_eq!(name, std::format!("{buffer_type:?}\0").as_bytes());
        }
        assert_eq!(buffer_type_name(6), b"unknown\0");
    }
}
