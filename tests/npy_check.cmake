# ctest entry "npy_numpy_check": the .npy files written by directspec load in numpy with the right
# dtype, shape and values, and numpy.save files load in directspec (tests/npy_check.py drives the
# hidden test cases of test_io). Skipped (exit 77) when no python3 with numpy is present.
set(DIRECTSPEC_NPY_PYTHON "")
find_program(DIRECTSPEC_PYTHON3 NAMES python3)
foreach(candidate ${DIRECTSPEC_PYTHON3} /usr/bin/python3)
  if(NOT DIRECTSPEC_NPY_PYTHON AND EXISTS "${candidate}")
    execute_process(COMMAND "${candidate}" -c "import numpy"
      RESULT_VARIABLE numpy_missing OUTPUT_QUIET ERROR_QUIET)
    if(numpy_missing EQUAL 0)
      set(DIRECTSPEC_NPY_PYTHON "${candidate}")
    endif()
  endif()
endforeach()
if(NOT DIRECTSPEC_NPY_PYTHON AND DIRECTSPEC_PYTHON3)
  set(DIRECTSPEC_NPY_PYTHON "${DIRECTSPEC_PYTHON3}")  # the script itself reports "no numpy"
endif()

if(TARGET test_io AND DIRECTSPEC_NPY_PYTHON)
  add_test(NAME npy_numpy_check
    COMMAND "${DIRECTSPEC_NPY_PYTHON}" "${CMAKE_CURRENT_SOURCE_DIR}/npy_check.py" $<TARGET_FILE:test_io>)
else()
  add_test(NAME npy_numpy_check COMMAND sh -c "echo 'python3 not found: skipping'; exit 77")
endif()
set_tests_properties(npy_numpy_check PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
