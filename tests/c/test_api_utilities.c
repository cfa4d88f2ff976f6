/*
 * test_api_utilities.c: the functions that need no manager, on their success paths.
 *
 * aes5_runtime_config_default (every default against the header), the storage size and
 * aes5_buffer_manager_storage_layout, aes5_audio_format_bytes / _effective_rate /
 * _frame_duration_ns, aes5_is_aes5_frequency and aes5_status_string.
 */
#include <stddef.h>
#include <stdint.h>

#include "test_support.h"

/* Alignment of the storage type, in C99 (no _Alignof). */
struct storage_align_probe {
    char c;
    aes5_buffer_manager_storage_t s;
};

#define DEFAULT_GEOMETRY                                                                               \
    (AES5_PRIMARY_BUFFER_COUNT == 8 && AES5_CONVERSION_BUFFER_COUNT == 4 && AES5_SCRATCH_BUFFER_COUNT == 2 && \
     AES5_PRIMARY_BUFFER_BYTES == 2048 && AES5_CONVERSION_BUFFER_BYTES == 2048 &&                       \
     AES5_SCRATCH_BUFFER_BYTES == 2048 && AES5_DATA_ALIGNMENT == 32 && AES5_HISTORY_CAPACITY == 32)

static unsigned round_up(unsigned v, unsigned to) { return (v + to - 1) / to * to; }

static void test_config_default(void) {
    aes5_runtime_config_t c;
    memset(&c, 0xA5, sizeof c); /* every field must be written */
    CHECK_STATUS(aes5_runtime_config_default(&c), AES5_OK);
    CHECK_EQ(c.max_frame_size_samples, 1024);
    CHECK_EQ(c.max_frame_size_samples, AES5_MAX_FRAME_SIZE_SAMPLES);
    CHECK_EQ(c.max_channels, 8);
    CHECK_EQ(c.max_channels, AES5_MAX_CHANNELS);
    CHECK_EQ(c.max_sample_rate_hz, 384000);
    CHECK_EQ(c.max_sample_rate_hz, AES5_MAX_SAMPLE_RATE_HZ);
    CHECK(c.min_success_rate == 0.999f);
    CHECK(c.min_success_rate == (float)AES5_DEFAULT_MIN_SUCCESS_RATE);
    CHECK_EQ(c.allocation_timeout_ns, 100000);
    CHECK_EQ(c.allocation_timeout_ns, AES5_DEFAULT_ALLOCATION_TIMEOUT_NS);
    CHECK_EQ(c.enable_performance_monitoring, 1);
    CHECK_EQ(c.enable_memory_validation, 1);
    CHECK_EQ(c.enable_debug_logging, 0);
    CHECK(c.now_ns == NULL);
    CHECK(c.clock_context == NULL);
    CHECK(c.log == NULL);
    CHECK(c.log_context == NULL);
}

static void test_storage_layout(void) {
    aes5_storage_layout_t l;
    unsigned parts;
    unsigned data = AES5_PRIMARY_BUFFER_COUNT * round_up(AES5_PRIMARY_BUFFER_BYTES, AES5_DATA_ALIGNMENT) +
                    AES5_CONVERSION_BUFFER_COUNT * round_up(AES5_CONVERSION_BUFFER_BYTES, AES5_DATA_ALIGNMENT) +
                    AES5_SCRATCH_BUFFER_COUNT * round_up(AES5_SCRATCH_BUFFER_BYTES, AES5_DATA_ALIGNMENT);

    CHECK_EQ(sizeof(aes5_buffer_manager_storage_t), AES5_STORAGE_BYTES);
    CHECK_EQ(sizeof(aes5_buffer_manager_storage_t), AES5_STORAGE_WORDS * 8u);
    if (DEFAULT_GEOMETRY) {
        CHECK(sizeof(aes5_buffer_manager_storage_t) <= 32768); /* docs/DESIGN.md §7 RAM budget */
    }
    CHECK(offsetof(struct storage_align_probe, s) >= 8); /* holds uint64_t words */

    memset(&l, 0xA5, sizeof l);
    CHECK_STATUS(aes5_buffer_manager_storage_layout(&l), AES5_OK);
    CHECK_EQ(l.storage_bytes, sizeof(aes5_buffer_manager_storage_t));
    CHECK(l.required_bytes <= l.storage_bytes);
    CHECK_EQ(l.required_bytes, l.control_block_bytes + l.alignment_padding_bytes + l.data_bytes);
    /* A guard zone before every buffer's data and one after the last. */
    CHECK_EQ(l.guard_bytes, AES5_GUARD_BYTES == 0 ? 0u : (AES5_TEST_TOTAL_BUFFERS + 1u) * AES5_GUARD_BYTES);
    CHECK_EQ(l.data_bytes, data + l.guard_bytes);
    CHECK(l.alignment_padding_bytes < AES5_DATA_ALIGNMENT);
    CHECK_EQ(l.total_buffers, AES5_TEST_TOTAL_BUFFERS);
    CHECK_EQ(l.history_capacity, AES5_HISTORY_CAPACITY);
    CHECK(l.header_bytes >= AES5_TEST_TOTAL_BUFFERS * sizeof(aes5_audio_buffer_t));
    parts = l.header_bytes + l.slot_control_bytes + l.statistics_bytes + l.metrics_bytes + l.history_bytes;
    CHECK(parts <= l.control_block_bytes);
    CHECK(l.slot_control_bytes > 0 && l.statistics_bytes > 0 && l.metrics_bytes > 0 && l.history_bytes > 0);
}

