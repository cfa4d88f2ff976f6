/*
 * test_support.h: a tiny assertion kit shared by the C and C++ tests.
 *
 * Each test is one executable; it exits 0 when every check passed and 1 otherwise, so it
 * runs the same under ctest on the host and under QEMU semihosting on Cortex-M.
 * Tests take the geometry from the header's constants, never from hard-coded numbers.
 */
#ifndef AES5_TEST_SUPPORT_H
#define AES5_TEST_SUPPORT_H

#include <stdio.h>
#include <string.h>

#include "aes5_buffer_manager.h"

static int aes5_test_failures = 0;
static int aes5_test_checks = 0;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        aes5_test_checks++;                                                           \
        if (!(cond)) {                                                                \
            aes5_test_failures++;                                                     \
            printf("%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);           \
        }                                                                             \
    } while (0)

#define CHECK_EQ(actual, expected)                                                    \
    do {                                                                              \
        unsigned long long aes5_a_ = (unsigned long long)(actual);                    \
        unsigned long long aes5_e_ = (unsigned long long)(expected);                  \
        aes5_test_checks++;                                                           \
        if (aes5_a_ != aes5_e_) {                                                     \
            aes5_test_failures++;                                                     \
            printf("%s:%d: %s == %llu, expected %s == %llu\n", __FILE__, __LINE__,    \
                   #actual, aes5_a_, #expected, aes5_e_);                             \
        }                                                                             \
    } while (0)

/* Checks a call's status and names both statuses on failure. */
#define CHECK_STATUS(call, expected)                                                  \
    do {                                                                              \
        aes5_status_t aes5_s_ = (call);                                               \
        aes5_status_t aes5_x_ = (expected);                                           \
        aes5_test_checks++;                                                           \
        if (aes5_s_ != aes5_x_) {                                                     \
            aes5_test_failures++;                                                     \
            printf("%s:%d: %s returned %s, expected %s\n", __FILE__, __LINE__, #call, \
                   aes5_status_string(aes5_s_), aes5_status_string(aes5_x_));         \
        }                                                                             \
    } while (0)

/* Ends a test: prints a summary line and returns the process exit code. */
static inline int aes5_test_finish(const char *name) {
    printf("%s: %d checks, %d failed\n", name, aes5_test_checks, aes5_test_failures);
    return aes5_test_failures == 0 ? 0 : 1;
}

/* A plain 48 kHz stereo 16-bit PCM format of `frames` samples per channel. */
static inline aes5_audio_format_t aes5_test_format(uint16_t frames) {
    aes5_audio_format_t f;
    memset(&f, 0, sizeof f);
    f.sample_rate_hz = 48000;
    f.channel_count = 2;
    f.sample_size_bits = 16;
    f.frame_size_samples = frames;
    return f;
}

/* Buffers in the pool of `type` (0 for types without a pool). */
static inline unsigned aes5_test_pool_count(aes5_buffer_type_t type) {
    switch (type) {
    case AES5_BUFFER_TYPE_PRIMARY: return AES5_PRIMARY_BUFFER_COUNT;
    case AES5_BUFFER_TYPE_CONVERSION: return AES5_CONVERSION_BUFFER_COUNT;
    case AES5_BUFFER_TYPE_SCRATCH: return AES5_SCRATCH_BUFFER_COUNT;
    default: return 0;
    }
}

/*
 * True when two statistics snapshots agree on everything a refused call must not change:
 * per-type allocated/peak/totals/quarantined, and the manager state.
 */
static inline int aes5_test_same_holdings(const aes5_manager_statistics_t *a, const aes5_manager_statistics_t *b) {
    int i;
    if (a->current_state != b->current_state) return 0;
    for (i = 0; i < AES5_BUFFER_TYPE_COUNT; i++) {
        const aes5_pool_statistics_t *x = &a->buffer_type_stats[i];
        const aes5_pool_statistics_t *y = &b->buffer_type_stats[i];
        if (x->allocated_buffers != y->allocated_buffers || x->peak_allocated != y->peak_allocated ||
            x->total_allocations != y->total_allocations || x->total_releases != y->total_releases ||
            x->quarantined_buffers != y->quarantined_buffers || x->allocation_failures != y->allocation_failures) {
            return 0;
        }
    }
    return 1;
}

#endif /* AES5_TEST_SUPPORT_H */
