/*
 * test_cpp_checks.cpp: the C++ face's checks (aes5_buffer_manager.hpp). A sample type the
 * buffer's format does not hold, samples of an empty or moved-from Buffer, and
 * SampleView::at() out of range each reach the check handler, with the check's words, and
 * then take their safe fallback; correct use never reaches it. Built with -fno-exceptions
 * -fno-rtti, on the host and every emulated Cortex-M board. (The default handler, abort() on
 * a host, is tried by cpp_check_default.cpp.)
 */
#include "aes5_buffer_manager.hpp"

#include "test_support.h"

namespace {

aes5_buffer_manager_storage_t storage;

/* What the recording handler heard: the number of failed checks and the last one's words. */
int failed_checks = 0;
const char *last_check = "";

void record(const char *what, const char *file, int line) {
    (void)file;
    (void)line;
    failed_checks++;
    last_check = what;
}

/* True when exactly one check failed since the last call, with words containing `words`. */
bool one_check_failed(const char *words) {
    bool ok = failed_checks == 1 && strstr(last_check, words) != nullptr;
    if (!ok) printf("  heard %d failed checks, the last: \"%s\"; want one with \"%s\"\n", failed_checks, last_check, words);
    failed_checks = 0;
    last_check = "";
    return ok;
}

void test_checks() {
    aes5::Manager m;
    CHECK_STATUS(m.init(storage), AES5_OK);
    aes5::Buffer b = m.allocate(AES5_BUFFER_TYPE_PRIMARY, aes5::Format::pcm16(48000, 2, 64)).take();
    CHECK(static_cast<bool>(b));

    /* Correct use reaches no check. */
    aes5::SampleView<int16_t> pcm = b.samples<int16_t>();
    CHECK_EQ(pcm.size(), 128u);
    pcm.at(63, 1) = 7;
    CHECK_EQ(pcm[127], 7);
    CHECK_EQ(failed_checks, 0);

    /* The wrong sample type: the check, then an empty view. */
    CHECK(b.samples<float>().empty());
    CHECK(one_check_failed("does not hold samples of type T"));
    CHECK(b.samples<int32_t>().empty());
    CHECK(one_check_failed("does not hold samples of type T"));

    /* at() out of range, in frames and in channels: the check, then a scratch sample that no
     * buffer owns (the buffer is untouched). */
    pcm.at(64, 0) = 99;
    CHECK(one_check_failed("out of range"));
    pcm.at(0, 2) = 99;
    CHECK(one_check_failed("out of range"));
    CHECK_EQ(pcm[0], 0);
    CHECK_EQ(pcm[127], 7);

    /* A moved-from Buffer, and a released one: the check, then an empty view whose at() is
     * checked too. */
    aes5::Buffer moved = aes5::detail::move(b);
    CHECK(!b);
    aes5::SampleView<int16_t> none = b.samples<int16_t>();
    CHECK(one_check_failed("empty (moved-from or released) Buffer"));
    CHECK(none.empty());
    none.at(0, 0) = 1;
    CHECK(one_check_failed("out of range"));
    CHECK_STATUS(moved.release(), AES5_OK);
    CHECK(moved.samples<int16_t>().empty());
    CHECK(one_check_failed("empty (moved-from or released) Buffer"));
    CHECK_STATUS(m.shutdown(), AES5_OK);
}

} // namespace

int main() {
    CHECK(aes5::set_check_handler(record) == nullptr); /* the default was in place */
    test_checks();
    CHECK(aes5::set_check_handler(nullptr) == record);
    return aes5_test_finish("test_cpp_checks");
}
