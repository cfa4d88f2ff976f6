# The native libraries a program linking the Rust static library needs on this host, as
# rustc reports them (`--print native-static-libs`), never a hand-kept list.
#
#   aes5_native_static_libs(<out var> <cargo profile> [<rust target triple>])
#
# Sets <out var> to the flags rustc printed (for example "-lgcc_s;-lutil;-lrt;-lpthread;-lm;
# -ldl;-lc"). Bare-metal builds (a generic system, or a triple ending in -none-eabi or
# -none-eabihf) need none. The probe builds the library once, at configure time, in the build
# directory's cargo target directory (so the build dependencies are compiled once for both);
# the result is cached per build directory (AES5_NATIVE_STATIC_LIBS).

function(aes5_probe_native_static_libs out_var profile target target_dir)
  set(target_args "")
  if(target)
    set(target_args --target ${target})
  endif()
  find_program(AES5_CARGO cargo HINTS "$ENV{HOME}/.cargo/bin" REQUIRED)
  get_filename_component(project_dir "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/.." ABSOLUTE)
  set(cargo "${CMAKE_COMMAND}" -E env "CARGO_TARGET_DIR=${target_dir}" "${AES5_CARGO}")
  foreach(attempt IN ITEMS 1 2)
    execute_process(
      COMMAND ${cargo} rustc --locked --lib --profile ${profile} ${target_args}
              --manifest-path "${project_dir}/Cargo.toml" --crate-type staticlib
              -- --print native-static-libs
      WORKING_DIRECTORY "${project_dir}"
      RESULT_VARIABLE result
      OUTPUT_VARIABLE out
      ERROR_VARIABLE err
      ECHO_ERROR_VARIABLE)
    if(NOT result EQUAL 0)
      message(FATAL_ERROR "probing rustc's native-static-libs failed:\n${err}")
    endif()
    string(REGEX MATCH "native-static-libs: ([^\n]*)" line "${err}")
    if(line)
      break()
    endif()
    # rustc prints the list only when it really compiles the library: an up-to-date one is
    # cleaned (only this crate) and built again.
    execute_process(
      COMMAND ${cargo} clean --package aes5_buffer_manager --profile ${profile} ${target_args}
              --manifest-path "${project_dir}/Cargo.toml"
      WORKING_DIRECTORY "${project_dir}" RESULT_VARIABLE result OUTPUT_QUIET ERROR_QUIET)
  endforeach()
  if(NOT line)
    message(FATAL_ERROR "rustc printed no native-static-libs line:\n${err}")
  endif()
  string(STRIP "${CMAKE_MATCH_1}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  set(${out_var} "${flags}" PARENT_SCOPE)
endfunction()

function(aes5_native_static_libs out_var profile)
  set(target "${ARGV2}")
  if(target MATCHES "-none-eabi(hf)?$" OR CMAKE_SYSTEM_NAME STREQUAL "Generic")
    set(${out_var} "" PARENT_SCOPE)
    return()
  endif()
  if(NOT DEFINED CACHE{AES5_NATIVE_STATIC_LIBS})
    # The probe compiles the crate: seconds on a warm cargo cache, minutes on a cold one. Say
    # so, and let cargo's own lines through.
    message(STATUS "aes5: compiling the Rust library once to ask rustc which host libraries it needs (cargo's progress follows)")
    string(TIMESTAMP started "%s")
    aes5_probe_native_static_libs(flags "${profile}" "${target}" "${AES5_CARGO_TARGET_DIR}")
    string(TIMESTAMP finished "%s")
    math(EXPR seconds "${finished} - ${started}")
    message(STATUS "aes5: host libraries: ${flags} (${seconds} s)")
    set(AES5_NATIVE_STATIC_LIBS "${flags}" CACHE INTERNAL "rustc --print native-static-libs of the library")
  endif()
  set(${out_var} "${AES5_NATIVE_STATIC_LIBS}" PARENT_SCOPE)
endfunction()
