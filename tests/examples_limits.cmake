# ctest entries for directspec-train's limits (included by tests/CMakeLists.txt after
# examples.cmake, whose settings it reuses): every resource bounded before it is used, every
# message in terms of flags (docs/cli.md "Limits", docs/reliability.md "Resources").
#
#   limits:oom_*        an allocation failure inside an OpenMP region (ulimit -v) ends in
#                       "out of memory while <phase>", exit 1, never an abort
#   limits:memory_*     runs that cannot fit are refused before training, naming the flag
#   limits:batch_*      a batch larger than the train rows is clamped
#   limits:erank_*      the effective rank at d = 8000 on 30 nodes stays cheap (timeout)
#   limits:float_*      every real-valued flag refuses inf, nan and float overflow with exit 2
#   limits:ids_*        a huge raw id names --ids remap, which then works
#   limits:warn_*       runs that learn nothing warn with the likely cause, exit 0
#
# Small data sets are written at configure time into the build tree.
# Run them with: ctest --test-dir <build> -L limits
if(NOT DIRECTSPEC_BUILD_EXAMPLES)
  return()
endif()

set(_lim_data ${CMAKE_CURRENT_BINARY_DIR}/limits-data)

# tiny: 10 users x 20 items, 50 train rows (5 per user), 2 test items per user.
directspec_write_tiny_dataset(${_lim_data}/tiny 2 train test)
# bigid: the same plus one user whose raw id is 2^31 - 2.
file(WRITE ${_lim_data}/bigid/train.csv "${train}2147483646,3\n")
file(WRITE ${_lim_data}/bigid/test.csv "${test}")
# wide: 300 users, a catalogue of 10^6 items (the largest item id), 4 train rows per user.
set(train "user,item\n")
set(test "user,item\n")
foreach(u RANGE 299)
  foreach(k RANGE 3)
    math(EXPR i "(${u} * 37 + ${k} * 101) % 1000")
    string(APPEND train "${u},${i}\n")
  endforeach()
  math(EXPR t "(${u} * 37 + 500) % 1000")
  string(APPEND test "${u},${t}\n")
endforeach()
file(WRITE ${_lim_data}/wide/train.csv "${train}0,999999\n")
file(WRITE ${_lim_data}/wide/test.csv "${test}")

# directspec_limit_test(NAME name EXIT code REGEX regex [FORBID regex] [TIMEOUT s]
#                       COMMAND program args...): as directspec_example_test, plus a regular
# expression the output must not match (no source path, no library option name, no abort).
function(directspec_limit_test)
  cmake_parse_arguments(T "" "NAME;EXIT;REGEX;FORBID;TIMEOUT" "COMMAND" ${ARGN})
  string(REPLACE ":" "_" workname "${T_NAME}")
  set(defines -DEXPECT_EXIT=${T_EXIT} -DWORKDIR=${_ex_work}/${workname} "-DEXPECT_REGEX=${T_REGEX}")
  if(DEFINED T_FORBID)
    list(APPEND defines "-DFORBID_REGEX=${T_FORBID}")
  endif()
  if(NOT DEFINED T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  string(REPLACE ";" "|" command "${T_COMMAND}")
  add_test(NAME ${T_NAME} COMMAND ${CMAKE_COMMAND} "-DRUN=${command}" ${defines} -P ${_ex_expect})
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS limits
                       ENVIRONMENT "${_ex_env}")
endfunction()

# Row 6: std::bad_alloc inside RecommendMany's OpenMP region (a 1 GiB score tile for 10^6 items
# under a 600 MB address space). Sanitizers reserve terabytes of address space: skipped there.
string(FIND "${CMAKE_CXX_FLAGS}" "-fsanitize" _lim_sanitized)
if(_lim_sanitized EQUAL -1)
  directspec_limit_test(NAME limits:oom_in_parallel_region EXIT 1
    REGEX "directspec-train: error: out of memory while computing the top-20 recommendations for --recommend-out rec\\.csv"
    FORBID "terminate|Abort|bad_alloc"
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scripts/run_limited.sh 600000 ${_ex_cli}
            --data ${_lim_data}/wide --epochs 1 --dim 8 --quiet --recommend-out rec.csv)
else()
  add_test(NAME limits:oom_in_parallel_region
           COMMAND sh -c "echo 'sanitizer build: an address-space limit cannot be set'; exit 77")
  set_tests_properties(limits:oom_in_parallel_region PROPERTIES SKIP_RETURN_CODE 77 LABELS limits)
endif()

# Row 8: refusals before training, naming the flag, the estimate and the limit.
if(EXISTS ${_ex_datasets}/citeulike/train.csv)
  directspec_limit_test(NAME limits:memory_batch_refused EXIT 2
    REGEX "note: --batch 2147483647 is larger than the [0-9]+ train rows.*directspec-train: --batch 2147483647 \\(clamped to the [0-9]+ train rows\\) needs about [0-9.]+ GiB \\([0-9.]+ GiB for the B x B filter Gram\\); --max-memory allows 4\\.0 GiB"
    FORBID "error:"
    COMMAND ${_ex_cli} --data ${_ex_datasets}/citeulike --batch 2147483647 --max-memory 4G)
endif()
directspec_limit_test(NAME limits:memory_dim_refused EXIT 2
  REGEX "directspec-train: [-a-z0-9 ]*--dim 2000000000[^;]* needs about [0-9.]+ [TPE]iB \\([0-9.]+ [TPE]iB for the [^;]+\\); this machine has [0-9.]+ [KMGT]iB available"
  COMMAND ${_ex_cli} --dim 2000000000)
