/*
 * test_cpp_legacy_dsp.cpp: the library as legacy C++11 DSP code uses it.
 *
 * A small RAII wrapper (the constructor allocates, the destructor releases; non-copyable,
 * movable) and a block-processing loop: Primary buffers carry the input, a Scratch buffer
 * holds the mix, a Conversion buffer receives a gain stage with 2x linear-interpolation
 * upsampling (48 kHz 16-bit -> 96 kHz 24-in-32). Every output sample is checked, and at the
 * end every buffer has gone back to its pool.
 */
#include <stddef.h>
#include <stdint.h>

#include <type_traits>
#include <utility>

#include "test_support.h"

namespace {

unsigned g_releases = 0;
unsigned g_release_errors = 0;

class PooledBuffer {
public:
    PooledBuffer() noexcept : manager_(nullptr), buffer_(nullptr), status_(AES5_ERR_NULL_POINTER) {}
    PooledBuffer(aes5_buffer_manager_t *manager, aes5_buffer_type_t type, const aes5_audio_format_t &format) noexcept
        : manager_(manager), buffer_(nullptr), status_(aes5_buffer_manager_allocate(manager, type, &format, &buffer_)) {
        if (status_ != AES5_OK) buffer_ = nullptr;
    }
    ~PooledBuffer() { reset(); }

    PooledBuffer(const PooledBuffer &) = delete;
    PooledBuffer &operator=(const PooledBuffer &) = delete;

    PooledBuffer(PooledBuffer &&other) noexcept
        : manager_(other.manager_), buffer_(other.buffer_), status_(other.status_) {
        other.buffer_ = nullptr;
    }
    PooledBuffer &operator=(PooledBuffer &&other) noexcept {
        if (this != &other) {
            reset();
            manager_ = other.manager_;
            buffer_ = other.buffer_;
            status_ = other.status_;
            other.buffer_ = nullptr;
        }
        return *this;
    }

    void reset() noexcept {
        if (buffer_ != nullptr) {
            if (aes5_buffer_manager_release(manager_, buffer_) == AES5_OK) {
                ++g_releases;
            } else {
                ++g_release_errors;
            }
            buffer_ = nullptr;
        }
    }

