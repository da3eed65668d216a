# Multi-rank tests of the distributed layer (docs/distributed.md), built and registered only when
# MPI is found (DIRECTSPEC_USE_MPI); label `mpi`. Run them with: ctest --test-dir <build> -L mpi
#
#   mpi:library:*  tests/mpi/test_mpi_training.cpp under mpirun with 2 ranks and 3 oversubscribed
#                  ranks: shared updates equal the single-process trainer bit for bit (MF and
#                  LightGCN), the shared ranking, the replica check, the exchange itself;
#   mpi:cli:*      directspec-train --distributed against one process (tables byte for byte,
#                  metrics exactly, a checkpoint written by rank 0 and resumed by every rank), a
#                  rank killed with SIGKILL and a failure on one rank each end the job within
#                  seconds with a message (tests/scripts/check_distributed.py).
#
# mpirun refuses to run as root unless told; CI runs as root, so the entries allow it. The entries
# take one lock: two multi-rank jobs at once would oversubscribe the cores several times over.
if(NOT DIRECTSPEC_USE_MPI)
  return()
endif()

add_executable(test_mpi_training mpi/test_mpi_training.cpp mpi/mpi_main.cpp)
target_link_libraries(test_mpi_training PRIVATE Catch2::Catch2 directspec_settings directspec::mpi)
target_include_directories(test_mpi_training PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})

set(_mpi_env "OMPI_ALLOW_RUN_AS_ROOT=1" "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1" "OMP_NUM_THREADS=1"
    "OMP_WAIT_POLICY=passive" "OMPI_MCA_mpi_yield_when_idle=1" "LC_ALL=C")
function(directspec_mpi_test name)
  add_test(NAME ${name} COMMAND ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS mpi TIMEOUT 300 RESOURCE_LOCK mpi
                       ENVIRONMENT "${_mpi_env}")
endfunction()

directspec_mpi_test(mpi:library:2_ranks
  ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 2 $<TARGET_FILE:test_mpi_training>)
directspec_mpi_test(mpi:library:3_ranks_oversubscribed
  ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 3 --oversubscribe $<TARGET_FILE:test_mpi_training>)

if(DIRECTSPEC_BUILD_EXAMPLES AND DIRECTSPEC_TEST_PYTHON)
  set(_mpi_check ${DIRECTSPEC_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_distributed.py
      --cli $<TARGET_FILE:directspec-train> --mpirun ${MPIEXEC_EXECUTABLE}
      --data ${DIRECTSPEC_DATASETS_DIR}/ml-100k --work ${CMAKE_CURRENT_BINARY_DIR}/mpi-work)
  directspec_mpi_test(mpi:cli:2_ranks_equal_one_process ${_mpi_check} equal --ranks 2)
  directspec_mpi_test(mpi:cli:3_ranks_equal_one_process ${_mpi_check} equal --ranks 3)
  directspec_mpi_test(mpi:cli:lightgcn_2_ranks_equal_one_process ${_mpi_check} equal --ranks 2
                      --model lightgcn)
  directspec_mpi_test(mpi:cli:checkpoint_written_once_resumed_by_all ${_mpi_check} resume)
  directspec_mpi_test(mpi:cli:killed_rank_ends_the_job ${_mpi_check} kill)
  directspec_mpi_test(mpi:cli:failing_rank_ends_the_job ${_mpi_check} fail)
  directspec_mpi_test(mpi:cli:without_mpirun_is_one_rank ${_mpi_check} singleton)
endif()
