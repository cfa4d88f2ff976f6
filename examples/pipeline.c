/* pipeline.c: see pipeline.h. */
#include "pipeline.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PI 3.14159265358979323846

pipeline_timing_t pipeline_timing;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Runs one library call, adding its duration to pipeline_timing when enabled. The comma
 * operator reads the clock before the call (function arguments have no such order). */
static uint64_t call_start_ns;
#define TIMED(call) (pipeline_timing.enabled ? (call_start_ns = now_ns(), timed_status((call))) : (call))

static aes5_status_t timed_status(aes5_status_t status) {
    pipeline_timing.library_ns += now_ns() - call_start_ns;
    return status;
}

uint16_t pipeline_frames(uint16_t wanted) {
    uint32_t n = wanted;
    uint32_t fit_work = AES5_CONVERSION_BUFFER_BYTES / (PIPELINE_CHANNELS * 4u);
    uint32_t fit_capture = AES5_PRIMARY_BUFFER_BYTES / (PIPELINE_CHANNELS * 2u);
    uint32_t fit_out = AES5_SCRATCH_BUFFER_BYTES / (PIPELINE_CHANNELS * 4u);
    if (fit_work < n) n = fit_work;
    if (fit_capture < n) n = fit_capture;
    if (fit_out < n) n = fit_out;
    return (uint16_t)n;
}

pipeline_formats_t pipeline_formats(uint16_t frames) {
    pipeline_formats_t f;
    memset(&f, 0, sizeof f);
    f.capture.sample_rate_hz = PIPELINE_RATE;
    f.capture.channel_count = PIPELINE_CHANNELS;
    f.capture.sample_size_bits = 16;
    f.capture.frame_size_samples = frames;
    f.work = f.capture;
    f.work.sample_size_bits = 32;
    f.work.sample_encoding = AES5_ENCODING_FLOAT;
    f.out = f.capture;
    f.out.sample_size_bits = 24; /* 24-in-32, the default container for 24 bits */
    return f;
}

int16_t pipeline_signal(uint64_t sample, unsigned channel) {
    double hz = channel == 0 ? 440.0 : 1000.0;
    double phase = 2.0 * PI * hz * (double)(sample % PIPELINE_RATE) / (double)PIPELINE_RATE;
    return (int16_t)lrint(sin(phase) * 23170.0);
}

aes5_status_t pipeline_release(aes5_buffer_manager_t *m, aes5_audio_buffer_t *b) {
    return TIMED(aes5_buffer_manager_release(m, b));
}

aes5_status_t pipeline_capture(aes5_buffer_manager_t *m, const pipeline_formats_t *f, uint64_t first_sample,
                               uint64_t timestamp_ns, aes5_audio_buffer_t **out) {
    aes5_audio_buffer_t *in = NULL;
    aes5_status_t s = TIMED(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f->capture, &in));
    int16_t *pcm;
    unsigned i, c;
    if (s != AES5_OK) return s;
    pcm = (int16_t *)(void *)in->data_pointer;
    for (i = 0; i < f->capture.frame_size_samples; i++)
        for (c = 0; c < PIPELINE_CHANNELS; c++) pcm[i * PIPELINE_CHANNELS + c] = pipeline_signal(first_sample + i, c);
    in->timestamp_ns = timestamp_ns;
    *out = in;
    return AES5_OK;
}

aes5_status_t pipeline_process(aes5_buffer_manager_t *m, const pipeline_formats_t *f, aes5_audio_buffer_t *in,
                               aes5_audio_buffer_t **out, const char **step) {
    aes5_audio_buffer_t *work = NULL, *result = NULL;
    const int16_t *pcm = (const int16_t *)(const void *)in->data_pointer;
    const unsigned samples = (unsigned)f->capture.frame_size_samples * PIPELINE_CHANNELS;
    float *fl;
    int32_t *s24;
    unsigned i;
    aes5_status_t s;

    if ((s = TIMED(aes5_buffer_manager_validate_buffer(m, in))) != AES5_OK) return *step = "validate", s;
    if ((s = TIMED(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_CONVERSION, &f->work, &work))) != AES5_OK)
        return *step = "allocate Conversion", s;
    fl = (float *)(void *)work->data_pointer;
    for (i = 0; i < samples; i++) fl[i] = (float)pcm[i] / 32768.0f;
    work->timestamp_ns = in->timestamp_ns;
    work->processing_count = in->processing_count + 1;
    if ((s = pipeline_release(m, in)) != AES5_OK) return *step = "release Primary", s;

    if ((s = TIMED(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &f->out, &result))) != AES5_OK)
        return *step = "allocate Scratch", s;
    s24 = (int32_t *)(void *)result->data_pointer;
    for (i = 0; i < samples; i++) s24[i] = (int32_t)lrintf(fl[i] * 0.5f * 8388608.0f);
    result->timestamp_ns = work->timestamp_ns;
    result->processing_count = work->processing_count + 1;
    if ((s = pipeline_release(m, work)) != AES5_OK) return *step = "release Conversion", s;
    *out = result;
    return AES5_OK;
}

