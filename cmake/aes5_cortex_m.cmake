# The Cortex-M test suite: for each emulated board, the library cross-built for its core, the
# same C/C++ tests as on the host (tests/c/) linked into firmware images with a small startup
# and linker script (cortex-m/board/), and a ctest test per image run under qemu-system-arm
# with semihosting. The images of their own (footprint, instruction counts, interrupt stress)
# are in cortex-m/images/. A test passes only on exit code 0: faults exit 99
# (cortex-m/board/startup.c), hangs hit the timeout.
#
# Boards (AES5_BOARDS): microbit (Cortex-M0, thumbv6m, critical-section path, 16 KiB RAM: the
# small geometry of cmake/aes5_geometry.cmake, 4/2/2 buffers of 256 bytes, with two hand-off
# queues, data aligned to 8 bytes, guard zones of 8 bytes and the storage trimmed to 3,848
# bytes, so that a test holding two managers fits with room to spare), mps2-an385 (M3),
# mps2-an386 (M4F), mps2-an505 (M33), the last three with the default geometry.

set(AES5_BOARDS "microbit;mps2-an385;mps2-an386;mps2-an505" CACHE STRING "Emulated boards to build and test")
find_program(AES5_QEMU qemu-system-arm REQUIRED)
enable_testing()
enable_language(CXX)

# board: Rust target | gcc flags | cargo features | flash origin, length | RAM origin, length | stack
function(aes5_board_settings board)
  set(stack 65536)
  set(specs "")
  set(features "")
  set(geometry "")
  if(board STREQUAL "microbit")
    set(triple thumbv6m-none-eabi)
    set(flags -mcpu=cortex-m0 -mthumb -mfloat-abi=soft)
    set(features single-core)
    # The board's own settings: two hand-off queues (one each way, as the pipeline uses them);
    # data aligned to 8 bytes (the M0 has no data cache, its DMA needs words) with guard zones
    # of 8 bytes (two guard words), so that a test's managers fit its 16 KiB of RAM; and
    # the storage trimmed to the 32-bit layout of that geometry, 3,848 bytes (a 64-bit host
    # needs more, so the host's small build keeps the estimate).
    set(geometry ${AES5_SMALL_GEOMETRY} AES5_QUEUE_COUNT=2 AES5_DATA_ALIGNMENT=8
                 AES5_GUARD_BYTES=8 AES5_STORAGE_BYTES=3848)
    set(memory 0x00000000 256K 0x20000000 16K)
    set(stack 1536)
    set(specs --specs=nano.specs)
  elseif(board STREQUAL "mps2-an385")
    set(triple thumbv7m-none-eabi)
    set(flags -mcpu=cortex-m3 -mthumb -mfloat-abi=soft)
    set(memory 0x00000000 4M 0x20000000 4M)
  elseif(board STREQUAL "mps2-an386")
    set(triple thumbv7em-none-eabihf)
    set(flags -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)
    set(memory 0x00000000 4M 0x20000000 4M)
  elseif(board STREQUAL "mps2-an505")
    set(triple thumbv8m.main-none-eabihf)
    set(flags -mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16)
    set(memory 0x10000000 4M 0x38000000 2M)
  else()
    message(FATAL_ERROR "unknown board '${board}' in AES5_BOARDS")
  endif()
  set(board_triple "${triple}" PARENT_SCOPE)
  set(board_flags "${flags}" PARENT_SCOPE)
  set(board_features "${features}" PARENT_SCOPE)
  set(board_geometry "${geometry}" PARENT_SCOPE)
  set(board_memory "${memory}" PARENT_SCOPE)
  set(board_stack "${stack}" PARENT_SCOPE)
  set(board_specs "${specs}" PARENT_SCOPE)
endfunction()

