# Writes an SDK archive's MANIFEST (cmake/aes5_sdk.cmake runs it once the library is built):
#   cmake -DOUT=<file> -DHEADER=<generated header> -DARCHIVE=<name> -DTRIPLE=<triple>
#         -DREVISION=<git revision> -DRUSTC=<rustc -V> -DFEATURES=<cargo features>
#         -DPROFILE=<cargo profile> -DCORES=<words> -DC_FLAGS=<flags> -P write_manifest.cmake
# The geometry is read back from the header, so the manifest states what was really built.
set(geometry_names
  AES5_PRIMARY_BUFFER_COUNT AES5_CONVERSION_BUFFER_COUNT AES5_SCRATCH_BUFFER_COUNT
  AES5_PRIMARY_BUFFER_BYTES AES5_CONVERSION_BUFFER_BYTES AES5_SCRATCH_BUFFER_BYTES
  AES5_DATA_ALIGNMENT AES5_HISTORY_CAPACITY AES5_QUEUE_COUNT AES5_GUARD_BYTES AES5_STORAGE_BYTES
  AES5_MONITORING)
file(STRINGS "${HEADER}" defines REGEX "^#define AES5_[A-Z_]+ [0-9]+$")
set(geometry "")
foreach(name IN LISTS geometry_names)
  set(value "")
  foreach(line IN LISTS defines)
    if(line MATCHES "^#define ${name} ([0-9]+)$")
      set(value "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  if(value STREQUAL "")
    message(FATAL_ERROR "${HEADER} does not define ${name}")
  endif()
  string(APPEND geometry "  ${name} = ${value}\n")
endforeach()
if(C_FLAGS STREQUAL "")
  set(C_FLAGS "(none: the host's default)")
endif()
file(WRITE "${OUT}"
  "archive:        ${ARCHIVE}\n"
  "target:         ${TRIPLE}\n"
  "cores:          ${CORES}\n"
  "C flags:        ${C_FLAGS}\n"
  "source:         revision ${REVISION}\n"
  "rustc:          ${RUSTC}\n"
  "cargo profile:  ${PROFILE}\n"
  "cargo features: ${FEATURES}\n"
  "geometry (include/aes5_buffer_manager.h):\n"
  "${geometry}")
