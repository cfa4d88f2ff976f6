/* Board support shared by the bare-metal test images: semihosting exit, SysTick access and
 * the addresses of the library's own code (from the linker script). */
#ifndef AES5_BOARD_H
#define AES5_BOARD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exit code of every fault handler: a crash is never mistaken for a test result. */
#define AES5_BOARD_FAULT_EXIT 99
/* Exit code of an interrupt nobody expected. */
#define AES5_BOARD_UNEXPECTED_IRQ_EXIT 98

/* Ends the emulation with `code` as QEMU's exit status (semihosting SYS_EXIT_EXTENDED). */
void aes5_board_exit(int code) __attribute__((noreturn));

/* SysTick registers (identical on ARMv6-M, ARMv7-M and ARMv8-M). */
#define AES5_SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define AES5_SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define AES5_SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define AES5_SYST_CSR_ENABLE 1u
#define AES5_SYST_CSR_TICKINT 2u
#define AES5_SYST_CSR_CLKSOURCE 4u

/* Bounds of the library's code, placed in its own output section by the linker script. */
extern const uint8_t __aes5_text_start[];
extern const uint8_t __aes5_text_end[];

/* Stack frame the core pushes on exception entry. */
typedef struct {
    uint32_t r0, r1, r2, r3, r12, lr, pc, xpsr;
} aes5_exception_frame_t;

#ifdef __cplusplus
}
#endif
#endif
