// UpdateSplit: the trainer's hook for sharing one micro-batch update among cooperating
// processes (docs/distributed.md). With M batches per update every process samples and encodes
// all M batches, computes the normalise -> filter -> shrink -> loss chain of its share of them
// only, and Exchange fills in the other processes' output-gradient rows and batch losses. Every
// process then runs the same encoder backward and optimizer update on the same numbers as a
// single process would, so the replicas stay bitwise identical. The trainer knows nothing of the
// transport: directspec/distributed/ implements the hook over MPI.
#pragma once

#include <cstddef>
#include <span>
#include <utility>

#include "directspec/core/types.hpp"

namespace directspec {

/// Interface the Trainer calls inside a micro-batch update (Trainer::SetUpdateSplit).
template <class Scalar>
class UpdateSplit {
 public:
  virtual ~UpdateSplit() = default;

  /// The batches [first, last) of an update of `count` >= 2 batches that this process computes.
  virtual std::pair<Index, Index> Share(Index count) = 0;

  /// Called once this process's share is computed. Batch m's user rows are
  /// [user_offsets[m], user_offsets[m + 1]) of `user_grads` (items alike); `losses` holds one
  /// loss per batch. Must fill in the rows and losses of every batch outside this process's
  /// share with the values the process owning it computed.
  virtual void Exchange(Index count, std::span<const std::size_t> user_offsets,
                        std::span<const std::size_t> item_offsets, RowMatrix<Scalar>& user_grads,
                        RowMatrix<Scalar>& item_grads, std::span<double> losses) = 0;
};

}  // namespace directspec
