// Negative-item policies for the batch samplers (samplers/batch_sampler.hpp): given a user, draw
// items she has not interacted with in train. The sampler asks for PerPositive() negatives per
// (user, positive) row and stores them in Batch::negatives. Positive-only losses (the paper's
// LogLoss) use NoNegatives; BPR and other pairwise baselines use UniformNegatives or
// PopularityNegatives.
//
// A negative policy is a small class with
//   Index PerPositive() const;                        // k negatives per positive (0: none)
//   void Reset(const Interactions& train);            // once per Train(); may throw on bad data
//   Id Draw(std::mt19937_64& engine, Id user) const;  // one negative (absent when k is always 0)
// Draw must use only `engine` for randomness so the sampler's per-step streams stay reproducible.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/interactions.hpp"

namespace directspec {

/// No negatives: batches hold (user, positive) pairs only. The null policy costs nothing.
struct NoNegatives {
  Index PerPositive() const { return 0; }
  void Reset(const Interactions& /*train*/) {}
};

namespace detail {

/// The r-th item (0-based) of [0, items) that is not in the sorted row `row`.
inline Id NthMissingItem(std::span<const Id> row, std::uint64_t r) {
  // Walk the sorted row: every train item at or before the candidate pushes it one further.
  auto candidate = static_cast<std::int64_t>(r);
  for (Id taken : row) {
    if (taken <= candidate)
      ++candidate;
    else
      break;
  }
  return static_cast<Id>(candidate);
}

inline void CheckPerPositive(const char* who, Index per_positive) {
  if (per_positive < 0)
    throw std::invalid_argument(std::string(who) + ": per_positive must be >= 0, got " +
                                std::to_string(per_positive));
}

inline bool RowContains(std::span<const Id> row, Id item) {
  // Rows are sorted; short rows are faster to scan than to bisect.
  if (row.size() <= 16) {
    for (Id x : row)
      if (x >= item) return x == item;
    return false;
  }
  std::size_t lo = 0, hi = row.size();
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (row[mid] < item)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < row.size() && row[lo] == item;
}

}  // namespace detail

/// Negatives uniform over the items the user has no train interaction with.
///
///   UserThenPositive<UniformNegatives> sampler({}, UniformNegatives({.per_positive = 4}));
///
/// Rejection sampling (redraw while the item is a train item of the user); after
/// `max_rejections` failed draws (very dense users) the draw switches to an exact pick among the
/// user's non-train items, so the distribution stays exactly uniform and the cost bounded.
/// Reset throws std::invalid_argument if some user has every item (no negative exists).
class UniformNegatives {
 public:
  struct Options {
    Index per_positive = 1;     // k negatives per positive
    Index max_rejections = 32;  // redraws before the exact fallback
  };

  UniformNegatives() = default;
  explicit UniformNegatives(Options options) : options_(options) {
    detail::CheckPerPositive("UniformNegatives", options_.per_positive);
  }

  Index PerPositive() const { return options_.per_positive; }
  const Options& GetOptions() const { return options_; }

  void Reset(const Interactions& train) {
    view_ = train.View();
    items_ = train.Items();
    if (options_.per_positive == 0) return;
    for (Index u = 0; u < train.Users(); ++u)
      if (train.UserDegree(u) > 0 && train.UserDegree(u) >= items_)
        throw std::invalid_argument("UniformNegatives: user " + std::to_string(u) +
                                    " has a train interaction with all " + std::to_string(items_) +
                                    " items, so no negative exists");
  }

  Id Draw(std::mt19937_64& engine, Id user) const {
    const auto row = view_.Row(user);
    const auto items = static_cast<std::uint64_t>(items_);
    for (Index attempt = 0; attempt < options_.max_rejections; ++attempt) {
      const auto item = static_cast<Id>(UniformIndex(engine, items));
      if (!detail::RowContains(row, item)) return item;
    }
    return detail::NthMissingItem(row, UniformIndex(engine, items - row.size()));
  }

 private:
  Options options_{};
  CsrView view_{};
  Index items_ = 0;
};

/// Negatives drawn with probability proportional to (train degree of the item)^exponent among
/// the user's non-train items (exponent 0: uniform over all items; 1: popularity; word2vec uses
/// 0.75). Items with no train user get weight 0 when exponent > 0.
///
///   UserThenPositive<PopularityNegatives> sampler({}, PopularityNegatives({.exponent = 0.75}));
///
/// Draws come from a Walker/Vose alias table (O(1) per draw) with rejection of the user's train
/// items; after `max_rejections` failures an exact O(items) draw over the user's complement keeps
/// the distribution exact. Reset throws std::invalid_argument if some user's non-train items all
/// have weight 0.
class PopularityNegatives {
 public:
  struct Options {
    Index per_positive = 1;
    double exponent = 1.0;      // beta in degree^beta
    Index max_rejections = 32;  // redraws before the exact fallback
  };

