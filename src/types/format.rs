//! Audio formats: AES5-2018 sampling frequencies, sample containers, and the bytes a frame
//! needs.

use crate::platform::divide::divide;
use crate::types::status::Status;

/// Largest channel count a format may describe.
pub const AES5_MAX_CHANNELS: u32 = 8;
/// Largest frame (samples per channel) a format may describe.
pub const AES5_MAX_FRAME_SIZE_SAMPLES: u32 = 1024;
/// Highest AES5-2018 nominal sampling frequency (octuple rate, 48 kHz family).
pub const AES5_MAX_SAMPLE_RATE_HZ: u32 = 384_000;
/// Lowest AES5-2018 nominal sampling frequency.
pub const AES5_MIN_SAMPLE_RATE_HZ: u32 = 32_000;

/// `sample_packing`: the natural container (2 bytes for 16-bit, 4 bytes for 24-in-32 and 32).
pub const AES5_PACKING_DEFAULT: u8 = 0;
/// `sample_packing`: 24-bit samples packed into 3 bytes (only with `sample_size_bits == 24`).
pub const AES5_PACKING_PACKED_24: u8 = 1;

/// `sample_encoding`: two's-complement integer samples.
pub const AES5_ENCODING_INTEGER: u8 = 0;
/// `sample_encoding`: IEEE-754 binary32 samples (only with `sample_size_bits == 32`).
pub const AES5_ENCODING_FLOAT: u8 = 1;

/// `rate_pull`: the nominal rate.
pub const AES5_RATE_PULL_NONE: u8 = 0;
/// `rate_pull`: the AES5 pull-up variant, nominal × 1001/1000.
pub const AES5_RATE_PULL_UP: u8 = 1;
/// `rate_pull`: the AES5 pull-down variant, nominal × 1000/1001.
pub const AES5_RATE_PULL_DOWN: u8 = 2;

/// Description of the audio one buffer carries.
///
/// A zero in `sample_packing`, `sample_encoding` or `rate_pull` always means the default, so a
/// zero-initialised struct with the first four fields set is a valid integer PCM format.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AudioFormat {
    /// Nominal AES5-2018 sampling frequency in Hz: 32000, 44100, 48000, 88200, 96000, 176400,
    /// 192000, 352800 or 384000.
    pub sample_rate_hz: u32,
    /// Channels per frame, 1 to the configured `max_channels` (at most 8).
    pub channel_count: u16,
    /// Bits per sample: 16, 24 or 32.
    pub sample_size_bits: u16,
    /// Samples per channel in one buffer, 1 to the configured `max_frame_size_samples`.
    pub frame_size_samples: u16,
    /// `AES5_PACKING_DEFAULT` or `AES5_PACKING_PACKED_24`.
    pub sample_packing: u8,
    /// `AES5_ENCODING_INTEGER` or `AES5_ENCODING_FLOAT`.
    pub sample_encoding: u8,
    /// `AES5_RATE_PULL_NONE`, `AES5_RATE_PULL_UP` or `AES5_RATE_PULL_DOWN`.
    pub rate_pull: u8,
}

/// The limits a format is checked against (the runtime configuration's, at most the
/// compile-time limits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FormatLimits {
    pub max_sample_rate_hz: u32,
    pub max_channels: u32,
    pub max_frame_size_samples: u32,
}

impl FormatLimits {
    /// The compile-time limits.
    pub const WIDEST: FormatLimits = FormatLimits {
        max_sample_rate_hz: AES5_MAX_SAMPLE_RATE_HZ,
        max_channels: AES5_MAX_CHANNELS,
        max_frame_size_samples: AES5_MAX_FRAME_SIZE_SAMPLES,
    };
}

/// The nine AES5-2018 nominal sampling frequencies (basic, double, quadruple and octuple rate
/// of the 32, 44.1 and 48 kHz families).
const AES5_RATES: [u32; 9] = [32_000, 44_100, 48_000, 88_200, 96_000, 176_400, 192_000, 352_800, 384_000];

/// A perfect hash of the nine rates into 16 slots: `(rate * RATE_HASH) >> 28`.
const RATE_HASH: u32 = 0x3C6E_F363;

const fn rate_slot(rate: u32) -> usize {
    (rate.wrapping_mul(RATE_HASH) >> 28) as usize
}

/// Each rate at its hash slot; 0 elsewhere (0 itself hashes to an occupied slot, so no rate
/// matches an empty one).
const RATE_TABLE: [u32; 16] = {
    let mut table = [0u32; 16];
    let mut i = 0;
    while i < AES5_RATES.len() {
        let slot = rate_slot(AES5_RATES[i]);
        assert!(table[slot] == 0, "the rate hash collides");
        table[slot] = AES5_RATES[i];
        i += 1;
    }
    assert!(table[rate_slot(0)] != 0, "0 must hash to an occupied slot");
    table
};

/// True for the nine AES5-2018 nominal sampling frequencies (basic, double, quadruple and
/// octuple rate of the 32, 44.1 and 48 kHz families). One multiply and one table load.
#[inline]
pub const fn is_aes5_frequency(sample_rate_hz: u32) -> bool {
    RATE_TABLE[rate_slot(sample_rate_hz)] == sample_rate_hz
}

