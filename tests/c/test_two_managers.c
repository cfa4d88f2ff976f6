/*
 * test_two_managers.c: two managers in two static storages side by side.
 *
 * Allocations come from each manager's own storage, statistics are independent, each
 * refuses the other's buffers with AES5_ERR_FOREIGN_BUFFER, and shutting one down (and
 * re-initialising it) leaves the other working.
 */
#include <stdint.h>

#include "test_support.h"

static aes5_buffer_manager_storage_t storage[2];
static aes5_buffer_manager_t *mgr[2];
static aes5_audio_buffer_t *held[2][AES5_TEST_TOTAL_BUFFERS];
static unsigned held_count[2];
static aes5_manager_statistics_t stats[2], before;
static aes5_test_counts_t want[2];

static int inside(const void *p, unsigned which) {
    uintptr_t a = (uintptr_t)p, start = (uintptr_t)&storage[which];
    return a >= start && a < start + sizeof storage[which];
}

static aes5_manager_state_t state_of(unsigned which) {
    aes5_manager_state_t s = 99;
    CHECK_STATUS(aes5_buffer_manager_get_state(mgr[which], &s), AES5_OK);
    return s;
}

static void take(unsigned which, aes5_buffer_type_t t) {
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *b = NULL;
    CHECK_STATUS(aes5_buffer_manager_allocate(mgr[which], t, &f, &b), AES5_OK);
    CHECK(b != NULL);
    if (b == NULL) return;
    CHECK(inside(b, which) && !inside(b, 1 - which));
    CHECK(inside(b->data_pointer, which) && !inside(b->data_pointer, 1 - which));
    held[which][held_count[which]++] = b;
}

/* Each refuses every buffer of the other; neither notices anything but its own counters. */
static void cross_refusals(void) {
    unsigned w, k;
    for (w = 0; w < 2; w++) {
        unsigned other = 1 - w;
        CHECK_STATUS(aes5_buffer_manager_get_statistics(mgr[w], &before), AES5_OK);
        for (k = 0; k < held_count[other]; k++) {
            if (held[other][k] == NULL) continue;
            CHECK_STATUS(aes5_buffer_manager_validate_buffer(mgr[w], held[other][k]), AES5_ERR_FOREIGN_BUFFER);
            CHECK_STATUS(aes5_buffer_manager_release(mgr[w], held[other][k]), AES5_ERR_FOREIGN_BUFFER);
            want[w].failed_operations++;
            want[w].validation_errors++;
            want[w].release_failures++;
        }
        CHECK_UNCHANGED(mgr[w], &before, held[w], held_count[w]);
        CHECK_COUNTS(mgr[w], &want[w]);
        /* The owner still holds them. */
        for (k = 0; k < held_count[other]; k++) {
            if (held[other][k] != NULL) {
                CHECK_STATUS(aes5_buffer_manager_validate_buffer(mgr[other], held[other][k]), AES5_OK);
            }
        }
    }
}

static void release_all(unsigned w) {
    unsigned k;
    for (k = 0; k < held_count[w]; k++) {
        if (held[w][k] != NULL) CHECK_STATUS(aes5_buffer_manager_release(mgr[w], held[w][k]), AES5_OK);
        held[w][k] = NULL;
    }
    held_count[w] = 0;
}

