//! Where everything lives inside the caller's storage, and how a pointer is proved to be one
//! of this manager's buffer headers before it is ever dereferenced.
//!
//! ```text
//! storage (8-byte aligned, AES5_STORAGE_BYTES)
//! ├── ManagerCore: identity, config, state, pools, slot words, headers, stats, history
//! ├── padding up to the data alignment (depends on the storage address, < AES5_DATA_ALIGNMENT)
//! └── data region: each pool's buffers, AES5_DATA_ALIGNMENT-aligned, capacity rounded up
//! ```

use core::cell::UnsafeCell;
use core::mem::{align_of, size_of};

use super::custody::CustodyTable;
use super::pool::PoolWords;
use super::queue::HandOffQueue;
use super::{ManagerCore, ManagerCounters, MetricCells, WarningWindow};
use crate::geometry::{
    AES5_STORAGE_WORDS, DATA_ALIGNMENT, DATA_REGION_BYTES, HISTORY_CAPACITY, POOL_COUNT, QUEUE_CELLS, QUEUE_COUNT,
    STORAGE_BYTES, TOTAL_SLOTS,
};
use crate::observability::history::HistoryRing;
use crate::observability::statistics::PoolCounters;
use crate::platform::atomics::AtomicCounter;
use crate::types::header::AudioBuffer;

/// Caller-owned storage for one manager: a `static`, or any RAM section (`NOLOAD` included),
/// with any contents: init writes every byte it later reads. Its size and alignment are fixed
/// at build time; the library aligns the audio data inside it.
#[repr(C)]
pub struct BufferManagerStorage {
    /// Opaque contents; never touch them while a manager lives here.
    pub opaque_words: [u64; AES5_STORAGE_WORDS],
}

impl BufferManagerStorage {
    /// Zeroed storage, ready for init (usable in a `static`).
    pub const fn new() -> Self {
        BufferManagerStorage { opaque_words: [0; AES5_STORAGE_WORDS] }
    }
}

impl Default for BufferManagerStorage {
    fn default() -> Self {
        Self::new()
    }
}

/// Opaque handle to a manager (`aes5_buffer_manager_t`). It is the address of the storage the
/// manager was initialised in.
pub struct BufferManager {
    _private: [u8; 0],
}

/// How the storage is divided, in bytes (from `aes5_buffer_manager_storage_layout`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StorageLayout {
    /// `sizeof(aes5_buffer_manager_storage_t)`.
    pub storage_bytes: u32,
    /// Bytes the layout needs at most (control block + worst-case padding + data).
    pub required_bytes: u32,
    /// The whole control block (everything but the audio data).
    pub control_block_bytes: u32,
    /// Of the control block: the buffer headers handed to callers.
    pub header_bytes: u32,
    /// Of the control block: the pools' free and quarantine sets and peaks, and each buffer's
    /// allocation count.
    pub slot_control_bytes: u32,
    /// Of the control block: pool-empty refusals, monitoring sums and failure counters.
    pub statistics_bytes: u32,
    /// Of the control block: real-time metrics cells.
    pub metrics_bytes: u32,
    /// Of the control block: the performance history ring.
    pub history_bytes: u32,
    /// Of the control block: each buffer's custody word (where it is, since when) and the
    /// hand-off queues.
    pub hand_off_bytes: u32,
    /// The audio data region: every buffer's capacity and the guard zones, rounded up to the
    /// alignment.
    pub data_bytes: u32,
    /// Of the data region: the guard zones (`AES5_GUARD_BYTES` after every buffer and before
    /// the first, each with the padding up to the next aligned data).
    pub guard_bytes: u32,
    /// Worst-case padding to align the data region.
    pub alignment_padding_bytes: u32,
    /// Buffers in all pools.
    pub total_buffers: u32,
    /// Entries of the history ring.
    pub history_capacity: u32,
}

/// Bytes of one header, and of all of them.
const HEADER_BYTES: usize = size_of::<AudioBuffer>();
const HEADERS_BYTES: usize = HEADER_BYTES * TOTAL_SLOTS;
/// `offset / HEADER_BYTES` as `(offset * HEADER_RECIPROCAL) >> RECIPROCAL_SHIFT`, exact for
/// every offset below `HEADERS_BYTES` (proved below at compile time).
const RECIPROCAL_SHIFT: u32 = 20;
const HEADER_RECIPROCAL: u32 = (1u32 << RECIPROCAL_SHIFT).div_ceil(HEADER_BYTES as u32);

/// True when the reciprocal division is exact for every header offset.
const fn reciprocal_is_exact() -> bool {
    let mut offset = 0;
    while offset < HEADERS_BYTES {
        if ((offset as u32 * HEADER_RECIPROCAL) >> RECIPROCAL_SHIFT) as usize != offset / HEADER_BYTES {
            return false;
        }
        offset += 1;
    }
    true
}
static_assertions::const_assert!((HEADERS_BYTES as u64) * (HEADER_RECIPROCAL as u64) < 1 << 32);
static_assertions::const_assert!(reciprocal_is_exact());

