/* Interrupt-preemption stress test: the evidence that allocate and release are safe between
 * main() and an interrupt handler on a real core model.
 *
 * SysTick fires at pseudo-random intervals, drawn at every interrupt between 1 and 4 times the
 * handler's own measured cost, so main() keeps making progress on every core and clock; QEMU
 * runs with -icount so an interrupt can land on any instruction. Its handler
 * allocates from the same pools as main(), writes an owner tag over the whole buffer, checks
 * it, releases the buffer and then tries to release it again. From the Scratch pool it keeps
 * one buffer across interrupts (released, tag checked, by a later interrupt), so that a
 * non-atomic step in main() shows as a buffer with two owners instead of staying invisible.
 * main() allocates, tags and releases in a loop while holding up to MAIN_HOLD buffers across
 * interrupts, tries to release again every Primary and Conversion buffer it released (the
 * handler never keeps those across interrupts, so that is always a double release), and tries
 * foreign pointers.
 *
 * A hand-off lane runs beside: main() allocates Primary buffers, tags them and enqueues them
 * to queue 0, then tries to enqueue each again (refused: it waits in the queue, or the handler
 * has already taken and released it); the handler dequeues from queue 0, checks the tag, and
 * either releases the buffer or re-tags it and enqueues it to queue 1, which main() drains,
 * checks and releases. Custody changes hands between the two contexts at any instruction.
 *
 * Passes (exit 0) when, after STRESS_INTERRUPTS interrupts:
 * - no buffer was ever handed to two owners (every allocation found no live tag, every tag
 *   was intact at release);
 * - every double release, second enqueue and foreign pointer in either context was refused
 *   with its status;
 * - every buffer that went through the lane arrived with its tag intact, in order per queue;
 * - the manager's statistics equal the counts kept here, per pool and in total;
 * - interrupts landed inside the library's code at many distinct instructions.
 * On Cortex-M0 the library's read-modify-writes run in short PRIMASK critical sections
 * (feature single-core); on Cortex-M4F they are LDREX/STREX loops. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "aes5_buffer_manager.h"
#include "board.h"

#ifndef STRESS_INTERRUPTS
#define STRESS_INTERRUPTS 100000u
#endif
#define MAIN_HOLD 5u
#define POOLS 3u
#define MAIN_TAG 0xA5A50000u
#define ISR_TAG 0x5A5A0000u
#define TAG_MASK 0xFFFF0000u
#define FREE_WORD 0x0F0F0F0Fu
#define LANE_TAG 0xC3C30000u
#define LANE_FORWARDED 0x00FF0000u /* the handler's mark on a buffer it moved to queue 1 */
/* First SysTick reload in ticks; later ones adapt to the handler's own cost. */
#define RELOAD_FIRST 4096u

static aes5_buffer_manager_storage_t storage;
static aes5_buffer_manager_t *manager;
static aes5_audio_format_t format;

/* What each context observed; the handler's counters are only written by the handler. */
typedef struct {
    uint32_t allocations[POOLS];
    uint32_t releases[POOLS];
    uint32_t exhausted[POOLS];
    uint32_t double_releases_refused;
    uint32_t foreign_refused;
    uint32_t enqueued;         /* to queue 0 (main) or queue 1 (handler) */
    uint32_t dequeued;         /* from queue 1 (main) or queue 0 (handler) */
    uint32_t enqueues_refused; /* second enqueues of one buffer */
    uint32_t calls;
    uint32_t failures; /* anything that must never happen */
} tally_t;

static tally_t main_tally;
static volatile tally_t isr_tally;
static volatile uint32_t interrupts;
static volatile uint32_t in_library;
static uint32_t isr_cost_ticks = 1; /* smoothed SysTick ticks one handler run takes */
static uint32_t isr_random = 0x12345678u;
/* One bit per halfword of library code: where interrupts landed. */
static uint8_t landed[16384 / 16];
static uint32_t foreign_word[64];

