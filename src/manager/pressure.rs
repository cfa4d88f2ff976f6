//! The Warning rule: when pressure starts and when it has ended. docs/DESIGN.md §2.3 states
//! the rule; this module is its only implementation.

use crate::manager::state_machine::{AES5_STATE_ACTIVE, AES5_STATE_WARNING};
use crate::manager::ManagerCore;
use crate::platform::atomics::{widen, CounterValue, Ordering};

/// Allocation attempts after which the Warning success-rate window restarts.
pub(crate) const WARNING_WINDOW_ATTEMPTS: u64 = 1024;

impl ManagerCore {
    /// True when `allocated` buffers put pool `pool` above 90 %.
    #[inline(always)]
    pub(crate) fn crowds(&self, pool: usize, allocated: u32) -> bool {
        self.pools.get(pool).is_some_and(|words| words.crowded_with(allocated))
    }

    /// Allocation attempts (successes + pool-empty failures) and failures, all pools.
    fn allocation_attempts(&self) -> (CounterValue, CounterValue) {
        let totals = self.pool_totals();
        (totals.attempts(), totals.failures)
    }

    /// Active → Warning, remembering where the success-rate window starts.
    #[cold]
    pub(crate) fn enter_warning(&self) {
        let (attempts, failures) = self.allocation_attempts();
        if self.change_state(AES5_STATE_ACTIVE, AES5_STATE_WARNING) {
            self.warning.attempts_at_entry.store(attempts, Ordering::Relaxed);
            self.warning.failures_at_entry.store(failures, Ordering::Relaxed);
        }
    }

    /// True when any pool is more than 90 % allocated.
    pub(crate) fn any_pool_crowded(&self) -> bool {
        self.pools.iter().any(|words| words.crowded_with(words.held()))
    }

    /// Warning → Active once the pressure has ended (docs/DESIGN.md §2.3). The success-rate
    /// window starts when Warning begins and restarts every `WARNING_WINDOW_ATTEMPTS`
    /// attempts.
    #[cold]
    pub(crate) fn maybe_leave_warning(&self) {
        let (attempts, failures) = self.allocation_attempts();
        let mut window = widen(attempts.wrapping_sub(self.warning.attempts_at_entry.load(Ordering::Relaxed)));
        let mut failed = widen(failures.wrapping_sub(self.warning.failures_at_entry.load(Ordering::Relaxed)));
        if window >= WARNING_WINDOW_ATTEMPTS {
            self.warning.attempts_at_entry.store(attempts, Ordering::Relaxed);
            self.warning.failures_at_entry.store(failures, Ordering::Relaxed);
            window = 0;
            failed = 0;
        }
        if self.any_pool_crowded() {
            return;
        }
        let succeeded = window.saturating_sub(failed);
        let required = u64::from(self.config.min_success_ppm).saturating_mul(window);
        if succeeded.saturating_mul(1_000_000) >= required {
            self.change_state(AES5_STATE_WARNING, AES5_STATE_ACTIVE);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::verification::test_fixture::*;

    /// Fills Scratch, has one allocation refused for an empty pool (Warning), and releases
    /// Scratch again: only the success rate keeps the manager in Warning.
    fn one_refusal_then_all_released(m: &ManagerCore) {
        let held: Vec<_> = (0..POOLS[2].count).map(|_| m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap()).collect();
        assert_eq!(m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()), Err(Status::PoolExhausted));
        for h in held {
            m.release(h.as_ptr()).unwrap();
        }
        assert_eq!(m.state(), AES5_STATE_WARNING);
    }

    #[test]
    fn warning_starts_above_90_percent_and_ends_when_pressure_ends() {
        let mut f = Fixture::new();
        let config = RuntimeConfig { min_success_rate: 0.95, ..RuntimeConfig::default() };
        let m = f.init(&config).unwrap();
        let cap = POOLS[2].count;
        let held: Vec<_> = (0..cap).map(|_| m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap()).collect();
        assert_eq!(m.state(), AES5_STATE_WARNING);
        assert_eq!(m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()), Err(Status::PoolExhausted));
        for h in held {
            m.release(h.as_ptr()).unwrap();
        }
        // One failure among the attempts since Warning began: 95 % needs 19 successes per failure.
        assert_eq!(m.state(), AES5_STATE_WARNING);
        let mut successes = 0;
        while m.state() == AES5_STATE_WARNING {
            let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
            m.release(h.as_ptr()).unwrap();
            successes += 1;
            assert!(successes < 100, "Warning never ended");
        }
        assert_eq!(m.state(), AES5_STATE_ACTIVE);
        assert!((17..=20).contains(&successes), "{successes}");
    }

    /// Releases change no success rate, so the attempt that brings the window's rate back to
    /// the minimum is an allocation, and Warning ends right there, while that buffer is held.
    #[test]
    fn the_allocation_that_restores_the_success_rate_ends_warning_at_once() {
        let mut f = Fixture::new();
        let config = RuntimeConfig { min_success_rate: 0.95, ..RuntimeConfig::default() };
        let m = f.init(&config).unwrap();
        one_refusal_then_all_released(m);
        let mut ended_by = None;
        for _ in 0..100 {
            let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
            let after_allocate = m.state();
            m.release(h.as_ptr()).unwrap();
            if after_allocate != AES5_STATE_WARNING {
                ended_by = Some("allocate");
                break;
            }
            if m.state() != AES5_STATE_WARNING {
                ended_by = Some("release");
                break;
            }
        }
        assert_eq!(ended_by, Some("allocate"));
        assert_eq!(m.state(), AES5_STATE_ACTIVE);
    }

    #[test]
    fn recovery_with_a_crowded_pool_returns_to_warning() {
        let mut f = Fixture::new();
        let m = f.init(&RuntimeConfig::default()).unwrap();
        let scratch: Vec<_> =
            (0..POOLS[2].count).map(|_| m.allocate(AES5_BUFFER_TYPE_SCRATCH, &pcm()).unwrap()).collect();
        assert_eq!(m.state(), AES5_STATE_WARNING);
        let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
        // SAFETY: held by the test; damaged on purpose.
        unsafe { (*h.as_ptr()).checksum ^= 1 };
        assert_eq!(m.release(h.as_ptr()), Err(Status::Corrupted));
        m.transition(AES5_STATE_READY).unwrap();
        let p = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
        assert_eq!(m.state(), AES5_STATE_WARNING, "Scratch is still full");
        m.release(p.as_ptr()).unwrap();
        drop(scratch);
    }

    #[test]
    fn with_a_perfect_success_rate_required_warning_ends_after_one_clean_window() {
        let mut f = Fixture::new();
        let config = RuntimeConfig { min_success_rate: 1.0, ..RuntimeConfig::default() };
        let m = f.init(&config).unwrap();
        one_refusal_then_all_released(m);
        let mut successes = 0u64;
        while m.state() == AES5_STATE_WARNING {
            let h = m.allocate(AES5_BUFFER_TYPE_PRIMARY, &pcm()).unwrap();
            m.release(h.as_ptr()).unwrap();
            successes += 1;
            assert!(successes <= 2 * WARNING_WINDOW_ATTEMPTS, "Warning never ended");
        }
        assert!(successes + POOLS[2].count as u64 + 1 >= WARNING_WINDOW_ATTEMPTS, "{successes}");
    }
}
