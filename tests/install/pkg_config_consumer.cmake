# Builds and runs the consumer with nothing but pkg-config's flags for the installed package:
#   cmake -DPREFIX=<install prefix> -DCC=<C compiler> -DSOURCE=<consumer.c> -DOUT=<program>
#         -DLIBDIR=<lib dir name> -P pkg_config_consumer.cmake
find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${LIBDIR}/pkgconfig")
execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs --static aes5_buffer_manager
                OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "pkg-config does not find aes5_buffer_manager under ${PREFIX}")
endif()
message(STATUS "pkg-config --cflags --libs --static aes5_buffer_manager: ${flags}")
separate_arguments(flag_list UNIX_COMMAND "${flags}")
include("${CMAKE_CURRENT_LIST_DIR}/run_step.cmake")
run_step("the consumer does not build with pkg-config's flags"
  "${CC}" -std=c11 -Wall -Wextra -Wpedantic -Werror "${SOURCE}" -o "${OUT}" ${flag_list})
run_step("the consumer failed" "${OUT}")
