/*
 * The hand-off queues and the held-buffer finder through the C API: a three-stage pipeline,
 * every row of the bad-input table for enqueue and dequeue (each refused call leaves every
 * buffer and count as it was), the states they work in, the statistics' invariants and the
 * long-hold warning. Runs on the host and on every emulated Cortex-M board.
 */
#include "test_support.h"

/* The tests use queues 0, 1 and the last one (a build has at least two). */
#define LAST_QUEUE (AES5_QUEUE_COUNT - 1u)

static aes5_buffer_manager_storage_t storage;
static aes5_buffer_manager_storage_t other_storage;

/* A clock the test moves by hand. */
static uint64_t fake_now = 1000u;
static uint64_t fake_clock(void *context) {
    (void)context;
    return fake_now;
}

static aes5_buffer_manager_t *start(aes5_buffer_manager_storage_t *s, int monitoring, uint64_t max_hold_ns) {
    aes5_runtime_config_t config;
    aes5_buffer_manager_t *m = NULL;
    CHECK_STATUS(aes5_runtime_config_default(&config), AES5_OK);
    config.enable_performance_monitoring = (uint8_t)(monitoring && AES5_MONITORING);
    config.now_ns = fake_clock;
    config.max_hold_ns = max_hold_ns;
    memset(s, 0, sizeof *s);
    CHECK_STATUS(AES5_BUFFER_MANAGER_INIT(s, &config, &m), AES5_OK);
    return m;
}

static aes5_queue_statistics_t queue_stats(const aes5_buffer_manager_t *m, uint32_t queue) {
    aes5_queue_statistics_t q;
    memset(&q, 0xEE, sizeof q);
    CHECK_STATUS(aes5_buffer_manager_get_queue_statistics(m, queue, &q), AES5_OK);
    return q;
}

static uint32_t held_count(const aes5_buffer_manager_t *m) {
    uint32_t count = 12345u;
    CHECK_STATUS(aes5_buffer_manager_get_held_buffers(m, NULL, 0, &count), AES5_OK);
    return count;
}

/* Capture -> queue 0 -> process -> queue 1 -> output, one frame a period, with the data
 * checked at the end and every count reconciled. */
static void pipeline_keeps_every_frame_in_order(void) {
    aes5_buffer_manager_t *m = start(&storage, 1, 0);
    aes5_audio_format_t format = aes5_test_format(16);
    uint32_t period, next_out = 0;
    for (period = 0; period < 1000u; period++) {
        aes5_audio_buffer_t *b = NULL;
        /* Capture: one frame into a Primary buffer, handed to the processing stage. */
        CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &format, &b), AES5_OK);
        if (b == NULL) return;
        ((uint32_t *)(void *)b->data_pointer)[0] = period;
        b->timestamp_ns = period;
        CHECK_STATUS(aes5_buffer_manager_enqueue(m, 0, b), AES5_OK);
        /* Processing runs every other period and takes everything waiting. */
        if (period % 2u == 1u) {
            aes5_audio_buffer_t *p = NULL;
            while (aes5_buffer_manager_dequeue(m, 0, &p) == AES5_OK) {
                ((uint32_t *)(void *)p->data_pointer)[0] |= 0x80000000u;
                CHECK_STATUS(aes5_buffer_manager_enqueue(m, 1, p), AES5_OK);
            }
        }
        /* Output takes one frame a period, once two are ready. */
        if (period >= 2u) {
            aes5_audio_buffer_t *o = NULL;
            CHECK_STATUS(aes5_buffer_manager_dequeue(m, 1, &o), AES5_OK);
            if (o == NULL) return;
            CHECK_EQ(((uint32_t *)(void *)o->data_pointer)[0], next_out | 0x80000000u);
            CHECK_EQ(o->timestamp_ns, next_out);
            next_out++;
            CHECK_STATUS(aes5_buffer_manager_release(m, o), AES5_OK);
        }
    }
    {
        aes5_audio_buffer_t *p = NULL;
        while (aes5_buffer_manager_dequeue(m, 0, &p) == AES5_OK) CHECK_STATUS(aes5_buffer_manager_enqueue(m, 1, p), AES5_OK);
        while (aes5_buffer_manager_dequeue(m, 1, &p) == AES5_OK) {
            CHECK_EQ(((uint32_t *)(void *)p->data_pointer)[0] & 0x7FFFFFFFu, next_out);
            next_out++;
            CHECK_STATUS(aes5_buffer_manager_release(m, p), AES5_OK);
        }
    }
    CHECK_EQ(next_out, 1000u);
    {
        aes5_queue_statistics_t q0 = queue_stats(m, 0), q1 = queue_stats(m, 1);
        aes5_pool_statistics_t primary;
        CHECK_EQ(q0.length, 0u);
        CHECK_EQ(q0.total_enqueued, 1000u);
        CHECK_EQ(q0.total_dequeued, 1000u);
        CHECK_EQ(q0.peak_length, 2u);
        CHECK_EQ(q1.total_enqueued, 1000u);
        CHECK_EQ(q1.total_dequeued, 1000u);
        CHECK(q1.peak_length >= 2u && q1.peak_length <= 3u);
        CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, AES5_BUFFER_TYPE_PRIMARY, &primary), AES5_OK);
        CHECK_EQ(primary.total_allocations, 1000u);
        CHECK_EQ(primary.total_releases, 1000u);
        CHECK_EQ(primary.allocated_buffers, 0u);
    }
    CHECK_EQ(held_count(m), 0u);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
}

