//! Why a format is refused: the exact field and rule behind `AES5_ERR_UNSUPPORTED_FORMAT` and
//! `AES5_ERR_FORMAT_TOO_LARGE`, for diagnostics. Cold code: the hot path validates with
//! `AudioFormat::validate` and only a refused call asks for the reason.

use crate::types::format::{
    is_aes5_frequency, AudioFormat, FormatLimits, AES5_ENCODING_FLOAT, AES5_ENCODING_INTEGER, AES5_PACKING_DEFAULT,
    AES5_PACKING_PACKED_24, AES5_RATE_PULL_DOWN,
};

/// What is wrong with a format (`aes5_format_problem_t`), or `AES5_FORMAT_OK`.
pub type Aes5FormatProblem = u32;
/// The format is accepted.
pub const AES5_FORMAT_OK: Aes5FormatProblem = 0;
/// `sample_rate_hz` is not one of the nine AES5-2018 nominal frequencies.
pub const AES5_FORMAT_RATE_NOT_AES5: Aes5FormatProblem = 1;
/// `sample_rate_hz` is an AES5 frequency above the configured `max_sample_rate_hz`.
pub const AES5_FORMAT_RATE_ABOVE_LIMIT: Aes5FormatProblem = 2;
/// `channel_count` is 0.
pub const AES5_FORMAT_NO_CHANNELS: Aes5FormatProblem = 3;
/// `channel_count` is above the configured `max_channels`.
pub const AES5_FORMAT_CHANNELS_ABOVE_LIMIT: Aes5FormatProblem = 4;
/// `frame_size_samples` is 0.
pub const AES5_FORMAT_EMPTY_FRAME: Aes5FormatProblem = 5;
/// `frame_size_samples` is above the configured `max_frame_size_samples`.
pub const AES5_FORMAT_FRAME_ABOVE_LIMIT: Aes5FormatProblem = 6;
/// `rate_pull` is not `AES5_RATE_PULL_NONE`, `_UP` or `_DOWN`.
pub const AES5_FORMAT_BAD_PULL: Aes5FormatProblem = 7;
/// `sample_size_bits` is not 16, 24 or 32.
pub const AES5_FORMAT_BAD_SAMPLE_SIZE: Aes5FormatProblem = 8;
/// `sample_packing` is unknown, or `AES5_PACKING_PACKED_24` with a size other than 24 bits.
pub const AES5_FORMAT_BAD_PACKING: Aes5FormatProblem = 9;
/// `sample_encoding` is unknown, or `AES5_ENCODING_FLOAT` with a size other than 32 bits.
pub const AES5_FORMAT_BAD_ENCODING: Aes5FormatProblem = 10;
/// The format is valid but needs more bytes than the pool's buffers hold
/// (`AES5_ERR_FORMAT_TOO_LARGE`).
pub const AES5_FORMAT_ABOVE_CAPACITY: Aes5FormatProblem = 11;

/// The first rule `format` breaks, in the order the fields are declared; `AES5_FORMAT_OK` when
/// it breaks none. Agrees with `AudioFormat::validate` (tested over every combination of
/// boundary values).
pub(crate) fn format_problem(format: &AudioFormat, limits: &FormatLimits) -> Aes5FormatProblem {
    let channels = u32::from(format.channel_count);
    let frame = u32::from(format.frame_size_samples);
    let bits = format.sample_size_bits;
    if !is_aes5_frequency(format.sample_rate_hz) {
        AES5_FORMAT_RATE_NOT_AES5
    } else if format.sample_rate_hz > limits.max_sample_rate_hz {
        AES5_FORMAT_RATE_ABOVE_LIMIT
    } else if channels == 0 {
        AES5_FORMAT_NO_CHANNELS
    } else if channels > limits.max_channels {
        AES5_FORMAT_CHANNELS_ABOVE_LIMIT
    } else if frame == 0 {
        AES5_FORMAT_EMPTY_FRAME
    } else if frame > limits.max_frame_size_samples {
        AES5_FORMAT_FRAME_ABOVE_LIMIT
    } else if format.rate_pull > AES5_RATE_PULL_DOWN {
        AES5_FORMAT_BAD_PULL
    } else if !matches!(bits, 16 | 24 | 32) {
        AES5_FORMAT_BAD_SAMPLE_SIZE
    } else if !matches!((format.sample_packing, bits), (AES5_PACKING_DEFAULT, _) | (AES5_PACKING_PACKED_24, 24)) {
        AES5_FORMAT_BAD_PACKING
    } else if !matches!((format.sample_encoding, bits), (AES5_ENCODING_INTEGER, _) | (AES5_ENCODING_FLOAT, 32)) {
        AES5_FORMAT_BAD_ENCODING
    } else {
        AES5_FORMAT_OK
    }
}