    explicit operator bool() const noexcept { return buffer_ != nullptr; }
    aes5_status_t status() const noexcept { return status_; }
    aes5_audio_buffer_t *header() const noexcept { return buffer_; }
    template <typename T>
    T *samples() const noexcept {
        return reinterpret_cast<T *>(buffer_->data_pointer);
    }

private:
    aes5_buffer_manager_t *manager_;
    aes5_audio_buffer_t *buffer_;
    aes5_status_t status_;
};

static_assert(!std::is_copy_constructible<PooledBuffer>::value, "PooledBuffer must not be copyable");
static_assert(!std::is_copy_assignable<PooledBuffer>::value, "PooledBuffer must not be copy-assignable");
static_assert(std::is_nothrow_move_constructible<PooledBuffer>::value, "PooledBuffer must be movable");
static_assert(std::is_nothrow_move_assignable<PooledBuffer>::value, "PooledBuffer must be move-assignable");

constexpr unsigned min2(unsigned a, unsigned b) { return a < b ? a : b; }

constexpr unsigned kChannels = 2;
constexpr unsigned kInputs = min2(2u, AES5_PRIMARY_BUFFER_COUNT);
/* Frames per block, from the slot sizes: 16-bit input, 32-bit mix, 2x-upsampled 32-bit output. */
constexpr unsigned kFrames = min2(min2(64u, AES5_PRIMARY_BUFFER_BYTES / (kChannels * 2u)),
                                  min2(AES5_SCRATCH_BUFFER_BYTES / (kChannels * 4u),
                                       min2(AES5_CONVERSION_BUFFER_BYTES / (kChannels * 4u * 2u),
                                            AES5_MAX_FRAME_SIZE_SAMPLES / 2u)));
constexpr unsigned kBlocks = 48;
constexpr int32_t kGain = 100;
static_assert(kFrames >= 2, "the slots are too small for this test's blocks");

aes5_buffer_manager_storage_t g_storage;
aes5_manager_statistics_t g_stats;

aes5_audio_format_t make_format(uint32_t rate, uint16_t bits, uint16_t frames) {
    aes5_audio_format_t f = aes5_test_format(frames);
    f.sample_rate_hz = rate;
    f.channel_count = kChannels;
    f.sample_size_bits = bits;
    return f;
}

int16_t input_sample(unsigned block, unsigned input, unsigned frame, unsigned channel) {
    return static_cast<int16_t>(static_cast<int32_t>((block * 131u + frame * 7u + channel * 1000u + input * 3001u) %
                                                     20001u) - 10000);
}

int32_t mixed(unsigned block, unsigned frame, unsigned channel) {
    int32_t sum = 0;
    for (unsigned i = 0; i < kInputs; ++i) sum += input_sample(block, i, frame, channel);
    return sum;
}

/* The factory legacy code hides allocation behind; returns by value (a move). */
PooledBuffer acquire(aes5_buffer_manager_t *m, aes5_buffer_type_t type, const aes5_audio_format_t &format) {
    PooledBuffer b(m, type, format);
    return b;
}

void fill_input(const PooledBuffer &in, unsigned block, unsigned input) {
    int16_t *s = in.samples<int16_t>();
    for (unsigned f = 0; f < kFrames; ++f)
        for (unsigned c = 0; c < kChannels; ++c) s[f * kChannels + c] = input_sample(block, input, f, c);
    in.header()->timestamp_ns = static_cast<uint64_t>(block) * 1000000u; /* caller-owned fields */
    in.header()->buffer_flags = 0x0001;
}

void mix_inputs(const PooledBuffer *inputs, const PooledBuffer &mix) {
    int32_t *out = mix.samples<int32_t>();
    for (unsigned i = 0; i < kFrames * kChannels; ++i) out[i] = 0;
    for (unsigned n = 0; n < kInputs; ++n) {
        const int16_t *in = inputs[n].samples<int16_t>();
        for (unsigned i = 0; i < kFrames * kChannels; ++i) out[i] += in[i];
        inputs[n].header()->processing_count++;
    }
}

/* Gain, then 2x upsampling by linear interpolation, into 24-in-32 samples. */
void gain_and_upsample(const PooledBuffer &mix, const PooledBuffer &out) {
    const int32_t *m = mix.samples<int32_t>();
    int32_t *o = out.samples<int32_t>();
    for (unsigned f = 0; f < kFrames; ++f) {
        for (unsigned c = 0; c < kChannels; ++c) {
            int32_t a = m[f * kChannels + c] * kGain;
            int32_t b = (f + 1 < kFrames ? m[(f + 1) * kChannels + c] : m[f * kChannels + c]) * kGain;
            o[(2 * f) * kChannels + c] = a;
            o[(2 * f + 1) * kChannels + c] = (a + b) / 2;
        }
    }
    out.header()->processing_start_ns = 42;
    out.header()->processing_count = 1;
}

unsigned count_bad_output(const PooledBuffer &out, unsigned block) {
    const int32_t *o = out.samples<int32_t>();
    unsigned bad = 0;
    for (unsigned f = 0; f < kFrames; ++f) {
        for (unsigned c = 0; c < kChannels; ++c) {
            int32_t a = mixed(block, f, c) * kGain;
            int32_t b = mixed(block, f + 1 < kFrames ? f + 1 : f, c) * kGain;
            if (o[(2 * f) * kChannels + c] != a) ++bad;
            if (o[(2 * f + 1) * kChannels + c] != (a + b) / 2) ++bad;
            if (a > (1 << 23) - 1 || a < -(1 << 23)) ++bad; /* stays a 24-bit sample */
        }
    }
    return bad;
}

unsigned held_in(aes5_buffer_manager_t *m, aes5_buffer_type_t type) {
    aes5_pool_statistics_t p;
    CHECK_STATUS(aes5_buffer_manager_get_pool_statistics(m, type, &p), AES5_OK);
    return p.allocated_buffers;
}

}  // namespace

