/*
 * test_lifecycle.c: the state machine of docs/DESIGN.md §2 through the C API.
 *
 * Shutdown with and without buffers held, draining in ShuttingDown, re-init of the same
 * storage (three full cycles, statistics start over), every explicit transition from every
 * reachable state, quarantined buffers that do not block shutdown, a zeroed storage that was
 * never initialised used as a handle, init over storage filled with 0xA5 (it need not be
 * zeroed), and a warm reset (a live manager refused, then zeroed).
 */
#include <stdint.h>

#include "test_support.h"

static aes5_buffer_manager_storage_t storage;
static aes5_buffer_manager_storage_t never_initialised;
static aes5_buffer_manager_storage_t copy_target;
static aes5_buffer_manager_t *m;
static aes5_audio_buffer_t *held[AES5_SCRATCH_BUFFER_COUNT + 1];
static aes5_manager_statistics_t stats, before;
static aes5_realtime_metrics_t metrics;
static aes5_performance_report_t report;

static aes5_manager_state_t state_of(void) { return aes5_test_state(m); }

static aes5_audio_buffer_t *take(aes5_buffer_type_t t) {
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *b = NULL;
    CHECK_STATUS(aes5_buffer_manager_allocate(m, t, &f, &b), AES5_OK);
    return b;
}

/* init on `storage`; everything starts over. */
static void init_fresh(void) {
    aes5_buffer_type_t t;
    m = NULL;
    CHECK_STATUS(aes5_buffer_manager_init(&storage, NULL, &m), AES5_OK);
    CHECK_EQ(state_of(), AES5_STATE_READY);
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &stats), AES5_OK);
    CHECK_EQ(stats.total_operations, 0);
    CHECK_EQ(stats.failed_operations, 0);
    CHECK_EQ(stats.state_change_count, 2);
    CHECK_EQ(stats.memory_corruption_count, 0);
    for (t = 0; t < AES5_BUFFER_TYPE_COUNT; t++) {
        const aes5_pool_statistics_t *p = &stats.buffer_type_stats[t];
        CHECK_EQ(p->total_buffers, aes5_test_pool_count(t));
        CHECK_EQ(p->allocated_buffers + p->peak_allocated + p->quarantined_buffers, 0);
        CHECK_EQ(p->total_allocations + p->total_releases + p->allocation_failures, 0);
    }
    CHECK_STATUS(aes5_buffer_manager_get_metrics(m, &metrics), AES5_OK);
    CHECK_EQ(metrics.allocation_count + metrics.release_count + metrics.release_failures, 0);
    CHECK_EQ(metrics.validation_errors + metrics.corruption_detected, 0);
    CHECK_EQ(metrics.peak_allocated_buffers, 0);
}

static void test_cycle(unsigned cycle) {
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *a, *b, *out = aes5_test_sentinel_buffer();

    /* With buffers held: ShuttingDown, allocation refused, release allowed, last release ends it. */
    init_fresh();
    a = take(AES5_BUFFER_TYPE_PRIMARY);
    b = take(cycle % 2 ? AES5_BUFFER_TYPE_SCRATCH : AES5_BUFFER_TYPE_CONVERSION);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_ERR_BUFFERS_OUTSTANDING);
    CHECK_EQ(state_of(), AES5_STATE_SHUTTING_DOWN);
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &out), AES5_ERR_INVALID_STATE);
    CHECK(out == aes5_test_sentinel_buffer());
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_ERR_BUFFERS_OUTSTANDING); /* still draining */
    CHECK_STATUS(aes5_buffer_manager_validate_buffer(m, a), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_release(m, a), AES5_OK);
    CHECK_EQ(state_of(), AES5_STATE_SHUTTING_DOWN);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
    CHECK_EQ(state_of(), AES5_STATE_SHUTDOWN);
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &stats), AES5_OK); /* final statistics stay readable */
    CHECK_EQ(stats.current_state, AES5_STATE_SHUTDOWN);
    CHECK_EQ(stats.total_operations, 5); /* 2 allocations, 1 refused, 2 releases */
    CHECK_EQ(stats.failed_operations, 1);
    CHECK_EQ(stats.state_change_count, 5); /* init 2, -> Active, -> ShuttingDown, -> Shutdown */
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_ERR_INVALID_STATE);
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_ERR_INVALID_STATE);
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &out), AES5_ERR_INVALID_STATE);
    CHECK(out == aes5_test_sentinel_buffer());
    CHECK_EQ(state_of(), AES5_STATE_SHUTDOWN);

    /* Without buffers: Shutdown at once. */
    init_fresh();
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
    CHECK_EQ(state_of(), AES5_STATE_SHUTDOWN);
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &stats), AES5_OK);
    CHECK_EQ(stats.state_change_count, 4); /* init 2, -> ShuttingDown, -> Shutdown */
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_ERR_INVALID_STATE);
}

