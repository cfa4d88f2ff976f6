//! The formats allocate has accepted before, so that a stream allocating the same format period
//! after period skips its validation: a comparison of four words instead of the checks of
//! every field, and the header checksum's format share read instead of computed.
//!
//! A small table of write-once entries, lock-free and interrupt-safe:
//! - a writer claims the next entry with one compare-and-swap on the count, fills it, and
//!   publishes it by storing its rate last, with release ordering. An entry never changes after
//!   that (until init), so a reader needs no retry and never sees a torn entry;
//! - a reader acquires an entry's rate and, when it is not 0, reads the rest. No AES5 rate is 0,
//!   so 0 marks an entry not published yet, and a format with rate 0 never matches one;
//! - when every entry is taken, other formats are validated on every call, as they were before
//!   the table existed. Formats are checked against the limits of this manager's configuration,
//!   which only init changes, and init empties the table.

use crate::geometry::ACCEPTED_FORMATS;
use crate::platform::atomics::{AtomicU32, Ordering};
use crate::platform::in_place::ZeroInitial;
use crate::types::format::AudioFormat;
use crate::types::header::{format_digest, FormatWords, PreparedFormat};

/// A caller's format as four words that compare exactly: every field of `AudioFormat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FormatKey {
    rate: u32,
    /// `channel_count | sample_size_bits << 16` (the header's word).
    channels_bits: u32,
    /// `frame_size_samples | sample_packing << 16 | sample_encoding << 24`.
    frame_packing: u32,
    /// `rate_pull`.
    pull: u32,
}

impl FormatKey {
    /// The key of `format`.
    #[inline(always)]
    pub(crate) fn of(format: &AudioFormat) -> Self {
        FormatKey {
            rate: format.sample_rate_hz,
            channels_bits: u32::from(format.channel_count) | u32::from(format.sample_size_bits) << 16,
            frame_packing: u32::from(format.frame_size_samples)
                | u32::from(format.sample_packing) << 16
                | u32::from(format.sample_encoding) << 24,
            pull: u32::from(format.rate_pull),
        }
    }

    /// The header words of a buffer of `buffer_type` carrying this format.
    #[inline(always)]
    pub(crate) fn words(&self, buffer_type: u8) -> FormatWords {
        FormatWords {
            rate: self.rate,
            channels_bits: self.channels_bits,
            frame: self.frame_packing & 0xFFFF,
            container: self.frame_packing >> 16 | self.pull << 16 | u32::from(buffer_type) << 24,
        }
    }
}

/// Where the pull starts in an entry's `bytes_pull`: below it, the bytes.
const PULL_SHIFT: u32 = 24;

// The largest format's bytes fit below the pull.
static_assertions::const_assert!(
    (crate::types::format::AES5_MAX_CHANNELS * crate::types::format::AES5_MAX_FRAME_SIZE_SAMPLES * 4) < 1 << PULL_SHIFT
);

/// One accepted format.
struct Entry {
    /// The key's rate; 0 until the entry is published (stored last, with release ordering).
    rate: AtomicU32,
    channels_bits: AtomicU32,
    frame_packing: AtomicU32,
    /// `bytes | pull << 24`: the bytes one buffer needs, and the key's pull.
    bytes_pull: AtomicU32,
    /// The format digest of the words for buffer type 0; a type enters it by exclusive or.
    digest: AtomicU32,
}

/// The table: the number of entries claimed, and the entries.
pub(crate) struct AcceptedFormats {
    claimed: AtomicU32,
    entries: [Entry; ACCEPTED_FORMATS],
}

// SAFETY: a zero count and zero entries, all unpublished (tested in
// `manager::zero_initial_tests`).
unsafe impl ZeroInitial for AcceptedFormats {
    fn initial() -> Self {
        let entry = || Entry {
            rate: AtomicU32::new(0),
            channels_bits: AtomicU32::new(0),
            frame_packing: AtomicU32::new(0),
            bytes_pull: AtomicU32::new(0),
            digest: AtomicU32::new(0),
        };
        AcceptedFormats { claimed: AtomicU32::new(0), entries: core::array::from_fn(|_| entry()) }
    }
}

impl AcceptedFormats {
    /// The prepared format for `key` and `buffer_type`, if the format was accepted before.
    #[inline(always)]
    pub(crate) fn find(&self, key: &FormatKey, buffer_type: u8) -> Option<PreparedFormat> {
        for entry in &self.entries {
            // Acquire: pairs with the release that published the entry, so the words below
            // are the writer's.
            let rate = entry.rate.load(Ordering::Acquire);
            if rate == 0 {
                // Entries are claimed in order: the rest are (almost always) empty too. One
                // published out of order is only missed, and the format validated again.
                return None;
            }
            if rate == key.rate
                && entry.channels_bits.load(Ordering::Relaxed) == key.channels_bits
                && entry.frame_packing.load(Ordering::Relaxed) == key.frame_packing
            {
                let bytes_pull = entry.bytes_pull.load(Ordering::Relaxed);
                if bytes_pull >> PULL_SHIFT == key.pull {
                    let words = key.words(buffer_type);
                    let digest = entry.digest.load(Ordering::Relaxed) ^ u32::from(buffer_type) << 24;
                    return Some(PreparedFormat { words, digest, bytes: bytes_pull & ((1 << PULL_SHIFT) - 1) });
                }
            }
        }
        None
    }

