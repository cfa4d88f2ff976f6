/*
 * test_exhaustion.c: every pool runs dry and recovers.
 *
 * For each pool: exactly its count of allocations succeed (all distinct), the next ones are
 * refused with AES5_ERR_POOL_EXHAUSTED and counted once each, the state is Warning once the
 * pool is above 90 %, the other pools are unaffected, and after releasing everything the pool
 * serves its full count again. Then the Warning -> Active rule with min_success_rate 0.95:
 * Warning lasts while the success rate of the allocations since Warning began is below the
 * minimum (or a pool is above 90 %), and ends by itself after enough successes; and a pool
 * above 90 % means Warning after an Error -> Ready recovery as well, and Warning clears by
 * itself even with min_success_rate 1.0.
 */
#include <stdint.h>

#include "test_support.h"

static aes5_buffer_manager_storage_t storage;
static aes5_buffer_manager_t *m;
static aes5_audio_buffer_t *held[AES5_TEST_TOTAL_BUFFERS];
static aes5_audio_buffer_t *others[2];
static aes5_manager_statistics_t before, after;
static aes5_pool_statistics_t pool;
static aes5_realtime_metrics_t metrics;
static aes5_test_counts_t want;

static aes5_manager_state_t state_of(void) { return aes5_test_state(m); }

static int above_90_percent(unsigned allocated, unsigned count) { return allocated * 10u > count * 9u; }

static void fresh_manager(const aes5_runtime_config_t *cfg) {
    aes5_manager_state_t s = state_of();
    if (s != AES5_STATE_SHUTDOWN) CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_init(&storage, cfg, &m), AES5_OK);
    memset(&want, 0, sizeof want);
}

/* Allocates the whole pool of `t`; checks distinctness, counts and the Warning threshold. */
static void fill_pool(aes5_buffer_type_t t, unsigned round) {
    aes5_audio_format_t f = aes5_test_format(64);
    unsigned n = aes5_test_pool_count(t), i, j;
    for (i = 0; i < n; i++) {
        held[i] = NULL;
        CHECK_STATUS(aes5_buffer_manager_allocate(m, t, &f, &held[i]), AES5_OK);
        CHECK(held[i] != NULL);
        if (held[i] != NULL) CHECK_EQ(held[i]->sequence_number, round + 1); /* each buffer is allocated once a round */
        for (j = 0; j < i; j++) {
            CHECK(held[i] != held[j]);
            if (held[i] != NULL && held[j] != NULL) CHECK(held[i]->data_pointer != held[j]->data_pointer);
        }
        CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, t, &pool), AES5_OK);
        CHECK_EQ(pool.allocated_buffers, i + 1);
        CHECK_EQ(pool.peak_allocated, round == 0 ? i + 1 : n);
        CHECK_EQ(pool.total_allocations, round * n + i + 1);
        if (round == 0) { /* fresh manager: Active until the pool passes 90 % */
            CHECK_EQ(state_of(), above_90_percent(i + 1, n) ? AES5_STATE_WARNING : AES5_STATE_ACTIVE);
        }
    }
}

/* `times` refused allocations from the full pool of `t`, each counted exactly once. */
static void refuse(aes5_buffer_type_t t, unsigned times) {
    aes5_audio_format_t f = aes5_test_format(64);
    unsigned i, k;
    for (i = 0; i < times; i++) {
        aes5_audio_buffer_t *b = aes5_test_sentinel_buffer();
        CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &before), AES5_OK);
        CHECK_STATUS(aes5_buffer_manager_allocate(m, t, &f, &b), AES5_ERR_POOL_EXHAUSTED);
        CHECK(b == aes5_test_sentinel_buffer());
        want.failed_operations++;
        want.allocation_failures++;
        CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &after), AES5_OK);
        CHECK(aes5_test_same_holdings_but_failures(&before, &after, t, 1));
        CHECK_EQ(after.current_state, AES5_STATE_WARNING);
        CHECK_COUNTS(m, &want);
        for (k = 0; k < aes5_test_pool_count(t); k++) {
            CHECK_STATUS(aes5_buffer_manager_validate_buffer(m, held[k]), AES5_OK);
        }
    }
}

static void release_pool(aes5_buffer_type_t t) {
    unsigned n = aes5_test_pool_count(t), i;
    for (i = 0; i < n; i++) CHECK_STATUS(aes5_buffer_manager_release(m, held[i]), AES5_OK);
    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, t, &pool), AES5_OK);
    CHECK_EQ(pool.allocated_buffers, 0);
    CHECK_EQ(pool.peak_allocated, n);
}

