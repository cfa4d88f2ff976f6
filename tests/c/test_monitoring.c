/*
 * test_monitoring.c: timing metrics, timeouts, the trend history's snapshots and the trend
 * analysis, under a fake clock that advances a fixed step per reading (or is set by hand); monitoring off (no clock read
 * on the allocate/release path); and the debug-log callback.
 */
#include <stdint.h>

#include "test_support.h"

#define STEP_NS 5000u
#define PAIRS (AES5_HISTORY_CAPACITY >= 10 ? 5u : AES5_HISTORY_CAPACITY / 2u)

typedef struct {
    uint64_t now;
    uint64_t step;
    unsigned long calls;
} fake_clock_t;

static uint64_t fake_clock(void *ctx) {
    fake_clock_t *c = (fake_clock_t *)ctx;
    c->calls++;
    c->now += c->step;
    return c->now;
}

typedef struct {
    unsigned calls;
    aes5_status_t status;
    char operation[32];
} log_record_t;

static void logger(void *ctx, aes5_status_t status, const char *operation) {
    log_record_t *r = (log_record_t *)ctx;
    r->calls++;
    r->status = status;
    memset(r->operation, 0, sizeof r->operation);
    if (operation != NULL) strncpy(r->operation, operation, sizeof r->operation - 1);
}

static aes5_buffer_manager_storage_t storage;
static fake_clock_t clock_state;
static log_record_t log_record;
static aes5_realtime_metrics_t metrics;
static aes5_performance_report_t report;
static aes5_manager_statistics_t stats;
static aes5_pool_statistics_t pool;

static aes5_buffer_manager_t *init_with(uint8_t monitoring, uint64_t timeout_ns, uint8_t logging) {
    aes5_runtime_config_t cfg;
    aes5_buffer_manager_t *m = NULL;
    CHECK_STATUS(aes5_runtime_config_default(&cfg), AES5_OK);
    cfg.enable_performance_monitoring = monitoring;
    cfg.allocation_timeout_ns = timeout_ns;
    cfg.now_ns = fake_clock;
    cfg.clock_context = &clock_state;
    cfg.enable_debug_logging = logging;
    cfg.log = logger;
    cfg.log_context = &log_record;
    clock_state.now = 0;
    clock_state.step = STEP_NS;
    clock_state.calls = 0;
    memset(&log_record, 0, sizeof log_record);
    CHECK_STATUS(aes5_buffer_manager_init(&storage, &cfg, &m), AES5_OK);
    return m;
}

static unsigned report_samples(aes5_buffer_manager_t *m, uint64_t period) {
    CHECK_STATUS(aes5_buffer_manager_get_performance_report(m, period, &report), AES5_OK);
    CHECK_EQ(report.trend.analysis_period_ns, period);
    return report.trend.sample_count;
}

