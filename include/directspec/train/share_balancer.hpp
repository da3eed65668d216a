// ShareBalancer: who computes how many of an update's M batches when the update is shared among
// processes (train/update_split.hpp, docs/distributed.md). Equal blocks make every update wait
// for the slowest process; a slower core, a busier node or a straggler then sets the pace. The
// balancer learns each part's cost from what it measured in earlier updates and gives the next
// update's batches to the parts that finish them first.
//
// Which process computes a batch never changes its numbers (every batch's gradient depends only
// on the parameters and the batch), so balancing keeps the shared update bitwise equal to the
// single-process one. What it must keep is agreement: every process has to derive the same
// blocks, or the exchange would misplace rows. So the cost model is integer arithmetic on
// nanosecond counts that every process received alike, with no floating point whose rounding a
// differently compiled binary could change.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <queue>
#include <stdexcept>
#include <utility>
#include <vector>

#include "directspec/core/types.hpp"

namespace directspec {

/// The batches [first, last) that part `part` of `parts` computes in an update of `count`
/// batches: contiguous blocks in batch order, sizes differing by at most one (empty when
/// count < parts for some parts). Contiguous blocks keep each part's output-gradient rows one
/// contiguous range of the group's rows, so one gather moves them.
inline std::pair<Index, Index> BatchShare(Index count, int part, int parts) {
  return {count * part / parts, count * (part + 1) / parts};
}

/// The BatchShare blocks of all parts as boundaries: part p computes [bounds[p], bounds[p+1]).
inline std::vector<Index> BatchShareBounds(Index count, int parts) {
  std::vector<Index> bounds(static_cast<std::size_t>(parts) + 1, 0);
  for (int p = 0; p < parts; ++p)
    bounds[static_cast<std::size_t>(p) + 1] = BatchShare(count, p, parts).second;
  return bounds;
}

/// What one part measured in one shared update: the time it spent on the update outside its
/// share (sampling, encoding, the backward, the optimizer, callbacks), the time of its share,
/// and how many batches the share held. Nanoseconds.
struct ShareTiming {
  std::int64_t outside_ns = 0;
  std::int64_t share_ns = 0;
  std::int64_t batches = 0;
};

class ShareBalancer {
 public:
  explicit ShareBalancer(int parts)
      : per_batch_ns_(CheckedParts(parts), 0), outside_ns_(static_cast<std::size_t>(parts), 0) {}

  int Parts() const { return static_cast<int>(per_batch_ns_.size()); }

  /// Block boundaries of an update of `count` batches: part p computes [bounds[p], bounds[p+1]).
  /// Parts that have measured nothing yet cost the same as each other. With count >= parts
  /// every part gets at least one batch (so every part keeps measuring its speed), the rest go
  /// one by one to the part that would finish its block first: the smallest outside time +
  /// (batches + 1) * time per batch, ties to the lower part. With count < parts: BatchShare.
  std::vector<Index> Split(Index count) const {
    const int parts = Parts();
    if (count < parts || !Measured()) return BatchShareBounds(count, parts);
    std::vector<Index> batches(static_cast<std::size_t>(parts), 1);
    using Finish = std::pair<std::int64_t, int>;  // (finish time with one more batch, part)
    std::priority_queue<Finish, std::vector<Finish>, std::greater<>> next;
    for (int p = 0; p < parts; ++p) next.emplace(FinishNs(p, 2), p);
    for (Index m = parts; m < count; ++m) {
      const int p = next.top().second;
      next.pop();
      const Index n = ++batches[static_cast<std::size_t>(p)];
      next.emplace(FinishNs(p, n + 1), p);
    }
    std::vector<Index> bounds(static_cast<std::size_t>(parts) + 1, 0);
    for (int p = 0; p < parts; ++p)
      bounds[static_cast<std::size_t>(p) + 1] =
          bounds[static_cast<std::size_t>(p)] + batches[static_cast<std::size_t>(p)];
    return bounds;
  }

  /// Folds one update's measurements (one per part, in part order) into the cost model: a
  /// moving average with weight 1/4 on the new value, the first value taken as it is. An
  /// outside time above 4 times the current estimate (an evaluation, a checkpoint between two
  /// updates) counts as 4 times the estimate, so one slow pause does not skew the next splits.
  void Observe(const std::vector<ShareTiming>& timings) {
    if (timings.size() != per_batch_ns_.size())
      throw std::invalid_argument("ShareBalancer::Observe: one timing per part is needed");
    for (std::size_t p = 0; p < timings.size(); ++p) {
      const ShareTiming& t = timings[p];
      if (t.batches > 0) Fold(per_batch_ns_[p], std::max<std::int64_t>(1, t.share_ns / t.batches));
      std::int64_t outside = std::max<std::int64_t>(0, t.outside_ns);
      if (outside_ns_[p] > 0) outside = std::min(outside, 4 * outside_ns_[p]);
      Fold(outside_ns_[p], outside);
    }
  }

  /// The model's current time per batch and outside time of `part` (0: not measured yet).
  std::int64_t NsPerBatch(int part) const { return per_batch_ns_[static_cast<std::size_t>(part)]; }
  std::int64_t OutsideNs(int part) const { return outside_ns_[static_cast<std::size_t>(part)]; }

 private:
  static std::size_t CheckedParts(int parts) {
    if (parts < 1) throw std::invalid_argument("ShareBalancer: parts must be >= 1");
    return static_cast<std::size_t>(parts);
  }

  // Every part has a time per batch (a part without one would be given work blindly).
  bool Measured() const {
    return std::all_of(per_batch_ns_.begin(), per_batch_ns_.end(),
                       [](std::int64_t ns) { return ns > 0; });
  }

  std::int64_t FinishNs(int part, Index batches) const {
    const auto p = static_cast<std::size_t>(part);
    return outside_ns_[p] + static_cast<std::int64_t>(batches) * per_batch_ns_[p];
  }

  static void Fold(std::int64_t& estimate, std::int64_t value) {
    estimate = estimate == 0 ? value : estimate + (value - estimate) / 4;
  }

  std::vector<std::int64_t> per_batch_ns_;
  std::vector<std::int64_t> outside_ns_;
};

}  // namespace directspec
