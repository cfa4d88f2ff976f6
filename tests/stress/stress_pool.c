/*
 * stress_pool.c: a multi-threaded stress test of the pools through the C ABI (host only,
 * POSIX threads).
 *
 * N threads (default 4) share one manager. Each thread, driven by its own random generator:
 *   - allocates from a random pool (Primary or Conversion) with a random format that fits,
 *     writes an owner tag (thread, sequence) over the buffer's whole capacity, and holds up
 *     to three buffers;
 *   - before releasing a buffer, checks that the tag is intact over the whole capacity and
 *     that validate_buffer reports it held, then releases it (must succeed);
 *   - releases and validates foreign pointers: a stack object, a pointer inside a header it
 *     holds, the data area of a buffer it holds, and a header of a second manager (all must
 *     be refused with AES5_ERR_FOREIGN_BUFFER);
 *   - takes part in double-release races: one thread allocates a Scratch buffer (the Scratch
 *     pool is reserved for the races, one race at a time, so nobody can re-allocate the
 *     buffer in between) and two threads release it at the same moment: exactly one must
 *     succeed and the other must get AES5_ERR_DOUBLE_RELEASE;
 *   - reads the statistics and checks the invariants that hold under load.
 * At the end every count reconciles exactly with what the threads observed: allocations,
 * releases, pool-empty failures, refused releases; no buffer is held or lost (every buffer
 * of every pool can be allocated once more), and shutdown completes.
 *
 * Usage: aes5_stress [--seconds S] [--iterations N] [--threads T] [--seed X]
 *   --seconds S     run for S seconds (default 2; ignored when --iterations is given)
 *   --iterations N  run exactly N steps per thread instead
 * Exit status 0 when every check passed.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aes5_buffer_manager.h"

#define MAX_THREADS 16
#define HOLD_MAX 3
#define RACE_WAIT_YIELDS 2000

enum { RACE_IDLE = 0, RACE_CLAIMED = 1, RACE_ARMED = 2, RACE_JOINED = 3 };

static aes5_buffer_manager_storage_t storage;
static aes5_buffer_manager_storage_t foreign_storage;
static aes5_buffer_manager_t *manager;
static aes5_audio_buffer_t *foreign_header;

static atomic_int race_state = RACE_IDLE;
static _Atomic(aes5_audio_buffer_t *) race_buffer;
static atomic_int race_done;
static atomic_int stop_flag;
static atomic_ulong errors;

/* What one thread saw; added up at the end and compared with the library's counts. */
typedef struct {
    unsigned id;
    uint64_t rng;
    unsigned long long allocations[3];
    unsigned long long exhausted[3];
    unsigned long long releases[3];
    unsigned long long foreign_refused;  /* refused releases of foreign pointers */
    unsigned long long foreign_validated; /* refused validations (not counted as releases) */
    unsigned long long races;            /* double-release races this thread started */
    unsigned long long race_wins;        /* releases in races that succeeded */
    unsigned long long race_refusals;    /* releases in races refused as double releases */
    unsigned long long race_solo;        /* races nobody joined: released alone */
    unsigned long long stats_reads;
    unsigned long long steps;
} worker_t;

static worker_t workers[MAX_THREADS];

static void fail(const char *what, unsigned thread, unsigned long long detail) {
    atomic_fetch_add(&errors, 1);
    fprintf(stderr, "stress: thread %u: %s (%llu)\n", thread, what, detail);
}

