/*
 * Guard zones through the C API: one byte written past the end of every pool's buffer, one
 * byte before the first buffer's start, a guard zone overwritten with zeros, a guard zone
 * copied from its neighbour, and a free buffer's header written after its release, found by
 * the integrity sweep. Each must give the right status, the quarantine, the counts and the
 * log text. Runs on the host and on every emulated Cortex-M board (the small geometry too).
 */
#include "test_support.h"

static aes5_buffer_manager_storage_t storage;

/* The last log_detail text heard. */
static char heard[192];
static void hear(void *context, aes5_status_t status, const char *operation, const char *detail) {
    size_t n = strlen(operation);
    (void)context;
    (void)status;
    if (n + 2 + strlen(detail) + 1 > sizeof heard) return;
    memcpy(heard, operation, n);
    heard[n] = ':';
    heard[n + 1] = ' ';
    memcpy(heard + n + 2, detail, strlen(detail) + 1);
}

static aes5_buffer_manager_t *start(void) {
    aes5_runtime_config_t config;
    aes5_buffer_manager_t *m = NULL;
    CHECK_STATUS(aes5_runtime_config_default(&config), AES5_OK);
    config.enable_debug_logging = 1;
    config.log_detail = hear;
    memset(&storage, 0, sizeof storage);
    CHECK_STATUS(AES5_BUFFER_MANAGER_INIT(&storage, &config, &m), AES5_OK);
    heard[0] = '\0';
    return m;
}

static aes5_realtime_metrics_t metrics_of(const aes5_buffer_manager_t *m) {
    aes5_realtime_metrics_t x;
    CHECK_STATUS(aes5_buffer_manager_get_metrics(m, &x), AES5_OK);
    return x;
}

static unsigned quarantined_in(const aes5_buffer_manager_t *m, aes5_buffer_type_t type) {
    aes5_pool_statistics_t s;
    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, type, &s), AES5_OK);
    return s.quarantined_buffers;
}

static aes5_integrity_report_t sweep(aes5_buffer_manager_t *m) {
    aes5_integrity_report_t r;
    memset(&r, 0xEE, sizeof r);
    CHECK_STATUS(aes5_buffer_manager_check_integrity(m, &r), AES5_OK);
    return r;
}

static void expect_text(const char *want, int line) {
    aes5_test_check_at(strcmp(heard, want) == 0, "the log names the damage", __FILE__, line);
    if (strcmp(heard, want) != 0) printf("  heard: %s\n  want:  %s\n", heard, want);
}

/* One byte past the end of the first buffer of each pool: refused, quarantined, counted, the
 * manager in Error; the log names the buffer and its neighbour. */
static void one_byte_past_the_end_of_every_pool(void) {
    aes5_buffer_type_t type;
    for (type = AES5_BUFFER_TYPE_PRIMARY; type <= AES5_BUFFER_TYPE_SCRATCH; type++) {
        aes5_buffer_manager_t *m = start();
        aes5_audio_format_t format = aes5_test_format(16);
        aes5_audio_buffer_t *b = NULL, *next = NULL;
        aes5_manager_state_t before;
        char want[160];
        CHECK_STATUS(aes5_buffer_manager_allocate(m, type, &format, &b), AES5_OK);
        CHECK_STATUS(aes5_buffer_manager_allocate(m, type, &format, &next), AES5_OK);
        if (b == NULL || next == NULL) return;
        b->data_pointer[b->buffer_capacity_bytes] ^= 0x01u;
        before = aes5_test_state(m); /* Active, or Warning once the two-buffer pool is empty */
        CHECK_STATUS(aes5_buffer_manager_validate_buffer(m, b), AES5_ERR_CORRUPTED);
        CHECK_EQ(aes5_test_state(m), before); /* validate changes nothing */
        CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_ERR_CORRUPTED);
        snprintf(want, sizeof want,
                 "release: data written past the end of buffer %u (into the guard zone it shares with buffer %u); "
                 "quarantined now",
                 (unsigned)b->buffer_id, (unsigned)b->buffer_id + 1u);
        expect_text(want, __LINE__);
        CHECK_EQ(aes5_test_state(m), AES5_STATE_ERROR);
        CHECK_EQ(metrics_of(m).overruns_detected, 1u);
        CHECK_EQ(metrics_of(m).corruption_detected, 1u);
        CHECK_EQ(quarantined_in(m, type), 1u);
        /* The neighbour's data was not reached: its release is fine. */
        CHECK_STATUS(aes5_buffer_manager_release(m, next), AES5_OK);
        CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_ERR_CORRUPTED);
        CHECK_EQ(metrics_of(m).overruns_detected, 1u);
        CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
    }
}

/* One byte before the first buffer's data: caught at its enqueue, named. */
static void one_byte_before_the_first_buffer(void) {
    aes5_buffer_manager_t *m = start();
    aes5_audio_format_t format = aes5_test_format(16);
    aes5_audio_buffer_t *first = NULL;
    aes5_queue_statistics_t q;
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &format, &first), AES5_OK);
    if (first == NULL) return;
    CHECK_EQ(first->buffer_id, 0u);
    first->data_pointer[-1] ^= 0x01u; /* a changed byte, whatever the guard word held */
    CHECK_STATUS(aes5_buffer_manager_enqueue(m, 0, first), AES5_ERR_CORRUPTED);
    expect_text("enqueue: data written before the start of buffer 0 (into the guard zone before the first buffer); "
                "quarantined now",
                __LINE__);
    CHECK_STATUS(aes5_buffer_manager_get_queue_statistics(m, 0, &q), AES5_OK);
    CHECK_EQ(q.total_enqueued, 0u);
    CHECK_EQ(metrics_of(m).overruns_detected, 1u);
    CHECK_EQ(quarantined_in(m, AES5_BUFFER_TYPE_PRIMARY), 1u);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
}

