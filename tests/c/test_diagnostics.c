/*
 * test_diagnostics.c: telling the user what went wrong. The names of states and buffer
 * types; the exact reason a format is refused (aes5_audio_format_check,
 * aes5_buffer_manager_check_format); and the log_detail callback, which receives that reason
 * for a refused allocation and the status's text for other refusals.
 */
#include <stdint.h>

#include "test_support.h"

typedef struct {
    unsigned calls;
    aes5_status_t status;
    const char *operation;
    const char *detail;
} detail_record_t;

static void record_detail(void *ctx, aes5_status_t status, const char *operation, const char *detail) {
    detail_record_t *r = (detail_record_t *)ctx;
    r->calls++;
    r->status = status;
    r->operation = operation;
    r->detail = detail;
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
    /* Other refusals get the status's text. */
    f.sample_rate_hz = 48000;
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_ERR_DOUBLE_RELEASE);
    CHECK_EQ(record.calls, 4);
    CHECK(strcmp(record.operation, "release") == 0);
    CHECK(strcmp(record.detail, aes5_status_string(AES5_ERR_DOUBLE_RELEASE)) == 0);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
}

int main(void) {
    test_names();
    test_format_check();
    test_manager_check_and_log_detail();
    return aes5_test_finish("test_diagnostics");
}
