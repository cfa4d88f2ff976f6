//! The manager: one control block (`ManagerCore`) at the start of the caller's storage, and
//! everything done with it.
//!
//! - `storage`: where the control block, headers and audio data live, and how a pointer is
//!   proved to be one of this manager's headers;
//! - `pool`: one pool's free and quarantine bitmaps and its peak;
//! - `custody`: where each buffer is (free, held, queued, quarantined), one word per buffer;
//! - `queue`: a hand-off queue between pipeline stages, a ring of buffer slots;
//! - `operations`: the hot path, allocate, release and validate;
//! - `accepted_formats`: the formats allocate accepted before, which it need not validate again;
//! - `hand_off`: enqueue and dequeue, the hand-offs between pipeline stages;
//! - `guards`: the guard zones around every buffer's data and their check at every hand-off;
//! - `integrity`: the integrity sweep over every guard and free header;
//! - `refusal`: how a refused call is counted, logged and kept, and its exact reason found;
//! - `refusal_record`: the last refusal, readable without a callback;
//! - `refusal_text`: a refusal in words, for `log_detail` and the last refusal;
//! - `detail_text`: a short text composed on the stack, without `core::fmt`;
//! - `held_buffers`: the finder of buffers that are not free, and the oldest hand-off;
//! - `lifecycle`: init, proving a handle, state changes, shutdown;
//! - `state_machine`: the manager states and their legal edges;
//! - `pressure`: when the manager enters and leaves Warning (docs/DESIGN.md §2.3);
//! - `monitoring`: timing, peaks and history snapshots after each call;
//! - `readers`: statistics, metrics and the report copied out of a live manager.

use core::cell::UnsafeCell;

use crate::geometry::{HISTORY_CAPACITY, POOL_COUNT, QUEUE_CELLS, QUEUE_COUNT, STORAGE_BYTES, TOTAL_SLOTS};
use crate::observability::history::HistoryRing;
use crate::observability::metrics::TimingCells;
use crate::observability::statistics::PoolCounters;
use crate::platform::atomics::{AtomicCounter, AtomicU32};
use crate::platform::in_place::ZeroInitial;
use crate::platform::wide_sum::{WideStamp, WideSum};
use crate::types::config::ActiveConfig;
use crate::types::header::AudioBuffer;
use accepted_formats::AcceptedFormats;
use custody::CustodyTable;
use pool::PoolWords;
use queue::HandOffQueue;
use refusal_record::RefusalRecord;

pub(crate) mod accepted_formats;
pub(crate) mod custody;
pub(crate) mod detail_text;
pub(crate) mod guards;
pub(crate) mod hand_off;
pub(crate) mod held_buffers;
pub(crate) mod integrity;
pub(crate) mod lifecycle;
pub(crate) mod monitoring;
pub(crate) mod operations;
pub(crate) mod pool;
pub(crate) mod pressure;
pub(crate) mod queue;
pub(crate) mod readers;
pub(crate) mod refusal;
pub(crate) mod refusal_record;
pub(crate) mod refusal_text;
pub(crate) mod state_machine;
pub(crate) mod storage;
#[cfg(all(test, not(loom)))]
mod guard_tests;
#[cfg(all(test, not(loom)))]
mod hand_off_tests;
#[cfg(all(test, not(loom)))]
mod refusal_tests;
#[cfg(all(test, not(loom)))]
mod tests;

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
    /// Refused enqueues.
    pub rejected_hand_offs: AtomicCounter,
    /// Buffers quarantined because a guard word next to their data was changed.
    pub overruns_detected: AtomicCounter,
}

