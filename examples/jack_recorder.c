/*
 * jack_recorder.c: a JACK recorder built on the library's hand-off queues, the shape of
 * jack_capture or a DAW's disk thread.
 *
 * The process callback captures every period into a Primary buffer (JACK's dummy backend
 * captures silence, so the callback synthesises the test signal of examples/pipeline.c),
 * enqueues it to queue 0 and wakes the writer with a semaphore post. It never allocates
 * memory, takes a lock or waits. An ordinary thread, the writer, dequeues each period, writes
 * it to a WAV file with libsndfile (16-bit PCM, stereo, 48 kHz) and releases the buffer.
 *
 * After `--periods N` periods it stops, reads the WAV file back and checks that it holds
 * exactly the signal the callback produced, sample for sample; that every count reconciles
 * (Primary pool, queue 0, no buffer held at the end); and prints the largest queue length seen.
 * Exit 0 only when all of that holds.
 *
 *   jackd --no-realtime -d dummy -r 48000 -p 256 &
 *   aes5_jack_recorder --periods 1000 --wav take.wav
 */
#include <jack/jack.h>
#include <pthread.h>
#include <semaphore.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aes5_buffer_manager.h"
#include "pipeline.h"

#define RECORD_QUEUE 0u
#define MAX_PERIODS 100000u

static aes5_buffer_manager_storage_t storage;

static struct {
    aes5_buffer_manager_t *manager;
    pipeline_formats_t formats;
    sem_t ready;              /* posted by the callback once per enqueued period */
    unsigned periods_wanted;
    volatile unsigned periods_done; /* the callback's */
    volatile int stop;        /* main: the writer may finish once the queue is empty */
    uint64_t next_sample;
    aes5_status_t callback_error;
    unsigned wrong_sizes;
    /* The writer's. */
    SNDFILE *wav;
    unsigned periods_written;
    aes5_status_t writer_error;
    sf_count_t short_writes;
} rec;

static int process(jack_nframes_t nframes, void *arg) {
    aes5_audio_buffer_t *b = NULL;
    aes5_status_t s;
    (void)arg;
    if (rec.periods_done >= rec.periods_wanted) return 0;
    if (nframes != rec.formats.capture.frame_size_samples) {
        rec.wrong_sizes++;
        return 0;
    }
    s = pipeline_capture(rec.manager, &rec.formats, rec.next_sample, rec.periods_done, &b);
    if (s == AES5_OK) s = aes5_buffer_manager_enqueue(rec.manager, RECORD_QUEUE, b);
    if (s != AES5_OK && rec.callback_error == AES5_OK) rec.callback_error = s;
    if (s == AES5_OK) sem_post(&rec.ready);
    rec.next_sample += nframes;
    rec.periods_done++;
    return 0;
}

/* Writes every period the queue holds; 0 once the queue was empty. */
static int write_waiting(void) {
    aes5_audio_buffer_t *b = NULL;
    int wrote = 0;
    while (aes5_buffer_manager_dequeue(rec.manager, RECORD_QUEUE, &b) == AES5_OK) {
        sf_count_t frames = (sf_count_t)b->frame_size_samples;
        if (sf_writef_short(rec.wav, (const short *)(const void *)b->data_pointer, frames) != frames) rec.short_writes++;
        aes5_status_t s = aes5_buffer_manager_release(rec.manager, b);
        if (s != AES5_OK && rec.writer_error == AES5_OK) rec.writer_error = s;
        rec.periods_written++;
        wrote = 1;
    }
    return wrote;
}

static void *writer(void *arg) {
    (void)arg;
    for (;;) {
        sem_wait(&rec.ready);
        write_waiting();
        if (rec.stop) {
            while (write_waiting()) {
            }
            return NULL;
        }
    }
}

/* Reads `path` back: the number of frames that differ from the signal (or that are missing). */
static uint64_t mismatched_frames(const char *path, unsigned periods, sf_count_t *frames_read) {
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    uint64_t expected = (uint64_t)periods * rec.formats.capture.frame_size_samples, bad = 0, n;
    short frame[PIPELINE_CHANNELS];
    *frames_read = 0;
    if (f == NULL || info.channels != (int)PIPELINE_CHANNELS || info.samplerate != (int)PIPELINE_RATE) {
        if (f != NULL) sf_close(f);
        return expected == 0 ? 1 : expected;
    }
    for (n = 0; sf_readf_short(f, frame, 1) == 1; n++) {
        unsigned c;
        for (c = 0; c < PIPELINE_CHANNELS; c++) {
            if (n >= expected || frame[c] != pipeline_signal(n, c)) {
                bad++;
                break;
            }
        }
    }
    sf_close(f);
    *frames_read = (sf_count_t)n;
    return bad + (n < expected ? expected - n : 0);
}

static int fail(const char *what, const char *why) {
    fprintf(stderr, "aes5_jack_recorder: %s: %s\n", what, why);
    return 1;
}