/* A whole zone overwritten with zeros (an overrun through it into the neighbour, which is
 * free): the sweep counts one damaged zone, blames both buffers, quarantines the free one;
 * the held one is refused at its release. */
static void a_zone_of_zeros(void) {
    aes5_buffer_manager_t *m = start();
    aes5_audio_format_t format = aes5_test_format(16);
    aes5_audio_buffer_t *a = NULL, *b = NULL;
    aes5_integrity_report_t r;
    uint32_t b_id;
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &format, &a), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &format, &b), AES5_OK);
    if (a == NULL || b == NULL) return;
    b_id = b->buffer_id;
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
    memset(a->data_pointer + a->buffer_capacity_bytes, 0, AES5_GUARD_BYTES + 4u);
    r = sweep(m);
    CHECK_EQ(r.buffers_checked, AES5_TEST_TOTAL_BUFFERS);
    CHECK_EQ(r.damaged_guards, 1u);
    CHECK_EQ(r.damaged_free_headers, 0u);
    CHECK_EQ(r.quarantined, 1u);
    CHECK_EQ(r.damaged_count, 2u);
    CHECK_EQ(r.damaged_ids[0], a->buffer_id);
    CHECK_EQ(r.damaged_ids[1], b_id);
    CHECK_EQ(r.damaged_ids[2], 0u);
    CHECK_EQ(aes5_test_state(m), AES5_STATE_ERROR);
    CHECK_EQ(quarantined_in(m, AES5_BUFFER_TYPE_SCRATCH), 1u);
    CHECK_STATUS(aes5_buffer_manager_release(m, a), AES5_ERR_CORRUPTED);
    CHECK_EQ(metrics_of(m).overruns_detected, 2u);
    CHECK_EQ(quarantined_in(m, AES5_BUFFER_TYPE_SCRATCH), 2u);
    CHECK_STATUS(aes5_buffer_manager_transition_state(m, AES5_STATE_READY), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &format, &a),
                 AES5_SCRATCH_BUFFER_COUNT > 2 ? AES5_OK : AES5_ERR_POOL_EXHAUSTED);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_SCRATCH_BUFFER_COUNT > 2 ? AES5_ERR_BUFFERS_OUTSTANDING : AES5_OK);
}

/* The zone after buffer 0 overwritten with a copy of the zone after buffer 1: both refused. */
static void a_zone_copied_from_its_neighbour(void) {
    aes5_buffer_manager_t *m = start();
    aes5_audio_format_t format = aes5_test_format(16);
    aes5_audio_buffer_t *a = NULL, *b = NULL;
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &format, &a), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &format, &b), AES5_OK);
    if (a == NULL || b == NULL) return;
    memcpy(a->data_pointer + a->buffer_capacity_bytes, b->data_pointer + b->buffer_capacity_bytes, AES5_GUARD_BYTES);
    CHECK_STATUS(aes5_buffer_manager_release(m, a), AES5_ERR_CORRUPTED);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_ERR_CORRUPTED);
    CHECK_EQ(metrics_of(m).overruns_detected, 2u);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
}

/* A header written through a stale pointer after its release: the sweep finds it, takes the
 * buffer out of service and names it. */
static void a_header_written_after_release(void) {
    aes5_buffer_manager_t *m = start();
    aes5_audio_format_t format = aes5_test_format(16);
    aes5_audio_buffer_t *b = NULL;
    aes5_integrity_report_t r;
    char want[160];
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_CONVERSION, &format, &b), AES5_OK);
    if (b == NULL) return;
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
    r = sweep(m);
    CHECK_EQ(r.damaged_count, 0u);
    b->data_size_bytes = 64; /* use after release */
    r = sweep(m);
    CHECK_EQ(r.damaged_free_headers, 1u);
    CHECK_EQ(r.quarantined, 1u);
    CHECK_EQ(r.damaged_count, 1u);
    CHECK_EQ(r.damaged_guards, 0u);
    CHECK_EQ(r.damaged_ids[0], b->buffer_id);
    snprintf(want, sizeof want,
             "check_integrity: buffer %u is free and its header was written after its release; quarantined by the "
             "integrity sweep",
             (unsigned)b->buffer_id);
    expect_text(want, __LINE__);
    CHECK_EQ(metrics_of(m).corruption_detected, 1u);
    CHECK_EQ(metrics_of(m).overruns_detected, 0u);
    CHECK_EQ(quarantined_in(m, AES5_BUFFER_TYPE_CONVERSION), 1u);
    CHECK_STATUS(aes5_buffer_manager_check_integrity(m, NULL), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_check_integrity(NULL, &r), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
}

int main(void) {
    CHECK(AES5_GUARD_BYTES >= 8u);
    CHECK_EQ(sizeof(((aes5_integrity_report_t *)0)->damaged_ids) / sizeof(uint32_t), AES5_INTEGRITY_MAX_IDS);
    one_byte_past_the_end_of_every_pool();
    one_byte_before_the_first_buffer();
    a_zone_of_zeros();
    a_zone_copied_from_its_neighbour();
    a_header_written_after_release();
    return aes5_test_finish("test_guards");
}
