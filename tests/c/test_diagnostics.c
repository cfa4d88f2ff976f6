/*
 * test_diagnostics.c: telling the user what went wrong. The names of states and buffer
 * types; the exact reason a format is refused (aes5_audio_format_check,
 * aes5_buffer_manager_check_format); and, for every refused call, its exact reason: the
 * log_detail text and aes5_buffer_manager_get_last_refusal, which say the same thing.
 */
#include <stdint.h>
#include <stdlib.h>

#include "test_support.h"

typedef struct {
    unsigned calls;
    aes5_status_t status;
    const char *operation;
    char detail[AES5_REFUSAL_TEXT_BYTES]; /* a copy: the text lives only during the call */
} detail_record_t;

static void record_detail(void *ctx, aes5_status_t status, const char *operation, const char *detail) {
    detail_record_t *r = (detail_record_t *)ctx;
    r->calls++;
    r->status = status;
    r->operation = operation;
    snprintf(r->detail, sizeof r->detail, "%s", detail);
}

static aes5_buffer_manager_storage_t storage;
static detail_record_t record;

static void test_names(void) {
    static const char *const states[] = {"Uninitialized", "Initializing", "Ready", "Active",
                                         "Warning", "Error", "ShuttingDown", "Shutdown"};
    static const char *const types[] = {"Primary", "Conversion", "Scratch", "Input", "Output", "Metadata"};
    unsigned i;
    for (i = 0; i < 8; i++) CHECK(strcmp(aes5_state_string(i), states[i]) == 0);
    for (i = 0; i < 6; i++) CHECK(strcmp(aes5_buffer_type_string(i), types[i]) == 0);
    CHECK(strcmp(aes5_state_string(8), "unknown") == 0);
    CHECK(strcmp(aes5_buffer_type_string(0xFFFFFFFFu), "unknown") == 0);
    CHECK_EQ(AES5_STATE_SHUTTING_DOWN, 6);
}

static void test_format_check(void) {
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_format_problem_t problem = 0xFFu;

    CHECK_STATUS(aes5_audio_format_check(&f, &problem), AES5_OK);
    CHECK_EQ(problem, AES5_FORMAT_OK);
    f.sample_rate_hz = 47999;
    CHECK_STATUS(aes5_audio_format_check(&f, &problem), AES5_OK);
    CHECK_EQ(problem, AES5_FORMAT_RATE_NOT_AES5);
    f.sample_rate_hz = 48000;
    f.sample_size_bits = 20;
    CHECK_STATUS(aes5_audio_format_check(&f, &problem), AES5_OK);
    CHECK_EQ(problem, AES5_FORMAT_BAD_SAMPLE_SIZE);
    /* The two refusals that share AES5_ERR_UNSUPPORTED_FORMAT read differently. */
    CHECK(strcmp(aes5_format_problem_string(AES5_FORMAT_RATE_NOT_AES5),
                 aes5_format_problem_string(AES5_FORMAT_BAD_SAMPLE_SIZE)) != 0);
    CHECK(strstr(aes5_format_problem_string(AES5_FORMAT_BAD_SAMPLE_SIZE), "sample_size_bits") != NULL);
    CHECK(aes5_format_problem_string(1000u) != NULL);
    f.sample_size_bits = 16;
    f.sample_encoding = AES5_ENCODING_FLOAT;
    CHECK_STATUS(aes5_audio_format_check(&f, &problem), AES5_OK);
    CHECK_EQ(problem, AES5_FORMAT_BAD_ENCODING);
    problem = 77u;
    CHECK_STATUS(aes5_audio_format_check(NULL, &problem), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_audio_format_check(&f, NULL), AES5_ERR_NULL_POINTER);
    CHECK_EQ(problem, 77u); /* out-parameters are written only on success */
}

