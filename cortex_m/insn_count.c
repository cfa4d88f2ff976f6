/* Counts the instructions of aes5_buffer_manager_allocate and aes5_buffer_manager_release
 * (monitoring off, validation on), including everything they call, under QEMU with
 * `-icount shift=0`: every instruction advances virtual time by exactly 1 ns and SysTick
 * counts the 25 MHz mps2 clock (40 ns per tick), so a SysTick window of t ticks spans
 * 40 * t instructions. Each call is bracketed by two SysTick reads; the same bracket around
 * nothing is subtracted. Averaging over many calls whose phases against the 40-instruction
 * tick drift gives the count to a fraction of an instruction; the run is deterministic. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "aes5_buffer_manager.h"
#include "board.h"

#define ROUNDS 4000u
#define INSNS_PER_TICK 40u

static aes5_buffer_manager_storage_t storage;

/* One SysTick reading; SysTick counts down. */
static inline uint32_t now(void) { return AES5_SYST_CVR; }

int main(void) {
    aes5_runtime_config_t config;
    aes5_buffer_manager_t *manager = 0;
    aes5_audio_format_t format;
    memset(&format, 0, sizeof format);
    format.sample_rate_hz = 48000;
    format.channel_count = 2;
    format.sample_size_bits = 16;
    format.frame_size_samples = 256;
    if (aes5_runtime_config_default(&config) != AES5_OK) return 1;
    config.enable_performance_monitoring = 0;
    config.enable_memory_validation = 1;
    if (AES5_BUFFER_MANAGER_INIT(&storage, &config, &manager) != AES5_OK) return 1;

    AES5_SYST_RVR = 0x00FFFFFFu;
    AES5_SYST_CVR = 0;
    AES5_SYST_CSR = AES5_SYST_CSR_ENABLE | AES5_SYST_CSR_CLKSOURCE; /* no interrupt */

    uint64_t empty = 0, allocate = 0, release = 0;
    for (uint32_t round = 0; round < ROUNDS; round++) {
        aes5_audio_buffer_t *buffer = 0;
        uint32_t t0 = now();
        __asm__ volatile("" ::: "memory");
        uint32_t t1 = now();
        aes5_status_t a = aes5_buffer_manager_allocate(manager, AES5_BUFFER_TYPE_PRIMARY, &format, &buffer);
        uint32_t t2 = now();
        aes5_status_t r = aes5_buffer_manager_release(manager, buffer);
        uint32_t t3 = now();
        if (a != AES5_OK || r != AES5_OK) {
            printf("insn_count: allocate %d, release %d\n", (int)a, (int)r);
            return 1;
        }
        /* 24-bit down-counter: elapsed = (start - end) mod 2^24. */
        empty += (t0 - t1) & 0x00FFFFFFu;
        allocate += (t1 - t2) & 0x00FFFFFFu;
        release += (t2 - t3) & 0x00FFFFFFu;
    }
    /* instructions per call, in hundredths */
    uint64_t base = empty * INSNS_PER_TICK * 100u / ROUNDS;
    uint64_t alloc_x100 = allocate * INSNS_PER_TICK * 100u / ROUNDS - base;
    uint64_t release_x100 = release * INSNS_PER_TICK * 100u / ROUNDS - base;
    printf("insn_count: aes5_buffer_manager_allocate %lu.%02lu instructions\n", (unsigned long)(alloc_x100 / 100),
           (unsigned long)(alloc_x100 % 100));
    printf("insn_count: aes5_buffer_manager_release %lu.%02lu instructions\n", (unsigned long)(release_x100 / 100),
           (unsigned long)(release_x100 % 100));
    printf("insn_count: (%u rounds; empty window %lu.%02lu instructions subtracted)\n", ROUNDS,
           (unsigned long)(base / 100), (unsigned long)(base % 100));
    return aes5_buffer_manager_shutdown(manager) == AES5_OK ? 0 : 1;
}
