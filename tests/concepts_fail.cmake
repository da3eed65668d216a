# Compile-time contract checks (core/concepts.hpp): a Trainer built from a filter that lacks
# Backward must fail to compile with a diagnostic naming the member. Three ctest entries run the
# compiler in syntax-only mode on tests/compile_fail/filter_missing_backward.cpp:
#   concepts_fail:missing_backward_fails    the compile fails (WILL_FAIL)
#   concepts_fail:diagnostic_names_backward the output quotes the failed requirement
#                                           `f.Backward(gy, gxhat)` (PASS_REGULAR_EXPRESSION; ctest
#                                           ignores the exit code when a pass regex is set, which
#                                           is why the failure itself is its own entry)
#   concepts_fail:control_compiles          with the member present (-DDIRECTSPEC_CONTROL) it
#                                           compiles, so the failure is not an include problem
get_target_property(_directspec_eigen_includes Eigen3::Eigen INTERFACE_INCLUDE_DIRECTORIES)
set(_directspec_cf_command ${CMAKE_CXX_COMPILER} -std=c++20 -fsyntax-only
    -I${PROJECT_SOURCE_DIR}/include)
foreach(dir ${_directspec_eigen_includes})
  list(APPEND _directspec_cf_command -I${dir})
endforeach()
set(_directspec_cf_source ${CMAKE_CURRENT_SOURCE_DIR}/compile_fail/filter_missing_backward.cpp)

add_test(NAME concepts_fail:missing_backward_fails
         COMMAND ${_directspec_cf_command} ${_directspec_cf_source})
set_tests_properties(concepts_fail:missing_backward_fails PROPERTIES WILL_FAIL TRUE TIMEOUT 120)

add_test(NAME concepts_fail:diagnostic_names_backward
         COMMAND ${_directspec_cf_command} ${_directspec_cf_source})
set_tests_properties(concepts_fail:diagnostic_names_backward PROPERTIES
  PASS_REGULAR_EXPRESSION "f\\.Backward\\(gy, gxhat\\)[^a-z]*(is|would be) invalid"
  ENVIRONMENT "LC_ALL=C"
  TIMEOUT 120)

add_test(NAME concepts_fail:control_compiles
         COMMAND ${_directspec_cf_command} -DDIRECTSPEC_CONTROL ${_directspec_cf_source})
set_tests_properties(concepts_fail:control_compiles PROPERTIES TIMEOUT 120)