static uint32_t next_random(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static const aes5_buffer_type_t pool_types[POOLS] = {AES5_BUFFER_TYPE_PRIMARY, AES5_BUFFER_TYPE_CONVERSION,
                                                     AES5_BUFFER_TYPE_SCRATCH};

static uint32_t words_of(const aes5_audio_buffer_t *b) { return (uint32_t)(b->data_size_bytes / 4u); }

static void fill(aes5_audio_buffer_t *b, uint32_t word) {
    volatile uint32_t *w = (volatile uint32_t *)(void *)b->data_pointer;
    for (uint32_t i = 0; i < words_of(b); i++) w[i] = word + (i & 0xFFu);
}

static int intact(const aes5_audio_buffer_t *b, uint32_t word) {
    const volatile uint32_t *w = (const volatile uint32_t *)(const void *)b->data_pointer;
    for (uint32_t i = 0; i < words_of(b); i++)
        if (w[i] != word + (i & 0xFFu)) return 0;
    return 1;
}

/* A freshly allocated buffer must not carry anyone's live tag. */
static int unowned(const aes5_audio_buffer_t *b) {
    uint32_t first = *(const volatile uint32_t *)(const void *)b->data_pointer;
    uint32_t tag = first & TAG_MASK;
    return tag != MAIN_TAG && tag != ISR_TAG && tag != LANE_TAG && tag != (LANE_TAG ^ LANE_FORWARDED);
}

/* The handler's side of the lane: take the oldest buffer of queue 0, check it, and release it
 * or pass it on to queue 1 (`forward`). */
static void isr_lane(int forward) {
    aes5_audio_buffer_t *b = 0;
    aes5_status_t s = aes5_buffer_manager_dequeue(manager, 0, &b);
    if (s == AES5_ERR_QUEUE_EMPTY) return;
    if (s != AES5_OK) {
        isr_tally.failures++;
        return;
    }
    isr_tally.dequeued++;
    uint32_t tag = (uint32_t)b->timestamp_ns;
    if ((tag & TAG_MASK) != LANE_TAG || !intact(b, tag)) isr_tally.failures++;
    if (forward) {
        tag ^= LANE_FORWARDED;
        fill(b, tag);
        b->timestamp_ns = tag;
        if (aes5_buffer_manager_enqueue(manager, 1, b) == AES5_OK)
            isr_tally.enqueued++;
        else
            isr_tally.failures++;
        return;
    }
    fill(b, FREE_WORD);
    isr_tally.calls++;
    if (aes5_buffer_manager_release(manager, b) == AES5_OK)
        isr_tally.releases[0]++;
    else
        isr_tally.failures++;
}

#define SCRATCH 2u
/* The Scratch buffer the handler keeps between interrupts, and its tag. */
static aes5_audio_buffer_t *isr_kept;
static uint32_t isr_kept_tag;

/* Releases `b` (tag checked) and tries again: inside the handler nothing can run between the
 * two calls, so the second is always a double release. */
static void isr_release_twice(aes5_audio_buffer_t *b, uint32_t pool, uint32_t tag) {
    if (!intact(b, tag)) isr_tally.failures++;
    fill(b, FREE_WORD);
    isr_tally.calls++;
    if (aes5_buffer_manager_release(manager, b) != AES5_OK) {
        isr_tally.failures++;
        return;
    }
    isr_tally.releases[pool]++;
    isr_tally.calls++;
    if (aes5_buffer_manager_release(manager, b) == AES5_ERR_DOUBLE_RELEASE)
        isr_tally.double_releases_refused++;
    else
        isr_tally.failures++;
}

/* One cycle of the handler: allocate, tag, check, release, double release; or, for Scratch,
 * take a buffer to keep or give back the one kept. */
static void isr_cycle(void) {
    uint32_t r = next_random(&isr_random);
    uint32_t pool = r % POOLS;
    aes5_audio_buffer_t *b = 0;
    if (pool == SCRATCH && isr_kept != 0) {
        isr_release_twice(isr_kept, SCRATCH, isr_kept_tag);
        isr_kept = 0;
        return;
    }
    isr_tally.calls++;
    aes5_status_t s = aes5_buffer_manager_allocate(manager, pool_types[pool], &format, &b);
    if (s == AES5_ERR_POOL_EXHAUSTED) {
        isr_tally.exhausted[pool]++;
        return;
    }
    if (s != AES5_OK || !unowned(b)) {
        isr_tally.failures++;
        return;
    }
    isr_tally.allocations[pool]++;
    uint32_t tag = ISR_TAG | (interrupts & 0xFF00u);
    fill(b, tag);
    if (pool == SCRATCH) {
        isr_kept = b;
        isr_kept_tag = tag;
        return;
    }
    isr_release_twice(b, pool, tag);
}

/* Called by SysTick_Handler with the stacked exception frame. */
void aes5_isr_body(const aes5_exception_frame_t *frame);
void aes5_isr_body(const aes5_exception_frame_t *frame) {
    uint32_t pc = frame->pc & ~1u;
    uint32_t start = (uint32_t)(uintptr_t)__aes5_text_start;
    uint32_t end = (uint32_t)(uintptr_t)__aes5_text_end;
    if (pc >= start && pc < end) {
        uint32_t halfword = (pc - start) / 2u;
        in_library++;
        if (halfword / 8u < sizeof landed) landed[halfword / 8u] |= (uint8_t)(1u << (halfword % 8u));
    }
    interrupts++;
    isr_lane(next_random(&isr_random) % 2u);
    isr_cycle();
    if (next_random(&isr_random) % 4u == 0) isr_cycle();
    /* SysTick reloaded from RVR when it fired and has counted down since. */
    uint32_t reload = AES5_SYST_RVR;
    uint32_t left = AES5_SYST_CVR;
    uint32_t spent = left <= reload ? reload - left : 0;
    isr_cost_ticks = (isr_cost_ticks * 7u + spent) / 8u + 1u;
    /* The next interrupt comes 1 to 4 handler costs after this one was taken. */
    AES5_SYST_RVR = isr_cost_ticks + next_random(&isr_random) % (3u * isr_cost_ticks + 1u);
}

/* SysTick entry: hands the stacked frame (MSP at entry) to the C body. */
__attribute__((naked)) void SysTick_Handler(void) {
    __asm__ volatile(
        "mrs r0, msp\n"
        "push {r4, lr}\n"
        "bl aes5_isr_body\n"
        "pop {r4, pc}\n");
}

static void check(int ok, const char *what) {
    if (!ok) {
        printf("isr_stress: FAILED: %s\n", what);
        main_tally.failures++;
    }
}

/* main()'s side of the lane: a tagged Primary buffer into queue 0, and a second enqueue of it
 * that must be refused (it waits there, or the handler took it and released it: no context
 * keeps a lane buffer across interrupts except in a queue). Returns 0 when the pool was
 * empty. */
static int main_lane_send(uint32_t tag) {
    aes5_audio_buffer_t *b = 0;
    main_tally.calls++;
    aes5_status_t s = aes5_buffer_manager_allocate(manager, AES5_BUFFER_TYPE_PRIMARY, &format, &b);
    if (s == AES5_ERR_POOL_EXHAUSTED) {
        main_tally.exhausted[0]++;
        return 0;
    }
    check(s == AES5_OK && unowned(b), "lane allocate");
    if (s != AES5_OK) return 0;
    main_tally.allocations[0]++;
    fill(b, tag);
    b->timestamp_ns = tag;
    check(aes5_buffer_manager_enqueue(manager, 0, b) == AES5_OK, "lane enqueue");
    main_tally.enqueued++;
    s = aes5_buffer_manager_enqueue(manager, 0, b);
    check(s == AES5_ERR_BUFFER_QUEUED || s == AES5_ERR_DOUBLE_RELEASE, "a second enqueue was not refused");
    main_tally.enqueues_refused++;
    return 1;
}

/* main()'s end of the lane: everything the handler passed on to queue 1, checked and
 * released. */
static void main_lane_receive(void) {
    aes5_audio_buffer_t *b = 0;
    while (aes5_buffer_manager_dequeue(manager, 1, &b) == AES5_OK) {
        main_tally.dequeued++;
        uint32_t tag = (uint32_t)b->timestamp_ns;
        check((tag & TAG_MASK) == (LANE_TAG ^ LANE_FORWARDED) && intact(b, tag), "lane tag broken in queue 1");
        fill(b, FREE_WORD);
        main_tally.calls++;
        check(aes5_buffer_manager_release(manager, b) == AES5_OK, "lane release");
        main_tally.releases[0]++;
    }
}

int main(void) {
    aes5_runtime_config_t config;
    memset(&format, 0, sizeof format);
    format.sample_rate_hz = 48000;
    format.channel_count = 2;
    format.sample_size_bits = 16;
    format.frame_size_samples = 16; /* 64 bytes: 16 words tagged per buffer */
    check(aes5_runtime_config_default(&config) == AES5_OK, "config");
    config.enable_performance_monitoring = 0;
    config.enable_memory_validation = 1;
    check(AES5_BUFFER_MANAGER_INIT(&storage, &config, &manager) == AES5_OK, "init");

    aes5_audio_buffer_t *held[MAIN_HOLD] = {0};
    uint32_t held_pool[MAIN_HOLD] = {0};
    uint32_t held_tag[MAIN_HOLD] = {0};
    uint32_t main_random = 0x9E3779B9u;

    AES5_SYST_RVR = RELOAD_FIRST;
    AES5_SYST_CVR = 0;
    AES5_SYST_CSR = AES5_SYST_CSR_ENABLE | AES5_SYST_CSR_TICKINT | AES5_SYST_CSR_CLKSOURCE;

    uint32_t iterations = 0;
    while (interrupts < STRESS_INTERRUPTS && main_tally.failures == 0 && isr_tally.failures == 0) {
        iterations++;
        uint32_t r = next_random(&main_random);
        uint32_t slot = r % MAIN_HOLD;
        if ((r >> 24) % 4u == 0) {
            main_lane_send(LANE_TAG | (iterations & 0xFFFFu));
            main_lane_receive();
        } else if (held[slot] == 0) {
            uint32_t pool = (r >> 8) % POOLS;
            aes5_audio_buffer_t *b = 0;
            main_tally.calls++;
            aes5_status_t s = aes5_buffer_manager_allocate(manager, pool_types[pool], &format, &b);
            if (s == AES5_ERR_POOL_EXHAUSTED) {
                main_tally.exhausted[pool]++;
                continue;
            }
            check(s == AES5_OK, "main allocate");
            if (s != AES5_OK) break;
            check(unowned(b), "main got a buffer that carries a live owner tag");
            main_tally.allocations[pool]++;
            held[slot] = b;
            held_pool[slot] = pool;
            held_tag[slot] = MAIN_TAG | (iterations & 0xFF00u);
            fill(b, held_tag[slot]);
        } else {
            aes5_audio_buffer_t *b = held[slot];
            check(intact(b, held_tag[slot]), "main's tag was overwritten while it held the buffer");
            fill(b, FREE_WORD);
            main_tally.calls++;
            check(aes5_buffer_manager_release(manager, b) == AES5_OK, "main release");
            main_tally.releases[held_pool[slot]]++;
            held[slot] = 0;
            /* The handler keeps no Primary or Conversion buffer across interrupts, so such a
             * `b` is free whenever main() runs: releasing it again is a double release. */
            if (held_pool[slot] != SCRATCH) {
                main_tally.calls++;
                if (aes5_buffer_manager_release(manager, b) == AES5_ERR_DOUBLE_RELEASE)
                    main_tally.double_releases_refused++;
                else
                    check(0, "main double release not refused");
            }
            if ((r >> 16) % 8u == 0) {
                main_tally.calls++;
                aes5_audio_buffer_t *foreign = (aes5_audio_buffer_t *)(void *)&foreign_word[(r >> 20) % 32u];
                if (aes5_buffer_manager_release(manager, foreign) == AES5_ERR_FOREIGN_BUFFER)
                    main_tally.foreign_refused++;
                else
                    check(0, "foreign pointer not refused");
            }
        }
    }
    AES5_SYST_CSR = 0;
    /* What is left in the lane: the handler's part run here (the handler is off), then
     * main()'s. */
    {
        aes5_queue_statistics_t q0;
        do {
            isr_lane(1);
            check(aes5_buffer_manager_get_queue_statistics(manager, 0, &q0) == AES5_OK, "queue 0 statistics");
        } while (q0.length > 0);
        main_lane_receive();
    }
    if (isr_kept != 0) {
        isr_release_twice(isr_kept, SCRATCH, isr_kept_tag);
        isr_kept = 0;
    }
    for (uint32_t slot = 0; slot < MAIN_HOLD; slot++) {
        if (held[slot] == 0) continue;
        check(intact(held[slot], held_tag[slot]), "main's tag intact at the end");
        main_tally.calls++;
        check(aes5_buffer_manager_release(manager, held[slot]) == AES5_OK, "final release");
        main_tally.releases[held_pool[slot]]++;
    }

    /* Reconcile the manager's statistics with both contexts' counts. */
    static aes5_manager_statistics_t st;
    check(aes5_buffer_manager_get_statistics(manager, &st) == AES5_OK, "statistics");
    uint32_t allocations = 0, releases = 0, exhausted = 0;
    for (uint32_t p = 0; p < POOLS; p++) {
        const aes5_pool_statistics_t *ps = &st.buffer_type_stats[pool_types[p]];
        uint32_t a = main_tally.allocations[p] + isr_tally.allocations[p];
        uint32_t rel = main_tally.releases[p] + isr_tally.releases[p];
        uint32_t ex = main_tally.exhausted[p] + isr_tally.exhausted[p];
        check(ps->total_allocations == a, "pool allocations reconcile");
        check(ps->total_releases == rel, "pool releases reconcile");
        check(ps->allocation_failures == ex, "pool exhaustion counts reconcile");
        check(ps->allocated_buffers == 0 && a == rel, "no buffer lost");
        check(ps->peak_allocated <= ps->total_buffers, "peak within capacity");
        allocations += a;
        releases += rel;
        exhausted += ex;
    }
    uint32_t doubles = main_tally.double_releases_refused + isr_tally.double_releases_refused;
    uint32_t foreign = main_tally.foreign_refused;
    uint32_t calls = main_tally.calls + isr_tally.calls;
    static aes5_realtime_metrics_t metrics;
    aes5_queue_statistics_t lane[2];
    check(aes5_buffer_manager_get_metrics(manager, &metrics) == AES5_OK, "metrics");
    check(aes5_buffer_manager_get_queue_statistics(manager, 0, &lane[0]) == AES5_OK, "queue 0");
    check(aes5_buffer_manager_get_queue_statistics(manager, 1, &lane[1]) == AES5_OK, "queue 1");
    check(lane[0].total_enqueued == main_tally.enqueued && lane[0].total_dequeued == isr_tally.dequeued,
          "queue 0 reconciles");
    check(lane[1].total_enqueued == isr_tally.enqueued && lane[1].total_dequeued == main_tally.dequeued,
          "queue 1 reconciles");
    check(lane[0].length == 0 && lane[1].length == 0, "the lane is empty");
    check(main_tally.enqueued == isr_tally.dequeued && isr_tally.enqueued == main_tally.dequeued,
          "every lane buffer arrived");
    check(metrics.hand_off_failures == main_tally.enqueues_refused, "refused enqueues reconcile");
    check(st.total_operations == calls, "total operations reconcile");
    check(st.failed_operations == exhausted + doubles + foreign, "failed operations reconcile");
    check(st.validation_failures == doubles + foreign + main_tally.enqueues_refused,
          "validation failures reconcile");
    check(st.allocation_failures == exhausted, "allocation failures reconcile");

    uint32_t distinct = 0;
    for (uint32_t i = 0; i < sizeof landed; i++)
        for (uint32_t bit = 0; bit < 8; bit++) distinct += (landed[i] >> bit) & 1u;
    printf("isr_stress: %lu interrupts, %lu inside the library at %lu distinct instructions; main loop %lu; "
           "handler cost %lu ticks\n",
           (unsigned long)interrupts, (unsigned long)in_library, (unsigned long)distinct, (unsigned long)iterations,
           (unsigned long)isr_cost_ticks);
    printf("isr_stress: allocations %lu, releases %lu, exhausted %lu, double releases refused %lu "
           "(main %lu, handler %lu), foreign refused %lu\n",
           (unsigned long)allocations, (unsigned long)releases, (unsigned long)exhausted, (unsigned long)doubles,
           (unsigned long)main_tally.double_releases_refused, (unsigned long)isr_tally.double_releases_refused,
           (unsigned long)foreign);
    printf("isr_stress: hand-off lane: %lu buffers through queue 0, %lu on to queue 1 (peak lengths %lu, %lu), "
           "%lu second enqueues refused\n",
           (unsigned long)main_tally.enqueued, (unsigned long)isr_tally.enqueued, (unsigned long)lane[0].peak_length,
           (unsigned long)lane[1].peak_length, (unsigned long)main_tally.enqueues_refused);
    check(main_tally.enqueued >= STRESS_INTERRUPTS / 100u && isr_tally.enqueued > 0, "the lane was used");
    check(isr_tally.failures == 0, "handler: a buffer was handed out twice, a tag broke or a release misbehaved");
    check(interrupts >= STRESS_INTERRUPTS, "enough interrupts");
    check(distinct >= 100u, "interrupts landed at 100 or more distinct library instructions");
    check(iterations >= STRESS_INTERRUPTS / 10u, "main() made progress between interrupts");
    check(aes5_buffer_manager_shutdown(manager) == AES5_OK, "shutdown");
    return main_tally.failures == 0 ? 0 : 1;
}
