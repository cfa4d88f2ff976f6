//! The manager states as numbers and names (`aes5_manager_state_t`); which calls each allows
//! and the legal edges between them are the manager's (`manager::state_machine`).

use crate::types::c_enum::c_enum;

/// Manager state as passed through the C API (`aes5_manager_state_t`), numbered in life-cycle order.
pub type Aes5ManagerState = u32;
/// Storage not initialised.
pub const AES5_STATE_UNINITIALIZED: Aes5ManagerState = 0;
/// Initialisation in progress.
pub const AES5_STATE_INITIALIZING: Aes5ManagerState = 1;
/// Ready; no buffer allocated yet since init or recovery.
pub const AES5_STATE_READY: Aes5ManagerState = 2;
/// Managing buffers.
pub const AES5_STATE_ACTIVE: Aes5ManagerState = 3;
/// Managing buffers under pressure: a pool is nearly full or was found empty. The manager
/// enters and leaves it by itself (the rule is in docs/DESIGN.md §2.3).
pub const AES5_STATE_WARNING: Aes5ManagerState = 4;
/// Corruption detected; allocation refused until recovery (release still works).
pub const AES5_STATE_ERROR: Aes5ManagerState = 5;
/// Shutdown requested; waits for the last held buffer to be released.
pub const AES5_STATE_SHUTTING_DOWN: Aes5ManagerState = 6;
/// Shut down; the storage may be initialised again.
pub const AES5_STATE_SHUTDOWN: Aes5ManagerState = 7;

c_enum! {
    /// A manager state of the Rust API. Its text is the name `aes5_state_string` returns.
    pub enum ManagerState {
        /// See [`AES5_STATE_UNINITIALIZED`].
        Uninitialized = AES5_STATE_UNINITIALIZED => "Uninitialized",
        /// See [`AES5_STATE_INITIALIZING`].
        Initializing = AES5_STATE_INITIALIZING => "Initializing",
        /// See [`AES5_STATE_READY`].
        Ready = AES5_STATE_READY => "Ready",
        /// See [`AES5_STATE_ACTIVE`].
        Active = AES5_STATE_ACTIVE => "Active",
        /// See [`AES5_STATE_WARNING`].
        Warning = AES5_STATE_WARNING => "Warning",
        /// See [`AES5_STATE_ERROR`].
        Error = AES5_STATE_ERROR => "Error",
        /// See [`AES5_STATE_SHUTTING_DOWN`].
        ShuttingDown = AES5_STATE_SHUTTING_DOWN => "ShuttingDown",
        /// See [`AES5_STATE_SHUTDOWN`].
        Shutdown = AES5_STATE_SHUTDOWN => "Shutdown",
    }
}

/// Static, NUL-terminated name of a manager state ("Ready", ...; "unknown" out of range).
pub(crate) fn state_name(raw: Aes5ManagerState) -> &'static [u8] {
    match ManagerState::from_raw(raw) {
        Some(state) => state.text(),
        None => b"unknown\0",
    }
}
