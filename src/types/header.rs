//! The buffer header handed to callers: identity, format, data pointer, timing, and the
//! magic number and checksum that detect damage.

use crate::platform::in_place::put;
use crate::types::format::AudioFormat;

/// Magic number of an intact buffer header: ASCII "AES5".
pub const AES5_BUFFER_MAGIC: u32 = 0x4145_5335;

/// Header of one audio buffer: its identity, format, data pointer and timing, and the magic
/// number and checksum that detect damage.
///
/// The library owns and checksums the identity (`buffer_id`, `buffer_type`,
/// `sequence_number`), the format fields, `buffer_capacity_bytes`, `data_pointer` and
/// `magic_number`; a write to any of them, or `data_size_bytes` above the capacity, makes the
/// buffer count as corrupted (`validate_buffer` reports it, `release` quarantines it).
/// Callers may write `data_size_bytes` (at most `buffer_capacity_bytes`), `buffer_flags`,
/// `timestamp_ns`, `processing_start_ns` and `processing_count`. `allocation_time_ns` is
/// written by the library at allocation and read back for hold-time statistics; it is not
/// checksummed, so a stray write to it only skews `average_hold_time_ns`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AudioBuffer {
    /// Manager-wide index of this buffer, fixed for the life of the manager.
    pub buffer_id: u32,
    /// Allocations of this buffer since init, this one included (1, 2, ...).
    pub sequence_number: u32,
    /// Caller's timestamp of the audio in this buffer, in nanoseconds (0 after allocation).
    pub timestamp_ns: u64,
    /// Format: nominal sampling frequency in Hz.
    pub sample_rate_hz: u32,
    /// Format: channels per frame.
    pub channel_count: u16,
    /// Format: bits per sample (16, 24, 32).
    pub sample_size_bits: u16,
    /// Format: samples per channel.
    pub frame_size_samples: u16,
    /// Caller's status and control flags (0 after allocation).
    pub buffer_flags: u16,
    /// Format: `AES5_PACKING_*`.
    pub sample_packing: u8,
    /// Format: `AES5_ENCODING_*`.
    pub sample_encoding: u8,
    /// Format: `AES5_RATE_PULL_*`.
    pub rate_pull: u8,
    /// The `aes5_buffer_type_t` of the pool this buffer belongs to.
    pub buffer_type: u8,
    /// Bytes of valid audio in the buffer; set to the format's size at allocation. The caller
    /// may change it, up to `buffer_capacity_bytes`.
    pub data_size_bytes: usize,
    /// Bytes the buffer's data area holds.
    pub buffer_capacity_bytes: usize,
    /// The audio data, aligned to `AES5_DATA_ALIGNMENT` bytes.
    pub data_pointer: *mut u8,
    /// Clock reading when the buffer was allocated (0 when monitoring is off or no clock).
    pub allocation_time_ns: u64,
    /// Caller's processing start timestamp (0 after allocation).
    pub processing_start_ns: u64,
    /// Caller's count of processing operations (0 after allocation).
    pub processing_count: u32,
    /// Checksum of the library-owned fields.
    pub checksum: u32,
    /// `AES5_BUFFER_MAGIC` while the header is intact.
    pub magic_number: u32,
}

impl Default for AudioBuffer {
    fn default() -> Self {
        AudioBuffer {
            buffer_id: 0,
            sequence_number: 0,
            timestamp_ns: 0,
            sample_rate_hz: 0,
            channel_count: 0,
            sample_size_bits: 0,
            frame_size_samples: 0,
            buffer_flags: 0,
            sample_packing: 0,
            sample_encoding: 0,
            rate_pull: 0,
            buffer_type: 0,
            data_size_bytes: 0,
            buffer_capacity_bytes: 0,
            data_pointer: core::ptr::null_mut(),
            allocation_time_ns: 0,
            processing_start_ns: 0,
            processing_count: 0,
            checksum: 0,
            magic_number: 0,
        }
    }
}

/// The fixed identity of a slot, known to the library independently of the header's contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotIdentity {
    pub buffer_id: u32,
    pub buffer_type: u8,
    pub capacity: usize,
    pub data: *mut u8,
}