static void test_timing(void) {
    aes5_buffer_manager_t *m = init_with(1, 1000, 0); /* every allocation (>= 1 step) is a timeout */
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *b = NULL;
    unsigned i;

    for (i = 0; i < PAIRS; i++) {
        CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_OK);
        /* Far inside the first 100 ms: one interval, from init to the report. */
        CHECK_EQ(report_samples(m, 0), 1);
        CHECK(b->allocation_time_ns != 0 && b->allocation_time_ns % STEP_NS == 0);
        CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
        CHECK_EQ(report_samples(m, 0), 1);
    }
    CHECK_STATUS(aes5_buffer_manager_get_metrics(m, &metrics), AES5_OK);
    CHECK_EQ(metrics.allocation_count, PAIRS);
    CHECK_EQ(metrics.timed_allocations, PAIRS);
    CHECK_EQ(metrics.timed_releases, PAIRS);
    CHECK(metrics.min_allocation_time_ns >= STEP_NS && metrics.min_allocation_time_ns % STEP_NS == 0);
    CHECK(metrics.max_allocation_time_ns >= metrics.min_allocation_time_ns);
    CHECK_EQ(metrics.max_allocation_time_ns % STEP_NS, 0);
    CHECK(metrics.total_allocation_time_ns >= PAIRS * STEP_NS && metrics.total_allocation_time_ns % STEP_NS == 0);
    CHECK_EQ(metrics.average_allocation_time_ns, metrics.total_allocation_time_ns / PAIRS);
    CHECK(metrics.average_allocation_time_ns >= metrics.min_allocation_time_ns &&
          metrics.average_allocation_time_ns <= metrics.max_allocation_time_ns);
    CHECK(metrics.min_release_time_ns >= STEP_NS && metrics.min_release_time_ns % STEP_NS == 0);
    CHECK(metrics.max_release_time_ns >= metrics.min_release_time_ns);
    CHECK_EQ(metrics.max_release_time_ns % STEP_NS, 0);
    CHECK_EQ(metrics.total_release_time_ns % STEP_NS, 0);
    CHECK_EQ(metrics.average_release_time_ns, metrics.total_release_time_ns / PAIRS);
    CHECK(metrics.average_release_time_ns != 0);
    CHECK_EQ(metrics.timeout_errors, PAIRS);
    CHECK_EQ(metrics.peak_allocated_buffers, 1);

    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, AES5_BUFFER_TYPE_PRIMARY, &pool), AES5_OK);
    CHECK(pool.average_hold_time_ns >= STEP_NS);
    CHECK(pool.average_utilization > 0.0f);
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &stats), AES5_OK);
    CHECK(stats.state_change_timestamp_ns != 0 && stats.state_change_timestamp_ns % STEP_NS == 0);

    CHECK_STATUS(aes5_buffer_manager_get_performance_report(m, 0, &report), AES5_OK);
    CHECK((report.warnings & AES5_WARNING_TIMEOUTS) != 0);
    CHECK_EQ(report.warnings & (AES5_WARNING_NOT_MONITORED | AES5_WARNING_HIGH_LATENCY |
                                AES5_WARNING_LOW_SUCCESS_RATE | AES5_WARNING_CORRUPTION), 0);
    CHECK(!report.meets_performance_requirements); /* average above allocation_timeout_ns */
    CHECK(report.monitoring_duration_ns != 0 && report.monitoring_duration_ns % STEP_NS == 0);
    CHECK_EQ(report.metrics.timeout_errors, PAIRS);
    CHECK_EQ(report.trend.sample_count, 1);
    CHECK_EQ(report.trend.dropped_samples, 0);
    CHECK(report.trend.average_allocation_time_ns ==
          (float)metrics.total_allocation_time_ns / (float)metrics.allocation_count);

    /* Past the 100 ms interval, the next operation takes a snapshot. */
    clock_state.now += 1000000000u;
    for (i = 0; i < 2; i++) {
        CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_OK);
        CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
    }
    CHECK_EQ(report_samples(m, 0), 2);
    CHECK_EQ(report_samples(m, 4000000000u), 2);
    /* The interval since the snapshot is the only one ending in the last nanosecond: its
     * three operations after the snapshot include one allocation of exactly one step. */
    CHECK_EQ(report_samples(m, 1), 1);
    CHECK(report.trend.average_allocation_time_ns == (float)STEP_NS);
    CHECK(report.trend.allocation_time_stddev_ns == 0.0f);
    CHECK(report.trend.success_rate_trend == 0.0f);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
}

/* Snapshots every trend_interval_ns, under a clock set by hand; the ring keeps the newest
 * AES5_HISTORY_CAPACITY of them. */
static void test_trend_snapshots(void) {
    aes5_runtime_config_t cfg;
    aes5_buffer_manager_t *m = NULL;
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *b = NULL, *held = NULL;
    const uint64_t interval = 1000000u;
    unsigned i, expected;

    CHECK_STATUS(aes5_runtime_config_default(&cfg), AES5_OK);
    CHECK_EQ(cfg.trend_interval_ns, AES5_DEFAULT_TREND_INTERVAL_NS);
    cfg.trend_interval_ns = interval;
    cfg.now_ns = fake_clock;
    cfg.clock_context = &clock_state;
    clock_state.now = 7;
    clock_state.step = 0;
    CHECK_STATUS(aes5_buffer_manager_init(&storage, &cfg, &m), AES5_OK);
    CHECK_EQ(report_samples(m, 0), 1);
    for (i = 1; i <= 2u * AES5_HISTORY_CAPACITY; i++) {
        clock_state.now += interval;
        CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_OK);
        CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
        CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_OK);
        CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
        /* Init's baseline and one snapshot per interval, then the interval to the report. */
        expected = i + 1 < AES5_HISTORY_CAPACITY ? i + 1 : AES5_HISTORY_CAPACITY;
        CHECK_EQ(report_samples(m, 0), expected);
        CHECK_EQ(report.trend.dropped_samples, 0);
    }
    /* The last 1.5 intervals: the interval ending at the snapshot one interval ago, the one
     * ending at this interval's snapshot, and the one to the report. */
    CHECK_EQ(report_samples(m, interval + interval / 2u), 3);
    /* A buffer held over an interval: the utilisation there is above zero. */
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &f, &held), AES5_OK);
    clock_state.now += interval;
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
    CHECK_EQ(report_samples(m, interval / 2u), 2);
    CHECK(report.trend.average_memory_utilization > 0.0f);
    CHECK(report.trend.peak_memory_utilization > report.trend.average_memory_utilization);
    CHECK_STATUS(aes5_buffer_manager_release(m, held), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
}