impl AudioFormat {
    /// A plain integer PCM format with default packing, encoding and no pull.
    pub const fn pcm(sample_rate_hz: u32, channel_count: u16, sample_size_bits: u16, frame_size_samples: u16) -> Self {
        AudioFormat {
            sample_rate_hz,
            channel_count,
            sample_size_bits,
            frame_size_samples,
            sample_packing: AES5_PACKING_DEFAULT,
            sample_encoding: AES5_ENCODING_INTEGER,
            rate_pull: AES5_RATE_PULL_NONE,
        }
    }

    /// Bytes one sample occupies, or `UnsupportedFormat` for an invalid combination of bits,
    /// packing and encoding.
    #[inline]
    pub fn container_bytes(&self) -> Result<u32, Status> {
        match (self.sample_size_bits, self.sample_packing, self.sample_encoding) {
            (16, AES5_PACKING_DEFAULT, AES5_ENCODING_INTEGER) => Ok(2),
            (24, AES5_PACKING_DEFAULT, AES5_ENCODING_INTEGER) => Ok(4),
            (24, AES5_PACKING_PACKED_24, AES5_ENCODING_INTEGER) => Ok(3),
            (32, AES5_PACKING_DEFAULT, AES5_ENCODING_INTEGER | AES5_ENCODING_FLOAT) => Ok(4),
            _ => Err(Status::UnsupportedFormat),
        }
    }

    /// Checks every field against `limits` and returns the bytes one buffer of this format
    /// needs (channels × frame samples × container bytes).
    #[inline]
    pub(crate) fn validate(&self, limits: &FormatLimits) -> Result<u32, Status> {
        let channels = u32::from(self.channel_count);
        let frame = u32::from(self.frame_size_samples);
        // `x - 1 >= max` (wrapping) refuses 0 and everything above `max` in one comparison.
        if !is_aes5_frequency(self.sample_rate_hz)
            || self.sample_rate_hz > limits.max_sample_rate_hz
            || channels.wrapping_sub(1) >= limits.max_channels
            || frame.wrapping_sub(1) >= limits.max_frame_size_samples
            || self.rate_pull > AES5_RATE_PULL_DOWN
        {
            return Err(Status::UnsupportedFormat);
        }
        Ok(channels * frame * self.container_bytes()?)
    }

    /// Checks the format against the compile-time limits and returns the bytes it needs.
    pub fn bytes_needed(&self) -> Result<u32, Status> {
        self.validate(&FormatLimits::WIDEST)
    }

    /// The pull ratio as (numerator, denominator): effective rate = nominal × num / den.
    const fn pull_ratio(&self) -> (u64, u64) {
        match self.rate_pull {
            AES5_RATE_PULL_UP => (1001, 1000),
            AES5_RATE_PULL_DOWN => (1000, 1001),
            _ => (1, 1),
        }
    }

    /// The exact effective sampling frequency as a fraction (numerator, denominator) in Hz.
    /// Pull-down rates are not integers, e.g. 48 kHz pulled down is 48000000/1001 Hz.
    pub fn effective_rate_hz(&self) -> Result<(u64, u64), Status> {
        self.bytes_needed()?;
        let (num, den) = self.pull_ratio();
        let numerator = u64::from(self.sample_rate_hz) * num;
        let divisor = gcd(numerator, den);
        Ok((divide(numerator, divisor), divide(den, divisor)))
    }

    /// Duration of one buffer (one frame of `frame_size_samples`) in nanoseconds, computed from
    /// the exact rate ratio and rounded to the nearest nanosecond.
    pub fn frame_duration_ns(&self) -> Result<u64, Status> {
        let (rate_num, rate_den) = self.effective_rate_hz()?;
        // duration = frame / (rate_num / rate_den) s = frame × rate_den × 1e9 / rate_num ns.
        // Largest product: 1024 × 1001 × 1e9 ≈ 1.03e15, well inside u64.
        let numerator = u64::from(self.frame_size_samples) * rate_den * 1_000_000_000;
        Ok(divide(numerator + rate_num / 2, rate_num))
    }
}

