# A move-only aes5::Buffer cannot be copied: the control build succeeds, the copy fails on
# the deleted copy constructor (and on nothing else).
#   cmake -DCXX=<compiler> -DINCLUDE=<generated header dir> -DSOURCE=<copy_buffer.cpp> -P check.cmake
set(flags -std=c++11 -fno-exceptions -fno-rtti -Wall -Wextra -Wpedantic -Werror -fsyntax-only "-I${INCLUDE}")
execute_process(COMMAND "${CXX}" ${flags} "${SOURCE}" RESULT_VARIABLE control ERROR_VARIABLE control_err)
if(NOT control EQUAL 0)
  message(FATAL_ERROR "the control does not compile:\n${control_err}")
endif()
execute_process(COMMAND "${CXX}" ${flags} -DAES5_COPY "${SOURCE}" RESULT_VARIABLE copied ERROR_VARIABLE copy_err)
if(copied EQUAL 0)
  message(FATAL_ERROR "copying an aes5::Buffer compiled")
endif()
if(NOT copy_err MATCHES "deleted")
  message(FATAL_ERROR "the copy failed for another reason:\n${copy_err}")
endif()
message(STATUS "copying an aes5::Buffer is refused: deleted copy constructor")
