# ctest entries for the user-facing programs of examples/ (included by tests/CMakeLists.txt):
#
#   examples:*   every example runs to completion on small inputs and prints what it promises
#                (a failed self-check inside an example, e.g. custom_filter's finite-difference
#                test of its backward, exits 1 and fails the entry);
#   cli:*        directspec-train: --help, --list-presets, usage errors (exit 2, message naming the
#                flag or value; unusable output paths too), missing files (exit 1, message naming
#                the path), a synthetic run
#                with every output flag checked by tests/scripts/check_cli_json.py, and a
#                3-epoch smoke run of the citeulike-mf preset (skipped when the data set is absent).
#
# Exit code and output are checked together by tests/scripts/expect_run.cmake (ctest's
# PASS_REGULAR_EXPRESSION alone would ignore the exit code). Every entry runs with one OpenMP
# thread and a passive wait policy: on a busy shared machine a second, spinning OpenMP thread made
# training steps 10 to 100 times slower (docs/examples.md), and these are smoke tests.
# Run them with: ctest --test-dir <build> -L examples   (or -R '^(examples|cli):')
if(NOT DIRECTSPEC_BUILD_EXAMPLES)
  return()
endif()

# DIRECTSPEC_NO_SIMD_WARNING: a portable test build (no AVX2) must not print its speed warning
# into outputs the tests read (core/build_info.hpp).
set(_ex_env "OMP_NUM_THREADS=1" "OMP_WAIT_POLICY=passive" "LC_ALL=C" "DIRECTSPEC_NO_SIMD_WARNING=1")
set(_ex_expect ${CMAKE_CURRENT_SOURCE_DIR}/scripts/expect_run.cmake)
set(_ex_work ${CMAKE_CURRENT_BINARY_DIR}/examples-work)
set(_ex_cli $<TARGET_FILE:directspec-train>)
set(_ex_datasets ${DIRECTSPEC_DATASETS_DIR})
set(_ex_missing ${CMAKE_CURRENT_BINARY_DIR}/no-such-dataset-folder)

# directspec_example_test(NAME name EXIT code [REGEX regex] [TIMEOUT s] [ENV v=x...]
#                         COMMAND program args...)
function(directspec_example_test)
  cmake_parse_arguments(T "" "NAME;EXIT;REGEX;TIMEOUT" "COMMAND;ENV" ${ARGN})
  string(REPLACE ":" "_" workname "${T_NAME}")
  set(defines -DEXPECT_EXIT=${T_EXIT} -DWORKDIR=${_ex_work}/${workname})
  if(DEFINED T_REGEX)
    list(APPEND defines "-DEXPECT_REGEX=${T_REGEX}")
  endif()
  if(NOT DEFINED T_TIMEOUT)
    set(T_TIMEOUT 300)  # Release runs take seconds; sanitizer builds (.ci/run) are ~10x slower
  endif()
  string(REGEX MATCH "^[a-z]+" label "${T_NAME}")
  string(REPLACE ";" "|" command "${T_COMMAND}")
  add_test(NAME ${T_NAME} COMMAND ${CMAKE_COMMAND} "-DRUN=${command}" ${defines} -P ${_ex_expect})
  set(env ${_ex_env} ${T_ENV})
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS ${label}
                       ENVIRONMENT "${env}")
endfunction()

# ----------------------------------------------------------------------------------- examples
directspec_example_test(NAME examples:quickstart EXIT 0
  REGEX "loss 0\\.[0-9]+ -> 0\\.[0-9]+.*recall@20 0\\.[0-9]+  ndcg@20 0\\.[0-9]+.*effective rank [0-9.]+ of 32.*user 0:  item [0-9]+ \\("
  COMMAND $<TARGET_FILE:quickstart> 2)

directspec_example_test(NAME examples:lightgcn_directspec:synthetic EXIT 0
  ENV DIRECTSPEC_EXAMPLE_EPOCHS=1
  REGEX "synthetic data: .*adaptive DirectSpec\\+, 1 epoch.*paper_ndcg@20.* 1 +0\\.[0-9]+ +[0-9.]+ +0\\.[0-9]+.*trained 1 epoch in"
  COMMAND $<TARGET_FILE:lightgcn_directspec>)

directspec_example_test(NAME examples:lightgcn_directspec:lastfm EXIT 0
  REGEX "lastfm: 1,880 users x 4,489 items.*adaptive DirectSpec\\+, 1 epoch.*trained 1 epoch in"
  COMMAND $<TARGET_FILE:lightgcn_directspec> ${_ex_datasets}/lastfm 1)

