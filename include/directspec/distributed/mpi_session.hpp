// MpiSession: the process's membership in an MPI job, the bottom of the distributed layer
// (docs/distributed.md). Initialises MPI (unless the program already did) with funnelled
// threading, since OpenMP threads compute but only the main thread communicates, and finalises it
// on destruction. Abort() ends the whole job with a message naming the rank: the way every error
// on one rank must end, because the other ranks would otherwise wait in a collective forever.
#pragma once

#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>

#include <mpi.h>

namespace directspec::distributed {

class MpiSession {
 public:
  /// Initialises MPI (MPI_THREAD_FUNNELED). Run without mpirun, Open MPI starts a singleton job
  /// of one rank.
  MpiSession(int* argc, char*** argv) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        throw std::runtime_error("MPI_Init_thread failed");
      if (provided < MPI_THREAD_FUNNELED)
        throw std::runtime_error(
            "the MPI library does not support MPI_THREAD_FUNNELED (OpenMP threads next to MPI)");
      owns_ = true;
    }
    // Errors inside MPI end the job (the default on MPI_COMM_WORLD, stated here on purpose).
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiSession() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owns_ && !finalized) MPI_Finalize();
  }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int Rank() const { return rank_; }
  int Size() const { return size_; }
  bool IsRoot() const { return rank_ == 0; }
  MPI_Comm Comm() const { return MPI_COMM_WORLD; }

  /// "rank R of N" for messages.
  std::string Where() const {
    return "rank " + std::to_string(rank_) + " of " + std::to_string(size_);
  }

  /// Prints `message` (when not empty) to stderr and ends every rank of the job with exit code
  /// `code` (mpirun reports which rank aborted).
  [[noreturn]] void Abort(const std::string& message, int code) const {
    if (!message.empty()) std::cerr << message << std::endl;
    MPI_Abort(MPI_COMM_WORLD, code);
    std::abort();  // MPI_Abort does not return; this only tells the compiler so
  }

 private:
  int rank_ = 0;
  int size_ = 1;
  bool owns_ = false;
};

}  // namespace directspec::distributed
