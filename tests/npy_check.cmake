# ctest entry "npy_numpy_check": the .npy files written by directspec load in numpy with the right
# dtype, shape and values, and numpy.save files load in directspec (tests/npy_check.py drives the
# hidden test cases of test_io). Skipped (exit 77) when no python3 with numpy is present.
if(TARGET test_io AND DIRECTSPEC_TEST_PYTHON)
  add_test(NAME npy_numpy_check
    COMMAND "${DIRECTSPEC_TEST_PYTHON}" "${CMAKE_CURRENT_SOURCE_DIR}/npy_check.py" $<TARGET_FILE:test_io>)
else()
  add_test(NAME npy_numpy_check COMMAND sh -c "echo 'python3 not found: skipping'; exit 77")
endif()
set_tests_properties(npy_numpy_check PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
