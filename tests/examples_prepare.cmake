# ctest entries for directspec-train's data preparation (--input ... --write-split) and
# validation flags (included by tests/CMakeLists.txt after examples.cmake, whose
# directspec_example_test it uses):
#
#   prepare:ml100k     the documented pipeline on a realistic raw log generated from ml-100k
#                      (scripts/make_raw_log.py), every count recomputed independently by
#                      tests/scripts/check_cli_prepare.py; --data DIR reproduces the dataset
#   prepare:*          errors: misspelled column, bad rating / time, filters that leave nothing,
#                      preparation flags without --input, unusable --write-split directories
#   cli:valid_*        --valid-fraction with --data, --early-stop never on test
#
# Small logs are written at configure time into the build tree.
# Run them with: ctest --test-dir <build> -R '^(prepare|cli:valid|cli:early)'
if(NOT DIRECTSPEC_BUILD_EXAMPLES)
  return()
endif()

set(_prep_data ${CMAKE_CURRENT_BINARY_DIR}/prepare-data)

# small.csv: 12 users x 8 rows over 20 items, string ids, ratings 1-5, times in tied pairs.
set(log "user,item,stars,ts\n")
foreach(u RANGE 11)
  foreach(k RANGE 7)
    math(EXPR i "(${u} * 3 + ${k} * 7) % 20")
    math(EXPR r "1 + (${u} + ${k} * 2) % 5")
    math(EXPR t "1000 + (${k} / 2) * 10")
    string(APPEND log "u${u},i${i},${r},${t}\n")
  endforeach()
endforeach()
file(WRITE ${_prep_data}/small.csv "${log}")
file(WRITE ${_prep_data}/bad_rating.csv "user,item,stars,ts\nu1,i1,4,10\nu1,i2,five,11\n")
file(WRITE ${_prep_data}/bad_time.csv "user,item,stars,ts\nu1,i1,4,10\nu1,i2,4,11:30\n")
file(WRITE ${_prep_data}/foreign/notes.txt "not a split\n")
# withvalid: the tiny data set (tests/data_fixtures.cmake, one test item per user) plus a
# valid.csv.
directspec_write_tiny_dataset(${_prep_data}/tiny 1 train test)
file(WRITE ${_prep_data}/withvalid/train.csv "${train}")
file(WRITE ${_prep_data}/withvalid/test.csv "${test}")
file(WRITE ${_prep_data}/withvalid/valid.csv "user,item\n0,19\n")

set(_prep_columns user=user,item=item,rating=stars,time=ts)