    /// Remembers `key`, validated just now and needing `bytes`, unless the table is full.
    pub(crate) fn remember(&self, key: &FormatKey, bytes: u32) {
        // Relaxed: the count only hands out entries, each to exactly one writer (a
        // compare-and-swap's value is unique in the count's modification order); what a reader
        // needs ordered is published by the entry's own rate. A failed claim means another
        // writer took that entry: try the next one (at most `ACCEPTED_FORMATS` times in all).
        let mut claimed = self.claimed.load(Ordering::Relaxed);
        let entry = loop {
            let Some(entry) = self.entries.get(claimed as usize) else {
                return;
            };
            match self.claimed.compare_exchange(claimed, claimed + 1, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break entry,
                Err(now) => claimed = now,
            }
        };
        entry.channels_bits.store(key.channels_bits, Ordering::Relaxed);
        entry.frame_packing.store(key.frame_packing, Ordering::Relaxed);
        entry.bytes_pull.store(bytes | key.pull << PULL_SHIFT, Ordering::Relaxed);
        entry.digest.store(format_digest(&key.words(0)), Ordering::Relaxed);
        entry.rate.store(key.rate, Ordering::Release);
    }

    /// Entries published.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn published(&self) -> usize {
        self.entries.iter().filter(|entry| entry.rate.load(Ordering::Acquire) != 0).count()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::types::format::{AES5_ENCODING_FLOAT, AES5_PACKING_PACKED_24, AES5_RATE_PULL_DOWN};
    use crate::types::header::checksum;

    fn table() -> AcceptedFormats {
        AcceptedFormats::initial()
    }

    #[test]
    fn a_remembered_format_is_found_with_the_words_digest_and_bytes_of_a_validation() {
        let t = table();
        let format = AudioFormat { rate_pull: AES5_RATE_PULL_DOWN, ..AudioFormat::pcm(48_000, 2, 24, 256) };
        let key = FormatKey::of(&format);
        assert_eq!(t.find(&key, 0), None);
        t.remember(&key, 2048);
        if ACCEPTED_FORMATS == 0 {
            assert_eq!(t.find(&key, 0), None, "a build without the table remembers nothing");
            return;
        }
        for buffer_type in 0..3u8 {
            let found = t.find(&key, buffer_type).expect("remembered");
            assert_eq!(found, PreparedFormat::new(key.words(buffer_type), 2048));
            assert_eq!(found.words, FormatWords::of(&format, buffer_type));
            // The digest is the checksum's format share for this type.
            assert_eq!(checksum(5, 9, &found.words), checksum(5, 9, &FormatWords::of(&format, buffer_type)));
        }
    }

    #[test]
    fn a_format_differing_in_any_field_is_not_found() {
        let t = table();
        let base = AudioFormat::pcm(48_000, 2, 24, 256);
        t.remember(&FormatKey::of(&base), 2048);
        if ACCEPTED_FORMATS == 0 {
            assert_eq!(t.published(), 0, "a build without the table remembers nothing");
            return;
        }
        let variants = [
            AudioFormat { sample_rate_hz: 96_000, ..base },
            AudioFormat { channel_count: 1, ..base },
            AudioFormat { sample_size_bits: 32, ..base },
            AudioFormat { frame_size_samples: 255, ..base },
            AudioFormat { sample_packing: AES5_PACKING_PACKED_24, ..base },
            AudioFormat { sample_encoding: AES5_ENCODING_FLOAT, ..base },
            AudioFormat { rate_pull: 1, ..base },
        ];
        for variant in variants {
            assert_eq!(t.find(&FormatKey::of(&variant), 0), None, "{variant:?}");
        }
        assert!(t.find(&FormatKey::of(&base), 0).is_some());
    }

    #[test]
    fn the_table_keeps_the_first_formats_and_refuses_no_one_when_full() {
        let t = table();
        let formats: std::vec::Vec<_> =
            (1..=ACCEPTED_FORMATS as u16 + 2).map(|ch| AudioFormat::pcm(48_000, ch, 16, 64)).collect();
        for (n, format) in formats.iter().enumerate() {
            t.remember(&FormatKey::of(format), 128 * (n as u32 + 1));
        }
        assert_eq!(t.published(), ACCEPTED_FORMATS);
        for (n, format) in formats.iter().enumerate() {
            let found = t.find(&FormatKey::of(format), 1);
            if n < ACCEPTED_FORMATS {
                assert_eq!(found.map(|f| f.bytes), Some(128 * (n as u32 + 1)));
            } else {
                assert_eq!(found, None, "the table was full");
            }
        }
    }

    #[test]
    fn an_empty_entry_never_matches_a_zeroed_format() {
        let t = table();
        assert_eq!(t.find(&FormatKey::of(&AudioFormat::default()), 0), None);
        t.remember(&FormatKey::of(&AudioFormat::pcm(44_100, 1, 16, 1)), 2);
        assert_eq!(t.find(&FormatKey::of(&AudioFormat::default()), 0), None);
    }
}