/// Static, NUL-terminated text of a format problem (unknown values get a fixed text).
pub(crate) fn describe_problem(problem: Aes5FormatProblem) -> &'static [u8] {
    match problem {
        AES5_FORMAT_OK => b"the format is accepted\0",
        AES5_FORMAT_RATE_NOT_AES5 => b"sample_rate_hz is not an AES5-2018 rate\0",
        AES5_FORMAT_RATE_ABOVE_LIMIT => b"sample_rate_hz is above max_sample_rate_hz\0",
        AES5_FORMAT_NO_CHANNELS => b"channel_count is 0\0",
        AES5_FORMAT_CHANNELS_ABOVE_LIMIT => b"channel_count is above max_channels\0",
        AES5_FORMAT_EMPTY_FRAME => b"frame_size_samples is 0\0",
        AES5_FORMAT_FRAME_ABOVE_LIMIT => b"frame_size_samples is above max_frame_size_samples\0",
        AES5_FORMAT_BAD_PULL => b"rate_pull is not NONE, UP or DOWN\0",
        AES5_FORMAT_BAD_SAMPLE_SIZE => b"sample_size_bits is not 16, 24 or 32\0",
        AES5_FORMAT_BAD_PACKING => b"sample_packing is unknown or needs 24 bits\0",
        AES5_FORMAT_BAD_ENCODING => b"sample_encoding is unknown or float needs 32 bits\0",
        AES5_FORMAT_ABOVE_CAPACITY => b"the format is larger than the pool's buffers\0",
        _ => b"unknown format problem\0",
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::types::status::Status;

    #[test]
    fn the_reason_agrees_with_validation_over_every_boundary_combination() {
        let lowered = FormatLimits { max_sample_rate_hz: 96_000, max_channels: 2, max_frame_size_samples: 256 };
        let mut checked = 0u32;
        for limits in [FormatLimits::WIDEST, lowered] {
            for rate in [0u32, 32_000, 47_999, 48_000, 96_000, 192_000, 384_000, 384_001] {
                for channels in [0u16, 1, 2, 3, 8, 9] {
                    for frame in [0u16, 1, 256, 257, 1024, 1025] {
                        for bits in [0u16, 8, 16, 20, 24, 32, 33] {
                            for (packing, encoding, pull) in
                                (0..3u8).flat_map(|p| (0..3u8).flat_map(move |e| (0..4u8).map(move |r| (p, e, r))))
                            {
                                let f = AudioFormat {
                                    sample_rate_hz: rate,
                                    channel_count: channels,
                                    sample_size_bits: bits,
                                    frame_size_samples: frame,
                                    sample_packing: packing,
                                    sample_encoding: encoding,
                                    rate_pull: pull,
                                };
                                let problem = format_problem(&f, &limits);
                                match f.validate(&limits) {
                                    Ok(_) => assert_eq!(problem, AES5_FORMAT_OK, "{f:?}"),
                                    Err(status) => {
                                        assert_eq!(status, Status::UnsupportedFormat);
                                        assert_ne!(problem, AES5_FORMAT_OK, "{f:?}");
                                    }
                                }
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 2 * 8 * 6 * 6 * 7 * 36);
    }

    #[test]
    fn each_field_gets_its_own_reason() {
        let ok = AudioFormat::pcm(48_000, 2, 24, 256);
        let limits = FormatLimits { max_sample_rate_hz: 96_000, max_channels: 2, max_frame_size_samples: 256 };
        let cases = [
            (AudioFormat { sample_rate_hz: 47_999, ..ok }, AES5_FORMAT_RATE_NOT_AES5),
            (AudioFormat { sample_rate_hz: 192_000, ..ok }, AES5_FORMAT_RATE_ABOVE_LIMIT),
            (AudioFormat { channel_count: 0, ..ok }, AES5_FORMAT_NO_CHANNELS),
            (AudioFormat { channel_count: 3, ..ok }, AES5_FORMAT_CHANNELS_ABOVE_LIMIT),
            (AudioFormat { frame_size_samples: 0, ..ok }, AES5_FORMAT_EMPTY_FRAME),
            (AudioFormat { frame_size_samples: 257, ..ok }, AES5_FORMAT_FRAME_ABOVE_LIMIT),
            (AudioFormat { rate_pull: 3, ..ok }, AES5_FORMAT_BAD_PULL),
            (AudioFormat { sample_size_bits: 20, ..ok }, AES5_FORMAT_BAD_SAMPLE_SIZE),
            (
                AudioFormat { sample_size_bits: 16, sample_packing: AES5_PACKING_PACKED_24, ..ok },
                AES5_FORMAT_BAD_PACKING,
            ),
            (AudioFormat { sample_encoding: AES5_ENCODING_FLOAT, ..ok }, AES5_FORMAT_BAD_ENCODING),
            (ok, AES5_FORMAT_OK),
        ];
        for (f, want) in cases {
            assert_eq!(format_problem(&f, &limits), want, "{f:?}");
        }
        for p in 0..=AES5_FORMAT_ABOVE_CAPACITY + 1 {
            let text = describe_problem(p);
            assert_eq!(text.iter().position(|&b| b == 0), Some(text.len() - 1), "one NUL, at the end");
        }
        assert_ne!(describe_problem(AES5_FORMAT_RATE_NOT_AES5), describe_problem(AES5_FORMAT_BAD_SAMPLE_SIZE));
    }
}
