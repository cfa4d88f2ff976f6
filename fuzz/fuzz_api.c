/*
 * fuzz_api.c: a coverage-guided fuzz target (libFuzzer) for the whole C ABI.
 *
 * The input bytes are decoded into a configuration and a sequence of up to 256 API calls:
 * allocate (any type, any format bytes, NULL out-parameters), release and validate of held
 * buffers and of hostile pointers (anywhere in or around the storage, inside headers, into
 * the data, unreadable addresses, the stack, NULL), enqueue and dequeue through the hand-off
 * queues (with the queue order kept here too), header damage, writes into the guard zones and
 * the data around held buffers, writes into freed headers (use after release), the integrity
 * sweep, state transitions,
 * shutdown and re-init, bogus manager handles, statistics/metrics/report reads and the
 * format helpers. The target keeps its own account of what it holds and aborts (a crash for
 * libFuzzer) on any broken promise of docs/DESIGN.md: a status outside the documented set, an
 * out-parameter written on failure, a release of something not held that succeeds, a
 * buffer handed out twice, a count that does not reconcile, damage that goes undetected.
 *
 * The library is linked with sanitizer-coverage instrumentation, debug assertions and
 * overflow checks, so its own branches guide the fuzzer and an arithmetic overflow or failed
 * assertion in it aborts. Build and run with scripts/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aes5_buffer_manager.h"

#define MAX_HELD 64
#define MAX_OPS 256
#define TOTAL_BUFFERS (AES5_PRIMARY_BUFFER_COUNT + AES5_CONVERSION_BUFFER_COUNT + AES5_SCRATCH_BUFFER_COUNT)
/* Guard zones: zone k lies before buffer k's data, zone TOTAL_BUFFERS after the last buffer. */
#define ZONES (TOTAL_BUFFERS + 1)

static aes5_buffer_manager_storage_t storage;
static aes5_buffer_manager_storage_t other_storage;

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t pos;
} reader_t;

static uint8_t u8(reader_t *r) {
    return r->pos < r->size ? r->data[r->pos++] : 0;
}
static uint16_t u16(reader_t *r) {
    uint16_t lo = u8(r);
    return (uint16_t)(lo | (uint16_t)(u8(r) << 8));
}
static uint32_t u32(reader_t *r) {
    uint32_t lo = u16(r);
    return lo | ((uint32_t)u16(r) << 16);
}
static uint64_t u64(reader_t *r) {
    uint64_t lo = u32(r);
    return lo | ((uint64_t)u32(r) << 32);
}

#define REQUIRE(cond, ...)                                                   \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_api: broken promise: %s: ", #cond);        \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
            abort();                                                         \
        }                                                                    \
    } while (0)

typedef struct {
    aes5_audio_buffer_t *buffer;
    aes5_audio_buffer_t original; /* the header as allocate returned it */
    unsigned pool;
    int queue; /* the queue it waits in, or -1 while the target holds it */
    uint32_t after_word, before_word; /* the guard words next to its data, at allocation */
} held_t;

/* A guard zone the target wrote into: where it is and what init left there. */
typedef struct {
    uint8_t *start;
    uint8_t original[AES5_GUARD_BYTES];
    int touched;
} zone_t;

typedef struct {
    aes5_buffer_manager_t *mgr;
    held_t held[MAX_HELD];
    unsigned held_count;
    unsigned held_per_pool[3];
    int validation;
    /* Each queue's buffers, oldest first, as the target expects them. */
    aes5_audio_buffer_t *fifo[AES5_QUEUE_COUNT][MAX_HELD];
    unsigned fifo_length[AES5_QUEUE_COUNT];
    unsigned long long enqueued[AES5_QUEUE_COUNT];
    zone_t zones[ZONES];
    /* Free headers the target wrote into after releasing them (by buffer id). */
    aes5_audio_buffer_t *dirty_free[TOTAL_BUFFERS];
    /* Buffers taken out of service (never to be handed out again). */
    const aes5_audio_buffer_t *quarantined[TOTAL_BUFFERS];
    unsigned quarantined_count;
    /* Headers released and not allocated since (candidates for a write after release). */
    aes5_audio_buffer_t *freed[TOTAL_BUFFERS];
} fuzz_state_t;

static const uint32_t rates[] = {32000, 44100, 48000, 88200, 96000, 176400, 192000, 352800, 384000};

static aes5_audio_format_t read_format(reader_t *r) {
    aes5_audio_format_t f;
    memset(&f, 0, sizeof f);
    uint8_t mode = u8(r);
    if (mode & 1) {
        /* Mostly valid: a real rate, small sizes. */
        f.sample_rate_hz = rates[u8(r) % 9];
        f.channel_count = (uint16_t)(1 + u8(r) % 8);
        uint8_t bits = u8(r);
        f.sample_size_bits = (uint16_t)(bits % 3 == 0 ? 16 : bits % 3 == 1 ? 24 : 32);
        f.frame_size_samples = (uint16_t)(1 + u16(r) % 1024);
        f.sample_packing = (uint8_t)(mode >> 1 & 1);
        f.sample_encoding = (uint8_t)(mode >> 2 & 1);
        f.rate_pull = (uint8_t)(mode >> 3 & 3);
    } else {
        f.sample_rate_hz = u32(r);
        f.channel_count = u16(r);
        f.sample_size_bits = u16(r);
        f.frame_size_samples = u16(r);
        f.sample_packing = u8(r);
        f.sample_encoding = u8(r);
        f.rate_pull = u8(r);
    }
    return f;
}

static int in_storage(const void *p, size_t bytes) {
    uintptr_t a = (uintptr_t)p, base = (uintptr_t)&storage;
    return a >= base && a + bytes <= base + sizeof storage;
}

