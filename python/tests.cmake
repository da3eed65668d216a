# ctest entries for the Python module (label "python"; included by python/CMakeLists.txt):
#
#   python:pytest   python/tests/ with pytest against the build tree's package (tiny data made by
#                   the tests: seconds);
#   python:parity   python/tests/test_parity.py: MF and LightGCN fitted from Python equal
#                   directspec-train's run with the same flags to 1e-6 on every metric
#                   (ml-100k, 2 or 3 epochs each), and the CLI resumes a Python checkpoint;
#   python:optuna   python/examples/optuna_tune.py with 2 trials of 1 epoch on the synthetic data
#                   (skipped without python3-optuna).
#
# Without python3-pytest (or optuna) an entry exits 77 and says so: ctest lists it as skipped.
# Run them with: ctest --test-dir build -L python
set(_py ${Python3_EXECUTABLE})
set(_py_tests ${CMAKE_CURRENT_SOURCE_DIR}/tests)
set(_py_env "PYTHONPATH=${PROJECT_BINARY_DIR}/python" "PYTHONDONTWRITEBYTECODE=1"
  "DIRECTSPEC_DATASETS=${PROJECT_SOURCE_DIR}/datasets" "OMP_WAIT_POLICY=passive"
  "DIRECTSPEC_BUILD_DIR=${PROJECT_BINARY_DIR}" "CMAKE_COMMAND=${CMAKE_COMMAND}")
if(DIRECTSPEC_INSTALL)
  list(APPEND _py_env "DIRECTSPEC_PYTHON_INSTALL_DIR=${DIRECTSPEC_PYTHON_INSTALL_DIR}")
endif()
if(TARGET directspec-train)
  list(APPEND _py_env "DIRECTSPEC_TRAIN=$<TARGET_FILE:directspec-train>")
endif()

# _python_test(NAME needs-module timeout command...): skipped (77) when `needs` does not import.
function(_python_test name needs timeout)
  add_test(NAME ${name} COMMAND sh -c
    "\"$0\" -c 'import ${needs}' 2>/dev/null || { echo 'python3-${needs} not installed: skipping ${name}'; exit 77; }; exec \"$@\""
    ${_py} ${ARGN})
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS python TIMEOUT ${timeout}
    ENVIRONMENT "${_py_env}")
endfunction()

_python_test(python:pytest pytest 300
  ${_py} -m pytest -q -p no:cacheprovider ${_py_tests} --ignore=${_py_tests}/test_parity.py)
_python_test(python:parity pytest 600
  ${_py} -m pytest -q -p no:cacheprovider ${_py_tests}/test_parity.py)
_python_test(python:optuna optuna 300
  ${_py} ${CMAKE_CURRENT_SOURCE_DIR}/examples/optuna_tune.py --trials 2 --epochs 1)
