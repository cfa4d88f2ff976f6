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
 * Up to three captured periods wait in a queue before processing, so several Primary buffers
 * are in flight at once. Every output sample is checked against the expected value; at the
 * end the manager's statistics, real-time metrics and performance report are printed.
 *
 * Usage: aes5_demo [--seconds N]   (default 3), aes5_demo --help. Exit status 0 when every
 * sample verified.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aes5_buffer_manager.h"

#define SAMPLE_RATE 48000u
#define CHANNELS 2u
#define QUEUE_DEPTH 3u
#define PI 3.14159265358979323846

/* Sample frames in one period: 256, or fewer if the build's buffers are smaller. */
static uint16_t frame_samples(void) {
    uint32_t fit = AES5_CONVERSION_BUFFER_BYTES / (CHANNELS * 4u);
    uint32_t fit_primary = AES5_PRIMARY_BUFFER_BYTES / (CHANNELS * 2u);
    uint32_t fit_scratch = AES5_SCRATCH_BUFFER_BYTES / (CHANNELS * 4u);
    uint32_t n = 256;
    if (fit < n) n = fit;
    if (fit_primary < n) n = fit_primary;
    if (fit_scratch < n) n = fit_scratch;
    return (uint16_t)n;
}

/* The test signal: 440 Hz on the left, 1 kHz on the right, at -3 dBFS. */
static int16_t signal_sample(uint64_t n, unsigned channel) {
    double hz = channel == 0 ? 440.0 : 1000.0;
    double phase = 2.0 * PI * hz * (double)(n % SAMPLE_RATE) / (double)SAMPLE_RATE;
    return (int16_t)lrint(sin(phase) * 23170.0);
}

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

/* The report's warning flags by name, or "none". */
static void print_warnings(uint32_t warnings) {
    unsigned bit;
    if (warnings == 0) printf(" none");
    for (bit = 0; bit < 32; bit++)
        if (warnings & (1u << bit)) printf(" %s", aes5_warning_string(1u << bit));
}

