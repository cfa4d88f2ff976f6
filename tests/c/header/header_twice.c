/* The header compiles on its own, twice in one translation unit, with every warning an error. */
#include "aes5_buffer_manager.h"
#include "aes5_buffer_manager.h"

int aes5_header_second_unit(void);

int main(void) {
    aes5_buffer_manager_storage_t *storage = 0;
    aes5_runtime_config_t config;
    /* Every type and constant of the contract is visible. */
    aes5_status_t status = AES5_OK;
    aes5_buffer_type_t type = AES5_BUFFER_TYPE_METADATA;
    aes5_manager_state_t state = AES5_STATE_SHUTDOWN;
    (void)storage;
    status = aes5_runtime_config_default(&config);
    if (status != AES5_OK || type != 5u || state != 7u) return 1;
    if (sizeof(aes5_buffer_manager_storage_t) != AES5_STORAGE_BYTES) return 1;
    return aes5_header_second_unit();
}
