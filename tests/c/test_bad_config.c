/*
 * test_bad_config.c: docs/DESIGN.md §4 for init: misaligned storage and every invalid
 * configuration field (each range end just outside, the flags 2 and 255, a min_success_rate
 * of 0.94, 1.01, NaN, ...) give their status, leave out_manager untouched and the storage
 * uninitialised, and do not disturb a live manager; both ends of every range are accepted.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "test_support.h"

static aes5_buffer_manager_storage_t live_storage;
static aes5_buffer_manager_storage_t spare_storage;
static aes5_audio_buffer_t *held[3];
static aes5_manager_statistics_t before;

static void test_misaligned_storage(void) {
    struct probe {
        char c;
        aes5_buffer_manager_storage_t s;
    };
    size_t align = offsetof(struct probe, s);
    aes5_buffer_manager_t *out = aes5_test_sentinel_manager();
    aes5_manager_state_t state = 99;
    CHECK(align >= 8);
    CHECK_STATUS(aes5_buffer_manager_init((aes5_buffer_manager_storage_t *)(void *)((char *)&spare_storage + align / 2),
                                          NULL, &out),
                 AES5_ERR_MISALIGNED_STORAGE);
    CHECK(out == aes5_test_sentinel_manager());
    CHECK_STATUS(aes5_buffer_manager_get_state((aes5_buffer_manager_t *)(void *)&spare_storage, &state),
                 AES5_ERR_INVALID_STATE);
}

/* init on spare storage with `c` must be refused and leave everything untouched. */
static void expect_bad_config(const aes5_runtime_config_t *c, int line) {
    aes5_buffer_manager_t *out = aes5_test_sentinel_manager();
    aes5_test_check_at(aes5_buffer_manager_init(&spare_storage, c, &out) == AES5_ERR_INVALID_ARGUMENT,
                       "init with a bad config == AES5_ERR_INVALID_ARGUMENT", __FILE__, line);
    aes5_test_check_at(out == aes5_test_sentinel_manager(), "out_manager untouched", __FILE__, line);
}

static void expect_good_config(const aes5_runtime_config_t *c, int line) {
    aes5_buffer_manager_t *out = aes5_test_sentinel_manager();
    aes5_test_check_at(aes5_buffer_manager_init(&spare_storage, c, &out) == AES5_OK, "init == AES5_OK", __FILE__,
                       line);
    aes5_test_check_at(out == (aes5_buffer_manager_t *)(void *)&spare_storage, "handle is the storage", __FILE__,
                       line);
    aes5_test_check_at(aes5_buffer_manager_shutdown(out) == AES5_OK, "shutdown == AES5_OK", __FILE__, line);
}

#define BAD_CONFIG(field, value)                 \
    do {                                         \
        aes5_runtime_config_t c_ = base;         \
        c_.field = (value);                      \
        expect_bad_config(&c_, __LINE__);        \
    } while (0)
#define GOOD_CONFIG(field, value)                \
    do {                                         \
        aes5_runtime_config_t c_ = base;         \
        c_.field = (value);                      \
        expect_good_config(&c_, __LINE__);       \
    } while (0)

