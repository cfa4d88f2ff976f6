//! Guard zones: words around every buffer's data area that only the library writes, so that a
//! DMA or a loop writing past a buffer's end (or before its start) is caught.
//!
//! The data region (`geometry`) is a guard zone, then each buffer's data followed by a guard
//! zone of at least `AES5_GUARD_BYTES` (it takes the padding up to the next buffer's aligned
//! data too), so one zone lies between any two neighbouring buffers and one before the first.
//! Init fills every zone word with [`guard_word`]: a value derived from the manager's
//! identity check (which mixes its address) and the word's own offset in the data region, so
//! a zone copied from elsewhere, a zero fill and an 0xFF fill all fail the check.
//!
//! **At every hand-off** (release, enqueue, validate) the two words adjacent to the buffer's
//! own data are checked: the first word after its end and the last word before its start. A
//! contiguous overrun of the buffer, however short, changes the first; a contiguous underrun
//! the second. **Attribution is by adjacency**: the word after buffer k's end blames k (an
//! overrun of k; it lies in the zone k shares with k + 1), the word before k's start blames k
//! (an underrun of k). A write that runs through a whole zone into the neighbour's data also
//! changes the word adjacent to the neighbour, so the neighbour is caught at its own hand-off;
//! a write that stopped inside the zone left the neighbour's data untouched, so the neighbour
//! is spared. The integrity sweep (`integrity`) checks every word of every zone.
//!
//! What guards cannot catch: a write that skips over the zone (an index far off), and a write
//! inside a buffer's own data.

use crate::geometry::{SlotPlace, GUARD_BYTES, LEAD_BYTES, POOLS, SLOT_PLACES, TOTAL_SLOTS};
use crate::manager::ManagerCore;

/// Which guard word adjacent to a buffer's data was found changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GuardDamage {
    /// The first word after the data area: the buffer was overrun.
    AfterEnd,
    /// The last word before the data area: the buffer was underrun.
    BeforeStart,
}

/// `value` with bit 0 set and bit 1 clear: the manager's identity check is made so, and so is
/// the per-manager part of every guard word (it mixes the manager's address).
#[inline(always)]
pub(crate) const fn guard_seed(identity_check: u32) -> u32 {
    (identity_check | 1) & !2
}

/// The multiplier of the guard words: odd, so `offset * GUARD_MULTIPLIER` is distinct for every
/// byte offset of the data region.
const GUARD_MULTIPLIER: u32 = 0x9E37_79B1;

/// The guard word at byte `offset` of the data region of the manager whose identity check is
/// `seed`: `seed - offset * GUARD_MULTIPLIER`. `offset` is a multiple of 4, so the product's two
/// low bits are clear and the difference keeps the seed's bit 0 set and bit 1 clear: no guard
/// word is all zeros or all ones. The product is distinct for every offset, so no two words of
/// a manager are equal and a zone copied from anywhere else fails too.
#[inline(always)]
pub(crate) const fn guard_word(seed: u32, offset: u32) -> u32 {
    seed.wrapping_sub(offset.wrapping_mul(GUARD_MULTIPLIER))
}

/// What a guard word `word` read at `offset` gives back once its offset part is added again:
/// the seed when the word is intact (one multiply-accumulate on Cortex-M, with the multiplier
/// the header checksum also uses).
#[inline(always)]
const fn seed_in(word: u32, offset: u32) -> u32 {
    word.wrapping_add(offset.wrapping_mul(GUARD_MULTIPLIER))
}

/// One guard zone: the byte range `[start, end)` of the data region, and the buffers on its
/// two sides (`None` before the first and after the last buffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GuardZone {
    pub start: usize,
    pub end: usize,
    pub before: Option<usize>,
    pub after: Option<usize>,
}

/// Guard zone `zone` (0 ..= `TOTAL_SLOTS`): zone k lies before buffer k's data and after buffer
/// k − 1's.
pub(crate) fn zone(zone: usize) -> Option<GuardZone> {
    if GUARD_BYTES == 0 || zone > TOTAL_SLOTS {
        return None;
    }
    let before = zone.checked_sub(1);
    let start = match before.and_then(|slot| SLOT_PLACES.get(slot)) {
        Some(place) => (place.data_offset + place.capacity) as usize,
        None => 0,
    };
    let end = match SLOT_PLACES.get(zone) {
        Some(place) => place.data_offset as usize,
        // After the last buffer: the rest of its stride.
        None => {
            let last = SLOT_PLACES.get(TOTAL_SLOTS - 1)?;
            last.data_offset as usize + POOLS.get(usize::from(last.pool))?.stride
        }
    };
    let after = (zone < TOTAL_SLOTS).then_some(zone);
    Some(GuardZone { start, end, before, after })
}

