/* Counts the instructions of aes5_buffer_manager_allocate and aes5_buffer_manager_release
 * (validation on), including everything they call, under QEMU with `-icount shift=0`, with
 * performance monitoring off and then on with a one-load clock callback.
 *
 * Under -icount every instruction advances virtual time by the same step, so SysTick ticks
 * are proportional to instructions. How many instructions one tick spans depends on the
 * board's SysTick clock; it is calibrated here with a block of exactly CALIBRATION_INSNS
 * `nop`s. Each call is bracketed by two SysTick reads; the same bracket around nothing is
 * subtracted. Averaging over many calls whose phases against the tick drift gives the count to
 * a fraction of an instruction; the run is deterministic. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "aes5_buffer_manager.h"
#include "board.h"

#define ROUNDS 4000u
#define CALIBRATION_ROUNDS 64u
#define CALIBRATION_INSNS 1000u
#define STRINGIFY(x) #x
#define REPEAT_NOPS(n) __asm__ volatile(".rept " STRINGIFY(n) "\n\tnop\n\t.endr" ::: "memory")

static aes5_buffer_manager_storage_t storage;

/* One SysTick reading; SysTick counts down. */
static inline uint32_t now(void) { return AES5_SYST_CVR; }

/* 24-bit down-counter: elapsed = (start - end) mod 2^24. */
static inline uint32_t elapsed(uint32_t start, uint32_t end) { return (start - end) & 0x00FFFFFFu; }

/* The monitoring clock: one load (SysTick's current value, counted up). */
static uint64_t one_load_clock(void *context) {
    (void)context;
    return 0x00FFFFFFu - AES5_SYST_CVR;
}

/* A call to exactly CALIBRATION_INSNS instructions more than a call to `empty_block` (out of
 * line: Thumb-1 literal pools cannot reach across an inline block). */
__attribute__((noinline)) static void nop_block(void) { REPEAT_NOPS(1000); /* CALIBRATION_INSNS */ }
__attribute__((noinline)) static void empty_block(void) { __asm__ volatile("" ::: "memory"); }

/* Ticks that CALIBRATION_ROUNDS blocks of CALIBRATION_INSNS instructions take. */
static uint64_t calibration_ticks(void) {
    uint64_t block = 0, empty = 0;
    for (uint32_t round = 0; round < CALIBRATION_ROUNDS; round++) {
        uint32_t t0 = now();
        empty_block();
        uint32_t t1 = now();
        nop_block();
        uint32_t t2 = now();
        empty += elapsed(t0, t1);
        block += elapsed(t1, t2);
    }
    return block - empty;
}

/* Instructions per call, in hundredths, of allocate and release with `monitoring`. */
static int measure(int monitoring, uint64_t cal_ticks, uint64_t *alloc_x100, uint64_t *release_x100) {
    aes5_runtime_config_t config;
    aes5_buffer_manager_t *manager = 0;
    aes5_audio_format_t format;
    memset(&format, 0, sizeof format);
    format.sample_rate_hz = 48000;
    format.channel_count = 2;
    format.sample_size_bits = 16;
    format.frame_size_samples = 64; /* 256 bytes: fits every board's geometry */
    memset(&storage, 0, sizeof storage);
    if (aes5_runtime_config_default(&config) != AES5_OK) return 0;
    config.enable_performance_monitoring = (uint8_t)monitoring;
    config.enable_memory_validation = 1;
    config.now_ns = one_load_clock;
    if (AES5_BUFFER_MANAGER_INIT(&storage, &config, &manager) != AES5_OK) return 0;

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
            return 0;
        }
        empty += elapsed(t0, t1);
        allocate += elapsed(t1, t2);
        release += elapsed(t2, t3);
    }
    /* instructions = ticks * (calibration instructions / calibration ticks) */
    const uint64_t cal_insns_x100 = (uint64_t)CALIBRATION_ROUNDS * CALIBRATION_INSNS * 100u;
    *alloc_x100 = (allocate - empty) * cal_insns_x100 / cal_ticks / ROUNDS;
    *release_x100 = (release - empty) * cal_insns_x100 / cal_ticks / ROUNDS;
    return aes5_buffer_manager_shutdown(manager) == AES5_OK;
}

int main(void) {
    AES5_SYST_RVR = 0x00FFFFFFu;
    AES5_SYST_CVR = 0;
    AES5_SYST_CSR = AES5_SYST_CSR_ENABLE | AES5_SYST_CSR_CLKSOURCE; /* no interrupt */

    uint64_t cal_ticks = calibration_ticks();
    if (cal_ticks == 0) {
        printf("insn_count: SysTick does not advance\n");
        return 1;
    }
    for (int monitoring = 0; monitoring <= 1; monitoring++) {
        uint64_t a = 0, r = 0;
        if (!measure(monitoring, cal_ticks, &a, &r)) return 1;
        printf("insn_count: monitoring %s: allocate %lu.%02lu, release %lu.%02lu instructions\n",
               monitoring ? "on (one-load clock)" : "off", (unsigned long)(a / 100), (unsigned long)(a % 100),
               (unsigned long)(r / 100), (unsigned long)(r % 100));
    }
    printf("insn_count: (%u rounds each; SysTick calibrated over %u instructions)\n", ROUNDS,
           CALIBRATION_ROUNDS * CALIBRATION_INSNS);
    return 0;
}