  PopularityNegatives() = default;
  explicit PopularityNegatives(Options options) : options_(options) {
    detail::CheckPerPositive("PopularityNegatives", options_.per_positive);
    if (!(options_.exponent >= 0) || !std::isfinite(options_.exponent))
      throw std::invalid_argument("PopularityNegatives: exponent must be finite and >= 0, got " +
                                  std::to_string(options_.exponent));
  }

  Index PerPositive() const { return options_.per_positive; }
  const Options& GetOptions() const { return options_; }

  /// Sampling weight of every item (unnormalised), valid after Reset.
  const std::vector<double>& Weights() const { return weights_; }

  void Reset(const Interactions& train) {
    view_ = train.View();
    const Index items = train.Items();
    const std::vector<Index> degree = train.ItemDegrees();
    weights_.assign(static_cast<std::size_t>(items), 0.0);
    double total = 0;
    for (Index i = 0; i < items; ++i) {
      const auto d = static_cast<double>(degree[static_cast<std::size_t>(i)]);
      const double w = options_.exponent == 0 ? 1.0 : (d > 0 ? std::pow(d, options_.exponent) : 0);
      weights_[static_cast<std::size_t>(i)] = w;
      total += w;
    }
    if (options_.per_positive == 0) return;
    if (!(total > 0))
      throw std::invalid_argument("PopularityNegatives: every item has weight 0 (no train items)");
    for (Index u = 0; u < train.Users(); ++u) {
      if (train.UserDegree(u) == 0) continue;
      double own = 0;
      for (Id i : train.ItemsOf(u)) own += weights_[static_cast<std::size_t>(i)];
      if (!(total - own > total * 1e-12))
        throw std::invalid_argument("PopularityNegatives: user " + std::to_string(u) +
                                    " has no non-train item of positive weight, so no negative "
                                    "can be drawn");
    }
    BuildAliasTable(total);
  }

  Id Draw(std::mt19937_64& engine, Id user) const {
    const auto row = view_.Row(user);
    for (Index attempt = 0; attempt < options_.max_rejections; ++attempt) {
      const Id item = DrawFromTable(engine);
      if (!detail::RowContains(row, item)) return item;
    }
    return DrawExact(engine, row);
  }

 private:
  Id DrawFromTable(std::mt19937_64& engine) const {
    const auto column = static_cast<std::size_t>(UniformIndex(engine, probability_.size()));
    return UniformUnit(engine) < probability_[column] ? static_cast<Id>(column) : alias_[column];
  }

  // Inverse-CDF draw over the complement of `row` (the rare fallback for dense users).
  Id DrawExact(std::mt19937_64& engine, std::span<const Id> row) const {
    double complement = 0;
    std::size_t next = 0;
    for (std::size_t i = 0; i < weights_.size(); ++i) {
      if (next < row.size() && static_cast<std::size_t>(row[next]) == i) {
        ++next;
        continue;
      }
      complement += weights_[i];
    }
    const double target = UniformUnit(engine) * complement;
    double running = 0;
    Id last_positive = -1;
    next = 0;
    for (std::size_t i = 0; i < weights_.size(); ++i) {
      if (next < row.size() && static_cast<std::size_t>(row[next]) == i) {
        ++next;
        continue;
      }
      if (weights_[i] <= 0) continue;
      last_positive = static_cast<Id>(i);
      running += weights_[i];
      if (target < running) return last_positive;
    }
    return last_positive;  // rounding at the very top of the range
  }

  // Vose's alias method: column c keeps itself with probability_[c], else yields alias_[c].
  void BuildAliasTable(double total) {
    const std::size_t n = weights_.size();
    probability_.assign(n, 0.0);
    alias_.assign(n, 0);
    std::vector<double> scaled(n);
    std::vector<std::size_t> small, large;
    for (std::size_t i = 0; i < n; ++i) {
      scaled[i] = weights_[i] * static_cast<double>(n) / total;
      (scaled[i] < 1.0 ? small : large).push_back(i);
    }
    while (!small.empty() && !large.empty()) {
      const std::size_t s = small.back(), l = large.back();
      small.pop_back();
      probability_[s] = scaled[s];
      alias_[s] = static_cast<Id>(l);
      scaled[l] = (scaled[l] + scaled[s]) - 1.0;
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    // Leftovers are 1 up to rounding: they keep themselves.
    for (std::size_t l : large) probability_[l] = 1.0, alias_[l] = static_cast<Id>(l);
    std::size_t heaviest = 0;
    for (std::size_t i = 1; i < n; ++i)
      if (weights_[i] > weights_[heaviest]) heaviest = i;
    for (std::size_t s : small) {
      // A zero-weight item must never keep itself, whatever the rounding left behind.
      probability_[s] = weights_[s] > 0 ? 1.0 : 0.0;
      alias_[s] = static_cast<Id>(weights_[s] > 0 ? s : heaviest);
    }
  }

  Options options_{};
  CsrView view_{};
  std::vector<double> weights_;
  std::vector<double> probability_;
  std::vector<Id> alias_;
};

}  // namespace directspec
