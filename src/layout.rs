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

use crate::in_place::ZeroInitial;
use core::mem::{align_of, size_of};

use crate::config::ActiveConfig;
use crate::geometry::{
    AES5_STORAGE_WORDS, DATA_ALIGNMENT, DATA_REGION_BYTES, HISTORY_CAPACITY, POOL_BUFFER_COUNTS, POOL_COUNT,
    STORAGE_BYTES, TOTAL_SLOTS,
};
use crate::header::AudioBuffer;
use crate::history::HistoryRing;
use crate::metrics::TimingCells;
use crate::pool::PoolWords;
use crate::stats::PoolCounters;
use crate::sync::{AtomicCounter, AtomicU32};
use crate::wide_sum::{WideStamp, WideSum};

/// Caller-owned storage for one manager. Put it in a `static` (zero-initialised), or zero it
/// before the first init. Its size and alignment are fixed at build time; the library aligns
/// the audio data inside it.
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
    /// The audio data region (capacities rounded up to the alignment).
    pub data_bytes: u32,
    /// Worst-case padding to align the data region.
    pub alignment_padding_bytes: u32,
    /// Buffers in all pools.
    pub total_buffers: u32,
    /// Entries of the history ring.
    pub history_capacity: u32,
}

/// Unused bytes between the manager's read-mostly words (identity, configuration, state) and
/// the pools. Without them, on a multi-core host the state word and the Primary pool's free
/// word share a cache line, and every allocate or release on one core takes that line from
/// the others (measured with the earlier free-list core: about 40 % of the time of a pair
/// with two threads on one pool).
/// One cache line on hosted targets; nothing on bare metal, whose single core has no
/// coherence traffic.
pub(crate) struct CacheLineGap {
    _unused: [u64; CACHE_LINE_GAP_WORDS],
}

#[cfg(not(target_os = "none"))]
const CACHE_LINE_GAP_WORDS: usize = 8;
#[cfg(target_os = "none")]
const CACHE_LINE_GAP_WORDS: usize = 0;

impl CacheLineGap {
    pub(crate) const fn new() -> Self {
        CacheLineGap { _unused: [0; CACHE_LINE_GAP_WORDS] }
    }
}

/// Manager-wide failure counters.
pub(crate) struct ManagerCounters {
    /// Allocations refused for a reason other than an empty pool.
    pub rejected_allocations: AtomicCounter,
    /// Refused releases, whatever the reason.
    pub rejected_releases: AtomicCounter,
    /// Calls refused for invalid caller input.
    pub validation_errors: AtomicCounter,
    /// Corrupted headers found by release.
    pub corruption_detected: AtomicCounter,
    /// Allocations slower than the configured timeout.
    pub timeout_errors: AtomicCounter,
}

/// Real-time metric cells.
pub(crate) struct MetricCells {
    pub allocate: TimingCells,
    pub release: TimingCells,
    /// Sum of the squared allocation durations (for the trend's deviation), in the history's
    /// square units.
    pub allocate_squares: WideSum,
    pub peak_buffers: AtomicU32,
    pub peak_memory_bytes: AtomicU32,
    /// Most bytes held after an allocation since the last trend snapshot.
    pub interval_peak_bytes: AtomicU32,
}

/// The allocation counts at the moment the manager entered Warning.
pub(crate) struct WarningWindow {
    pub attempts_at_entry: AtomicCounter,
    pub failures_at_entry: AtomicCounter,
}

// SAFETY: all fields are zero counters (tested in `in_place`).
unsafe impl ZeroInitial for ManagerCounters {
    fn initial() -> Self {
        ManagerCounters {
            rejected_allocations: AtomicCounter::new(0),
            rejected_releases: AtomicCounter::new(0),
            validation_errors: AtomicCounter::new(0),
            corruption_detected: AtomicCounter::new(0),
            timeout_errors: AtomicCounter::new(0),
        }
    }
}

// SAFETY: both fields are zero counters (tested in `in_place`).
unsafe impl ZeroInitial for WarningWindow {
    fn initial() -> Self {
        WarningWindow { attempts_at_entry: AtomicCounter::new(0), failures_at_entry: AtomicCounter::new(0) }
    }
}

// SAFETY: zero counters (tested in `in_place`).
unsafe impl ZeroInitial for [AtomicCounter; TOTAL_SLOTS] {
    fn initial() -> Self {
        core::array::from_fn(|_| AtomicCounter::new(0))
    }
}

