/* Counts the instructions of aes5_buffer_manager_allocate, _enqueue, _dequeue and _release
 * (validation on), the call and everything they call included, with performance monitoring
 * off and then on with a one-load clock callback; then those of one integrity sweep.
 *
 * The counting is done by QEMU's TCG plugin cortex-m/qemu-plugin/insn_count_plugin.c in its
 * mark mode: scripts/cortex-m-costs.sh passes the address of `insn_mark` as `mark=`, and the
 * plugin prints the number of instructions executed so far each time `insn_mark` runs. Each round
 * calls it six times: around nothing, around one allocate, one enqueue (of that buffer to a
 * hand-off queue), one dequeue (of it again) and one release. The difference between
 * consecutive marks counts each part exactly; the part around nothing (the call of `insn_mark`
 * itself) is subtracted from the others. The script averages all rounds but the first (whose
 * allocate moves the manager from Ready to Active).
 *
 * Run without the plugin (as ctest does), the image only checks that every call succeeds.
 * (Reading SysTick under `-icount` instead is not exact: a block of 1,000 `nop`s reads 25 or 26
 * ticks of 40 instructions depending on where it starts.) */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "aes5_buffer_manager.h"
#include "board.h"

#define ROUNDS 1000u
#define SWEPT_BUFFERS (AES5_PRIMARY_BUFFER_COUNT + AES5_CONVERSION_BUFFER_COUNT + AES5_SCRATCH_BUFFER_COUNT)

static aes5_buffer_manager_storage_t storage;

/* Where the plugin reads its count (out of line, and never merged or dropped). */
__attribute__((noinline)) void insn_mark(void) { __asm__ volatile("" ::: "memory"); }

/* The monitoring clock: one load (SysTick's current value, counted up). */
static uint64_t one_load_clock(void *context) {
    (void)context;
    return 0x00FFFFFFu - AES5_SYST_CVR;
}

/* 48 kHz stereo 16-bit PCM, 64 frames: 256 bytes, which fits every board's geometry. */
static aes5_audio_format_t stereo_pcm16(void) {
    aes5_audio_format_t format;
    memset(&format, 0, sizeof format);
    format.sample_rate_hz = 48000;
    format.channel_count = 2;
    format.sample_size_bits = 16;
    format.frame_size_samples = 64;
    return format;
}

/* Runs ROUNDS rounds of marked allocate/enqueue/dequeue/release with `monitoring`; 1 when
 * every call succeeded. */
static int run(int monitoring) {
    aes5_runtime_config_t config;
    aes5_buffer_manager_t *manager = 0;
    aes5_audio_format_t format = stereo_pcm16();
    memset(&storage, 0, sizeof storage);
    if (aes5_runtime_config_default(&config) != AES5_OK) return 0;
    config.enable_performance_monitoring = (uint8_t)monitoring;
    config.enable_memory_validation = 1;
    config.now_ns = one_load_clock;
    if (AES5_BUFFER_MANAGER_INIT(&storage, &config, &manager) != AES5_OK) return 0;

    for (uint32_t round = 0; round < ROUNDS; round++) {
        aes5_audio_buffer_t *buffer = 0, *back = 0;
        insn_mark();
        insn_mark();
        aes5_status_t a = aes5_buffer_manager_allocate(manager, AES5_BUFFER_TYPE_PRIMARY, &format, &buffer);
        insn_mark();
        aes5_status_t e = aes5_buffer_manager_enqueue(manager, 0, buffer);
        insn_mark();
        aes5_status_t d = aes5_buffer_manager_dequeue(manager, 0, &back);
        insn_mark();
        aes5_status_t r = aes5_buffer_manager_release(manager, back);
        insn_mark();
        if (a != AES5_OK || e != AES5_OK || d != AES5_OK || r != AES5_OK || back != buffer) {
            printf("insn_count: allocate %d, enqueue %d, dequeue %d, release %d\n", (int)a, (int)e, (int)d, (int)r);
            return 0;
        }
    }
    return aes5_buffer_manager_shutdown(manager) == AES5_OK;
}

/* One marked integrity sweep (monitoring off) of a manager with two buffers held and the rest
 * free, as an idle loop would find it: every guard word, every free header. 1 when it found
 * nothing. */
static int sweep(void) {
    aes5_runtime_config_t config;
    aes5_buffer_manager_t *manager = 0;
    aes5_audio_format_t format = stereo_pcm16();
    aes5_audio_buffer_t *a = 0, *b = 0;
    aes5_integrity_report_t report;
    memset(&storage, 0, sizeof storage);
    if (aes5_runtime_config_default(&config) != AES5_OK) return 0;
    config.enable_performance_monitoring = 0;
    if (AES5_BUFFER_MANAGER_INIT(&storage, &config, &manager) != AES5_OK) return 0;
    if (aes5_buffer_manager_allocate(manager, AES5_BUFFER_TYPE_PRIMARY, &format, &a) != AES5_OK) return 0;
    if (aes5_buffer_manager_allocate(manager, AES5_BUFFER_TYPE_SCRATCH, &format, &b) != AES5_OK) return 0;
    insn_mark();
    insn_mark();
    aes5_status_t s = aes5_buffer_manager_check_integrity(manager, &report);
    insn_mark();
    if (s != AES5_OK || report.damaged_count != 0 || report.buffers_checked != SWEPT_BUFFERS) {
        printf("insn_count: sweep %d, %u damaged\n", (int)s, (unsigned)report.damaged_count);
        return 0;
    }
    return aes5_buffer_manager_release(manager, a) == AES5_OK && aes5_buffer_manager_release(manager, b) == AES5_OK &&
           aes5_buffer_manager_shutdown(manager) == AES5_OK;
}

int main(void) {
    AES5_SYST_RVR = 0x00FFFFFFu;
    AES5_SYST_CVR = 0;
    AES5_SYST_CSR = AES5_SYST_CSR_ENABLE | AES5_SYST_CSR_CLKSOURCE; /* no interrupt */
    for (int monitoring = 0; monitoring <= 1; monitoring++) {
        if (!run(monitoring)) return 1;
    }
    if (!sweep()) return 1;
    /* The layout the report script reads the plugin's marks by. */
    printf("insn_count: %u rounds of 6 marks, monitoring off then on; then 3 marks around a sweep of %u buffers\n",
           ROUNDS, (unsigned)SWEPT_BUFFERS);
    return 0;
}
