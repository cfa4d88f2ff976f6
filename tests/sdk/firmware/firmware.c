/* A bare-metal firmware built from an SDK archive alone (no Rust toolchain): a capture stage
 * fills Primary buffers and hands them through a queue to a processing stage, which releases
 * them; then the held-buffer finder, the queue's counts and the integrity sweep must agree
 * that every buffer came home. Exits 0 (semihosting) when they do. Built with
 * AES5_README_PROGRAM, it first runs the archive README's first program (audio_start()). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "aes5_buffer_manager.h"

#define PERIODS 200u
#define CAPTURE_QUEUE 0u

static aes5_buffer_manager_storage_t storage;

/* A failed step: with the status it returned, or alone when the step was a check (AES5_OK). */
static int fail(const char *what, aes5_status_t status) {
    if (status == AES5_OK) {
        printf("sdk firmware: %s\n", what);
    } else {
        printf("sdk firmware: %s: %s\n", what, aes5_status_string(status));
    }
    return 1;
}

#if AES5_README_PROGRAM
/* The first program of the archive's README, with a storage of its own. */
int audio_start(void);
#endif

int main(void) {
    aes5_buffer_manager_t *manager = NULL;
    aes5_audio_format_t format;
    aes5_queue_statistics_t queue;
    aes5_integrity_report_t report;
    aes5_held_buffer_t held[4];
    uint32_t held_count = 99, period, sum = 0;
    aes5_status_t status;

#if AES5_README_PROGRAM
    if (audio_start() != 0) return fail("the README's first program failed", AES5_OK);
#endif
    memset(&format, 0, sizeof format);
    format.sample_rate_hz = 48000;
    format.channel_count = 2;
    format.sample_size_bits = 16;
    format.frame_size_samples = 32; /* 128 bytes: fits the small geometry too */
    if ((status = AES5_BUFFER_MANAGER_INIT(&storage, NULL, &manager)) != AES5_OK) return fail("init", status);
    for (period = 0; period < PERIODS; period++) {
        aes5_audio_buffer_t *captured = NULL, *processed = NULL;
        uint32_t i;
        if ((status = aes5_buffer_manager_allocate(manager, AES5_BUFFER_TYPE_PRIMARY, &format, &captured)) != AES5_OK)
            return fail("allocate", status);
        for (i = 0; i < captured->data_size_bytes; i++) captured->data_pointer[i] = (uint8_t)(period + i);
        if ((status = aes5_buffer_manager_enqueue(manager, CAPTURE_QUEUE, captured)) != AES5_OK)
            return fail("enqueue", status);
        if ((status = aes5_buffer_manager_dequeue(manager, CAPTURE_QUEUE, &processed)) != AES5_OK)
            return fail("dequeue", status);
        if (processed != captured) return fail("the queue gave back another buffer", AES5_OK);
        for (i = 0; i < processed->data_size_bytes; i++) sum += processed->data_pointer[i];
        if ((status = aes5_buffer_manager_release(manager, processed)) != AES5_OK) return fail("release", status);
    }
    if ((status = aes5_buffer_manager_get_queue_statistics(manager, CAPTURE_QUEUE, &queue)) != AES5_OK)
        return fail("queue statistics", status);
    if (queue.total_enqueued != PERIODS || queue.total_dequeued != PERIODS || queue.length != 0)
        return fail("the queue's counts do not reconcile", AES5_OK);
    if ((status = aes5_buffer_manager_get_held_buffers(manager, held, 4, &held_count)) != AES5_OK || held_count != 0)
        return fail("buffers still held", status);
    if ((status = aes5_buffer_manager_check_integrity(manager, &report)) != AES5_OK || report.damaged_count != 0)
        return fail("integrity sweep", status);
    if ((status = aes5_buffer_manager_shutdown(manager)) != AES5_OK) return fail("shutdown", status);
    printf("sdk firmware: %u periods through a hand-off queue, %u buffers swept clean (checksum %u)\n",
           (unsigned)PERIODS, (unsigned)report.buffers_checked, (unsigned)sum);
    return 0;
}
