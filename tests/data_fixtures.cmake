# Data sets the script-driven tests share (included before examples*.cmake: the glob is sorted).
#
# directspec_write_tiny_dataset(DIR TEST_ITEMS TRAIN_VAR TEST_VAR): 10 users x 20 items, 5 train
# rows per user (item (7u + 3k) mod 20, k = 0..4) and TEST_ITEMS test rows per user (item
# (7u + j) mod 20, j = 1..TEST_ITEMS), written to DIR/train.csv and DIR/test.csv; the two texts
# are also returned in TRAIN_VAR and TEST_VAR for variants built on them.
function(directspec_write_tiny_dataset dir test_items train_var test_var)
  set(train "user,item\n")
  set(test "user,item\n")
  foreach(u RANGE 9)
    foreach(k RANGE 4)
      math(EXPR i "(${u} * 7 + ${k} * 3) % 20")
      string(APPEND train "${u},${i}\n")
    endforeach()
    foreach(j RANGE 1 ${test_items})
      math(EXPR t "(${u} * 7 + ${j}) % 20")
      string(APPEND test "${u},${t}\n")
    endforeach()
  endforeach()
  file(WRITE ${dir}/train.csv "${train}")
  file(WRITE ${dir}/test.csv "${test}")
  set(${train_var} "${train}" PARENT_SCOPE)
  set(${test_var} "${test}" PARENT_SCOPE)
endfunction()