static void test_pool(aes5_buffer_type_t t) {
    aes5_audio_format_t f = aes5_test_format(64);
    unsigned n = aes5_test_pool_count(t), u, i;
    unsigned long long other_allocations = 0;

    fresh_manager(NULL);
    fill_pool(t, 0);
    CHECK_EQ(state_of(), AES5_STATE_WARNING); /* a full pool is above 90 % */
    refuse(t, 3);
    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, t, &pool), AES5_OK);
    CHECK_EQ(pool.total_buffers, n);
    CHECK_EQ(pool.allocated_buffers, n);
    CHECK_EQ(pool.peak_allocated, n);
    CHECK_EQ(pool.allocation_failures, 3);
    CHECK_EQ(pool.total_allocations, n);

    /* The other pools do not notice: each serves a buffer, with no failure of its own. */
    for (u = 0, i = 0; u < 3; u++) {
        if (u == t) continue;
        others[i] = NULL;
        CHECK_STATUS(aes5_buffer_manager_allocate(m, u, &f, &others[i]), AES5_OK);
        CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, u, &pool), AES5_OK);
        CHECK_EQ(pool.allocation_failures, 0);
        CHECK_EQ(pool.allocated_buffers, 1);
        CHECK_STATUS(aes5_buffer_manager_release(m, others[i]), AES5_OK);
        other_allocations++;
        i++;
    }
    CHECK_STATUS(aes5_buffer_manager_get_metrics(m, &metrics), AES5_OK);
    CHECK_EQ(metrics.allocation_count, n + other_allocations);
    CHECK_EQ(metrics.allocation_failures, 3);
    CHECK(aes5_test_near(metrics.allocation_success_rate,
                         (float)(n + other_allocations) / (float)(n + other_allocations + 3), 1e-6f));

    /* Recovery: release everything, and the whole pool is served again. */
    release_pool(t);
    fill_pool(t, 1);
    refuse(t, 1);
    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, t, &pool), AES5_OK);
    CHECK_EQ(pool.allocation_failures, 4);
    CHECK_EQ(pool.total_allocations, 2u * n);
    release_pool(t);
    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, t, &pool), AES5_OK);
    CHECK_EQ(pool.total_releases, 2u * n);
    CHECK_EQ(pool.quarantined_buffers, 0);
    CHECK_COUNTS(m, &want);
}

/* All three pools full at once: each refuses on its own account. */
static void test_all_pools(void) {
    aes5_audio_buffer_t *all[AES5_TEST_TOTAL_BUFFERS];
    aes5_audio_format_t f = aes5_test_format(64);
    unsigned t, i, k = 0;
    fresh_manager(NULL);
    for (t = 0; t < 3; t++) {
        for (i = 0; i < aes5_test_pool_count(t); i++, k++) {
            all[k] = NULL;
            CHECK_STATUS(aes5_buffer_manager_allocate(m, t, &f, &all[k]), AES5_OK);
        }
    }
    for (t = 0; t < 3; t++) {
        aes5_audio_buffer_t *b = aes5_test_sentinel_buffer();
        CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &before), AES5_OK);
        CHECK_STATUS(aes5_buffer_manager_allocate(m, t, &f, &b), AES5_ERR_POOL_EXHAUSTED);
        CHECK(b == aes5_test_sentinel_buffer());
        CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &after), AES5_OK);
        CHECK(aes5_test_same_holdings_but_failures(&before, &after, t, 1));
        want.failed_operations++;
        want.allocation_failures++;
    }
    CHECK_COUNTS(m, &want);
    for (k = 0; k < AES5_TEST_TOTAL_BUFFERS; k++) CHECK_STATUS(aes5_buffer_manager_release(m, all[k]), AES5_OK);
}

/*
 * Warning ends when no pool is above 90 % and the allocations since Warning began succeeded
 * at least min_success_rate (0.95 = 19 of 20) of the time. The model below predicts the state
 * after every call; Warning begins with the allocation that puts Scratch above 90 %.
 */
static unsigned wins, losses; /* allocation outcomes since Warning began */
static int predicted_warning;

static void expect_state(unsigned scratch_held, unsigned primary_held, int line) {
    int crowded = above_90_percent(scratch_held, AES5_SCRATCH_BUFFER_COUNT) ||
                  above_90_percent(primary_held, AES5_PRIMARY_BUFFER_COUNT);
    if (predicted_warning && !crowded && wins * 20u >= (wins + losses) * 19u) predicted_warning = 0;
    aes5_test_check_at(state_of() == (predicted_warning ? AES5_STATE_WARNING : AES5_STATE_ACTIVE),
                       "state as the Warning rule predicts", __FILE__, line);
}