const MIX: u32 = 0x9E37_79B1;

/// The per-allocation words of a header, as the header stores them: the rate; channels and
/// bits; the frame size (the caller's `buffer_flags` share its word and are left out); and
/// packing, encoding, pull and buffer type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FormatWords {
    pub rate: u32,
    pub channels_bits: u32,
    pub frame: u32,
    pub container: u32,
}

impl FormatWords {
    /// The words a header of `buffer_type` carrying `format` holds (allocate builds them from
    /// its accepted-format key; the tests from the format).
    #[cfg(all(test, not(loom)))]
    pub(crate) const fn of(format: &AudioFormat, buffer_type: u8) -> Self {
        FormatWords {
            rate: format.sample_rate_hz,
            channels_bits: format.channel_count as u32 | (format.sample_size_bits as u32) << 16,
            frame: format.frame_size_samples as u32,
            container: format.sample_packing as u32
                | (format.sample_encoding as u32) << 8
                | (format.rate_pull as u32) << 16
                | (buffer_type as u32) << 24,
        }
    }
}

/// A format ready to stamp into a header: its words, their checksum share, and the bytes one
/// buffer of it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PreparedFormat {
    pub words: FormatWords,
    /// `format_digest(&words)`.
    pub digest: u32,
    pub bytes: u32,
}

impl PreparedFormat {
    /// `words`, validated just now and needing `bytes`.
    #[inline(always)]
    pub(crate) const fn new(words: FormatWords, bytes: u32) -> Self {
        PreparedFormat { words, digest: format_digest(&words), bytes }
    }
}

/// A bijection of the checksum state whose output difference depends on the state itself:
/// multiply, swap the halves, multiply. A change in any bit (the top bit included, which one
/// multiply alone carries unchanged) comes out spread over many bits by the second multiply's
/// carries, so a later word cannot cancel it with a simple pattern of flipped bits.
#[inline(always)]
const fn scramble(x: u32) -> u32 {
    x.wrapping_mul(MIX).rotate_left(16).wrapping_mul(MIX)
}

/// The format words' share of a header checksum: `state = scramble(state) ^ word`, from the
/// scrambled rate. Every step is a bijection of the word and of the state before it, so a
/// change confined to any one word always changes the digest. The buffer type enters last, by
/// exclusive or, in the container word's top byte: the digest of a format for type `t` is the
/// digest for type 0 with `t << 24` xored in (what allocate's accepted-format table keeps).
#[inline(always)]
pub(crate) const fn format_digest(words: &FormatWords) -> u32 {
    let mut state = scramble(words.rate) ^ words.channels_bits;
    state = scramble(state) ^ words.frame;
    scramble(state) ^ words.container
}

/// The allocation's share of a header checksum: the buffer's id and its sequence number,
/// scrambled together (a bijection of each given the other).
#[inline(always)]
pub(crate) const fn allocation_mix(buffer_id: u32, sequence: u32) -> u32 {
    scramble(buffer_id.wrapping_mul(MIX) ^ sequence)
}

/// Checksum of the per-allocation fields a header carries (sequence number and format words),
/// seeded by the buffer's id: the format's digest xored with the allocation's mix.
///
/// Each share is a bijection of each of its fields, so a change confined to any one field
/// always changes the checksum. A change to several fields goes unnoticed only when the
/// scrambled differences they make cancel: about one chance in 2^32 for stray writes, where a
/// sum of rotated words (linear in every bit) was cancelled by two flipped bits. Split in two
/// shares so that allocate takes the format's from its table of accepted formats and scrambles
/// only the allocation's. The fixed identity (id, type, capacity, data pointer, magic) is
/// compared field by field, not checksummed.
#[inline(always)]
pub(crate) const fn checksum(buffer_id: u32, sequence: u32, words: &FormatWords) -> u32 {
    format_digest(words) ^ allocation_mix(buffer_id, sequence)
}