/// Worst-case bytes between the end of the control block and the aligned data region.
pub(crate) const ALIGNMENT_PADDING: usize = DATA_ALIGNMENT.saturating_sub(align_of::<BufferManagerStorage>());

/// Bytes the layout needs in the worst case.
pub(crate) const REQUIRED_BYTES: usize = size_of::<ManagerCore>() + ALIGNMENT_PADDING + DATA_REGION_BYTES;

// The budget proofs: everything fits in the storage, which fits in 32 KiB by default.
static_assertions::const_assert!(REQUIRED_BYTES <= STORAGE_BYTES);
static_assertions::const_assert!(align_of::<ManagerCore>() <= align_of::<BufferManagerStorage>());
static_assertions::const_assert!(size_of::<BufferManagerStorage>() == STORAGE_BYTES);
static_assertions::const_assert!(
    !crate::geometry::AES5_GEOMETRY_IS_DEFAULT || size_of::<BufferManagerStorage>() <= 32_768
);

impl ManagerCore {
    /// Maps a pointer to the index of the header it is, if it is exactly one of this
    /// manager's headers. Pure address arithmetic, no division: nothing is dereferenced.
    #[inline(always)]
    pub(crate) fn slot_of(&self, buffer: *const AudioBuffer) -> Option<usize> {
        let base = self.headers.as_ptr() as usize;
        let offset = (buffer as usize).wrapping_sub(base);
        if offset >= HEADERS_BYTES {
            return None;
        }
        // offset < HEADERS_BYTES, so the product fits in 32 bits and the quotient is exact.
        let slot = ((offset as u32).wrapping_mul(HEADER_RECIPROCAL) >> RECIPROCAL_SHIFT) as usize;
        if slot * HEADER_BYTES != offset {
            return None;
        }
        Some(slot)
    }

