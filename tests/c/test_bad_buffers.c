/*
 * test_bad_buffers.c: docs/DESIGN.md §4 for buffer pointers and states: foreign pointers (another
 * manager's buffer, the stack, inside a header, inside data, just past the last header, ...),
 * double release, damaged headers (checksum, magic, data_pointer, data_size_bytes above the
 * capacity, a format field, the id, the capacity; any other non-caller field) and their quarantine, release after shutdown, shutdown
 * with buffers held, and init on live storage.
 *
 * After every refused call: out-parameters keep their sentinel, statistics agree with a
 * snapshot taken before, the other held buffers still validate, and the failure counters
 * moved by exactly what the refusal accounts for.
 */
#include <stdint.h>

#include "test_support.h"

static aes5_buffer_manager_storage_t storage_a; /* m: holds every buffer */
static aes5_buffer_manager_storage_t storage_b; /* o: the other manager */
static aes5_buffer_manager_storage_t storage_c; /* one fresh manager per corruption case */

static aes5_buffer_manager_t *m;
static aes5_buffer_manager_t *o;
static aes5_audio_buffer_t *held[AES5_TEST_TOTAL_BUFFERS];
static aes5_audio_buffer_t *other_held[1];
static aes5_audio_buffer_t *spare[AES5_PRIMARY_BUFFER_COUNT + AES5_CONVERSION_BUFFER_COUNT + AES5_SCRATCH_BUFFER_COUNT];
static aes5_test_counts_t want, other_want;
static aes5_manager_statistics_t before;
static aes5_pool_statistics_t pool;
static aes5_performance_report_t report;

static aes5_manager_state_t state_of(aes5_buffer_manager_t *mgr) {
    aes5_manager_state_t s = 99;
    CHECK_STATUS(aes5_buffer_manager_get_state(mgr, &s), AES5_OK);
    return s;
}

static void expect_foreign(aes5_audio_buffer_t *p, int line) {
    aes5_test_check_at(aes5_buffer_manager_get_statistics(m, &before) == AES5_OK, "snapshot", __FILE__, line);
    aes5_test_check_at(aes5_buffer_manager_release(m, p) == AES5_ERR_FOREIGN_BUFFER,
                       "release == AES5_ERR_FOREIGN_BUFFER", __FILE__, line);
    want.failed_operations++;
    want.validation_errors++;
    want.release_failures++;
    aes5_test_check_at(aes5_buffer_manager_validate_buffer(m, p) == AES5_ERR_FOREIGN_BUFFER,
                       "validate_buffer == AES5_ERR_FOREIGN_BUFFER", __FILE__, line);
    aes5_test_unchanged_at(m, &before, held, AES5_TEST_TOTAL_BUFFERS, __FILE__, line);
    aes5_test_counts_at(m, &want, __FILE__, line);
}