directspec_example_test(NAME examples:lightgcn_directspec:missing_folder EXIT 1
  REGEX "lightgcn_directspec: error: .*no-such-dataset-folder.*not a directory"
  COMMAND $<TARGET_FILE:lightgcn_directspec> ${_ex_missing})

directspec_example_test(NAME examples:lightgcn_directspec:bad_epochs EXIT 2
  REGEX "lightgcn_directspec: EPOCHS must be a positive integer, got 'two'.*usage: lightgcn_directspec"
  COMMAND $<TARGET_FILE:lightgcn_directspec> ${_ex_datasets}/lastfm two)

directspec_example_test(NAME examples:quickstart:bad_epochs EXIT 2
  REGEX "quickstart: EPOCHS must be a positive integer, got '0'.*usage: quickstart"
  COMMAND $<TARGET_FILE:quickstart> 0)

directspec_example_test(NAME examples:custom_filter:too_many_arguments EXIT 2
  REGEX "custom_filter: too many arguments \\(2, at most 1\\).*usage: custom_filter"
  COMMAND $<TARGET_FILE:custom_filter> 2 3)

directspec_example_test(NAME examples:custom_filter EXIT 0
  REGEX "backward vs central differences, p 3, B 3, d 6: max error [0-9.]+e-[0-9]+ \\(relative.*none \\(collapses\\).*spectral power p = 2 +0\\.[0-9]+ +0\\.[0-9]+"
  COMMAND $<TARGET_FILE:custom_filter> 2)

directspec_example_test(NAME examples:regularizer_cost EXIT 0
  REGEX "NoFilter +[0-9.]+ +[0-9.]+ +1\\.00x.*DirectSpec +[0-9.]+.*DirectSpecPlus +[0-9.]+.*AdaptiveDirectSpecPlus +[0-9.]+ +[0-9.]+ +[0-9.]+x"
  COMMAND $<TARGET_FILE:regularizer_cost> synthetic 20 1)

directspec_example_test(NAME examples:regularizer_cost:two_threads EXIT 0
  REGEX "2 threads \\(sides in parallel\\).*AdaptiveDirectSpecPlus +[0-9.]+ +[0-9.]+ +[0-9.]+x"
  COMMAND $<TARGET_FILE:regularizer_cost> synthetic 10 1 2)

directspec_example_test(NAME examples:regularizer_cost:bad_steps EXIT 2
  REGEX "regularizer_cost: STEPS must be a positive integer, got 'abc'.*usage: regularizer_cost"
  COMMAND $<TARGET_FILE:regularizer_cost> synthetic abc)

# ------------------------------------------------------------------- CLI: checkpoint and resume
# 2E epochs against E + --resume for E more (tests/scripts/check_resume.cmake), MF and LightGCN
# (with micro-batches and early stopping), 1 and 2 threads.
foreach(threads 1 2)
  foreach(model mf lightgcn)
    set(_resume_args --model ${model} --eval-every 1 --threads ${threads}
                     --lr 20 --lr-decay 0.9)
    if(model STREQUAL "lightgcn")
      list(APPEND _resume_args --micro-batches 3 --early-stop ndcg@20 --patience 10
           --valid-fraction 0.1)
    endif()
    string(REPLACE ";" "|" _resume_args "${_resume_args}")
    add_test(NAME cli:resume:${model}:t${threads}
             COMMAND ${CMAKE_COMMAND} -DCLI=${_ex_cli} -DWORKDIR=${_ex_work}/resume_${model}_${threads}
                     "-DARGS=${_resume_args}" -DHALF=2
                     -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_resume.cmake)
    set_tests_properties(cli:resume:${model}:t${threads} PROPERTIES TIMEOUT 300 LABELS cli
                         ENVIRONMENT "OMP_WAIT_POLICY=passive;LC_ALL=C;DIRECTSPEC_NO_SIMD_WARNING=1")
  endforeach()
endforeach()

# -------------------------------------------------------------------------- CLI: usage and errors
directspec_example_test(NAME cli:help EXIT 0
  REGEX "usage: directspec-train.*--preset NAME.*--export-npy DIR"
  COMMAND ${_ex_cli} --help)

directspec_example_test(NAME cli:list_presets EXIT 0
  REGEX "bpr-mf .*citeulike-lightgcn .*citeulike-mf .*--lr 180.*gowalla-mf .*--lr 200.*lightgcn-bpr .*yelp-mf-adaptive "
  COMMAND ${_ex_cli} --list-presets)

directspec_example_test(NAME cli:unknown_flag EXIT 2
  REGEX "unknown flag '--no-such-flag'"
  COMMAND ${_ex_cli} --epochs 1 --no-such-flag 3)

