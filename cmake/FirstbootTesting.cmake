# firstboot_unit_test(NAME SOURCES a_test.cpp ... [LIBS extra...])
# A GoogleTest executable labelled "unit", discovered test by test.
include(GoogleTest)
function(firstboot_unit_test name)
  if(NOT FIRSTBOOT_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} firstboot_test_support firstboot_core GTest::gtest GTest::gtest_main
                                        GTest::gmock)
  gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
endfunction()
