# Builds the Rust staticlib with cargo and exposes it as the target aes5::buffer_manager.
#
# The custom command depends on every Rust source, so editing one rebuilds the library.
# Each CMake build directory has its own cargo target directory and its own generated header
# (<binary dir>/include/aes5_buffer_manager.h), so builds with different geometries never mix.

find_program(AES5_CARGO cargo HINTS "$ENV{HOME}/.cargo/bin" REQUIRED)

set(AES5_CARGO_TARGET_DIR "${CMAKE_CURRENT_BINARY_DIR}/cargo")
set(AES5_HEADER_DIR "${CMAKE_CURRENT_BINARY_DIR}/include")
set(AES5_RUST_TARGET "" CACHE STRING "Rust target triple to build for (empty = the host)")
# The sanitizer build links the library built with debug assertions and overflow checks
# (Cargo.toml [profile.sanitize]); every other build links the release profile.
if(AES5_SANITIZE)
  set(AES5_DEFAULT_CARGO_PROFILE "sanitize")
else()
  set(AES5_DEFAULT_CARGO_PROFILE "release")
endif()
set(AES5_CARGO_PROFILE "${AES5_DEFAULT_CARGO_PROFILE}" CACHE STRING "Cargo profile for the library")

if(AES5_RUST_TARGET)
  set(AES5_LIB_DIR "${AES5_CARGO_TARGET_DIR}/${AES5_RUST_TARGET}/${AES5_CARGO_PROFILE}")
  set(AES5_TARGET_ARGS --target ${AES5_RUST_TARGET})
else()
  set(AES5_LIB_DIR "${AES5_CARGO_TARGET_DIR}/${AES5_CARGO_PROFILE}")
  set(AES5_TARGET_ARGS "")
endif()
set(AES5_LIB "${AES5_LIB_DIR}/${CMAKE_STATIC_LIBRARY_PREFIX}aes5_buffer_manager${CMAKE_STATIC_LIBRARY_SUFFIX}")
set(AES5_HEADER "${AES5_HEADER_DIR}/aes5_buffer_manager.h")

file(GLOB_RECURSE AES5_RUST_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/src/*.rs")
list(APPEND AES5_RUST_SOURCES
  "${CMAKE_CURRENT_SOURCE_DIR}/Cargo.toml"
  "${CMAKE_CURRENT_SOURCE_DIR}/Cargo.lock"
  "${CMAKE_CURRENT_SOURCE_DIR}/build.rs"
  "${CMAKE_CURRENT_SOURCE_DIR}/cbindgen.toml")

# Geometry settings become environment variables of the cargo build (read by build.rs).
set(AES5_GEOMETRY_ENV "")
foreach(setting IN LISTS AES5_GEOMETRY)
  if(NOT setting MATCHES "^AES5_[A-Z0-9_]+=[0-9]+$")
    message(FATAL_ERROR "AES5_GEOMETRY entry '${setting}' is not NAME=NUMBER with an AES5_ name")
  endif()
  list(APPEND AES5_GEOMETRY_ENV "${setting}")
endforeach()

add_custom_command(
  OUTPUT "${AES5_LIB}" "${AES5_HEADER}"
  COMMAND ${CMAKE_COMMAND} -E env
          "CARGO_TARGET_DIR=${AES5_CARGO_TARGET_DIR}"
          "AES5_HEADER_OUT_DIR=${AES5_HEADER_DIR}"
          ${AES5_GEOMETRY_ENV}
          "${AES5_CARGO}" build --locked --lib --profile ${AES5_CARGO_PROFILE} ${AES5_TARGET_ARGS}
          --manifest-path "${CMAKE_CURRENT_SOURCE_DIR}/Cargo.toml"
  DEPENDS ${AES5_RUST_SOURCES}
  WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
  COMMENT "cargo build: aes5_buffer_manager (${AES5_CARGO_PROFILE}${AES5_RUST_TARGET})"
  USES_TERMINAL
  VERBATIM)
add_custom_target(aes5_cargo_build DEPENDS "${AES5_LIB}" "${AES5_HEADER}")

add_library(aes5_buffer_manager_rust STATIC IMPORTED GLOBAL)
set_target_properties(aes5_buffer_manager_rust PROPERTIES IMPORTED_LOCATION "${AES5_LIB}")

add_library(aes5_buffer_manager INTERFACE)
add_dependencies(aes5_buffer_manager aes5_cargo_build)
target_include_directories(aes5_buffer_manager INTERFACE "${AES5_HEADER_DIR}")
target_link_libraries(aes5_buffer_manager INTERFACE aes5_buffer_manager_rust)
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  # What `rustc --print native-static-libs` lists for this no_std staticlib on Linux.
  target_link_libraries(aes5_buffer_manager INTERFACE m rt pthread)
elseif(APPLE)
  target_link_libraries(aes5_buffer_manager INTERFACE m)
endif()
add_library(aes5::buffer_manager ALIAS aes5_buffer_manager)
