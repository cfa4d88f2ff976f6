/*
 * test_api_basics.c: every manager function on its success path.
 *
 * init (NULL config and a config), allocate from the three pools (alignment, bounds,
 * capacity, size, header fields), data areas that do not overlap, validate, release, states
 * Ready -> Active, transition_state to the current state, statistics of all six types,
 * metrics and the performance report. Formats, rates, status texts and the storage layout
 * are in test_api_utilities.c.
 */
#include <stdint.h>

#include "test_support.h"

static aes5_buffer_manager_storage_t storage_a;
static aes5_buffer_manager_storage_t storage_b;

static aes5_audio_buffer_t *held[AES5_TEST_TOTAL_BUFFERS];
static aes5_buffer_type_t held_type[AES5_TEST_TOTAL_BUFFERS];
static aes5_audio_format_t held_format[AES5_TEST_TOTAL_BUFFERS];
static unsigned char id_seen[AES5_TEST_TOTAL_BUFFERS];
static aes5_manager_statistics_t stats;
static aes5_realtime_metrics_t metrics;
static aes5_performance_report_t report;

static const aes5_buffer_type_t pool_types[3] = {AES5_BUFFER_TYPE_PRIMARY, AES5_BUFFER_TYPE_CONVERSION,
                                                 AES5_BUFFER_TYPE_SCRATCH};

/* Four formats of at most 256 bytes, covering every container and rate pull. */
static aes5_audio_format_t format_for(unsigned k) {
    aes5_audio_format_t f = aes5_test_format(64); /* 48 kHz, 2 ch, 16 bit: 256 bytes */
    switch (k % 4) {
    case 1: /* 96 kHz pulled up, mono, packed 24-bit, 64 frames: 192 bytes */
        f.sample_rate_hz = 96000;
        f.channel_count = 1;
        f.sample_size_bits = 24;
        f.sample_packing = AES5_PACKING_PACKED_24;
        f.rate_pull = AES5_RATE_PULL_UP;
        break;
    case 2: /* 44.1 kHz pulled down, stereo float, 32 frames: 256 bytes */
        f.sample_rate_hz = 44100;
        f.sample_size_bits = 32;
        f.sample_encoding = AES5_ENCODING_FLOAT;
        f.frame_size_samples = 32;
        f.rate_pull = AES5_RATE_PULL_DOWN;
        break;
    case 3: /* 192 kHz, mono, 24-in-32, 48 frames: 192 bytes */
        f.sample_rate_hz = 192000;
        f.channel_count = 1;
        f.sample_size_bits = 24;
        f.frame_size_samples = 48;
        break;
    default: break;
    }
    return f;
}

/* channels x frames x container bytes, computed here independently of the library. */
static unsigned expected_bytes(const aes5_audio_format_t *f) {
    unsigned container = f->sample_size_bits == 16 ? 2u : (f->sample_packing == AES5_PACKING_PACKED_24 ? 3u : 4u);
    return (unsigned)f->channel_count * f->frame_size_samples * container;
}

static uint8_t pattern(unsigned buffer, size_t offset) {
    uint32_t x = (uint32_t)(buffer + 1u) * 2654435761u ^ (uint32_t)offset * 40503u;
    x ^= x >> 13;
    return (uint8_t)(x ^ (x >> 7));
}

