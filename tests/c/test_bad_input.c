/*
 * test_bad_input.c: docs/DESIGN.md §4 for arguments: NULL pointers (each one separately), enum
 * values out of range, every invalid format field, formats larger than a slot, and types
 * without a pool.
 *
 * After every refused call: the out-parameters keep their sentinel, the statistics agree
 * with a snapshot taken before the call, the held buffers still validate, and the failure
 * counters moved by exactly what the refusal accounts for. Misaligned storage and bad
 * configurations are in test_bad_config.c; buffer pointers, corruption and state refusals in
 * test_bad_buffers.c.
 */
#include <stddef.h>
#include <stdint.h>

#include "test_support.h"

static aes5_buffer_manager_storage_t limited_storage; /* narrowed limits */
static aes5_buffer_manager_storage_t wide_storage;    /* defaults */

static aes5_buffer_manager_t *m; /* limited: 4 channels, 128 frames, 96 kHz */
static aes5_buffer_manager_t *w; /* defaults */
static aes5_audio_buffer_t *held[3];
static aes5_audio_buffer_t *wide_held[1];
static aes5_test_counts_t want;      /* for m */
static aes5_test_counts_t wide_want; /* for w */
static aes5_manager_statistics_t before;

/* A structure of each out-type, pre-filled with 0xA5 next to a reference copy. */
static union {
    aes5_manager_statistics_t stats;
    aes5_pool_statistics_t pool;
    aes5_realtime_metrics_t metrics;
    aes5_performance_report_t report;
    aes5_storage_layout_t layout;
    aes5_runtime_config_t config;
} out_struct, out_ref;

static void prefill(void) {
    memset(&out_struct, 0xA5, sizeof out_struct);
    memset(&out_ref, 0xA5, sizeof out_ref);
}
#define CHECK_UNTOUCHED() CHECK(memcmp(&out_struct, &out_ref, sizeof out_struct) == 0)

static void snapshot(aes5_buffer_manager_t *mgr) {
    CHECK_STATUS(aes5_buffer_manager_get_statistics(mgr, &before), AES5_OK);
}

/* After a refused call on m: nothing changed but the counters in `want`. */
#define CHECK_M_UNCHANGED()                       \
    do {                                          \
        CHECK_UNCHANGED(m, &before, held, 3);     \
        CHECK_COUNTS(m, &want);                   \
    } while (0)

/* An allocation on m refused for invalid input: one failed operation, one validation error. */
#define ALLOC_REFUSED_ON_M(type, fmt_ptr, status)                                                   \
    do {                                                                                            \
        aes5_audio_buffer_t *b_ = aes5_test_sentinel_buffer();                                      \
        snapshot(m);                                                                                \
        CHECK_STATUS(aes5_buffer_manager_allocate(m, (type), (fmt_ptr), &b_), (status));            \
        CHECK(b_ == aes5_test_sentinel_buffer());                                                   \
        want.failed_operations++;                                                                   \
        want.validation_errors++;                                                                   \
        CHECK_M_UNCHANGED();                                                                        \
    } while (0)

/* Before any init: a NULL out_manager is refused and leaves the storage uninitialised. */
static void test_init_refusals_before_any_init(void) {
    aes5_manager_state_t state = 99;
    CHECK_STATUS(aes5_buffer_manager_init(&limited_storage, NULL, NULL), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_state((aes5_buffer_manager_t *)(void *)&limited_storage, &state),
                 AES5_ERR_INVALID_STATE); /* nothing was initialised */
    CHECK_EQ(state, 99);
}