int main(void) {
    unsigned i;
    aes5_runtime_config_t cfg;

    CHECK_STATUS(aes5_runtime_config_default(&cfg), AES5_OK);
    cfg.max_channels = 2; /* different configurations, too */
    CHECK_STATUS(aes5_buffer_manager_init(&storage[0], NULL, &mgr[0]), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_init(&storage[1], &cfg, &mgr[1]), AES5_OK);
    CHECK(mgr[0] != mgr[1]);

    /* Independent allocations: manager 0 fills Primary, manager 1 takes one of each pool. */
    for (i = 0; i < AES5_PRIMARY_BUFFER_COUNT; i++) take(0, AES5_BUFFER_TYPE_PRIMARY);
    take(1, AES5_BUFFER_TYPE_PRIMARY);
    take(1, AES5_BUFFER_TYPE_CONVERSION);
    take(1, AES5_BUFFER_TYPE_SCRATCH);
    {
        aes5_audio_format_t f = aes5_test_format(64);
        aes5_audio_buffer_t *b = aes5_test_sentinel_buffer();
        CHECK_STATUS(aes5_buffer_manager_allocate(mgr[0], AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_ERR_POOL_EXHAUSTED);
        CHECK(b == aes5_test_sentinel_buffer());
        want[0].failed_operations++;
        want[0].allocation_failures++;
        f.channel_count = 4; /* fine for manager 0, beyond manager 1's max_channels */
        CHECK_STATUS(aes5_buffer_manager_allocate(mgr[1], AES5_BUFFER_TYPE_PRIMARY, &f, &b),
                     AES5_ERR_UNSUPPORTED_FORMAT);
        want[1].failed_operations++;
        want[1].validation_errors++;
    }
    CHECK_EQ(state_of(0), AES5_STATE_WARNING); /* its Primary pool is full */
    /* One buffer puts a pool above 90 % only when the pool has a single buffer. */
    CHECK_EQ(state_of(1), (AES5_PRIMARY_BUFFER_COUNT == 1 || AES5_CONVERSION_BUFFER_COUNT == 1 ||
                           AES5_SCRATCH_BUFFER_COUNT == 1)
                              ? AES5_STATE_WARNING
                              : AES5_STATE_ACTIVE);

    /* Independent statistics. */
    for (i = 0; i < 2; i++) CHECK_STATUS(aes5_buffer_manager_get_statistics(mgr[i], &stats[i]), AES5_OK);
    CHECK_EQ(stats[0].buffer_type_stats[AES5_BUFFER_TYPE_PRIMARY].allocated_buffers, AES5_PRIMARY_BUFFER_COUNT);
    CHECK_EQ(stats[0].buffer_type_stats[AES5_BUFFER_TYPE_PRIMARY].allocation_failures, 1);
    CHECK_EQ(stats[0].buffer_type_stats[AES5_BUFFER_TYPE_CONVERSION].allocated_buffers, 0);
    CHECK_EQ(stats[0].total_operations, AES5_PRIMARY_BUFFER_COUNT + 1u);
    for (i = 0; i < 3; i++) {
        CHECK_EQ(stats[1].buffer_type_stats[i].allocated_buffers, 1);
        CHECK_EQ(stats[1].buffer_type_stats[i].allocation_failures, 0);
    }
    CHECK_EQ(stats[1].total_operations, 4);
    CHECK_COUNTS(mgr[0], &want[0]);
    CHECK_COUNTS(mgr[1], &want[1]);

    cross_refusals();

    /* Shut manager 1 down: manager 0 keeps working, and still refuses 1's old buffers. */
    CHECK_STATUS(aes5_buffer_manager_shutdown(mgr[1]), AES5_ERR_BUFFERS_OUTSTANDING);
    CHECK_EQ(state_of(1), AES5_STATE_SHUTTING_DOWN);
    CHECK_EQ(state_of(0), AES5_STATE_WARNING);
    release_all(1);
    CHECK_EQ(state_of(1), AES5_STATE_SHUTDOWN);
    CHECK_STATUS(aes5_buffer_manager_release(mgr[0], held[0][0]), AES5_OK);
    held[0][0] = NULL;
    take(0, AES5_BUFFER_TYPE_PRIMARY);
    take(0, AES5_BUFFER_TYPE_SCRATCH);
    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(mgr[0], AES5_BUFFER_TYPE_PRIMARY, &stats[0].buffer_type_stats[0]),
                 AES5_OK);
    CHECK_EQ(stats[0].buffer_type_stats[0].allocated_buffers, AES5_PRIMARY_BUFFER_COUNT);
    CHECK_EQ(stats[0].buffer_type_stats[0].total_allocations, AES5_PRIMARY_BUFFER_COUNT + 1u);
    CHECK_COUNTS(mgr[0], &want[0]);

    /* Re-initialise manager 1 next to the busy manager 0: a fresh start, still separate. */
    CHECK_STATUS(aes5_buffer_manager_init(&storage[1], NULL, &mgr[1]), AES5_OK);
    memset(&want[1], 0, sizeof want[1]);
    CHECK_STATUS(aes5_buffer_manager_get_statistics(mgr[1], &stats[1]), AES5_OK);
    CHECK_EQ(stats[1].total_operations, 0);
    take(1, AES5_BUFFER_TYPE_CONVERSION);
    cross_refusals();

    /* Shut manager 0 down in turn; manager 1 keeps working. */
    release_all(0);
    CHECK_STATUS(aes5_buffer_manager_shutdown(mgr[0]), AES5_OK);
    CHECK_EQ(state_of(0), AES5_STATE_SHUTDOWN);
    take(1, AES5_BUFFER_TYPE_PRIMARY);
    CHECK_EQ(state_of(1), AES5_STATE_ACTIVE);
    for (i = 0; i < held_count[1]; i++) CHECK_STATUS(aes5_buffer_manager_validate_buffer(mgr[1], held[1][i]), AES5_OK);
    release_all(1);
    CHECK_STATUS(aes5_buffer_manager_get_statistics(mgr[1], &stats[1]), AES5_OK);
    CHECK_EQ(stats[1].total_operations, 4u + want[1].failed_operations);
    CHECK_STATUS(aes5_buffer_manager_shutdown(mgr[1]), AES5_OK);
    return aes5_test_finish("test_two_managers");
}