# --distributed needs the MPI build (tests/mpi.cmake covers it there); elsewhere it is refused.
if(NOT DIRECTSPEC_USE_MPI)
  directspec_example_test(NAME cli:distributed_without_mpi EXIT 2
    REGEX "--distributed needs a directspec-train built with MPI"
    COMMAND ${_ex_cli} --epochs 1 --distributed)
endif()

directspec_example_test(NAME cli:bad_number EXIT 2
  REGEX "bad value for --lr: 'abc' is not a valid number"
  COMMAND ${_ex_cli} --lr abc)

directspec_example_test(NAME cli:bad_number_equals EXIT 2
  REGEX "bad value for --epochs: '2x' is not a valid number"
  COMMAND ${_ex_cli} --epochs=2x)

directspec_example_test(NAME cli:out_of_range EXIT 2
  REGEX "bad value for --lr: '-1' must be > 0"
  COMMAND ${_ex_cli} --lr -1)

directspec_example_test(NAME cli:bad_choice EXIT 2
  REGEX "bad value for --metrics: 'foo' \\(expected standard\\|paper\\|both\\)"
  COMMAND ${_ex_cli} --metrics foo)

directspec_example_test(NAME cli:missing_value EXIT 2
  REGEX "flag --epochs needs a value"
  COMMAND ${_ex_cli} --epochs)

directspec_example_test(NAME cli:unknown_preset EXIT 2
  REGEX "unknown preset 'no-such-preset'"
  COMMAND ${_ex_cli} --preset no-such-preset)

directspec_example_test(NAME cli:missing_data_folder EXIT 1
  REGEX "directspec-train: error: .*no-such-dataset-folder.*not a directory"
  COMMAND ${_ex_cli} --data ${_ex_missing} --epochs 1)

directspec_example_test(NAME cli:missing_train_file EXIT 1
  REGEX "directspec-train: error: .*no-such-dataset-folder/train\\.csv: cannot open"
  COMMAND ${_ex_cli} --train ${_ex_missing}/train.csv --test ${_ex_missing}/test.csv --epochs 1)

# An unusable output path is a bad flag value, refused before the data are loaded.
directspec_example_test(NAME cli:unwritable_json EXIT 2
  REGEX "bad value for --json: [^:]*no-such-dataset-folder/log\\.jsonl: directory '[^']*no-such-dataset-folder' does not exist \\(No such file or directory\\)"
  COMMAND ${_ex_cli} --epochs 1 --quiet --json ${_ex_missing}/log.jsonl)

# tests/test_cli_outputs.cpp: the outputs of directspec-train under kills, signals, file-size
# limits, concurrent runs and unusable paths (a Catch test driving the real program).
if(TARGET test_cli_outputs)
  target_compile_definitions(test_cli_outputs PRIVATE
    DIRECTSPEC_CLI="$<TARGET_FILE:directspec-train>")
  add_dependencies(test_cli_outputs directspec-train)
endif()

# tests/test_cli_tune.cpp: directspec-tune end to end (and directspec-train reading its preset).
if(TARGET test_cli_tune)
  target_compile_definitions(test_cli_tune PRIVATE
    DIRECTSPEC_CLI="$<TARGET_FILE:directspec-train>"
    DIRECTSPEC_TUNE="$<TARGET_FILE:directspec-tune>")
  add_dependencies(test_cli_tune directspec-train directspec-tune)
endif()

# tests/test_cli_serve.cpp: directspec-recommend serving a model saved by directspec-train.
if(TARGET test_cli_serve)
  target_compile_definitions(test_cli_serve PRIVATE
    DIRECTSPEC_CLI="$<TARGET_FILE:directspec-train>"
    DIRECTSPEC_RECOMMEND="$<TARGET_FILE:directspec-recommend>")
  add_dependencies(test_cli_serve directspec-train directspec-recommend)
endif()

# ------------------------------------------------------------------ CLI: outputs and the preset
set(_ex_check ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_cli_json.py)
if(DIRECTSPEC_TEST_PYTHON)
  add_test(NAME cli:outputs
    COMMAND ${DIRECTSPEC_TEST_PYTHON} ${_ex_check} outputs ${_ex_cli} ${_ex_work}/cli_outputs)
  add_test(NAME cli:preset_citeulike_mf
    COMMAND ${DIRECTSPEC_TEST_PYTHON} ${_ex_check} preset ${_ex_cli} ${_ex_datasets}/citeulike
            ${_ex_work}/cli_preset 3)
else()
  foreach(name cli:outputs cli:preset_citeulike_mf)
    add_test(NAME ${name} COMMAND sh -c "echo 'python3 not found: skipping'; exit 77")
  endforeach()
endif()
set_tests_properties(cli:outputs cli:preset_citeulike_mf PROPERTIES
  SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS cli ENVIRONMENT "${_ex_env}")
