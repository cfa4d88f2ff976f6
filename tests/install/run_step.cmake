# run_step(<what failed> <command...>): runs the command, and fails the test with
# "<what failed>" when it exits non-zero.
function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${what}")
  endif()
endfunction()