static void test_monitoring_off(void) {
    aes5_buffer_manager_t *m = init_with(0, AES5_DEFAULT_ALLOCATION_TIMEOUT_NS, 0);
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *b = NULL;
    unsigned long calls = clock_state.calls;
    unsigned i;

    for (i = 0; i < 5; i++) {
        CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_OK);
        CHECK_EQ(b->allocation_time_ns, 0);
        CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
    }
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, NULL, &b), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_ERR_DOUBLE_RELEASE);
    CHECK_EQ(clock_state.calls, calls); /* the callback was never called by allocate/release */

    CHECK_STATUS(aes5_buffer_manager_get_metrics(m, &metrics), AES5_OK);
    CHECK_EQ(metrics.allocation_count, 5); /* counts still work */
    CHECK_EQ(metrics.release_count, 5);
    CHECK_EQ(metrics.timed_allocations + metrics.timed_releases, 0);
    CHECK_EQ(metrics.min_allocation_time_ns + metrics.max_allocation_time_ns + metrics.average_allocation_time_ns, 0);
    CHECK_EQ(metrics.min_release_time_ns + metrics.max_release_time_ns + metrics.average_release_time_ns, 0);
    CHECK_EQ(metrics.timeout_errors, 0);
    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, AES5_BUFFER_TYPE_PRIMARY, &pool), AES5_OK);
    CHECK_EQ(pool.average_hold_time_ns, 0);
    CHECK(pool.average_utilization == 0.0f);
    CHECK_STATUS(aes5_buffer_manager_get_performance_report(m, 0, &report), AES5_OK);
    CHECK((report.warnings & AES5_WARNING_NOT_MONITORED) != 0);
    CHECK_EQ(report.trend.sample_count, 0); /* no trend without monitoring */
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &stats), AES5_OK);
    CHECK_EQ(stats.state_change_timestamp_ns, 0); /* "0 without monitoring or clock" */
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
}

/* meets_performance_requirements and the success-rate warning, under the fake clock. */
static void test_requirements(void) {
    aes5_buffer_manager_t *m = init_with(1, AES5_DEFAULT_ALLOCATION_TIMEOUT_NS, 0); /* 1 step << timeout */
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *full[AES5_SCRATCH_BUFFER_COUNT], *b = NULL;
    unsigned i;

    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_get_performance_report(m, 0, &report), AES5_OK);
    CHECK(report.meets_performance_requirements);
    CHECK_EQ(report.warnings, 0);

    /* One pool-empty failure among AES5_SCRATCH_BUFFER_COUNT + 1 successes: below 0.99.
     * The first allocation past the trend interval takes a snapshot, so the failure falls in
     * the newer of the two intervals. */
    clock_state.now += 1000000000u;
    for (i = 0; i < AES5_SCRATCH_BUFFER_COUNT; i++) {
        CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &f, &full[i]), AES5_OK);
    }
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &f, &b), AES5_ERR_POOL_EXHAUSTED);
    CHECK_STATUS(aes5_buffer_manager_get_performance_report(m, 0, &report), AES5_OK);
    CHECK(!report.meets_performance_requirements);
    CHECK((report.warnings & AES5_WARNING_LOW_SUCCESS_RATE) != 0);
    CHECK(aes5_test_near(report.metrics.allocation_success_rate,
                         (float)(AES5_SCRATCH_BUFFER_COUNT + 1) / (float)(AES5_SCRATCH_BUFFER_COUNT + 2), 1e-6f));
    CHECK(report.trend.success_rate_trend < 0.0f); /* the failure is in the newer half */
    for (i = 0; i < AES5_SCRATCH_BUFFER_COUNT; i++) CHECK_STATUS(aes5_buffer_manager_release(m, full[i]), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
}

/* One refused call: exactly one log call with its status and the function's name. */
#define EXPECT_LOG(call, want_status, want_op)                             \
    do {                                                                   \
        unsigned n_ = log_record.calls;                                    \
        CHECK_STATUS(call, want_status);                                   \
        CHECK_EQ(log_record.calls, n_ + 1u);                               \
        CHECK_EQ(log_record.status, want_status);                          \
        CHECK(strcmp(log_record.operation, want_op) == 0);                 \
    } while (0)
#define EXPECT_NO_LOG(call, want_status)                                   \
    do {                                                                   \
        unsigned n_ = log_record.calls;                                    \
        CHECK_STATUS(call, want_status);                                   \
        CHECK_EQ(log_record.calls, n_);                                    \
    } while (0)

