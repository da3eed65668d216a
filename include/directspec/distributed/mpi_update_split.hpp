// MpiUpdateSplit: the Trainer's UpdateSplit (train/update_split.hpp) over MPI, the data-parallel
// step of docs/distributed.md. Each rank computes a contiguous block of the update's M batches,
// and MPI_Allgatherv calls in a fixed order give every rank every batch's output-gradient rows
// (sparse: only the rows the batches touch) and losses:
//  - Exchange: every rank sampled every batch, so the rows' ids need no exchange;
//  - ExchangeBatches (MF: each rank samples and gathers its own batches only): the rows per
//    batch, then the row ids with the rows.
// Every rank then sums them in batch order inside the same encoder backward, so the result is
// bitwise the single-process one.
//
// The blocks are balanced by default (SharePolicy::kBalanced): one small MPI_Allgather per update
// gives every rank every rank's timings, and the same ShareBalancer on every rank turns them into
// the same next blocks, larger for the ranks that finish sooner (train/share_balancer.hpp).
//
// It also times the three phases of a shared update on this rank (own share, exchange including
// the wait for the slowest rank, the rest until the next share), in wall time and in the
// process's CPU time (which a busy shared machine inflates far less), and counts the bytes.
#pragma once

#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <mpi.h>

#include "directspec/core/types.hpp"
#include "directspec/distributed/mpi_types.hpp"
#include "directspec/train/share_balancer.hpp"
#include "directspec/train/update_split.hpp"

namespace directspec::distributed {

/// How an update's batches are divided among the ranks.
enum class SharePolicy {
  kEqual,     // BatchShare: blocks whose sizes differ by at most one
  kBalanced,  // ShareBalancer: blocks in proportion to each rank's measured speed
};

/// What the shared updates cost on this rank.
struct ExchangeStatistics {
  long long updates = 0;          // shared updates (M >= 2)
  long long batches = 0;          // batches of the shared updates, all ranks
  long long own_batches = 0;      // of them computed by this rank
  double bytes_received = 0;      // gradient rows and losses other ranks computed
  double bytes_sent = 0;          // this rank's own rows and losses, as a contribution
  double share_seconds = 0;       // computing this rank's batches (filter chain and loss; under
                                  // ExchangeBatches their sampling and gathering too)
  double exchange_seconds = 0;    // in MPI_Allgatherv, waiting for the slowest rank included
  double replicated_seconds = 0;  // from an exchange to the next share: encoder backward,
                                  // optimizer update, callbacks, and under Exchange sampling and
                                  // encoding (every rank)
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
  explicit MpiUpdateSplit(MPI_Comm comm, SharePolicy policy = SharePolicy::kBalanced)
      : comm_(comm), policy_(policy), balancer_(Size(comm)) {
    MPI_Comm_rank(comm_, &rank_);
    size_ = balancer_.Parts();
  }

  std::pair<Index, Index> Share(Index count) override {
    const auto now = Clock::now();
    const double cpu = CpuSeconds();
    outside_ns_ = 0;
    if (exchanged_) {
      stats_.replicated_seconds += Seconds(last_exchange_end_, now);
      stats_.replicated_cpu_seconds += cpu - last_exchange_end_cpu_;
      outside_ns_ = Nanoseconds(last_exchange_end_, now);
    }
    share_start_ = now;
    share_start_cpu_ = cpu;
    bounds_ =
        policy_ == SharePolicy::kBalanced ? balancer_.Split(count) : BatchShareBounds(count, size_);
    return Block(rank_);
  }

  void Exchange(Index count, std::span<const std::size_t> user_offsets,
                std::span<const std::size_t> item_offsets, RowMatrix<Scalar>& user_grads,
                RowMatrix<Scalar>& item_grads, std::span<double> losses) override {
    BeginExchange(count);
    GatherRows(user_offsets, user_grads.cols(), nullptr, user_grads.data(), "user");
    GatherRows(item_offsets, item_grads.cols(), nullptr, item_grads.data(), "item");
    GatherLosses(nullptr, losses.data());
    EndExchange(count);
  }

  bool SharesSampling() const override { return true; }

