# Builds the Rust staticlib with cargo and exposes it as a CMake INTERFACE target.
#
#   aes5_add_rust_library(<name> [RUST_TARGET <triple>] [PROFILE <cargo profile>]
#                         [FEATURES <cargo features...>] [GEOMETRY <NAME=VALUE...>]
#                         [MONITORING <ON|OFF>])
#
# GEOMETRY is the pools' shape (counts, sizes, alignment, history, storage); MONITORING is a
# build setting (default ON): OFF compiles performance monitoring out (AES5_MONITORING=0).
#
# The custom command depends on every Rust source, so editing one rebuilds the library.
# Each library gets its own generated header (<binary dir>/<name>/include/aes5_buffer_manager.h),
# so builds with different geometries never mix; they share one cargo target directory per
# CMake build directory (cargo keeps each target triple apart inside it).

find_program(AES5_CARGO cargo HINTS "$ENV{HOME}/.cargo/bin" REQUIRED)
include("${CMAKE_CURRENT_LIST_DIR}/aes5_native_libs.cmake")

# Builds run one after another may share one (scripts/package.sh: the host crates cargo builds
# for build.rs are then compiled once); two builds at the same time must not. A shared one is
# emptied whenever a build directory is: build.rs writes the header only when cargo reruns it.
set(AES5_CARGO_TARGET_DIR "${CMAKE_CURRENT_BINARY_DIR}/cargo" CACHE PATH "cargo's target directory for this build")
file(GLOB_RECURSE AES5_RUST_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/src/*.rs")
list(APPEND AES5_RUST_SOURCES
  "${CMAKE_CURRENT_SOURCE_DIR}/Cargo.toml"
  "${CMAKE_CURRENT_SOURCE_DIR}/Cargo.lock"
  "${CMAKE_CURRENT_SOURCE_DIR}/build.rs"
  "${CMAKE_CURRENT_SOURCE_DIR}/cbindgen.toml")
set(AES5_RUST_PROJECT_DIR "${CMAKE_CURRENT_SOURCE_DIR}")

function(aes5_add_rust_library name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "RUST_TARGET;PROFILE;MONITORING" "FEATURES;GEOMETRY")
  if(NOT ARG_PROFILE)
    set(ARG_PROFILE release)
  endif()
  if(NOT DEFINED ARG_MONITORING)
    set(ARG_MONITORING ON)
  endif()
  set(header_dir "${CMAKE_CURRENT_BINARY_DIR}/${name}/include")
  if(ARG_RUST_TARGET)
    set(lib_dir "${AES5_CARGO_TARGET_DIR}/${ARG_RUST_TARGET}/${ARG_PROFILE}")
    set(target_args --target ${ARG_RUST_TARGET})
  else()
    set(lib_dir "${AES5_CARGO_TARGET_DIR}/${ARG_PROFILE}")
    set(target_args "")
  endif()
  # Cargo writes one file per triple and profile; this copy is the library of <name>.
  set(lib "${CMAKE_CURRENT_BINARY_DIR}/${name}/${CMAKE_STATIC_LIBRARY_PREFIX}aes5_buffer_manager${CMAKE_STATIC_LIBRARY_SUFFIX}")
  set(header "${header_dir}/aes5_buffer_manager.h")

  # Geometry settings become environment variables of the cargo build (read by build.rs).
  set(geometry_env "")
  foreach(setting IN LISTS ARG_GEOMETRY)
    if(NOT setting MATCHES "^AES5_[A-Z0-9_]+=[0-9]+$")
      message(FATAL_ERROR "geometry entry '${setting}' is not NAME=NUMBER with an AES5_ name")
    endif()
    if(setting MATCHES "^AES5_MONITORING=")
      message(FATAL_ERROR "AES5_MONITORING is a build setting, not geometry: use -DAES5_MONITORING=OFF "
                          "(or MONITORING OFF in aes5_add_rust_library)")
    endif()
    list(APPEND geometry_env "${setting}")
  endforeach()
  # Always explicit, so a value left in the caller's environment cannot change the build.
  if(ARG_MONITORING)
    set(settings_env AES5_MONITORING=1)
  else()
    set(settings_env AES5_MONITORING=0)
  endif()
  set(feature_args "")
  if(ARG_FEATURES)
    list(JOIN ARG_FEATURES "," features)
    set(feature_args --features ${features})
  endif()

  # The build's words for the log: profile, target and features, those that are set.
  set(build_words ${ARG_PROFILE} ${ARG_RUST_TARGET} ${ARG_FEATURES})
  list(JOIN build_words " " build_words)

  # The C++ header sits beside the generated C header, so its #include "aes5_buffer_manager.h"
  # finds this build's geometry.
  set(cxx_header_source "${AES5_RUST_PROJECT_DIR}/include/aes5_buffer_manager.hpp")
  add_custom_command(
    OUTPUT "${header_dir}/aes5_buffer_manager.hpp"
    COMMAND ${CMAKE_COMMAND} -E copy "${cxx_header_source}" "${header_dir}/aes5_buffer_manager.hpp"
    DEPENDS "${cxx_header_source}"
    VERBATIM)
  add_custom_command(
    OUTPUT "${lib}" "${header}"
    COMMAND ${CMAKE_COMMAND} -E env
            "CARGO_TARGET_DIR=${AES5_CARGO_TARGET_DIR}"
            "AES5_HEADER_OUT_DIR=${header_dir}"
            ${geometry_env} ${settings_env}
            "${AES5_CARGO}" rustc --locked --lib --crate-type staticlib --profile ${ARG_PROFILE} ${target_args} ${feature_args}
            --manifest-path "${AES5_RUST_PROJECT_DIR}/Cargo.toml"
    COMMAND ${CMAKE_COMMAND} -E copy
            "${lib_dir}/${CMAKE_STATIC_LIBRARY_PREFIX}aes5_buffer_manager${CMAKE_STATIC_LIBRARY_SUFFIX}" "${lib}"
    DEPENDS ${AES5_RUST_SOURCES}
    WORKING_DIRECTORY "${AES5_RUST_PROJECT_DIR}"
    COMMENT "cargo build: ${name} (${build_words})"
    USES_TERMINAL
    VERBATIM)
  # In ALL: a plain `cmake --build` builds the library (and its header) even with the tests
  # and demo off.
  add_custom_target(${name}_cargo_build ALL DEPENDS "${lib}" "${header}" "${header_dir}/aes5_buffer_manager.hpp")
  # Builds of one CMake directory run one after another: they share the cargo target dir.
  get_property(previous GLOBAL PROPERTY AES5_LAST_CARGO_BUILD)
  if(previous)
    add_dependencies(${name}_cargo_build ${previous})
  endif()
  set_property(GLOBAL PROPERTY AES5_LAST_CARGO_BUILD ${name}_cargo_build)

  add_library(${name}_rust STATIC IMPORTED GLOBAL)
  set_target_properties(${name}_rust PROPERTIES IMPORTED_LOCATION "${lib}")
  add_library(${name} INTERFACE)
  add_dependencies(${name} ${name}_cargo_build)
  target_include_directories(${name} INTERFACE "${header_dir}")
  target_link_libraries(${name} INTERFACE ${name}_rust)
  # The host libraries rustc says the static library needs (none on bare metal).
  aes5_native_static_libs(native_flags "${ARG_PROFILE}" "${ARG_RUST_TARGET}")
  target_link_libraries(${name} INTERFACE ${native_flags})
endfunction()
