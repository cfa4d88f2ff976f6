# Runs cpp_check_default (a failed C++ check with no handler set) and passes when it ended
# without finishing (abort()), after printing the check; fails when it got past the misuse:
#   cmake -DPROGRAM=<cpp_check_default> -P cpp_check_default.cmake
execute_process(COMMAND "${PROGRAM}" RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "exit: ${result}\nstdout: ${out}\nstderr: ${err}")
if(result STREQUAL "0" OR out MATCHES "past the misuse")
  message(FATAL_ERROR "the program got past the misuse")
endif()
if(NOT err MATCHES "aes5 C\\+\\+ check failed: Buffer::samples<T>\\(\\): the buffer's format does not hold")
  message(FATAL_ERROR "the program ended without naming the failed check")
endif()
