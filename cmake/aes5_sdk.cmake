# SDK archives: the installed package of one build (library, headers, CMake package, .pc,
# licences) plus a README for C users and a MANIFEST, packed by CPack into
#
#   aes5_buffer_manager-<version>-<rust target triple>[-<critical-section variant>]-<geometry>.tar.gz
#
# A build with -DAES5_SDK=ON gets these rules (the sdk-* presets of CMakePresets.json set it);
# scripts/package.sh builds every archive. `cpack --config <build>/CPackConfig.cmake` packs one.
#
#   aes5_sdk_target_facts(<triple>)   sets, in the caller's scope:
#     AES5_SDK_CONDITION   a preprocessor condition true exactly for the C targets that can
#                          link this library (the package config compiles it as its check);
#                          empty for a triple without an archive
#     AES5_SDK_CORES       the cores and calling convention, in words
#     AES5_SDK_C_FLAGS     the compiler flags the archive's README shows for C code
#   aes5_sdk_archive(<library name> <native link flags>)   the README, MANIFEST and CPack setup

set(AES5_SDK_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")

# The M profile with the 32-bit Thumb-2 instructions (Armv7-M, Armv7E-M, Armv8-M Mainline).
set(aes5_sdk_m_profile "defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'")
set(aes5_sdk_thumb2 "${aes5_sdk_m_profile} && __ARM_ARCH_ISA_THUMB >= 2")

function(aes5_sdk_target_facts triple)
  if(triple STREQUAL "x86_64-unknown-linux-gnu")
    set(condition "defined(__x86_64__) && defined(__linux__)")
    set(cores "x86-64 Linux (glibc)")
    set(flags "")
  elseif(triple STREQUAL "thumbv6m-none-eabi")
    # Armv6-M code runs on every M-profile core; only the float calling convention must agree.
    set(condition "${aes5_sdk_m_profile} && !defined(__ARM_PCS_VFP)")
    set(cores "Armv6-M: Cortex-M0, M0+ and M1 (and any later M-profile core), soft-float calling convention")
    set(flags "-mcpu=cortex-m0plus -mthumb -mfloat-abi=soft")
  elseif(triple STREQUAL "thumbv7m-none-eabi")
    set(condition "${aes5_sdk_thumb2} && !defined(__ARM_PCS_VFP)")
    set(cores "Armv7-M: Cortex-M3 (and M4, M7, M33 without the hard-float convention), soft-float calling convention")
    set(flags "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft")
  elseif(triple STREQUAL "thumbv7em-none-eabi")
    set(condition "${aes5_sdk_thumb2} && defined(__ARM_FEATURE_DSP) && !defined(__ARM_PCS_VFP)")
    set(cores "Armv7E-M: Cortex-M4 and M7, soft-float calling convention (-mfloat-abi=soft or softfp)")
    set(flags "-mcpu=cortex-m4 -mthumb -mfloat-abi=soft")
  elseif(triple STREQUAL "thumbv7em-none-eabihf")
    set(condition "${aes5_sdk_thumb2} && defined(__ARM_FEATURE_DSP) && defined(__ARM_PCS_VFP)")
    set(cores "Armv7E-M with an FPU: Cortex-M4F and M7, hard-float calling convention")
    set(flags "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
  elseif(triple STREQUAL "thumbv8m.main-none-eabihf")
    set(condition "${aes5_sdk_thumb2} && __ARM_ARCH >= 8 && defined(__ARM_PCS_VFP)")
    set(cores "Armv8-M Mainline with an FPU: Cortex-M33, M35P and M55, hard-float calling convention")
    set(flags "-mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16")
  else()
    # Another target: it installs from source, without the package's target check.
    set(condition "")
    set(cores "${triple}")
    set(flags "")
  endif()
  set(AES5_SDK_CONDITION "${condition}" PARENT_SCOPE)
  set(AES5_SDK_CORES "${cores}" PARENT_SCOPE)
  set(AES5_SDK_C_FLAGS "${flags}" PARENT_SCOPE)
endfunction()

# The host's triple, as rustc names it.
function(aes5_sdk_host_triple out_var)
  find_program(AES5_RUSTC rustc HINTS "$ENV{HOME}/.cargo/bin" REQUIRED)
  execute_process(COMMAND "${AES5_RUSTC}" -vV OUTPUT_VARIABLE version RESULT_VARIABLE result)
  if(NOT result EQUAL 0 OR NOT version MATCHES "host: ([^\n]+)")
    message(FATAL_ERROR "rustc -vV names no host triple")
  endif()
  set(${out_var} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()

function(aes5_sdk_archive name native_flags)
  set(triple "${AES5_RUST_TARGET}")
  if(NOT triple)
    aes5_sdk_host_triple(triple)
  endif()
  aes5_sdk_target_facts("${triple}")
  if(AES5_SDK_CONDITION STREQUAL "")
    message(FATAL_ERROR "AES5_SDK: no archive is defined for the target '${triple}'")
  endif()

  # The archive's name: version, triple, critical-section variant (Armv6-M only), geometry.
  set(variant "")
  if(triple MATCHES "^thumbv6m")
    if("single-core" IN_LIST AES5_FEATURES)
      set(variant "-single-core")
    elseif("firmware-critical-section" IN_LIST AES5_FEATURES)
      set(variant "-firmware-critical-section")
    else()
      message(FATAL_ERROR "AES5_SDK: a thumbv6m archive needs AES5_FEATURES single-core or firmware-critical-section")
    endif()
  endif()
  if(AES5_SDK_GEOMETRY_NAME)
    set(geometry_name "${AES5_SDK_GEOMETRY_NAME}")
  elseif(AES5_GEOMETRY STREQUAL "")
    set(geometry_name default)
  elseif(AES5_GEOMETRY MATCHES "^[a-z][a-z0-9-]*$")
    set(geometry_name "${AES5_GEOMETRY}")
  else()
    message(FATAL_ERROR "AES5_SDK: name this geometry with -DAES5_SDK_GEOMETRY_NAME=<name> (it goes into the archive's name)")
  endif()
  if(NOT AES5_MONITORING)
    string(APPEND geometry_name "-no-monitoring")
  endif()
  set(AES5_SDK_ID "${triple}${variant}-${geometry_name}")
  set(AES5_SDK_TRIPLE "${triple}")

  # Words for the README.
  if(variant STREQUAL "-single-core")
    set(AES5_SDK_CS_TEXT "The library masks interrupts (PRIMASK) itself around each read-modify-write: nothing to provide.")
  elseif(variant STREQUAL "-firmware-critical-section")
    set(AES5_SDK_CS_TEXT "Your firmware defines `uint32_t aes5_critical_section_enter(void)` and `void aes5_critical_section_exit(uint32_t state)` (the header documents them), for example by saving PRIMASK and masking interrupts. The library calls them around each read-modify-write of a few instructions, from every context that calls it (interrupt handlers included), and never nests them. Choose this variant over `single-core` when an RTOS owns interrupt masking, or when a second core shares the pools (take a hardware spinlock inside).")
  else()
    set(AES5_SDK_CS_TEXT "Lock-free on the core's own atomic instructions: nothing to provide.")
  endif()
  if(AES5_SDK_C_FLAGS STREQUAL "")
    set(AES5_SDK_FLAGS_TEXT "none beyond your usual ones (any x86-64 Linux C compiler)")
    set(AES5_SDK_CC "cc")
  else()
    set(AES5_SDK_FLAGS_TEXT "`${AES5_SDK_C_FLAGS}` (or another core the list above names, with the same calling convention)")
    set(AES5_SDK_CC "arm-none-eabi-gcc ${AES5_SDK_C_FLAGS}")
  endif()
  if(triple MATCHES "^thumb")
    set(AES5_SDK_BARE_METAL_TEXT "
**On bare metal.** The lines above build and link; the firmware adds its own startup code,
linker script and C library specs as usual. The library needs no heap and no `.data` or
`.bss` of its own: its RAM is the storage you declare, `AES5_STORAGE_BYTES` per manager, in
any RAM the core reaches (the header says what a DMA needs). Its flash is what you call of it
once the linker drops unused sections (`-Wl,--gc-sections`); the project's README lists the
measured sizes per core, in its section *Targets and what each costs*.")
    if(triple MATCHES "eabihf$")
      string(APPEND AES5_SDK_BARE_METAL_TEXT " Hard-float code: the startup enables the FPU
(CPACR) before the first call, as for any hard-float code.")
    endif()
    string(APPEND AES5_SDK_BARE_METAL_TEXT "\n")
  else()
    set(AES5_SDK_BARE_METAL_TEXT "")
  endif()
  list(JOIN native_flags " " native_text)
  string(STRIP "${AES5_SDK_CC} -ISDK/include app.c SDK/lib/libaes5_buffer_manager.a ${native_text}" AES5_SDK_PLAIN_LINE)
  set(AES5_SDK_VERSION "${PROJECT_VERSION}")
  set(AES5_SDK_ARCHIVE "aes5_buffer_manager-${PROJECT_VERSION}-${AES5_SDK_ID}")
  set(readme "${CMAKE_CURRENT_BINARY_DIR}/sdk/README.md")
  configure_file("${AES5_SDK_CMAKE_DIR}/package/sdk-README.md.in" "${readme}" @ONLY)

  # The MANIFEST, written once the library is built: its geometry comes from the header.
  find_program(AES5_RUSTC rustc HINTS "$ENV{HOME}/.cargo/bin" REQUIRED)
  execute_process(COMMAND "${AES5_RUSTC}" -V OUTPUT_VARIABLE rustc_version OUTPUT_STRIP_TRAILING_WHITESPACE)
  find_package(Git QUIET)
  set(revision unknown)
  if(GIT_FOUND)
    execute_process(COMMAND "${GIT_EXECUTABLE}" rev-parse --short=12 HEAD WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
                    OUTPUT_VARIABLE revision OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE git_result ERROR_QUIET)
    if(NOT git_result EQUAL 0)
      set(revision unknown)
    else()
      execute_process(COMMAND "${GIT_EXECUTABLE}" status --porcelain --untracked-files=no
                      WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}" OUTPUT_VARIABLE dirty)
      if(NOT dirty STREQUAL "")
        string(APPEND revision "-modified")
      endif()
    endif()
  endif()
  set(manifest "${CMAKE_CURRENT_BINARY_DIR}/sdk/MANIFEST")
  set(header "${CMAKE_CURRENT_BINARY_DIR}/${name}/include/aes5_buffer_manager.h")
  if(AES5_FEATURES)
    list(JOIN AES5_FEATURES "," features)
  else()
    set(features "(none)")
  endif()
  # After the cargo build (a step of its target: the header is that target's output, which a
  # second target must not rebuild).
  add_custom_command(TARGET ${name}_cargo_build POST_BUILD
    COMMAND "${CMAKE_COMMAND}" "-DOUT=${manifest}" "-DHEADER=${header}" "-DARCHIVE=${AES5_SDK_ARCHIVE}"
            "-DTRIPLE=${triple}" "-DREVISION=${revision}" "-DRUSTC=${rustc_version}" "-DFEATURES=${features}"
            "-DPROFILE=${AES5_CARGO_PROFILE}" "-DCORES=${AES5_SDK_CORES}" "-DC_FLAGS=${AES5_SDK_C_FLAGS}"
            -P "${AES5_SDK_CMAKE_DIR}/package/write_manifest.cmake"
    COMMENT "SDK manifest of ${AES5_SDK_ARCHIVE}"
    VERBATIM)
  install(FILES "${readme}" "${manifest}" DESTINATION .)

  set(CPACK_GENERATOR TGZ PARENT_SCOPE)
  set(CPACK_PACKAGE_NAME aes5_buffer_manager PARENT_SCOPE)
  set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}" PARENT_SCOPE)
  set(CPACK_PACKAGE_VENDOR "aes5_buffer_manager" PARENT_SCOPE)
  set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Static, lock-free, interrupt-safe pools of AES5-2018 audio buffers (${triple})" PARENT_SCOPE)
  set(CPACK_PACKAGE_FILE_NAME "${AES5_SDK_ARCHIVE}" PARENT_SCOPE)
  set(CPACK_INCLUDE_TOPLEVEL_DIRECTORY ON PARENT_SCOPE)
  set(CPACK_PACKAGE_DIRECTORY "${CMAKE_BINARY_DIR}/dist" PARENT_SCOPE)
  set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE-MIT" PARENT_SCOPE)
endfunction()