static void check_header(const aes5_audio_buffer_t *b, aes5_buffer_type_t type, const aes5_audio_format_t *f,
                         unsigned sequence) {
    uintptr_t start = (uintptr_t)&storage_a;
    uintptr_t end = start + sizeof storage_a;
    uintptr_t data = (uintptr_t)b->data_pointer;
    uintptr_t header = (uintptr_t)b;
    CHECK(b->data_pointer != NULL);
    CHECK_EQ(data % AES5_DATA_ALIGNMENT, 0);
    CHECK(data >= start && data + b->buffer_capacity_bytes <= end);
    CHECK(header >= start && header + sizeof *b <= end);
    /* The header does not lie inside any data area (its own at least). */
    CHECK(header + sizeof *b <= data || header >= data + b->buffer_capacity_bytes);
    CHECK_EQ(b->buffer_capacity_bytes, aes5_test_pool_bytes(type));
    CHECK_EQ(b->data_size_bytes, expected_bytes(f));
    CHECK_EQ(b->buffer_type, type);
    CHECK_EQ(b->sample_rate_hz, f->sample_rate_hz);
    CHECK_EQ(b->channel_count, f->channel_count);
    CHECK_EQ(b->sample_size_bits, f->sample_size_bits);
    CHECK_EQ(b->frame_size_samples, f->frame_size_samples);
    CHECK_EQ(b->sample_packing, f->sample_packing);
    CHECK_EQ(b->sample_encoding, f->sample_encoding);
    CHECK_EQ(b->rate_pull, f->rate_pull);
    CHECK_EQ(b->magic_number, AES5_BUFFER_MAGIC);
    CHECK_EQ(b->sequence_number, sequence);
    CHECK_EQ(b->timestamp_ns, 0);
    CHECK_EQ(b->buffer_flags, 0);
    CHECK_EQ(b->processing_start_ns, 0);
    CHECK_EQ(b->processing_count, 0);
    CHECK(b->buffer_id < AES5_TEST_TOTAL_BUFFERS);
    if (b->buffer_id < AES5_TEST_TOTAL_BUFFERS) {
        CHECK_EQ(id_seen[b->buffer_id], 0); /* ids are distinct */
        id_seen[b->buffer_id] = 1;
    }
}

/* Statistics of one pooled type, as get_statistics and get_pool_statistics both report it. */
static void check_pool(const aes5_pool_statistics_t *p, aes5_buffer_type_t type, unsigned allocated, unsigned peak,
                       unsigned allocations, unsigned releases) {
    CHECK_EQ(p->buffer_type, type);
    CHECK_EQ(p->total_buffers, aes5_test_pool_count(type));
    CHECK_EQ(p->buffer_capacity_bytes, aes5_test_pool_bytes(type));
    CHECK_EQ(p->allocated_buffers, allocated);
    CHECK_EQ(p->peak_allocated, peak);
    CHECK_EQ(p->total_allocations, allocations);
    CHECK_EQ(p->total_releases, releases);
    CHECK_EQ(p->allocation_failures, 0);
    CHECK_EQ(p->quarantined_buffers, 0);
}

static void check_no_pool(const aes5_pool_statistics_t *p, aes5_buffer_type_t type) {
    CHECK_EQ(p->buffer_type, type);
    CHECK_EQ(p->total_buffers, 0);
    CHECK_EQ(p->allocated_buffers, 0);
    CHECK_EQ(p->peak_allocated, 0);
    CHECK_EQ(p->quarantined_buffers, 0);
    CHECK_EQ(p->buffer_capacity_bytes, 0);
    CHECK_EQ(p->allocation_failures, 0);
    CHECK_EQ(p->total_allocations, 0);
    CHECK_EQ(p->total_releases, 0);
    CHECK_EQ(p->average_hold_time_ns, 0);
    CHECK(p->average_utilization == 0.0f);
}

/* Both ways of reading per-type statistics, for all six types. */
static void check_all_types(aes5_buffer_manager_t *m, int all_held, unsigned rounds_released) {
    aes5_buffer_type_t t;
    aes5_pool_statistics_t p;
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &stats), AES5_OK);
    for (t = 0; t < AES5_BUFFER_TYPE_COUNT; t++) {
        unsigned n = aes5_test_pool_count(t);
        memset(&p, 0xA5, sizeof p);
        CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, t, &p), AES5_OK);
        if (n == 0) {
            check_no_pool(&p, t);
            check_no_pool(&stats.buffer_type_stats[t], t);
        } else {
            unsigned allocated = all_held ? n : 0;
            check_pool(&p, t, allocated, n, n, rounds_released ? n : 0);
            check_pool(&stats.buffer_type_stats[t], t, allocated, n, n, rounds_released ? n : 0);
        }
    }
}

