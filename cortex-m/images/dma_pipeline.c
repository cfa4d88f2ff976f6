/* A DMA-shaped audio pipeline on a bare Cortex-M core, through the library's hand-off queues.
 *
 * SysTick plays the DMA controller. At every tick its handler
 * - "captures" one period: allocates a Primary buffer, fills it with frame k's samples,
 *   stamps its header and enqueues it to queue 0 (capture -> processing);
 * - "plays" one period: dequeues the oldest buffer of queue 1 (processing -> playback),
 *   checks that it is the next frame in order and that every sample went through the
 *   processing, and releases it.
 * main() is the processing task: it dequeues from queue 0, processes every sample in place
 * (inverts it) and enqueues the buffer to queue 1; with nothing to do it sleeps (WFI) until
 * the next tick, as firmware does.
 *
 * Once, at frame OVERRUN_FRAME, the "DMA" runs one word long: it writes one word past the
 * end of the buffer's data area after the buffer was handed to the processing task, as a DMA
 * programmed one word too long would. main()'s next hand-off of that buffer (its enqueue to playback) is refused as
 * corrupted, the buffer is quarantined and never comes back into service, main() recovers the
 * manager (Error -> Ready) and the pipeline runs on with the other buffers.
 *
 * Passes (exit 0) when, after TICKS periods and a drain: every other frame came out in order,
 * processed exactly once, none was dropped for want of a buffer, exactly the overrun frame
 * was lost, and the pools, both queues, the overrun count and the held-buffer finder
 * reconcile with the frames counted here. Runs on every emulated board; on Cortex-M0 the
 * library's read-modify-writes are critical sections. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "aes5_buffer_manager.h"
#include "board.h"

#ifndef TICKS
#define TICKS 4000u
#endif
#define CAPTURE_QUEUE 0u
#define PLAYBACK_QUEUE 1u
/* SysTick reload: a period long enough for main() to process a frame. */
#define PERIOD_TICKS 2000u
/* The frame whose buffer the DMA overruns. */
#define OVERRUN_FRAME 1000u

static aes5_buffer_manager_storage_t storage;
static aes5_buffer_manager_t *manager;
static aes5_audio_format_t format;

/* Written by the handler only (main reads them once SysTick is off). */
static volatile uint32_t captured;  /* frames enqueued to the capture queue */
static volatile uint32_t played;    /* frames checked and released */
static volatile uint32_t dropped;   /* ticks without a free buffer */
static volatile uint32_t starved;   /* ticks with nothing to play (the first few are expected) */
static volatile uint32_t handler_failures;
static volatile uint32_t refused_in_error; /* ticks whose allocation met the manager in Error */
/* The buffer the DMA overran and its frame (the handler's); the frame main() lost. */
static aes5_audio_buffer_t *volatile overrun_buffer;
static volatile uint32_t overrun_frame = 0xFFFFFFFFu;
static volatile uint32_t lost_frame = 0xFFFFFFFFu;
static uint32_t next_to_play; /* the handler's */
static uint32_t processed;                 /* main() only */
static uint32_t main_failures;

static uint32_t sample(uint32_t frame, uint32_t i) { return (frame << 16) ^ (i * 0x9E37u); }

static uint32_t words(const aes5_audio_buffer_t *b) { return (uint32_t)(b->data_size_bytes / 4u); }

/* The playback side of a tick: the next frame, processed. */
static void play_one(void) {
    aes5_audio_buffer_t *b = 0;
    aes5_status_t s = aes5_buffer_manager_dequeue(manager, PLAYBACK_QUEUE, &b);
    if (s == AES5_ERR_QUEUE_EMPTY) {
        starved++;
        return;
    }
    if (s != AES5_OK) {
        handler_failures++;
        return;
    }
    uint32_t frame = (uint32_t)b->timestamp_ns;
    const volatile uint32_t *w = (const volatile uint32_t *)(const void *)b->data_pointer;
    if (next_to_play == lost_frame) next_to_play++;
    if (frame != next_to_play || b->processing_count != 1u) handler_failures++;
    next_to_play = frame + 1u;
    for (uint32_t i = 0; i < words(b); i++)
        if (w[i] != ~sample(frame, i)) handler_failures++;
    if (aes5_buffer_manager_release(manager, b) != AES5_OK) handler_failures++;
    played++;
}

/* The capture side of a tick: frame `captured` into a new buffer, to the processing task. */
static void capture_one(void) {
    aes5_audio_buffer_t *b = 0;
    aes5_status_t s = aes5_buffer_manager_allocate(manager, AES5_BUFFER_TYPE_PRIMARY, &format, &b);
    if (s == AES5_ERR_POOL_EXHAUSTED) {
        dropped++;
        return;
    }
    if (s == AES5_ERR_INVALID_STATE) {
        refused_in_error++; /* the overrun put the manager in Error; main() recovers it */
        return;
    }
    if (s != AES5_OK || b == overrun_buffer) {
        handler_failures++; /* a quarantined buffer must never come back */
        return;
    }
    volatile uint32_t *w = (volatile uint32_t *)(void *)b->data_pointer;
    for (uint32_t i = 0; i < words(b); i++) w[i] = sample(captured, i);
    b->timestamp_ns = captured;
    if (aes5_buffer_manager_enqueue(manager, CAPTURE_QUEUE, b) != AES5_OK) {
        handler_failures++;
        return;
    }
    if (captured == OVERRUN_FRAME) {
        /* The DMA goes on one word past the data area of the buffer it just handed off. */
        *(volatile uint32_t *)(void *)(b->data_pointer + b->buffer_capacity_bytes) = 0xDEADBEEFu;
        overrun_buffer = b;
        overrun_frame = captured;
    }
    captured++;
}