/* Every row of the bad-input table for the hand-offs. */
static void bad_hand_offs_are_refused_and_change_nothing(void) {
    aes5_buffer_manager_t *m = start(&storage, 0, 0);
    aes5_buffer_manager_t *other = start(&other_storage, 0, 0);
    aes5_audio_format_t format = aes5_test_format(16);
    aes5_audio_buffer_t *held = NULL, *queued = NULL, *freed = NULL, *theirs = NULL, *out;
    aes5_audio_buffer_t on_stack;
    aes5_manager_statistics_t before;
    aes5_queue_statistics_t q_before;
    aes5_realtime_metrics_t metrics;
    aes5_held_buffer_t entries[2];
    uint32_t count = 77u;
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &format, &held), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &format, &queued), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_CONVERSION, &format, &freed), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_allocate(other, AES5_BUFFER_TYPE_PRIMARY, &format, &theirs), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(m, freed), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 0, queued), AES5_OK);
    memset(&on_stack, 0, sizeof on_stack);
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &before), AES5_OK);
    q_before = queue_stats(m, 0);

    /* NULLs. */
    CHECK_STATUS(aes5_buffer_manager_enqueue(NULL, 0, held), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 0, NULL), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_dequeue(NULL, 0, &out), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_dequeue(m, 0, NULL), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_queue_statistics(m, 0, NULL), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_queue_statistics(NULL, 0, &q_before), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_held_buffers(m, NULL, 1, &count), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_held_buffers(m, entries, 2, NULL), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_held_buffers(NULL, entries, 2, &count), AES5_ERR_NULL_POINTER);
    CHECK_EQ(count, 77u);
    /* Queue numbers out of range. */
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, AES5_QUEUE_COUNT, held), AES5_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 0xFFFFFFFFu, held), AES5_ERR_INVALID_ARGUMENT);
    out = aes5_test_sentinel_buffer();
    CHECK_STATUS(aes5_buffer_manager_dequeue(m, AES5_QUEUE_COUNT, &out), AES5_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(aes5_buffer_manager_get_queue_statistics(m, AES5_QUEUE_COUNT, &q_before), AES5_ERR_INVALID_ARGUMENT);
    /* A free buffer, a queued one, foreign pointers. */
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 1, freed), AES5_ERR_DOUBLE_RELEASE);
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 0, queued), AES5_ERR_BUFFER_QUEUED);
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 1, queued), AES5_ERR_BUFFER_QUEUED);
    CHECK_STATUS(aes5_buffer_manager_release(m, queued), AES5_ERR_BUFFER_QUEUED);
    CHECK_STATUS(aes5_buffer_manager_validate_buffer(m, queued), AES5_ERR_BUFFER_QUEUED);
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 0, theirs), AES5_ERR_FOREIGN_BUFFER);
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 0, &on_stack), AES5_ERR_FOREIGN_BUFFER);
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 0, (aes5_audio_buffer_t *)(void *)held->data_pointer),
                 AES5_ERR_FOREIGN_BUFFER);
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 0, (aes5_audio_buffer_t *)(void *)((uint8_t *)held + 4)),
                 AES5_ERR_FOREIGN_BUFFER);
    /* An empty queue: the out-parameter keeps its contents. */
    CHECK_STATUS(aes5_buffer_manager_dequeue(m, 1, &out), AES5_ERR_QUEUE_EMPTY);
    CHECK(out == aes5_test_sentinel_buffer());

    CHECK_UNCHANGED(m, &before, &held, 1);
    {
        aes5_queue_statistics_t q_after = queue_stats(m, 0);
        CHECK(memcmp(&q_before, &q_after, sizeof q_before) == 0);
    }
    CHECK_STATUS(aes5_buffer_manager_get_metrics(m, &metrics), AES5_OK);
    /* Refused enqueues: NULL, 2 bad queues, free, 2 queued, 4 foreign. Release of a queued
     * buffer is a refused release. */
    CHECK_EQ(metrics.hand_off_failures, 10u);
    CHECK_EQ(metrics.release_failures, 1u);
    CHECK_EQ(metrics.validation_errors, 11u);

    /* The queued buffer comes back out, and the finder saw both. */
    CHECK_STATUS(aes5_buffer_manager_get_held_buffers(m, entries, 2, &count), AES5_OK);
    CHECK_EQ(count, 2u);
    CHECK_EQ(entries[0].buffer_id, held->buffer_id);
    CHECK_EQ(entries[0].queue, AES5_NO_QUEUE);
    CHECK_EQ(entries[1].buffer_id, queued->buffer_id);
    CHECK_EQ(entries[1].queue, 0u);
    CHECK_EQ(entries[1].buffer_type, AES5_BUFFER_TYPE_SCRATCH);
    CHECK_STATUS(aes5_buffer_manager_dequeue(m, 0, &out), AES5_OK);
    CHECK(out == queued);
    CHECK_STATUS(aes5_buffer_manager_get_held_buffers(m, entries, 2, &count), AES5_OK);
    CHECK_EQ(entries[1].queue, AES5_NO_QUEUE);
    CHECK_EQ(entries[1].last_queue, 0u);
    CHECK_STATUS(aes5_buffer_manager_release(m, queued), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(m, held), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(other, theirs), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_shutdown(other), AES5_OK);
}

