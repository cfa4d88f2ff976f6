//! What the integrity sweep (`aes5_buffer_manager_check_integrity`) reports.

/// Damaged buffers an integrity report names at most.
pub const AES5_INTEGRITY_MAX_IDS: u32 = 8;

/// The outcome of one integrity sweep: every guard zone and every free buffer's header
/// checked once.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IntegrityReport {
    /// Buffers whose guard zones and (when free) header were checked: every buffer.
    pub buffers_checked: u32,
    /// Guard zones with at least one word changed (a zone lies between two buffers, or before
    /// the first, after the last).
    pub damaged_guards: u32,
    /// Free buffers whose header was written after their release (or otherwise damaged).
    pub damaged_free_headers: u32,
    /// Buffers this sweep took out of service: free buffers found damaged.
    pub quarantined: u32,
    /// Buffers found damaged: a free header written after release, or the guard word adjacent
    /// to the buffer's data changed (held and queued buffers are only reported; their own
    /// release or hand-off quarantines them).
    pub damaged_count: u32,
    /// The first `AES5_INTEGRITY_MAX_IDS` damaged buffers' ids, in id order (the rest 0).
    pub damaged_ids: [u32; 8],
}

static_assertions::const_assert!(AES5_INTEGRITY_MAX_IDS == 8);