void SysTick_Handler(void) {
    if (captured < TICKS) capture_one();
    play_one();
}

/* The processing task's step: one buffer from capture to playback; 0 when there was none. */
static int process_one(void) {
    aes5_audio_buffer_t *b = 0;
    aes5_status_t s = aes5_buffer_manager_dequeue(manager, CAPTURE_QUEUE, &b);
    if (s == AES5_ERR_QUEUE_EMPTY) return 0;
    if (s != AES5_OK) {
        main_failures++;
        return 0;
    }
    volatile uint32_t *w = (volatile uint32_t *)(void *)b->data_pointer;
    for (uint32_t i = 0; i < words(b); i++) w[i] = ~w[i];
    b->processing_count++;
    s = aes5_buffer_manager_enqueue(manager, PLAYBACK_QUEUE, b);
    if (s == AES5_ERR_CORRUPTED && b == overrun_buffer && lost_frame == 0xFFFFFFFFu) {
        /* The DMA overran this buffer: quarantined now. Recover and carry on. */
        lost_frame = (uint32_t)b->timestamp_ns;
        if (aes5_buffer_manager_transition_state(manager, AES5_STATE_READY) != AES5_OK) main_failures++;
        return 1;
    }
    if (s != AES5_OK) main_failures++;
    processed++;
    return 1;
}

static void check(int ok, const char *what) {
    if (!ok) {
        printf("dma_pipeline: FAILED: %s\n", what);
        main_failures++;
    }
}

int main(void) {
    aes5_runtime_config_t config;
    memset(&format, 0, sizeof format);
    format.sample_rate_hz = 48000;
    format.channel_count = 2;
    format.sample_size_bits = 16;
    format.frame_size_samples = 32; /* 128 bytes: 32 words a period */
    check(aes5_runtime_config_default(&config) == AES5_OK, "config");
    config.enable_performance_monitoring = 0;
    check(AES5_BUFFER_MANAGER_INIT(&storage, &config, &manager) == AES5_OK, "init");

    AES5_SYST_RVR = PERIOD_TICKS;
    AES5_SYST_CVR = 0;
    AES5_SYST_CSR = AES5_SYST_CSR_ENABLE | AES5_SYST_CSR_TICKINT | AES5_SYST_CSR_CLKSOURCE;
    while (played + (lost_frame != 0xFFFFFFFFu) < TICKS && main_failures == 0 && handler_failures == 0) {
        if (!process_one()) __asm__ volatile("wfi");
    }
    AES5_SYST_CSR = 0;

    /* Anything still in flight: process and play it here. */
    while (process_one()) {
    }
    while (played + (lost_frame != 0xFFFFFFFFu) < captured && handler_failures == 0) play_one();

    static aes5_pool_statistics_t primary;
    static aes5_realtime_metrics_t metrics;
    aes5_queue_statistics_t capture, playback;
    uint32_t held = 99;
    check(aes5_buffer_manager_get_pool_statistics(manager, AES5_BUFFER_TYPE_PRIMARY, &primary) == AES5_OK, "pool");
    check(aes5_buffer_manager_get_queue_statistics(manager, CAPTURE_QUEUE, &capture) == AES5_OK, "capture queue");
    check(aes5_buffer_manager_get_queue_statistics(manager, PLAYBACK_QUEUE, &playback) == AES5_OK, "playback queue");
    check(aes5_buffer_manager_get_held_buffers(manager, 0, 0, &held) == AES5_OK, "finder");
    check(aes5_buffer_manager_get_metrics(manager, &metrics) == AES5_OK, "metrics");
    printf("dma_pipeline: %lu periods captured, %lu processed, %lu played, %lu dropped, %lu starved ticks; "
           "peak queue lengths %lu (capture) and %lu (playback); peak Primary buffers %lu of %lu\n",
           (unsigned long)captured, (unsigned long)processed, (unsigned long)played, (unsigned long)dropped,
           (unsigned long)starved, (unsigned long)capture.peak_length, (unsigned long)playback.peak_length,
           (unsigned long)primary.peak_allocated, (unsigned long)primary.total_buffers);
    printf("dma_pipeline: DMA overrun of frame %lu: frame %lu lost at main()'s hand-off, %lu overrun detected, %lu "
           "Primary buffer quarantined, %lu ticks refused while in Error\n",
           (unsigned long)overrun_frame, (unsigned long)lost_frame,
           (unsigned long)metrics.overruns_detected, (unsigned long)primary.quarantined_buffers,
           (unsigned long)refused_in_error);
    check(handler_failures == 0, "the handler saw a frame out of order, unprocessed or damaged, or a call failed");
    check(lost_frame == overrun_frame, "the overrun frame, and only it, was lost at main()'s hand-off");
    check(captured == TICKS && processed == TICKS - 1u && played == TICKS - 1u, "every other frame went through");
    check(dropped == 0, "no period without a buffer");
    check(metrics.overruns_detected == 1u && primary.quarantined_buffers == 1u, "the overrun was caught once");
    check(primary.total_allocations == TICKS && primary.total_releases == TICKS - 1u, "the pool reconciles");
    check(primary.allocated_buffers == 0, "no buffer lost");
    check(capture.total_enqueued == TICKS && capture.total_dequeued == TICKS && capture.length == 0,
          "the capture queue reconciles");
    check(playback.total_enqueued == TICKS - 1u && playback.total_dequeued == TICKS - 1u && playback.length == 0,
          "the playback queue reconciles");
    check(capture.peak_length >= 1u && playback.peak_length >= 1u, "the queues were used");
    check(held == 0, "the finder finds no held buffer");
    check(aes5_buffer_manager_shutdown(manager) == AES5_OK, "shutdown");
    return main_failures == 0 ? 0 : 1;
}
