// Catch2 main for the multi-rank tests (tests/mpi.cmake runs it under mpirun -np 2 and 3): MPI
// is initialised around the session, every rank runs the same test cases in the same order (their
// collectives must match), and the job fails when any rank has a failure.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "directspec/distributed/mpi_session.hpp"

int main(int argc, char** argv) {
  directspec::distributed::MpiSession session(&argc, &argv);
  const int failed = Catch::Session().run(argc, argv);
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (session.IsRoot() && any_failed != 0 && failed == 0)
    std::cerr << "another rank has failures (see its report)\n";
  return any_failed != 0 ? 1 : 0;
}
