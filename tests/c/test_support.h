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

/* Buffers in all three pools together. */
#define AES5_TEST_TOTAL_BUFFERS \
    (AES5_PRIMARY_BUFFER_COUNT + AES5_CONVERSION_BUFFER_COUNT + AES5_SCRATCH_BUFFER_COUNT)

/* Like CHECK, but reports `file`:`line` (for checks made inside helper functions). */
static inline void aes5_test_check_at(int ok, const char *what, const char *file, int line) {
    aes5_test_checks++;
    if (!ok) {
        aes5_test_failures++;
        printf("%s:%d: CHECK failed: %s\n", file, line, what);
    }
}

/* Bytes one buffer of the pool of `type` holds (0 for types without a pool). */
static inline unsigned aes5_test_pool_bytes(aes5_buffer_type_t type) {
    switch (type) {
    case AES5_BUFFER_TYPE_PRIMARY: return AES5_PRIMARY_BUFFER_BYTES;
    case AES5_BUFFER_TYPE_CONVERSION: return AES5_CONVERSION_BUFFER_BYTES;
    case AES5_BUFFER_TYPE_SCRATCH: return AES5_SCRATCH_BUFFER_BYTES;
    default: return 0;
    }
}

/*
 * Like aes5_test_same_holdings, for a refusal with AES5_ERR_POOL_EXHAUSTED: the pool of `type`
 * must show exactly `extra` more allocation failures in `b` than in `a`; everything else agrees.
 */
static inline int aes5_test_same_holdings_but_failures(const aes5_manager_statistics_t *a,
                                                       const aes5_manager_statistics_t *b,
                                                       aes5_buffer_type_t type, unsigned extra) {
    int i;
    if (a->current_state != b->current_state) return 0;
    if (b->allocation_failures != a->allocation_failures + extra) return 0;
    for (i = 0; i < AES5_BUFFER_TYPE_COUNT; i++) {
        const aes5_pool_statistics_t *x = &a->buffer_type_stats[i];
        const aes5_pool_statistics_t *y = &b->buffer_type_stats[i];
        unsigned long long want = x->allocation_failures + ((aes5_buffer_type_t)i == type ? extra : 0u);
        if (x->allocated_buffers != y->allocated_buffers || x->peak_allocated != y->peak_allocated ||
            x->total_allocations != y->total_allocations || x->total_releases != y->total_releases ||
            x->quarantined_buffers != y->quarantined_buffers || y->allocation_failures != want) {
            return 0;
        }
    }
    return 1;
}

/* One statistics structure the helpers below share (static: a Cortex-M0 image's stack is small,
 * and one copy keeps its RAM within the board's 16 KiB). */
static aes5_manager_statistics_t aes5_test_statistics_scratch;

/*
 * After a refused call on `m`: its statistics agree with `before` (aes5_test_same_holdings) and
 * every non-NULL buffer of `held[0..count)` still validates AES5_OK. Reports the caller's line.
 */
static inline void aes5_test_unchanged_at(const aes5_buffer_manager_t *m, const aes5_manager_statistics_t *before,
                                          aes5_audio_buffer_t *const *held, unsigned count, const char *file,
                                          int line) {
    aes5_manager_statistics_t *after = &aes5_test_statistics_scratch;
    unsigned i;
    aes5_test_check_at(aes5_buffer_manager_get_statistics(m, after) == AES5_OK, "get_statistics == AES5_OK",
                       file, line);
    aes5_test_check_at(aes5_test_same_holdings(before, after), "statistics unchanged by the refused call", file,
                       line);
    for (i = 0; i < count; i++) {
        if (held[i] != NULL) {
            aes5_test_check_at(aes5_buffer_manager_validate_buffer(m, held[i]) == AES5_OK,
                               "held buffer still validates AES5_OK", file, line);
        }
    }
}
#define CHECK_UNCHANGED(m, before, held, count) aes5_test_unchanged_at((m), (before), (held), (count), __FILE__, __LINE__)

/* Addresses to pre-fill out-parameters with; they must survive a refused call. */
static inline aes5_audio_buffer_t *aes5_test_sentinel_buffer(void) {
    static aes5_audio_buffer_t sentinel;
    return &sentinel;
}
static inline aes5_buffer_manager_t *aes5_test_sentinel_manager(void) {
    static uint64_t sentinel;
    return (aes5_buffer_manager_t *)(void *)&sentinel;
}

/* True when `x` is within `tol` of `want` (no libm needed). */
static inline int aes5_test_near(float x, float want, float tol) {
    return x >= want - tol && x <= want + tol;
}

/* The failure counters a refused call may change, as a test expects them. */
typedef struct {
    unsigned long long failed_operations;   /* statistics.failed_operations */
    unsigned long long validation_errors;   /* metrics.validation_errors == statistics.validation_failures */
    unsigned long long release_failures;    /* metrics.release_failures */
    unsigned long long allocation_failures; /* metrics.allocation_failures == statistics.allocation_failures */
    unsigned long long corruption;          /* metrics.corruption_detected == statistics.memory_corruption_count */
} aes5_test_counts_t;

/* Checks every counter of `want` against the manager's statistics and metrics. */
static inline void aes5_test_counts_at(const aes5_buffer_manager_t *m, const aes5_test_counts_t *want,
                                       const char *file, int line) {
    aes5_manager_statistics_t *sp = &aes5_test_statistics_scratch;
    static aes5_realtime_metrics_t x;
    int ok = aes5_buffer_manager_get_statistics(m, sp) == AES5_OK && aes5_buffer_manager_get_metrics(m, &x) == AES5_OK;
    aes5_test_check_at(ok, "get_statistics and get_metrics == AES5_OK", file, line);
    if (!ok) return;
#define AES5_TEST_COUNT(actual, expected)                                                               \
    aes5_test_checks++;                                                                                 \
    if ((unsigned long long)(actual) != (expected)) {                                                   \
        aes5_test_failures++;                                                                           \
        printf("%s:%d: %s == %llu, expected %llu\n", file, line, #actual, (unsigned long long)(actual), \
               (unsigned long long)(expected));                                                         \
    }
    AES5_TEST_COUNT(sp->failed_operations, want->failed_operations)
    AES5_TEST_COUNT(sp->validation_failures, want->validation_errors)
    AES5_TEST_COUNT(x.validation_errors, want->validation_errors)
    AES5_TEST_COUNT(x.release_failures, want->release_failures)
    AES5_TEST_COUNT(sp->allocation_failures, want->allocation_failures)
    AES5_TEST_COUNT(x.allocation_failures, want->allocation_failures)
    AES5_TEST_COUNT(sp->memory_corruption_count, want->corruption)
    AES5_TEST_COUNT(x.corruption_detected, want->corruption)
#undef AES5_TEST_COUNT
}
#define CHECK_COUNTS(m, want) aes5_test_counts_at((m), (want), __FILE__, __LINE__)

/* 1 where a NULL `now_ns` means the host's monotonic clock (header: Linux, macOS), else 0. */
#if defined(__linux__) || defined(__APPLE__)
#define AES5_TEST_HOSTED_CLOCK 1
#else
#define AES5_TEST_HOSTED_CLOCK 0
#endif

/* The manager's state (checked read; 99 if the read failed). */
static inline aes5_manager_state_t aes5_test_state(const aes5_buffer_manager_t *manager) {
    aes5_manager_state_t s = 99;
    CHECK_STATUS(aes5_buffer_manager_get_state(manager, &s), AES5_OK);
    return s;
}

#endif /* AES5_TEST_SUPPORT_H */
