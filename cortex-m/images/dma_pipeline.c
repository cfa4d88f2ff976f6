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
 * Passes (exit 0) when, after TICKS periods and a drain: every frame came out in order,
 * processed exactly once, none was dropped for want of a buffer, and the pools, both queues
 * and the held-buffer finder reconcile with the frames counted here. Runs on every emulated
 * board; on Cortex-M0 the library's read-modify-writes are critical sections. */
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

static aes5_buffer_manager_storage_t storage;
static aes5_buffer_manager_t *manager;
static aes5_audio_format_t format;

/* Written by the handler only (main reads them once SysTick is off). */
static volatile uint32_t captured;  /* frames enqueued to the capture queue */
static volatile uint32_t played;    /* frames checked and released */
static volatile uint32_t dropped;   /* ticks without a free buffer */
static volatile uint32_t starved;   /* ticks with nothing to play (the first few are expected) */
static volatile uint32_t handler_failures;
static uint32_t processed;          /* main() only */
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
    if (frame != played || b->processing_count != 1u) handler_failures++;
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
    if (s != AES5_OK) {
        handler_failures++;
        return;
    }
    volatile uint32_t *w = (volatile uint32_t *)(void *)b->data_pointer;
    for (uint32_t i = 0; i < words(b); i++) w[i] = sample(captured, i);
    b->timestamp_ns = captured;
    if (aes5_buffer_manager_enqueue(manager, CAPTURE_QUEUE, b) != AES5_OK) {
        handler_failures++;
        return;
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
    if (aes5_buffer_manager_enqueue(manager, PLAYBACK_QUEUE, b) != AES5_OK) main_failures++;
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
    while (played < TICKS && main_failures == 0 && handler_failures == 0) {
        if (!process_one()) __asm__ volatile("wfi");
    }
    AES5_SYST_CSR = 0;

    /* Anything still in flight: process and play it here. */
    while (process_one()) {
    }
    while (played < captured && handler_failures == 0) play_one();

    static aes5_pool_statistics_t primary;
    aes5_queue_statistics_t capture, playback;
    uint32_t held = 99;
    check(aes5_buffer_manager_get_pool_statistics(manager, AES5_BUFFER_TYPE_PRIMARY, &primary) == AES5_OK, "pool");
    check(aes5_buffer_manager_get_queue_statistics(manager, CAPTURE_QUEUE, &capture) == AES5_OK, "capture queue");
    check(aes5_buffer_manager_get_queue_statistics(manager, PLAYBACK_QUEUE, &playback) == AES5_OK, "playback queue");
    check(aes5_buffer_manager_get_held_buffers(manager, 0, 0, &held) == AES5_OK, "finder");
    printf("dma_pipeline: %lu periods captured, %lu processed, %lu played, %lu dropped, %lu starved ticks; "
           "peak queue lengths %lu (capture) and %lu (playback); peak Primary buffers %lu of %lu\n",
           (unsigned long)captured, (unsigned long)processed, (unsigned long)played, (unsigned long)dropped,
           (unsigned long)starved, (unsigned long)capture.peak_length, (unsigned long)playback.peak_length,
           (unsigned long)primary.peak_allocated, (unsigned long)primary.total_buffers);
    check(handler_failures == 0, "the handler saw a frame out of order, unprocessed or damaged, or a call failed");
    check(captured == TICKS && processed == TICKS && played == TICKS, "every frame went through");
    check(dropped == 0, "no period without a buffer");
    check(primary.total_allocations == TICKS && primary.total_releases == TICKS, "the pool reconciles");
    check(primary.allocated_buffers == 0, "no buffer lost");
    check(capture.total_enqueued == TICKS && capture.total_dequeued == TICKS && capture.length == 0,
          "the capture queue reconciles");
    check(playback.total_enqueued == TICKS && playback.total_dequeued == TICKS && playback.length == 0,
          "the playback queue reconciles");
    check(capture.peak_length >= 1u && playback.peak_length >= 1u, "the queues were used");
    check(held == 0, "the finder finds no held buffer");
    check(aes5_buffer_manager_shutdown(manager) == AES5_OK, "shutdown");
    return main_failures == 0 ? 0 : 1;
}