/* A damaged header is caught at enqueue, as at release: quarantined, counted, Error. */
static void a_damaged_buffer_is_quarantined_at_enqueue(void) {
    aes5_buffer_manager_t *m = start(&storage, 0, 0);
    aes5_audio_format_t format = aes5_test_format(16);
    aes5_audio_buffer_t *b = NULL;
    aes5_pool_statistics_t s;
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_CONVERSION, &format, &b), AES5_OK);
    b->checksum ^= 0x10u;
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, LAST_QUEUE, b), AES5_ERR_CORRUPTED);
    CHECK_EQ(aes5_test_state(m), AES5_STATE_ERROR);
    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, AES5_BUFFER_TYPE_CONVERSION, &s), AES5_OK);
    CHECK_EQ(s.quarantined_buffers, 1u);
    CHECK_EQ(queue_stats(m, LAST_QUEUE).total_enqueued, 0u);
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 0, b), AES5_ERR_CORRUPTED);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_ERR_CORRUPTED);
    CHECK_EQ(held_count(m), 0u);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
}

/* Queued buffers are outstanding: a shutdown waits for them, and dequeue and enqueue still
 * work while it waits. */
static void shutdown_waits_for_queued_buffers(void) {
    aes5_buffer_manager_t *m = start(&storage, 0, 0);
    aes5_audio_format_t format = aes5_test_format(16);
    aes5_audio_buffer_t *a = NULL, *b = NULL, *out = NULL;
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &format, &a), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &format, &b), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 0, a), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_ERR_BUFFERS_OUTSTANDING);
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 0, b), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_dequeue(m, 0, &out), AES5_OK);
    CHECK(out == a);
    CHECK_STATUS(aes5_buffer_manager_release(m, out), AES5_OK);
    CHECK_EQ(aes5_test_state(m), AES5_STATE_SHUTTING_DOWN);
    CHECK_STATUS(aes5_buffer_manager_dequeue(m, 0, &out), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(m, out), AES5_OK);
    CHECK_EQ(aes5_test_state(m), AES5_STATE_SHUTDOWN);
    CHECK_STATUS(aes5_buffer_manager_dequeue(m, 0, &out), AES5_ERR_INVALID_STATE);
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 0, out), AES5_ERR_INVALID_STATE);
}

