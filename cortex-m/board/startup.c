/* Minimal startup for the bare-metal test images (Cortex-M0, M3, M4F, M33 under QEMU).
 *
 * The vector table supplies SP and PC; the reset handler enables the FPU where there is one,
 * copies .data, zeroes .bss, opens the semihosting console, runs the C/C++ constructors and
 * exits through semihosting with main()'s status. Every fault ends the emulation with
 * AES5_BOARD_FAULT_EXIT, so a crash fails its test at once instead of hanging. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "board.h"

extern uint32_t __stack_top[];
extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern int main(void);
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);

void *__dso_handle = 0;
void _init(void) {}
void _fini(void) {}

static uint32_t semihosting_call(uint32_t op, const void *arg) {
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void aes5_board_exit(int code) {
    /* SYS_EXIT_EXTENDED with ADP_Stopped_ApplicationExit: QEMU exits with `code`. */
    const uint32_t block[2] = {0x20026u, (uint32_t)code};
    fflush(stdout);
    semihosting_call(0x20u, block);
    for (;;) {
    }
}

static void fatal(const char *what, int code) {
    semihosting_call(0x04u, what); /* SYS_WRITE0: no stdio inside a fault */
    const uint32_t block[2] = {0x20026u, (uint32_t)code};
    semihosting_call(0x20u, block);
    for (;;) {
    }
}

void aes5_hard_fault(void) { fatal("HardFault\n", AES5_BOARD_FAULT_EXIT); }
void aes5_other_fault(void) { fatal("fault (NMI/MemManage/BusFault/UsageFault/SecureFault)\n", AES5_BOARD_FAULT_EXIT); }
void aes5_unexpected_irq(void) { fatal("unexpected interrupt\n", AES5_BOARD_UNEXPECTED_IRQ_EXIT); }

/* SysTick: images that use it define their own; otherwise it is unexpected. */
void SysTick_Handler(void) __attribute__((weak, alias("aes5_unexpected_irq")));
void SVC_Handler(void) __attribute__((weak, alias("aes5_unexpected_irq")));
void PendSV_Handler(void) __attribute__((weak, alias("aes5_unexpected_irq")));

void aes5_reset(void) __attribute__((noreturn));
void aes5_reset(void) {
#if defined(__ARM_FP)
    /* CPACR: full access to CP10/CP11, before any floating-point instruction. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    for (uint32_t *src = __data_load, *dst = __data_start; dst < __data_end;) *dst++ = *src++;
    for (uint32_t *dst = __bss_start; dst < __bss_end;) *dst++ = 0;
    initialise_monitor_handles();
    __libc_init_array();
    aes5_board_exit(main());
}

typedef void (*aes5_vector_t)(void);

/* 16 system entries and 48 external interrupts, all routed. */
__attribute__((section(".vectors"), used)) const aes5_vector_t aes5_vector_table[64] = {
    (aes5_vector_t)(uintptr_t)__stack_top,
    aes5_reset,
    aes5_other_fault, /* NMI */
    aes5_hard_fault,
    aes5_other_fault, /* MemManage */
    aes5_other_fault, /* BusFault */
    aes5_other_fault, /* UsageFault */
    aes5_other_fault, /* SecureFault (ARMv8-M) */
    0, 0, 0,
    SVC_Handler,
    aes5_other_fault, /* DebugMonitor */
    0,
    PendSV_Handler,
    SysTick_Handler,
    [16 ... 63] = aes5_unexpected_irq,
};
