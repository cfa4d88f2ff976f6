/* The smallest firmware that uses the whole C API: every function called once, each result
 * checked. scripts/cortex-m-costs.sh measures what the library contributes to this image
 * (its own output sections, see ../board/link.ld.in); under ctest it also runs and must exit 0.
 *
 * Built with AES5_FOOTPRINT_LIFE_CYCLE_ONLY=1 it is the smallest firmware that uses only the
 * buffer life cycle: init, allocate, validate, release, state and shutdown, with no
 * statistics, reports or strings. The difference between the two images is what the readers
 * and texts cost; the linker drops them from a firmware that never calls them. Linked against
 * a library built with AES5_MONITORING=0 it also shows what monitoring costs. */
#include <stdint.h>
#include <string.h>

#include "aes5_buffer_manager.h"

#ifndef AES5_FOOTPRINT_LIFE_CYCLE_ONLY
#define AES5_FOOTPRINT_LIFE_CYCLE_ONLY 0
#endif

static aes5_buffer_manager_storage_t storage;

int main(void) {
    /* The exit status names the first step that failed (0: none). */
    int step = 0, failed = 0;
#define CHECK_STEP(ok) \
    do { \
        step++; \
        if (!(ok) && failed == 0) failed = step; \
    } while (0)
#define EXPECT(call) CHECK_STEP((call) == AES5_OK)
    aes5_runtime_config_t config;
    aes5_buffer_manager_t *manager = 0;
    aes5_audio_buffer_t *buffer = 0;
    aes5_manager_state_t state = 0;
#if !AES5_FOOTPRINT_LIFE_CYCLE_ONLY
    static aes5_manager_statistics_t statistics;
    static aes5_pool_statistics_t pool;
    static aes5_realtime_metrics_t metrics;
    static aes5_performance_report_t report;
    static aes5_storage_layout_t layout;
    uint32_t bytes = 0;
    aes5_format_problem_t problem = 1;
    uint64_t numerator = 0, denominator = 0, duration = 0;
#endif
    aes5_audio_format_t format;
    memset(&format, 0, sizeof format);
    format.sample_rate_hz = 48000;
    format.channel_count = 2;
    format.sample_size_bits = 16;
    format.frame_size_samples = 32;

    EXPECT(aes5_runtime_config_default(&config));
    /* Monitoring is on by default where it is compiled in; compiled out, asking for it is
     * refused and changes nothing. */
    CHECK_STEP(config.enable_performance_monitoring == AES5_MONITORING);
    if (!AES5_MONITORING) {
        config.enable_performance_monitoring = 1;
        CHECK_STEP(AES5_BUFFER_MANAGER_INIT(&storage, &config, &manager) == AES5_ERR_INVALID_ARGUMENT);
        CHECK_STEP(manager == 0);
        config.enable_performance_monitoring = 0;
    }
    EXPECT(AES5_BUFFER_MANAGER_INIT(&storage, &config, &manager));
    EXPECT(aes5_buffer_manager_allocate(manager, AES5_BUFFER_TYPE_PRIMARY, &format, &buffer));
    EXPECT(aes5_buffer_manager_validate_buffer(manager, buffer));
    EXPECT(aes5_buffer_manager_release(manager, buffer));
    /* The first allocation made the manager Active. */
    EXPECT(aes5_buffer_manager_get_state(manager, &state));
    CHECK_STEP(state == AES5_STATE_ACTIVE);
#if !AES5_FOOTPRINT_LIFE_CYCLE_ONLY
    CHECK_STEP(aes5_buffer_manager_init(&storage, &config, &manager) == AES5_ERR_ALREADY_INITIALIZED);
    EXPECT(aes5_buffer_manager_transition_state(manager, AES5_STATE_ACTIVE));
    EXPECT(aes5_buffer_manager_get_statistics(manager, &statistics));
    EXPECT(aes5_buffer_manager_get_pool_statistics(manager, AES5_BUFFER_TYPE_PRIMARY, &pool));
    EXPECT(aes5_buffer_manager_get_metrics(manager, &metrics));
    EXPECT(aes5_buffer_manager_get_performance_report(manager, 1000000000u, &report));
    EXPECT(aes5_buffer_manager_storage_layout(&layout));
    EXPECT(aes5_audio_format_bytes(&format, &bytes));
    EXPECT(aes5_audio_format_effective_rate(&format, &numerator, &denominator));
    EXPECT(aes5_audio_format_frame_duration_ns(&format, &duration));
    CHECK_STEP(aes5_is_aes5_frequency(48000));
    CHECK_STEP(aes5_status_string(AES5_OK) != 0);
    EXPECT(aes5_audio_format_check(&format, &problem));
    EXPECT(aes5_buffer_manager_check_format(manager, AES5_BUFFER_TYPE_PRIMARY, &format, &problem));
    CHECK_STEP(problem == AES5_FORMAT_OK);
    CHECK_STEP(aes5_format_problem_string(problem) != 0);
    CHECK_STEP(aes5_state_string(state) != 0 && aes5_buffer_type_string(AES5_BUFFER_TYPE_SCRATCH) != 0);
    CHECK_STEP(aes5_warning_string(AES5_WARNING_TIMEOUTS) != 0);
    CHECK_STEP(statistics.buffer_type_stats[AES5_BUFFER_TYPE_PRIMARY].total_allocations == 1);
    CHECK_STEP(bytes == 128);
    CHECK_STEP(layout.storage_bytes == sizeof storage);
#endif
    EXPECT(aes5_buffer_manager_shutdown(manager));
    return failed;
}
