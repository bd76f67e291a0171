# Shared compile flags and helpers for every Omnibridge target.

set(OMNI_WARNINGS -Wall -Wextra -Wpedantic -Wno-unused-parameter)

if(OMNI_SANITIZE)
  set(OMNI_SAN_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
                     -fno-sanitize-recover=undefined)
  add_compile_options(${OMNI_SAN_FLAGS})
  add_link_options(-fsanitize=address,undefined)
endif()

# omni_library(<name> SOURCES ... DEPS ...): one static library per module.
function(omni_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/native-host/src)
  target_compile_options(${name} PRIVATE ${OMNI_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# omni_test(<name> SOURCES ... DEPS ... [LABELS ...]): a GoogleTest binary registered with ctest.
function(omni_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${OMNI_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/native-host/src
                                             ${PROJECT_SOURCE_DIR}/tests)
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60
                       WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endfunction()

# omni_fuzzer(<name> SOURCES ... DEPS ... CORPUS <dir>): a libFuzzer target when OMNI_FUZZ is on,
# else a corpus-replay executable. Either way ctest runs it over the corpus kept in the repo, and
# under OMNI_FUZZ it also fuzzes for OMNI_FUZZ_SECONDS.
set(OMNI_FUZZ_SECONDS 20 CACHE STRING "Seconds each fuzzer runs in the test suite")
function(omni_fuzzer name)
  cmake_parse_arguments(ARG "" "CORPUS" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/native-host/src)
  if(OMNI_FUZZ)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    add_test(NAME fuzz.${name}
             COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
                     ${PROJECT_SOURCE_DIR}/tests/fuzz/run-fuzzer.sh $<TARGET_FILE:${name}>
                     ${ARG_CORPUS} ${OMNI_FUZZ_SECONDS})
  else()
    target_sources(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cc)
    add_test(NAME fuzz.${name} COMMAND ${name} ${ARG_CORPUS})
  endif()
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT 300)
endfunction()

# Points every imported absl:: target at Debian's static archive of the same library (shipped
# beside the shared one in libabsl-dev).
macro(omni_use_static_absl)
  get_directory_property(omni_imported IMPORTED_TARGETS)
  foreach(target ${omni_imported})
    if(target MATCHES "^absl::")
      get_target_property(location ${target} IMPORTED_LOCATION_NONE)
      if(location)
        string(REGEX REPLACE "\\.so[.0-9]*$" ".a" archive "${location}")
        if(EXISTS "${archive}")
          set_target_properties(${target} PROPERTIES IMPORTED_LOCATION_NONE "${archive}")
        endif()
      endif()
    endif()
  endforeach()
endmacro()
