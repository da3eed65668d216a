# Runs one command and checks its exit code and output (used by tests/examples.cmake).
#
#   cmake "-DRUN=program|arg1|arg2" -DEXPECT_EXIT=2 "-DEXPECT_REGEX=unknown flag '--bogus'"
#         [-DWORKDIR=dir] [-DEXPECT_FILES=a|b] -P expect_run.cmake
#
# RUN           the program and its arguments separated by '|' (not after -P: cmake would parse
#               arguments such as --list-presets itself)
# EXPECT_EXIT   required exit code (default 0)
# EXPECT_REGEX  regular expression that stdout + stderr must match (optional)
# FORBID_REGEX  regular expression that stdout + stderr must not match (optional)
# WORKDIR       working directory, emptied and created first (optional)
# EXPECT_FILES  '|'-separated paths (relative to WORKDIR) that must exist and be non-empty
#
# Unlike ctest's PASS_REGULAR_EXPRESSION (which ignores the exit code when set), this checks both.
cmake_minimum_required(VERSION 3.20)

if(NOT DEFINED RUN OR RUN STREQUAL "")
  message(FATAL_ERROR "expect_run.cmake: pass the command as -DRUN=program|arg|...")
endif()
string(REPLACE "|" ";" command "${RUN}")
if(NOT DEFINED EXPECT_EXIT)
  set(EXPECT_EXIT 0)
endif()

set(run_directory "")
if(DEFINED WORKDIR AND NOT WORKDIR STREQUAL "")
  file(REMOVE_RECURSE "${WORKDIR}")
  file(MAKE_DIRECTORY "${WORKDIR}")
  set(run_directory WORKING_DIRECTORY "${WORKDIR}")
endif()

execute_process(COMMAND ${command} ${run_directory}
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(output "${out}${err}")
string(REPLACE ";" " " shown "${command}")

if(NOT "${code}" STREQUAL "${EXPECT_EXIT}")
  message(FATAL_ERROR "'${shown}' exited with '${code}', expected ${EXPECT_EXIT}; output:\n${output}")
endif()
if(DEFINED EXPECT_REGEX AND NOT output MATCHES "${EXPECT_REGEX}")
  message(FATAL_ERROR "output of '${shown}' does not match '${EXPECT_REGEX}':\n${output}")
endif()
if(DEFINED FORBID_REGEX AND output MATCHES "${FORBID_REGEX}")
  message(FATAL_ERROR "output of '${shown}' matches the forbidden '${FORBID_REGEX}':\n${output}")
endif()
if(DEFINED EXPECT_FILES)
  string(REPLACE "|" ";" files "${EXPECT_FILES}")
  foreach(f ${files})
    set(path "${WORKDIR}/${f}")
    if(NOT EXISTS "${path}")
      message(FATAL_ERROR "'${shown}' did not write ${path}")
    endif()
    file(SIZE "${path}" size)
    if(size EQUAL 0)
      message(FATAL_ERROR "'${shown}' wrote an empty ${path}")
    endif()
  endforeach()
endif()
message(STATUS "ok: '${shown}' exited with ${code}")
