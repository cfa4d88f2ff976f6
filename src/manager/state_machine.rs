//! The manager state machine (DESIGN.md §2) and the buffer types.

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

/// Manager state as passed through the C API (`aes5_manager_state_t`), in the seed's order.
pub type Aes5ManagerState = u32;
/// Storage not initialised.
pub const AES5_STATE_UNINITIALIZED: Aes5ManagerState = 0;
/// Initialisation in progress.
pub const AES5_STATE_INITIALIZING: Aes5ManagerState = 1;
/// Ready; no buffer allocated yet since init or recovery.
pub const AES5_STATE_READY: Aes5ManagerState = 2;
/// Managing buffers.
pub const AES5_STATE_ACTIVE: Aes5ManagerState = 3;
/// Managing buffers under pressure. Entered from Active when an allocation leaves a pool above
/// 90 % full or is refused because a pool is empty (also checked for every pool at the first
/// allocation after Ready). Left for Active by itself as `min_success_rate` describes.
pub const AES5_STATE_WARNING: Aes5ManagerState = 4;
/// Corruption detected; allocation refused until recovery (release still works).
pub const AES5_STATE_ERROR: Aes5ManagerState = 5;
/// Shutdown requested; waits for the last held buffer to be released.
pub const AES5_STATE_SHUTTING_DOWN: Aes5ManagerState = 6;
/// Shut down; the storage may be initialised again.
pub const AES5_STATE_SHUTDOWN: Aes5ManagerState = 7;

/// A buffer type of the Rust API.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BufferType {
    /// Primary audio processing buffers.
    Primary = AES5_BUFFER_TYPE_PRIMARY,
    /// Sampling-frequency conversion buffers.
    Conversion = AES5_BUFFER_TYPE_CONVERSION,
    /// Temporary processing buffers.
    Scratch = AES5_BUFFER_TYPE_SCRATCH,
    /// Input staging (no pool).
    Input = AES5_BUFFER_TYPE_INPUT,
    /// Output staging (no pool).
    Output = AES5_BUFFER_TYPE_OUTPUT,
    /// Metadata (no pool).
    Metadata = AES5_BUFFER_TYPE_METADATA,
}

impl BufferType {
    /// Every buffer type, in numbering order.
    pub const ALL: [BufferType; 6] = [
        BufferType::Primary,
        BufferType::Conversion,
        BufferType::Scratch,
        BufferType::Input,
        BufferType::Output,
        BufferType::Metadata,
    ];

    /// Maps a C integer to a buffer type; `None` for values out of range.
    #[inline(always)]
    pub const fn from_raw(raw: u32) -> Option<BufferType> {
        match raw {
            AES5_BUFFER_TYPE_PRIMARY => Some(BufferType::Primary),
            AES5_BUFFER_TYPE_CONVERSION => Some(BufferType::Conversion),
            AES5_BUFFER_TYPE_SCRATCH => Some(BufferType::Scratch),
            AES5_BUFFER_TYPE_INPUT => Some(BufferType::Input),
            AES5_BUFFER_TYPE_OUTPUT => Some(BufferType::Output),
            AES5_BUFFER_TYPE_METADATA => Some(BufferType::Metadata),
            _ => None,
        }
    }

    /// The pool serving this type, if it has one.
    #[inline(always)]
    pub const fn pool(self) -> Option<usize> {
        match self {
            BufferType::Primary => Some(0),
            BufferType::Conversion => Some(1),
            BufferType::Scratch => Some(2),
            _ => None,
        }
    }
}

/// Static, NUL-terminated name of a buffer type ("Primary", ...; "unknown" out of range).
pub(crate) fn buffer_type_name(raw: Aes5BufferType) -> &'static [u8] {
    match BufferType::from_raw(raw) {
        Some(BufferType::Primary) => b"Primary\0",
        Some(BufferType::Conversion) => b"Conversion\0",
        Some(BufferType::Scratch) => b"Scratch\0",
        Some(BufferType::Input) => b"Input\0",
        Some(BufferType::Output) => b"Output\0",
        Some(BufferType::Metadata) => b"Metadata\0",
        None => b"unknown\0",
    }
}

/// Static, NUL-terminated name of a manager state ("Ready", ...; "unknown" out of range).
pub(crate) fn state_name(raw: Aes5ManagerState) -> &'static [u8] {
    match ManagerState::from_raw(raw) {
        Some(ManagerState::Uninitialized) => b"Uninitialized\0",
        Some(ManagerState::Initializing) => b"Initializing\0",
        Some(ManagerState::Ready) => b"Ready\0",
        Some(ManagerState::Active) => b"Active\0",
        Some(ManagerState::Warning) => b"Warning\0",
        Some(ManagerState::Error) => b"Error\0",
        Some(ManagerState::ShuttingDown) => b"ShuttingDown\0",
        Some(ManagerState::Shutdown) => b"Shutdown\0",
        None => b"unknown\0",
    }
}