static aes5_audio_format_t fmt(uint32_t rate, uint16_t ch, uint16_t bits, uint16_t frames, uint8_t packing,
                               uint8_t encoding, uint8_t pull) {
    aes5_audio_format_t f = aes5_test_format(frames);
    f.sample_rate_hz = rate;
    f.channel_count = ch;
    f.sample_size_bits = bits;
    f.sample_packing = packing;
    f.sample_encoding = encoding;
    f.rate_pull = pull;
    return f;
}

static void expect_bytes(aes5_audio_format_t f, uint32_t want) {
    uint32_t bytes = 0xDEADBEEF;
    CHECK_STATUS(aes5_audio_format_bytes(&f, &bytes), AES5_OK);
    CHECK_EQ(bytes, want);
}

/* The effective rate equals nominal x mul / div Hz, compared as fractions. */
static void expect_rate(aes5_audio_format_t f, uint64_t mul, uint64_t div, uint64_t reduced_num,
                        uint64_t reduced_den) {
    uint64_t num = 0, den = 0;
    CHECK_STATUS(aes5_audio_format_effective_rate(&f, &num, &den), AES5_OK);
    CHECK(den != 0);
    CHECK_EQ(num * div, (uint64_t)f.sample_rate_hz * mul * den);
    if (reduced_num != 0) { /* the header's own example */
        CHECK_EQ(num, reduced_num);
        CHECK_EQ(den, reduced_den);
    }
}

static void expect_duration(aes5_audio_format_t f, uint64_t want_ns) {
    uint64_t ns = 0;
    CHECK_STATUS(aes5_audio_format_frame_duration_ns(&f, &ns), AES5_OK);
    CHECK_EQ(ns, want_ns);
}

static void test_formats(void) {
    /* bytes = channels x frames x container */
    expect_bytes(aes5_test_format(64), 256);
    expect_bytes(fmt(48000, 2, 24, 64, AES5_PACKING_DEFAULT, AES5_ENCODING_INTEGER, 0), 2 * 64 * 4);
    expect_bytes(fmt(48000, 2, 24, 64, AES5_PACKING_PACKED_24, AES5_ENCODING_INTEGER, 0), 2 * 64 * 3);
    expect_bytes(fmt(48000, 2, 32, 64, AES5_PACKING_DEFAULT, AES5_ENCODING_INTEGER, 0), 2 * 64 * 4);
    expect_bytes(fmt(48000, 2, 32, 64, AES5_PACKING_DEFAULT, AES5_ENCODING_FLOAT, 0), 2 * 64 * 4);
    expect_bytes(fmt(32000, 1, 16, 1, 0, 0, 0), 2);
    /* The compile-time limits, independent of any slot size. */
    expect_bytes(fmt(384000, AES5_MAX_CHANNELS, 32, AES5_MAX_FRAME_SIZE_SAMPLES, 0, AES5_ENCODING_FLOAT, 2),
                 AES5_MAX_CHANNELS * AES5_MAX_FRAME_SIZE_SAMPLES * 4u);
    expect_bytes(fmt(352800, 8, 24, 1024, AES5_PACKING_PACKED_24, 0, AES5_RATE_PULL_UP), 8u * 1024u * 3u);

    /* Effective rates: exact fractions. */
    expect_rate(fmt(48000, 2, 16, 48, 0, 0, AES5_RATE_PULL_NONE), 1, 1, 48000, 1);
    expect_rate(fmt(48000, 2, 16, 48, 0, 0, AES5_RATE_PULL_DOWN), 1000, 1001, 48000000, 1001);
    expect_rate(fmt(48000, 2, 16, 48, 0, 0, AES5_RATE_PULL_UP), 1001, 1000, 0, 0);
    expect_rate(fmt(44100, 2, 16, 48, 0, 0, AES5_RATE_PULL_UP), 1001, 1000, 0, 0);
    expect_rate(fmt(44100, 2, 16, 48, 0, 0, AES5_RATE_PULL_DOWN), 1000, 1001, 0, 0);
    expect_rate(fmt(384000, 8, 32, 1024, 0, 0, AES5_RATE_PULL_DOWN), 1000, 1001, 0, 0);
    expect_rate(fmt(176400, 1, 24, 8, 0, 0, AES5_RATE_PULL_NONE), 1, 1, 0, 0);

    /* Frame durations, rounded to the nearest ns. */
    expect_duration(fmt(48000, 2, 16, 48, 0, 0, AES5_RATE_PULL_NONE), 1000000);
    expect_duration(fmt(48000, 2, 16, 48, 0, 0, AES5_RATE_PULL_DOWN), 1001000);
    expect_duration(fmt(48000, 2, 16, 48, 0, 0, AES5_RATE_PULL_UP), 999001);   /* 999000.999 */
    expect_duration(fmt(44100, 1, 16, 441, 0, 0, AES5_RATE_PULL_NONE), 10000000);
    expect_duration(fmt(384000, 1, 16, 1024, 0, 0, AES5_RATE_PULL_NONE), 2666667); /* 2666666.67 */
    expect_duration(fmt(32000, 1, 16, 1, 0, 0, AES5_RATE_PULL_NONE), 31250);
    expect_duration(fmt(44100, 1, 16, 1, 0, 0, AES5_RATE_PULL_DOWN), 22698);       /* 22698.41 */
}