/* With a clock: the finder's times, and the long-hold warning of the report. */
static void a_long_hold_is_reported(void) {
#if AES5_MONITORING
    aes5_buffer_manager_t *m;
    aes5_audio_format_t format = aes5_test_format(16);
    aes5_audio_buffer_t *a = NULL;
    aes5_held_buffer_t entry;
    aes5_performance_report_t report;
    uint32_t count = 0;
    fake_now = 1000u;
    m = start(&storage, 1, 2000u);
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &format, &a), AES5_OK);
    fake_now = 1500u;
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 1, a), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_get_held_buffers(m, &entry, 1, &count), AES5_OK);
    CHECK_EQ(count, 1u);
    CHECK_EQ(entry.allocation_time_ns, 1000u);
    CHECK_EQ(entry.last_hand_off_ns, 1500u);
    CHECK_EQ(entry.queue, 1u);
    CHECK_EQ(entry.sequence_number, 1u);
    fake_now = 3500u;
    CHECK_STATUS(aes5_buffer_manager_get_performance_report(m, 0, &report), AES5_OK);
    CHECK_EQ(report.oldest_hand_off_age_ns, 2000u);
    CHECK_EQ(report.oldest_hand_off_buffer_id, a->buffer_id);
    CHECK_EQ(report.warnings & AES5_WARNING_LONG_HOLD, 0u);
    fake_now = 3501u;
    CHECK_STATUS(aes5_buffer_manager_get_performance_report(m, 0, &report), AES5_OK);
    CHECK_EQ(report.warnings & AES5_WARNING_LONG_HOLD, AES5_WARNING_LONG_HOLD);
    CHECK(strcmp(aes5_warning_string(AES5_WARNING_LONG_HOLD), "long-hold") == 0);
    CHECK_STATUS(aes5_buffer_manager_dequeue(m, 1, &a), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(m, a), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_get_performance_report(m, 0, &report), AES5_OK);
    CHECK_EQ(report.oldest_hand_off_buffer_id, AES5_NO_BUFFER);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
#endif
}

/* max_hold_ns: 0, or 1 µs ..= 1 h. */
static void the_hold_limit_is_validated(void) {
    aes5_runtime_config_t config;
    aes5_buffer_manager_t *m = aes5_test_sentinel_manager();
    CHECK_STATUS(aes5_runtime_config_default(&config), AES5_OK);
    CHECK_EQ(config.max_hold_ns, 0u);
    memset(&storage, 0, sizeof storage);
    config.max_hold_ns = 999u;
    CHECK_STATUS(AES5_BUFFER_MANAGER_INIT(&storage, &config, &m), AES5_ERR_INVALID_ARGUMENT);
    config.max_hold_ns = 3600000000001ull;
    CHECK_STATUS(AES5_BUFFER_MANAGER_INIT(&storage, &config, &m), AES5_ERR_INVALID_ARGUMENT);
    CHECK(m == aes5_test_sentinel_manager());
    config.max_hold_ns = 3600000000000ull;
    CHECK_STATUS(AES5_BUFFER_MANAGER_INIT(&storage, &config, &m), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
}

int main(void) {
    CHECK(AES5_QUEUE_COUNT >= 2);
    CHECK(strcmp(aes5_status_string(AES5_ERR_BUFFER_QUEUED), "AES5_ERR_BUFFER_QUEUED: the buffer waits in a hand-off queue; dequeue it first") == 0);
    CHECK_EQ(AES5_ERR_BUFFER_QUEUED, 15u);
    CHECK_EQ(AES5_ERR_QUEUE_EMPTY, 16u);
    pipeline_keeps_every_frame_in_order();
    bad_hand_offs_are_refused_and_change_nothing();
    a_damaged_buffer_is_quarantined_at_enqueue();
    shutdown_waits_for_queued_buffers();
    a_long_hold_is_reported();
    the_hold_limit_is_validated();
    return aes5_test_finish("test_queues");
}
