/*
 * cpp_check_default.cpp: a failed check of the C++ face with no handler set ends the program
 * on a host: it prints the check and calls abort(). ctest passes it when the output names the
 * check and fails it when the program gets past the misuse (tests/c/cpp_check_default.cmake).
 */
#include "aes5_buffer_manager.hpp"

#include <stdio.h>

static aes5_buffer_manager_storage_t storage;

int main() {
    aes5::Manager m;
    if (m.init(storage) != AES5_OK) return 2;
    aes5::Buffer b = m.allocate(AES5_BUFFER_TYPE_PRIMARY, aes5::Format::pcm16(48000, 2, 64)).take();
    aes5::SampleView<float> wrong = b.samples<float>(); /* a pcm16 buffer read as float */
    printf("past the misuse: %zu samples\n", wrong.size());
    return 0;
}
