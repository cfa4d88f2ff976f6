/* The firmware side of the library's `firmware-critical-section` feature, as a single-core
 * Cortex-M firmware would write it: mask interrupts, hand back the previous PRIMASK. */
#include <stdint.h>

#include "aes5_buffer_manager.h"

uint32_t aes5_critical_section_enter(void) {
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    return primask;
}

void aes5_critical_section_exit(uint32_t state) {
    if ((state & 1u) == 0) __asm__ volatile("cpsie i" ::: "memory");
}