static void test_foreign_and_double(void) {
    aes5_audio_buffer_t on_stack;
    aes5_audio_buffer_t *first = NULL, *last = NULL, *b;
    aes5_audio_format_t f = aes5_test_format(64);
    unsigned k, t, i;

    for (t = 0, k = 0; t < 3; t++) {
        for (i = 0; i < aes5_test_pool_count(t); i++, k++) {
            CHECK_STATUS(aes5_buffer_manager_allocate(m, t, &f, &held[k]), AES5_OK);
            if (first == NULL || (uintptr_t)held[k] < (uintptr_t)first) first = held[k];
            if (last == NULL || (uintptr_t)held[k] > (uintptr_t)last) last = held[k];
        }
    }
    CHECK_STATUS(aes5_buffer_manager_allocate(o, AES5_BUFFER_TYPE_PRIMARY, &f, &other_held[0]), AES5_OK);
    on_stack = *held[0]; /* a perfect copy: right magic, right checksum, wrong address */

    expect_foreign(other_held[0], __LINE__);
    expect_foreign(&on_stack, __LINE__);
    expect_foreign((aes5_audio_buffer_t *)(void *)((char *)held[0] + 4), __LINE__);
    expect_foreign((aes5_audio_buffer_t *)(void *)((char *)held[0] + sizeof(aes5_audio_buffer_t) / 2), __LINE__);
    expect_foreign((aes5_audio_buffer_t *)(void *)held[0]->data_pointer, __LINE__);
    expect_foreign((aes5_audio_buffer_t *)(void *)held[AES5_TEST_TOTAL_BUFFERS - 1]->data_pointer, __LINE__);
    expect_foreign((aes5_audio_buffer_t *)(void *)((char *)last + sizeof(aes5_audio_buffer_t)), __LINE__);
    if ((uintptr_t)first - (uintptr_t)&storage_a >= sizeof(aes5_audio_buffer_t)) {
        expect_foreign((aes5_audio_buffer_t *)(void *)((char *)first - sizeof(aes5_audio_buffer_t)), __LINE__);
    }
    expect_foreign((aes5_audio_buffer_t *)(void *)&storage_a, __LINE__);
    expect_foreign((aes5_audio_buffer_t *)(void *)((char *)&storage_a + sizeof storage_a - sizeof on_stack),
                   __LINE__);
    CHECK_EQ(state_of(m), AES5_STATE_WARNING); /* every pool full, as before */

    /* o refuses m's buffer the same way. */
    CHECK_STATUS(aes5_buffer_manager_get_statistics(o, &before), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(o, held[0]), AES5_ERR_FOREIGN_BUFFER);
    CHECK_STATUS(aes5_buffer_manager_validate_buffer(o, held[0]), AES5_ERR_FOREIGN_BUFFER);
    other_want.failed_operations++;
    other_want.validation_errors++;
    other_want.release_failures++;
    CHECK_UNCHANGED(o, &before, other_held, 1);
    CHECK_COUNTS(o, &other_want);

    /* Double release: of two releases exactly the first succeeds. */
    b = held[0];
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
    held[0] = NULL;
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &before), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_ERR_DOUBLE_RELEASE);
    CHECK_STATUS(aes5_buffer_manager_validate_buffer(m, b), AES5_ERR_DOUBLE_RELEASE);
    want.failed_operations++;
    want.validation_errors++;
    want.release_failures++;
    CHECK_UNCHANGED(m, &before, held, AES5_TEST_TOTAL_BUFFERS);
    CHECK_COUNTS(m, &want);
    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, AES5_BUFFER_TYPE_PRIMARY, &pool), AES5_OK);
    CHECK_EQ(pool.allocated_buffers, AES5_PRIMARY_BUFFER_COUNT - 1); /* no wrap-around to "more free" */
    CHECK_EQ(pool.total_releases, 1);
}

/* Damages a library-owned field (or data_size_bytes beyond the capacity). */
static void damage(aes5_audio_buffer_t *b, unsigned kind) {
    switch (kind) {
    case 0: b->checksum ^= 0xDEADu; break;
    case 1: b->magic_number = 0; break;
    case 2: b->data_pointer += AES5_DATA_ALIGNMENT; break;
    case 3: b->data_size_bytes = b->buffer_capacity_bytes + 1; break;
    case 4: b->sample_rate_hz = 44100; break;
    case 5: b->buffer_id ^= 1u; break;
    default: b->buffer_capacity_bytes += 1; break;
    }
}
#define DAMAGE_KINDS 7

/*
 * The header: the checksum covers the identity (buffer_id, buffer_type, sequence_number); a
 * write to any of them makes the buffer count as corrupted.
 */