  void ExchangeBatches(Index count, const BatchRows<Scalar>& own, BatchRows<Scalar>& all) override {
    BeginExchange(count);
    const auto [first, last] = Block(rank_);
    if (own.Batches() != last - first)
      throw std::logic_error("MpiUpdateSplit::ExchangeBatches: " + std::to_string(own.Batches()) +
                             " own batches, the share holds " + std::to_string(last - first));
    // Every batch's row counts first (samplers may differ in batch shape), then the offsets.
    batch_rows_.clear();
    for (Index k = 0; k < own.Batches(); ++k) {
      const auto u = static_cast<std::size_t>(k);
      batch_rows_.push_back(
          static_cast<std::int64_t>(own.user_offsets[u + 1] - own.user_offsets[u]));
      batch_rows_.push_back(
          static_cast<std::int64_t>(own.item_offsets[u + 1] - own.item_offsets[u]));
    }
    all_batch_rows_.resize(2 * static_cast<std::size_t>(count));
    SetBlockCounts(2);
    GatherBlocks(batch_rows_.data(), all_batch_rows_.data());
    all.user_offsets.assign(1, 0);
    all.item_offsets.assign(1, 0);
    for (std::size_t k = 0; k < static_cast<std::size_t>(count); ++k) {
      all.user_offsets.push_back(all.user_offsets.back() +
                                 static_cast<std::size_t>(all_batch_rows_[2 * k]));
      all.item_offsets.push_back(all.item_offsets.back() +
                                 static_cast<std::size_t>(all_batch_rows_[2 * k + 1]));
    }
    const Index d = own.user_grads.cols();
    all.users.resize(all.user_offsets.back());
    all.items.resize(all.item_offsets.back());
    all.user_grads.resize(static_cast<Index>(all.users.size()), d);
    all.item_grads.resize(static_cast<Index>(all.items.size()), d);
    all.losses.resize(static_cast<std::size_t>(count));
    GatherRows(all.user_offsets, 1, own.users.data(), all.users.data(), "user id");
    GatherRows(all.item_offsets, 1, own.items.data(), all.items.data(), "item id");
    GatherRows(all.user_offsets, d, own.user_grads.data(), all.user_grads.data(), "user");
    GatherRows(all.item_offsets, d, own.item_grads.data(), all.item_grads.data(), "item");
    GatherLosses(own.losses.data(), all.losses.data());
    EndExchange(count);
  }

  const ExchangeStatistics& Statistics() const { return stats_; }
  SharePolicy Policy() const { return policy_; }
  /// The cost model that sets the blocks (every rank holds the same one).
  const ShareBalancer& Balancer() const { return balancer_; }
  int Rank() const { return rank_; }
  int Ranks() const { return size_; }

 private:
  using Clock = std::chrono::steady_clock;
  static double Seconds(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  }
  static std::int64_t Nanoseconds(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
  }
  static int Size(MPI_Comm comm) {
    int size = 1;
    MPI_Comm_size(comm, &size);
    return size;
  }
  // Rank p's batches in the current update.
  std::pair<Index, Index> Block(int p) const {
    return {bounds_[static_cast<std::size_t>(p)], bounds_[static_cast<std::size_t>(p) + 1]};
  }
  static double CpuSeconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  }

  // Opens the exchange of an update of `count` batches: ends the share's clock.
  void BeginExchange(Index count) {
    exchange_start_ = Clock::now();
    exchange_start_cpu_ = CpuSeconds();
    stats_.share_seconds += Seconds(share_start_, exchange_start_);
    stats_.share_cpu_seconds += exchange_start_cpu_ - share_start_cpu_;
    if (bounds_.empty() || bounds_.back() != count)
      throw std::logic_error("MpiUpdateSplit::Exchange: not preceded by Share of the same update");
  }

  // Closes it: every rank's timings into the balancer (kBalanced), the statistics.
  void EndExchange(Index count) {
    const auto [first, last] = Block(rank_);
    if (policy_ == SharePolicy::kBalanced) {
      // Every rank's timings of this update, so that every rank's balancer sees the same numbers.
      const ShareTiming own{outside_ns_, Nanoseconds(share_start_, exchange_start_), last - first};
      timings_.resize(static_cast<std::size_t>(size_));
      MPI_Allgather(&own, 3, MPI_INT64_T, timings_.data(), 3, MPI_INT64_T, comm_);
      stats_.bytes_received += static_cast<double>((size_ - 1) * sizeof(ShareTiming));
      stats_.bytes_sent += static_cast<double>(sizeof(ShareTiming));
      balancer_.Observe(timings_);
    }
    ++stats_.updates;
    stats_.batches += count;
    stats_.own_batches += last - first;
    last_exchange_end_ = Clock::now();
    last_exchange_end_cpu_ = CpuSeconds();
    stats_.exchange_seconds += Seconds(exchange_start_, last_exchange_end_);
    stats_.exchange_cpu_seconds += last_exchange_end_cpu_ - exchange_start_cpu_;
    exchanged_ = true;
  }