static uint64_t next_random(uint64_t *s) {
    /* xorshift64* */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t pool_capacity(unsigned pool) {
    return pool == 0 ? AES5_PRIMARY_BUFFER_BYTES : pool == 1 ? AES5_CONVERSION_BUFFER_BYTES : AES5_SCRATCH_BUFFER_BYTES;
}

static unsigned pool_count(unsigned pool) {
    return pool == 0 ? AES5_PRIMARY_BUFFER_COUNT : pool == 1 ? AES5_CONVERSION_BUFFER_COUNT : AES5_SCRATCH_BUFFER_COUNT;
}

/* A random 48 kHz stereo 16-bit format that fits a buffer of `pool`. */
static aes5_audio_format_t random_format(worker_t *w, unsigned pool) {
    aes5_audio_format_t f;
    unsigned max_frames = (unsigned)(pool_capacity(pool) / 4);
    if (max_frames > 1024) max_frames = 1024;
    memset(&f, 0, sizeof f);
    f.sample_rate_hz = 48000;
    f.channel_count = 2;
    f.sample_size_bits = 16;
    f.frame_size_samples = (uint16_t)(1 + next_random(&w->rng) % max_frames);
    return f;
}

static uint32_t tag_of(unsigned thread, unsigned long long sequence) {
    return ((uint32_t)thread << 24) | (uint32_t)(sequence & 0xFFFFFF);
}

static void write_tag(aes5_audio_buffer_t *b, uint32_t tag) {
    size_t words = b->buffer_capacity_bytes / 4;
    uint32_t *p = (uint32_t *)(void *)b->data_pointer;
    for (size_t i = 0; i < words; i++) p[i] = tag ^ (uint32_t)i;
}

static int tag_intact(const aes5_audio_buffer_t *b, uint32_t tag) {
    size_t words = b->buffer_capacity_bytes / 4;
    const uint32_t *p = (const uint32_t *)(const void *)b->data_pointer;
    for (size_t i = 0; i < words; i++) {
        if (p[i] != (tag ^ (uint32_t)i)) return 0;
    }
    return 1;
}

typedef struct {
    aes5_audio_buffer_t *buffer;
    uint32_t tag;
    unsigned pool;
} held_t;

static void release_held(worker_t *w, held_t *h) {
    if (!tag_intact(h->buffer, h->tag)) fail("owner tag overwritten: buffer shared with another owner", w->id, h->tag);
    if (h->buffer->buffer_type != h->pool) fail("header type changed while held", w->id, h->buffer->buffer_type);
    aes5_status_t s = aes5_buffer_manager_validate_buffer(manager, h->buffer);
    if (s != AES5_OK) fail("validate of a held buffer refused", w->id, s);
    s = aes5_buffer_manager_release(manager, h->buffer);
    if (s != AES5_OK) fail("release of a held buffer refused", w->id, s);
    else w->releases[h->pool]++;
}

/* One release attempt in a double-release race. */
static void race_release(worker_t *w, aes5_audio_buffer_t *b) {
    aes5_status_t s = aes5_buffer_manager_release(manager, b);
    if (s == AES5_OK) w->race_wins++;
    else if (s == AES5_ERR_DOUBLE_RELEASE) w->race_refusals++;
    else fail("racing release returned neither OK nor DOUBLE_RELEASE", w->id, s);
    atomic_fetch_add(&race_done, 1);
}

/* Joins an armed race started by another thread. */
static void maybe_join_race(worker_t *w) {
    int armed = RACE_ARMED;
    if (atomic_load_explicit(&race_state, memory_order_relaxed) != RACE_ARMED) return;
    if (!atomic_compare_exchange_strong(&race_state, &armed, RACE_JOINED)) return;
    race_release(w, atomic_load(&race_buffer));
}

/* Starts a double-release race on a Scratch buffer and waits until it is over. */
static void start_race(worker_t *w) {
    int idle = RACE_IDLE;
    if (!atomic_compare_exchange_strong(&race_state, &idle, RACE_CLAIMED)) return;
    aes5_audio_format_t f = random_format(w, 2);
    aes5_audio_buffer_t *b = NULL;
    aes5_status_t s = aes5_buffer_manager_allocate(manager, AES5_BUFFER_TYPE_SCRATCH, &f, &b);
    if (s != AES5_OK) {
        fail("reserved Scratch pool refused an allocation", w->id, s);
        atomic_store(&race_state, RACE_IDLE);
        return;
    }
    w->allocations[2]++;
    w->races++;
    uint32_t tag = tag_of(w->id, w->races) | 0x800000u;
    write_tag(b, tag);
    atomic_store(&race_done, 0);
    atomic_store(&race_buffer, b);
    atomic_store(&race_state, RACE_ARMED);
    int joined = 0;
    for (int i = 0; i < RACE_WAIT_YIELDS && !atomic_load(&stop_flag); i++) {
        if (atomic_load(&race_state) == RACE_JOINED) {
            joined = 1;
            break;
        }
        sched_yield();
    }
    if (!joined) {
        int armed = RACE_ARMED;
        if (atomic_compare_exchange_strong(&race_state, &armed, RACE_CLAIMED)) {
            /* Nobody came: an ordinary release. */
            w->races--;
            w->race_solo++;
            held_t h = {b, tag, 2};
            release_held(w, &h);
            atomic_store(&race_state, RACE_IDLE);
            return;
        }
    }
    if (!tag_intact(b, tag)) fail("race buffer tag overwritten before release", w->id, tag);
    race_release(w, b);
    while (atomic_load(&race_done) < 2) sched_yield();
    atomic_store(&race_state, RACE_IDLE);
}

static void foreign_pointers(worker_t *w, const held_t *held, unsigned held_count) {
    aes5_audio_buffer_t on_stack;
    aes5_audio_buffer_t *candidates[4];
    unsigned n = 0;
    memset(&on_stack, 0, sizeof on_stack);
    candidates[n++] = &on_stack;
    candidates[n++] = foreign_header;
    if (held_count > 0) {
        const held_t *h = &held[next_random(&w->rng) % held_count];
        candidates[n++] = (aes5_audio_buffer_t *)(void *)((uint8_t *)h->buffer + 8);
        candidates[n++] = (aes5_audio_buffer_t *)(void *)h->buffer->data_pointer;
    }
    aes5_audio_buffer_t *p = candidates[next_random(&w->rng) % n];
    aes5_status_t s = aes5_buffer_manager_release(manager, p);
    if (s != AES5_ERR_FOREIGN_BUFFER) fail("foreign pointer release not refused as foreign", w->id, s);
    else w->foreign_refused++;
    s = aes5_buffer_manager_validate_buffer(manager, p);
    if (s != AES5_ERR_FOREIGN_BUFFER) fail("foreign pointer validate not refused as foreign", w->id, s);
    else w->foreign_validated++;
}

static void check_statistics_under_load(worker_t *w) {
    aes5_pool_statistics_t ps;
    for (unsigned pool = 0; pool < 3; pool++) {
        if (aes5_buffer_manager_get_pool_statistics(manager, pool, &ps) != AES5_OK) {
            fail("get_pool_statistics refused", w->id, pool);
            continue;
        }
        if (ps.allocated_buffers > ps.total_buffers) fail("allocated above capacity", w->id, ps.allocated_buffers);
        if (ps.peak_allocated < ps.allocated_buffers) fail("peak below allocated", w->id, ps.peak_allocated);
        if (ps.total_releases > ps.total_allocations) fail("more releases than allocations", w->id, ps.total_releases);
    }
    w->stats_reads++;
}

static double run_seconds = 2.0;
static unsigned long long run_iterations = 0;

static void *worker_main(void *arg) {
    worker_t *w = (worker_t *)arg;
    held_t held[HOLD_MAX];
    unsigned held_count = 0;
    double deadline = now_seconds() + run_seconds;
    for (unsigned long long step = 0;; step++) {
        if (run_iterations ? step >= run_iterations : ((step & 255) == 0 && now_seconds() >= deadline)) break;
        w->steps++;
        maybe_join_race(w);
        unsigned r = (unsigned)(next_random(&w->rng) % 100);
        if (r < 45) {
            unsigned pool = (unsigned)(next_random(&w->rng) % 2);
            if (held_count == HOLD_MAX) release_held(w, &held[--held_count]);
            aes5_audio_format_t f = random_format(w, pool);
            aes5_audio_buffer_t *b = NULL;
            aes5_status_t s = aes5_buffer_manager_allocate(manager, pool, &f, &b);
            if (s == AES5_OK) {
                w->allocations[pool]++;
                held[held_count].buffer = b;
                held[held_count].tag = tag_of(w->id, w->allocations[pool] * 2 + pool);
                held[held_count].pool = pool;
                write_tag(b, held[held_count].tag);
                held_count++;
            } else if (s == AES5_ERR_POOL_EXHAUSTED) {
                w->exhausted[pool]++;
            } else {
                fail("allocate returned an unexpected status", w->id, s);
            }
        } else if (r < 85) {
            if (held_count > 0) {
                unsigned i = (unsigned)(next_random(&w->rng) % held_count);
                held_t h = held[i];
                held[i] = held[--held_count];
                release_held(w, &h);
            }
        } else if (r < 92) {
            foreign_pointers(w, held, held_count);
        } else if (r < 96) {
            start_race(w);
        } else {
            check_statistics_under_load(w);
        }
    }
    while (held_count > 0) release_held(w, &held[--held_count]);
    return NULL;
}

static void check_eq(const char *what, unsigned long long actual, unsigned long long expected) {
    if (actual != expected) {
        atomic_fetch_add(&errors, 1);
        fprintf(stderr, "stress: %s: library counts %llu, threads saw %llu\n", what, actual, expected);
    }
}

/* Allocates every buffer of every pool once: none may be missing or handed out twice. */
static unsigned long long drain_every_pool(unsigned long long exhausted_seen[3]) {
    static aes5_audio_buffer_t *all[3][AES5_MAX_BUFFERS_PER_POOL];
    unsigned long long allocations = 0;
    for (unsigned pool = 0; pool < 3; pool++) {
        aes5_audio_format_t f;
        memset(&f, 0, sizeof f);
        f.sample_rate_hz = 48000;
        f.channel_count = 1;
        f.sample_size_bits = 16;
        f.frame_size_samples = 1;
        unsigned n = 0;
        aes5_audio_buffer_t *b = NULL;
        while (n <= pool_count(pool) && aes5_buffer_manager_allocate(manager, pool, &f, &b) == AES5_OK) {
            for (unsigned i = 0; i < n; i++) {
                if (all[pool][i] == b) check_eq("a buffer is twice in the free list", 1, 0);
            }
            if (n < AES5_MAX_BUFFERS_PER_POOL) all[pool][n] = b;
            n++;
        }
        exhausted_seen[pool]++;
        check_eq("buffers available after the run (no buffer lost)", n, pool_count(pool));
        allocations += n;
        for (unsigned i = 0; i < n && i < AES5_MAX_BUFFERS_PER_POOL; i++) {
            if (aes5_buffer_manager_release(manager, all[pool][i]) != AES5_OK) check_eq("final release", 1, 0);
        }
    }
    return allocations;
}

int main(int argc, char **argv) {
    unsigned threads = 4;
    uint64_t seed = 0x5eed5eedULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) run_seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--iterations") && i + 1 < argc) run_iterations = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 0);
        else {
            fprintf(stderr, "usage: %s [--seconds S] [--iterations N] [--threads T] [--seed X]\n", argv[0]);
            return 2;
        }
    }
    if (threads < 2 || threads > MAX_THREADS) {
        fprintf(stderr, "stress: --threads must be 2..%d\n", MAX_THREADS);
        return 2;
    }
    aes5_runtime_config_t config;
    aes5_runtime_config_default(&config);
    if (AES5_BUFFER_MANAGER_INIT(&storage, &config, &manager) != AES5_OK) return 1;
    aes5_buffer_manager_t *other = NULL;
    if (AES5_BUFFER_MANAGER_INIT(&foreign_storage, &config, &other) != AES5_OK) return 1;
    aes5_audio_format_t one = {0};
    one.sample_rate_hz = 48000;
    one.channel_count = 1;
    one.sample_size_bits = 16;
    one.frame_size_samples = 1;
    if (aes5_buffer_manager_allocate(other, AES5_BUFFER_TYPE_PRIMARY, &one, &foreign_header) != AES5_OK) return 1;

    pthread_t tids[MAX_THREADS];
    double started = now_seconds();
    for (unsigned t = 0; t < threads; t++) {
        workers[t].id = t;
        workers[t].rng = seed ^ (0x9E3779B97F4A7C15ULL * (t + 1));
        if (pthread_create(&tids[t], NULL, worker_main, &workers[t]) != 0) return 1;
    }
    for (unsigned t = 0; t < threads; t++) {
        if (t == 0) {
            pthread_join(tids[t], NULL);
            atomic_store(&stop_flag, 1);
        } else {
            pthread_join(tids[t], NULL);
        }
    }
    double elapsed = now_seconds() - started;

    worker_t sum;
    memset(&sum, 0, sizeof sum);
    for (unsigned t = 0; t < threads; t++) {
        for (unsigned p = 0; p < 3; p++) {
            sum.allocations[p] += workers[t].allocations[p];
            sum.exhausted[p] += workers[t].exhausted[p];
            sum.releases[p] += workers[t].releases[p];
        }
        sum.foreign_refused += workers[t].foreign_refused;
        sum.foreign_validated += workers[t].foreign_validated;
        sum.races += workers[t].races;
        sum.race_wins += workers[t].race_wins;
        sum.race_refusals += workers[t].race_refusals;
        sum.race_solo += workers[t].race_solo;
        sum.stats_reads += workers[t].stats_reads;
        sum.steps += workers[t].steps;
    }
    /* Every race: exactly one winner and one double release. */
    check_eq("race releases that succeeded", sum.race_wins, sum.races);
    check_eq("race releases refused as double releases", sum.race_refusals, sum.races);
    sum.releases[2] += sum.race_wins;

    aes5_manager_statistics_t st;
    aes5_realtime_metrics_t m;
    if (aes5_buffer_manager_get_statistics(manager, &st) != AES5_OK) return 1;
    if (aes5_buffer_manager_get_metrics(manager, &m) != AES5_OK) return 1;
    unsigned long long calls = 0;
    for (unsigned p = 0; p < 3; p++) {
        const aes5_pool_statistics_t *ps = &st.buffer_type_stats[p];
        check_eq("allocated buffers at the end", ps->allocated_buffers, 0);
        check_eq("quarantined buffers", ps->quarantined_buffers, 0);
        check_eq("allocations", ps->total_allocations, sum.allocations[p]);
        check_eq("releases", ps->total_releases, sum.releases[p]);
        check_eq("allocations - releases", ps->total_allocations - ps->total_releases, 0);
        check_eq("pool-empty failures", ps->allocation_failures, sum.exhausted[p]);
        calls += sum.allocations[p] + sum.exhausted[p] + sum.releases[p];
    }
    unsigned long long refused_releases = sum.foreign_refused + sum.race_refusals;
    check_eq("refused releases", m.release_failures, refused_releases);
    check_eq("failed operations", st.failed_operations,
             sum.exhausted[0] + sum.exhausted[1] + sum.exhausted[2] + refused_releases);
    check_eq("total operations", st.total_operations, calls + refused_releases);
    check_eq("corruption detected", st.memory_corruption_count, 0);

    unsigned long long exhausted_after[3] = {0, 0, 0};
    unsigned long long drained = drain_every_pool(exhausted_after);
    if (aes5_buffer_manager_get_statistics(manager, &st) != AES5_OK) return 1;
    for (unsigned p = 0; p < 3; p++) {
        check_eq("allocated after draining", st.buffer_type_stats[p].allocated_buffers, 0);
        check_eq("pool-empty failures after draining", st.buffer_type_stats[p].allocation_failures,
                 sum.exhausted[p] + exhausted_after[p]);
    }
    aes5_status_t s = aes5_buffer_manager_shutdown(manager);
    if (s != AES5_OK) check_eq("shutdown status", s, AES5_OK);

    unsigned long long ops = calls + refused_releases + sum.foreign_validated + drained * 2;
    printf("stress: %u threads, %.2f s, %llu steps, %llu library calls (%.0f calls/s)\n", threads, elapsed,
           sum.steps, ops + sum.stats_reads * 3, (double)(ops + sum.stats_reads * 3) / elapsed);
    printf("stress: allocations %llu/%llu/%llu, releases %llu/%llu/%llu, pool empty %llu/%llu/%llu "
           "(Primary/Conversion/Scratch)\n",
           sum.allocations[0], sum.allocations[1], sum.allocations[2], sum.releases[0], sum.releases[1],
           sum.releases[2], sum.exhausted[0], sum.exhausted[1], sum.exhausted[2]);
    printf("stress: double-release races %llu (each: 1 success, 1 AES5_ERR_DOUBLE_RELEASE), unjoined %llu, "
           "foreign releases refused %llu, statistics reads %llu\n",
           sum.races, sum.race_solo, sum.foreign_refused, sum.stats_reads);
    unsigned long long e = atomic_load(&errors);
    printf("stress: %llu errors\n", e);
    if (sum.races == 0 && run_iterations == 0) {
        printf("stress: no double-release race took place; run longer\n");
        return 1;
    }
    return e == 0 ? 0 : 1;
}