/*
 * Every target but `accepted` is refused from the current state with INVALID_STATE and
 * changes nothing; `accepted` (the current state) is a no-op returning AES5_OK.
 * AES5_STATE_SHUTTING_DOWN is skipped: it acts as shutdown and is tested by the caller.
 */
static void refuse_all_but(aes5_manager_state_t current, aes5_manager_state_t also_skip, unsigned held_count,
                           int line) {
    aes5_manager_state_t to;
    aes5_test_check_at(state_of() == current, "in the expected state", __FILE__, line);
    for (to = 0; to <= AES5_STATE_SHUTDOWN; to++) {
        aes5_status_t want = to == current ? AES5_OK : AES5_ERR_INVALID_STATE;
        if (to == AES5_STATE_SHUTTING_DOWN || to == also_skip) continue;
        CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &before), AES5_OK);
        aes5_test_check_at(aes5_buffer_manager_transition_state(m, to) == want, "transition_state status", __FILE__,
                           line);
        aes5_test_unchanged_at(m, &before, held, held_count, __FILE__, line);
        CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &stats), AES5_OK);
        aes5_test_check_at(stats.state_change_count == before.state_change_count, "no state change", __FILE__, line);
        aes5_test_check_at(stats.failed_operations == before.failed_operations, "no failed operation", __FILE__,
                           line);
    }
}

static void test_transitions(void) {
    unsigned i, n = AES5_SCRATCH_BUFFER_COUNT;

    /* Ready: ShuttingDown with nothing held shuts down at once. */
    init_fresh();
    refuse_all_but(AES5_STATE_READY, 99, 0, __LINE__);
    CHECK_STATUS(aes5_buffer_manager_transition_state(m, AES5_STATE_SHUTTING_DOWN), AES5_OK);
    CHECK_EQ(state_of(), AES5_STATE_SHUTDOWN);
    /* Shutdown: only the no-op; ShuttingDown acts as shutdown, which is refused now. */
    refuse_all_but(AES5_STATE_SHUTDOWN, 99, 0, __LINE__);
    CHECK_STATUS(aes5_buffer_manager_transition_state(m, AES5_STATE_SHUTTING_DOWN), AES5_ERR_INVALID_STATE);
    CHECK_EQ(state_of(), AES5_STATE_SHUTDOWN);

    /* Active (Ready -> Active and Active <-> Warning happen by themselves only). */
    init_fresh();
    held[0] = take(AES5_BUFFER_TYPE_PRIMARY);
    refuse_all_but(AES5_STATE_ACTIVE, 99, 1, __LINE__);

    /* Warning: fill Scratch. */
    for (i = 0; i < n; i++) held[1 + i] = take(AES5_BUFFER_TYPE_SCRATCH);
    refuse_all_but(AES5_STATE_WARNING, 99, n + 1, __LINE__);

    /* Error: a corrupted release. Error -> Ready is the explicit recovery. */
    held[n]->checksum ^= 1u;
    CHECK_STATUS(aes5_buffer_manager_release(m, held[n]), AES5_ERR_CORRUPTED);
    held[n] = NULL;
    refuse_all_but(AES5_STATE_ERROR, AES5_STATE_READY, n, __LINE__);
    CHECK_STATUS(aes5_buffer_manager_transition_state(m, AES5_STATE_READY), AES5_OK);
    CHECK_EQ(state_of(), AES5_STATE_READY);
    refuse_all_but(AES5_STATE_READY, 99, n, __LINE__); /* Ready again, with buffers still held */

    /* Error -> ShuttingDown with buffers held. */
    held[0]->magic_number = 0;
    CHECK_STATUS(aes5_buffer_manager_release(m, held[0]), AES5_ERR_CORRUPTED);
    held[0] = NULL;
    CHECK_EQ(state_of(), AES5_STATE_ERROR);
    CHECK_STATUS(aes5_buffer_manager_transition_state(m, AES5_STATE_SHUTTING_DOWN), AES5_ERR_BUFFERS_OUTSTANDING);
    CHECK_EQ(state_of(), AES5_STATE_SHUTTING_DOWN);
    /* ShuttingDown: Shutdown comes by itself only, Ready is refused. */
    refuse_all_but(AES5_STATE_SHUTTING_DOWN, 99, n, __LINE__);
    {
        /* A second ShuttingDown request is both "the current state" and "exactly as shutdown"
         * (BUFFERS_OUTSTANDING); the header allows either reading. It must change nothing. */
        aes5_status_t s = aes5_buffer_manager_transition_state(m, AES5_STATE_SHUTTING_DOWN);
        CHECK(s == AES5_OK || s == AES5_ERR_BUFFERS_OUTSTANDING);
        CHECK_EQ(state_of(), AES5_STATE_SHUTTING_DOWN);
    }
    for (i = 0; i < n; i++) {
        if (held[i] != NULL) CHECK_STATUS(aes5_buffer_manager_release(m, held[i]), AES5_OK);
        held[i] = NULL;
    }
    CHECK_EQ(state_of(), AES5_STATE_SHUTDOWN);

    /* Active and Warning -> ShuttingDown with buffers held. */
    for (i = 0; i < 2; i++) {
        unsigned k, count = i == 0 ? 1 : n;
        init_fresh();
        for (k = 0; k < count; k++) held[k] = take(AES5_BUFFER_TYPE_SCRATCH);
        CHECK_EQ(state_of(), i == 0 && !(1u * 10u > n * 9u) ? AES5_STATE_ACTIVE : AES5_STATE_WARNING);
        CHECK_STATUS(aes5_buffer_manager_transition_state(m, AES5_STATE_SHUTTING_DOWN),
                     AES5_ERR_BUFFERS_OUTSTANDING);
        CHECK_EQ(state_of(), AES5_STATE_SHUTTING_DOWN);
        for (k = 0; k < count; k++) CHECK_STATUS(aes5_buffer_manager_release(m, held[k]), AES5_OK);
        CHECK_EQ(state_of(), AES5_STATE_SHUTDOWN);
    }
}