static void test_other_field_written(void) {
    aes5_buffer_manager_t *c = NULL;
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *b = NULL;
    aes5_status_t s;
    CHECK_STATUS(aes5_buffer_manager_init(&storage_c, NULL, &c), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_allocate(c, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_OK);
    b->sequence_number += 1;
    CHECK_STATUS(aes5_buffer_manager_validate_buffer(c, b), AES5_ERR_CORRUPTED);
    s = aes5_buffer_manager_release(c, b);
    CHECK_STATUS(s, AES5_ERR_CORRUPTED);
    CHECK_STATUS(aes5_buffer_manager_shutdown(c), AES5_OK);
}

static void test_corruption(unsigned kind) {
    aes5_buffer_manager_t *c = NULL;
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *hold[3], *others[2], *victim, *b = aes5_test_sentinel_buffer();
    aes5_buffer_type_t vt = kind % 3;
    aes5_test_counts_t cw;
    unsigned i, n, got = 0;

    memset(&cw, 0, sizeof cw);
    CHECK_STATUS(aes5_buffer_manager_init(&storage_c, NULL, &c), AES5_OK);
    for (i = 0; i < 3; i++) CHECK_STATUS(aes5_buffer_manager_allocate(c, i, &f, &hold[i]), AES5_OK);
    victim = hold[vt];
    others[0] = hold[(vt + 1) % 3];
    others[1] = hold[(vt + 2) % 3];
    damage(victim, kind);

    /* validate reports, and changes nothing (not even the state). */
    CHECK_STATUS(aes5_buffer_manager_get_statistics(c, &before), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_validate_buffer(c, victim), AES5_ERR_CORRUPTED);
    CHECK_UNCHANGED(c, &before, others, 2);
    CHECK_COUNTS(c, &cw);
    CHECK_EQ(state_of(c), AES5_STATE_ACTIVE);

    /* release quarantines it and moves the manager to Error. */
    CHECK_STATUS(aes5_buffer_manager_release(c, victim), AES5_ERR_CORRUPTED);
    cw.failed_operations++;
    cw.release_failures++;
    cw.corruption++;
    CHECK_COUNTS(c, &cw);
    CHECK_EQ(state_of(c), AES5_STATE_ERROR);
    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(c, vt, &pool), AES5_OK);
    CHECK_EQ(pool.quarantined_buffers, 1);
    CHECK_EQ(pool.allocated_buffers, 0);
    CHECK_EQ(pool.total_allocations, 1);
    CHECK_EQ(pool.total_releases, 0);
    CHECK_EQ(pool.total_allocations - pool.total_releases - pool.quarantined_buffers, pool.allocated_buffers);
    for (i = 0; i < 2; i++) CHECK_STATUS(aes5_buffer_manager_validate_buffer(c, others[i]), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_get_performance_report(c, 0, &report), AES5_OK);
    CHECK((report.warnings & AES5_WARNING_CORRUPTION) != 0);

    /* Quarantined for good: validate and a second release say CORRUPTED, nothing else moves. */
    CHECK_STATUS(aes5_buffer_manager_get_statistics(c, &before), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_validate_buffer(c, victim), AES5_ERR_CORRUPTED);
    CHECK_STATUS(aes5_buffer_manager_release(c, victim), AES5_ERR_CORRUPTED);
    cw.failed_operations++;
    cw.release_failures++;
    CHECK_UNCHANGED(c, &before, others, 2);
    CHECK_COUNTS(c, &cw);

    /* Error refuses allocation until the explicit recovery. */
    for (i = 0; i < 3; i++) {
        CHECK_STATUS(aes5_buffer_manager_get_statistics(c, &before), AES5_OK);
        CHECK_STATUS(aes5_buffer_manager_allocate(c, i, &f, &b), AES5_ERR_INVALID_STATE);
        CHECK(b == aes5_test_sentinel_buffer());
        cw.failed_operations++;
        CHECK_UNCHANGED(c, &before, others, 2);
        CHECK_COUNTS(c, &cw);
    }
    CHECK_STATUS(aes5_buffer_manager_transition_state(c, AES5_STATE_READY), AES5_OK);
    CHECK_EQ(state_of(c), AES5_STATE_READY);

    /* The victim's pool serves one buffer fewer, and never the victim. */
    n = aes5_test_pool_count(vt);
    for (i = 0; i < n; i++) {
        spare[i] = NULL;
        if (aes5_buffer_manager_allocate(c, vt, &f, &spare[i]) == AES5_OK) {
            got++;
            CHECK(spare[i] != victim);
        }
    }
    CHECK_EQ(got, n - 1);
    cw.failed_operations++;
    cw.allocation_failures++;
    CHECK_COUNTS(c, &cw);
    for (i = 0; i < n; i++) {
        if (spare[i] != NULL) CHECK_STATUS(aes5_buffer_manager_release(c, spare[i]), AES5_OK);
    }
    for (i = 0; i < 2; i++) CHECK_STATUS(aes5_buffer_manager_release(c, others[i]), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_shutdown(c), AES5_OK); /* the quarantined buffer does not block it */
}

static void test_without_validation(void) {
    aes5_runtime_config_t cfg;
    aes5_buffer_manager_t *c = NULL;
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *b = NULL;
    CHECK_STATUS(aes5_runtime_config_default(&cfg), AES5_OK);
    cfg.enable_memory_validation = 0;
    CHECK_STATUS(aes5_buffer_manager_init(&storage_c, &cfg, &c), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_allocate(c, AES5_BUFFER_TYPE_SCRATCH, &f, &b), AES5_OK);
    b->magic_number = 0; /* only ownership is checked now */
    CHECK_STATUS(aes5_buffer_manager_release(c, b), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(c, b), AES5_ERR_DOUBLE_RELEASE);
    CHECK_EQ(state_of(c), AES5_STATE_ACTIVE);
    CHECK_STATUS(aes5_buffer_manager_shutdown(c), AES5_OK);
}