static void test_null_pointers(void) {
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_buffer_manager_t *out = aes5_test_sentinel_manager();
    aes5_audio_buffer_t *b = aes5_test_sentinel_buffer();
    aes5_manager_state_t state = 99;
    uint32_t bytes = 0xDEADBEEFu;
    uint64_t num = 0xDEADBEEFu, den = 0xDEADBEEFu, ns = 0xDEADBEEFu;

    prefill();
    CHECK_STATUS(aes5_runtime_config_default(NULL), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_storage_layout(NULL), AES5_ERR_NULL_POINTER);

    /* init: storage, out_manager (config NULL is allowed and means the defaults) */
    CHECK_STATUS(aes5_buffer_manager_init(NULL, NULL, &out), AES5_ERR_NULL_POINTER);
    CHECK(out == aes5_test_sentinel_manager());

    /* Calls with a NULL manager reach no manager: nothing may change on m. */
    snapshot(m);
    CHECK_STATUS(aes5_buffer_manager_shutdown(NULL), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_allocate(NULL, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_ERR_NULL_POINTER);
    CHECK(b == aes5_test_sentinel_buffer());
    CHECK_STATUS(aes5_buffer_manager_release(NULL, held[0]), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_validate_buffer(NULL, held[0]), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_state(NULL, &state), AES5_ERR_NULL_POINTER);
    CHECK_EQ(state, 99);
    CHECK_STATUS(aes5_buffer_manager_transition_state(NULL, AES5_STATE_READY), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_statistics(NULL, &out_struct.stats), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(NULL, 0, &out_struct.pool), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_metrics(NULL, &out_struct.metrics), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_performance_report(NULL, 0, &out_struct.report), AES5_ERR_NULL_POINTER);
    CHECK_UNTOUCHED();
    CHECK_M_UNCHANGED();

    /* NULL out-parameters of the read-only calls: they count nothing. */
    snapshot(m);
    CHECK_STATUS(aes5_buffer_manager_validate_buffer(m, NULL), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_state(m, NULL), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, NULL), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, AES5_BUFFER_TYPE_PRIMARY, NULL), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_metrics(m, NULL), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_performance_report(m, 0, NULL), AES5_ERR_NULL_POINTER);
    CHECK_M_UNCHANGED();

    /* allocate and release count their refusals. */
    ALLOC_REFUSED_ON_M(AES5_BUFFER_TYPE_PRIMARY, NULL, AES5_ERR_NULL_POINTER);
    snapshot(m);
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, NULL), AES5_ERR_NULL_POINTER);
    want.failed_operations++;
    want.validation_errors++;
    CHECK_M_UNCHANGED();
    snapshot(m);
    CHECK_STATUS(aes5_buffer_manager_release(m, NULL), AES5_ERR_NULL_POINTER);
    want.failed_operations++;
    want.validation_errors++;
    want.release_failures++;
    CHECK_M_UNCHANGED();

    /* Format functions: each pointer separately; the other out-parameter is untouched. */
    CHECK_STATUS(aes5_audio_format_bytes(NULL, &bytes), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_audio_format_bytes(&f, NULL), AES5_ERR_NULL_POINTER);
    CHECK_EQ(bytes, 0xDEADBEEFu);
    CHECK_STATUS(aes5_audio_format_effective_rate(NULL, &num, &den), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_audio_format_effective_rate(&f, NULL, &den), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_audio_format_effective_rate(&f, &num, NULL), AES5_ERR_NULL_POINTER);
    CHECK_EQ(num, 0xDEADBEEFu);
    CHECK_EQ(den, 0xDEADBEEFu);
    CHECK_STATUS(aes5_audio_format_frame_duration_ns(NULL, &ns), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_audio_format_frame_duration_ns(&f, NULL), AES5_ERR_NULL_POINTER);
    CHECK_EQ(ns, 0xDEADBEEFu);
}

static void test_enum_values(void) {
    static const aes5_buffer_type_t bad_types[3] = {6, 7, 0xFFFFFFFFu};
    static const aes5_buffer_type_t no_pool[3] = {AES5_BUFFER_TYPE_INPUT, AES5_BUFFER_TYPE_OUTPUT,
                                                  AES5_BUFFER_TYPE_METADATA};
    aes5_audio_format_t f = aes5_test_format(64);
    unsigned i;
    for (i = 0; i < 3; i++) {
        ALLOC_REFUSED_ON_M(bad_types[i], &f, AES5_ERR_INVALID_ARGUMENT);
        prefill();
        snapshot(m);
        CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, bad_types[i], &out_struct.pool),
                     AES5_ERR_INVALID_ARGUMENT);
        CHECK_UNTOUCHED();
        CHECK_M_UNCHANGED();
    }
    for (i = 0; i < 3; i++) ALLOC_REFUSED_ON_M(no_pool[i], &f, AES5_ERR_NO_POOL_FOR_TYPE);
}

