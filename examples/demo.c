/*
 * demo.c: streams a generated 48 kHz stereo signal through the buffer manager, period by
 * period (256 sample frames each), the way a small audio firmware would. It runs as fast as
 * the CPU allows: N seconds of audio, not paced to real time.
 *
 *
 *   capture  -> Primary buffer     (int16 stereo, as an ADC/I2S driver delivers it)
 *            -> Conversion buffer  (float32 stereo, the DSP's working format)
 *            -> Scratch buffer     (24-in-32 stereo after a -6 dB gain, for the DAC)
 *
 * The capture stage hands each period to the processing stage through the library's hand-off
 * queue 0, and processing starts once three periods wait there, so several Primary buffers are
 * in flight at once. Every output sample is checked against the expected value; at the end
 * the manager's statistics, real-time metrics, queue statistics and performance report are
 * printed.
 *
 * Usage: aes5_demo [--seconds N]   (default 3), aes5_demo --help. Exit status 0 when every
 * sample verified.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aes5_buffer_manager.h"
#include "pipeline.h"

/* Periods that wait in the capture queue before processing starts. */
#define QUEUE_DEPTH 3u
#define CAPTURE_QUEUE 0u

/* The demo runs in milliseconds, so its trend snapshots are 1 ms apart (default 100 ms). */
#define TREND_INTERVAL_NS 1000000u

static aes5_buffer_manager_storage_t storage; /* zero-initialised, as init requires */

static int fail(const char *what, aes5_status_t status) {
    fprintf(stderr, "demo: %s failed: %s\n", what, aes5_status_string(status));
    return 1;
}

static void usage(FILE *to, const char *program) {
    fprintf(to,
            "usage: %s [--seconds N]\n"
            "Streams N seconds (1..3600, default 3) of 48 kHz stereo audio, not paced to real time,\n"
            "through three pools: int16 capture (Primary) -> float32 (Conversion) -> 24-in-32 at\n"
            "-6 dB (Scratch). Every output sample is checked; then the statistics, real-time\n"
            "metrics, performance report (trend snapshots every 1 ms) and storage layout are\n"
            "printed. Exits 0 when every sample matched.\n",
            program);
}

int main(int argc, char **argv) {
    aes5_buffer_manager_t *manager = NULL;
    aes5_runtime_config_t config;
    pipeline_formats_t fmt;
    unsigned queued = 0;
    uint64_t frame_ns = 0, next_sample = 0, verified = 0, mismatches = 0;
    unsigned seconds = 3, f, frames_total;
    const uint16_t frame = pipeline_frames(256);
    aes5_status_t s;

    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout, argv[0]);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--seconds") == 0) {
        seconds = (unsigned)strtoul(argv[2], NULL, 10);
    } else if (argc != 1) {
        seconds = 0;
    }
    if (seconds == 0 || seconds > 3600) {
        usage(stderr, argv[0]);
        return 2;
    }

    fmt = pipeline_formats(frame);

    if ((s = aes5_runtime_config_default(&config)) != AES5_OK) return fail("config", s);
    config.trend_interval_ns = TREND_INTERVAL_NS;
    if ((s = AES5_BUFFER_MANAGER_INIT(&storage, &config, &manager)) != AES5_OK) return fail("init", s);
    if ((s = aes5_audio_format_frame_duration_ns(&fmt.capture, &frame_ns)) != AES5_OK) return fail("duration", s);

    frames_total = (unsigned)(((uint64_t)seconds * PIPELINE_RATE + frame - 1) / frame);
    printf("aes5_buffer_manager demo: %u s of 48 kHz stereo audio (not paced to real time), %u periods of %u "
           "sample frames (%llu ns each)\n",
           seconds, frames_total, frame, (unsigned long long)frame_ns);
    printf("pipeline: int16 capture (Primary) -> float32 (Conversion) -> 24-in-32 at -6 dB (Scratch)\n");

    for (f = 0; f < frames_total + QUEUE_DEPTH; f++) {
        /* Capture: an interrupt-style producer fills a Primary buffer with one period. */
        if (f < frames_total) {
            aes5_audio_buffer_t *captured = NULL;
            if ((s = pipeline_capture(manager, &fmt, (uint64_t)f * frame, (uint64_t)f * frame_ns, &captured)) !=
                AES5_OK)
                return fail("allocate Primary", s);
            /* Handed to the processing stage: from here on the queue owns it. */
            if ((s = aes5_buffer_manager_enqueue(manager, CAPTURE_QUEUE, captured)) != AES5_OK) return fail("enqueue", s);
            queued++;
        }
        /* Process the oldest period once the queue is full (or while draining at the end). */
        if (queued == QUEUE_DEPTH || (f >= frames_total && queued > 0)) {
            aes5_audio_buffer_t *in = NULL, *out = NULL;
            const char *step = "";
            if ((s = aes5_buffer_manager_dequeue(manager, CAPTURE_QUEUE, &in)) != AES5_OK) return fail("dequeue", s);
            queued--;
            if ((s = pipeline_process(manager, &fmt, in, &out, &step)) != AES5_OK) return fail(step, s);
            /* Playback side: check every sample that would go to the DAC. */
            mismatches += pipeline_verify(out, next_sample);
            next_sample += frame;
            verified += (uint64_t)frame * PIPELINE_CHANNELS;
            if ((s = aes5_buffer_manager_release(manager, out)) != AES5_OK) return fail("release Scratch", s);
        }
    }

    printf("verified %llu samples (%llu sample frames x %u channels), %llu mismatches\n", (unsigned long long)verified,
           (unsigned long long)next_sample, PIPELINE_CHANNELS, (unsigned long long)mismatches);
    pipeline_print_report(manager, TREND_INTERVAL_NS);
    if ((s = aes5_buffer_manager_shutdown(manager)) != AES5_OK) return fail("shutdown", s);
    printf("\nshutdown: OK\n");
    return mismatches == 0 ? 0 : 1;
}
