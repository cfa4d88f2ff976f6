// The header compiles as C++ (inside extern "C"), twice, with every warning an error.
#include "aes5_buffer_manager.h"
#include "aes5_buffer_manager.h"

extern "C" int aes5_header_second_unit(void);

int main() {
    aes5_runtime_config_t config;
    if (aes5_runtime_config_default(&config) != AES5_OK) return 1;
    static_assert(sizeof(aes5_buffer_manager_storage_t) == AES5_STORAGE_BYTES, "storage size");
    const aes5_status_t codes[] = {AES5_OK, AES5_ERR_ALREADY_INITIALIZED};
    if (codes[1] != 13u) return 1;
    return aes5_header_second_unit();
}
