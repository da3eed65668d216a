# Compile-time contract checks: each tests/compile_fail/CASE.cpp must fail to compile with a
# diagnostic that matches its expected text, and must compile with -DDIRECTSPEC_CONTROL (the
# case with the defect repaired), so the failure is due to the defect and not to an include
# path. Two ctest entries per case, run in syntax-only mode:
#   compile_fail:CASE           exit code 1 and the diagnostic (tests/scripts/expect_run.cmake)
#   compile_fail:CASE:control   compiles
# Label compile_fail: the checks do not depend on build flags, so only the release suite runs
# them (the asan and portable test presets exclude the label).
get_target_property(_directspec_eigen_includes Eigen3::Eigen INTERFACE_INCLUDE_DIRECTORIES)
set(_directspec_cf_command ${CMAKE_CXX_COMPILER} -std=c++20 -fsyntax-only
    -I${PROJECT_SOURCE_DIR}/include)
foreach(dir ${_directspec_eigen_includes})
  list(APPEND _directspec_cf_command -I${dir})
endforeach()
set(_directspec_cf_expect ${CMAKE_CURRENT_SOURCE_DIR}/scripts/expect_run.cmake)

function(directspec_compile_fail CASE REGEX)
  set(source ${CMAKE_CURRENT_SOURCE_DIR}/compile_fail/${CASE}.cpp)
  string(REPLACE ";" "|" command "${_directspec_cf_command};${source}")
  add_test(NAME compile_fail:${CASE}
           COMMAND ${CMAKE_COMMAND} "-DRUN=${command}" -DEXPECT_EXIT=1 "-DEXPECT_REGEX=${REGEX}"
                   -P ${_directspec_cf_expect})
  add_test(NAME compile_fail:${CASE}:control
           COMMAND ${_directspec_cf_command} -DDIRECTSPEC_CONTROL ${source})
  set_tests_properties(compile_fail:${CASE} compile_fail:${CASE}:control PROPERTIES
                       TIMEOUT 120 LABELS compile_fail ENVIRONMENT "LC_ALL=C")
endfunction()

# The concept's note quotes the failed requirement (GCC: "is invalid", Clang: "would be invalid").
directspec_compile_fail(filter_missing_backward
  "f\\.Backward\\(gy, gxhat\\)[^a-z]*(is|would be) invalid")
directspec_compile_fail(filter_options_ignored
  "the filter declares a nested Options but has no constructor taking const Options&")
directspec_compile_fail(scalar_mismatch
  "encoder, filter, loss and optimizer must share one Scalar type")
directspec_compile_fail(encoder_missing_backward
  "e\\.Backward\\(gu, gi, grads\\)[^a-z]*(is|would be) invalid")
directspec_compile_fail(loss_without_value
  "the loss does not satisfy directspec::LossPolicy")
directspec_compile_fail(sampler_missing_steps
  "p\\.StepsPerEpoch\\(batch_size\\)[^a-z]*(is|would be) invalid")
directspec_compile_fail(optimizer_missing_rate
  "o\\.LearningRate\\(\\)[^a-z]*(is|would be) invalid")
