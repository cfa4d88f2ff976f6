/*
 * demo.c: streams a generated 48 kHz stereo signal through the buffer manager, period by
 * period (256 sample frames each), the way a small audio firmware would. By default it runs as
 * fast as the CPU allows and says how many times faster than real time that was; with
 * --realtime it paces each period to the clock (5.33 ms apart), so hold times, the trend's
 * 100 ms intervals and the report's window are those of a real stream.
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
 * Usage: aes5_demo [--seconds N] [--realtime]   (N default 3), aes5_demo --help. Exit status 0
 * when every sample verified, 2 for a bad argument.
 */
#define _POSIX_C_SOURCE 200112L /* clock_gettime, clock_nanosleep */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aes5_buffer_manager.h"
#include "pipeline.h"

/* Periods that wait in the capture queue before processing starts. */
#define QUEUE_DEPTH 3u
#define CAPTURE_QUEUE 0u

/* Unpaced, the demo runs in milliseconds, so its trend snapshots are 1 ms apart; paced to real
 * time they keep the library's default of 100 ms. */
#define FAST_TREND_INTERVAL_NS 1000000u
#define REALTIME_TREND_INTERVAL_NS 100000000u

static aes5_buffer_manager_storage_t storage; /* any contents: init writes what it reads */

static int fail(const char *what, aes5_status_t status) {
    fprintf(stderr, "demo: %s failed: %s\n", what, aes5_status_string(status));
    return 1;
}

static void usage(FILE *to, const char *program) {
    fprintf(to,
            "usage: %s [--seconds N] [--realtime]\n"
            "Streams N seconds (1..3600, default 3) of 48 kHz stereo audio through three pools:\n"
            "int16 capture (Primary) -> float32 (Conversion) -> 24-in-32 at -6 dB (Scratch).\n"
            "By default as fast as the CPU allows (trend snapshots every 1 ms; the run states its\n"
            "real-time factor); with --realtime each period waits for its time on the clock, so\n"
            "hold times and the report's 100 ms trend intervals are those of a real stream.\n"
            "Every output sample is checked; then the statistics, real-time metrics, performance\n"
            "report and storage layout are printed. Exits 0 when every sample matched.\n",
            program);
}

static uint64_t monotonic_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Sleeps until the monotonic clock reads `deadline_ns`. */
static void sleep_until(uint64_t deadline_ns) {
    struct timespec t;
    t.tv_sec = (time_t)(deadline_ns / 1000000000u);
    t.tv_nsec = (long)(deadline_ns % 1000000000u);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR) {
    }
}

/* Reads the arguments; 0 when they are fine, else the message has been printed. */
static int parse_arguments(int argc, char **argv, unsigned *seconds, int *realtime) {
    int i;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--realtime") == 0) {
            *realtime = 1;
        } else if (strcmp(argv[i], "--seconds") == 0) {
            char *end = NULL;
            unsigned long n;
            if (i + 1 == argc) {
                fprintf(stderr, "demo: --seconds needs a value: a whole number of seconds from 1 to 3600\n");
                return 2;
            }
            n = strtoul(argv[++i], &end, 10);
            if (end == argv[i] || *end != '\0' || argv[i][0] == '-' || n < 1 || n > 3600) {
                fprintf(stderr, "demo: --seconds wants a whole number of seconds from 1 to 3600, not '%s'\n", argv[i]);
                return 2;
            }
            *seconds = (unsigned)n;
        } else {
            fprintf(stderr, "demo: unknown argument '%s' (%s --help lists the arguments)\n", argv[i], argv[0]);
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    aes5_buffer_manager_t *manager = NULL;
    aes5_runtime_config_t config;
    pipeline_formats_t fmt;
    unsigned queued = 0;
    uint64_t frame_ns = 0, next_sample = 0, verified = 0, mismatches = 0;
    unsigned seconds = 3, f, frames_total;
    int realtime = 0;
    uint64_t trend_interval_ns, started_ns, wall_ns;
    const uint16_t frame = pipeline_frames(256);
    aes5_status_t s;

    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout, argv[0]);
        return 0;
    }
    if (parse_arguments(argc, argv, &seconds, &realtime) != 0) return 2;
    trend_interval_ns = realtime ? REALTIME_TREND_INTERVAL_NS : FAST_TREND_INTERVAL_NS;

    fmt = pipeline_formats(frame);

    if ((s = aes5_runtime_config_default(&config)) != AES5_OK) return fail("config", s);
    config.trend_interval_ns = trend_interval_ns;
    if ((s = AES5_BUFFER_MANAGER_INIT(&storage, &config, &manager)) != AES5_OK) return fail("init", s);
    if ((s = aes5_audio_format_frame_duration_ns(&fmt.capture, &frame_ns)) != AES5_OK) return fail("duration", s);

    frames_total = (unsigned)(((uint64_t)seconds * PIPELINE_RATE + frame - 1) / frame);
    printf("aes5_buffer_manager demo: %u s of 48 kHz stereo audio (%s), %u periods of %u sample frames (%llu ns "
           "each)\n",
           seconds, realtime ? "paced to real time" : "as fast as the CPU allows", frames_total, frame,
           (unsigned long long)frame_ns);
    printf("pipeline: int16 capture (Primary) -> float32 (Conversion) -> 24-in-32 at -6 dB (Scratch)\n");

    started_ns = monotonic_ns();
    for (f = 0; f < frames_total + QUEUE_DEPTH; f++) {
        /* Paced: period f is captured when its time comes, as a DMA interrupt would deliver it. */
        if (realtime) sleep_until(started_ns + (uint64_t)f * frame_ns);
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

    wall_ns = monotonic_ns() - started_ns;
    printf("verified %llu samples (%llu sample frames x %u channels), %llu mismatches\n", (unsigned long long)verified,
           (unsigned long long)next_sample, PIPELINE_CHANNELS, (unsigned long long)mismatches);
    /* Audio seconds per wall second (the last periods' drain counts as wall time). */
    printf("%u s of audio in %.3f s of wall time: %.1fx real time%s\n", seconds, (double)wall_ns / 1e9,
           (double)seconds * 1e9 / (double)(wall_ns ? wall_ns : 1), realtime ? " (paced)" : "");
    pipeline_print_report(manager, trend_interval_ns);
    if ((s = aes5_buffer_manager_shutdown(manager)) != AES5_OK) return fail("shutdown", s);
    printf("\nshutdown: OK\n");
    return mismatches == 0 ? 0 : 1;
}