static void test_init_with_config(void) {
    aes5_runtime_config_t cfg;
    aes5_buffer_manager_t *m = aes5_test_sentinel_manager();
    aes5_audio_buffer_t *b = aes5_test_sentinel_buffer();
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_manager_state_t state = 99;

    CHECK_STATUS(aes5_runtime_config_default(&cfg), AES5_OK);
    cfg.max_channels = 2;
    cfg.max_frame_size_samples = 128;
    cfg.max_sample_rate_hz = 96000;
    cfg.min_success_rate = 0.95f;
    cfg.allocation_timeout_ns = 5000;
    cfg.enable_performance_monitoring = 0;
    CHECK_STATUS(aes5_buffer_manager_init(&storage_b, &cfg, &m), AES5_OK);
    CHECK(m == (aes5_buffer_manager_t *)(void *)&storage_b); /* the handle is the storage's address */
    CHECK_STATUS(aes5_buffer_manager_get_state(m, &state), AES5_OK);
    CHECK_EQ(state, AES5_STATE_READY);

    /* The configuration was copied: changing it now changes nothing. */
    cfg.max_channels = 8;
    f.channel_count = 3;
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_ERR_UNSUPPORTED_FORMAT);
    f = aes5_test_format(64);
    f.sample_rate_hz = 96000;
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_OK);
    CHECK(b != aes5_test_sentinel_buffer());
    CHECK_EQ(b->data_size_bytes, 2u * 64u * 2u);
    CHECK_EQ(b->allocation_time_ns, 0); /* monitoring off */
    CHECK_STATUS(aes5_buffer_manager_get_metrics(m, &metrics), AES5_OK);
    CHECK_EQ(metrics.allocation_count, 1);
    CHECK_EQ(metrics.timed_allocations, 0);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
}

