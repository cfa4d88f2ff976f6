# CMake toolchain file for Arm Cortex-M with the GNU Arm Embedded toolchain (arm-none-eabi-gcc).
#
#   cmake -S . -B build/cortex-m -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake
#
# As the top-level project this builds the library for each board of AES5_BOARDS (one Rust
# target per core), links the C/C++ tests into firmware images and registers each as a ctest
# test run under qemu-system-arm (see cmake/aes5_cortex_m.cmake). A firmware that pulls the
# library in with add_subdirectory() sets AES5_RUST_TARGET (and its -mcpu flags) instead.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

find_program(CMAKE_C_COMPILER arm-none-eabi-gcc REQUIRED)
find_program(CMAKE_CXX_COMPILER arm-none-eabi-g++ REQUIRED)
set(CMAKE_ASM_COMPILER "${CMAKE_C_COMPILER}")
set(AES5_ARM_SIZE arm-none-eabi-size)

# Compiler checks build a static library: no startup code or linker script is needed yet.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)

set(AES5_CORTEX_M ON)