static void print_report(aes5_buffer_manager_t *manager) {
    aes5_manager_statistics_t stats;
    aes5_realtime_metrics_t m;
    aes5_performance_report_t report;
    aes5_storage_layout_t layout;
    int i;

    aes5_buffer_manager_get_statistics(manager, &stats);
    aes5_buffer_manager_get_metrics(manager, &m);
    aes5_buffer_manager_get_performance_report(manager, 0, &report);
    aes5_buffer_manager_storage_layout(&layout);

    printf("\n== Manager statistics ==\n");
    printf("state %s, %u state changes, %llu operations, %llu failed, success rate %.4f\n",
           aes5_state_string(stats.current_state), stats.state_change_count,
           (unsigned long long)stats.total_operations, (unsigned long long)stats.failed_operations,
           stats.operation_success_rate);
    printf("%-11s %6s %6s %6s %9s %9s %8s %10s %11s\n", "type", "total", "held", "peak", "allocs",
           "releases", "failures", "avg util", "avg hold");
    for (i = 0; i < 3; i++) {
        const aes5_pool_statistics_t *p = &stats.buffer_type_stats[i];
        printf("%-11s %6u %6u %6u %9llu %9llu %8llu %9.1f%% %8llu ns\n", aes5_buffer_type_string((aes5_buffer_type_t)i), p->total_buffers,
               p->allocated_buffers, p->peak_allocated, (unsigned long long)p->total_allocations,
               (unsigned long long)p->total_releases, (unsigned long long)p->allocation_failures,
               p->average_utilization * 100.0, (unsigned long long)p->average_hold_time_ns);
    }

    printf("\n== Real-time metrics ==\n");
    printf("allocate: %llu timed, min %llu ns, avg %llu ns, max %llu ns\n",
           (unsigned long long)m.timed_allocations, (unsigned long long)m.min_allocation_time_ns,
           (unsigned long long)m.average_allocation_time_ns, (unsigned long long)m.max_allocation_time_ns);
    printf("release:  %llu timed, min %llu ns, avg %llu ns, max %llu ns\n",
           (unsigned long long)m.timed_releases, (unsigned long long)m.min_release_time_ns,
           (unsigned long long)m.average_release_time_ns, (unsigned long long)m.max_release_time_ns);
    printf("peak %u buffers / %u bytes held; success rate %.4f; validation errors %llu; "
           "corruption %llu; timeouts %llu\n",
           m.peak_allocated_buffers, m.peak_memory_usage_bytes, m.allocation_success_rate,
           (unsigned long long)m.validation_errors, (unsigned long long)m.corruption_detected,
           (unsigned long long)m.timeout_errors);

    printf("\n== Performance report (trend over %u intervals of %.1f ms) ==\n", report.trend.sample_count,
           (double)TREND_INTERVAL_NS / 1e6);
    printf("allocation time %.1f ns +/- %.1f ns; utilisation avg %.1f%% peak %.1f%%; success trend %+.4f\n",
           report.trend.average_allocation_time_ns, report.trend.allocation_time_stddev_ns,
           report.trend.average_memory_utilization * 100.0, report.trend.peak_memory_utilization * 100.0,
           report.trend.success_rate_trend);
    printf("meets requirements: %s; warnings:", report.meets_performance_requirements ? "yes" : "no");
    print_warnings(report.warnings);
    printf("; monitored for %.3f s\n", (double)report.monitoring_duration_ns / 1e9);

    printf("\n== Storage (%u bytes) ==\n", layout.storage_bytes);
    printf("required %u = audio data %u + alignment pad <= %u + control block %u\n", layout.required_bytes,
           layout.data_bytes, layout.alignment_padding_bytes, layout.control_block_bytes);
    printf("control block %u = headers %u + slot words %u + statistics %u + metrics %u + history %u (%u entries)"
           " + identity/config/state %u\n",
           layout.control_block_bytes, layout.header_bytes, layout.slot_control_bytes, layout.statistics_bytes,
           layout.metrics_bytes, layout.history_bytes, layout.history_capacity,
           layout.control_block_bytes - layout.header_bytes - layout.slot_control_bytes - layout.statistics_bytes -
               layout.metrics_bytes - layout.history_bytes);
}