int main(void) {
    aes5_buffer_manager_t *m = aes5_test_sentinel_manager();
    aes5_manager_state_t state = 99;
    unsigned total_bytes = 0, k = 0, i, p;
    size_t off;

    /* init with the defaults */
    CHECK_STATUS(aes5_buffer_manager_init(&storage_a, NULL, &m), AES5_OK);
    CHECK(m == (aes5_buffer_manager_t *)(void *)&storage_a);
    CHECK_STATUS(aes5_buffer_manager_get_state(m, &state), AES5_OK);
    CHECK_EQ(state, AES5_STATE_READY);
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &stats), AES5_OK);
    CHECK_EQ(stats.current_state, AES5_STATE_READY);
    CHECK_EQ(stats.state_change_count, 2); /* -> Initializing -> Ready */
    CHECK_EQ(stats.total_operations, 0);
    CHECK_EQ(stats.failed_operations, 0);
    CHECK(stats.operation_success_rate == 1.0f);
    CHECK(stats.total_memory_usage_bytes > 0 && stats.total_memory_usage_bytes <= AES5_STORAGE_BYTES);
    CHECK_STATUS(aes5_buffer_manager_transition_state(m, AES5_STATE_READY), AES5_OK); /* no-op */
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &stats), AES5_OK);
    CHECK_EQ(stats.state_change_count, 2);
    CHECK_EQ(stats.current_state, AES5_STATE_READY);

    test_init_with_config();

    /* Fill every pool, checking each header; the first allocation moves Ready -> Active. */
    for (p = 0; p < 3; p++) {
        aes5_buffer_type_t t = pool_types[p];
        total_bytes += aes5_test_pool_count(t) * aes5_test_pool_bytes(t);
        for (i = 0; i < aes5_test_pool_count(t); i++, k++) {
            aes5_audio_buffer_t *b = aes5_test_sentinel_buffer();
            uint32_t bytes = 0;
            held_format[k] = format_for(k);
            held_type[k] = t;
            CHECK_STATUS(aes5_audio_format_bytes(&held_format[k], &bytes), AES5_OK);
            CHECK_EQ(bytes, expected_bytes(&held_format[k]));
            CHECK_STATUS(aes5_buffer_manager_allocate(m, t, &held_format[k], &b), AES5_OK);
            CHECK(b != aes5_test_sentinel_buffer());
            held[k] = (b != aes5_test_sentinel_buffer()) ? b : NULL;
            if (held[k] != NULL) check_header(b, t, &held_format[k], 1); /* each buffer's first allocation */
            if (k == 0) {
                CHECK_STATUS(aes5_buffer_manager_get_state(m, &state), AES5_OK);
                CHECK_EQ(state, AES5_STATE_ACTIVE);
                CHECK_STATUS(aes5_buffer_manager_transition_state(m, AES5_STATE_ACTIVE), AES5_OK); /* no-op */
                CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &stats), AES5_OK);
                CHECK_EQ(stats.state_change_count, 3);
                CHECK_EQ(stats.current_state, AES5_STATE_ACTIVE);
            }
        }
    }
    CHECK_EQ(k, AES5_TEST_TOTAL_BUFFERS);
    /* Every pool is full, which is above 90 %. */
    CHECK_STATUS(aes5_buffer_manager_get_state(m, &state), AES5_OK);
    CHECK_EQ(state, AES5_STATE_WARNING);

    /* A pattern over the whole capacity of every buffer; no buffer overwrote another. */
    memset(id_seen, 0, sizeof id_seen);
    for (k = 0; k < AES5_TEST_TOTAL_BUFFERS; k++) {
        if (held[k] == NULL) continue;
        for (off = 0; off < held[k]->buffer_capacity_bytes; off++) held[k]->data_pointer[off] = pattern(k, off);
    }
    for (k = 0; k < AES5_TEST_TOTAL_BUFFERS; k++) {
        size_t bad = 0;
        if (held[k] == NULL) continue;
        for (off = 0; off < held[k]->buffer_capacity_bytes; off++) bad += held[k]->data_pointer[off] != pattern(k, off);
        CHECK_EQ(bad, 0);
        CHECK_STATUS(aes5_buffer_manager_validate_buffer(m, held[k]), AES5_OK); /* headers untouched */
        check_header(held[k], held_type[k], &held_format[k], held[k]->sequence_number);
    }

    /* Statistics, metrics and report with everything held. */
    check_all_types(m, 1, 0);
    CHECK_EQ(stats.total_operations, AES5_TEST_TOTAL_BUFFERS);
    CHECK_EQ(stats.failed_operations, 0);
    CHECK_EQ(stats.state_change_count, 4); /* ... -> Active -> Warning */
    CHECK_EQ(stats.current_state, AES5_STATE_WARNING);
    for (p = 0; p < 3; p++) { /* utilisation sampled after each allocation: 1..n of n */
        unsigned n = aes5_test_pool_count(pool_types[p]);
        CHECK(aes5_test_near(stats.buffer_type_stats[pool_types[p]].average_utilization,
                             (float)(n + 1) / (float)(2 * n), 1e-5f));
    }
    CHECK_STATUS(aes5_buffer_manager_get_metrics(m, &metrics), AES5_OK);
    CHECK_EQ(metrics.allocation_count, AES5_TEST_TOTAL_BUFFERS);
    CHECK_EQ(metrics.allocation_failures, 0);
    CHECK_EQ(metrics.timed_allocations, AES5_TEST_HOSTED_CLOCK ? AES5_TEST_TOTAL_BUFFERS : 0);
    CHECK_EQ(metrics.release_count, 0);
    CHECK_EQ(metrics.current_allocated_buffers, AES5_TEST_TOTAL_BUFFERS);
    CHECK_EQ(metrics.peak_allocated_buffers, AES5_TEST_TOTAL_BUFFERS);
    CHECK_EQ(metrics.current_memory_usage_bytes, total_bytes);
    CHECK_EQ(metrics.peak_memory_usage_bytes, total_bytes);
    CHECK(metrics.allocation_success_rate == 1.0f);
    CHECK(metrics.memory_utilization_ratio == 1.0f);
    CHECK_EQ(metrics.validation_errors + metrics.corruption_detected + metrics.release_failures, 0);
    CHECK_STATUS(aes5_buffer_manager_get_performance_report(m, 0, &report), AES5_OK);
    CHECK_EQ(report.metrics.allocation_count, AES5_TEST_TOTAL_BUFFERS);
    CHECK_EQ(report.metrics.current_memory_usage_bytes, total_bytes);
    CHECK_EQ(report.trend.analysis_period_ns, 0);
    /* The trend needs a clock: intervals from init (or the oldest snapshot) to the report;
     * how many 100 ms snapshots a slow run took varies. */
    if (AES5_TEST_HOSTED_CLOCK) {
        CHECK(report.trend.sample_count >= 1 && report.trend.sample_count <= AES5_HISTORY_CAPACITY);
    } else {
        CHECK_EQ(report.trend.sample_count, 0);
    }
    CHECK_EQ(report.trend.dropped_samples, 0);
    CHECK(report.trend.peak_memory_utilization == (AES5_TEST_HOSTED_CLOCK ? 1.0f : 0.0f));
    CHECK((report.warnings & AES5_WARNING_HIGH_UTILIZATION) != 0);
    CHECK_EQ(report.warnings & (AES5_WARNING_LOW_SUCCESS_RATE | AES5_WARNING_CORRUPTION), 0);
    CHECK_EQ(report.warnings & AES5_WARNING_NOT_MONITORED, AES5_TEST_HOSTED_CLOCK ? 0 : AES5_WARNING_NOT_MONITORED);

    /* Release everything, after writing every caller-owned header field (up to its limit). */
    for (k = 0; k < AES5_TEST_TOTAL_BUFFERS; k++) {
        if (held[k] == NULL) continue;
        held[k]->data_size_bytes = k % 2 ? held[k]->buffer_capacity_bytes : 0;
        held[k]->buffer_flags = 0xFFFF;
        held[k]->timestamp_ns = 0xFFFFFFFFFFFFFFFFull;
        held[k]->processing_start_ns = 12345;
        held[k]->processing_count = 0xFFFFFFFFu;
        CHECK_STATUS(aes5_buffer_manager_validate_buffer(m, held[k]), AES5_OK);
        CHECK_STATUS(aes5_buffer_manager_release(m, held[k]), AES5_OK);
    }
    CHECK_STATUS(aes5_buffer_manager_validate_buffer(m, held[0]), AES5_ERR_DOUBLE_RELEASE); /* now free */
    CHECK_STATUS(aes5_buffer_manager_get_state(m, &state), AES5_OK);
    CHECK_EQ(state, AES5_STATE_ACTIVE); /* no pool above 90 %, no failure: Warning ended */
    check_all_types(m, 0, 1);
    CHECK_EQ(stats.total_operations, 2u * AES5_TEST_TOTAL_BUFFERS);
    CHECK_EQ(stats.failed_operations, 0);
    CHECK_EQ(stats.allocation_failures, 0);
    CHECK_EQ(stats.validation_failures, 0);
    CHECK_EQ(stats.memory_corruption_count, 0);
    CHECK_EQ(stats.state_change_count, 5); /* ... -> Warning -> Active */
    CHECK(stats.operation_success_rate == 1.0f);
    for (p = 0; p < 3; p++) { /* samples 1..n then n-1..0: mean n/2 of n */
        CHECK(aes5_test_near(stats.buffer_type_stats[pool_types[p]].average_utilization, 0.5f, 1e-5f));
    }
    CHECK_STATUS(aes5_buffer_manager_get_metrics(m, &metrics), AES5_OK);
    CHECK_EQ(metrics.release_count, AES5_TEST_TOTAL_BUFFERS);
    CHECK_EQ(metrics.release_failures, 0);
    CHECK_EQ(metrics.timed_releases, AES5_TEST_HOSTED_CLOCK ? AES5_TEST_TOTAL_BUFFERS : 0);
    CHECK_EQ(metrics.current_allocated_buffers, 0);
    CHECK_EQ(metrics.peak_allocated_buffers, AES5_TEST_TOTAL_BUFFERS);
    CHECK_EQ(metrics.current_memory_usage_bytes, 0);
    CHECK_EQ(metrics.peak_memory_usage_bytes, total_bytes);
    CHECK(metrics.memory_utilization_ratio == 0.0f);
    CHECK_STATUS(aes5_buffer_manager_get_performance_report(m, 0, &report), AES5_OK);
    CHECK_EQ(report.metrics.release_count, AES5_TEST_TOTAL_BUFFERS);
    CHECK_EQ(report.trend.sample_count == 0, !AES5_TEST_HOSTED_CLOCK);
    CHECK_EQ(report.warnings & (AES5_WARNING_LOW_SUCCESS_RATE | AES5_WARNING_CORRUPTION |
                                AES5_WARNING_HIGH_UTILIZATION), 0);

    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_get_state(m, &state), AES5_OK);
    CHECK_EQ(state, AES5_STATE_SHUTDOWN);
    return aes5_test_finish("test_api_basics");
}
