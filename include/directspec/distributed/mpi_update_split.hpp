// MpiUpdateSplit: the Trainer's UpdateSplit (train/update_split.hpp) over MPI, the data-parallel
// step of docs/distributed.md. Each rank computes a contiguous block of the update's M batches;
// one MPI_Allgatherv per side then gives every rank every batch's output-gradient rows (sparse:
// only the rows the batches touch; their ids need no exchange, since every rank sampled the same
// batches), and one more the batch losses. Every rank then sums them in batch order inside the
// same encoder backward, so the result is bitwise the single-process one.
//
// It also times the three phases of a shared update on this rank (own share, exchange including
// the wait for the slowest rank, the rest until the next share), in wall time and in the
// process's CPU time (which a busy shared machine inflates far less), and counts the bytes.
#pragma once

#include <chrono>
#include <climits>
#include <cstddef>
#include <ctime>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <mpi.h>

#include "directspec/core/types.hpp"
#include "directspec/distributed/mpi_types.hpp"
#include "directspec/train/update_split.hpp"

namespace directspec::distributed {

/// What the shared updates cost on this rank.
struct ExchangeStatistics {
  long long updates = 0;          // shared updates (M >= 2)
  double bytes_received = 0;      // gradient rows and losses other ranks computed
  double bytes_sent = 0;          // this rank's own rows and losses, as a contribution
  double share_seconds = 0;       // computing this rank's batches (filter chain and loss)
  double exchange_seconds = 0;    // in MPI_Allgatherv, waiting for the slowest rank included
  double replicated_seconds = 0;  // from an exchange to the next share: sampling, encoding,
                                  // encoder backward, optimizer update, callbacks (every rank)
  // The same three phases in this process's CPU time (all its threads): what they cost when the
  // process is not waiting for a core.
  double share_cpu_seconds = 0;
  double exchange_cpu_seconds = 0;
  double replicated_cpu_seconds = 0;

  double BytesReceivedPerUpdate() const {
    return updates > 0 ? bytes_received / static_cast<double>(updates) : 0.0;
  }
};

template <class Scalar>
class MpiUpdateSplit final : public UpdateSplit<Scalar> {
 public:
  explicit MpiUpdateSplit(MPI_Comm comm) : comm_(comm) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }

  std::pair<Index, Index> Share(Index count) override {
    const auto now = Clock::now();
    const double cpu = CpuSeconds();
    if (exchanged_) {
      stats_.replicated_seconds += Seconds(last_exchange_end_, now);
      stats_.replicated_cpu_seconds += cpu - last_exchange_end_cpu_;
    }
    share_start_ = now;
    share_start_cpu_ = cpu;
    return BatchShare(count, rank_, size_);
  }

  void Exchange(Index count, std::span<const std::size_t> user_offsets,
                std::span<const std::size_t> item_offsets, RowMatrix<Scalar>& user_grads,
                RowMatrix<Scalar>& item_grads, std::span<double> losses) override {
    const auto start = Clock::now();
    const double start_cpu = CpuSeconds();
    stats_.share_seconds += Seconds(share_start_, start);
    stats_.share_cpu_seconds += start_cpu - share_start_cpu_;
    Gather(count, user_offsets, user_grads.cols(), user_grads.data(), "user");
    Gather(count, item_offsets, item_grads.cols(), item_grads.data(), "item");
    counts_.resize(static_cast<std::size_t>(size_));
    displacements_.resize(static_cast<std::size_t>(size_));
    for (int p = 0; p < size_; ++p) {
      const auto [first, last] = BatchShare(count, p, size_);
      counts_[static_cast<std::size_t>(p)] = static_cast<int>(last - first);
      displacements_[static_cast<std::size_t>(p)] = static_cast<int>(first);
    }
    Account(sizeof(double));
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, losses.data(), counts_.data(),
                   displacements_.data(), MPI_DOUBLE, comm_);
    ++stats_.updates;
    last_exchange_end_ = Clock::now();
    last_exchange_end_cpu_ = CpuSeconds();
    stats_.exchange_seconds += Seconds(start, last_exchange_end_);
    stats_.exchange_cpu_seconds += last_exchange_end_cpu_ - start_cpu;
    exchanged_ = true;
  }

  const ExchangeStatistics& Statistics() const { return stats_; }
  int Rank() const { return rank_; }
  int Ranks() const { return size_; }

 private:
  using Clock = std::chrono::steady_clock;
  static double Seconds(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  }
  static double CpuSeconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  }

  // Every rank's block of rows of one side, in place: block p is the rows of p's batches.
  void Gather(Index count, std::span<const std::size_t> offsets, Index cols, Scalar* data,
              const char* side) {
    counts_.resize(static_cast<std::size_t>(size_));
    displacements_.resize(static_cast<std::size_t>(size_));
    for (int p = 0; p < size_; ++p) {
      const auto [first, last] = BatchShare(count, p, size_);
      const std::size_t begin =
          offsets[static_cast<std::size_t>(first)] * static_cast<std::size_t>(cols);
      const std::size_t end =
          offsets[static_cast<std::size_t>(last)] * static_cast<std::size_t>(cols);
      if (end > static_cast<std::size_t>(INT_MAX))
        throw std::length_error(std::string("MpiUpdateSplit: the update's ") + side +
                                " gradients hold " + std::to_string(end) +
                                " numbers, more than one MPI_Allgatherv can address (INT_MAX); "
                                "use fewer micro-batches per update");
      counts_[static_cast<std::size_t>(p)] = static_cast<int>(end - begin);
      displacements_[static_cast<std::size_t>(p)] = static_cast<int>(begin);
    }
    Account(sizeof(Scalar));
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, counts_.data(), displacements_.data(),
                   MpiType<Scalar>(), comm_);
  }

  // Adds the current counts_ (elements of `bytes` each) to the byte totals.
  void Account(std::size_t bytes) {
    double total = 0;
    for (const int c : counts_) total += static_cast<double>(c);
    const double own = static_cast<double>(counts_[static_cast<std::size_t>(rank_)]);
    stats_.bytes_received += (total - own) * static_cast<double>(bytes);
    stats_.bytes_sent += own * static_cast<double>(bytes);
  }

  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  std::vector<int> counts_, displacements_;
  ExchangeStatistics stats_;
  Clock::time_point share_start_{}, last_exchange_end_{};
  double share_start_cpu_ = 0, last_exchange_end_cpu_ = 0;
  bool exchanged_ = false;
};

}  // namespace directspec::distributed
