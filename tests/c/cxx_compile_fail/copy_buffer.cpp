/* Compiled by tests/c/cxx_compile_fail/check.cmake twice: without AES5_COPY it must build
 * (the control), with it the compiler must refuse the copy of a move-only aes5::Buffer. */
#include "aes5_buffer_manager.hpp"

int main() {
    aes5::Buffer held;
#ifdef AES5_COPY
    aes5::Buffer copy(held);
#else
    aes5::Buffer copy(aes5::detail::move(held));
#endif
    return copy ? 1 : 0;
}