static void test_config_fields(void) {
    aes5_runtime_config_t base;
    aes5_manager_state_t state = 99;
    CHECK_STATUS(aes5_runtime_config_default(&base), AES5_OK);

    BAD_CONFIG(max_frame_size_samples, 0);
    BAD_CONFIG(max_frame_size_samples, AES5_MAX_FRAME_SIZE_SAMPLES + 1);
    BAD_CONFIG(max_frame_size_samples, 0xFFFFFFFFu);
    BAD_CONFIG(max_channels, 0);
    BAD_CONFIG(max_channels, AES5_MAX_CHANNELS + 1);
    BAD_CONFIG(max_sample_rate_hz, 0);
    BAD_CONFIG(max_sample_rate_hz, AES5_MIN_SAMPLE_RATE_HZ - 1);
    BAD_CONFIG(max_sample_rate_hz, AES5_MAX_SAMPLE_RATE_HZ + 1);
    BAD_CONFIG(allocation_timeout_ns, 0);
    BAD_CONFIG(allocation_timeout_ns, AES5_MIN_ALLOCATION_TIMEOUT_NS - 1);
    BAD_CONFIG(trend_interval_ns, 0);
    BAD_CONFIG(trend_interval_ns, AES5_MIN_TREND_INTERVAL_NS - 1);
    BAD_CONFIG(trend_interval_ns, 3600000001000ull); /* above one hour */
    BAD_CONFIG(min_success_rate, 0.94f);
    BAD_CONFIG(min_success_rate, 0.9499f);
    BAD_CONFIG(min_success_rate, 1.01f);
    BAD_CONFIG(min_success_rate, NAN);
    BAD_CONFIG(min_success_rate, INFINITY);
    BAD_CONFIG(min_success_rate, -1.0f);
    BAD_CONFIG(enable_performance_monitoring, 2);
    BAD_CONFIG(enable_performance_monitoring, 255);
    BAD_CONFIG(enable_memory_validation, 2);
    BAD_CONFIG(enable_memory_validation, 255);
    BAD_CONFIG(enable_debug_logging, 2);
    BAD_CONFIG(enable_debug_logging, 255);
    /* None of those refusals touched the storage. */
    CHECK_STATUS(aes5_buffer_manager_get_state((aes5_buffer_manager_t *)(void *)&spare_storage, &state),
                 AES5_ERR_INVALID_STATE);
    CHECK_EQ(state, 99);

    /* Both ends of every range are accepted. */
    GOOD_CONFIG(max_frame_size_samples, 1);
    GOOD_CONFIG(max_frame_size_samples, AES5_MAX_FRAME_SIZE_SAMPLES);
    GOOD_CONFIG(max_channels, 1);
    GOOD_CONFIG(max_channels, AES5_MAX_CHANNELS);
    GOOD_CONFIG(max_sample_rate_hz, AES5_MIN_SAMPLE_RATE_HZ);
    GOOD_CONFIG(max_sample_rate_hz, AES5_MAX_SAMPLE_RATE_HZ);
    GOOD_CONFIG(allocation_timeout_ns, AES5_MIN_ALLOCATION_TIMEOUT_NS);
    GOOD_CONFIG(allocation_timeout_ns, 0xFFFFFFFFFFFFFFFFull);
    GOOD_CONFIG(trend_interval_ns, AES5_MIN_TREND_INTERVAL_NS);
    GOOD_CONFIG(trend_interval_ns, 3600000000000ull); /* one hour */
    GOOD_CONFIG(min_success_rate, (float)AES5_MIN_SUCCESS_RATE_FLOOR);
    GOOD_CONFIG(min_success_rate, 1.0f);
    GOOD_CONFIG(enable_performance_monitoring, 0);
    GOOD_CONFIG(enable_memory_validation, 0);
    GOOD_CONFIG(enable_debug_logging, 1);
}

/*
 * A caller compiled against a header of another geometry passes another storage size:
 * init_checked refuses it (and NULLs) before touching the storage; the macro passes the size
 * this file was compiled with and succeeds.
 */
static void test_storage_size_check(void) {
    aes5_buffer_manager_t *out = aes5_test_sentinel_manager();
    aes5_manager_state_t state = 99;
    CHECK_STATUS(aes5_buffer_manager_init_checked(&spare_storage, sizeof spare_storage - 8, NULL, &out),
                 AES5_ERR_STORAGE_SIZE_MISMATCH);
    CHECK_STATUS(aes5_buffer_manager_init_checked(&spare_storage, sizeof spare_storage + 8, NULL, &out),
                 AES5_ERR_STORAGE_SIZE_MISMATCH);
    CHECK_STATUS(aes5_buffer_manager_init_checked(&spare_storage, 0, NULL, &out), AES5_ERR_STORAGE_SIZE_MISMATCH);
    CHECK(out == aes5_test_sentinel_manager());
    CHECK_STATUS(aes5_buffer_manager_init_checked(NULL, sizeof spare_storage, NULL, &out), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_init_checked(&spare_storage, sizeof spare_storage, NULL, NULL),
                 AES5_ERR_NULL_POINTER);
    CHECK(out == aes5_test_sentinel_manager());
    CHECK_STATUS(AES5_BUFFER_MANAGER_INIT(&spare_storage, NULL, &out), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_get_state(out, &state), AES5_OK);
    CHECK_EQ(state, AES5_STATE_READY);
    CHECK_STATUS(AES5_BUFFER_MANAGER_INIT(&spare_storage, NULL, &out), AES5_ERR_ALREADY_INITIALIZED);
    CHECK_STATUS(aes5_buffer_manager_shutdown(out), AES5_OK);
}

int main(void) {
    aes5_buffer_manager_t *m = NULL;
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_test_counts_t none;
    unsigned i;

    memset(&none, 0, sizeof none);
    CHECK_STATUS(aes5_buffer_manager_init(&live_storage, NULL, &m), AES5_OK);
    for (i = 0; i < 3; i++) {
        held[i] = NULL;
        CHECK_STATUS(aes5_buffer_manager_allocate(m, (aes5_buffer_type_t)i, &f, &held[i]), AES5_OK);
    }
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &before), AES5_OK);

    test_misaligned_storage();
    test_config_fields();
    test_storage_size_check();

    /* The live manager next door saw none of it. */
    CHECK_UNCHANGED(m, &before, held, 3);
    CHECK_COUNTS(m, &none);
    for (i = 0; i < 3; i++) CHECK_STATUS(aes5_buffer_manager_release(m, held[i]), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
    return aes5_test_finish("test_bad_config");
}