/* A format refused by allocate on m; `compile_time` when the header's fixed limits refuse it too. */
static void expect_bad_format(aes5_audio_format_t f, int compile_time, int line) {
    aes5_audio_buffer_t *b = aes5_test_sentinel_buffer();
    uint32_t bytes = 0xDEADBEEFu;
    uint64_t num = 0xDEADBEEFu, den = 0xDEADBEEFu, ns = 0xDEADBEEFu;
    snapshot(m);
    aes5_test_check_at(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b) ==
                           AES5_ERR_UNSUPPORTED_FORMAT,
                       "allocate == AES5_ERR_UNSUPPORTED_FORMAT", __FILE__, line);
    aes5_test_check_at(b == aes5_test_sentinel_buffer(), "out_buffer untouched", __FILE__, line);
    want.failed_operations++;
    want.validation_errors++;
    aes5_test_unchanged_at(m, &before, held, 3, __FILE__, line);
    aes5_test_counts_at(m, &want, __FILE__, line);
    if (compile_time) {
        aes5_test_check_at(aes5_audio_format_bytes(&f, &bytes) == AES5_ERR_UNSUPPORTED_FORMAT &&
                               bytes == 0xDEADBEEFu,
                           "format_bytes refuses, out untouched", __FILE__, line);
        aes5_test_check_at(aes5_audio_format_effective_rate(&f, &num, &den) == AES5_ERR_UNSUPPORTED_FORMAT &&
                               num == 0xDEADBEEFu && den == 0xDEADBEEFu,
                           "effective_rate refuses, outs untouched", __FILE__, line);
        aes5_test_check_at(aes5_audio_format_frame_duration_ns(&f, &ns) == AES5_ERR_UNSUPPORTED_FORMAT &&
                               ns == 0xDEADBEEFu,
                           "frame_duration_ns refuses, out untouched", __FILE__, line);
    } else {
        aes5_test_check_at(aes5_audio_format_bytes(&f, &bytes) == AES5_OK, "format_bytes accepts", __FILE__, line);
    }
}

#define BAD_FORMAT(field, value, compile_time)            \
    do {                                                  \
        aes5_audio_format_t f_ = aes5_test_format(64);    \
        f_.field = (value);                               \
        expect_bad_format(f_, (compile_time), __LINE__);  \
    } while (0)
#define BAD_FORMAT2(field1, value1, field2, value2)       \
    do {                                                  \
        aes5_audio_format_t f_ = aes5_test_format(64);    \
        f_.field1 = (value1);                             \
        f_.field2 = (value2);                             \
        expect_bad_format(f_, 1, __LINE__);               \
    } while (0)

static void test_format_fields(void) {
    BAD_FORMAT(sample_rate_hz, 0, 1);
    BAD_FORMAT(sample_rate_hz, 22050, 1);
    BAD_FORMAT(sample_rate_hz, 47999, 1);
    BAD_FORMAT(sample_rate_hz, 47952, 1); /* a pulled-down value given as nominal */
    BAD_FORMAT(sample_rate_hz, 0xFFFFFFFFu, 1);
    BAD_FORMAT(sample_rate_hz, 192000, 0); /* AES5, but above m's max_sample_rate_hz */
    BAD_FORMAT(channel_count, 0, 1);
    BAD_FORMAT(channel_count, 5, 0); /* above m's max_channels */
    BAD_FORMAT(channel_count, AES5_MAX_CHANNELS + 1, 1);
    BAD_FORMAT(sample_size_bits, 8, 1);
    BAD_FORMAT(sample_size_bits, 20, 1);
    BAD_FORMAT(sample_size_bits, 0, 1);
    BAD_FORMAT(sample_size_bits, 64, 1);
    BAD_FORMAT(frame_size_samples, 0, 1);
    BAD_FORMAT(frame_size_samples, 129, 0); /* above m's max_frame_size_samples */
    BAD_FORMAT(frame_size_samples, AES5_MAX_FRAME_SIZE_SAMPLES + 1, 1);
    BAD_FORMAT2(sample_encoding, AES5_ENCODING_FLOAT, sample_size_bits, 16);
    BAD_FORMAT2(sample_encoding, AES5_ENCODING_FLOAT, sample_size_bits, 24);
    BAD_FORMAT2(sample_packing, AES5_PACKING_PACKED_24, sample_size_bits, 16);
    BAD_FORMAT2(sample_packing, AES5_PACKING_PACKED_24, sample_size_bits, 32);
    BAD_FORMAT(sample_packing, 2, 1);
    BAD_FORMAT(sample_packing, 255, 1);
    BAD_FORMAT(sample_encoding, 2, 1);
    BAD_FORMAT(sample_encoding, 255, 1);
    BAD_FORMAT(rate_pull, 3, 1);
    BAD_FORMAT(rate_pull, 255, 1);
}

