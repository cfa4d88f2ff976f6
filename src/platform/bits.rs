//! Counting the set bits of a pool word, cheaply on cores without a population-count
//! instruction.

use crate::geometry::LARGEST_POOL;

/// Set bits of each 4-bit value.
const NIBBLE_ONES: [u8; 16] = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4];

/// Set bits of a pool word. With pools of at most 8 buffers (the default geometry) two
/// lookups in a 16-byte table, which is cheaper than the general bit count on cores without a
/// population-count instruction (all of Cortex-M, and the x86-64 baseline).
#[inline(always)]
pub(crate) fn count_ones(word: u32) -> u32 {
    if LARGEST_POOL <= 8 {
        u32::from(NIBBLE_ONES[(word & 0xF) as usize]) + u32::from(NIBBLE_ONES[((word >> 4) & 0xF) as usize])
    } else {
        word.count_ones()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_bit_count_agrees_with_the_library_one_for_every_pool_word() {
        let widest = if LARGEST_POOL >= 32 { u32::MAX } else { (1u32 << LARGEST_POOL) - 1 };
        for word in (0..=u32::from(u16::MAX)).chain([u32::MAX, 0x8000_0001]) {
            let word = word & widest;
            assert_eq!(count_ones(word), word.count_ones(), "{word:#x}");
        }
    }
}