# ------------------------------------------------------------------ the realistic log, end to end
if(DIRECTSPEC_TEST_PYTHON AND EXISTS ${_ex_datasets}/ml-100k/train.csv)
  add_test(NAME prepare:ml100k
    COMMAND ${DIRECTSPEC_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_cli_prepare.py
            ${_ex_cli} ${_ex_datasets} ${PROJECT_SOURCE_DIR}/scripts/make_raw_log.py
            ${_ex_work}/prepare_ml100k)
else()
  add_test(NAME prepare:ml100k
    COMMAND sh -c "echo 'python3 or datasets/ml-100k not found: skipping'; exit 77")
endif()
set_tests_properties(prepare:ml100k PROPERTIES
  SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS prepare ENVIRONMENT "${_ex_env}")

# ------------------------------------------------------------------------ preparing and training
directspec_example_test(NAME prepare:train_from_input EXIT 0
  REGEX "filter min-rating 3: removed [0-9]+ rows.*filter duplicates merge: removed 0 rows.*filter k-core 3: removed.*split leave-last:1: .*small\\.csv \\(prepared\\): [0-9]+ users x [0-9]+ items, ids remapped.*final  loss"
  COMMAND ${_ex_cli} --input ${_prep_data}/small.csv --columns ${_prep_columns} --min-rating 3
          --kcore 3 --split leave-last:1 --epochs 2 --dim 8)
directspec_example_test(NAME prepare:write_split EXIT 0
  REGEX "split ratio:0\\.25 \\(seed 4\\).*wrote out/train\\.csv, valid\\.csv, test\\.csv and report\\.txt; train on it with: directspec-train --data out"
  COMMAND ${_ex_cli} --input ${_prep_data}/small.csv --columns ${_prep_columns} --split ratio:0.25
          --valid-fraction 0.2 --seed 4 --write-split out)

# ---------------------------------------------------------------------------------------- errors
directspec_example_test(NAME prepare:misspelled_column EXIT 1
  REGEX "small\\.csv:1: no column named 'Stars' for the rating; the header has 4 columns: user, item, stars, ts \\(did you mean 'stars'\\?\\)"
  COMMAND ${_ex_cli} --input ${_prep_data}/small.csv --columns user=user,item=item,rating=Stars)
directspec_example_test(NAME prepare:bad_rating EXIT 1
  REGEX "bad_rating\\.csv:3: rating 'five' is not a finite number in line 'u1,i2,five,11'"
  COMMAND ${_ex_cli} --input ${_prep_data}/bad_rating.csv --columns ${_prep_columns})
directspec_example_test(NAME prepare:bad_time EXIT 1
  REGEX "bad_time\\.csv:3: time '11:30' is neither a number nor an ISO date"
  COMMAND ${_ex_cli} --input ${_prep_data}/bad_time.csv --columns ${_prep_columns})
directspec_example_test(NAME prepare:min_rating_leaves_nothing EXIT 1
  REGEX "small\\.csv: no interactions left: every one of the 96 rows has a rating below 6"
  COMMAND ${_ex_cli} --input ${_prep_data}/small.csv --columns ${_prep_columns} --min-rating 6)
directspec_example_test(NAME prepare:kcore_leaves_nothing EXIT 1
  REGEX "small\\.csv: no interactions left: no user with at least 50 rows"
  COMMAND ${_ex_cli} --input ${_prep_data}/small.csv --columns ${_prep_columns} --kcore 50,1)
directspec_example_test(NAME prepare:split_needs_time EXIT 1
  REGEX "the split temporal:0\\.2 orders rows by time, but no time column was selected"
  COMMAND ${_ex_cli} --input ${_prep_data}/small.csv --columns user=user,item=item
          --split temporal:0.2)
directspec_example_test(NAME prepare:needs_input EXIT 2
  REGEX "directspec-train: --kcore prepares a raw log and needs --input FILE"
  COMMAND ${_ex_cli} --data ${_prep_data}/tiny --kcore 5)
directspec_example_test(NAME prepare:input_and_data EXIT 2
  REGEX "give either --input or --data"
  COMMAND ${_ex_cli} --input ${_prep_data}/small.csv --data ${_prep_data}/tiny)
directspec_example_test(NAME prepare:bad_split EXIT 2
  REGEX "bad value for --split: 'temporal:20' *: temporal needs a fraction strictly between 0 and 1"
  COMMAND ${_ex_cli} --input ${_prep_data}/small.csv --split temporal:20)
directspec_example_test(NAME prepare:bad_columns EXIT 2
  REGEX "bad value for --columns: unknown column role 'usr'"
  COMMAND ${_ex_cli} --input ${_prep_data}/small.csv --columns usr=0,item=1)
directspec_example_test(NAME prepare:bad_duplicates EXIT 2
  REGEX "bad value for --duplicates: 'drop' \\(expected keep\\|first\\|last\\|merge\\)"
  COMMAND ${_ex_cli} --input ${_prep_data}/small.csv --duplicates drop)
directspec_example_test(NAME prepare:write_split_and_json EXIT 2
  REGEX "--json has no effect with --write-split"
  COMMAND ${_ex_cli} --input ${_prep_data}/small.csv --write-split out --json log.jsonl)
directspec_example_test(NAME prepare:write_split_foreign_dir EXIT 2
  REGEX "bad value for --write-split: [^:]*foreign: holds other entries \\(notes\\.txt\\)"
  COMMAND ${_ex_cli} --input ${_prep_data}/small.csv --write-split ${_prep_data}/foreign)

# --------------------------------------------------------------------- validation and test-peeking
directspec_example_test(NAME cli:valid_fraction_data EXIT 0
  REGEX "valid: [0-9]+ rows.*test evaluation masks train and valid items.*note: validation carved from train.*early stopping: best ndcg@20"
  COMMAND ${_ex_cli} --data ${_prep_data}/tiny --valid-fraction 0.2 --early-stop ndcg@20
          --epochs 3 --eval-every 1 --dim 8)
directspec_example_test(NAME cli:valid_fraction_and_valid_file EXIT 2
  REGEX "--valid-fraction carves a validation set from train, but the data already have one"
  COMMAND ${_ex_cli} --data ${_prep_data}/withvalid --valid-fraction 0.2 --epochs 1)
directspec_example_test(NAME cli:early_stop_needs_valid EXIT 2
  REGEX "--early-stop needs a validation set \\(it never watches test\\): pass --valid FILE, put valid\\.csv in the --data folder, or add --valid-fraction F"
  COMMAND ${_ex_cli} --data ${_prep_data}/tiny --early-stop ndcg@20 --epochs 1)