int main(void) {
    aes5_buffer_manager_t *m = nullptr;
    CHECK_STATUS(aes5_buffer_manager_init(&g_storage, nullptr, &m), AES5_OK);
    const aes5_audio_format_t in_format = make_format(48000, 16, kFrames);
    const aes5_audio_format_t mix_format = make_format(48000, 32, kFrames);
    const aes5_audio_format_t out_format = make_format(96000, 24, 2 * kFrames);
    unsigned bad_samples = 0, failed_blocks = 0, allocations = 0;

    for (unsigned block = 0; block < kBlocks; ++block) {
        PooledBuffer inputs[kInputs];
        for (unsigned i = 0; i < kInputs; ++i) {
            inputs[i] = acquire(m, AES5_BUFFER_TYPE_PRIMARY, in_format); /* move-assigned */
            allocations++;
        }
        PooledBuffer staging(m, AES5_BUFFER_TYPE_SCRATCH, mix_format);
        PooledBuffer mix(std::move(staging)); /* move-constructed: staging gives it up */
        PooledBuffer out(m, AES5_BUFFER_TYPE_CONVERSION, out_format);
        allocations += 2;
        bool ok = static_cast<bool>(mix) && static_cast<bool>(out) && !staging;
        for (unsigned i = 0; i < kInputs; ++i) ok = ok && static_cast<bool>(inputs[i]);
        if (!ok) {
            failed_blocks++;
            continue;
        }
        for (unsigned i = 0; i < kInputs; ++i) { /* caller fields start at 0 on every allocation */
            const aes5_audio_buffer_t *h = inputs[i].header();
            CHECK_EQ(h->timestamp_ns + h->buffer_flags + h->processing_count + h->processing_start_ns, 0);
        }
        CHECK_EQ(out.header()->data_size_bytes, 2u * kFrames * kChannels * 4u);
        CHECK_EQ(mix.header()->data_size_bytes, kFrames * kChannels * 4u);
        CHECK_EQ(held_in(m, AES5_BUFFER_TYPE_PRIMARY), kInputs);

        for (unsigned i = 0; i < kInputs; ++i) fill_input(inputs[i], block, i);
        mix_inputs(inputs, mix);
        gain_and_upsample(mix, out);
        bad_samples += count_bad_output(out, block);

        /* Writing the caller-owned header fields does not count as damage. */
        for (unsigned i = 0; i < kInputs; ++i)
            CHECK_STATUS(aes5_buffer_manager_validate_buffer(m, inputs[i].header()), AES5_OK);
        CHECK_STATUS(aes5_buffer_manager_validate_buffer(m, mix.header()), AES5_OK);
        CHECK_STATUS(aes5_buffer_manager_validate_buffer(m, out.header()), AES5_OK);
        out.reset(); /* early return of the output stage; the destructor then does nothing */
        CHECK_EQ(held_in(m, AES5_BUFFER_TYPE_CONVERSION), 0);
    } /* destructors release the inputs and the mix */

    CHECK_EQ(failed_blocks, 0);
    CHECK_EQ(bad_samples, 0);
    CHECK_EQ(g_release_errors, 0);
    CHECK_EQ(g_releases, allocations);
    CHECK_EQ(allocations, kBlocks * (kInputs + 2u));

    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &g_stats), AES5_OK);
    for (aes5_buffer_type_t t = 0; t < 3; ++t) {
        const aes5_pool_statistics_t &p = g_stats.buffer_type_stats[t];
        CHECK_EQ(p.allocated_buffers, 0);
        CHECK_EQ(p.total_releases, p.total_allocations);
        CHECK_EQ(p.quarantined_buffers, 0);
    }
    CHECK_EQ(g_stats.buffer_type_stats[AES5_BUFFER_TYPE_PRIMARY].total_allocations, kBlocks * kInputs);
    CHECK_EQ(g_stats.failed_operations, 0);

    /* Legacy code that over-asks: the surplus wrapper is empty and releases nothing. */
    {
        PooledBuffer all[AES5_PRIMARY_BUFFER_COUNT + 1];
        for (unsigned i = 0; i <= AES5_PRIMARY_BUFFER_COUNT; ++i)
            all[i] = acquire(m, AES5_BUFFER_TYPE_PRIMARY, in_format);
        for (unsigned i = 0; i < AES5_PRIMARY_BUFFER_COUNT; ++i) CHECK(static_cast<bool>(all[i]));
        CHECK(!all[AES5_PRIMARY_BUFFER_COUNT]);
        CHECK_STATUS(all[AES5_PRIMARY_BUFFER_COUNT].status(), AES5_ERR_POOL_EXHAUSTED);
        CHECK_EQ(held_in(m, AES5_BUFFER_TYPE_PRIMARY), AES5_PRIMARY_BUFFER_COUNT);
    }
    CHECK_EQ(held_in(m, AES5_BUFFER_TYPE_PRIMARY), 0);
    CHECK_EQ(g_release_errors, 0);
    CHECK_EQ(g_releases, allocations + AES5_PRIMARY_BUFFER_COUNT);

    CHECK_STATUS(aes5_buffer_manager_get_statistics(m, &g_stats), AES5_OK);
    CHECK_EQ(g_stats.failed_operations, 1);
    CHECK_EQ(g_stats.allocation_failures, 1);
    for (aes5_buffer_type_t t = 0; t < 3; ++t) {
        CHECK_EQ(g_stats.buffer_type_stats[t].allocated_buffers, 0);
        CHECK_EQ(g_stats.buffer_type_stats[t].total_releases, g_stats.buffer_type_stats[t].total_allocations);
    }
    CHECK_STATUS(aes5_buffer_manager_shutdown(m), AES5_OK);
    return aes5_test_finish("test_cpp_legacy_dsp");
}