/// Real-time metric cells.
pub(crate) struct MetricCells {
    pub allocate: TimingCells,
    pub release: TimingCells,
    /// Sum of the squared allocation durations (for the trend's deviation), in the history's
    /// square units.
    pub allocate_squares: WideSum,
    /// Buffers and bytes held, all pools, as `buffers | bytes << 8`: counted by the monitored
    /// allocate and release, so that raising the peaks needs no count over every pool.
    pub held_now: AtomicU32,
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

// SAFETY: all fields are zero counters (tested in `manager::zero_initial_tests`).
unsafe impl ZeroInitial for ManagerCounters {
    fn initial() -> Self {
        ManagerCounters {
            rejected_allocations: AtomicCounter::new(0),
            rejected_releases: AtomicCounter::new(0),
            validation_errors: AtomicCounter::new(0),
            corruption_detected: AtomicCounter::new(0),
            timeout_errors: AtomicCounter::new(0),
            rejected_hand_offs: AtomicCounter::new(0),
            overruns_detected: AtomicCounter::new(0),
        }
    }
}

// SAFETY: both fields are zero counters (tested in `manager::zero_initial_tests`).
unsafe impl ZeroInitial for WarningWindow {
    fn initial() -> Self {
        WarningWindow { attempts_at_entry: AtomicCounter::new(0), failures_at_entry: AtomicCounter::new(0) }
    }
}

// SAFETY: empty queues (tested in `manager::zero_initial_tests`).
unsafe impl ZeroInitial for [HandOffQueue<QUEUE_CELLS>; QUEUE_COUNT] {
    fn initial() -> Self {
        core::array::from_fn(|_| HandOffQueue::initial())
    }
}

// SAFETY: zero counters (tested in `manager::zero_initial_tests`).
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
    /// Checksum of the identity fields: random bytes cannot pass for a manager. Bit 0 is set
    /// and bit 1 clear, so it is also the per-manager part of every guard word
    /// ([`guards::guard_word`]).
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
    /// The formats allocate accepted before: read by every allocate, written once per new
    /// format.
    pub accepted_formats: AcceptedFormats,
    /// Keeps the words above, read by every allocate and release, off the cache line of the
    /// pool words below, written by every allocate and release (see [`CacheLineGap`]).
    pub gap: CacheLineGap,
    /// Each pool's free set, quarantine set and peak: the only words allocate and release
    /// change atomically.
    pub pools: [PoolWords; POOL_COUNT],
    /// Allocations of each buffer since init, written only by the buffer's new owner: the
    /// source of the allocation counts and of each header's `sequence_number`.
    pub generations: [AtomicCounter; TOTAL_SLOTS],
    /// Where each buffer is, and since when: the ownership record that release, enqueue and
    /// quarantine change in one compare-and-swap.
    pub custody: CustodyTable<TOTAL_SLOTS>,
    pub headers: [UnsafeCell<AudioBuffer>; TOTAL_SLOTS],
    /// The hand-off queues between pipeline stages.
    pub queues: [HandOffQueue<QUEUE_CELLS>; QUEUE_COUNT],
    /// Pool-empty refusals and the monitoring sums of each pool.
    pub pool_counters: [PoolCounters; POOL_COUNT],
    pub counters: ManagerCounters,
    pub metrics: MetricCells,
    pub warning: WarningWindow,
    pub history: HistoryRing,
    /// The last refused call and why, for `aes5_buffer_manager_get_last_refusal`.
    pub last_refusal: RefusalRecord,
}

#[cfg(all(test, not(loom)))]
mod zero_initial_tests {
    use crate::platform::in_place::tests::initial_is_all_zero;

    #[test]
    fn every_zero_initial_part_of_the_control_block_starts_as_zero_bytes() {
        use crate::geometry::{QUEUE_CELLS, QUEUE_COUNT, TOTAL_SLOTS};
        assert!(initial_is_all_zero::<crate::observability::history::HistoryRing>());
        assert!(initial_is_all_zero::<super::ManagerCounters>());
        assert!(initial_is_all_zero::<super::WarningWindow>());
        assert!(initial_is_all_zero::<crate::observability::statistics::PoolCounters>());
        assert!(initial_is_all_zero::<[crate::platform::atomics::AtomicCounter; TOTAL_SLOTS]>());
        assert!(initial_is_all_zero::<super::custody::CustodyTable<TOTAL_SLOTS>>());
        assert!(initial_is_all_zero::<[super::queue::HandOffQueue<QUEUE_CELLS>; QUEUE_COUNT]>());
        assert!(initial_is_all_zero::<super::refusal_record::RefusalRecord>());
        assert!(initial_is_all_zero::<super::accepted_formats::AcceptedFormats>());
    }
}

/// Magic number of a live manager: ASCII "AESM".
pub(crate) const MANAGER_MAGIC: u32 = 0x4145_534D;

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
        guards::guard_seed(h.wrapping_mul(0xC2B2_AE35))
    }
}
