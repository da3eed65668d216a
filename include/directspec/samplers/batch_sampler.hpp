// Batch samplers: the first stage of a training step. They draw B (user, positive item) pairs
// from the train Interactions and, through a negative policy (samplers/negatives.hpp), k
// negatives per pair, filling a Batch (core/batch.hpp) for the encoder and the loss.
//
// Positive policies:
//   UserThenItem    the reference recipe: a user uniformly (with replacement) among users with at
//                   least one train item, then one of her train items uniformly;
//   UniformEntry    a train entry (user, item) uniformly over all unique entries, so users are
//                   drawn in proportion to their degree.
// Samplers: UserThenPositive<Negatives> and InteractionUniform<Negatives>.
//
// Reproducibility: step s (counted from Reset) draws only from the engine
// MakeStream(seed, s), sequentially through the batch. A batch is therefore a pure function of
// (seed, step index, train data, options): it does not depend on the thread count, on timing,
// or on anything drawn at earlier steps, and Seek() can jump to any step (e.g. to resume).
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "directspec/core/batch.hpp"
#include "directspec/core/rng.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/interactions.hpp"
#include "directspec/samplers/negatives.hpp"

namespace directspec {

/// Positive policy of the reference recipe: user uniform among users with >= 1 train item, then
/// one of that user's train items uniformly.
class UserThenItem {
 public:
  static constexpr const char* kName = "user-then-item";

  void Reset(const Interactions& train) {
    view_ = train.View();
    active_.clear();
    for (Index u = 0; u < train.Users(); ++u)
      if (train.UserDegree(u) > 0) active_.push_back(static_cast<Id>(u));
  }

  void Draw(std::mt19937_64& engine, Id& user, Id& item) const {
    user = active_[static_cast<std::size_t>(UniformIndex(engine, active_.size()))];
    const auto row = view_.Row(user);
    item = row[static_cast<std::size_t>(UniformIndex(engine, row.size()))];
  }

  /// Users that can be drawn (train degree >= 1), in increasing order.
  const std::vector<Id>& ActiveUsers() const { return active_; }

 private:
  CsrView view_{};
  std::vector<Id> active_;
};

/// Positive policy uniform over the unique train entries: each (user, item) pair has probability
/// 1 / Nnz, so a user's chance is proportional to her degree.
class UniformEntry {
 public:
  static constexpr const char* kName = "uniform-entry";

  void Reset(const Interactions& train) {
    view_ = train.View();
    entry_user_.resize(static_cast<std::size_t>(train.Nnz()));
    for (Index u = 0; u < train.Users(); ++u)
      for (auto e = view_.offsets[u]; e < view_.offsets[u + 1]; ++e)
        entry_user_[static_cast<std::size_t>(e)] = static_cast<Id>(u);
  }

  void Draw(std::mt19937_64& engine, Id& user, Id& item) const {
    const auto e = static_cast<std::size_t>(UniformIndex(engine, entry_user_.size()));
    user = entry_user_[e];
    item = view_.columns[e];
  }

 private:
  CsrView view_{};
  std::vector<Id> entry_user_;  // the user of each CSR entry
};

/// A sampler assembled from a positive policy and a negative policy.
///
///   UserThenPositive<> sampler;                        // reference: positives only
///   sampler.Reset(train, seed);
///   Batch batch;
///   for (Index s = 0; s < sampler.StepsPerEpoch(256); ++s) sampler.Sample(256, batch);
///
///   InteractionUniform<UniformNegatives> bpr({}, UniformNegatives({.per_positive = 1}));
///
/// The sampler keeps a view of `train` (no copy): train must outlive the sampling.
template <class Positives, class Negatives = NoNegatives>
class BatchSampler {
 public:
  struct Options {
    /// Steps per epoch; 0 means floor(train.SourceRows() / B) (duplicate source rows counted, as
    /// in the reference), at least 1.
    Index steps_per_epoch = 0;
  };

  BatchSampler() = default;
  explicit BatchSampler(Options options, Negatives negatives = {})
      : options_(options), negatives_(std::move(negatives)) {
    if (options_.steps_per_epoch < 0)
      throw std::invalid_argument("BatchSampler: steps_per_epoch must be >= 0, got " +
                                  std::to_string(options_.steps_per_epoch));
  }
  explicit BatchSampler(Negatives negatives) : BatchSampler(Options{}, std::move(negatives)) {}

  /// Binds the sampler to `train` and restarts the step counter. Throws std::invalid_argument if
  /// train has no interaction or the negative policy cannot serve some user.
  void Reset(const Interactions& train, std::uint64_t seed) {
    if (train.Nnz() == 0)
      throw std::invalid_argument("BatchSampler::Reset: the train interactions are empty (" +
                                  std::to_string(train.Users()) + " users x " +
                                  std::to_string(train.Items()) + " items)");
    source_rows_ = train.SourceRows();
    seed_ = seed;
    step_ = 0;
    positives_.Reset(train);
    negatives_.Reset(train);
  }

  /// Draws the next batch of `batch_size` rows into `batch` (vectors are resized in place, so a
  /// reused Batch does not allocate).
  void Sample(Index batch_size, Batch& batch) {
    const Index k = negatives_.PerPositive();
    batch.users.resize(static_cast<std::size_t>(batch_size));
    batch.positives.resize(static_cast<std::size_t>(batch_size));
    batch.negatives.resize(static_cast<std::size_t>(batch_size * k));
    batch.negatives_per_positive = k;
    std::mt19937_64 engine = MakeStream(seed_, step_++);
    for (Index b = 0; b < batch_size; ++b) {
      Id& user = batch.users[static_cast<std::size_t>(b)];
      positives_.Draw(engine, user, batch.positives[static_cast<std::size_t>(b)]);
      if constexpr (requires(const Negatives& n) { n.Draw(engine, user); }) {
        for (Index j = 0; j < k; ++j)
          batch.negatives[static_cast<std::size_t>(b * k + j)] = negatives_.Draw(engine, user);
      }
    }
  }

  Index StepsPerEpoch(Index batch_size) const {
    if (options_.steps_per_epoch > 0) return options_.steps_per_epoch;
    return std::max<Index>(1, source_rows_ / batch_size);
  }

  /// Steps drawn since Reset; Seek(s) makes the next Sample draw step s's batch.
  std::uint64_t StepsDrawn() const { return step_; }
  void Seek(std::uint64_t step) { step_ = step; }

  const Options& GetOptions() const { return options_; }
  const Positives& PositivePolicy() const { return positives_; }
  const Negatives& NegativePolicy() const { return negatives_; }

 private:
  Options options_{};
  Positives positives_{};
  Negatives negatives_{};
  Index source_rows_ = 0;
  std::uint64_t seed_ = 0;
  std::uint64_t step_ = 0;
};

/// The reference sampler: users uniform (among users with train items), then a positive.
template <class Negatives = NoNegatives>
using UserThenPositive = BatchSampler<UserThenItem, Negatives>;

/// Positives uniform over train entries.
template <class Negatives = NoNegatives>
using InteractionUniform = BatchSampler<UniformEntry, Negatives>;

}  // namespace directspec
