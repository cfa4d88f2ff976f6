//! Build-time geometry: the pools' shapes, data alignment, history capacity and storage size;
//! and whether performance monitoring is compiled in.
//!
//! The values come from environment variables read by `build.rs` (README, "Choosing the
//! geometry"); the generated header carries the same numbers as `#define`s. Everything per
//! pool is derived here, once, into [`POOLS`]; everything per buffer into [`SLOT_PLACES`].

include!(concat!(env!("OUT_DIR"), "/geometry.rs"));

/// Number of buffer types that have a pool (Primary, Conversion, Scratch).
pub(crate) const POOL_COUNT: usize = POOL_SETTINGS.len();

/// Alignment of every buffer's audio data.
pub(crate) const DATA_ALIGNMENT: usize = AES5_DATA_ALIGNMENT as usize;

/// Entries of the trend history ring.
#[cfg(not(loom))]
pub(crate) const HISTORY_CAPACITY: usize = AES5_HISTORY_CAPACITY as usize;
/// Under loom, whose atomics are several times the size of real ones, a ring of 4 keeps the
/// control block inside the storage (the models never fill a ring).
#[cfg(loom)]
pub(crate) const HISTORY_CAPACITY: usize = 4;

/// True when performance monitoring is compiled in (`AES5_MONITORING=1`, the default). Built
/// with `AES5_MONITORING=0`, the library refuses a configuration that asks for monitoring and
/// the compiler drops the monitoring code: every use of it is behind this constant.
pub(crate) const MONITORING_BUILT: bool = AES5_MONITORING != 0;

/// Hand-off queues in the manager's storage (`AES5_QUEUE_COUNT`, 0..=16).
pub(crate) const QUEUE_COUNT: usize = AES5_QUEUE_COUNT as usize;

/// Formats allocate remembers having accepted, so that it need not validate them again
/// (`AES5_ACCEPTED_FORMATS`, 0..=16; 0: every allocation validates its format).
pub(crate) const ACCEPTED_FORMATS: usize = AES5_ACCEPTED_FORMATS as usize;

/// Bytes of the guard zone after every buffer's data and before the first (`AES5_GUARD_BYTES`,
/// a multiple of 4; 0: no guards). The zone after a buffer also takes the padding up to the
/// next buffer's aligned data, so it starts right where the data area ends.
pub(crate) const GUARD_BYTES: usize = AES5_GUARD_BYTES as usize;

/// Offset of the first buffer's data in the data region: the first guard zone, rounded up to
/// the data alignment.
pub(crate) const LEAD_BYTES: usize = GUARD_BYTES.div_ceil(DATA_ALIGNMENT) * DATA_ALIGNMENT;

/// Size in bytes of `aes5_buffer_manager_storage_t`.
pub(crate) const STORAGE_BYTES: usize = AES5_STORAGE_BYTES as usize;

/// A pool holds at most this many buffers: one bit each in the pool's free word, which makes
/// allocate and release one atomic step and O(1) on every target.
pub const AES5_MAX_BUFFERS_PER_POOL: u32 = 32;
/// [`AES5_MAX_BUFFERS_PER_POOL`] as a `usize`: the bits of a pool's free word.
pub(crate) const MAX_BUFFERS_PER_POOL: usize = AES5_MAX_BUFFERS_PER_POOL as usize;

/// One pool's shape, fixed at build time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PoolShape {
    /// Buffers in the pool.
    pub count: usize,
    /// Capacity in bytes of each buffer.
    pub capacity: usize,
    /// Distance between two buffers' data: the capacity and the guard zone after it, rounded
    /// up to the data alignment.
    pub stride: usize,
    /// Index of the pool's first buffer in the manager-wide slot arrays (headers, counts).
    pub first_slot: usize,
}

/// Every pool's shape, in pool order, the pools' buffers one after the other.
pub(crate) const POOLS: [PoolShape; POOL_COUNT] = {
    let mut pools = [PoolShape { count: 0, capacity: 0, stride: 0, first_slot: 0 }; POOL_COUNT];
    let mut first_slot = 0;
    let mut pool = 0;
    while pool < POOL_COUNT {
        let (count, capacity) = (POOL_SETTINGS[pool].0 as usize, POOL_SETTINGS[pool].1 as usize);
        assert!(count >= 1 && count <= AES5_MAX_BUFFERS_PER_POOL as usize, "a pool holds 1 to 32 buffers");
        let stride = (capacity + GUARD_BYTES).div_ceil(DATA_ALIGNMENT) * DATA_ALIGNMENT;
        pools[pool] = PoolShape { count, capacity, stride, first_slot };
        first_slot += count;
        pool += 1;
    }
    pools
};

/// One field of every pool's [`PoolShape`], as a table by pool index.
macro_rules! field_of_each_pool {
    ($field:ident) => {{
        let mut table = [0; POOL_COUNT];
        let mut pool = 0;
        while pool < POOL_COUNT {
            table[pool] = POOLS[pool].$field;
            pool += 1;
        }
        table
    }};
}