impl ManagerCore {
    /// Writes every guard word (init, with the data region's bytes still the caller's).
    ///
    /// # Safety
    /// `data_base` must be the manager's data region, valid for writes of its whole size.
    pub(crate) unsafe fn write_guards(data_base: *mut u8, seed: u32) {
        for index in 0..=TOTAL_SLOTS {
            let Some(zone) = zone(index) else { continue };
            let mut offset = zone.start;
            while offset + 4 <= zone.end {
                // SAFETY: the zone lies inside the data region (layout), 4-aligned (capacities
                // and guard sizes are multiples of 4, the region is aligned).
                unsafe { data_base.add(offset).cast::<u32>().write_volatile(guard_word(seed, offset as u32)) };
                offset += 4;
            }
        }
    }

    /// Checks the two guard words adjacent to the data of the buffer at `place`.
    #[inline(always)]
    pub(crate) fn check_guard_edges(&self, place: &SlotPlace) -> Result<(), GuardDamage> {
        if GUARD_BYTES == 0 {
            return Ok(());
        }
        let seed = self.identity_check;
        let end = place.data_offset + place.capacity;
        let before = place.data_offset.wrapping_sub(4);
        // SAFETY: both words are guard words inside the data region: the zone after a buffer
        // holds at least AES5_GUARD_BYTES (>= 4 here) from the end of its capacity, and the zone
        // before it as many up to its data (the first buffer's zone is the region's start).
        let (after_word, before_word) = unsafe {
            let base = self.data_base as *const u8;
            (
                base.add(end as usize).cast::<u32>().read_volatile(),
                base.add(before as usize).cast::<u32>().read_volatile(),
            )
        };
        let after_intact = seed_in(after_word, end) == seed;
        if after_intact && seed_in(before_word, before) == seed {
            Ok(())
        } else if !after_intact {
            Err(GuardDamage::AfterEnd)
        } else {
            Err(GuardDamage::BeforeStart)
        }
    }

    /// The words of guard zone `zone` that differ from what init wrote: `(first word changed,
    /// last word changed, any word changed)`.
    pub(crate) fn zone_damage(&self, zone: &GuardZone) -> (bool, bool, bool) {
        let seed = self.identity_check;
        let base = self.data_base as *const u8;
        let (mut first, mut last, mut any) = (false, false, false);
        let mut offset = zone.start;
        while offset + 4 <= zone.end {
            // SAFETY: a guard word inside the data region (as in `write_guards`).
            let word = unsafe { base.add(offset).cast::<u32>().read_volatile() };
            if word != guard_word(seed, offset as u32) {
                any = true;
                first |= offset == zone.start;
                last |= offset + 4 == zone.end;
            }
            offset += 4;
        }
        (first, last, any)
    }
}

/// The number of guard words, for the reports.
pub(crate) const fn guard_words() -> usize {
    if GUARD_BYTES == 0 {
        return 0;
    }
    let mut words = LEAD_BYTES / 4;
    let mut pool = 0;
    while pool < POOLS.len() {
        words += POOLS[pool].count * (POOLS[pool].stride - POOLS[pool].capacity) / 4;
        pool += 1;
    }
    words
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn no_guard_word_is_a_fill_and_neighbours_differ() {
        for seed in [0, 1, 0xFFFF_FFFF, 0x4145_534D, 0x1234_5678].map(guard_seed) {
            for offset in (0..65_536u32).step_by(4) {
                let w = guard_word(seed, offset);
                // Bit 0 set and bit 1 clear in every word, whatever the seed and offset: the
                // reason no word can be a zero or 0xFF fill.
                assert_eq!(w & 3, 1, "seed {seed:#x} offset {offset}");
                assert!(w != 0 && w != u32::MAX, "seed {seed:#x} offset {offset}");
                assert_ne!(w, guard_word(seed, offset + 4));
                assert_ne!(w, guard_word(seed, offset + 2080), "a copy from the next zone would pass");
            }
        }
        assert_ne!(guard_word(guard_seed(1), 64), guard_word(guard_seed(4), 64), "the seed matters");
    }

    #[test]
    fn the_zones_cover_the_gaps_between_buffers_and_nothing_else() {
        if GUARD_BYTES == 0 {
            assert_eq!(zone(0), None);
            return;
        }
        let mut covered = 0;
        for index in 0..=TOTAL_SLOTS {
            let z = zone(index).unwrap();
            assert!(z.end >= z.start + GUARD_BYTES, "zone {index} is too short: {z:?}");
            assert_eq!(z.start % 4, 0);
            if let Some(after) = z.after {
                assert_eq!(z.end, SLOT_PLACES[after].data_offset as usize);
            }
            if let Some(before) = z.before {
                let p = SLOT_PLACES[before];
                assert_eq!(z.start, (p.data_offset + p.capacity) as usize);
            }
            covered += (z.end - z.start) / 4;
        }
        assert_eq!(covered, guard_words());
        assert_eq!(zone(TOTAL_SLOTS + 1), None);
        assert_eq!(zone(TOTAL_SLOTS).unwrap().end, crate::geometry::DATA_REGION_BYTES);
    }
}