uint64_t pipeline_verify(const aes5_audio_buffer_t *out, uint64_t first_sample) {
    const int32_t *s24 = (const int32_t *)(const void *)out->data_pointer;
    uint64_t mismatches = 0;
    unsigned i, c;
    for (i = 0; i < out->frame_size_samples; i++) {
        for (c = 0; c < PIPELINE_CHANNELS; c++) {
            int32_t expected = (int32_t)pipeline_signal(first_sample + i, c) * 128;
            if (s24[i * PIPELINE_CHANNELS + c] != expected && mismatches++ < 5)
                fprintf(stderr, "mismatch at sample %llu ch %u: %d != %d\n", (unsigned long long)(first_sample + i), c,
                        s24[i * PIPELINE_CHANNELS + c], expected);
        }
    }
    if (out->processing_count != 2) mismatches++;
    return mismatches;
}

/* The report's warning flags by name, or "none". */
static void print_warnings(uint32_t warnings) {
    unsigned bit;
    if (warnings == 0) printf(" none");
    for (bit = 0; bit < 32; bit++)
        if (warnings & (1u << bit)) printf(" %s", aes5_warning_string(1u << bit));
}

void pipeline_print_report(aes5_buffer_manager_t *manager, uint64_t trend_interval_ns) {
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
    {
        /* The pools' own peaks need not have been reached at the same moment. */
        unsigned sum = 0;
        for (i = 0; i < 3; i++) sum += stats.buffer_type_stats[i].peak_allocated;
        if (sum != m.peak_allocated_buffers)
            printf("(the pools' own peaks add up to %u: they were not all reached at the same moment; %u is the most "
                   "held at once)\n",
                   sum, m.peak_allocated_buffers);
    }

    printf("\n== Hand-off queues ==\n");
    {
        uint32_t q, used = 0, held = 0;
        for (q = 0; q < AES5_QUEUE_COUNT; q++) {
            aes5_queue_statistics_t qs;
            if (aes5_buffer_manager_get_queue_statistics(manager, q, &qs) != AES5_OK || qs.total_enqueued == 0) continue;
            printf("queue %u: %llu enqueued, %llu dequeued, %u waiting now, at most %u at once\n", q,
                   (unsigned long long)qs.total_enqueued, (unsigned long long)qs.total_dequeued, qs.length,
                   qs.peak_length);
            used++;
        }
        if (used == 0) printf("no queue used\n");
        aes5_buffer_manager_get_held_buffers(manager, NULL, 0, &held);
        printf("buffers not free now (held or queued): %u\n", held);
    }

    printf("\n== Performance report (trend over %u intervals of %.1f ms) ==\n", report.trend.sample_count,
           (double)trend_interval_ns / 1e6);
    printf("allocation time %.1f ns +/- %.1f ns; utilisation avg %.1f%% peak %.1f%%\n",
           report.trend.average_allocation_time_ns, report.trend.allocation_time_stddev_ns,
           report.trend.average_memory_utilization * 100.0, report.trend.peak_memory_utilization * 100.0);
    /* A success trend informs only when something failed. */
    if (stats.failed_operations > 0 || report.trend.success_rate_trend != 0.0)
        printf("success rate trend %+.4f per interval (%llu operations failed)\n", report.trend.success_rate_trend,
               (unsigned long long)stats.failed_operations);
    printf("meets requirements: %s; warnings:", report.meets_performance_requirements ? "yes" : "no");
    print_warnings(report.warnings);
    printf("; monitored for %.3f s\n", (double)report.monitoring_duration_ns / 1e9);

    printf("\n== Storage (%u bytes) ==\n", layout.storage_bytes);
    printf("required %u = audio data %u + alignment pad <= %u + control block %u\n", layout.required_bytes,
           layout.data_bytes, layout.alignment_padding_bytes, layout.control_block_bytes);
    printf("control block %u = headers %u + slot words %u + statistics %u + metrics %u + history %u (%u entries)"
           " + hand-offs %u + identity/config/state %u\n",
           layout.control_block_bytes, layout.header_bytes, layout.slot_control_bytes, layout.statistics_bytes,
           layout.metrics_bytes, layout.history_bytes, layout.history_capacity, layout.hand_off_bytes,
           layout.control_block_bytes - layout.header_bytes - layout.slot_control_bytes - layout.statistics_bytes -
               layout.metrics_bytes - layout.history_bytes - layout.hand_off_bytes);
}

