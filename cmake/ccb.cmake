# ccb_test(NAME name SOURCES ... DEPS ... [LABELS unit])
# A GoogleTest executable registered with ctest; the default label is `unit`. Every test links
# ccb_testing (core/testing: status matchers, ASSERT_OK, FakeClock).
function(ccb_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} ccb_testing GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${T_NAME} PRIVATE
    CCB_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    CCB_SHARED_DIR="${CMAKE_SOURCE_DIR}/../shared"
    CCB_BINARY_DIR="${CMAKE_BINARY_DIR}")
  gtest_discover_tests(${T_NAME} PROPERTIES LABELS "${T_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
