//! Writing structures in place, with no `memcpy` or `memset`: results into a caller's
//! out-parameter one field at a time, and the control block's all-zero parts at init.
//!
//! The readers (statistics, metrics, report) write each field straight into the structure the
//! caller passed, instead of building a copy and moving it: on Cortex-M a moved structure of
//! this size costs a call to `memcpy`, and building it from `Default` or zeroing it a call to
//! `memset`, which together are over a kilobyte of flash. Writing through a raw pointer also
//! never reads the caller's memory, which may be uninitialised.

/// Writes `$value` to the field `$field` of the structure `$out: *mut T` points to.
///
/// Use it only in an `unsafe fn` whose contract says `$out` is valid for writes and aligned.
macro_rules! put {
    ($out:expr, $field:ident, $value:expr) => {{
        let value = $value;
        // SAFETY: the enclosing function's contract: `$out` is valid for writes and aligned,
        // so each of its fields is.
        unsafe { core::ptr::addr_of_mut!((*$out).$field).write(value) }
    }};
}

pub(crate) use put;

/// A type whose initial value ([`ZeroInitial::initial`]) is all zero bytes, so init can
/// write it with [`write_initial`] as zero words instead of building it.
///
/// # Safety
/// `initial()` must be all zero bytes, with no padding; `manager::zero_initial_tests` checks each
/// implementation.
pub(crate) unsafe trait ZeroInitial: Sized {
    /// The value a new manager starts with (built by value only under loom and in tests).
    #[cfg_attr(not(any(test, loom)), allow(dead_code))]
    fn initial() -> Self;
}

/// Writes `T::initial()` to `*out`: on hardware as volatile zero words (volatile, so the
/// compiler cannot turn the loop into a call to `memset`); under loom, whose atomics are not
/// plain memory, by value.
///
/// # Safety
/// `out` must be valid for writes and aligned.
#[inline(always)]
pub(crate) unsafe fn write_initial<T: ZeroInitial>(out: *mut T) {
    #[cfg(not(loom))]
    {
        const { assert!(core::mem::size_of::<T>() % 4 == 0 && core::mem::align_of::<T>() >= 4) };
        // SAFETY: `out` is valid for writes of a `T`, aligned to at least 4 (asserted above).
        unsafe { zero_words(out.cast::<u32>(), core::mem::size_of::<T>() / 4) };
    }
    #[cfg(loom)]
    // SAFETY: as the caller's contract.
    unsafe {
        out.write(T::initial())
    };
}

/// Writes `count` zero words from `out` on, with volatile stores (never a call to `memset`).
///
/// # Safety
/// `out` must be valid for writes of `count` words and 4-aligned.
#[inline(always)]
pub(crate) unsafe fn zero_words(out: *mut u32, count: usize) {
    for index in 0..count {
        // SAFETY: `index` < `count`, inside the caller's region.
        unsafe { out.add(index).write_volatile(0) };
    }
}

#[cfg(all(test, not(loom)))]
pub(crate) mod tests {
    use super::*;

    /// True when `T::initial()` is all zero bytes (the trait's contract; each implementing
    /// module's tests call it for its types).
    pub(crate) fn initial_is_all_zero<T: ZeroInitial>() -> bool {
        let value = T::initial();
        // SAFETY: `value` is a live `T` of `size_of::<T>()` bytes with no padding (the trait's
        // contract, which this checks).
        let bytes =
            unsafe { core::slice::from_raw_parts((&value as *const T).cast::<u8>(), core::mem::size_of::<T>()) };
        bytes.iter().all(|&b| b == 0)
    }

    /// A type that breaks the trait's contract, to show the check can fail (never written
    /// with `write_initial`).
    struct NotZero(u32);

    // SAFETY: deliberately false; only `initial_is_all_zero` looks at it.
    unsafe impl ZeroInitial for NotZero {
        fn initial() -> Self {
            NotZero(1)
        }
    }

    #[test]
    fn the_check_refuses_a_type_that_does_not_start_as_zero() {
        assert_eq!(NotZero::initial().0, 1);
        assert!(!initial_is_all_zero::<NotZero>());
    }

    /// A zero-initial type of three words, for `write_initial`.
    struct Words([u32; 3]);

    // SAFETY: three zero words.
    unsafe impl ZeroInitial for Words {
        fn initial() -> Self {
            Words([0; 3])
        }
    }

    #[test]
    fn write_initial_overwrites_every_byte() {
        assert!(initial_is_all_zero::<Words>());
        let mut storage = core::mem::MaybeUninit::<Words>::uninit();
        // SAFETY: the storage is a Words' size; filling it with bytes is allowed.
        unsafe { storage.as_mut_ptr().cast::<u8>().write_bytes(0xA5, core::mem::size_of::<Words>()) };
        // SAFETY: a MaybeUninit is valid for writes.
        unsafe { write_initial(storage.as_mut_ptr()) };
        // SAFETY: every byte was written above.
        assert_eq!(unsafe { storage.assume_init() }.0, [0; 3]);
    }
}