static void test_manager_check_and_log_detail(void) {
    aes5_runtime_config_t cfg;
    aes5_buffer_manager_t *m = NULL;
    aes5_audio_format_t f = aes5_test_format(64), wide;
    aes5_audio_buffer_t *b = NULL;
    aes5_format_problem_t problem = 0;
    aes5_manager_statistics_t before, after;

    CHECK_STATUS(aes5_runtime_config_default(&cfg), AES5_OK);
    CHECK(cfg.log_detail == NULL);
    cfg.max_channels = 2;
    cfg.enable_debug_logging = 1;
    cfg.log_detail = record_detail;
    cfg.log_context = &record;
    CHECK_STATUS(aes5_buffer_manager_init(&storage, &cfg, &m), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &before), AES5_OK);

    /* Against the configured limits and the pool's capacity. */
    CHECK_STATUS(aes5_buffer_manager_check_format(m, AES5_BUFFER_TYPE_PRIMARY, &f, &problem), AES5_OK);
    CHECK_EQ(problem, AES5_FORMAT_OK);
    f.channel_count = 3;
    CHECK_STATUS(aes5_buffer_manager_check_format(m, AES5_BUFFER_TYPE_PRIMARY, &f, &problem), AES5_OK);
    CHECK_EQ(problem, AES5_FORMAT_CHANNELS_ABOVE_LIMIT);
    CHECK_STATUS(aes5_audio_format_check(&f, &problem), AES5_OK); /* fine for the library itself */
    CHECK_EQ(problem, AES5_FORMAT_OK);
    wide = aes5_test_format((uint16_t)(AES5_PRIMARY_BUFFER_BYTES / 4u + 1u)); /* 2 x 16-bit: 4 B a frame */
    CHECK_STATUS(aes5_buffer_manager_check_format(m, AES5_BUFFER_TYPE_PRIMARY, &wide, &problem), AES5_OK);
    CHECK_EQ(problem, AES5_FORMAT_ABOVE_CAPACITY);
    CHECK_STATUS(aes5_buffer_manager_check_format(m, AES5_BUFFER_TYPE_INPUT, &f, &problem), AES5_ERR_NO_POOL_FOR_TYPE);
    CHECK_STATUS(aes5_buffer_manager_check_format(m, 99u, &f, &problem), AES5_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(aes5_buffer_manager_check_format(NULL, AES5_BUFFER_TYPE_PRIMARY, &f, &problem), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_check_format(m, AES5_BUFFER_TYPE_PRIMARY, NULL, &problem), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_check_format(m, AES5_BUFFER_TYPE_PRIMARY, &f, NULL), AES5_ERR_NULL_POINTER);
    CHECK_EQ(record.calls, 0); /* checks are not refusals: nothing logged, nothing counted */
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &after), AES5_OK);
    CHECK_EQ(after.total_operations, before.total_operations);
    CHECK_EQ(after.validation_failures, before.validation_failures);

    /* A refused allocation passes the exact reason to log_detail. */
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_ERR_UNSUPPORTED_FORMAT);
    CHECK_EQ(record.calls, 1);
    CHECK_EQ(record.status, AES5_ERR_UNSUPPORTED_FORMAT);
    CHECK(strcmp(record.operation, "allocate") == 0);
    CHECK(strcmp(record.detail, aes5_format_problem_string(AES5_FORMAT_CHANNELS_ABOVE_LIMIT)) == 0);
    f.channel_count = 2;
    f.sample_rate_hz = 47999;
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_ERR_UNSUPPORTED_FORMAT);
    CHECK(strcmp(record.detail, aes5_format_problem_string(AES5_FORMAT_RATE_NOT_AES5)) == 0);
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &wide, &b), AES5_ERR_FORMAT_TOO_LARGE);
    CHECK(strcmp(record.detail, aes5_format_problem_string(AES5_FORMAT_ABOVE_CAPACITY)) == 0);
    /* Other refusals get their own reason too, not the status's text again. */
    f.sample_rate_hz = 48000;
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_ERR_DOUBLE_RELEASE);
    CHECK_EQ(record.calls, 4);
    CHECK(strcmp(record.operation, "release") == 0);
    CHECK(strstr(record.detail, "is already free: released before") != NULL);
    CHECK(strstr(record.detail, "AES5_ERR_DOUBLE_RELEASE") == NULL);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
}

/* The last refusal, read back, agrees with what log_detail heard last. */
static aes5_last_refusal_t last_refusal(aes5_buffer_manager_t *m) {
    aes5_last_refusal_t r;
    memset(&r, 0x5A, sizeof r);
    CHECK_STATUS(aes5_buffer_manager_get_last_refusal(m, &r), AES5_OK);
    CHECK(memchr(r.text, 0, sizeof r.text) != NULL);
    if (record.calls > 0 && r.number > 0) CHECK(strcmp(r.text, record.detail) == 0);
    if (r.number > 0) CHECK(strcmp(r.operation, record.operation) == 0);
    return r;
}

