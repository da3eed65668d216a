// UpdateSplit: the trainer's hook for sharing one micro-batch update among cooperating
// processes (docs/distributed.md). With M batches per update each process computes the
// normalise -> filter -> shrink -> loss chain of its share of the batches only, and the exchange
// fills in the other processes' output-gradient rows and batch losses. Every process then runs the
// same encoder backward and optimizer update on the same numbers as a single process would, so
// the replicas stay bitwise identical. The trainer knows nothing of the transport:
// directspec/distributed/ implements the hook over MPI.
//
// Two exchanges, chosen by the trainer:
//  - Exchange: every process samples and encodes all M batches (any encoder; LightGCN's
//    propagation needs the whole group's rows) and receives only gradient rows and losses;
//  - ExchangeBatches, when the split SharesSampling(), the encoder is a RowwiseEncoder (MF) and
//    the sampler can Seek: each process samples and gathers its own batches only, and receives
//    the other batches' row ids with their gradient rows and losses.
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "directspec/core/batch.hpp"
#include "directspec/core/types.hpp"

namespace directspec {

/// The rows of consecutive batches of one update, laid out as the trainer encodes them: batch
/// k's users are users[user_offsets[k] .. user_offsets[k + 1]) and their output gradients the
/// same rows of user_grads (items alike: each batch's positives, then its negatives).
template <class Scalar>
struct BatchRows {
  std::vector<Id> users, items;
  std::vector<std::size_t> user_offsets{0}, item_offsets{0};
  RowMatrix<Scalar> user_grads, item_grads;
  std::vector<double> losses;  // one per batch

  Index Batches() const { return static_cast<Index>(user_offsets.size()) - 1; }
  std::span<const Id> Users(Index k) const { return Range(users, user_offsets, k); }
  std::span<const Id> Items(Index k) const { return Range(items, item_offsets, k); }

  /// Empties the ids, offsets and losses (keeping their capacity).
  void Clear() {
    users.clear();
    items.clear();
    user_offsets.assign(1, 0);
    item_offsets.assign(1, 0);
    losses.clear();
  }

  /// Appends a batch's ids (users; positives then negatives).
  void Append(const Batch& batch) {
    users.insert(users.end(), batch.users.begin(), batch.users.end());
    batch.AppendItemRows(items);
    user_offsets.push_back(users.size());
    item_offsets.push_back(items.size());
  }

 private:
  static std::span<const Id> Range(const std::vector<Id>& ids,
                                   const std::vector<std::size_t>& offsets, Index k) {
    const auto begin = offsets[static_cast<std::size_t>(k)];
    return std::span<const Id>(ids).subspan(begin,
                                            offsets[static_cast<std::size_t>(k) + 1] - begin);
  }
};

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

  /// True if this split implements ExchangeBatches (then the trainer uses it where it can).
  virtual bool SharesSampling() const { return false; }

  /// Called once this process's share [first, last) of `count` batches is sampled and computed:
  /// `own` holds its batches' ids, output gradients and losses. Must set `all` to every batch of
  /// the update, in batch order, each as the process owning it computed it.
  virtual void ExchangeBatches(Index count, const BatchRows<Scalar>& own, BatchRows<Scalar>& all) {
    (void)count;
    (void)own;
    (void)all;
    throw std::logic_error("UpdateSplit::ExchangeBatches: this split does not share sampling");
  }
};

}  // namespace directspec
