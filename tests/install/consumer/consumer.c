/* A program built against an installed aes5_buffer_manager (found with find_package or with
 * pkg-config): it streams a few periods through the Primary pool and checks the counts. */
#include <stdio.h>
#include <string.h>

#include "aes5_buffer_manager.h"

static aes5_buffer_manager_storage_t storage;

int main(void) {
    aes5_buffer_manager_t *manager = NULL;
    aes5_audio_format_t format;
    aes5_pool_statistics_t pool;
    aes5_status_t status;
    unsigned period;

    memset(&format, 0, sizeof format);
    format.sample_rate_hz = 48000;
    format.channel_count = 2;
    format.sample_size_bits = 16;
    format.frame_size_samples = 64;
    status = AES5_BUFFER_MANAGER_INIT(&storage, NULL, &manager);
    if (status != AES5_OK) {
        fprintf(stderr, "init: %s\n", aes5_status_string(status));
        return 1;
    }
    for (period = 0; period < 100; period++) {
        aes5_audio_buffer_t *buffer = NULL;
        if ((status = aes5_buffer_manager_allocate(manager, AES5_BUFFER_TYPE_PRIMARY, &format, &buffer)) != AES5_OK ||
            (status = aes5_buffer_manager_release(manager, buffer)) != AES5_OK) {
            fprintf(stderr, "period %u: %s\n", period, aes5_status_string(status));
            return 1;
        }
    }
    if (aes5_buffer_manager_get_pool_statistics(manager, AES5_BUFFER_TYPE_PRIMARY, &pool) != AES5_OK ||
        pool.total_allocations != 100 || pool.total_releases != 100 || pool.allocated_buffers != 0) {
        fprintf(stderr, "counts do not reconcile\n");
        return 1;
    }
    if (aes5_buffer_manager_shutdown(manager) != AES5_OK) return 1;
    printf("installed aes5_buffer_manager: 100 periods, counts reconcile\n");
    return 0;
}