static void test_debug_log(void) {
    aes5_buffer_manager_t *m = init_with(1, AES5_DEFAULT_ALLOCATION_TIMEOUT_NS, 1);
    aes5_audio_format_t f = aes5_test_format(64), bad = aes5_test_format(64);
    aes5_audio_buffer_t *full[AES5_SCRATCH_BUFFER_COUNT], *b = NULL, *p = NULL, on_stack;
    aes5_manager_state_t s;
    unsigned i;

    bad.sample_rate_hz = 22050;
    CHECK_EQ(log_record.calls, 0);
    EXPECT_NO_LOG(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &p), AES5_OK);
    EXPECT_NO_LOG(aes5_buffer_manager_validate_buffer(m, p), AES5_OK);
    EXPECT_NO_LOG(aes5_buffer_manager_transition_state(m, AES5_STATE_ACTIVE), AES5_OK);
    EXPECT_NO_LOG(aes5_buffer_manager_get_state(m, &s), AES5_OK);
    EXPECT_LOG(aes5_buffer_manager_allocate(m, 6, &f, &b), AES5_ERR_INVALID_ARGUMENT, "allocate");
    EXPECT_LOG(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_INPUT, &f, &b), AES5_ERR_NO_POOL_FOR_TYPE, "allocate");
    EXPECT_LOG(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &bad, &b), AES5_ERR_UNSUPPORTED_FORMAT,
               "allocate");
    EXPECT_LOG(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, NULL, &b), AES5_ERR_NULL_POINTER,
               "allocate");
    for (i = 0; i < AES5_SCRATCH_BUFFER_COUNT; i++) {
        EXPECT_NO_LOG(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &f, &full[i]), AES5_OK);
    }
    EXPECT_LOG(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &f, &b), AES5_ERR_POOL_EXHAUSTED,
               "allocate");
    for (i = 0; i < AES5_SCRATCH_BUFFER_COUNT; i++) {
        EXPECT_NO_LOG(aes5_buffer_manager_release(m, full[i]), AES5_OK);
    }
    EXPECT_LOG(aes5_buffer_manager_release(m, full[0]), AES5_ERR_DOUBLE_RELEASE, "release");
    EXPECT_LOG(aes5_buffer_manager_release(m, NULL), AES5_ERR_NULL_POINTER, "release");
    on_stack = *p;
    EXPECT_LOG(aes5_buffer_manager_release(m, &on_stack), AES5_ERR_FOREIGN_BUFFER, "release");
    EXPECT_LOG(aes5_buffer_manager_validate_buffer(m, full[0]), AES5_ERR_DOUBLE_RELEASE, "validate_buffer");
    EXPECT_LOG(aes5_buffer_manager_transition_state(m, 8), AES5_ERR_INVALID_ARGUMENT, "transition_state");
    EXPECT_LOG(aes5_buffer_manager_transition_state(m, AES5_STATE_READY), AES5_ERR_INVALID_STATE,
               "transition_state");
    EXPECT_LOG(aes5_buffer_manager_shutdown(m), AES5_ERR_BUFFERS_OUTSTANDING, "shutdown");
    EXPECT_LOG(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_ERR_INVALID_STATE,
               "allocate");
    EXPECT_NO_LOG(aes5_buffer_manager_release(m, p), AES5_OK);
    EXPECT_LOG(aes5_buffer_manager_release(m, p), AES5_ERR_INVALID_STATE, "release");
    EXPECT_LOG(aes5_buffer_manager_shutdown(m), AES5_ERR_INVALID_STATE, "shutdown");

    /* A corrupted release is logged once, as CORRUPTED. */
    m = init_with(1, AES5_DEFAULT_ALLOCATION_TIMEOUT_NS, 1);
    EXPECT_NO_LOG(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_CONVERSION, &f, &p), AES5_OK);
    p->checksum ^= 0x55u;
    EXPECT_LOG(aes5_buffer_manager_release(m, p), AES5_ERR_CORRUPTED, "release");
    EXPECT_NO_LOG(aes5_buffer_manager_shutdown(m), AES5_OK);

    /* With enable_debug_logging = 0 the callback is never called, even when it is set. */
    m = init_with(1, AES5_DEFAULT_ALLOCATION_TIMEOUT_NS, 0);
    EXPECT_NO_LOG(aes5_buffer_manager_allocate(m, 6, &f, &b), AES5_ERR_INVALID_ARGUMENT);
    EXPECT_NO_LOG(aes5_buffer_manager_release(m, &on_stack), AES5_ERR_FOREIGN_BUFFER);
    EXPECT_NO_LOG(aes5_buffer_manager_transition_state(m, 8), AES5_ERR_INVALID_ARGUMENT);
    EXPECT_NO_LOG(aes5_buffer_manager_shutdown(m), AES5_OK);
    CHECK_EQ(log_record.calls, 0);
}

int main(void) {
    test_timing();
    test_trend_snapshots();
    test_monitoring_off();
    test_requirements();
    test_debug_log();
    return aes5_test_finish("test_monitoring");
}