file(GLOB AES5_C_TESTS CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/tests/c/test_*.c")
file(GLOB AES5_CXX_TESTS CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/tests/c/test_*.cpp")
set(AES5_WARNING_FLAGS -Wall -Wextra -Wpedantic -Werror)

# Links SOURCES with the current board's startup into the image <id>_<name> and registers a
# ctest test running it under QEMU (extra QEMU arguments after QEMU_ARGS, preprocessor
# definitions after DEFINES). The board's
# settings (id, board, lib, board_flags, board_specs, linker_script) are the caller's loop
# variables.
function(aes5_add_image name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "TIMEOUT" "SOURCES;QEMU_ARGS;DEFINES")
  set(image ${id}_${name})
  add_executable(${image} ${ARG_SOURCES} $<TARGET_OBJECTS:${id}_startup>)
  set_target_properties(${image} PROPERTIES SUFFIX ".elf"
    C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF
    CXX_STANDARD 11 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF
    LINK_DEPENDS "${linker_script}")
  target_include_directories(${image} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/tests/c" "${CMAKE_CURRENT_SOURCE_DIR}/cortex-m/board")
  target_compile_definitions(${image} PRIVATE ${ARG_DEFINES})
  target_compile_options(${image} PRIVATE ${board_flags} ${AES5_WARNING_FLAGS} -ffunction-sections -fdata-sections
                         $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti>)
  target_link_options(${image} PRIVATE ${board_flags} -nostartfiles ${board_specs} --specs=rdimon.specs
                      -Wl,--no-warn-execstack
                      -T "${linker_script}" -Wl,--gc-sections -Wl,-Map=$<TARGET_FILE:${image}>.map)
  # The C library comes first, so the C side's memcpy and memset (the startup code, newlib's
  # own) are newlib's and not the weak ones in the Rust archive: the footprint then counts
  # only what the library itself needs (it calls neither).
  if(board_specs MATCHES "nano")
    set(libc c_nano)
  else()
    set(libc c)
  endif()
  target_link_libraries(${image} PRIVATE ${libc} ${lib} m)
  add_test(NAME ${board}/${name}
           COMMAND "${AES5_QEMU}" -M ${board} -nographic -monitor none
                   -semihosting-config enable=on,target=native ${ARG_QEMU_ARGS}
                   -kernel $<TARGET_FILE:${image}>)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set_tests_properties(${board}/${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS cortex-m)
endfunction()

foreach(board IN LISTS AES5_BOARDS)
  aes5_board_settings(${board})
  string(REPLACE "mps2-" "" id "${board}")
  set(lib aes5_${id})
  aes5_add_rust_library(${lib} RUST_TARGET ${board_triple} PROFILE firmware
                        FEATURES ${board_features} GEOMETRY ${board_geometry} MONITORING ${AES5_MONITORING})

  list(GET board_memory 0 AES5_FLASH_ORIGIN)
  list(GET board_memory 1 AES5_FLASH_LENGTH)
  list(GET board_memory 2 AES5_RAM_ORIGIN)
  list(GET board_memory 3 AES5_RAM_LENGTH)
  set(AES5_STACK_BYTES ${board_stack})
  set(AES5_BOARD ${board})
  set(linker_script "${CMAKE_CURRENT_BINARY_DIR}/${id}.ld")
  configure_file("${CMAKE_CURRENT_SOURCE_DIR}/cortex-m/board/link.ld.in" "${linker_script}" @ONLY)

  # Startup and board support, compiled once per board.
  add_library(${id}_startup OBJECT cortex-m/board/startup.c)
  target_compile_options(${id}_startup PRIVATE ${board_flags} -Wall -Wextra -Werror)
  target_include_directories(${id}_startup PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}/cortex-m/board")


  foreach(source IN LISTS AES5_C_TESTS AES5_CXX_TESTS)
    get_filename_component(name "${source}" NAME_WE)
    aes5_add_image(${name} SOURCES "${source}")
  endforeach()
  # Calls every API function once: the footprint report measures this image.
  aes5_add_image(footprint SOURCES cortex-m/images/footprint.c)
  # Only the buffer life cycle (no readers, reports or texts): the report's second table.
  aes5_add_image(footprint_core SOURCES cortex-m/images/footprint.c DEFINES AES5_FOOTPRINT_LIFE_CYCLE_ONLY=1)
  # A DMA-shaped pipeline through the hand-off queues: SysTick captures and plays periods,
  # main() processes them (instructions counted, so every run is the same).
  aes5_add_image(dma_pipeline SOURCES cortex-m/images/dma_pipeline.c QEMU_ARGS -icount shift=0 TIMEOUT 300)
  # Instruction counts of allocate and release (scripts/cortex-m-costs.sh prints them).
  aes5_add_image(insn_count SOURCES cortex-m/images/insn_count.c QEMU_ARGS -icount shift=0)
  if(board STREQUAL "microbit" OR board STREQUAL "mps2-an386")
    # SysTick preempts main() inside allocate/release; instructions counted (-icount) so the
    # interrupt can land on any instruction and every run is the same.
    aes5_add_image(isr_stress SOURCES cortex-m/images/isr_stress.c QEMU_ARGS -icount shift=0 TIMEOUT 300)
    # The buffer life cycle, and the whole C API, against a library with monitoring compiled out
    # (AES5_MONITORING=0): the report's last two footprint tables; the images check that
    # monitoring is refused.
    set(lib aes5_${id}_no_monitoring)
    aes5_add_rust_library(${lib} RUST_TARGET ${board_triple} PROFILE firmware
                          FEATURES ${board_features} GEOMETRY ${board_geometry} MONITORING OFF)
    aes5_add_image(footprint_lean SOURCES cortex-m/images/footprint.c DEFINES AES5_FOOTPRINT_LIFE_CYCLE_ONLY=1)
    aes5_add_image(footprint_lean_whole SOURCES cortex-m/images/footprint.c)
    set(lib aes5_${id})
  endif()
  if(board STREQUAL "microbit")
    # The same stress test with the critical section defined by the firmware
    # (cortex-m/board/critical_section.c) instead of the library's own PRIMASK masking.
    set(lib aes5_${id}_firmware_cs)
    aes5_add_rust_library(${lib} RUST_TARGET ${board_triple} PROFILE firmware
                          FEATURES firmware-critical-section GEOMETRY ${board_geometry}
                          MONITORING ${AES5_MONITORING})
    aes5_add_image(isr_stress_firmware_cs SOURCES cortex-m/images/isr_stress.c cortex-m/board/critical_section.c
                   QEMU_ARGS -icount shift=0 TIMEOUT 300)
    aes5_add_image(dma_pipeline_firmware_cs SOURCES cortex-m/images/dma_pipeline.c cortex-m/board/critical_section.c
                   QEMU_ARGS -icount shift=0 TIMEOUT 300)
  endif()
endforeach()
