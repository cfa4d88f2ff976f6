//! What the hand-off queues and the held-buffer finder tell: one queue's statistics, and where
//! one buffer that is not free is now and since when.

use crate::types::buffer_type::Aes5BufferType;

/// The `queue` of a buffer a caller holds, and the `last_queue` of a buffer not dequeued
/// since its allocation.
pub const AES5_NO_QUEUE: u32 = 0xFFFF_FFFF;

/// Statistics of one hand-off queue (`aes5_buffer_manager_get_queue_statistics`).
///
/// At every read, even beside concurrent enqueues and dequeues: `length <= peak_length`,
/// `total_dequeued <= total_enqueued`, and `length` is at most the manager's buffer count.
/// When the queue is quiescent, `total_enqueued - total_dequeued == length`. Totals are
/// 64-bit on 64-bit hosts and 32-bit (wrapping) on Cortex-M.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueStatistics {
    /// Buffers waiting in the queue now (an enqueue in progress counts).
    pub length: u32,
    /// The most buffers that waited in the queue at once since init.
    pub peak_length: u32,
    /// Successful enqueues since init.
    pub total_enqueued: u64,
    /// Successful dequeues since init.
    pub total_dequeued: u64,
}

/// One buffer that is not free, as the held-buffer finder
/// (`aes5_buffer_manager_get_held_buffers`) saw it: who has it now and since when.
/// Quarantined buffers are out of service and not listed.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeldBuffer {
    /// The buffer's id (its header's `buffer_id`).
    pub buffer_id: u32,
    /// The `aes5_buffer_type_t` of its pool.
    pub buffer_type: Aes5BufferType,
    /// Its allocations since init, this one included (its header's `sequence_number`).
    pub sequence_number: u32,
    /// The queue it waits in, or `AES5_NO_QUEUE` when a caller holds it.
    pub queue: u32,
    /// For a buffer a caller holds: the queue it was last dequeued from, or `AES5_NO_QUEUE`
    /// when it has not been queued since its allocation. `AES5_NO_QUEUE` for a queued buffer.
    pub last_queue: u32,
    /// Clock reading at its allocation (0 without monitoring or a clock).
    pub allocation_time_ns: u64,
    /// Clock reading at the allocate, enqueue or dequeue that put it where it is now (0
    /// without monitoring or a clock; the finder's own clock reading for a hand-off caught
    /// while it happens).
    pub last_hand_off_ns: u64,
}