/* On w (default limits): per pool, a valid format one frame larger than the slot is refused. */
static void test_format_too_large(void) {
    static const aes5_buffer_type_t types[3] = {AES5_BUFFER_TYPE_PRIMARY, AES5_BUFFER_TYPE_CONVERSION,
                                                AES5_BUFFER_TYPE_SCRATCH};
    unsigned i;
    for (i = 0; i < 3; i++) {
        unsigned capacity = aes5_test_pool_bytes(types[i]);
        unsigned frame_bytes = AES5_MAX_CHANNELS * 4u; /* 8 channels of 32-bit */
        unsigned frames = capacity / frame_bytes + 1u;
        aes5_audio_format_t f = aes5_test_format(1);
        aes5_audio_buffer_t *b = aes5_test_sentinel_buffer();
        uint32_t bytes = 0;
        f.channel_count = AES5_MAX_CHANNELS;
        f.sample_size_bits = 32;
        CHECK(frames <= AES5_MAX_FRAME_SIZE_SAMPLES); /* else no valid format can exceed the slot */
        if (frames > AES5_MAX_FRAME_SIZE_SAMPLES) continue;
        f.frame_size_samples = (uint16_t)frames;
        CHECK_STATUS(aes5_audio_format_bytes(&f, &bytes), AES5_OK); /* a valid format */
        CHECK(bytes > capacity);
        CHECK_STATUS(aes5_buffer_manager_get_statistics(w, &before), AES5_OK);
        CHECK_STATUS(aes5_buffer_manager_allocate(w, types[i], &f, &b), AES5_ERR_FORMAT_TOO_LARGE);
        CHECK(b == aes5_test_sentinel_buffer());
        wide_want.failed_operations++;
        wide_want.validation_errors++;
        CHECK_UNCHANGED(w, &before, wide_held, 1);
        CHECK_COUNTS(w, &wide_want);
        if (capacity % frame_bytes == 0) { /* exactly the capacity fits */
            f.frame_size_samples = (uint16_t)(frames - 1u);
            CHECK_STATUS(aes5_buffer_manager_allocate(w, types[i], &f, &b), AES5_OK);
            CHECK(b != aes5_test_sentinel_buffer());
            if (b != aes5_test_sentinel_buffer()) {
                CHECK_EQ(b->data_size_bytes, capacity);
                CHECK_STATUS(aes5_buffer_manager_release(w, b), AES5_OK);
            }
        }
    }
}

static void test_transition_values(void) {
    static const aes5_manager_state_t bad_states[3] = {8, 9, 0xFFFFFFFFu};
    aes5_manager_state_t state = 99;
    unsigned i;
    for (i = 0; i < 3; i++) {
        snapshot(m);
        CHECK_STATUS(aes5_buffer_manager_transition_state(m, bad_states[i]), AES5_ERR_INVALID_ARGUMENT);
        CHECK_UNCHANGED(m, &before, held, 3);
        CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &before), AES5_OK);
        /* Not an allocate or release: failed_operations and release_failures stay. */
        CHECK_EQ(before.failed_operations, want.failed_operations);
        CHECK_STATUS(aes5_buffer_manager_get_state(m, &state), AES5_OK);
        CHECK_EQ(state, AES5_STATE_ACTIVE);
    }
}

int main(void) {
    aes5_runtime_config_t cfg;
    aes5_audio_format_t f = aes5_test_format(64);
    unsigned i;

    test_init_refusals_before_any_init();
    CHECK_STATUS(aes5_runtime_config_default(&cfg), AES5_OK);
    cfg.max_channels = 4;
    cfg.max_frame_size_samples = 128;
    cfg.max_sample_rate_hz = 96000;
    CHECK_STATUS(aes5_buffer_manager_init(&limited_storage, &cfg, &m), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_init(&wide_storage, NULL, &w), AES5_OK);
    for (i = 0; i < 3; i++) {
        held[i] = NULL;
        CHECK_STATUS(aes5_buffer_manager_allocate(m, (aes5_buffer_type_t)i, &f, &held[i]), AES5_OK);
    }
    CHECK_STATUS(aes5_buffer_manager_allocate(w, AES5_BUFFER_TYPE_PRIMARY, &f, &wide_held[0]), AES5_OK);
    CHECK_COUNTS(m, &want);

    test_null_pointers();
    test_enum_values();
    test_format_fields();
    test_format_too_large();

    /* The totals: every refusal above was counted exactly once, and nothing else was. */
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &before), AES5_OK);
    CHECK_EQ(before.total_operations, 3u + want.failed_operations);
    CHECK_EQ(before.allocation_failures, 0);
    CHECK_EQ(before.memory_corruption_count, 0);
    CHECK_EQ(want.failed_operations, 3 + 6 + 26); /* NULLs, types, formats: the refusals really happened */
    CHECK_STATUS(aes5_buffer_manager_get_statistics(w, &before), AES5_OK);
    CHECK_EQ(before.failed_operations, wide_want.failed_operations);

    test_transition_values();

    for (i = 0; i < 3; i++) CHECK_STATUS(aes5_buffer_manager_release(m, held[i]), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(w, wide_held[0]), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_shutdown(w), AES5_OK);
    return aes5_test_finish("test_bad_input");
}
