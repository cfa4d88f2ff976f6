/*
 * test_cpp_raii.cpp: the C++ header (aes5_buffer_manager.hpp) as DSP code uses it, built with
 * -fno-exceptions -fno-rtti as C++11 (and C++17 on the host). A manager over caller storage,
 * move-only buffers that release themselves, typed sample views, named format constructors,
 * statuses instead of exceptions. Every count is checked against the C API's statistics.
 */
#include "aes5_buffer_manager.hpp"

#include "test_support.h"

namespace {

aes5_buffer_manager_storage_t storage;

/* Allocations minus releases of the Primary pool, and refused calls of the manager. */
void counts(const aes5::Manager &m, unsigned long long &held, unsigned long long &refused) {
    aes5_manager_statistics_t s;
    CHECK_STATUS(m.statistics(s), AES5_OK);
    const aes5_pool_statistics_t &p = s.buffer_type_stats[AES5_BUFFER_TYPE_PRIMARY];
    held = p.total_allocations - p.total_releases;
    refused = s.failed_operations;
}

void test_formats() {
    aes5::Format f = aes5::Format::pcm16(48000, 2, 64);
    CHECK_EQ(f.bytes(), 2u * 64u * 2u);
    CHECK_EQ(f.problem(), AES5_FORMAT_OK);
    CHECK_EQ(aes5::Format::pcm24_in_32(96000, 2, 64).bytes(), 2u * 64u * 4u);
    CHECK_EQ(aes5::Format::pcm24_packed(96000, 2, 64).bytes(), 2u * 64u * 3u);
    CHECK_EQ(aes5::Format::float32(44100, 1, 32).raw().sample_encoding, AES5_ENCODING_FLOAT);
    CHECK_EQ(aes5::Format::pcm32(48000, 1, 32).pulled_down().raw().rate_pull, AES5_RATE_PULL_DOWN);
    CHECK_EQ(aes5::Format::pcm16(47999, 2, 64).problem(), AES5_FORMAT_RATE_NOT_AES5);
    CHECK_EQ(aes5::Format::pcm16(47999, 2, 64).bytes(), 0u);
    CHECK(aes5::format_problem_text(AES5_FORMAT_NO_CHANNELS) != nullptr);
}

void test_buffers_release_themselves() {
    aes5::Manager m;
    CHECK(!m);
    CHECK_STATUS(m.init(storage), AES5_OK);
    CHECK(static_cast<bool>(m));
    CHECK_STATUS(m.init(storage), AES5_ERR_ALREADY_INITIALIZED);
    unsigned long long held = 0, refused = 0;
    {
        aes5::Result<aes5::Buffer> r = m.allocate(AES5_BUFFER_TYPE_PRIMARY, aes5::Format::pcm16(48000, 2, 64));
        CHECK(r.ok());
        aes5::Buffer b = r.take();
        CHECK(static_cast<bool>(b));
        CHECK_STATUS(m.validate(b), AES5_OK);
        CHECK_EQ(b.size_bytes(), 256u);
        CHECK(b.capacity_bytes() >= b.size_bytes());
        aes5::SampleView<int16_t> pcm = b.samples<int16_t>();
        CHECK_EQ(pcm.size(), 128u);
        CHECK_EQ(pcm.frames(), 64u);
        CHECK_EQ(pcm.channels(), 2u);
        for (size_t i = 0; i < pcm.frames(); i++) {
            pcm.at(i, 0) = static_cast<int16_t>(i);
            pcm.at(i, 1) = static_cast<int16_t>(-static_cast<int>(i));
        }
        long sum = 0;
        for (int16_t *s = pcm.begin(); s != pcm.end(); ++s) sum += *s;
        CHECK_EQ(sum, 0);
        CHECK_EQ(pcm[2 * 5 + 1], -5);
        /* Another sample type is a failed check: test_cpp_checks.cpp. */
        counts(m, held, refused);
        CHECK_EQ(held, 1u);
    } /* b released here */
    counts(m, held, refused);
    CHECK_EQ(held, 0u);
    CHECK_EQ(refused, 0u);

    /* A moved-from buffer releases nothing: one release for two objects. */
    {
        aes5::Buffer first = m.allocate(AES5_BUFFER_TYPE_PRIMARY, aes5::Format::float32(48000, 2, 32)).take();
        CHECK_EQ(first.samples<float>().size(), 64u);
        aes5::Buffer second(aes5::detail::move(first));
        CHECK(!first);
        CHECK(static_cast<bool>(second));
        aes5::Buffer third;
        third = aes5::detail::move(second);
        CHECK(!second);
        counts(m, held, refused);
        CHECK_EQ(held, 1u);
        CHECK_STATUS(first.release(), AES5_OK); /* empty: nothing to do */
    }
    counts(m, held, refused);
    CHECK_EQ(held, 0u);
    CHECK_EQ(refused, 0u); /* no double release reached the library */

    /* Move-assigning over a held buffer releases the one it held. */
    {
        aes5::Buffer a = m.allocate(AES5_BUFFER_TYPE_PRIMARY, aes5::Format::pcm32(48000, 2, 32)).take();
        aes5::Buffer b = m.allocate(AES5_BUFFER_TYPE_PRIMARY, aes5::Format::pcm24_in_32(48000, 2, 32)).take();
        CHECK_EQ(a.samples<int32_t>().size(), 64u);
        CHECK_EQ(b.samples<int32_t>().size(), 64u);
        counts(m, held, refused);
        CHECK_EQ(held, 2u);
        a = aes5::detail::move(b);
        counts(m, held, refused);
        CHECK_EQ(held, 1u);
        CHECK_STATUS(a.release(), AES5_OK);
        CHECK(!a);
    }
    counts(m, held, refused);
    CHECK_EQ(held, 0u);
    CHECK_EQ(refused, 0u);
    CHECK_STATUS(m.shutdown(), AES5_OK);
    CHECK(!m);
}

void test_statuses_instead_of_exceptions() {
    aes5_runtime_config_t config;
    CHECK_STATUS(aes5_runtime_config_default(&config), AES5_OK);
    config.max_channels = 2;
    aes5::Manager m;
    CHECK_STATUS(m.init(storage, &config), AES5_OK);
    aes5::Result<aes5::Buffer> bad = m.allocate(AES5_BUFFER_TYPE_PRIMARY, aes5::Format::pcm16(48000, 3, 64));
    CHECK(!bad);
    CHECK_STATUS(bad.status(), AES5_ERR_UNSUPPORTED_FORMAT);
    CHECK(!bad.value());
    CHECK(aes5::status_text(bad.status()) != nullptr);
    aes5::Result<aes5_format_problem_t> why = m.check_format(AES5_BUFFER_TYPE_PRIMARY, aes5::Format::pcm16(48000, 3, 64));
    CHECK(why.ok());
    CHECK_EQ(why.value(), AES5_FORMAT_CHANNELS_ABOVE_LIMIT);
    CHECK_STATUS(m.check_format(AES5_BUFFER_TYPE_INPUT, aes5::Format::pcm16(48000, 2, 64)).status(),
                 AES5_ERR_NO_POOL_FOR_TYPE);
    CHECK_STATUS(m.allocate(AES5_BUFFER_TYPE_OUTPUT, aes5::Format::pcm16(48000, 2, 64)).status(),
                 AES5_ERR_NO_POOL_FOR_TYPE);

    /* Exhaust the Scratch pool: every buffer is held, the next is refused, all come back. */
    {
        aes5::Buffer held[AES5_SCRATCH_BUFFER_COUNT];
        for (unsigned i = 0; i < AES5_SCRATCH_BUFFER_COUNT; i++) {
            held[i] = m.allocate(AES5_BUFFER_TYPE_SCRATCH, aes5::Format::pcm16(48000, 2, 64)).take();
            CHECK(static_cast<bool>(held[i]));
        }
        CHECK_STATUS(m.allocate(AES5_BUFFER_TYPE_SCRATCH, aes5::Format::pcm16(48000, 2, 64)).status(),
                     AES5_ERR_POOL_EXHAUSTED);
    }
    aes5_pool_statistics_t scratch;
    CHECK_STATUS(m.pool_statistics(AES5_BUFFER_TYPE_SCRATCH, scratch), AES5_OK);
    CHECK_EQ(scratch.allocated_buffers, 0u);
    CHECK_EQ(scratch.total_releases, AES5_SCRATCH_BUFFER_COUNT);
    aes5::Result<aes5_manager_state_t> state = m.state();
    CHECK(state.ok());
    CHECK(state.value() == AES5_STATE_ACTIVE || state.value() == AES5_STATE_WARNING);
    CHECK(aes5::state_name(state.value()) != nullptr);
    CHECK(aes5::buffer_type_name(AES5_BUFFER_TYPE_SCRATCH) != nullptr);
    aes5_realtime_metrics_t metrics;
    aes5_performance_report_t report;
    CHECK_STATUS(m.metrics(metrics), AES5_OK);
    CHECK_STATUS(m.report(0, report), AES5_OK);
    CHECK_EQ(metrics.allocation_failures, 1u);

    /* Moving a manager moves its ownership: the destination shuts it down. */
    aes5::Manager other(aes5::detail::move(m));
    CHECK(!m);
    CHECK(static_cast<bool>(other));
    CHECK_STATUS(m.shutdown(), AES5_OK); /* nothing to do */
    CHECK_STATUS(other.shutdown(), AES5_OK);
    aes5_buffer_manager_t *dangling = other.handle();
    CHECK(dangling == nullptr);
}

/* A buffer moves through a queue: enqueue empties the handle, dequeue gives a new one. */
void test_hand_offs() {
    aes5::Manager m;
    CHECK_STATUS(m.init(storage), AES5_OK);
    unsigned long long held = 0, refused = 0;
    {
        aes5::Buffer b = m.allocate(AES5_BUFFER_TYPE_PRIMARY, aes5::Format::pcm16(48000, 2, 64)).take();
        b.samples<int16_t>()[0] = 1234;
        aes5_audio_buffer_t *header = b.header();
        CHECK_STATUS(m.enqueue(1, aes5::detail::move(b)), AES5_OK);
        CHECK(!b); /* the queue owns it now: b releases nothing */
        aes5_queue_statistics_t q;
        CHECK_STATUS(m.queue_statistics(1, q), AES5_OK);
        CHECK_EQ(q.length, 1u);
        aes5_held_buffer_t entry;
        uint32_t count = 0;
        CHECK_STATUS(m.held_buffers(&entry, 1, count), AES5_OK);
        CHECK_EQ(count, 1u);
        CHECK_EQ(entry.queue, 1u);
        CHECK_STATUS(m.dequeue(0).status(), AES5_ERR_QUEUE_EMPTY);
        CHECK_STATUS(m.dequeue(AES5_QUEUE_COUNT).status(), AES5_ERR_INVALID_ARGUMENT);
        aes5_last_refusal_t why;
        CHECK_STATUS(m.last_refusal(why), AES5_OK);
        CHECK_EQ(why.reason, (aes5_refusal_reason_t)AES5_REFUSAL_BAD_QUEUE);
        CHECK_EQ(why.subject, (uint32_t)AES5_QUEUE_COUNT);
        CHECK(strstr(why.text, "does not exist") != NULL);
        aes5::Result<aes5::Buffer> r = m.dequeue(1);
        CHECK(r.ok());
        aes5::Buffer back = r.take();
        CHECK(back.header() == header);
        CHECK_EQ(back.samples<int16_t>()[0], 1234);
        /* Refused: the handle keeps the buffer. */
        CHECK_STATUS(m.enqueue(AES5_QUEUE_COUNT, aes5::detail::move(back)), AES5_ERR_INVALID_ARGUMENT);
        CHECK(static_cast<bool>(back));
        CHECK_STATUS(m.validate(back), AES5_OK);
        counts(m, held, refused);
        CHECK_EQ(held, 1u);
    } /* back released here */
    counts(m, held, refused);
    CHECK_EQ(held, 0u);
    CHECK_EQ(refused, 0u);
    CHECK_STATUS(m.shutdown(), AES5_OK);
}

} // namespace

int main() {
    test_formats();
    test_buffers_release_themselves();
    test_statuses_instead_of_exceptions();
    test_hand_offs();
    return aes5_test_finish("test_cpp_raii");
}