static void test_quarantine_and_shutdown(void) {
    aes5_audio_buffer_t *b;
    aes5_pool_statistics_t p;

    /* Quarantined while running: shutdown afterwards completes at once. */
    init_fresh();
    b = take(AES5_BUFFER_TYPE_CONVERSION);
    b->data_size_bytes = b->buffer_capacity_bytes + 1;
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_ERR_CORRUPTED);
    CHECK_EQ(state_of(), AES5_STATE_ERROR);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
    CHECK_EQ(state_of(), AES5_STATE_SHUTDOWN);

    /* Quarantined while draining: that release ends the shutdown. */
    init_fresh();
    b = take(AES5_BUFFER_TYPE_PRIMARY);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_ERR_BUFFERS_OUTSTANDING);
    b->magic_number = 1;
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_ERR_CORRUPTED);
    CHECK_EQ(state_of(), AES5_STATE_SHUTDOWN);
    CHECK_STATUS(aes5_buffer_manager_get_performance_report(m, 0, &report), AES5_OK);
    CHECK_EQ(report.metrics.corruption_detected, 1);

    /* A new init brings the quarantined buffer back into service. */
    init_fresh();
    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, AES5_BUFFER_TYPE_PRIMARY, &p), AES5_OK);
    CHECK_EQ(p.quarantined_buffers, 0);
    CHECK_EQ(p.total_buffers, AES5_PRIMARY_BUFFER_COUNT);
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
}