/// The control block at the start of the storage.
///
/// Ordered by who touches what: the read-mostly words every call reads, then (on hosted
/// targets, a cache line further) the words allocate and release write, then the headers, then
/// what only refusals, monitoring and readers touch.
#[repr(C)]
pub(crate) struct ManagerCore {
    /// `MANAGER_MAGIC` while a manager lives here.
    pub magic: u32,
    /// Checksum of the identity fields: random bytes cannot pass for a manager.
    pub identity_check: u32,
    /// The storage's own address.
    pub self_addr: usize,
    /// Offset of the aligned data region from the storage start.
    pub data_offset: usize,
    /// Address of the aligned data region (`self_addr + data_offset`).
    pub data_base: usize,
    /// Timing metrics are produced (monitoring on and a clock available). Read it through
    /// [`ManagerCore::is_timed`], which is false in a build without monitoring.
    pub timed: bool,
    pub config: ActiveConfig,
    pub init_time_ns: u64,
    pub state: AtomicU32,
    pub state_changes: AtomicU32,
    pub state_change_time_ns: WideStamp,
    /// Keeps the words above, read by every allocate and release, off the cache line of the
    /// pool words below, written by every allocate and release (see [`CacheLineGap`]).
    pub gap: CacheLineGap,
    /// Each pool's free set, quarantine set and peak: the only words allocate and release
    /// change atomically.
    pub pools: [PoolWords; POOL_COUNT],
    /// Allocations of each buffer since init, written only by the buffer's new owner: the
    /// source of the allocation counts and of each header's `sequence_number`.
    pub generations: [AtomicCounter; TOTAL_SLOTS],
    pub headers: [UnsafeCell<AudioBuffer>; TOTAL_SLOTS],
    /// Pool-empty refusals and the monitoring sums of each pool.
    pub pool_counters: [PoolCounters; POOL_COUNT],
    pub counters: ManagerCounters,
    pub metrics: MetricCells,
    pub warning: WarningWindow,
    pub history: HistoryRing,
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

/// Magic number of a live manager: ASCII "AESM".
pub(crate) const MANAGER_MAGIC: u32 = 0x4145_534D;

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
static_assertions::const_assert!(POOL_BUFFER_COUNTS[0] + POOL_BUFFER_COUNTS[1] + POOL_BUFFER_COUNTS[2] == TOTAL_SLOTS);

impl ManagerCore {
    /// Timing metrics are produced: monitoring compiled in, configured on, and a clock.
    #[inline(always)]
    pub(crate) fn is_timed(&self) -> bool {
        crate::geometry::MONITORING_BUILT && self.timed
    }

    /// Monitoring is compiled in and configured on.
    #[inline(always)]
    pub(crate) fn is_monitored(&self) -> bool {
        crate::geometry::MONITORING_BUILT && self.config.monitoring
    }

    /// The identity checksum of a manager at `addr`.
    pub(crate) const fn identity_check_for(addr: usize) -> u32 {
        let a = addr as u64;
        let mut h = (a as u32) ^ ((a >> 32) as u32).rotate_left(16) ^ MANAGER_MAGIC;
        h = h.wrapping_mul(0x9E37_79B1) ^ (STORAGE_BYTES as u32);
        h = h.wrapping_mul(0x85EB_CA6B) ^ (TOTAL_SLOTS as u32) ^ ((HISTORY_CAPACITY as u32) << 16);
        h.wrapping_mul(0xC2B2_AE35)
    }

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
        StorageLayout {
            storage_bytes: STORAGE_BYTES as u32,
            required_bytes: REQUIRED_BYTES as u32,
            control_block_bytes: size_of::<ManagerCore>() as u32,
            header_bytes: headers as u32,
            slot_control_bytes: slots as u32,
            statistics_bytes: stats as u32,
            metrics_bytes: metrics as u32,
            history_bytes: size_of::<HistoryRing>() as u32,
            data_bytes: DATA_REGION_BYTES as u32,
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
        let parts = l.header_bytes + l.slot_control_bytes + l.statistics_bytes + l.metrics_bytes + l.history_bytes;
        assert!(parts <= l.control_block_bytes);
        // What is not itemised is the identity, configuration and state words and the gap.
        assert!(l.control_block_bytes - parts < 256, "{l:?}");
    }

    #[test]
    fn identity_checks_depend_on_the_address() {
        assert_ne!(ManagerCore::identity_check_for(0x1000), ManagerCore::identity_check_for(0x1008));
    }
}