  // counts_ / displacements_: `per_batch` elements for each batch of each rank's block.
  void SetBlockCounts(int per_batch) {
    counts_.resize(static_cast<std::size_t>(size_));
    displacements_.resize(static_cast<std::size_t>(size_));
    for (int p = 0; p < size_; ++p) {
      const auto [first, last] = Block(p);
      counts_[static_cast<std::size_t>(p)] = static_cast<int>(last - first) * per_batch;
      displacements_[static_cast<std::size_t>(p)] = static_cast<int>(first) * per_batch;
    }
  }

  // Every rank's block of rows of one side (`cols` numbers per row; block p is the rows of p's
  // batches, batch m's rows [offsets[m], offsets[m + 1])) into `data`: from `own` (this rank's
  // block) or, when it is null, in place.
  template <class T>
  void GatherRows(std::span<const std::size_t> offsets, Index cols,
                  std::type_identity_t<const T*> own, T* data, const char* side) {
    counts_.resize(static_cast<std::size_t>(size_));
    displacements_.resize(static_cast<std::size_t>(size_));
    for (int p = 0; p < size_; ++p) {
      const auto [first, last] = Block(p);
      const std::size_t begin =
          offsets[static_cast<std::size_t>(first)] * static_cast<std::size_t>(cols);
      const std::size_t end =
          offsets[static_cast<std::size_t>(last)] * static_cast<std::size_t>(cols);
      if (end > static_cast<std::size_t>(INT_MAX))
        throw std::length_error(std::string("MpiUpdateSplit: the update's ") + side +
                                " rows hold " + std::to_string(end) +
                                " numbers, more than one MPI_Allgatherv can address (INT_MAX); "
                                "use fewer micro-batches per update");
      counts_[static_cast<std::size_t>(p)] = static_cast<int>(end - begin);
      displacements_[static_cast<std::size_t>(p)] = static_cast<int>(begin);
    }
    GatherBlocks(own, data);
  }

  // Every batch's loss, from `own` (this rank's batches) or in place.
  void GatherLosses(const double* own, double* all) {
    SetBlockCounts(1);
    GatherBlocks(own, all);
  }

  // The one MPI_Allgatherv of the current counts_ / displacements_ (elements of T) into `data`:
  // this rank's block from `own`, or in place when it is null; counts the bytes.
  template <class T>
  void GatherBlocks(std::type_identity_t<const T*> own, T* data) {
    Account(sizeof(T));
    if (own == nullptr)
      MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, counts_.data(),
                     displacements_.data(), MpiType<T>(), comm_);
    else
      MPI_Allgatherv(own, counts_[static_cast<std::size_t>(rank_)], MpiType<T>(), data,
                     counts_.data(), displacements_.data(), MpiType<T>(), comm_);
  }

  // Adds the current counts_ (elements of `bytes` each) to the byte totals.
  void Account(std::size_t bytes) {
    double total = 0;
    for (const int c : counts_) total += static_cast<double>(c);
    const double own = static_cast<double>(counts_[static_cast<std::size_t>(rank_)]);
    stats_.bytes_received += (total - own) * static_cast<double>(bytes);
    stats_.bytes_sent += own * static_cast<double>(bytes);
  }

  static_assert(sizeof(ShareTiming) == 3 * sizeof(std::int64_t), "gathered as 3 MPI_INT64_T");

  MPI_Comm comm_;
  SharePolicy policy_;
  ShareBalancer balancer_;
  int rank_ = 0;
  int size_ = 1;
  std::vector<Index> bounds_;  // this update's blocks: rank p computes [bounds_[p], bounds_[p+1])
  std::vector<ShareTiming> timings_;
  std::int64_t outside_ns_ = 0;
  std::vector<int> counts_, displacements_;
  std::vector<std::int64_t> batch_rows_, all_batch_rows_;  // ExchangeBatches: rows per batch
  ExchangeStatistics stats_;
  Clock::time_point share_start_{}, exchange_start_{}, last_exchange_end_{};
  double share_start_cpu_ = 0, exchange_start_cpu_ = 0, last_exchange_end_cpu_ = 0;
  bool exchanged_ = false;
};

}  // namespace directspec::distributed