int main(int argc, char **argv) {
    jack_client_t *client;
    jack_status_t jack_status;
    aes5_runtime_config_t config;
    aes5_status_t s;
    pthread_t writer_thread;
    SF_INFO info;
    unsigned periods = 1000, waited_ms = 0;
    const char *path = NULL;
    int a, failures = 0;
    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--periods") == 0 && a + 1 < argc) {
            periods = (unsigned)strtoul(argv[++a], NULL, 10);
        } else if (strcmp(argv[a], "--wav") == 0 && a + 1 < argc) {
            path = argv[++a];
        } else {
            periods = 0;
        }
    }
    if (periods == 0 || periods > MAX_PERIODS || path == NULL) {
        fprintf(stderr, "usage: %s --wav FILE [--periods 1..%u]   (a JACK server must be running)\n", argv[0],
                MAX_PERIODS);
        return 2;
    }

    client = jack_client_open("aes5_jack_recorder", JackNoStartServer, &jack_status);
    if (client == NULL) return fail("jack_client_open", "no JACK server (start one: jackd -d dummy)");
    rec.formats = pipeline_formats(pipeline_frames((uint16_t)jack_get_buffer_size(client)));
    if (rec.formats.capture.frame_size_samples != jack_get_buffer_size(client))
        return fail("buffer size", "the server's period does not fit this build's buffers");
    if (jack_get_sample_rate(client) != PIPELINE_RATE) return fail("sample rate", "the server must run at 48000 Hz");
    if ((s = aes5_runtime_config_default(&config)) != AES5_OK) return fail("config", aes5_status_string(s));
    if ((s = AES5_BUFFER_MANAGER_INIT(&storage, &config, &rec.manager)) != AES5_OK)
        return fail("init", aes5_status_string(s));

    memset(&info, 0, sizeof info);
    info.samplerate = (int)PIPELINE_RATE;
    info.channels = (int)PIPELINE_CHANNELS;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    rec.wav = sf_open(path, SFM_WRITE, &info);
    if (rec.wav == NULL) return fail(path, sf_strerror(NULL));
    if (sem_init(&rec.ready, 0, 0) != 0) return fail("sem_init", "failed");
    rec.periods_wanted = periods;
    if (pthread_create(&writer_thread, NULL, writer, NULL) != 0) return fail("pthread_create", "failed");
    jack_set_process_callback(client, process, NULL);
    if (jack_activate(client) != 0) return fail("jack_activate", "refused");
    printf("aes5_jack_recorder: recording %u periods of %u frames at %u Hz to %s (JACK server \"%s\")\n", periods,
           (unsigned)rec.formats.capture.frame_size_samples, PIPELINE_RATE, path,
           getenv("JACK_DEFAULT_SERVER") ? getenv("JACK_DEFAULT_SERVER") : "default");
    fflush(stdout);
    /* Periods take 5.3 ms each; allow four times as long before giving up. */
    while (rec.periods_done < periods && waited_ms < periods * 22u + 2000u) {
        usleep(10000);
        waited_ms += 10;
    }
    jack_deactivate(client);
    jack_client_close(client);
    rec.stop = 1;
    sem_post(&rec.ready);
    pthread_join(writer_thread, NULL);
    sf_close(rec.wav);
    sem_destroy(&rec.ready);

    {
        aes5_queue_statistics_t q;
        aes5_pool_statistics_t primary;
        uint32_t held = 1;
        sf_count_t frames_read = 0;
        uint64_t bad = mismatched_frames(path, rec.periods_done, &frames_read);
        if ((s = aes5_buffer_manager_get_queue_statistics(rec.manager, RECORD_QUEUE, &q)) != AES5_OK ||
            (s = aes5_buffer_manager_get_pool_statistics(rec.manager, AES5_BUFFER_TYPE_PRIMARY, &primary)) != AES5_OK ||
            (s = aes5_buffer_manager_get_held_buffers(rec.manager, NULL, 0, &held)) != AES5_OK)
            return fail("statistics", aes5_status_string(s));
        printf("periods: %u captured, %u written; %lld frames read back from the WAV file, %llu differ\n",
               rec.periods_done, rec.periods_written, (long long)frames_read, (unsigned long long)bad);
        printf("queue %u: largest length %u of %u Primary buffers; %llu enqueued, %llu dequeued; buffers held now %u\n",
               RECORD_QUEUE, q.peak_length, primary.total_buffers, (unsigned long long)q.total_enqueued,
               (unsigned long long)q.total_dequeued, held);
#define REQUIRE(cond, ...)                                      \
    do {                                                        \
        if (!(cond)) {                                          \
            fprintf(stderr, "aes5_jack_recorder: " __VA_ARGS__); \
            fputc('\n', stderr);                                \
            failures++;                                         \
        }                                                       \
    } while (0)
        REQUIRE(rec.periods_done == periods, "expected %u periods, got %u", periods, rec.periods_done);
        REQUIRE(rec.wrong_sizes == 0, "%u periods had another size", rec.wrong_sizes);
        REQUIRE(rec.callback_error == AES5_OK, "the callback failed: %s", aes5_status_string(rec.callback_error));
        REQUIRE(rec.writer_error == AES5_OK, "the writer failed: %s", aes5_status_string(rec.writer_error));
        REQUIRE(rec.short_writes == 0, "%lld short writes", (long long)rec.short_writes);
        REQUIRE(bad == 0, "%llu frames of the WAV file differ from the signal", (unsigned long long)bad);
        REQUIRE(rec.periods_written == rec.periods_done, "%u periods written of %u", rec.periods_written,
                rec.periods_done);
        REQUIRE(q.total_enqueued == rec.periods_done && q.total_dequeued == rec.periods_done && q.length == 0,
                "the queue does not reconcile");
        REQUIRE(primary.total_allocations == rec.periods_done && primary.total_releases == rec.periods_done &&
                    primary.allocated_buffers == 0 && primary.allocation_failures == 0,
                "the Primary pool does not reconcile");
        REQUIRE(held == 0, "%u buffers still held", held);
    }
    if ((s = aes5_buffer_manager_shutdown(rec.manager)) != AES5_OK) return fail("shutdown", aes5_status_string(s));
    printf("%s\n", failures == 0 ? "aes5_jack_recorder: the WAV file holds exactly the signal; counts reconcile"
                                 : "aes5_jack_recorder: FAILED");
    return failures == 0 ? 0 : 1;
}