static void test_not_a_manager(aes5_buffer_manager_t *h) {
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *b = aes5_test_sentinel_buffer();
    aes5_manager_state_t s = 99;
    aes5_pool_statistics_t p, pref;
    memset(&p, 0xA5, sizeof p);
    memset(&pref, 0xA5, sizeof pref);
    CHECK_STATUS(aes5_buffer_manager_get_state(h, &s), AES5_ERR_INVALID_STATE);
    CHECK_EQ(s, 99);
    CHECK_STATUS(aes5_buffer_manager_allocate(h, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_ERR_INVALID_STATE);
    CHECK(b == aes5_test_sentinel_buffer());
    CHECK_STATUS(aes5_buffer_manager_release(h, aes5_test_sentinel_buffer()), AES5_ERR_INVALID_STATE);
    CHECK_STATUS(aes5_buffer_manager_validate_buffer(h, aes5_test_sentinel_buffer()), AES5_ERR_INVALID_STATE);
    CHECK_STATUS(aes5_buffer_manager_transition_state(h, AES5_STATE_READY), AES5_ERR_INVALID_STATE);
    CHECK_STATUS(aes5_buffer_manager_shutdown(h), AES5_ERR_INVALID_STATE);
    CHECK_STATUS(aes5_buffer_manager_get_statistics(h, &stats), AES5_ERR_INVALID_STATE);
    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(h, AES5_BUFFER_TYPE_PRIMARY, &p), AES5_ERR_INVALID_STATE);
    CHECK(memcmp(&p, &pref, sizeof p) == 0);
    CHECK_STATUS(aes5_buffer_manager_get_metrics(h, &metrics), AES5_ERR_INVALID_STATE);
    CHECK_STATUS(aes5_buffer_manager_get_performance_report(h, 0, &report), AES5_ERR_INVALID_STATE);
}

int main(void) {
    unsigned cycle;
    for (cycle = 0; cycle < 3; cycle++) test_cycle(cycle);
    test_transitions();
    test_quarantine_and_shutdown();

    /* A zeroed storage that never held a manager is not a manager, and stays untouched. */
    test_not_a_manager((aes5_buffer_manager_t *)(void *)&never_initialised);
    {
        const unsigned char *bytes = (const unsigned char *)&never_initialised;
        size_t i, nonzero = 0;
        for (i = 0; i < sizeof never_initialised; i++) nonzero += bytes[i] != 0;
        CHECK_EQ(nonzero, 0);
    }

    /* Warm reset: a live manager's storage, zeroed, takes a fresh init; stale handles inside
     * a live storage are not managers either, nor is a byte copy of a live storage ("live"
     * includes the manager's own address), which takes an init of its own. */
    init_fresh();
    held[0] = take(AES5_BUFFER_TYPE_PRIMARY);
    test_not_a_manager((aes5_buffer_manager_t *)(void *)((char *)&storage + 8));
    memcpy(&copy_target, &storage, sizeof storage);
    test_not_a_manager((aes5_buffer_manager_t *)(void *)&copy_target);
    {
        aes5_buffer_manager_t *copy = NULL;
        CHECK_STATUS(aes5_buffer_manager_init(&copy_target, NULL, &copy), AES5_OK);
        CHECK_STATUS(aes5_buffer_manager_shutdown(copy), AES5_OK);
    }
    CHECK_STATUS(aes5_buffer_manager_validate_buffer(m, held[0]), AES5_OK); /* the original is unharmed */
    /* Storage need not be zeroed: init writes every byte it later reads. Filled with 0xA5 (a
     * NOLOAD section after power-up holds anything), it takes an init and streams. */
    memset(&copy_target, 0xA5, sizeof copy_target);
    {
        aes5_buffer_manager_t *filled = NULL;
        aes5_audio_format_t f = aes5_test_format(64);
        aes5_audio_buffer_t *b = NULL;
        aes5_manager_statistics_t st;
        unsigned n;
        CHECK_STATUS(aes5_buffer_manager_init(&copy_target, NULL, &filled), AES5_OK);
        for (n = 0; n < 3; n++) {
            CHECK_STATUS(aes5_buffer_manager_allocate(filled, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_OK);
            CHECK_STATUS(aes5_buffer_manager_validate_buffer(filled, b), AES5_OK);
            CHECK_STATUS(aes5_buffer_manager_release(filled, b), AES5_OK);
        }
        CHECK_STATUS(aes5_buffer_manager_get_statistics(filled, &st), AES5_OK);
        CHECK_EQ(st.buffer_type_stats[AES5_BUFFER_TYPE_PRIMARY].total_allocations, 3);
        CHECK_EQ(st.failed_operations + st.memory_corruption_count, 0);
        CHECK_STATUS(aes5_buffer_manager_shutdown(filled), AES5_OK);
    }
    /* The one content init refuses: a live manager at this very address (a warm reset that
     * kept RAM); zeroing the storage, or shutting the old manager down, lets init start over. */
    CHECK_STATUS(aes5_buffer_manager_init(&storage, NULL, &m), AES5_ERR_ALREADY_INITIALIZED);
    memset(&storage, 0, sizeof storage);
    init_fresh();
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
    return aes5_test_finish("test_lifecycle");
}
