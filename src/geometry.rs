//! Build-time geometry: pool sizes, data alignment, history capacity and storage size; and
//! whether performance monitoring is compiled in.
//!
//! The values come from environment variables read by `build.rs` (README, "Choosing the
//! geometry"); the generated header carries the same numbers as `#define`s.

include!(concat!(env!("OUT_DIR"), "/geometry.rs"));

/// Number of buffer types that have a pool (Primary, Conversion, Scratch).
pub(crate) const POOL_COUNT: usize = 3;

/// Buffers in each pool, in pool order.
pub(crate) const POOL_BUFFER_COUNTS: [usize; POOL_COUNT] =
    [AES5_PRIMARY_BUFFER_COUNT as usize, AES5_CONVERSION_BUFFER_COUNT as usize, AES5_SCRATCH_BUFFER_COUNT as usize];

/// Capacity in bytes of one buffer of each pool.
pub(crate) const POOL_BUFFER_BYTES: [usize; POOL_COUNT] =
    [AES5_PRIMARY_BUFFER_BYTES as usize, AES5_CONVERSION_BUFFER_BYTES as usize, AES5_SCRATCH_BUFFER_BYTES as usize];

/// Alignment of every buffer's audio data.
pub(crate) const DATA_ALIGNMENT: usize = AES5_DATA_ALIGNMENT as usize;

/// Entries of the trend history ring.
#[cfg(not(loom))]
pub(crate) const HISTORY_CAPACITY: usize = AES5_HISTORY_CAPACITY as usize;
/// Under loom, whose atomics are several times the size of real ones, a ring of 8 keeps the
/// control block inside the storage (the models never fill a ring).
#[cfg(loom)]
pub(crate) const HISTORY_CAPACITY: usize = 8;

/// True when performance monitoring is compiled in (`AES5_MONITORING=1`, the default). Built
/// with `AES5_MONITORING=0`, the library refuses a configuration that asks for monitoring and
/// the compiler drops the monitoring code: every use of it is behind this constant.
pub(crate) const MONITORING_BUILT: bool = AES5_MONITORING != 0;

/// Size in bytes of `aes5_buffer_manager_storage_t`.
pub(crate) const STORAGE_BYTES: usize = AES5_STORAGE_BYTES as usize;

/// Buffers in the largest pool.
pub(crate) const LARGEST_POOL: usize = {
    let [a, b, c] = POOL_BUFFER_COUNTS;
    let ab = if a > b { a } else { b };
    if ab > c {
        ab
    } else {
        c
    }
};

/// Total buffers over all pools.
pub(crate) const TOTAL_SLOTS: usize = POOL_BUFFER_COUNTS[0] + POOL_BUFFER_COUNTS[1] + POOL_BUFFER_COUNTS[2];

const fn round_up(value: usize, to: usize) -> usize {
    value.div_ceil(to) * to
}

/// Distance between two buffers' data in each pool (capacity rounded up to the alignment).
pub(crate) const POOL_DATA_STRIDE: [usize; POOL_COUNT] = [
    round_up(POOL_BUFFER_BYTES[0], DATA_ALIGNMENT),
    round_up(POOL_BUFFER_BYTES[1], DATA_ALIGNMENT),
    round_up(POOL_BUFFER_BYTES[2], DATA_ALIGNMENT),
];

/// Index of each pool's first slot in the manager-wide slot arrays.
pub(crate) const POOL_FIRST_SLOT: [usize; POOL_COUNT] =
    [0, POOL_BUFFER_COUNTS[0], POOL_BUFFER_COUNTS[0] + POOL_BUFFER_COUNTS[1]];

/// Offset of each pool's data from the start of the (aligned) data region.
pub(crate) const POOL_DATA_START: [usize; POOL_COUNT] = [
    0,
    POOL_BUFFER_COUNTS[0] * POOL_DATA_STRIDE[0],
    POOL_BUFFER_COUNTS[0] * POOL_DATA_STRIDE[0] + POOL_BUFFER_COUNTS[1] * POOL_DATA_STRIDE[1],
];

/// Bytes of the whole data region.
pub(crate) const DATA_REGION_BYTES: usize = POOL_DATA_START[2] + POOL_BUFFER_COUNTS[2] * POOL_DATA_STRIDE[2];

/// Bytes of audio data the pools can hold (sum of capacities, without alignment padding).
pub(crate) const TOTAL_CAPACITY_BYTES: usize = POOL_BUFFER_COUNTS[0] * POOL_BUFFER_BYTES[0]
    + POOL_BUFFER_COUNTS[1] * POOL_BUFFER_BYTES[1]
    + POOL_BUFFER_COUNTS[2] * POOL_BUFFER_BYTES[2];