/// Reads one field of a header that another context may be writing (a caller misusing the
/// buffer): a volatile read, so the check judges the bytes exactly once each.
macro_rules! read_field {
    ($header:expr, $field:ident) => {
        // SAFETY: the caller of `is_intact_at` guarantees the header is readable.
        unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*$header).$field)) }
    };
}

/// Reads the 32-bit word of a header that starts at `$field` (4-aligned, proved below).
macro_rules! read_word {
    ($header:expr, $field:ident) => {
        // SAFETY: as `read_field`; the word lies inside the header and is 4-aligned.
        u32::from_le(unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*$header).$field).cast::<u32>()) })
    };
}

// The words the checksum reads: little-endian composition of these fields, 4-aligned.
static_assertions::const_assert!(core::mem::offset_of!(AudioBuffer, channel_count) % 4 == 0);
static_assertions::const_assert!(
    core::mem::offset_of!(AudioBuffer, sample_size_bits) == core::mem::offset_of!(AudioBuffer, channel_count) + 2
);
static_assertions::const_assert!(core::mem::offset_of!(AudioBuffer, frame_size_samples) % 4 == 0);
static_assertions::const_assert!(
    core::mem::offset_of!(AudioBuffer, buffer_flags) == core::mem::offset_of!(AudioBuffer, frame_size_samples) + 2
);
static_assertions::const_assert!(core::mem::offset_of!(AudioBuffer, sample_packing) % 4 == 0);
static_assertions::const_assert!(
    core::mem::offset_of!(AudioBuffer, sample_encoding) == core::mem::offset_of!(AudioBuffer, sample_packing) + 1
);
static_assertions::const_assert!(
    core::mem::offset_of!(AudioBuffer, rate_pull) == core::mem::offset_of!(AudioBuffer, sample_packing) + 2
);
static_assertions::const_assert!(
    core::mem::offset_of!(AudioBuffer, buffer_type) == core::mem::offset_of!(AudioBuffer, sample_packing) + 3
);

impl AudioBuffer {
    /// The format recorded in the header.
    #[inline(always)]
    pub fn format(&self) -> AudioFormat {
        AudioFormat {
            sample_rate_hz: self.sample_rate_hz,
            channel_count: self.channel_count,
            sample_size_bits: self.sample_size_bits,
            frame_size_samples: self.frame_size_samples,
            sample_packing: self.sample_packing,
            sample_encoding: self.sample_encoding,
            rate_pull: self.rate_pull,
        }
    }

