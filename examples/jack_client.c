/*
 * jack_client.c: the demo's pipeline inside a real audio server's process callback.
 *
 * A JACK client whose callback takes every period through the pools: it captures one period
 * of the test signal into a Primary buffer (JACK's dummy backend captures silence, so the
 * client synthesises its input), converts it through a Conversion buffer into a Scratch
 * buffer at -6 dB, checks every sample, writes it to its two output ports (connected to the
 * server's playback ports) and releases the buffer. The time spent inside the library's calls
 * is measured per period (performance monitoring on, unless `--no-monitoring`). After
 * `--periods N` periods (default 1000) it stops and prints the
 * periods, the worst and median time inside the library per period, the statistics and the
 * performance report; it exits 0 only when every status was AES5_OK, every sample matched and
 * the counts reconcile (each pool: N allocations, N releases, nothing held).
 *
 * Run it against a server, e.g. JACK2's dummy backend, headless:
 *   jackd --no-realtime -d dummy -r 48000 -p 256 &
 *   aes5_jack_client --periods 1000
 * (JACK_DEFAULT_SERVER selects the server, as for every JACK client.)
 */
#include <jack/jack.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aes5_buffer_manager.h"
#include "pipeline.h"

#define MAX_PERIODS 100000u
/* Trend snapshots every 100 ms (the default): a run of seconds spans tens of intervals. */
#define TREND_INTERVAL_NS 100000000u

static aes5_buffer_manager_storage_t storage;

/* Written by the process callback only; read by main after the client is deactivated. */
static struct {
    aes5_buffer_manager_t *manager;
    pipeline_formats_t formats;
    jack_port_t *out[PIPELINE_CHANNELS];
    unsigned periods_wanted;
    volatile unsigned periods_done;
    unsigned wrong_sizes;
    aes5_status_t first_error;
    const char *first_error_step;
    uint64_t next_sample;
    uint64_t mismatches;
    uint64_t library_ns[MAX_PERIODS];
} run;

static void note_error(aes5_status_t s, const char *step) {
    if (run.first_error == AES5_OK) {
        run.first_error = s;
        run.first_error_step = step;
    }
}

static int process(jack_nframes_t nframes, void *arg) {
    aes5_audio_buffer_t *in = NULL, *out = NULL;
    const char *step = "";
    aes5_status_t s;
    unsigned c, i;
    float *port[PIPELINE_CHANNELS];
    (void)arg;

    for (c = 0; c < PIPELINE_CHANNELS; c++) {
        port[c] = (float *)jack_port_get_buffer(run.out[c], nframes);
        memset(port[c], 0, nframes * sizeof(float));
    }
    if (run.periods_done >= run.periods_wanted) return 0;
    if (nframes != run.formats.capture.frame_size_samples) {
        run.wrong_sizes++;
        return 0;
    }
    pipeline_timing.library_ns = 0;
    if ((s = pipeline_capture(run.manager, &run.formats, run.next_sample, 0, &in)) != AES5_OK) {
        note_error(s, "allocate Primary");
    } else if ((s = pipeline_process(run.manager, &run.formats, in, &out, &step)) != AES5_OK) {
        note_error(s, step);
    } else {
        const int32_t *s24 = (const int32_t *)(const void *)out->data_pointer;
        run.mismatches += pipeline_verify(out, run.next_sample);
        for (i = 0; i < nframes; i++)
            for (c = 0; c < PIPELINE_CHANNELS; c++) port[c][i] = (float)s24[i * PIPELINE_CHANNELS + c] / 8388608.0f;
        if ((s = pipeline_release(run.manager, out)) != AES5_OK) note_error(s, "release Scratch");
    }
    run.library_ns[run.periods_done] = pipeline_timing.library_ns;
    run.next_sample += nframes;
    run.periods_done++;
    return 0;
}

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Reports one failed requirement; the run then exits 1. */
static int failures;
static void requirement_failed(const char *format, ...) {
    va_list args;
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    failures++;
}

static int fail(const char *what, const char *why) {
    fprintf(stderr, "aes5_jack_client: %s: %s\n", what, why);
    return 1;
}