static void test_last_refusal(void) {
    aes5_runtime_config_t cfg;
    aes5_buffer_manager_t *m = NULL;
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *held = NULL, *b = NULL;
    aes5_last_refusal_t r;
    aes5_audio_buffer_t *outside;
    char expected[AES5_REFUSAL_TEXT_BYTES];
    unsigned char *data;

    CHECK_STATUS(aes5_runtime_config_default(&cfg), AES5_OK);
    cfg.enable_debug_logging = true;
    cfg.log_detail = record_detail;
    cfg.log_context = &record;
    memset(&record, 0, sizeof record);
    CHECK_STATUS(aes5_buffer_manager_init(&storage, &cfg, &m), AES5_OK);

    CHECK_STATUS(aes5_buffer_manager_get_last_refusal(NULL, &r), AES5_ERR_NULL_POINTER);
    CHECK_STATUS(aes5_buffer_manager_get_last_refusal(m, NULL), AES5_ERR_NULL_POINTER);
    r = last_refusal(m);
    CHECK_EQ(r.number, 0);
    CHECK_EQ(r.reason, AES5_REFUSAL_NONE);
    CHECK_EQ(r.status, AES5_OK);
    CHECK(strcmp(r.text, "no refusal since init") == 0);

    /* A NULL parameter is named by its position (the manager is 1). */
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, NULL), AES5_ERR_NULL_POINTER);
    r = last_refusal(m);
    CHECK_EQ(r.number, 1);
    CHECK_EQ(r.status, AES5_ERR_NULL_POINTER);
    CHECK_EQ(r.reason, AES5_REFUSAL_NULL_ARGUMENT);
    CHECK_EQ(r.subject, 4);
    CHECK(strcmp(r.text, "parameter 4 of allocate is NULL") == 0);
    CHECK_STATUS(aes5_buffer_manager_dequeue(m, 0, NULL), AES5_ERR_NULL_POINTER);
    r = last_refusal(m);
    CHECK_EQ(r.reason, AES5_REFUSAL_NULL_ARGUMENT);
    CHECK_EQ(r.subject, 3);
    CHECK(strcmp(r.operation, "dequeue") == 0);

    /* The three foreign pointers that used to get one text: malloc'd, data, inside a header. */
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &held), AES5_OK);
    outside = (aes5_audio_buffer_t *)malloc(sizeof *outside);
    CHECK(outside != NULL);
    CHECK_STATUS(aes5_buffer_manager_release(m, outside), AES5_ERR_FOREIGN_BUFFER);
    r = last_refusal(m);
    CHECK_EQ(r.reason, AES5_REFUSAL_OUTSIDE_STORAGE);
    CHECK(strstr(r.text, "outside this manager's storage") != NULL);
    free(outside);
    data = (unsigned char *)held->data_pointer;
    CHECK_STATUS(aes5_buffer_manager_release(m, (aes5_audio_buffer_t *)data), AES5_ERR_FOREIGN_BUFFER);
    r = last_refusal(m);
    CHECK_EQ(r.reason, AES5_REFUSAL_DATA_POINTER);
    CHECK_EQ(r.subject, held->buffer_id);
    CHECK_EQ(r.detail, 0);
    snprintf(expected, sizeof expected,
             "the pointer is 0 bytes into buffer %u's data: pass the buffer's header, not its data pointer",
             (unsigned)held->buffer_id);
    CHECK(strcmp(r.text, expected) == 0);
    CHECK_STATUS(aes5_buffer_manager_release(m, (aes5_audio_buffer_t *)((unsigned char *)held + 8)),
                 AES5_ERR_FOREIGN_BUFFER);
    r = last_refusal(m);
    CHECK_EQ(r.reason, AES5_REFUSAL_INSIDE_HEADER);
    CHECK_EQ(r.detail, 8);
    snprintf(expected, sizeof expected, "the pointer is at offset 8 of buffer %u's header, not at its start",
             (unsigned)held->buffer_id);
    CHECK(strcmp(r.text, expected) == 0);

    /* Double release: the buffer and the sequence of its last allocation. */
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &f, &b), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_ERR_DOUBLE_RELEASE);
    r = last_refusal(m);
    CHECK_EQ(r.reason, AES5_REFUSAL_ALREADY_FREE);
    CHECK_EQ(r.subject, b->buffer_id);
    CHECK_EQ(r.detail, 1);
    snprintf(expected, sizeof expected, "buffer %u (sequence 1) is already free: released before",
             (unsigned)b->buffer_id);
    CHECK(strcmp(r.text, expected) == 0);

    /* A damaged header: which field, and quarantined by this call. */
    held->magic_number ^= 1u;
    CHECK_STATUS(aes5_buffer_manager_validate_buffer(m, held), AES5_ERR_CORRUPTED);
    r = last_refusal(m);
    CHECK_EQ(r.reason, AES5_REFUSAL_BAD_MAGIC);
    CHECK(!r.quarantined_now);
    CHECK_STATUS(aes5_buffer_manager_release(m, held), AES5_ERR_CORRUPTED);
    r = last_refusal(m);
    CHECK_EQ(r.reason, AES5_REFUSAL_BAD_MAGIC);
    CHECK(r.quarantined_now);
    CHECK(strstr(r.text, "magic number was overwritten; quarantined now") != NULL);
    CHECK_STATUS(aes5_buffer_manager_release(m, held), AES5_ERR_CORRUPTED);
    r = last_refusal(m);
    CHECK_EQ(r.reason, AES5_REFUSAL_QUARANTINED_BEFORE);
    CHECK(!r.quarantined_now);

    /* The state, and what would allow the call. */
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_ERR_INVALID_STATE);
    r = last_refusal(m);
    CHECK_EQ(r.reason, AES5_REFUSAL_MANAGER_IN_ERROR);
    CHECK_EQ(r.subject, AES5_STATE_ERROR);
    CHECK(strstr(r.text, "transition_state to Ready first") != NULL);
    CHECK_EQ(r.number, record.calls);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_ERR_INVALID_STATE);
    r = last_refusal(m);
    CHECK_EQ(r.reason, AES5_REFUSAL_SHUT_DOWN);
    CHECK(strcmp(r.text, "the manager is Shutdown: init it again") == 0);
}

int main(void) {
    test_names();
    test_format_check();
    test_manager_check_and_log_detail();
    test_last_refusal();
    return aes5_test_finish("test_diagnostics");
}