static void test_states(void) {
    aes5_buffer_manager_t *c = NULL, *out = aes5_test_sentinel_manager();
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *hold[2] = {NULL, NULL}, *b = aes5_test_sentinel_buffer();
    aes5_test_counts_t cw;

    memset(&cw, 0, sizeof cw);
    CHECK_STATUS(aes5_buffer_manager_init(&storage_c, NULL, &c), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_allocate(c, AES5_BUFFER_TYPE_PRIMARY, &f, &hold[0]), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_allocate(c, AES5_BUFFER_TYPE_CONVERSION, &f, &hold[1]), AES5_OK);

    /* Shutdown with buffers held: refused, but ShuttingDown has begun. */
    CHECK_STATUS(aes5_buffer_manager_get_statistics(c, &before), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_shutdown(c), AES5_ERR_BUFFERS_OUTSTANDING);
    CHECK_EQ(state_of(c), AES5_STATE_SHUTTING_DOWN);
    before.current_state = AES5_STATE_SHUTTING_DOWN;
    CHECK_UNCHANGED(c, &before, hold, 2);
    CHECK_COUNTS(c, &cw);

    /* Init on live storage (ShuttingDown is still live). */
    CHECK_STATUS(aes5_buffer_manager_init(&storage_c, NULL, &out), AES5_ERR_ALREADY_INITIALIZED);
    CHECK(out == aes5_test_sentinel_manager());
    CHECK_STATUS(aes5_buffer_manager_allocate(c, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_ERR_INVALID_STATE);
    CHECK(b == aes5_test_sentinel_buffer());
    cw.failed_operations++;
    CHECK_UNCHANGED(c, &before, hold, 2);
    CHECK_COUNTS(c, &cw);

    CHECK_STATUS(aes5_buffer_manager_release(c, hold[0]), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(c, hold[1]), AES5_OK);
    CHECK_EQ(state_of(c), AES5_STATE_SHUTDOWN);

    /* Release after shutdown: refused for the state, whatever the pointer. */
    CHECK_STATUS(aes5_buffer_manager_get_statistics(c, &before), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(c, hold[0]), AES5_ERR_INVALID_STATE);
    CHECK_STATUS(aes5_buffer_manager_release(c, other_held[0]), AES5_ERR_INVALID_STATE);
    cw.failed_operations += 2;
    cw.release_failures += 2;
    CHECK_UNCHANGED(c, &before, hold, 0);
    CHECK_COUNTS(c, &cw);
    CHECK_STATUS(aes5_buffer_manager_shutdown(c), AES5_ERR_INVALID_STATE);
    CHECK_EQ(state_of(c), AES5_STATE_SHUTDOWN);

    /* Init on m's live storage, with and without a config: m is untouched. */
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &before), AES5_OK);
    out = aes5_test_sentinel_manager();
    CHECK_STATUS(aes5_buffer_manager_init(&storage_a, NULL, &out), AES5_ERR_ALREADY_INITIALIZED);
    CHECK(out == aes5_test_sentinel_manager());
    {
        aes5_runtime_config_t cfg;
        CHECK_STATUS(aes5_runtime_config_default(&cfg), AES5_OK);
        cfg.max_channels = 1;
        CHECK_STATUS(aes5_buffer_manager_init(&storage_a, &cfg, &out), AES5_ERR_ALREADY_INITIALIZED);
        CHECK(out == aes5_test_sentinel_manager());
    }
    CHECK_UNCHANGED(m, &before, held, AES5_TEST_TOTAL_BUFFERS);
    CHECK_COUNTS(m, &want);
}

int main(void) {
    unsigned k;
    CHECK_STATUS(aes5_buffer_manager_init(&storage_a, NULL, &m), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_init(&storage_b, NULL, &o), AES5_OK);

    test_foreign_and_double();
    for (k = 0; k < DAMAGE_KINDS; k++) test_corruption(k);
    test_other_field_written();
    test_without_validation();
    test_states();

    /* m and o were never disturbed by any of it. */
    CHECK_COUNTS(m, &want);
    CHECK_COUNTS(o, &other_want);
    for (k = 0; k < AES5_TEST_TOTAL_BUFFERS; k++) {
        if (held[k] != NULL) CHECK_STATUS(aes5_buffer_manager_release(m, held[k]), AES5_OK);
    }
    CHECK_STATUS(aes5_buffer_manager_release(o, other_held[0]), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_shutdown(o), AES5_OK);
    return aes5_test_finish("test_bad_buffers");
}
