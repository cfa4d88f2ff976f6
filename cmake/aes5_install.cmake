# Install rules of the library target built by aes5_add_rust_library (see CMakeLists.txt):
#
#   cmake --install <build> --prefix <P>
#
# installs <P>/lib/libaes5_buffer_manager.a, <P>/include/aes5_buffer_manager.h (the header
# generated for this build's geometry) and aes5_buffer_manager.hpp (the C++ face), the CMake
# package (lib/cmake/aes5_buffer_manager/: a
# config with the imported target aes5::buffer_manager and a SameMajorVersion version file;
# the config compiles a probe to refuse a project that builds for another target, so the
# version file leaves the pointer size to it),
# lib/pkgconfig/aes5_buffer_manager.pc, and under share/doc/aes5_buffer_manager/ the licence
# files, README.md and docs/DESIGN.md. The host libraries the static library needs come from rustc (cmake/aes5_native_libs.cmake) and go into both the target's
# INTERFACE_LINK_LIBRARIES and the .pc; a bare-metal build installs none.
#
#   aes5_install_library(<name> <cargo profile> [<rust target triple>])

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
include("${CMAKE_CURRENT_LIST_DIR}/aes5_native_libs.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/aes5_sdk.cmake")
set(AES5_PROJECT_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")

function(aes5_install_library name profile)
  set(target "${ARGV2}")
  set(package_dir "${CMAKE_INSTALL_LIBDIR}/cmake/aes5_buffer_manager")
  set(generated "${CMAKE_CURRENT_BINARY_DIR}/${name}/package")
  set(lib_file "${CMAKE_STATIC_LIBRARY_PREFIX}aes5_buffer_manager${CMAKE_STATIC_LIBRARY_SUFFIX}")

  aes5_native_static_libs(native_flags "${profile}" "${target}")
  # For CMake: "-lm" becomes "m"; anything else (a macOS "-framework X") is passed as it is.
  set(AES5_NATIVE_LINK_LIBRARIES "")
  foreach(flag IN LISTS native_flags)
    if(flag MATCHES "^-l(.+)$")
      list(APPEND AES5_NATIVE_LINK_LIBRARIES "${CMAKE_MATCH_1}")
    else()
      list(APPEND AES5_NATIVE_LINK_LIBRARIES "${flag}")
    endif()
  endforeach()
  list(JOIN native_flags " " AES5_PC_NATIVE_LIBS)
  string(STRIP "-L\${libdir} -laes5_buffer_manager ${AES5_PC_NATIVE_LIBS}" AES5_PC_LIBS)
  if(target)
    set(AES5_INSTALL_DESCRIPTION "${target} (${profile} profile)")
    set(triple "${target}")
  else()
    set(AES5_INSTALL_DESCRIPTION "this host (${profile} profile)")
    aes5_sdk_host_triple(triple)
  endif()
  # The package config refuses a project whose compiler builds for another target.
  aes5_sdk_target_facts("${triple}")
  set(AES5_PACKAGE_TRIPLE "${triple}")
  set(AES5_PACKAGE_CONDITION "${AES5_SDK_CONDITION}")
  set(AES5_PACKAGE_CORES "${AES5_SDK_CORES}")
  if(AES5_SDK_C_FLAGS STREQUAL "")
    set(AES5_PACKAGE_FLAGS_HINT "")
  else()
    set(AES5_PACKAGE_FLAGS_HINT " If this project is a firmware for this package's cores, its core's flags (for example '${AES5_SDK_C_FLAGS}') belong in CMAKE_C_FLAGS or its toolchain file.")
  endif()
  # The SDK archive's README shows these.
  set(AES5_NATIVE_LINK_FLAGS "${native_flags}" PARENT_SCOPE)
  set(AES5_PC_DESCRIPTION "Static, lock-free, interrupt-safe pools of AES5-2018 audio buffers, built for ${AES5_INSTALL_DESCRIPTION}")

  set(AES5_INSTALL_LIBRARY "${CMAKE_INSTALL_LIBDIR}/${lib_file}")
  set(AES5_INSTALL_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
  configure_package_config_file(
    "${AES5_PROJECT_CMAKE_DIR}/package/aes5_buffer_managerConfig.cmake.in"
    "${generated}/aes5_buffer_managerConfig.cmake"
    INSTALL_DESTINATION "${package_dir}"
    PATH_VARS AES5_INSTALL_LIBRARY AES5_INSTALL_INCLUDEDIR)
  write_basic_package_version_file("${generated}/aes5_buffer_managerConfigVersion.cmake"
    VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)

  # The .pc finds its prefix from its own place (pkg-config's ${pcfiledir}).
  set(up "")
  string(REPLACE "/" ";" parts "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  foreach(part IN LISTS parts)
    string(APPEND up "/..")
  endforeach()
  set(AES5_PC_PREFIX "\${pcfiledir}${up}")
  configure_file("${AES5_PROJECT_CMAKE_DIR}/package/aes5_buffer_manager.pc.in"
    "${generated}/aes5_buffer_manager.pc" @ONLY)

  install(FILES "${CMAKE_CURRENT_BINARY_DIR}/${name}/${lib_file}" DESTINATION "${CMAKE_INSTALL_LIBDIR}")
  install(FILES "${CMAKE_CURRENT_BINARY_DIR}/${name}/include/aes5_buffer_manager.h"
    "${CMAKE_CURRENT_BINARY_DIR}/${name}/include/aes5_buffer_manager.hpp"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
  install(FILES "${generated}/aes5_buffer_managerConfig.cmake" "${generated}/aes5_buffer_managerConfigVersion.cmake"
    DESTINATION "${package_dir}")
  install(FILES "${generated}/aes5_buffer_manager.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  # The licences, and the README and design the header cites.
  install(FILES "${AES5_PROJECT_CMAKE_DIR}/../LICENSE-MIT" "${AES5_PROJECT_CMAKE_DIR}/../LICENSE-APACHE"
    "${AES5_PROJECT_CMAKE_DIR}/../README.md" "${AES5_PROJECT_CMAKE_DIR}/../docs/DESIGN.md"
    DESTINATION "${CMAKE_INSTALL_DOCDIR}")
endfunction()