/// The pool that owns a manager-wide slot index.
const fn pool_of_slot(slot: usize) -> usize {
    if slot < POOL_FIRST_SLOT[1] {
        0
    } else if slot < POOL_FIRST_SLOT[2] {
        1
    } else {
        2
    }
}

/// Where one slot's buffer is: its pool, its index in that pool, the offset of its data from
/// the start of the data region, and its capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotPlace {
    pub data_offset: u32,
    pub capacity: u32,
    pub pool: u8,
    pub local: u8,
}

/// Every slot's [`SlotPlace`], computed at build time: release and validate find a buffer's
/// pool, index and data address with one table load instead of a search over the pools.
pub(crate) static SLOT_PLACES: [SlotPlace; TOTAL_SLOTS] = {
    let mut places = [SlotPlace { data_offset: 0, capacity: 0, pool: 0, local: 0 }; TOTAL_SLOTS];
    let mut slot = 0;
    while slot < TOTAL_SLOTS {
        let pool = pool_of_slot(slot);
        let local = slot - POOL_FIRST_SLOT[pool];
        let data_offset = POOL_DATA_START[pool] + local * POOL_DATA_STRIDE[pool];
        assert!(data_offset <= u32::MAX as usize && POOL_BUFFER_BYTES[pool] <= u32::MAX as usize);
        places[slot] = SlotPlace {
            data_offset: data_offset as u32,
            capacity: POOL_BUFFER_BYTES[pool] as u32,
            pool: pool as u8,
            local: local as u8,
        };
        slot += 1;
    }
    places
};

/// A pool holds at most this many buffers: one bit each in the pool's free word, which makes
/// allocate and release one atomic step and O(1) on every target.
pub const AES5_MAX_BUFFERS_PER_POOL: u32 = 32;
static_assertions::const_assert!(AES5_MAX_BUFFERS_PER_POOL as usize == crate::manager::pool::MAX_BUFFERS_PER_POOL);

static_assertions::const_assert!(
    POOL_BUFFER_COUNTS[0] >= 1 && POOL_BUFFER_COUNTS[0] <= AES5_MAX_BUFFERS_PER_POOL as usize
);
static_assertions::const_assert!(
    POOL_BUFFER_COUNTS[1] >= 1 && POOL_BUFFER_COUNTS[1] <= AES5_MAX_BUFFERS_PER_POOL as usize
);
static_assertions::const_assert!(
    POOL_BUFFER_COUNTS[2] >= 1 && POOL_BUFFER_COUNTS[2] <= AES5_MAX_BUFFERS_PER_POOL as usize
);
static_assertions::const_assert!(DATA_ALIGNMENT.is_power_of_two() && DATA_ALIGNMENT >= 8);
static_assertions::const_assert!(HISTORY_CAPACITY.is_power_of_two());
static_assertions::const_assert!(STORAGE_BYTES % 8 == 0);
// The default geometry is the product's budget: 32 KiB for everything.
static_assertions::const_assert!(!AES5_GEOMETRY_IS_DEFAULT || STORAGE_BYTES <= 32_768);

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn derived_tables_agree_with_counts() {
        assert_eq!(TOTAL_SLOTS, POOL_BUFFER_COUNTS.iter().sum::<usize>());
        let mut slot = 0;
        for pool in 0..POOL_COUNT {
            let first = POOL_FIRST_SLOT[pool];
            assert_eq!(pool_of_slot(first), pool);
            assert_eq!(pool_of_slot(first + POOL_BUFFER_COUNTS[pool] - 1), pool);
            for local in 0..POOL_BUFFER_COUNTS[pool] {
                let place = SLOT_PLACES[slot];
                assert_eq!((place.pool as usize, place.local as usize), (pool, local), "slot {slot}");
                assert_eq!(place.data_offset as usize, POOL_DATA_START[pool] + local * POOL_DATA_STRIDE[pool]);
                assert_eq!(place.capacity as usize, POOL_BUFFER_BYTES[pool]);
                slot += 1;
            }
            assert_eq!(POOL_DATA_STRIDE[pool] % DATA_ALIGNMENT, 0);
            assert!(POOL_DATA_STRIDE[pool] >= POOL_BUFFER_BYTES[pool]);
        }
        assert_eq!(
            DATA_REGION_BYTES,
            (0..POOL_COUNT).map(|p| POOL_BUFFER_COUNTS[p] * POOL_DATA_STRIDE[p]).sum::<usize>()
        );
    }

    #[test]
    fn default_geometry_is_the_documented_one() {
        if AES5_GEOMETRY_IS_DEFAULT {
            assert_eq!(POOL_BUFFER_COUNTS, [8, 4, 2]);
            assert_eq!(POOL_BUFFER_BYTES, [2048, 2048, 2048]);
            assert_eq!(DATA_ALIGNMENT, 32);
            assert_eq!(HISTORY_CAPACITY, 32);
            assert_eq!(STORAGE_BYTES, 32_768);
        }
    }
}