/// Greatest common divisor (Euclid; the operands are rates and pull factors, below 2^32).
fn gcd(a: u64, b: u64) -> u64 {
    let (mut a, mut b) = (a as u32, b as u32);
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    u64::from(a)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const NOMINAL: [u32; 9] = [32_000, 44_100, 48_000, 88_200, 96_000, 176_400, 192_000, 352_800, 384_000];

    #[test]
    fn the_rate_hash_accepts_exactly_the_nine_rates_over_every_u32_near_them() {
        for rate in 0..=400_000u32 {
            assert_eq!(is_aes5_frequency(rate), NOMINAL.contains(&rate), "{rate}");
        }
        for rate in (0..=u32::MAX).step_by(65_537) {
            assert_eq!(is_aes5_frequency(rate), NOMINAL.contains(&rate), "{rate}");
        }
    }

    #[test]
    fn exactly_the_nine_aes5_rates_are_accepted() {
        for rate in NOMINAL {
            assert!(is_aes5_frequency(rate), "{rate}");
        }
        for rate in [0, 8_000, 22_050, 47_952, 48_048, 64_000, 176_000, 768_000, u32::MAX] {
            assert!(!is_aes5_frequency(rate), "{rate}");
        }
    }

    #[test]
    fn containers_follow_bits_packing_and_encoding() {
        let mut f = AudioFormat::pcm(48_000, 2, 16, 64);
        assert_eq!(f.container_bytes(), Ok(2));
        f.sample_size_bits = 24;
        assert_eq!(f.container_bytes(), Ok(4));
        f.sample_packing = AES5_PACKING_PACKED_24;
        assert_eq!(f.container_bytes(), Ok(3));
        f.sample_size_bits = 32;
        assert_eq!(f.container_bytes(), Err(Status::UnsupportedFormat));
        f.sample_packing = AES5_PACKING_DEFAULT;
        f.sample_encoding = AES5_ENCODING_FLOAT;
        assert_eq!(f.container_bytes(), Ok(4));
        f.sample_size_bits = 24;
        assert_eq!(f.container_bytes(), Err(Status::UnsupportedFormat));
        f.sample_size_bits = 16;
        assert_eq!(f.container_bytes(), Err(Status::UnsupportedFormat));
        f.sample_encoding = 2;
        f.sample_size_bits = 32;
        assert_eq!(f.container_bytes(), Err(Status::UnsupportedFormat));
        f.sample_encoding = 0;
        f.sample_packing = 9;
        assert_eq!(f.container_bytes(), Err(Status::UnsupportedFormat));
        f.sample_packing = 0;
        f.sample_size_bits = 8;
        assert_eq!(f.container_bytes(), Err(Status::UnsupportedFormat));
    }

    #[test]
    fn validation_checks_every_field_against_the_limits() {
        let limits = FormatLimits { max_sample_rate_hz: 96_000, max_channels: 4, max_frame_size_samples: 256 };
        let ok = AudioFormat::pcm(96_000, 4, 24, 256);
        assert_eq!(ok.validate(&limits), Ok(4 * 256 * 4));
        let cases = [
            AudioFormat { sample_rate_hz: 192_000, ..ok },
            AudioFormat { sample_rate_hz: 47_000, ..ok },
            AudioFormat { channel_count: 0, ..ok },
            AudioFormat { channel_count: 5, ..ok },
            AudioFormat { frame_size_samples: 0, ..ok },
            AudioFormat { frame_size_samples: 257, ..ok },
            AudioFormat { sample_size_bits: 20, ..ok },
            AudioFormat { rate_pull: 3, ..ok },
            AudioFormat { sample_encoding: AES5_ENCODING_FLOAT, ..ok },
        ];
        for bad in cases {
            assert_eq!(bad.validate(&limits), Err(Status::UnsupportedFormat), "{bad:?}");
        }
    }

    #[test]
    fn bytes_needed_is_channels_times_frame_times_container() {
        assert_eq!(AudioFormat::pcm(48_000, 2, 16, 256).bytes_needed(), Ok(1024));
        let packed = AudioFormat { sample_packing: AES5_PACKING_PACKED_24, ..AudioFormat::pcm(44_100, 8, 24, 1024) };
        assert_eq!(packed.bytes_needed(), Ok(8 * 1024 * 3));
        assert_eq!(AudioFormat::pcm(384_000, 8, 32, 1024).bytes_needed(), Ok(32 * 1024));
    }

    #[test]
    fn pulled_rates_are_exact_fractions() {
        let mut f = AudioFormat::pcm(48_000, 2, 16, 48);
        assert_eq!(f.effective_rate_hz(), Ok((48_000, 1)));
        f.rate_pull = AES5_RATE_PULL_DOWN;
        assert_eq!(f.effective_rate_hz(), Ok((48_000_000, 1001)));
        f.rate_pull = AES5_RATE_PULL_UP;
        assert_eq!(f.effective_rate_hz(), Ok((48_048, 1)));
        let g = AudioFormat { rate_pull: AES5_RATE_PULL_UP, ..AudioFormat::pcm(44_100, 2, 16, 48) };
        assert_eq!(g.effective_rate_hz(), Ok((441_441, 10)));
    }

    #[test]
    fn frame_durations_use_the_exact_ratio() {
        let mut f = AudioFormat::pcm(48_000, 2, 16, 48);
        assert_eq!(f.frame_duration_ns(), Ok(1_000_000));
        f.rate_pull = AES5_RATE_PULL_DOWN;
        assert_eq!(f.frame_duration_ns(), Ok(1_001_000));
        f.rate_pull = AES5_RATE_PULL_UP;
        // 48 / 48048 s = 999000.999 ns.
        assert_eq!(f.frame_duration_ns(), Ok(999_001));
        let g = AudioFormat::pcm(44_100, 1, 16, 441);
        assert_eq!(g.frame_duration_ns(), Ok(10_000_000));
        assert_eq!(AudioFormat::pcm(44_000, 1, 16, 1).frame_duration_ns(), Err(Status::UnsupportedFormat));
    }
}
