/* A plain C loop of allocate+release pairs: this library through its C ABI, and glibc
 * malloc(2048)+free in the two states a heap can be in, as an independent check of the
 * benchmark suite's figures (scripts/bench-c-loop.sh builds and runs it).
 *
 * glibc serves a 2048-byte request outside its per-thread cache (which stops at 1032 bytes):
 * a freed chunk that borders the top of the heap merges back into it and the next request
 * splits it off again, while one with a live block behind it goes to the unsorted bin and
 * is taken back from there. Which of the two a benchmark sees depends on what else was
 * allocated before it, so both are measured.
 *
 * glibc also skips the lock of its arena while a process has never created a thread. The
 * benchmark suite's process has threads (its two-thread part), so each heap state is
 * measured again after one thread has been created and joined. */
#define _POSIX_C_SOURCE 199309L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aes5_buffer_manager.h"

#ifndef PAIRS
#define PAIRS 2000000u
#endif
#ifndef ROUNDS
#define ROUNDS 15u
#endif

static aes5_buffer_manager_storage_t storage;

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double ours(aes5_buffer_manager_t *m, const aes5_audio_format_t *f) {
    double start = now_ns();
    for (uint32_t i = 0; i < PAIRS; i++) {
        aes5_audio_buffer_t *b = NULL;
        if (aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, f, &b) != AES5_OK) abort();
        __asm__ volatile("" : : "r"(b) : "memory");
        if (aes5_buffer_manager_release(m, b) != AES5_OK) abort();
    }
    return (now_ns() - start) / PAIRS;
}

static double heap(void) {
    double start = now_ns();
    for (uint32_t i = 0; i < PAIRS; i++) {
        void *p = malloc(2048);
        if (p == NULL) abort();
        __asm__ volatile("" : : "r"(p) : "memory");
        free(p);
    }
    return (now_ns() - start) / PAIRS;
}

static void *idle(void *arg) {
    return arg;
}

/* Medians of ROUNDS rounds of each contender, alternating. */
static void measure(aes5_buffer_manager_t *m, const aes5_audio_format_t *f, double medians[3]) {
    double t_ours[ROUNDS], t_top[ROUNDS], t_bin[ROUNDS];
    for (uint32_t r = 0; r < ROUNDS; r++) {
        t_ours[r] = ours(m, f);
        /* State 1: the 2048-byte chunk borders the heap's top (nothing allocated after it). */
        t_top[r] = heap();
        /* State 2: a live block right after it, so the freed chunk goes to a bin. */
        void *p = malloc(2048);
        void *guard = malloc(64);
        free(p);
        t_bin[r] = heap();
        free(guard);
    }
    qsort(t_ours, ROUNDS, sizeof(double), compare);
    qsort(t_top, ROUNDS, sizeof(double), compare);
    qsort(t_bin, ROUNDS, sizeof(double), compare);
    medians[0] = t_ours[ROUNDS / 2];
    medians[1] = t_top[ROUNDS / 2];
    medians[2] = t_bin[ROUNDS / 2];
}

int main(void) {
    aes5_runtime_config_t config;
    aes5_buffer_manager_t *m = NULL;
    aes5_audio_format_t f;
    memset(&f, 0, sizeof f);
    f.sample_rate_hz = 48000;
    f.channel_count = 2;
    f.sample_size_bits = 16;
    f.frame_size_samples = 256;
    if (aes5_runtime_config_default(&config) != AES5_OK) return 1;
    config.enable_performance_monitoring = 0;
    config.enable_memory_validation = 1;
    if (AES5_BUFFER_MANAGER_INIT(&storage, &config, &m) != AES5_OK) return 1;

    double single[3], threaded[3];
    measure(m, &f, single);
    pthread_t thread;
    if (pthread_create(&thread, NULL, idle, NULL) != 0 || pthread_join(thread, NULL) != 0) return 1;
    measure(m, &f, threaded);
    printf("c_loop: ns per pair, median of %u rounds of %u pairs (interleaved)\n", ROUNDS, PAIRS);
    printf("c_loop:                                            no thread yet   after a thread\n");
    printf("c_loop: aes5 C ABI, monitoring off, validation on   %13.1f   %14.1f\n", single[0], threaded[0]);
    printf("c_loop: malloc(2048)+free, chunk at the heap top     %13.1f   %14.1f\n", single[1], threaded[1]);
    printf("c_loop: malloc(2048)+free, chunk in a bin            %13.1f   %14.1f\n", single[2], threaded[2]);
    return aes5_buffer_manager_shutdown(m) == AES5_OK ? 0 : 1;
}
