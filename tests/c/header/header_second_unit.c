/* A second translation unit including the header: no definitions may collide at link time. */
#include "aes5_buffer_manager.h"

int aes5_header_second_unit(void);

int aes5_header_second_unit(void) {
    return aes5_is_aes5_frequency(176400) && !aes5_is_aes5_frequency(22050) ? 0 : 1;
}
