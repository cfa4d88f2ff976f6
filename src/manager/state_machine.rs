//! The manager state machine of docs/DESIGN.md §2: which calls each state allows, and the
//! legal edges. The states themselves are a value type (`types::manager_state`).

pub use crate::types::manager_state::*;

impl ManagerState {
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

    /// The edge table of docs/DESIGN.md §2.2: true when `from → to` is a legal edge. Every
    /// state change goes through `ManagerCore::change_state`, which checks it in debug builds.
    pub const fn is_legal_transition(from: u32, to: u32) -> bool {
        matches!(
            (from, to),
            (AES5_STATE_UNINITIALIZED | AES5_STATE_SHUTDOWN, AES5_STATE_INITIALIZING)
                | (AES5_STATE_INITIALIZING, AES5_STATE_READY | AES5_STATE_ERROR)
                | (AES5_STATE_READY, AES5_STATE_ACTIVE)
                | (AES5_STATE_ACTIVE, AES5_STATE_WARNING)
                | (AES5_STATE_WARNING, AES5_STATE_ACTIVE)
                | (AES5_STATE_READY | AES5_STATE_ACTIVE | AES5_STATE_WARNING, AES5_STATE_ERROR)
                | (AES5_STATE_ERROR, AES5_STATE_READY)
                | (
                    AES5_STATE_READY | AES5_STATE_ACTIVE | AES5_STATE_WARNING | AES5_STATE_ERROR,
                    AES5_STATE_SHUTTING_DOWN
                )
                | (AES5_STATE_SHUTTING_DOWN, AES5_STATE_SHUTDOWN)
        )
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn raw_values_round_trip_and_out_of_range_is_refused() {
        for raw in 0..8 {
            assert_eq!(ManagerState::from_raw(raw).map(|s| s as u32), Some(raw));
        }
        assert_eq!(ManagerState::from_raw(8), None);
        assert_eq!(ManagerState::from_raw(0xFFFF_FFFF), None);
    }

    #[test]
    fn transition_table_has_exactly_the_designed_edges() {
        use ManagerState::*;
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
        for from in ManagerState::ALL {
            for to in ManagerState::ALL {
                assert_eq!(
                    ManagerState::is_legal_transition(from as u32, to as u32),
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

    #[test]
    fn names_are_the_variant_names() {
        for state in ManagerState::ALL {
            assert_eq!(state_name(state as u32), std::format!("{state:?}\0").as_bytes());
        }
        assert_eq!(state_name(8), b"unknown\0");
    }
}