    /// A header for `identity` as initialisation leaves it (no allocation yet): zeros and the
    /// identity, written as init writes it.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn fresh(identity: &SlotIdentity) -> AudioBuffer {
        let mut header = AudioBuffer::default();
        // SAFETY: a reference is valid for writes.
        unsafe { Self::write_identity(&mut header, identity) };
        header
    }

    /// Writes the fixed identity into the header at `header`, field by field (init, over a
    /// zeroed header).
    ///
    /// # Safety
    /// `header` must be valid for writes and aligned.
    pub(crate) unsafe fn write_identity(header: *mut AudioBuffer, identity: &SlotIdentity) {
        put!(header, buffer_id, identity.buffer_id);
        put!(header, buffer_type, identity.buffer_type);
        put!(header, buffer_capacity_bytes, identity.capacity);
        put!(header, data_pointer, identity.data);
        put!(header, magic_number, AES5_BUFFER_MAGIC);
        // An intact free header from the start: the integrity sweep checks free headers.
        put!(header, checksum, Self::fresh_checksum(identity));
    }

    /// Writes the fixed identity again (allocation with validation off, where a damaged
    /// header was never checked on release: the next owner still gets the true identity).
    #[inline(always)]
    pub(crate) fn restore_identity(&mut self, identity: &SlotIdentity) {
        self.buffer_id = identity.buffer_id;
        self.buffer_type = identity.buffer_type;
        self.buffer_capacity_bytes = identity.capacity;
        self.data_pointer = identity.data;
        self.magic_number = AES5_BUFFER_MAGIC;
    }

    /// Stamps a new allocation into the header: the per-allocation fields only (the identity
    /// was written at init and is verified on every release). The format goes in as the
    /// header's own words (which also zeroes `buffer_flags` and rewrites `buffer_type`). Only
    /// the new owner calls this, before the buffer is published.
    #[inline(always)]
    pub(crate) fn stamp(&mut self, buffer_id: u32, sequence: u32, format: &PreparedFormat, now_ns: u64) {
        let header: *mut AudioBuffer = self;
        let words = &format.words;
        // SAFETY: `header` comes from `&mut self`, so the writes are exclusive; each word lies
        // inside the header at a 4-aligned offset (proved above) and the header is 8-aligned.
        unsafe {
            core::ptr::addr_of_mut!((*header).channel_count).cast::<u32>().write(words.channels_bits.to_le());
            core::ptr::addr_of_mut!((*header).frame_size_samples).cast::<u32>().write(words.frame.to_le());
            core::ptr::addr_of_mut!((*header).sample_packing).cast::<u32>().write(words.container.to_le());
        }
        self.sample_rate_hz = words.rate;
        self.sequence_number = sequence;
        self.timestamp_ns = 0;
        self.data_size_bytes = format.bytes as usize;
        self.allocation_time_ns = now_ns;
        self.processing_start_ns = 0;
        self.processing_count = 0;
        self.checksum = format.digest ^ allocation_mix(buffer_id, sequence);
    }

    /// True when the header at `header` has its magic, its fixed identity, a checksum that
    /// matches its sequence number and format, and `data_size_bytes` within the capacity.
    ///
    /// # Safety
    /// `header` must be valid for reads (one of the manager's headers).
    #[inline(always)]
    pub(crate) unsafe fn is_intact_at(header: *const AudioBuffer, identity: &SlotIdentity) -> bool {
        let words = FormatWords {
            rate: read_field!(header, sample_rate_hz),
            channels_bits: read_word!(header, channel_count),
            frame: read_word!(header, frame_size_samples) & 0xFFFF,
            container: read_word!(header, sample_packing),
        };
        read_field!(header, magic_number) == AES5_BUFFER_MAGIC
            && read_field!(header, buffer_id) == identity.buffer_id
            && words.container >> 24 == u32::from(identity.buffer_type)
            && read_field!(header, buffer_capacity_bytes) == identity.capacity
            && read_field!(header, data_pointer) == identity.data
            && read_field!(header, data_size_bytes) <= identity.capacity
            && read_field!(header, checksum)
                == checksum(identity.buffer_id, read_field!(header, sequence_number), &words)
    }

    /// The first check [`Self::is_intact_at`] fails, as a refusal reason with its detail
    /// (the size found, for a size above capacity); `None` when the header is intact. Cold:
    /// only a refused call asks.
    ///
    /// # Safety
    /// As [`Self::is_intact_at`].
    pub(crate) unsafe fn damage_at(header: *const AudioBuffer, identity: &SlotIdentity) -> Option<(u32, u32)> {
        use crate::types::refusal_reason::*;
        let words = FormatWords {
            rate: read_field!(header, sample_rate_hz),
            channels_bits: read_word!(header, channel_count),
            frame: read_word!(header, frame_size_samples) & 0xFFFF,
            container: read_word!(header, sample_packing),
        };
        let size: usize = read_field!(header, data_size_bytes);
        if read_field!(header, magic_number) != AES5_BUFFER_MAGIC {
            Some((AES5_REFUSAL_BAD_MAGIC, 0))
        } else if read_field!(header, buffer_id) != identity.buffer_id
            || words.container >> 24 != u32::from(identity.buffer_type)
            || read_field!(header, buffer_capacity_bytes) != identity.capacity
            || read_field!(header, data_pointer) != identity.data
        {
            Some((AES5_REFUSAL_IDENTITY_CHANGED, 0))
        } else if size > identity.capacity {
            Some((AES5_REFUSAL_SIZE_ABOVE_CAPACITY, u32::try_from(size).unwrap_or(u32::MAX)))
        } else if read_field!(header, checksum)
            != checksum(identity.buffer_id, read_field!(header, sequence_number), &words)
        {
            Some((AES5_REFUSAL_BAD_CHECKSUM, 0))
        } else {
            None
        }
    }

    /// Clears the fields a holder may write (`data_size_bytes`, `buffer_flags`,
    /// `timestamp_ns`, `processing_start_ns`, `processing_count`): release does it once the
    /// buffer is no longer the caller's, so that a write through a stale pointer after the
    /// release shows in the free header ([`Self::is_clean_free_at`]).
    ///
    /// # Safety
    /// `header` must be one of the manager's headers, owned by the calling release (its
    /// custody word just left the caller's hands).
    #[inline(always)]
    pub(crate) unsafe fn clear_caller_fields(header: *mut AudioBuffer) {
        // SAFETY: the caller's contract; each field is written in place.
        unsafe {
            core::ptr::addr_of_mut!((*header).data_size_bytes).write(0);
            core::ptr::addr_of_mut!((*header).buffer_flags).write(0);
            core::ptr::addr_of_mut!((*header).timestamp_ns).write(0);
            core::ptr::addr_of_mut!((*header).processing_start_ns).write(0);
            core::ptr::addr_of_mut!((*header).processing_count).write(0);
        }
    }

    /// True when the free header at `header` is as release (or init) left it: intact, and
    /// every field a holder may write zero. False means a write after the release.
    ///
    /// # Safety
    /// As [`Self::is_intact_at`].
    pub(crate) unsafe fn is_clean_free_at(header: *const AudioBuffer, identity: &SlotIdentity) -> bool {
        // SAFETY: forwarded contract.
        let intact = unsafe { Self::is_intact_at(header, identity) };
        let data_size: usize = read_field!(header, data_size_bytes);
        let flags: u16 = read_field!(header, buffer_flags);
        let timestamp: u64 = read_field!(header, timestamp_ns);
        let processing_start: u64 = read_field!(header, processing_start_ns);
        let processing_count: u32 = read_field!(header, processing_count);
        intact && data_size == 0 && flags == 0 && timestamp == 0 && processing_start == 0 && processing_count == 0
    }

    /// The checksum of a header that has never been allocated: sequence 0, no format, its
    /// buffer type in the container word (as `write_identity` leaves it).
    pub(crate) const fn fresh_checksum(identity: &SlotIdentity) -> u32 {
        let words = FormatWords { rate: 0, channels_bits: 0, frame: 0, container: (identity.buffer_type as u32) << 24 };
        checksum(identity.buffer_id, 0, &words)
    }

    /// [`Self::is_intact_at`] on a header the caller holds.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn is_intact(&self, identity: &SlotIdentity) -> bool {
        // SAFETY: a reference is readable.
        unsafe { Self::is_intact_at(self, identity) }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn identity(data: &mut [u8]) -> SlotIdentity {
        SlotIdentity { buffer_id: 3, buffer_type: 1, capacity: data.len(), data: data.as_mut_ptr() }
    }

    #[test]
    fn a_stamped_header_is_intact_and_every_owned_field_is_covered() {
        let mut data = [0u8; 64];
        let id = identity(&mut data);
        let mut h = AudioBuffer::fresh(&id);
        let fmt = AudioFormat::pcm(48_000, 2, 16, 16);
        h.stamp(id.buffer_id, 7, &PreparedFormat::new(FormatWords::of(&fmt, id.buffer_type), 64), 5);
        assert!(h.is_intact(&id));

        let damage: [fn(&mut AudioBuffer); 14] = [
            |h| h.buffer_id ^= 1,
            |h| h.sequence_number ^= 1,
            |h| h.sample_rate_hz = 44_100,
            |h| h.channel_count ^= 1,
            |h| h.sample_size_bits = 24,
            |h| h.frame_size_samples ^= 1,
            |h| h.sample_packing ^= 1,
            |h| h.sample_encoding ^= 1,
            |h| h.rate_pull ^= 1,
            |h| h.buffer_type ^= 1,
            |h| h.buffer_capacity_bytes += 1,
            |h| h.data_pointer = h.data_pointer.wrapping_add(1),
            |h| h.checksum ^= 0x100,
            |h| h.magic_number = 0,
        ];
        for (i, hurt) in damage.iter().enumerate() {
            let mut copy = h;
            hurt(&mut copy);
            assert!(!copy.is_intact(&id), "damage {i} went unnoticed");
        }
    }

    #[test]
    fn caller_fields_may_change_within_capacity() {
        let mut data = [0u8; 64];
        let id = identity(&mut data);
        let mut h = AudioBuffer::fresh(&id);
        h.stamp(
            id.buffer_id,
            1,
            &PreparedFormat::new(FormatWords::of(&AudioFormat::pcm(96_000, 1, 32, 16), id.buffer_type), 64),
            0,
        );
        h.timestamp_ns = 99;
        h.buffer_flags = 0xFFFF;
        h.processing_start_ns = 1;
        h.processing_count = 1000;
        h.data_size_bytes = 0;
        assert!(h.is_intact(&id));
        h.data_size_bytes = 65;
        assert!(!h.is_intact(&id));
    }

    #[test]
    fn a_header_copied_from_another_buffer_does_not_pass() {
        let mut data = [0u8; 64];
        let a = identity(&mut data);
        let b = SlotIdentity { buffer_id: a.buffer_id + 1, ..a };
        let mut h = AudioBuffer::fresh(&a);
        h.stamp(
            a.buffer_id,
            3,
            &PreparedFormat::new(FormatWords::of(&AudioFormat::pcm(48_000, 2, 16, 16), a.buffer_type), 64),
            0,
        );
        let mut copy = h;
        copy.buffer_id = b.buffer_id;
        assert!(!copy.is_intact(&b), "the checksum is seeded by the buffer id");
    }

    #[test]
    fn a_stamp_records_the_format_and_clears_the_caller_fields() {
        let mut data = [0u8; 64];
        let id = identity(&mut data);
        let mut h = AudioBuffer::fresh(&id);
        h.buffer_flags = 0xBEEF;
        h.timestamp_ns = 5;
        h.processing_count = 9;
        let fmt =
            AudioFormat { sample_packing: 1, sample_encoding: 1, rate_pull: 2, ..AudioFormat::pcm(44_100, 7, 24, 333) };
        h.stamp(id.buffer_id, 4, &PreparedFormat::new(FormatWords::of(&fmt, id.buffer_type), 60), 77);
        assert_eq!(h.format(), fmt);
        assert_eq!((h.buffer_flags, h.timestamp_ns, h.processing_count), (0, 0, 0));
        assert_eq!((h.buffer_type, h.buffer_id, h.sequence_number), (id.buffer_type, id.buffer_id, 4));
        assert_eq!((h.data_size_bytes, h.allocation_time_ns), (60, 77));
        assert!(h.is_intact(&id));
    }

    #[test]
    fn restoring_the_identity_repairs_a_damaged_header() {
        let mut data = [0u8; 64];
        let id = identity(&mut data);
        let mut h = AudioBuffer::fresh(&id);
        h.data_pointer = core::ptr::null_mut();
        h.magic_number = 0;
        h.restore_identity(&id);
        h.stamp(
            id.buffer_id,
            1,
            &PreparedFormat::new(FormatWords::of(&AudioFormat::pcm(48_000, 2, 16, 16), id.buffer_type), 64),
            0,
        );
        assert!(h.is_intact(&id));
    }

    /// The byte ranges of the words the checksum covers, with the bits of each that only the
    /// checksum guards (the frame word's upper half is the caller's `buffer_flags`, the
    /// container's top byte is the buffer type, compared directly).
    const CHECKSUMMED_WORDS: [(usize, u32); 5] = [
        (core::mem::offset_of!(AudioBuffer, sequence_number), u32::MAX),
        (core::mem::offset_of!(AudioBuffer, sample_rate_hz), u32::MAX),
        (core::mem::offset_of!(AudioBuffer, channel_count), u32::MAX),
        (core::mem::offset_of!(AudioBuffer, frame_size_samples), 0xFFFF),
        (core::mem::offset_of!(AudioBuffer, sample_packing), 0x00FF_FFFF),
    ];

    fn flip_bit(h: &mut AudioBuffer, offset: usize, bit: u32) {
        let bytes: *mut u8 = (h as *mut AudioBuffer).cast();
        // SAFETY: the offsets above are 4-aligned fields; a word from there lies inside the
        // header, and so does the byte `offset + bit / 8`.
        let word = |bytes: *mut u8| unsafe { u32::from_le(bytes.add(offset).cast::<u32>().read()) };
        let before = word(bytes);
        // SAFETY: as above.
        unsafe { *bytes.add(offset + (bit / 8) as usize) ^= 1 << (bit % 8) };
        assert_eq!(word(bytes) ^ before, 1 << bit, "flipped exactly bit {bit} of the word at +{offset}");
    }

    #[test]
    fn one_bit_flipped_in_each_of_two_checksummed_words_is_always_detected() {
        let mut data = [0u8; 64];
        let id = identity(&mut data);
        let formats = [AudioFormat::pcm(48_000, 2, 16, 256), AudioFormat::pcm(192_000, 8, 32, 1024)];
        let mut pairs = 0u32;
        for (n, fmt) in formats.iter().enumerate() {
            let mut h = AudioBuffer::fresh(&id);
            h.stamp(
                id.buffer_id,
                1 + 1000 * n as u32,
                &PreparedFormat::new(FormatWords::of(fmt, id.buffer_type), 64),
                0,
            );
            assert!(h.is_intact(&id));
            for (i, &(offset_a, bits_a)) in CHECKSUMMED_WORDS.iter().enumerate() {
                for &(offset_b, bits_b) in &CHECKSUMMED_WORDS[i + 1..] {
                    for a in (0..32).filter(|a| bits_a >> a & 1 == 1) {
                        for b in (0..32).filter(|b| bits_b >> b & 1 == 1) {
                            let mut copy = h;
                            flip_bit(&mut copy, offset_a, a);
                            flip_bit(&mut copy, offset_b, b);
                            assert!(!copy.is_intact(&id), "bit {a} at +{offset_a} and bit {b} at +{offset_b}");
                            pairs += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(pairs, 2 * 7_296, "every pair of guarded bits in every pair of words");
    }

    #[test]
    fn random_writes_of_up_to_eight_bytes_to_owned_fields_are_detected() {
        let mut data = [0u8; 64];
        let id = identity(&mut data);
        let mut h = AudioBuffer::fresh(&id);
        h.stamp(
            id.buffer_id,
            9,
            &PreparedFormat::new(FormatWords::of(&AudioFormat::pcm(44_100, 2, 24, 512), id.buffer_type), 64),
            0,
        );
        let checksum_at = core::mem::offset_of!(AudioBuffer, checksum);
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut detected = 0u32;
        for _ in 0..200_000 {
            let r = next();
            let len = 1 + (r % 8) as usize;
            let offset = (r >> 8) as usize % (core::mem::size_of::<AudioBuffer>() - len + 1);
            if (offset..offset + len).contains(&checksum_at) || (offset..offset + len).contains(&(checksum_at + 3)) {
                continue;
            }
            let mut copy = h;
            let bytes: *mut u8 = (&mut copy as *mut AudioBuffer).cast();
            let values = next().to_le_bytes();
            for (k, v) in values.iter().take(len).enumerate() {
                // SAFETY: offset + len <= size_of::<AudioBuffer>().
                unsafe { *bytes.add(offset + k) = *v };
            }
            let owned_changed = CHECKSUMMED_WORDS.iter().any(|&(at, bits)| {
                let word = |x: &AudioBuffer| {
                    let p: *const u8 = (x as *const AudioBuffer).cast();
                    // SAFETY: `at` is a 4-aligned field offset inside the header.
                    unsafe { p.add(at).cast::<u32>().read() }
                };
                (word(&copy) ^ word(&h)) & bits != 0
            });
            if owned_changed {
                assert!(!copy.is_intact(&id), "{len} bytes at +{offset} went unnoticed");
                detected += 1;
            }
        }
        assert!(detected > 50_000, "{detected} damaged headers tried");
    }
}
