# Configures, builds and runs tests/install/consumer against the installed package, with
# nothing but find_package(aes5_buffer_manager 0.1 CONFIG REQUIRED):
#   cmake -DPREFIX=<install prefix> -DBUILD_DIR=<dir> -DCC=<C compiler> -P find_package_consumer.cmake
include("${CMAKE_CURRENT_LIST_DIR}/run_step.cmake")
file(REMOVE_RECURSE "${BUILD_DIR}")
run_step("the consumer project does not configure against ${PREFIX}"
  "${CMAKE_COMMAND}" -S "${CMAKE_CURRENT_LIST_DIR}/consumer" -B "${BUILD_DIR}"
  "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DCMAKE_C_COMPILER=${CC}" -DCMAKE_BUILD_TYPE=Release)
run_step("the consumer project does not build" "${CMAKE_COMMAND}" --build "${BUILD_DIR}")
run_step("the consumer failed" "${BUILD_DIR}/consumer")
