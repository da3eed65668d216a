# ctest entries that run the PyTorch peer, bench/peer/torch_directspec.py (label "peer"):
#
#   peer:selftest            the peer's own checks: one SGD step of every model / precision /
#                            product / filter variant against dense autograd, and its evaluation
#                            against a per-user loop (seconds);
#   peer:citeulike_mf_epoch  the peer runs one CiteULike epoch of MF + DirectSpec+ from the C++
#                            initial tables and batches, and test_recipe's "[recipe]" checks the C++
#                            epoch against that fresh output instead of the committed fixture.
#
# Both are driven by tests/scripts/peer_check.py and need python3-torch (Debian's, for
# /usr/bin/python3). Without it they are skipped: exit status 77, and the output says
# "python3-torch not installed: skipping ...". That check runs with the test, not at configure
# time. DIRECTSPEC_PEER_PYTHON names the interpreter; by default it is the first of python3 on
# PATH and /usr/bin/python3 that imports torch, else the interpreter of the other python checks.
# Run them with: ctest --test-dir build -L peer
set(DIRECTSPEC_PEER_PYTHON "" CACHE FILEPATH
    "python3 for the PyTorch peer tests (empty: the first python3 that imports torch)")
set(_peer_python "${DIRECTSPEC_PEER_PYTHON}")
if(NOT _peer_python)
  foreach(candidate ${DIRECTSPEC_PYTHON3} /usr/bin/python3)
    if(NOT _peer_python AND EXISTS "${candidate}")
      execute_process(COMMAND "${candidate}" -c "import numpy, torch"
        RESULT_VARIABLE torch_missing OUTPUT_QUIET ERROR_QUIET)
      if(torch_missing EQUAL 0)
        set(_peer_python "${candidate}")
      endif()
    endif()
  endforeach()
endif()
if(NOT _peer_python)
  # No torch found: the driver still runs, to say why it skips (and to find torch if it appears).
  set(_peer_python "${DIRECTSPEC_TEST_PYTHON}")
endif()

set(_peer_check ${CMAKE_CURRENT_SOURCE_DIR}/scripts/peer_check.py)
# _peer_test(NAME TIMEOUT WHAT driver-args...): WHAT names the check in the skip message.
function(_peer_test name timeout what)
  if(_peer_python)
    add_test(NAME ${name} COMMAND "${_peer_python}" ${_peer_check} ${ARGN})
  else()
    add_test(NAME ${name} COMMAND sh -c
      "echo 'python3-torch not installed: skipping ${what} (no python3 found)'; exit 77")
  endif()
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS peer TIMEOUT ${timeout}
    ENVIRONMENT "OMP_NUM_THREADS=1;OMP_WAIT_POLICY=passive")
endfunction()

_peer_test(peer:selftest 300 "the self-test of the PyTorch peer" selftest)
# The peer's epoch is slow with Debian's reference libblas3 (about 30 s per CiteULike epoch in
# float, more in double, more again on a busy machine), hence the long timeout.
if(TARGET test_recipe)
  _peer_test(peer:citeulike_mf_epoch 1800 "the CiteULike epoch against the PyTorch peer"
    epoch $<TARGET_FILE:test_recipe> ${CMAKE_CURRENT_BINARY_DIR}/peer-work)
endif()