static void test_warning_rule(void) {
    aes5_runtime_config_t cfg;
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *b = NULL;
    unsigned n = AES5_SCRATCH_BUFFER_COUNT, i, pairs = 0;

    CHECK_STATUS(aes5_runtime_config_default(&cfg), AES5_OK);
    cfg.min_success_rate = 0.95f;
    fresh_manager(&cfg);
    for (i = 0; i < n; i++) {
        CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &f, &held[i]), AES5_OK);
        if (predicted_warning) wins++;
        if (!predicted_warning && above_90_percent(i + 1, n)) predicted_warning = 1; /* window starts here */
        expect_state(i + 1, 0, __LINE__);
    }
    CHECK_EQ(state_of(), AES5_STATE_WARNING);
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &f, &b), AES5_ERR_POOL_EXHAUSTED);
    losses++;
    expect_state(n, 0, __LINE__);

    /* Releasing ends the crowding, not the Warning: the rate since Warning began is too low. */
    for (i = 0; i < n; i++) {
        CHECK_STATUS(aes5_buffer_manager_release(m, held[n - 1 - i]), AES5_OK);
        expect_state(n - 1 - i, 0, __LINE__);
    }
    CHECK(wins * 20u < (wins + losses) * 19u); /* geometry guard: the pressure outlives the release */
    CHECK_EQ(state_of(), AES5_STATE_WARNING);

    /* Successful allocations raise the rate; Warning ends by itself at 95 %. */
    while (state_of() == AES5_STATE_WARNING && pairs < 100) {
        CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_OK);
        wins++;
        expect_state(0, 1, __LINE__);
        CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
        expect_state(0, 0, __LINE__);
        pairs++;
    }
    CHECK_EQ(state_of(), AES5_STATE_ACTIVE);
    CHECK_EQ(wins, 19u * losses); /* the first moment the rate reached 19/20 */
    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &after), AES5_OK);
    CHECK_EQ(after.state_change_count, 5); /* init 2, -> Active, -> Warning, -> Active */
}

/*
 * "Any pool above 90 %" holds after an Error -> Ready recovery too: with Scratch still full,
 * the next allocation (from Primary) must leave the manager in Warning, not Active.
 */
static void test_warning_after_recovery(void) {
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *victim = NULL, *b = NULL;
    unsigned n = AES5_SCRATCH_BUFFER_COUNT, i;

    fresh_manager(NULL);
    for (i = 0; i < n; i++) {
        CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &f, &held[i]), AES5_OK);
    }
    CHECK_EQ(state_of(), AES5_STATE_WARNING);
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &victim), AES5_OK);
    victim->checksum ^= 1u;
    CHECK_STATUS(aes5_buffer_manager_release(m, victim), AES5_ERR_CORRUPTED);
    CHECK_EQ(state_of(), AES5_STATE_ERROR);
    CHECK_STATUS(aes5_buffer_manager_transition_state(m, AES5_STATE_READY), AES5_OK);
    CHECK_EQ(state_of(), AES5_STATE_READY);
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b), AES5_OK);
    CHECK_EQ(state_of(), AES5_STATE_WARNING); /* Scratch is still at 100 % */
    CHECK_STATUS(aes5_buffer_manager_release(m, b), AES5_OK);
    for (i = 0; i < n; i++) CHECK_STATUS(aes5_buffer_manager_release(m, held[i]), AES5_OK);
    CHECK_EQ(state_of(), AES5_STATE_ACTIVE); /* pressure over, no failure: Active */
}

/*
 * docs/DESIGN.md §2.3: Warning ends by itself once no pool is crowded and the window's
 * success rate is met or the window reaches 1024 attempts. min_success_rate 1.0 is a valid
 * configuration; after one pool-empty failure and thousands of successful allocations
 * with every pool nearly empty, the pressure has ended and Warning must be over.
 */
static void test_warning_clears_at_full_rate(void) {
    aes5_runtime_config_t cfg;
    aes5_audio_format_t f = aes5_test_format(64);
    aes5_audio_buffer_t *b = NULL;
    unsigned n = AES5_SCRATCH_BUFFER_COUNT, i, refused;
    aes5_manager_state_t s = 99;

    CHECK_STATUS(aes5_runtime_config_default(&cfg), AES5_OK);
    cfg.min_success_rate = 1.0f;
    fresh_manager(&cfg);
    for (i = 0; i < n; i++) {
        CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &f, &held[i]), AES5_OK);
    }
    CHECK_STATUS(aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_SCRATCH, &f, &b), AES5_ERR_POOL_EXHAUSTED);
    for (i = 0; i < n; i++) CHECK_STATUS(aes5_buffer_manager_release(m, held[i]), AES5_OK);
    for (i = 0, refused = 0; i < 4096 && aes5_buffer_manager_get_state(m, &s) == AES5_OK && s == AES5_STATE_WARNING;
         i++) {
        refused += aes5_buffer_manager_allocate(m, AES5_BUFFER_TYPE_PRIMARY, &f, &b) != AES5_OK;
        refused += aes5_buffer_manager_release(m, b) != AES5_OK;
    }
    CHECK_EQ(refused, 0);
    CHECK_EQ(state_of(), AES5_STATE_ACTIVE);
}

int main(void) {
    aes5_buffer_type_t t;
    CHECK_STATUS(aes5_buffer_manager_init(&storage, NULL, &m), AES5_OK);
    for (t = 0; t < 3; t++) test_pool(t);
    test_all_pools();
    test_warning_rule();
    test_warning_after_recovery();
    test_warning_clears_at_full_rate();
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
    return aes5_test_finish("test_exhaustion");
}