directspec_limit_test(NAME limits:memory_threads_refused EXIT 2
  REGEX "directspec-train: [-a-z0-9, ]*--threads 100000000 on [^;]* needs about [0-9.]+ [TPE]iB \\([0-9.]+ [TPE]iB for the evaluation lists and tiles\\)"
  COMMAND ${_ex_cli} --threads 100000000)
directspec_limit_test(NAME limits:memory_cap_flag EXIT 2
  REGEX "bad value for --max-memory: '4X' is not a memory size"
  COMMAND ${_ex_cli} --max-memory 4X)
directspec_limit_test(NAME limits:batch_clamped EXIT 0
  REGEX "note: --batch 100000 is larger than the 50 train rows; using --batch 50.*final  loss"
  COMMAND ${_ex_cli} --data ${_lim_data}/tiny --batch 100000 --epochs 2)

# Row 9: d = 8000 on a 30-node data set with an erank report every epoch. Through the 8000 x 8000
# Gram each report took about 2.5 minutes; through the 30 x 30 one the whole run takes a second.
directspec_limit_test(NAME limits:erank_large_dim EXIT 0 TIMEOUT 120
  REGEX "epoch 3  loss [0-9.]+  erank [0-9.]+"
  COMMAND ${_ex_cli} --data ${_lim_data}/tiny --dim 8000 --epochs 3 --eval-every 1)

# Row 11: inf, nan and values that overflow a float, for every real-valued flag: exit 2 and a
# message with the flag and the value, never a source path or a library option name.
foreach(case "--tau=inf" "--tau0=nan" "--tau1=-inf" "--alpha=inf" "--shrink=nan" "--lr=inf"
             "--lr=nan" "--lr=1e300" "--lr-decay=nan" "--gamma=inf" "--temperature=inf"
             "--output-l2=inf" "--weight-decay=inf" "--subsample=nan")
  string(REGEX REPLACE "^(--[a-z0-9-]+)=(.*)$" "\\1" flag "${case}")
  string(REGEX REPLACE "^(--[a-z0-9-]+)=(.*)$" "\\2" value "${case}")
  string(REGEX REPLACE "[^a-z0-9]+" "_" name "${flag}_${value}")
  directspec_limit_test(NAME limits:float${name} EXIT 2
    REGEX "^directspec-train: bad value for ${flag}: '${value}' must be a finite number"
    FORBID "\\.hpp|Options|error:"
    COMMAND ${_ex_cli} --data ${_lim_data}/tiny ${flag} ${value})
endforeach()
directspec_limit_test(NAME limits:float_underflow EXIT 2
  REGEX "bad value for --temperature: '1e-50' is too small"
  FORBID "\\.hpp|Options|error:"
  COMMAND ${_ex_cli} --temperature 1e-50)
directspec_limit_test(NAME limits:subsample_empty EXIT 2
  REGEX "bad value for --subsample: '1e-09' keeps none of the train interactions"
  FORBID "BatchSampler"
  COMMAND ${_ex_cli} --data ${_lim_data}/tiny --subsample 1e-9)
directspec_limit_test(NAME limits:layers_bound EXIT 2
  REGEX "bad value for --layers: '100000000' must be at most 256"
  COMMAND ${_ex_cli} --model lightgcn --layers 100000000)

# Row 12: the id-range error names a flag that exists, and the flag works.
directspec_limit_test(NAME limits:ids_advice EXIT 1
  REGEX "train\\.csv:52: user id '2147483646' would make an index space of 2147483647 users for only [0-9]+ rows; add --ids remap"
  FORBID "IdPolicy"
  COMMAND ${_ex_cli} --data ${_lim_data}/bigid --epochs 1)

# Row 14: runs that learn nothing warn on stderr with the likely cause and still exit 0.
directspec_limit_test(NAME limits:warn_lr_too_large EXIT 0
  REGEX "warning: the loss did not move from its starting value ln 2.*likely cause: --lr 1e\\+30 is too large"
  COMMAND ${_ex_cli} --epochs 2 --quiet --lr 1e30)
directspec_limit_test(NAME limits:warn_tau_too_large EXIT 0
  REGEX "warning: recall@20 [0-9.]+ is at chance level.*likely cause: --tau 1e\\+06 is too large"
  COMMAND ${_ex_cli} --epochs 2 --quiet --tau 1e6)
directspec_limit_test(NAME limits:warn_dim_too_small EXIT 0
  REGEX "warning: the loss did not move.*likely cause: --dim 1 is too small"
  COMMAND ${_ex_cli} --epochs 2 --quiet --dim 1)
directspec_limit_test(NAME limits:warn_none_when_learning EXIT 0
  REGEX "final  loss 0\\.[0-9]+"
  FORBID "warning"
  COMMAND ${_ex_cli} --epochs 3)

set(_lim_check ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_cli_limits.py)
if(DIRECTSPEC_TEST_PYTHON)
  add_test(NAME limits:warn_json
    COMMAND ${DIRECTSPEC_TEST_PYTHON} ${_lim_check} warnings ${_ex_cli} ${_ex_work}/limits_warn_json)
  add_test(NAME limits:ids_remap
    COMMAND ${DIRECTSPEC_TEST_PYTHON} ${_lim_check} remap ${_ex_cli} ${_lim_data}/bigid
            ${_ex_work}/limits_ids_remap)
else()
  foreach(name limits:warn_json limits:ids_remap)
    add_test(NAME ${name} COMMAND sh -c "echo 'python3 not found: skipping'; exit 77")
  endforeach()
endif()
set_tests_properties(limits:warn_json limits:ids_remap PROPERTIES
  SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS limits ENVIRONMENT "${_ex_env}")
