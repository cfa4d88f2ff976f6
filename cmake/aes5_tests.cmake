# Registers the host tests: every tests/c/test_*.c and test_*.cpp, the header compile checks,
# and a run of the demo.

file(GLOB AES5_C_TESTS CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/tests/c/test_*.c")
file(GLOB AES5_CXX_TESTS CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/tests/c/test_*.cpp")

function(aes5_add_test source)
  get_filename_component(name "${source}" NAME_WE)
  add_executable(${name} "${source}")
  target_include_directories(${name} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/tests/c")
  target_link_libraries(${name} PRIVATE aes5::buffer_manager)
  target_compile_options(${name} PRIVATE ${AES5_WARNING_FLAGS} ${AES5_SANITIZE_FLAGS})
  target_link_options(${name} PRIVATE ${AES5_SANITIZE_FLAGS})
  set_target_properties(${name} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF
                                           CXX_STANDARD 11 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT 120)
  if(AES5_VALGRIND)
    # The same program under memcheck: any invalid access, uninitialised read or leak fails.
    add_test(NAME valgrind_${name}
             COMMAND ${AES5_VALGRIND_COMMAND} --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
                     $<TARGET_FILE:${name}>)
    set_tests_properties(valgrind_${name} PROPERTIES TIMEOUT 300)
  endif()
endfunction()

if(AES5_VALGRIND)
  find_program(AES5_VALGRIND_COMMAND valgrind REQUIRED)
endif()

foreach(source IN LISTS AES5_C_TESTS AES5_CXX_TESTS)
  aes5_add_test("${source}")
endforeach()

# The header compiles standalone, included twice, and from two translation units, as C99,
# C11, C++11 and C++17, with every warning an error.
foreach(std IN ITEMS 99 11)
  set(name header_c${std})
  add_executable(${name} tests/c/header/header_twice.c tests/c/header/header_second_unit.c)
  set_target_properties(${name} PROPERTIES C_STANDARD ${std} C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_link_libraries(${name} PRIVATE aes5::buffer_manager)
  target_compile_options(${name} PRIVATE ${AES5_WARNING_FLAGS})
  add_test(NAME ${name} COMMAND ${name})
endforeach()
foreach(std IN ITEMS 11 17)
  set(name header_cxx${std})
  add_executable(${name} tests/c/header/header_twice.cpp tests/c/header/header_second_unit.c)
  set_target_properties(${name} PROPERTIES CXX_STANDARD ${std} CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF
                                           C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_link_libraries(${name} PRIVATE aes5::buffer_manager)
  target_compile_options(${name} PRIVATE ${AES5_WARNING_FLAGS})
  add_test(NAME ${name} COMMAND ${name})
endforeach()

if(AES5_BUILD_DEMO)
  # A short run of the demo: it verifies every sample it streams and exits non-zero on error.
  add_test(NAME demo_stream COMMAND aes5_demo --seconds 1)
  set_tests_properties(demo_stream PROPERTIES TIMEOUT 120)
  # Paced to the clock (one second of audio takes one second): every sample still verified.
  add_test(NAME demo_realtime COMMAND aes5_demo --seconds 1 --realtime)
  set_tests_properties(demo_realtime PROPERTIES TIMEOUT 120)
  # A bad argument is named.
  add_test(NAME demo_bad_seconds COMMAND aes5_demo --seconds abc)
  set_tests_properties(demo_bad_seconds PROPERTIES PASS_REGULAR_EXPRESSION "--seconds wants a whole number of seconds from 1 to 3600, not 'abc'")
  add_test(NAME demo_zero_seconds COMMAND aes5_demo --seconds 0)
  set_tests_properties(demo_zero_seconds PROPERTIES PASS_REGULAR_EXPRESSION "not '0'")
  # Only with the default geometry: a server period of 256 stereo float frames needs 2 KiB
  # buffers.
  if(TARGET aes5_jack_client AND AES5_GEOMETRY STREQUAL "")
    # A private JACK2 server on the dummy backend (48 kHz, 256 frames), always stopped again;
    # the client must see 1000 periods, every status OK and counts that reconcile.
    find_program(AES5_JACKD jackd REQUIRED)
    find_program(AES5_JACK_LSP jack_lsp REQUIRED)
    add_test(NAME jack_client_dummy_backend
             COMMAND "${CMAKE_CURRENT_SOURCE_DIR}/tests/jack/run_jack_client.sh" "${AES5_JACKD}" "${AES5_JACK_LSP}"
                     $<TARGET_FILE:aes5_jack_client> 1000)
    # Tests run in parallel; the server's own timing needs a quiet core, not a shared one.
    set_tests_properties(jack_client_dummy_backend PROPERTIES TIMEOUT 120 RUN_SERIAL TRUE)
    if(TARGET aes5_jack_recorder)
      # The recorder on its own private server: the WAV file must hold exactly the signal.
      add_test(NAME jack_recorder_dummy_backend
               COMMAND "${CMAKE_CURRENT_SOURCE_DIR}/tests/jack/run_jack_client.sh" "${AES5_JACKD}" "${AES5_JACK_LSP}"
                       $<TARGET_FILE:aes5_jack_recorder> 1000 --wav "${CMAKE_CURRENT_BINARY_DIR}/jack_recorder.wav")
      set_tests_properties(jack_recorder_dummy_backend PROPERTIES TIMEOUT 120 RUN_SERIAL TRUE)
    endif()
  endif()
endif()

# The multi-threaded stress test (POSIX threads; host only, never part of a Cortex-M image).
# A short run is a ctest test; `scripts/stress.sh --seconds N` runs it longer.
if(NOT CMAKE_CROSSCOMPILING)
  find_package(Threads REQUIRED)
  add_executable(aes5_stress tests/stress/stress_pool.c)
  target_link_libraries(aes5_stress PRIVATE aes5::buffer_manager Threads::Threads)
  target_compile_options(aes5_stress PRIVATE ${AES5_WARNING_FLAGS} ${AES5_SANITIZE_FLAGS})
  target_link_options(aes5_stress PRIVATE ${AES5_SANITIZE_FLAGS})
  set_target_properties(aes5_stress PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  add_test(NAME stress_pool COMMAND aes5_stress --seconds 3)
  set_tests_properties(stress_pool PROPERTIES TIMEOUT 120 RUN_SERIAL TRUE)
  if(AES5_VALGRIND)
    # Valgrind runs one thread at a time and ~50x slower: a fixed number of steps instead.
    add_test(NAME valgrind_stress_pool
             COMMAND ${AES5_VALGRIND_COMMAND} --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
                     $<TARGET_FILE:aes5_stress> --iterations 20000)
    set_tests_properties(valgrind_stress_pool PROPERTIES TIMEOUT 300)
  endif()
endif()

# The installed package, tried as a consumer would: install into a staging prefix, then build
# and run one consumer with find_package() and one with nothing but pkg-config's flags, and
# check that rustc's native-static-libs still match what was installed.
if(AES5_INSTALL)
  set(AES5_STAGE "${CMAKE_BINARY_DIR}/install-stage")
  add_test(NAME install_stage
           COMMAND ${CMAKE_COMMAND} --install "${CMAKE_BINARY_DIR}" --prefix "${AES5_STAGE}")
  set_tests_properties(install_stage PROPERTIES FIXTURES_SETUP aes5_installed)
  add_test(NAME install_consumer_find_package
           COMMAND ${CMAKE_COMMAND} "-DPREFIX=${AES5_STAGE}" "-DBUILD_DIR=${CMAKE_BINARY_DIR}/consumer-find-package"
                   "-DCC=${CMAKE_C_COMPILER}" -P "${CMAKE_CURRENT_SOURCE_DIR}/tests/install/find_package_consumer.cmake")
  add_test(NAME install_consumer_pkg_config
           COMMAND ${CMAKE_COMMAND} "-DPREFIX=${AES5_STAGE}" "-DLIBDIR=${CMAKE_INSTALL_LIBDIR}" "-DCC=${CMAKE_C_COMPILER}"
                   "-DSOURCE=${CMAKE_CURRENT_SOURCE_DIR}/tests/install/consumer/consumer.c"
                   "-DOUT=${CMAKE_BINARY_DIR}/consumer-pkg-config"
                   -P "${CMAKE_CURRENT_SOURCE_DIR}/tests/install/pkg_config_consumer.cmake")
  add_test(NAME install_native_libs_drift
           COMMAND ${CMAKE_COMMAND} "-DPREFIX=${AES5_STAGE}" "-DLIBDIR=${CMAKE_INSTALL_LIBDIR}"
                   "-DPROFILE=${AES5_CARGO_PROFILE}" "-DTARGET_DIR=${AES5_CARGO_TARGET_DIR}" "-DAES5_CARGO=${AES5_CARGO}"
                   -P "${CMAKE_CURRENT_SOURCE_DIR}/tests/install/native_libs_drift.cmake")
  set_tests_properties(install_consumer_find_package install_consumer_pkg_config install_native_libs_drift
                       PROPERTIES FIXTURES_REQUIRED aes5_installed TIMEOUT 300)
endif()

# The C++ header again as C++17 (the glob above builds it as C++11), and the check that its
# move-only buffer handle cannot be copied.
add_executable(test_cpp_raii_cxx17 tests/c/test_cpp_raii.cpp)
target_include_directories(test_cpp_raii_cxx17 PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/tests/c")
target_link_libraries(test_cpp_raii_cxx17 PRIVATE aes5::buffer_manager)
target_compile_options(test_cpp_raii_cxx17 PRIVATE ${AES5_WARNING_FLAGS} ${AES5_SANITIZE_FLAGS})
target_link_options(test_cpp_raii_cxx17 PRIVATE ${AES5_SANITIZE_FLAGS})
set_target_properties(test_cpp_raii_cxx17 PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
add_test(NAME test_cpp_raii_cxx17 COMMAND test_cpp_raii_cxx17)
# A failed check of the C++ face with no handler set prints the check and aborts (a host; on
# Cortex-M it ends in the panic hook): the output must name the check, and the program must not
# get past the misuse.
add_executable(cpp_check_default tests/c/cpp_check_default.cpp)
target_link_libraries(cpp_check_default PRIVATE aes5::buffer_manager)
target_compile_options(cpp_check_default PRIVATE ${AES5_WARNING_FLAGS} ${AES5_SANITIZE_FLAGS} -fno-exceptions -fno-rtti)
target_link_options(cpp_check_default PRIVATE ${AES5_SANITIZE_FLAGS})
set_target_properties(cpp_check_default PROPERTIES CXX_STANDARD 11 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
add_test(NAME cpp_check_default
         COMMAND ${CMAKE_COMMAND} "-DPROGRAM=$<TARGET_FILE:cpp_check_default>"
                 -P "${CMAKE_CURRENT_SOURCE_DIR}/tests/c/cpp_check_default.cmake")
add_test(NAME cxx_buffer_is_not_copyable
         COMMAND ${CMAKE_COMMAND} "-DCXX=${CMAKE_CXX_COMPILER}" "-DINCLUDE=${CMAKE_CURRENT_BINARY_DIR}/aes5_buffer_manager/include"
                 "-DSOURCE=${CMAKE_CURRENT_SOURCE_DIR}/tests/c/cxx_compile_fail/copy_buffer.cpp"
                 -P "${CMAKE_CURRENT_SOURCE_DIR}/tests/c/cxx_compile_fail/check.cmake")
