//! The clock hook: the integrator's `now_ns` callback, or the host's monotonic clock.

use core::ffi::c_void;

/// Clock callback: returns a monotonic time in nanoseconds. `context` is the configuration's
/// `clock_context`, passed through untouched. It must be callable from every context that
/// calls the library (threads and interrupt handlers) and must not call back into the library.
/// NULL (`None`) means no callback.
pub type Aes5ClockFn = Option<unsafe extern "C" fn(context: *mut c_void) -> u64>;

/// The clock a manager reads when performance monitoring is on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    pub now_ns: Aes5ClockFn,
    pub context: *mut c_void,
}

impl Clock {
    /// Reads the clock: the callback if one was configured, otherwise the host's monotonic
    /// clock on Linux and macOS, otherwise 0 (bare metal without a callback).
    #[inline]
    pub fn now(&self) -> u64 {
        match self.now_ns {
            // SAFETY: the integrator supplied this callback for exactly this use, with this
            // context (RuntimeConfig documentation); it takes no other arguments.
            Some(now) => unsafe { now(self.context) },
            None => hosted_now(),
        }
    }

    /// True when timing metrics can be produced (a callback, or a hosted clock).
    pub fn is_available(&self) -> bool {
        self.now_ns.is_some() || cfg!(any(target_os = "linux", target_os = "macos"))
    }
}

#[cfg(any(target_os = "linux", target_os = "macos"))]
fn hosted_now() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC exists on both systems.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64)
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn hosted_now() -> u64 {
    0
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    unsafe extern "C" fn fixed(context: *mut c_void) -> u64 {
        // SAFETY: the test passes a pointer to a live u64.
        unsafe { *(context as *const u64) }
    }

    #[test]
    fn the_callback_wins_and_gets_its_context() {
        let mut value = 1234u64;
        let clock = Clock { now_ns: Some(fixed), context: (&mut value as *mut u64).cast() };
        assert_eq!(clock.now(), 1234);
        assert!(clock.is_available());
    }

    #[test]
    fn the_hosted_clock_is_monotonic() {
        let clock = Clock { now_ns: None, context: core::ptr::null_mut() };
        let a = clock.now();
        let b = clock.now();
        assert!(a > 0 && b >= a);
    }
}