    /// The division of the storage, for reports and the footprint table.
    pub(crate) fn layout() -> StorageLayout {
        let headers = size_of::<[UnsafeCell<AudioBuffer>; TOTAL_SLOTS]>();
        let slots = size_of::<[PoolWords; POOL_COUNT]>() + size_of::<[AtomicCounter; TOTAL_SLOTS]>();
        let stats = size_of::<[PoolCounters; POOL_COUNT]>() + size_of::<ManagerCounters>();
        let metrics = size_of::<MetricCells>() + size_of::<WarningWindow>();
        let hand_offs = size_of::<CustodyTable<TOTAL_SLOTS>>() + size_of::<[HandOffQueue<QUEUE_CELLS>; QUEUE_COUNT]>();
        StorageLayout {
            storage_bytes: STORAGE_BYTES as u32,
            required_bytes: REQUIRED_BYTES as u32,
            control_block_bytes: size_of::<ManagerCore>() as u32,
            header_bytes: headers as u32,
            slot_control_bytes: slots as u32,
            statistics_bytes: stats as u32,
            metrics_bytes: metrics as u32,
            history_bytes: size_of::<HistoryRing>() as u32,
            hand_off_bytes: hand_offs as u32,
            data_bytes: DATA_REGION_BYTES as u32,
            guard_bytes: (super::guards::guard_words() * 4) as u32,
            alignment_padding_bytes: ALIGNMENT_PADDING as u32,
            total_buffers: TOTAL_SLOTS as u32,
            history_capacity: HISTORY_CAPACITY as u32,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_layout_adds_up_and_fits() {
        let l = ManagerCore::layout();
        assert!(l.required_bytes <= l.storage_bytes);
        assert_eq!(l.required_bytes, l.control_block_bytes + l.alignment_padding_bytes + l.data_bytes);
        let parts = l.header_bytes
            + l.slot_control_bytes
            + l.statistics_bytes
            + l.metrics_bytes
            + l.history_bytes
            + l.hand_off_bytes;
        assert!(parts <= l.control_block_bytes);
        // What is not itemised is the identity, configuration and state words, the accepted
        // formats, the gap and the last refusal.
        assert!(l.control_block_bytes - parts < 384, "{l:?}");
    }

    #[test]
    fn identity_checks_depend_on_the_address() {
        assert_ne!(ManagerCore::identity_check_for(0x1000), ManagerCore::identity_check_for(0x1008));
    }
}

/// README.md ("Where the 32 KiB go") and docs/DESIGN.md (§3.3) publish the default geometry's
/// layout on x86-64; these tests hold them to what this build lays out.
#[cfg(all(test, not(loom), target_arch = "x86_64"))]
mod published_layout {
    use super::*;
    use std::format;
    use std::string::{String, ToString};

    /// `n` with a comma every three digits, as the documents write figures.
    fn grouped(n: u32) -> String {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    }

    fn unitemised(l: &StorageLayout) -> u32 {
        l.control_block_bytes
            - (l.header_bytes
                + l.slot_control_bytes
                + l.statistics_bytes
                + l.metrics_bytes
                + l.history_bytes
                + l.hand_off_bytes)
    }

    /// Checks that `document` holds the table `table_of` makes of this build's layout. The
    /// documents describe the default geometry, so other builds have nothing to compare.
    fn assert_published(document: &str, name: &str, table_of: fn(&StorageLayout) -> String) {
        if !crate::geometry::AES5_GEOMETRY_IS_DEFAULT {
            return;
        }
        let table = table_of(&ManagerCore::layout());
        assert!(document.contains(&table), "{name} should hold this build's layout:\n{table}");
    }

    #[test]
    fn readme_storage_table_is_this_build() {
        assert_published(include_str!("../../README.md"), "README.md", readme_table);
    }

    #[test]
    fn design_storage_table_is_this_build() {
        assert_published(include_str!("../../docs/DESIGN.md"), "docs/DESIGN.md", design_table);
    }

    /// README's "Where the 32 KiB go".
    fn readme_table(l: &StorageLayout) -> String {
        let g = grouped;
        let capacity = crate::geometry::POOLS[0].capacity as u32;
        format!(
            "| part | bytes |\n|---|---|\n\
             | audio data ({} × {}) | {} |\n\
             | guard zones ({} of {} bytes: after every buffer, and before the first) | {} |\n\
             | buffer headers ({} × {}) | {} |\n\
             | pool words (free set, quarantine set, peak, size, Warning threshold) and each buffer's allocation count | {} |\n\
             | pool-empty refusals, monitoring sums, failure counters | {} |\n\
             | real-time metrics and the Warning window | {} |\n\
             | trend history ({} snapshots, and the last snapshot's time) | {} |\n\
             | hand-off queues ({} queues of {} cells) and each buffer's custody word and hand-off time | {} |\n\
             | identity, configuration, state, the formats accepted before, the last refusal; a cache-line gap before the pool words (hosted targets) | {} |\n\
             | worst-case alignment padding | {} |\n\
             | **required / storage** | **{} / {}** |\n",
            l.total_buffers,
            g(capacity),
            g(l.data_bytes - l.guard_bytes),
            l.total_buffers + u32::from(l.guard_bytes > 0),
            crate::geometry::GUARD_BYTES,
            g(l.guard_bytes),
            l.total_buffers,
            size_of::<AudioBuffer>(),
            g(l.header_bytes),
            g(l.slot_control_bytes),
            g(l.statistics_bytes),
            g(l.metrics_bytes),
            l.history_capacity,
            g(l.history_bytes),
            QUEUE_COUNT,
            QUEUE_CELLS,
            g(l.hand_off_bytes),
            g(unitemised(l)),
            g(l.alignment_padding_bytes),
            g(l.required_bytes),
            g(l.storage_bytes),
        )
    }

    /// docs/DESIGN.md §3.3.
    fn design_table(l: &StorageLayout) -> String {
        let g = grouped;
        let pools = crate::geometry::POOL_COUNT;
        format!(
            "| `StorageLayout` field | bytes | what |\n|---|---:|---|\n\
             | `data_bytes` | {} | {} × {} of audio, and the guard zones |\n\
             | `guard_bytes` | {} | of `data_bytes`: {} guard zones of {} |\n\
             | `header_bytes` | {} | {} headers of {} bytes |\n\
             | `slot_control_bytes` | {} | pool words ({} × {}) and allocation counts ({} × {}) |\n\
             | `statistics_bytes` | {} | `pool_counters` and `counters` |\n\
             | `metrics_bytes` | {} | `metrics` and `warning` |\n\
             | `history_bytes` | {} | the trend ring |\n\
             | `hand_off_bytes` | {} | custody words ({} × {}) and hand-off queues ({} × {}) |\n\
             | (not itemised) | {} | identity, configuration, state, the accepted formats, the last refusal, the gap, and padding between fields |\n\
             | `control_block_bytes` | {} | `size_of::<ManagerCore>()` |\n\
             | `alignment_padding_bytes` | {} | worst case |\n\
             | `required_bytes` | {} | control block + padding + data |\n\
             | `storage_bytes` | {} | `sizeof(aes5_buffer_manager_storage_t)` |\n",
            g(l.data_bytes),
            l.total_buffers,
            g(crate::geometry::POOLS[0].capacity as u32),
            g(l.guard_bytes),
            l.total_buffers + u32::from(l.guard_bytes > 0),
            crate::geometry::GUARD_BYTES,
            g(l.header_bytes),
            l.total_buffers,
            size_of::<AudioBuffer>(),
            g(l.slot_control_bytes),
            pools,
            size_of::<PoolWords>(),
            l.total_buffers,
            size_of::<AtomicCounter>(),
            g(l.statistics_bytes),
            g(l.metrics_bytes),
            g(l.history_bytes),
            g(l.hand_off_bytes),
            l.total_buffers,
            size_of::<CustodyTable<1>>(),
            QUEUE_COUNT,
            size_of::<HandOffQueue<QUEUE_CELLS>>(),
            g(unitemised(l)),
            g(l.control_block_bytes),
            g(l.alignment_padding_bytes),
            g(l.required_bytes),
            g(l.storage_bytes),
        )
    }
}