/// Each pool's buffer capacity, by pool index. Allocate reads the two fields it needs from
/// these word tables rather than from [`POOLS`]: that keeps its registers free across the
/// take, a few instructions per call on Cortex-M3 and M0.
pub(crate) const POOL_CAPACITY: [usize; POOL_COUNT] = field_of_each_pool!(capacity);
/// Each pool's first slot, by pool index (see [`POOL_CAPACITY`]).
pub(crate) const POOL_FIRST_SLOT: [usize; POOL_COUNT] = field_of_each_pool!(first_slot);

/// Offset of pool `pool`'s first buffer's data from the start of the aligned data region: the
/// first guard zone, then the pools' buffers (data and guard) one after another in pool order.
const fn data_start(pool: usize) -> usize {
    let (mut start, mut before) = (LEAD_BYTES, 0);
    while before < pool {
        start += POOLS[before].count * POOLS[before].stride;
        before += 1;
    }
    start
}

/// Total buffers over all pools.
pub(crate) const TOTAL_SLOTS: usize = POOLS[POOL_COUNT - 1].first_slot + POOLS[POOL_COUNT - 1].count;

/// Cells of each hand-off queue's ring: the smallest power of two above the number of
/// buffers. A buffer waits in at most one queue once, so a queue never holds more than
/// `TOTAL_SLOTS` buffers and a producer always finds its cell already consumed (see
/// `manager::queue`).
pub(crate) const QUEUE_CELLS: usize = (TOTAL_SLOTS + 1).next_power_of_two();

/// Bytes of the whole data region.
pub(crate) const DATA_REGION_BYTES: usize = data_start(POOL_COUNT);

/// Buffers in the largest pool.
pub(crate) const LARGEST_POOL: usize = {
    let (mut largest, mut pool) = (0, 0);
    while pool < POOL_COUNT {
        if POOLS[pool].count > largest {
            largest = POOLS[pool].count;
        }
        pool += 1;
    }
    largest
};

/// Bytes of audio data the pools can hold (sum of capacities, without alignment padding).
pub(crate) const TOTAL_CAPACITY_BYTES: usize = {
    let (mut total, mut pool) = (0, 0);
    while pool < POOL_COUNT {
        total += POOLS[pool].count * POOLS[pool].capacity;
        pool += 1;
    }
    total
};

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
    let mut pool = 0;
    while pool < POOL_COUNT {
        let shape = POOLS[pool];
        let mut local = 0;
        while local < shape.count {
            let data_offset = data_start(pool) + local * shape.stride;
            assert!(data_offset <= u32::MAX as usize && shape.capacity <= u32::MAX as usize);
            places[shape.first_slot + local] = SlotPlace {
                data_offset: data_offset as u32,
                capacity: shape.capacity as u32,
                pool: pool as u8,
                local: local as u8,
            };
            local += 1;
        }
        pool += 1;
    }
    places
};

static_assertions::const_assert!(DATA_ALIGNMENT.is_power_of_two() && DATA_ALIGNMENT >= 8);
static_assertions::const_assert!(HISTORY_CAPACITY.is_power_of_two());
static_assertions::const_assert!(STORAGE_BYTES % 8 == 0);
// A queue cell keeps the buffer's slot in its low byte.
static_assertions::const_assert!(TOTAL_SLOTS <= 0xFF);
// The default geometry is the product's budget: 32 KiB for everything.
static_assertions::const_assert!(!AES5_GEOMETRY_IS_DEFAULT || STORAGE_BYTES <= 32_768);

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn pools_follow_one_another() {
        let mut slot = 0;
        let mut data = LEAD_BYTES;
        for (pool, shape) in POOLS.iter().enumerate() {
            assert_eq!((shape.count, shape.capacity), (POOL_SETTINGS[pool].0 as usize, POOL_SETTINGS[pool].1 as usize));
            assert_eq!((shape.first_slot, data_start(pool)), (slot, data), "pool {pool}");
            assert_eq!(shape.stride % DATA_ALIGNMENT, 0);
            let span = shape.capacity + GUARD_BYTES;
            assert!(shape.stride >= span && shape.stride < span + DATA_ALIGNMENT);
            for local in 0..shape.count {
                let place = SLOT_PLACES[slot];
                assert_eq!((place.pool as usize, place.local as usize), (pool, local), "slot {slot}");
                assert_eq!(place.data_offset as usize, data + local * shape.stride);
                assert_eq!(place.capacity as usize, shape.capacity);
                slot += 1;
            }
            data += shape.count * shape.stride;
        }
        assert_eq!((TOTAL_SLOTS, DATA_REGION_BYTES), (slot, data));
        assert_eq!(LARGEST_POOL, POOLS.iter().map(|p| p.count).max().unwrap());
        assert_eq!(TOTAL_CAPACITY_BYTES, POOLS.iter().map(|p| p.count * p.capacity).sum::<usize>());
    }

    #[test]
    fn default_geometry_is_the_documented_one() {
        if AES5_GEOMETRY_IS_DEFAULT {
            assert_eq!(POOLS.map(|p| p.count), [8, 4, 2]);
            assert_eq!(POOLS.map(|p| p.capacity), [2048, 2048, 2048]);
            assert_eq!(DATA_ALIGNMENT, 32);
            assert_eq!(HISTORY_CAPACITY, 16);
            assert_eq!(GUARD_BYTES, 32);
            assert_eq!(STORAGE_BYTES, 32_768);
        }
    }
}