int main(int argc, char **argv) {
    aes5_buffer_manager_t *manager = NULL;
    aes5_runtime_config_t config;
    aes5_audio_format_t capture_fmt, work_fmt, out_fmt;
    aes5_audio_buffer_t *queue[QUEUE_DEPTH];
    unsigned queued = 0;
    uint64_t frame_ns = 0, next_sample = 0, verified = 0, mismatches = 0;
    unsigned seconds = 3, f, frames_total;
    const uint16_t frame = frame_samples();
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

    memset(&capture_fmt, 0, sizeof capture_fmt);
    capture_fmt.sample_rate_hz = SAMPLE_RATE;
    capture_fmt.channel_count = CHANNELS;
    capture_fmt.sample_size_bits = 16;
    capture_fmt.frame_size_samples = frame;
    work_fmt = capture_fmt;
    work_fmt.sample_size_bits = 32;
    work_fmt.sample_encoding = AES5_ENCODING_FLOAT;
    out_fmt = capture_fmt;
    out_fmt.sample_size_bits = 24; /* 24-in-32, the default container for 24 bits */

    if ((s = aes5_runtime_config_default(&config)) != AES5_OK) return fail("config", s);
    config.trend_interval_ns = TREND_INTERVAL_NS;
    if ((s = AES5_BUFFER_MANAGER_INIT(&storage, &config, &manager)) != AES5_OK) return fail("init", s);
    if ((s = aes5_audio_format_frame_duration_ns(&capture_fmt, &frame_ns)) != AES5_OK) return fail("duration", s);

    frames_total = (unsigned)(((uint64_t)seconds * SAMPLE_RATE + frame - 1) / frame);
    printf("aes5_buffer_manager demo: %u s of 48 kHz stereo audio (not paced to real time), %u periods of %u "
           "sample frames (%llu ns each)\n",
           seconds, frames_total, frame, (unsigned long long)frame_ns);
    printf("pipeline: int16 capture (Primary) -> float32 (Conversion) -> 24-in-32 at -6 dB (Scratch)\n");

    for (f = 0; f < frames_total + QUEUE_DEPTH; f++) {
        /* Capture: an interrupt-style producer fills a Primary buffer with one period. */
        if (f < frames_total) {
            aes5_audio_buffer_t *in = NULL;
            int16_t *pcm;
            unsigned i, c;
            if ((s = aes5_buffer_manager_allocate(manager, AES5_BUFFER_TYPE_PRIMARY, &capture_fmt, &in)) != AES5_OK)
                return fail("allocate Primary", s);
            pcm = (int16_t *)(void *)in->data_pointer;
            for (i = 0; i < frame; i++)
                for (c = 0; c < CHANNELS; c++) pcm[i * CHANNELS + c] = signal_sample((uint64_t)f * frame + i, c);
            in->timestamp_ns = (uint64_t)f * frame_ns;
            queue[queued++] = in;
        }
        /* Process the oldest period once the queue is full (or while draining at the end). */
        if (queued == QUEUE_DEPTH || (f >= frames_total && queued > 0)) {
            aes5_audio_buffer_t *in = queue[0], *work = NULL, *out = NULL;
            const int16_t *pcm = (const int16_t *)(const void *)in->data_pointer;
            float *fl;
            int32_t *s24;
            unsigned i;

            if ((s = aes5_buffer_manager_validate_buffer(manager, in)) != AES5_OK) return fail("validate", s);
            if ((s = aes5_buffer_manager_allocate(manager, AES5_BUFFER_TYPE_CONVERSION, &work_fmt, &work)) != AES5_OK)
                return fail("allocate Conversion", s);
            fl = (float *)(void *)work->data_pointer;
            for (i = 0; i < (unsigned)frame * CHANNELS; i++) fl[i] = (float)pcm[i] / 32768.0f;
            work->timestamp_ns = in->timestamp_ns;
            work->processing_count = in->processing_count + 1;
            if ((s = aes5_buffer_manager_release(manager, in)) != AES5_OK) return fail("release Primary", s);
            memmove(&queue[0], &queue[1], (QUEUE_DEPTH - 1) * sizeof queue[0]);
            queued--;

            if ((s = aes5_buffer_manager_allocate(manager, AES5_BUFFER_TYPE_SCRATCH, &out_fmt, &out)) != AES5_OK)
                return fail("allocate Scratch", s);
            s24 = (int32_t *)(void *)out->data_pointer;
            for (i = 0; i < (unsigned)frame * CHANNELS; i++) s24[i] = (int32_t)lrintf(fl[i] * 0.5f * 8388608.0f);
            out->processing_count = work->processing_count + 1;
            if ((s = aes5_buffer_manager_release(manager, work)) != AES5_OK) return fail("release Conversion", s);

            /* Playback side: check every sample that would go to the DAC. */
            for (i = 0; i < frame; i++, next_sample++) {
                unsigned c;
                for (c = 0; c < CHANNELS; c++) {
                    int32_t expected = (int32_t)signal_sample(next_sample, c) * 128;
                    verified++;
                    if (s24[i * CHANNELS + c] != expected && mismatches++ < 5)
                        fprintf(stderr, "mismatch at sample %llu ch %u: %d != %d\n",
                                (unsigned long long)next_sample, c, s24[i * CHANNELS + c], expected);
                }
            }
            if (out->processing_count != 2) mismatches++;
            if ((s = aes5_buffer_manager_release(manager, out)) != AES5_OK) return fail("release Scratch", s);
        }
    }

    printf("verified %llu samples (%llu sample frames x %u channels), %llu mismatches\n", (unsigned long long)verified,
           (unsigned long long)next_sample, CHANNELS, (unsigned long long)mismatches);
    print_report(manager);
    if ((s = aes5_buffer_manager_shutdown(manager)) != AES5_OK) return fail("shutdown", s);
    printf("\nshutdown: OK\n");
    return mismatches == 0 ? 0 : 1;
}
