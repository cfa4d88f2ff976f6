# Fails when rustc's native-static-libs for the library differ from what was installed in the
# .pc (a toolchain update that adds a library would otherwise break consumers at link time):
#   cmake -DPREFIX=<install prefix> -DLIBDIR=<lib dir name> -DPROFILE=<cargo profile>
#         -DTARGET_DIR=<fresh cargo target dir> -P native_libs_drift.cmake
include("${CMAKE_CURRENT_LIST_DIR}/../../cmake/aes5_native_libs.cmake")
aes5_probe_native_static_libs(now "${PROFILE}" "" "${TARGET_DIR}")
list(JOIN now " " now)
file(STRINGS "${PREFIX}/${LIBDIR}/pkgconfig/aes5_buffer_manager.pc" line REGEX "^Libs:")
string(REGEX REPLACE "^Libs: *-L\\\${libdir} -laes5_buffer_manager *" "" installed "${line}")
string(STRIP "${installed}" installed)
if(NOT now STREQUAL installed)
  message(FATAL_ERROR "rustc now reports native-static-libs '${now}', the installed package says '${installed}'")
endif()
# The CMake package carries the same list, as library names.
string(REGEX REPLACE "(^| )-l" "\\1" names "${now}")
file(STRINGS "${PREFIX}/${LIBDIR}/cmake/aes5_buffer_manager/aes5_buffer_managerConfig.cmake" line
     REGEX "INTERFACE_LINK_LIBRARIES")
# (file(STRINGS) returns the line's semicolons escaped; compare the names space-separated.)
string(REGEX MATCH "\"([^\"]*)\"" quoted "${line}")
string(REGEX REPLACE "[\\;]+" " " linked "${CMAKE_MATCH_1}")
if(NOT linked STREQUAL names)
  message(FATAL_ERROR "rustc now reports '${names}', the installed CMake package links '${linked}'")
endif()
message(STATUS "native-static-libs unchanged: ${now}")