static int find_held(const fuzz_state_t *s, const void *p) {
    for (unsigned i = 0; i < s->held_count; i++) {
        if ((const void *)s->held[i].buffer == p) return (int)i;
    }
    return -1;
}

static uint32_t word_at(const uint8_t *p) {
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* The word init wrote at guard position `p`: from the copy kept when the target first wrote
 * into its zone, else what is there now. */
static uint32_t original_word(const fuzz_state_t *s, const uint8_t *p) {
    for (unsigned z = 0; z < ZONES; z++) {
        const zone_t *zone = &s->zones[z];
        if (zone->touched && p >= zone->start && p + 4 <= zone->start + AES5_GUARD_BYTES)
            return word_at(zone->original + (p - zone->start));
    }
    return word_at(p);
}

/* 1 when a guard word next to the data of held buffer `h` changed since its allocation. */
static int guard_damaged(const held_t *h) {
    const uint8_t *data = h->buffer->data_pointer;
    size_t capacity = h->original.buffer_capacity_bytes;
    if (AES5_GUARD_BYTES == 0) return 0;
    /* The data pointer as allocate returned it: a damaged header must not move the check. */
    data = h->original.data_pointer;
    return word_at(data + capacity) != h->after_word || word_at(data - 4) != h->before_word;
}

static int is_quarantined(const fuzz_state_t *s, const void *p) {
    for (unsigned i = 0; i < s->quarantined_count; i++)
        if ((const void *)s->quarantined[i] == p) return 1;
    return 0;
}

static void note_quarantined(fuzz_state_t *s, const aes5_audio_buffer_t *p) {
    if (!is_quarantined(s, p) && s->quarantined_count < TOTAL_BUFFERS) s->quarantined[s->quarantined_count++] = p;
}

static void forget_held(fuzz_state_t *s, unsigned i) {
    s->held_per_pool[s->held[i].pool]--;
    s->held[i] = s->held[--s->held_count];
}

/* Checks the statistics against what the target holds. */
static void check_statistics(fuzz_state_t *s) {
    aes5_manager_statistics_t st;
    aes5_realtime_metrics_t m;
    REQUIRE(aes5_buffer_manager_get_statistics(s->mgr, &st) == AES5_OK, "statistics");
    REQUIRE(aes5_buffer_manager_get_metrics(s->mgr, &m) == AES5_OK, "metrics");
    unsigned long long held_total = 0;
    for (unsigned p = 0; p < 3; p++) {
        const aes5_pool_statistics_t *ps = &st.buffer_type_stats[p];
        REQUIRE(ps->allocated_buffers == s->held_per_pool[p], "pool %u: library %u, held %u", p,
                ps->allocated_buffers, s->held_per_pool[p]);
        REQUIRE(ps->allocated_buffers + ps->quarantined_buffers <= ps->total_buffers, "pool %u over capacity", p);
        REQUIRE(ps->peak_allocated >= ps->allocated_buffers, "pool %u peak", p);
        REQUIRE(ps->total_allocations - ps->total_releases - ps->quarantined_buffers == ps->allocated_buffers,
                "pool %u: allocations - releases - quarantined != allocated", p);
        REQUIRE(ps->average_utilization >= 0.0f && ps->average_utilization <= 1.0f, "utilization");
        held_total += ps->allocated_buffers;
    }
    for (unsigned t = 3; t < 6; t++) {
        REQUIRE(st.buffer_type_stats[t].total_allocations == 0 && st.buffer_type_stats[t].total_buffers == 0,
                "type %u has no pool", t);
    }
    REQUIRE(st.failed_operations <= st.total_operations, "failed > total");
    REQUIRE(m.current_allocated_buffers == held_total, "metrics allocated");
    REQUIRE(m.peak_allocated_buffers >= m.current_allocated_buffers, "metrics peak");
    REQUIRE(st.current_state <= AES5_STATE_SHUTDOWN, "state %u", st.current_state);
}

/* Byte ranges of the header that callers may write (and padding / allocation time, which
 * are not checked): changing only these never makes a buffer corrupted. */
static int caller_writable(size_t offset) {
    static const size_t owned_offsets[][2] = {
        {offsetof(aes5_audio_buffer_t, buffer_id), sizeof(uint32_t)},
        {offsetof(aes5_audio_buffer_t, sequence_number), sizeof(uint32_t)},
        {offsetof(aes5_audio_buffer_t, sample_rate_hz), sizeof(uint32_t)},
        {offsetof(aes5_audio_buffer_t, channel_count), sizeof(uint16_t)},
        {offsetof(aes5_audio_buffer_t, sample_size_bits), sizeof(uint16_t)},
        {offsetof(aes5_audio_buffer_t, frame_size_samples), sizeof(uint16_t)},
        {offsetof(aes5_audio_buffer_t, sample_packing), 1},
        {offsetof(aes5_audio_buffer_t, sample_encoding), 1},
        {offsetof(aes5_audio_buffer_t, rate_pull), 1},
        {offsetof(aes5_audio_buffer_t, buffer_type), 1},
        {offsetof(aes5_audio_buffer_t, buffer_capacity_bytes), sizeof(size_t)},
        {offsetof(aes5_audio_buffer_t, data_pointer), sizeof(uint8_t *)},
        {offsetof(aes5_audio_buffer_t, checksum), sizeof(uint32_t)},
        {offsetof(aes5_audio_buffer_t, magic_number), sizeof(uint32_t)},
    };
    for (size_t i = 0; i < sizeof owned_offsets / sizeof owned_offsets[0]; i++) {
        if (offset >= owned_offsets[i][0] && offset < owned_offsets[i][0] + owned_offsets[i][1]) return 0;
    }
    return 1;
}

/* Library-owned header bytes that differ from the header allocate returned. */
static unsigned owned_bytes_changed(const held_t *h) {
    const uint8_t *now = (const uint8_t *)h->buffer, *then = (const uint8_t *)&h->original;
    unsigned changed = 0;
    for (size_t i = 0; i < sizeof(aes5_audio_buffer_t); i++) {
        if (now[i] != then[i] && !caller_writable(i)) changed++;
    }
    return changed;
}

static int field_changed(const held_t *h, size_t offset, size_t size) {
    return memcmp((const uint8_t *)h->buffer + offset, (const uint8_t *)&h->original + offset, size) != 0;
}

/* 1: damage the library must detect; 0: intact; -1: a checksummed field changed together with
 * the checksum (a forged checksum can match: detection is then not promised).
 * For damage to two or more checksummed fields, "must detect" is a promise about the 32-bit
 * checksum: a stray write escapes it with a chance of about 1 in 2^32, so a failure here is a
 * checksum whose differences can be cancelled by a pattern the fuzzer finds, not bad luck. */
static int damage_of(const held_t *h) {
    const aes5_audio_buffer_t *b = h->buffer;
    if (b->data_size_bytes > b->buffer_capacity_bytes) return 1;
    if (field_changed(h, offsetof(aes5_audio_buffer_t, buffer_id), sizeof b->buffer_id) ||
        field_changed(h, offsetof(aes5_audio_buffer_t, buffer_type), sizeof b->buffer_type) ||
        field_changed(h, offsetof(aes5_audio_buffer_t, buffer_capacity_bytes), sizeof b->buffer_capacity_bytes) ||
        field_changed(h, offsetof(aes5_audio_buffer_t, data_pointer), sizeof b->data_pointer) ||
        field_changed(h, offsetof(aes5_audio_buffer_t, magic_number), sizeof b->magic_number))
        return 1;
    if (owned_bytes_changed(h) == 0) return 0;
    return field_changed(h, offsetof(aes5_audio_buffer_t, checksum), sizeof b->checksum) ? -1 : 1;
}

/* A hostile buffer pointer. */
static aes5_audio_buffer_t *hostile_pointer(reader_t *r, fuzz_state_t *s, aes5_audio_buffer_t *on_stack) {
    uint8_t kind = u8(r);
    switch (kind % 7) {
    case 0:
        return (aes5_audio_buffer_t *)(void *)((uint8_t *)&storage + u16(r) % sizeof storage);
    case 1:
        return (aes5_audio_buffer_t *)(uintptr_t)u64(r);
    case 2:
        return on_stack;
    case 3:
        return NULL;
    case 4:
        if (s->held_count > 0) {
            aes5_audio_buffer_t *h = s->held[u8(r) % s->held_count].buffer;
            return (aes5_audio_buffer_t *)(void *)((uint8_t *)h + (int8_t)u8(r));
        }
        return on_stack;
    case 5:
        if (s->held_count > 0) return (aes5_audio_buffer_t *)(void *)s->held[u8(r) % s->held_count].buffer->data_pointer;
        return on_stack;
    default:
        return (aes5_audio_buffer_t *)(void *)((uint8_t *)&other_storage + u16(r) % sizeof other_storage);
    }
}

static int is_release_status(aes5_status_t st) {
    return st == AES5_OK || st == AES5_ERR_NULL_POINTER || st == AES5_ERR_INVALID_STATE ||
           st == AES5_ERR_FOREIGN_BUFFER || st == AES5_ERR_DOUBLE_RELEASE || st == AES5_ERR_CORRUPTED ||
           st == AES5_ERR_BUFFER_QUEUED;
}

static void sweep_checked(fuzz_state_t *s, const aes5_audio_buffer_t *maybe);

static void release_checked(fuzz_state_t *s, aes5_audio_buffer_t *p, aes5_manager_state_t state) {
    int i = find_held(s, p);
    int damage = i >= 0 ? damage_of(&s->held[i]) : 0;
    unsigned changed = i >= 0 ? owned_bytes_changed(&s->held[i]) : 0;
    aes5_status_t st = aes5_buffer_manager_release(s->mgr, p);
    REQUIRE(is_release_status(st), "release status %u", st);
    if (i >= 0 && s->held[i].queue >= 0) {
        REQUIRE(st == AES5_ERR_BUFFER_QUEUED, "release of a queued buffer -> %u", st);
        return;
    }
    if (i < 0) {
        REQUIRE(st != AES5_OK, "release of a pointer not held succeeded");
        if (p == NULL) REQUIRE(st == AES5_ERR_NULL_POINTER, "NULL release -> %u", st);
        else if (state == AES5_STATE_SHUTDOWN) REQUIRE(st == AES5_ERR_INVALID_STATE, "release after shutdown -> %u", st);
        else if (!in_storage(p, 1)) REQUIRE(st == AES5_ERR_FOREIGN_BUFFER, "outside pointer -> %u", st);
        return;
    }
    if (state == AES5_STATE_SHUTDOWN) {
        REQUIRE(0, "a buffer is held in Shutdown");
    }
    int guard = guard_damaged(&s->held[i]);
    if (!s->validation) {
        REQUIRE(st == AES5_OK, "release without validation -> %u", st);
    } else if (damage == 1 || guard) {
        REQUIRE(st == AES5_ERR_CORRUPTED, "damaged header (%u owned bytes changed) or guard (%d) released with %u",
                changed, guard, st);
    } else if (damage == -1) {
        REQUIRE(st == AES5_OK || st == AES5_ERR_CORRUPTED, "re-checksummed header released with %u", st);
    } else {
        REQUIRE(st == AES5_OK, "release of an intact held buffer -> %u", st);
    }
    if (st == AES5_OK) {
        unsigned k = s->held[i].original.buffer_id % TOTAL_BUFFERS;
        /* Released with its header damaged (validation off, or a forged checksum): release
         * cleared the caller's fields; what damage is left, the sweep must find. */
        int left = damage_of(&s->held[i]);
        s->freed[k] = p;
        forget_held(s, (unsigned)i);
        if (left == 1) s->dirty_free[k] = p;
        if (left == -1) {
            aes5_manager_state_t now = AES5_STATE_SHUTDOWN;
            REQUIRE(aes5_buffer_manager_get_state(s->mgr, &now) == AES5_OK, "state");
            if (now != AES5_STATE_SHUTDOWN) sweep_checked(s, p); /* the release may have ended a shutdown */
        }
        return;
    }
    note_quarantined(s, p);
    forget_held(s, (unsigned)i);
}

/* Enqueues `p` to `queue` and checks the outcome against what the target holds. */
static void enqueue_checked(fuzz_state_t *s, aes5_audio_buffer_t *p, uint32_t queue, aes5_manager_state_t state) {
    int i = find_held(s, p);
    int damage = i >= 0 ? damage_of(&s->held[i]) : 0;
    aes5_status_t st = aes5_buffer_manager_enqueue(s->mgr, queue, p);
    REQUIRE(is_release_status(st) || st == AES5_ERR_INVALID_ARGUMENT, "enqueue status %u", st);
    if (p == NULL) {
        REQUIRE(st == AES5_ERR_NULL_POINTER, "NULL enqueue -> %u", st);
        return;
    }
    if (state == AES5_STATE_SHUTDOWN) {
        REQUIRE(st == AES5_ERR_INVALID_STATE, "enqueue after shutdown -> %u", st);
        return;
    }
    if (queue >= AES5_QUEUE_COUNT) {
        REQUIRE(st == AES5_ERR_INVALID_ARGUMENT, "enqueue to queue %u -> %u", queue, st);
        return;
    }
    if (i < 0) {
        REQUIRE(st != AES5_OK, "enqueue of a pointer not held succeeded");
        if (!in_storage(p, 1)) REQUIRE(st == AES5_ERR_FOREIGN_BUFFER, "outside pointer -> %u", st);
        return;
    }
    if (s->held[i].queue >= 0) {
        REQUIRE(st == AES5_ERR_BUFFER_QUEUED, "second enqueue -> %u", st);
        return;
    }
    int guard = guard_damaged(&s->held[i]);
    if (!s->validation || (damage == 0 && !guard)) {
        REQUIRE(st == AES5_OK, "enqueue of a held buffer -> %u", st);
    } else if (damage == 1 || guard) {
        REQUIRE(st == AES5_ERR_CORRUPTED, "damaged header or guard (%d) enqueued with %u", guard, st);
    } else {
        REQUIRE(st == AES5_OK || st == AES5_ERR_CORRUPTED, "re-checksummed header enqueued with %u", st);
    }
    if (st == AES5_OK) {
        s->held[i].queue = (int)queue;
        s->fifo[queue][s->fifo_length[queue]++] = p;
        s->enqueued[queue]++;
    } else {
        note_quarantined(s, p);
        forget_held(s, (unsigned)i); /* quarantined */
    }
}

/* Writes `n` bytes at `offset` from the data start of held buffer `h`, keeping the guard
 * zones' originals: the writes stay inside the buffer's data or its own two zones and never
 * reach a neighbour's edge word (the four bytes of a zone next to the neighbour's data). */
static void write_around(fuzz_state_t *s, reader_t *r, held_t *h) {
    uint8_t *data = h->original.data_pointer;
    long capacity = (long)h->original.buffer_capacity_bytes;
    long reach = AES5_GUARD_BYTES >= 4 ? AES5_GUARD_BYTES - 4 : 0;
    uint8_t where = u8(r);
    long offset;
    unsigned n = 1 + u8(r) % 4;
    if (where % 3 == 0) offset = capacity + (reach ? (long)(u8(r) % reach) : 0); /* after the end */
    else if (where % 3 == 1) offset = reach ? -1 - (long)(u8(r) % reach) : 0;   /* before the start */
    else offset = (long)(u16(r) % (unsigned)capacity);                           /* the data */
    for (unsigned k = 0; k < n; k++, offset++) {
        int zone = -1;
        if (offset >= capacity && offset < capacity + reach) zone = (int)h->original.buffer_id + 1;
        else if (offset < 0 && offset >= -reach) zone = (int)h->original.buffer_id;
        else if (offset < 0 || offset >= capacity) continue;
        if (zone >= 0 && !s->zones[zone].touched) {
            s->zones[zone].start = zone == (int)h->original.buffer_id + 1 ? data + capacity : data - AES5_GUARD_BYTES;
            memcpy(s->zones[zone].original, s->zones[zone].start, AES5_GUARD_BYTES);
            s->zones[zone].touched = 1;
        }
        data[offset] = u8(r);
    }
}

/* The integrity sweep against what the target did: the zones it changed, the held buffers whose
 * edge words it changed (reported), the free buffers it blamed (quarantined), the free headers
 * it wrote after release (quarantined). `maybe` (or NULL) is a freed buffer whose header a
 * forged checksum may or may not have left intact: the sweep's count says which. */
static void sweep_checked(fuzz_state_t *s, const aes5_audio_buffer_t *maybe) {
    aes5_integrity_report_t rep;
    unsigned zones = 0, blamed = 0, dirty = 0, blamed_free = 0, found_maybe;
    int blame[TOTAL_BUFFERS];
    memset(blame, 0, sizeof blame);
    /* A changed first word of zone z blames buffer z - 1 (overrun), a changed last word
     * buffer z (underrun), whatever either buffer's state. */
    for (unsigned z = 0; z < ZONES; z++) {
        const zone_t *zone = &s->zones[z];
        if (!zone->touched || memcmp(zone->start, zone->original, AES5_GUARD_BYTES) == 0) continue;
        zones++;
        if (z > 0 && memcmp(zone->start, zone->original, 4) != 0) blame[z - 1] = 1;
        if (z < TOTAL_BUFFERS && memcmp(zone->start + AES5_GUARD_BYTES - 4, zone->original + AES5_GUARD_BYTES - 4, 4) != 0)
            blame[z] = 1;
    }
    for (unsigned k = 0; k < TOTAL_BUFFERS; k++) {
        /* A free buffer blamed for a guard is counted as that, whatever its header. */
        dirty += s->dirty_free[k] != NULL && !blame[k];
        blamed += (unsigned)(blame[k] || s->dirty_free[k] != NULL);
        /* A blamed buffer released without validation is free: the sweep takes it out. */
        if (blame[k] && s->freed[k] != NULL && find_held(s, s->freed[k]) < 0 && !is_quarantined(s, s->freed[k]))
            blamed_free++;
    }
    REQUIRE(aes5_buffer_manager_check_integrity(s->mgr, &rep) == AES5_OK, "sweep");
    REQUIRE(rep.buffers_checked == TOTAL_BUFFERS, "sweep checked %u", rep.buffers_checked);
    REQUIRE(rep.damaged_guards == zones, "sweep: %u damaged zones, the target changed %u", rep.damaged_guards, zones);
    found_maybe = maybe != NULL && rep.damaged_free_headers == dirty + 1;
    REQUIRE(rep.damaged_free_headers == dirty + found_maybe, "sweep: %u free headers damaged; the target wrote %u after release",
            rep.damaged_free_headers, dirty);
    REQUIRE(rep.quarantined == dirty + found_maybe + blamed_free, "sweep: %u quarantined, expected %u + %u + %u",
            rep.quarantined, dirty, found_maybe, blamed_free);
    REQUIRE(rep.damaged_count == blamed + found_maybe, "sweep blamed %u buffers, expected %u", rep.damaged_count,
            blamed + found_maybe);
    if (found_maybe) note_quarantined(s, maybe);
    for (unsigned k = 0; k < TOTAL_BUFFERS; k++) {
        if (s->dirty_free[k] != NULL) note_quarantined(s, s->dirty_free[k]);
        if (blame[k] && s->freed[k] != NULL && find_held(s, s->freed[k]) < 0) note_quarantined(s, s->freed[k]);
        s->dirty_free[k] = NULL;
        s->freed[k] = NULL;
    }
}

/* Dequeues from `queue`: the oldest buffer the target put there, or the documented refusal. */
static void dequeue_checked(fuzz_state_t *s, uint32_t queue, aes5_manager_state_t state) {
    aes5_audio_buffer_t *out = (aes5_audio_buffer_t *)(uintptr_t)0x5eed;
    aes5_status_t st = aes5_buffer_manager_dequeue(s->mgr, queue, &out);
    if (state == AES5_STATE_SHUTDOWN) {
        REQUIRE(st == AES5_ERR_INVALID_STATE, "dequeue after shutdown -> %u", st);
    } else if (queue >= AES5_QUEUE_COUNT) {
        REQUIRE(st == AES5_ERR_INVALID_ARGUMENT, "dequeue from queue %u -> %u", queue, st);
    } else if (s->fifo_length[queue] == 0) {
        REQUIRE(st == AES5_ERR_QUEUE_EMPTY, "dequeue from an empty queue -> %u", st);
    } else {
        REQUIRE(st == AES5_OK && out == s->fifo[queue][0], "dequeue -> %u, not the oldest buffer", st);
        memmove(&s->fifo[queue][0], &s->fifo[queue][1], (s->fifo_length[queue] - 1) * sizeof s->fifo[queue][0]);
        s->fifo_length[queue]--;
        s->held[find_held(s, out)].queue = -1;
        return;
    }
    REQUIRE(out == (aes5_audio_buffer_t *)(uintptr_t)0x5eed, "dequeue wrote out on failure");
}

/* Queue statistics and the held-buffer finder agree with the target's account. */
static void check_queues(fuzz_state_t *s) {
    aes5_held_buffer_t entries[MAX_HELD];
    uint32_t count = 0;
    for (uint32_t q = 0; q < AES5_QUEUE_COUNT; q++) {
        aes5_queue_statistics_t qs;
        REQUIRE(aes5_buffer_manager_get_queue_statistics(s->mgr, q, &qs) == AES5_OK, "queue statistics");
        REQUIRE(qs.length == s->fifo_length[q] && qs.total_enqueued == s->enqueued[q] &&
                    qs.total_enqueued - qs.total_dequeued == qs.length && qs.peak_length >= qs.length,
                "queue %u: length %u, expected %u", q, qs.length, s->fifo_length[q]);
    }
    REQUIRE(aes5_buffer_manager_get_held_buffers(s->mgr, entries, MAX_HELD, &count) == AES5_OK, "finder");
    REQUIRE(count == s->held_count, "finder found %u, the target holds %u", count, s->held_count);
    for (uint32_t e = 0; e < count && e < MAX_HELD; e++) {
        int found = -1;
        for (unsigned i = 0; i < s->held_count; i++) {
            if (s->held[i].original.buffer_id == entries[e].buffer_id) found = (int)i;
        }
        REQUIRE(found >= 0, "finder lists buffer %u, which the target does not hold", entries[e].buffer_id);
        REQUIRE(entries[e].queue == (s->held[found].queue < 0 ? AES5_NO_QUEUE : (uint32_t)s->held[found].queue),
                "finder: buffer %u in queue %u", entries[e].buffer_id, entries[e].queue);
    }
}

/* A clock that advances by a step the input chooses, so a run does not depend on the time it
 * took (a fixed seed then grows the same corpus) and the timeout and latency paths are
 * reachable. */
static uint64_t clock_now_ns, clock_step_ns;

static uint64_t fuzz_clock(void *context) {
    (void)context;
    clock_now_ns += clock_step_ns;
    return clock_now_ns;
}

static int start(fuzz_state_t *s, reader_t *r) {
    aes5_runtime_config_t cfg;
    aes5_runtime_config_default(&cfg);
    uint8_t flags = u8(r);
    clock_now_ns = 0;
    clock_step_ns = 1 + (uint64_t)(flags >> 4) * 5000u;
    cfg.now_ns = fuzz_clock;
    cfg.enable_performance_monitoring = flags & 1;
    cfg.enable_memory_validation = (flags >> 1) & 1 ? 0 : 1;
    if (flags & 4) {
        cfg.max_channels = u8(r) % 10;
        cfg.max_frame_size_samples = u16(r) % 1100;
        cfg.max_sample_rate_hz = rates[u8(r) % 9] + (flags & 8 ? 1 : 0);
        cfg.min_success_rate = (float)u8(r) / 255.0f;
        cfg.allocation_timeout_ns = u32(r);
    }
    aes5_buffer_manager_t *out = (aes5_buffer_manager_t *)(uintptr_t)0x5eed;
    aes5_status_t st = AES5_BUFFER_MANAGER_INIT(&storage, &cfg, &out);
    REQUIRE(st == AES5_OK || st == AES5_ERR_INVALID_ARGUMENT, "init -> %u", st);
    if (st != AES5_OK) {
        REQUIRE(out == (aes5_buffer_manager_t *)(uintptr_t)0x5eed, "init wrote its out-parameter on failure");
        return 0;
    }
    s->mgr = out;
    s->held_count = 0;
    memset(s->held_per_pool, 0, sizeof s->held_per_pool);
    memset(s->fifo_length, 0, sizeof s->fifo_length);
    memset(s->enqueued, 0, sizeof s->enqueued);
    memset(s->zones, 0, sizeof s->zones);
    memset(s->dirty_free, 0, sizeof s->dirty_free);
    memset(s->freed, 0, sizeof s->freed);
    s->quarantined_count = 0;
    s->validation = cfg.enable_memory_validation;
    return 1;
}

/* The last refusal is always readable and well formed, and its count never goes back (a
 * re-init starts it again from 0: `seen` is then 0). Returns the count now. */
static uint32_t check_last_refusal(fuzz_state_t *s, uint32_t seen) {
    aes5_last_refusal_t why;
    memset(&why, 0xA5, sizeof why);
    REQUIRE(aes5_buffer_manager_get_last_refusal(s->mgr, &why) == AES5_OK, "get_last_refusal");
    REQUIRE(memchr(why.text, 0, sizeof why.text) != NULL, "refusal text not terminated");
    REQUIRE(why.number >= seen, "refusal count went back: %u after %u", why.number, seen);
    REQUIRE(why.reason <= AES5_REFUSAL_BEING_RECORDED, "reason %u", why.reason);
    REQUIRE((why.number == 0) == (why.reason == AES5_REFUSAL_NONE), "count %u, reason %u", why.number, why.reason);
    REQUIRE((why.number == 0) == (why.status == AES5_OK), "count %u, status %u", why.number, why.status);
    REQUIRE(why.operation != NULL && strlen(why.text) > 0, "operation and text");
    return why.number;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    reader_t r = {data, size, 0};
    fuzz_state_t s;
    memset(&s, 0, sizeof s);
    memset(&storage, 0, sizeof storage);
    memset(&other_storage, 0, sizeof other_storage);
    if (!start(&s, &r)) return 0;

    uint32_t refusals_seen = 0;
    for (unsigned op = 0; op < MAX_OPS && r.pos < r.size; op++) {
        aes5_audio_buffer_t on_stack;
        memset(&on_stack, 0, sizeof on_stack);
        aes5_manager_state_t state = 0;
        REQUIRE(aes5_buffer_manager_get_state(s.mgr, &state) == AES5_OK, "get_state");
        switch (u8(&r) % 18) {
        case 0:
        case 1: { /* allocate */
            uint8_t t = u8(&r);
            aes5_buffer_type_t type = t < 240 ? t % 3 : t < 250 ? t % 6 : u32(&r);
            aes5_audio_format_t f = read_format(&r);
            uint8_t nulls = u8(&r);
            aes5_audio_buffer_t *out = (aes5_audio_buffer_t *)(uintptr_t)0x5eed;
            aes5_status_t st = aes5_buffer_manager_allocate(s.mgr, type, nulls == 1 ? NULL : &f, nulls == 2 ? NULL : &out);
            uint32_t bytes = 0;
            aes5_status_t fs = aes5_audio_format_bytes(&f, &bytes);
            if (st != AES5_OK) {
                REQUIRE(out == (aes5_audio_buffer_t *)(uintptr_t)0x5eed, "allocate wrote out on failure");
                REQUIRE(st == AES5_ERR_NULL_POINTER || st == AES5_ERR_INVALID_ARGUMENT || st == AES5_ERR_INVALID_STATE ||
                            st == AES5_ERR_UNSUPPORTED_FORMAT || st == AES5_ERR_FORMAT_TOO_LARGE ||
                            st == AES5_ERR_POOL_EXHAUSTED || st == AES5_ERR_NO_POOL_FOR_TYPE,
                        "allocate -> %u", st);
                if (st == AES5_ERR_POOL_EXHAUSTED) REQUIRE(fs == AES5_OK && type < 3, "exhausted for a bad request");
                break;
            }
            REQUIRE(nulls != 1 && nulls != 2 && type < 3 && fs == AES5_OK, "allocate accepted a bad request");
            REQUIRE(state == AES5_STATE_READY || state == AES5_STATE_ACTIVE || state == AES5_STATE_WARNING,
                    "allocated in state %u", state);
            REQUIRE(in_storage(out, sizeof *out), "header outside the storage");
            REQUIRE(find_held(&s, out) < 0, "buffer handed out twice");
            REQUIRE(!is_quarantined(&s, out), "a quarantined buffer handed out again");
            REQUIRE(out->buffer_type == type && out->data_size_bytes == bytes && bytes <= out->buffer_capacity_bytes,
                    "header fields");
            REQUIRE(in_storage(out->data_pointer, out->buffer_capacity_bytes), "data outside the storage");
            REQUIRE((uintptr_t)out->data_pointer % AES5_DATA_ALIGNMENT == 0, "data misaligned");
            {
                /* Nothing repairs a guard: a buffer released with a changed edge word while
                 * validation was off comes back with it, and validate says so. */
                const uint8_t *end = out->data_pointer + out->buffer_capacity_bytes;
                int edge_changed = AES5_GUARD_BYTES > 0 && (word_at(end) != original_word(&s, end) ||
                                                             word_at(out->data_pointer - 4) != original_word(&s, out->data_pointer - 4));
                aes5_status_t v = aes5_buffer_manager_validate_buffer(s.mgr, out);
                REQUIRE(v == (edge_changed ? AES5_ERR_CORRUPTED : AES5_OK),
                        "fresh buffer validates with %u (type %u, bytes %u, state %u, guard changed %d)", v, type, bytes,
                        state, edge_changed);
            }
            memset(out->data_pointer, 0xA5, out->buffer_capacity_bytes);
            if (s.held_count == MAX_HELD) release_checked(&s, s.held[0].buffer, state);
            s.held[s.held_count].buffer = out;
            s.held[s.held_count].original = *out;
            s.held[s.held_count].pool = type;
            s.held[s.held_count].queue = -1;
            if (AES5_GUARD_BYTES > 0) {
                s.held[s.held_count].after_word = original_word(&s, out->data_pointer + out->buffer_capacity_bytes);
                s.held[s.held_count].before_word = original_word(&s, out->data_pointer - 4);
            }
            s.dirty_free[out->buffer_id % TOTAL_BUFFERS] = NULL;
            s.freed[out->buffer_id % TOTAL_BUFFERS] = NULL;
            s.held_count++;
            s.held_per_pool[type]++;
            break;
        }
        case 2:
        case 3: /* release a held buffer */
            if (s.held_count > 0) release_checked(&s, s.held[u8(&r) % s.held_count].buffer, state);
            break;
        case 4: /* release a hostile pointer */
            release_checked(&s, hostile_pointer(&r, &s, &on_stack), state);
            break;
        case 5: { /* validate */
            aes5_audio_buffer_t *p = hostile_pointer(&r, &s, &on_stack);
            int i = find_held(&s, p);
            aes5_status_t st = aes5_buffer_manager_validate_buffer(s.mgr, p);
            REQUIRE(st == AES5_OK || st == AES5_ERR_NULL_POINTER || st == AES5_ERR_FOREIGN_BUFFER ||
                        st == AES5_ERR_DOUBLE_RELEASE || st == AES5_ERR_CORRUPTED || st == AES5_ERR_BUFFER_QUEUED,
                    "validate -> %u", st);
            if (i < 0) REQUIRE(st != AES5_OK && st != AES5_ERR_BUFFER_QUEUED, "validate of a pointer not held says held");
            else if (s.held[i].queue >= 0) REQUIRE(st == AES5_ERR_BUFFER_QUEUED, "validate of a queued buffer -> %u", st);
            else if (guard_damaged(&s.held[i]))
                REQUIRE(st == AES5_ERR_CORRUPTED, "validate of a held buffer with a damaged guard -> %u", st);
            else if (damage_of(&s.held[i]) >= 0)
                REQUIRE((st == AES5_OK) == (damage_of(&s.held[i]) == 0), "validate of held -> %u", st);
            else
                REQUIRE(st == AES5_OK || st == AES5_ERR_CORRUPTED, "validate of re-checksummed -> %u", st);
            break;
        }
        case 6: /* damage a held header */
            if (s.held_count > 0) {
                held_t *h = &s.held[u8(&r) % s.held_count];
                size_t offset = u8(&r) % sizeof(aes5_audio_buffer_t);
                unsigned n = 1 + u8(&r) % 8;
                for (unsigned k = 0; k < n && offset + k < sizeof(aes5_audio_buffer_t); k++) {
                    uint8_t *b = (uint8_t *)h->buffer + offset + k;
                    uint8_t v = u8(&r);
                    *b = v;
                }
            }
            break;
        case 7: { /* transition or shutdown */
            uint8_t which = u8(&r);
            aes5_status_t st = which & 1 ? aes5_buffer_manager_shutdown(s.mgr)
                                         : aes5_buffer_manager_transition_state(s.mgr, which & 2 ? u32(&r) : which >> 2 & 7);
            REQUIRE(st == AES5_OK || st == AES5_ERR_INVALID_STATE || st == AES5_ERR_INVALID_ARGUMENT ||
                        st == AES5_ERR_BUFFERS_OUTSTANDING,
                    "transition/shutdown -> %u", st);
            aes5_manager_state_t now = 0;
            aes5_buffer_manager_get_state(s.mgr, &now);
            if (st == AES5_ERR_BUFFERS_OUTSTANDING) REQUIRE(s.held_count > 0 && now == AES5_STATE_SHUTTING_DOWN, "outstanding");
            if (now == AES5_STATE_SHUTDOWN) REQUIRE(s.held_count == 0, "shut down with %u buffers held", s.held_count);
            break;
        }
        case 8: /* re-init */
            if (state == AES5_STATE_SHUTDOWN) {
                /* Quarantined and damaged buffers left in s.held cannot exist here. */
                REQUIRE(s.held_count == 0, "Shutdown while the target holds %u buffers", s.held_count);
                if (!start(&s, &r)) return 0;
                refusals_seen = 0; /* a new manager: no refusal yet */
            } else {
                aes5_buffer_manager_t *out = NULL;
                REQUIRE(aes5_buffer_manager_init(&storage, NULL, &out) == AES5_ERR_ALREADY_INITIALIZED,
                        "init on a live manager");
            }
            break;
        case 9: { /* bogus handles */
            aes5_buffer_manager_t *bogus = (aes5_buffer_manager_t *)(void *)((uint8_t *)&storage + 8 * (1 + u8(&r) % 64));
            aes5_manager_statistics_t st;
            aes5_audio_buffer_t *out = NULL;
            aes5_audio_format_t f = read_format(&r);
            REQUIRE(aes5_buffer_manager_get_statistics(bogus, &st) == AES5_ERR_INVALID_STATE, "bogus statistics");
            REQUIRE(aes5_buffer_manager_allocate(bogus, 0, &f, &out) == AES5_ERR_INVALID_STATE, "bogus allocate");
            REQUIRE(aes5_buffer_manager_release(bogus, &on_stack) == AES5_ERR_INVALID_STATE, "bogus release");
            REQUIRE(aes5_buffer_manager_release(NULL, &on_stack) == AES5_ERR_NULL_POINTER, "NULL handle");
            REQUIRE(aes5_buffer_manager_shutdown(bogus) == AES5_ERR_INVALID_STATE, "bogus shutdown");
            break;
        }
        case 10: { /* format helpers */
            aes5_audio_format_t f = read_format(&r);
            uint32_t bytes = 0;
            uint64_t num = 0, den = 0, ns = 0;
            aes5_status_t a = aes5_audio_format_bytes(&f, &bytes);
            aes5_status_t b = aes5_audio_format_effective_rate(&f, &num, &den);
            aes5_status_t c = aes5_audio_format_frame_duration_ns(&f, &ns);
            REQUIRE(a == b && b == c && (a == AES5_OK || a == AES5_ERR_UNSUPPORTED_FORMAT), "format helpers disagree");
            if (a == AES5_OK) {
                REQUIRE(aes5_is_aes5_frequency(f.sample_rate_hz), "non-AES5 rate accepted");
                REQUIRE(bytes > 0 && bytes <= 8u * 1024u * 4u && den > 0 && ns > 0, "format arithmetic");
            }
            break;
        }
        case 12: { /* enqueue a held buffer, or a hostile pointer */
            uint8_t which = u8(&r);
            uint32_t queue = u8(&r) % (AES5_QUEUE_COUNT + 1);
            aes5_audio_buffer_t *p = which < 200 && s.held_count > 0 ? s.held[which % s.held_count].buffer
                                                                    : hostile_pointer(&r, &s, &on_stack);
            enqueue_checked(&s, p, queue, state);
            break;
        }
        case 13: /* dequeue */
            dequeue_checked(&s, u8(&r) % (AES5_QUEUE_COUNT + 1), state);
            break;
        case 14: /* queue statistics and the finder */
            check_queues(&s);
            break;
        case 15: /* writes into the data and guard zones around a held buffer */
            if (s.held_count > 0) write_around(&s, &r, &s.held[u8(&r) % s.held_count]);
            break;
        case 16: { /* a write into a freed header (use after release) */
            unsigned k = u8(&r) % TOTAL_BUFFERS;
            if (s.freed[k] != NULL && state != AES5_STATE_SHUTDOWN) {
                s.freed[k]->timestamp_ns = 1u + u8(&r);
                s.dirty_free[k] = s.freed[k];
            }
            break;
        }
        case 17: /* the integrity sweep */
            if (state != AES5_STATE_SHUTDOWN) sweep_checked(&s, NULL);
            break;
        default: { /* reads */
            aes5_pool_statistics_t ps;
            aes5_performance_report_t rep;
            uint32_t t = u8(&r) < 250 ? u8(&r) % 6 : u32(&r);
            aes5_status_t st = aes5_buffer_manager_get_pool_statistics(s.mgr, t, &ps);
            REQUIRE(st == (t < 6 ? AES5_OK : AES5_ERR_INVALID_ARGUMENT), "pool statistics(%u) -> %u", t, st);
            REQUIRE(aes5_buffer_manager_get_performance_report(s.mgr, u64(&r), &rep) == AES5_OK, "report");
            REQUIRE(aes5_status_string(u32(&r)) != NULL, "status string");
            check_statistics(&s);
            break;
        }
        }
        /* The text is composed on every read: every 8th op keeps the fuzzer fast. */
        if (op % 8 == 7) refusals_seen = check_last_refusal(&s, refusals_seen);
    }
    check_statistics(&s);
    check_queues(&s);
    check_last_refusal(&s, refusals_seen);
    /* Drain: every queued buffer comes out, then every intact held buffer goes back. */
    aes5_manager_state_t state = 0;
    aes5_buffer_manager_get_state(s.mgr, &state);
    for (uint32_t q = 0; q < AES5_QUEUE_COUNT; q++) {
        while (s.fifo_length[q] > 0) dequeue_checked(&s, q, state);
    }
    while (s.held_count > 0) release_checked(&s, s.held[s.held_count - 1].buffer, state);
    check_statistics(&s);
    return 0;
}
