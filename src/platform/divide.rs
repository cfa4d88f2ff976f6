//! 64-bit division for the readers (averages, frame durations) without the compiler's 64-bit
//! division routine, which on 32-bit Cortex-M would add most of a kilobyte of flash for a few
//! cold divisions.

/// `numerator / denominator`, 0 when the denominator is 0.
///
/// Hosts with 64-bit registers divide natively. Elsewhere, operands that fit in 32 bits take
/// the 32-bit division; larger ones a restoring long division of 64 steps (cold paths only).
#[inline]
pub(crate) fn divide(numerator: u64, denominator: u64) -> u64 {
    if denominator == 0 {
        return 0;
    }
    #[cfg(target_pointer_width = "64")]
    {
        numerator / denominator
    }
    #[cfg(not(target_pointer_width = "64"))]
    {
        long_divide(numerator, denominator)
    }
}

/// Out of line: one copy serves every cold caller.
#[cfg_attr(target_pointer_width = "64", allow(dead_code))]
#[inline(never)]
fn long_divide(numerator: u64, denominator: u64) -> u64 {
    if let (Ok(n), Ok(d)) = (u32::try_from(numerator), u32::try_from(denominator)) {
        return u64::from(n / d);
    }
    if denominator > u64::MAX / 2 {
        return u64::from(numerator >= denominator);
    }
    let mut quotient = 0u64;
    let mut remainder = 0u64;
    for bit in (0..64).rev() {
        remainder = (remainder << 1) | ((numerator >> bit) & 1);
        if remainder >= denominator {
            remainder -= denominator;
            quotient |= 1 << bit;
        }
    }
    quotient
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_long_division_agrees_with_the_native_one() {
        let values =
            [0u64, 1, 2, 3, 7, 1000, 1001, u32::MAX as u64, 1 << 32, (1 << 40) + 12345, u64::MAX / 3, u64::MAX];
        for &n in &values {
            for &d in &values[1..] {
                assert_eq!(long_divide(n, d), n / d, "{n} / {d}");
                assert_eq!(divide(n, d), n / d, "{n} / {d}");
            }
            assert_eq!(divide(n, 0), 0);
        }
    }
}