int main(int argc, char **argv) {
    jack_client_t *client;
    jack_status_t jack_status;
    aes5_runtime_config_t config;
    aes5_status_t s;
    aes5_manager_statistics_t stats;
    unsigned c, periods = 1000, waited_ms = 0, p;
    static uint64_t sorted[MAX_PERIODS];
    const char **playback;

    int a, monitoring = 1;
    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--periods") == 0 && a + 1 < argc) {
            periods = (unsigned)strtoul(argv[++a], NULL, 10);
        } else if (strcmp(argv[a], "--no-monitoring") == 0) {
            monitoring = 0;
        } else {
            periods = 0;
        }
    }
    if (periods == 0 || periods > MAX_PERIODS) {
        fprintf(stderr, "usage: %s [--periods 1..%u] [--no-monitoring]   (a JACK server must be running)\n",
                argv[0], MAX_PERIODS);
        return 2;
    }

    client = jack_client_open("aes5_jack_client", JackNoStartServer, &jack_status);
    if (client == NULL) return fail("jack_client_open", "no JACK server (start one: jackd -d dummy)");
    run.formats = pipeline_formats(pipeline_frames((uint16_t)jack_get_buffer_size(client)));
    if (run.formats.capture.frame_size_samples != jack_get_buffer_size(client))
        return fail("buffer size", "the server's period does not fit this build's buffers");
    if (jack_get_sample_rate(client) != PIPELINE_RATE) return fail("sample rate", "the server must run at 48000 Hz");

    if ((s = aes5_runtime_config_default(&config)) != AES5_OK) return fail("config", aes5_status_string(s));
    config.trend_interval_ns = TREND_INTERVAL_NS;
    config.enable_performance_monitoring = (uint8_t)monitoring;
    if ((s = AES5_BUFFER_MANAGER_INIT(&storage, &config, &run.manager)) != AES5_OK)
        return fail("init", aes5_status_string(s));
    pipeline_timing.enabled = 1;
    run.periods_wanted = periods;
    for (c = 0; c < PIPELINE_CHANNELS; c++) {
        char name[16];
        snprintf(name, sizeof name, "out_%u", c + 1);
        run.out[c] = jack_port_register(client, name, JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
        if (run.out[c] == NULL) return fail("jack_port_register", name);
    }
    jack_set_process_callback(client, process, NULL);
    if (jack_activate(client) != 0) return fail("jack_activate", "refused");
    playback = jack_get_ports(client, NULL, NULL, JackPortIsPhysical | JackPortIsInput);
    for (c = 0; playback != NULL && c < PIPELINE_CHANNELS && playback[c] != NULL; c++)
        jack_connect(client, jack_port_name(run.out[c]), playback[c]);
    jack_free(playback);

    printf("aes5_jack_client: %u periods of %u frames at %u Hz through the pools, monitoring %s (JACK server \"%s\")\n",
           periods, (unsigned)run.formats.capture.frame_size_samples, PIPELINE_RATE, monitoring ? "on" : "off",
           getenv("JACK_DEFAULT_SERVER") ? getenv("JACK_DEFAULT_SERVER") : "default");
    fflush(stdout);
    /* Periods take 5.3 ms each; allow four times as long before giving up. */
    while (run.periods_done < periods && waited_ms < periods * 22u + 2000u) {
        usleep(10000);
        waited_ms += 10;
    }
    jack_deactivate(client);
    jack_client_close(client);

    printf("periods: %u of %u in %.2f s of waiting", run.periods_done, periods, waited_ms / 1000.0);
    printf("; wrong-sized periods %u\n", run.wrong_sizes);
    if (run.periods_done > 0) {
        memcpy(sorted, run.library_ns, run.periods_done * sizeof sorted[0]);
        qsort(sorted, run.periods_done, sizeof sorted[0], compare_u64);
        printf("time inside the library per period (3 allocates, 1 validate, 3 releases):\n"
               "  median %llu ns, worst %llu ns (printed, not asserted)\n",
               (unsigned long long)sorted[run.periods_done / 2], (unsigned long long)sorted[run.periods_done - 1]);
    }
    pipeline_print_report(run.manager, TREND_INTERVAL_NS);

    if (run.periods_done != periods) requirement_failed("expected %u periods, got %u", periods, run.periods_done);
    if (run.wrong_sizes != 0) requirement_failed("%u periods had another size", run.wrong_sizes);
    if (run.first_error != AES5_OK)
        requirement_failed("%s failed: %s", run.first_error_step, aes5_status_string(run.first_error));
    if (run.mismatches != 0) requirement_failed("%llu samples did not match", (unsigned long long)run.mismatches);
    if ((s = aes5_buffer_manager_get_statistics(run.manager, &stats)) != AES5_OK)
        return fail("statistics", aes5_status_string(s));
    for (p = 0; p < 3; p++) {
        const aes5_pool_statistics_t *pool = &stats.buffer_type_stats[p];
        if (pool->total_allocations != run.periods_done || pool->total_releases != run.periods_done ||
            pool->allocated_buffers != 0 || pool->allocation_failures != 0)
            requirement_failed("%s: %llu allocations, %llu releases, %u held: do not reconcile with %u periods",
                               aes5_buffer_type_string(p), (unsigned long long)pool->total_allocations,
                               (unsigned long long)pool->total_releases, pool->allocated_buffers, run.periods_done);
    }
    if (stats.failed_operations != 0)
        requirement_failed("%llu calls refused", (unsigned long long)stats.failed_operations);
    if ((s = aes5_buffer_manager_shutdown(run.manager)) != AES5_OK)
        requirement_failed("shutdown: %s", aes5_status_string(s));
    printf("\n%s\n", failures == 0 ? "aes5_jack_client: every status OK, every sample matched, counts reconcile"
                                    : "aes5_jack_client: FAILED");
    return failures == 0 ? 0 : 1;
}