/// A manager state of the Rust API.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ManagerState {
    /// See [`AES5_STATE_UNINITIALIZED`].
    Uninitialized = AES5_STATE_UNINITIALIZED,
    /// See [`AES5_STATE_INITIALIZING`].
    Initializing = AES5_STATE_INITIALIZING,
    /// See [`AES5_STATE_READY`].
    Ready = AES5_STATE_READY,
    /// See [`AES5_STATE_ACTIVE`].
    Active = AES5_STATE_ACTIVE,
    /// See [`AES5_STATE_WARNING`].
    Warning = AES5_STATE_WARNING,
    /// See [`AES5_STATE_ERROR`].
    Error = AES5_STATE_ERROR,
    /// See [`AES5_STATE_SHUTTING_DOWN`].
    ShuttingDown = AES5_STATE_SHUTTING_DOWN,
    /// See [`AES5_STATE_SHUTDOWN`].
    Shutdown = AES5_STATE_SHUTDOWN,
}

impl ManagerState {
    /// Maps a C integer to a state; `None` for values out of range.
    #[inline(always)]
    pub const fn from_raw(raw: u32) -> Option<ManagerState> {
        match raw {
            AES5_STATE_UNINITIALIZED => Some(ManagerState::Uninitialized),
            AES5_STATE_INITIALIZING => Some(ManagerState::Initializing),
            AES5_STATE_READY => Some(ManagerState::Ready),
            AES5_STATE_ACTIVE => Some(ManagerState::Active),
            AES5_STATE_WARNING => Some(ManagerState::Warning),
            AES5_STATE_ERROR => Some(ManagerState::Error),
            AES5_STATE_SHUTTING_DOWN => Some(ManagerState::ShuttingDown),
            AES5_STATE_SHUTDOWN => Some(ManagerState::Shutdown),
            _ => None,
        }
    }

    /// Allocation is allowed in Ready, Active and Warning.
    #[inline(always)]
    pub const fn allows_allocation(raw: u32) -> bool {
        matches!(raw, AES5_STATE_READY | AES5_STATE_ACTIVE | AES5_STATE_WARNING)
    }

    /// Release is allowed where allocation is, and in Error and ShuttingDown so buffers drain.
    #[inline(always)]
    pub const fn allows_release(raw: u32) -> bool {
        matches!(
            raw,
            AES5_STATE_READY | AES5_STATE_ACTIVE | AES5_STATE_WARNING | AES5_STATE_ERROR | AES5_STATE_SHUTTING_DOWN
        )
    }

    /// The transition table of DESIGN.md §2: true when `from → to` is a legal edge.
    pub const fn is_legal_transition(from: ManagerState, to: ManagerState) -> bool {
        use ManagerState::*;
        matches!(
            (from, to),
            (Uninitialized | Shutdown, Initializing)
                | (Initializing, Ready | Error)
                | (Ready, Active)
                | (Active, Warning)
                | (Warning, Active)
                | (Ready | Active | Warning, Error)
                | (Error, Ready)
                | (Ready | Active | Warning | Error, ShuttingDown)
                | (ShuttingDown, Shutdown)
        )
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
        for raw in 0..8 {
            assert_eq!(ManagerState::from_raw(raw).map(|s| s as u32), Some(raw));
        }
        for bad in [6, 7, 0xFFFF_FFFF] {
            assert_eq!(BufferType::from_raw(bad), None);
        }
        assert_eq!(ManagerState::from_raw(8), None);
        assert_eq!(ManagerState::from_raw(0xFFFF_FFFF), None);
    }

    #[test]
    fn only_three_types_have_pools() {
        let pooled: std::vec::Vec<_> = BufferType::ALL.iter().filter_map(|t| t.pool()).collect();
        assert_eq!(pooled, [0, 1, 2]);
    }

    #[test]
    fn transition_table_has_exactly_the_designed_edges() {
        use ManagerState::*;
        let all = [Uninitialized, Initializing, Ready, Active, Warning, Error, ShuttingDown, Shutdown];
        let legal = [
            (Uninitialized, Initializing),
            (Shutdown, Initializing),
            (Initializing, Ready),
            (Initializing, Error),
            (Ready, Active),
            (Active, Warning),
            (Warning, Active),
            (Ready, Error),
            (Active, Error),
            (Warning, Error),
            (Error, Ready),
            (Ready, ShuttingDown),
            (Active, ShuttingDown),
            (Warning, ShuttingDown),
            (Error, ShuttingDown),
            (ShuttingDown, Shutdown),
        ];
        for from in all {
            for to in all {
                assert_eq!(
                    ManagerState::is_legal_transition(from, to),
                    legal.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
    }

    #[test]
    fn allocation_and_release_states() {
        for raw in 0..8 {
            let alloc = ManagerState::allows_allocation(raw);
            let release = ManagerState::allows_release(raw);
            assert_eq!(alloc, (2..=4).contains(&raw), "alloc {raw}");
            assert_eq!(release, (2..=6).contains(&raw), "release {raw}");
        }
    }
}
