# Named geometries: the one place that defines them. A geometry is a list of NAME=VALUE
# settings that build.rs reads from the environment of the cargo build (README, "Choosing
# the geometry").
#
# small: Primary 4 / Conversion 2 / Scratch 2 buffers of 256 bytes, history of 8. The host's
# `small` preset (-DAES5_GEOMETRY=small) tests it, and the Cortex-M suite gives it to the
# microbit board, whose 16 KiB of RAM needs buffers this small (cmake/aes5_cortex_m.cmake).
set(AES5_SMALL_GEOMETRY
  AES5_PRIMARY_BUFFER_COUNT=4 AES5_CONVERSION_BUFFER_COUNT=2 AES5_SCRATCH_BUFFER_COUNT=2
  AES5_BUFFER_BYTES=256 AES5_HISTORY_CAPACITY=8)

# aes5_resolve_geometry(<out var> <geometry>): <geometry> is empty (the default geometry), the
# name of a geometry above, or a list of NAME=VALUE settings; <out var> gets the settings.
function(aes5_resolve_geometry out_var geometry)
  if(geometry STREQUAL "small")
    set(geometry ${AES5_SMALL_GEOMETRY})
  endif()
  set(${out_var} "${geometry}" PARENT_SCOPE)
endfunction()
