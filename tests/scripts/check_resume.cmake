# directspec-train --checkpoint / --resume (used by tests/examples.cmake): a run of 2E epochs and
# a run of E epochs with --checkpoint, resumed with --resume for E more, must write byte-identical
# tables (--export-npy) and report identical final metrics; resuming with another setting must be
# refused (exit 1, message naming the difference) before any training.
#
#   cmake -DCLI=directspec-train -DWORKDIR=dir "-DARGS=--model|lightgcn|..." -DHALF=2
#         -P check_resume.cmake
cmake_minimum_required(VERSION 3.20)
string(REPLACE "|" ";" args "${ARGS}")
math(EXPR full "2 * ${HALF}")
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")

function(run expect_code)
  execute_process(COMMAND "${CLI}" ${args} ${ARGN} WORKING_DIRECTORY "${WORKDIR}"
    RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REPLACE ";" " " shown "${ARGN}")
  if(NOT "${code}" STREQUAL "${expect_code}")
    message(FATAL_ERROR "directspec-train ${ARGS} ${shown} exited with ${code}, expected "
                        "${expect_code}:\n${out}${err}")
  endif()
  set(output "${out}${err}" PARENT_SCOPE)
endfunction()

# Metrics and loss of the final JSON line, without the timings and settings.
function(final_metrics file var)
  file(STRINGS "${WORKDIR}/${file}" lines REGEX "\"final\":true")
  string(REGEX REPLACE "\"(train_seconds|total_seconds|peak_memory_mb|eval_seconds)\":[^,}]*" ""
                       lines "${lines}")
  string(REGEX REPLACE "\"settings\":{[^}]*}" "" lines "${lines}")
  set(${var} "${lines}" PARENT_SCOPE)
endfunction()

run(0 --epochs ${full} --export-npy full --json full.jsonl)
run(0 --epochs ${HALF} --checkpoint run.dspc --checkpoint-every 1)
if(NOT output MATCHES "checkpoint: epoch ${HALF} written to run.dspc")
  message(FATAL_ERROR "the first half did not report its checkpoint:\n${output}")
endif()
run(0 --epochs ${full} --resume run.dspc --checkpoint run.dspc --export-npy resumed
      --json resumed.jsonl)
if(NOT output MATCHES "resumed from run.dspc after epoch ${HALF}")
  message(FATAL_ERROR "the second half did not say it resumed:\n${output}")
endif()
foreach(table user item)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORKDIR}/full/${table}.npy"
                          "${WORKDIR}/resumed/${table}.npy" RESULT_VARIABLE differ)
  if(differ)
    message(FATAL_ERROR "${table}.npy differs between the full run and the resumed run")
  endif()
endforeach()
final_metrics(full.jsonl a)
final_metrics(resumed.jsonl b)
if(NOT a STREQUAL b OR a STREQUAL "")
  message(FATAL_ERROR "final metrics differ:\nfull    ${a}\nresumed ${b}")
endif()

# Refusals: another learning rate, another model size, an empty file, a flag without its file.
run(1 --epochs ${full} --resume run.dspc --lr 7)
if(NOT output MATCHES "run.dspc.*checkpoint of a run with other settings.*'lr 7'")
  message(FATAL_ERROR "resuming with another --lr was not refused clearly:\n${output}")
endif()
run(1 --epochs ${full} --resume run.dspc --dim 16)
if(NOT output MATCHES "checkpoint of another model.*dim 16")
  message(FATAL_ERROR "resuming with another --dim was not refused clearly:\n${output}")
endif()
file(WRITE "${WORKDIR}/cut.dspc" "")
run(1 --epochs ${full} --resume cut.dspc)
if(NOT output MATCHES "cut.dspc.*empty file, not a checkpoint")
  message(FATAL_ERROR "an empty checkpoint was not refused clearly:\n${output}")
endif()
run(2 --epochs ${full} --checkpoint-every 2)
if(NOT output MATCHES "--checkpoint-every needs --checkpoint FILE")
  message(FATAL_ERROR "--checkpoint-every without --checkpoint was not refused:\n${output}")
endif()
