//! What the core needs from the machine, in one place: atomics (and their critical-section
//! form on cores without compare-and-swap), torn-free 64-bit values on 32-bit cores, the
//! clock, bit counting, division without the compiler's 64-bit routine, in-place writes, and the panic
//! handler.

pub(crate) mod atomics;
pub(crate) mod bits;
pub(crate) mod clock;
#[cfg(not(target_has_atomic = "32"))]
pub(crate) mod critical_section;
pub(crate) mod divide;
pub(crate) mod in_place;
#[cfg(all(not(test), not(feature = "std")))]
mod panic;
pub(crate) mod wide_sum;