static void test_frequencies(void) {
    static const uint32_t yes[9] = {32000, 44100, 48000, 88200, 96000, 176400, 192000, 352800, 384000};
    static const uint32_t no[12] = {0, 8000, 22050, 31999, 44056, 47952, 48048, 64000,
                                    176000, 384001, 768000, 0xFFFFFFFFu};
    unsigned i;
    for (i = 0; i < 9; i++) CHECK(aes5_is_aes5_frequency(yes[i]));
    for (i = 0; i < 12; i++) CHECK(!aes5_is_aes5_frequency(no[i]));
    CHECK(aes5_is_aes5_frequency(AES5_MIN_SAMPLE_RATE_HZ));
    CHECK(aes5_is_aes5_frequency(AES5_MAX_SAMPLE_RATE_HZ));
}

static void test_status_strings(void) {
    const char *text[15];
    aes5_status_t s, t;
    for (s = 0; s <= 13; s++) {
        text[s] = aes5_status_string(s);
        CHECK(text[s] != NULL);
        if (text[s] == NULL) text[s] = "";
        CHECK(text[s][0] != '\0');
    }
    text[14] = aes5_status_string(999);
    CHECK(text[14] != NULL);
    if (text[14] == NULL) text[14] = "";
    CHECK(text[14][0] != '\0');
    CHECK(aes5_status_string(0xFFFFFFFFu) != NULL);
    for (s = 0; s < 15; s++) {
        for (t = s + 1; t < 15; t++) CHECK(strcmp(text[s], text[t]) != 0);
    }
    /* The same code gives the same static text. */
    CHECK(aes5_status_string(AES5_ERR_POOL_EXHAUSTED) == aes5_status_string(AES5_ERR_POOL_EXHAUSTED));
}

static void test_status_values(void) {
    /* docs/DESIGN.md §4: values are fixed and never renumbered. */
    CHECK_EQ(AES5_OK, 0);
    CHECK_EQ(AES5_ERR_NULL_POINTER, 1);
    CHECK_EQ(AES5_ERR_INVALID_ARGUMENT, 2);
    CHECK_EQ(AES5_ERR_MISALIGNED_STORAGE, 3);
    CHECK_EQ(AES5_ERR_INVALID_STATE, 4);
    CHECK_EQ(AES5_ERR_UNSUPPORTED_FORMAT, 5);
    CHECK_EQ(AES5_ERR_FORMAT_TOO_LARGE, 6);
    CHECK_EQ(AES5_ERR_POOL_EXHAUSTED, 7);
    CHECK_EQ(AES5_ERR_NO_POOL_FOR_TYPE, 8);
    CHECK_EQ(AES5_ERR_FOREIGN_BUFFER, 9);
    CHECK_EQ(AES5_ERR_DOUBLE_RELEASE, 10);
    CHECK_EQ(AES5_ERR_CORRUPTED, 11);
    CHECK_EQ(AES5_ERR_BUFFERS_OUTSTANDING, 12);
    CHECK_EQ(AES5_ERR_ALREADY_INITIALIZED, 13);
    CHECK_EQ(AES5_STATE_UNINITIALIZED, 0);
    CHECK_EQ(AES5_STATE_SHUTDOWN, 7);
    CHECK_EQ(AES5_BUFFER_TYPE_PRIMARY, 0);
    CHECK_EQ(AES5_BUFFER_TYPE_METADATA, 5);
    CHECK_EQ(AES5_BUFFER_TYPE_COUNT, 6);
}

int main(void) {
    test_config_default();
    test_storage_layout();
    test_formats();
    test_frequencies();
    test_status_strings();
    test_status_values();
    return aes5_test_finish("test_api_utilities");
}
