// Chance level of full-ranking evaluation: what Recall@K a model would score by ranking each
// user's candidates (every item except her train items, as the Evaluator does) uniformly at
// random. A trained model that stays near it has learned nothing; the CLI warns about such runs
// (docs/cli.md "Warnings"). Exact expectation and spread from the hypergeometric distribution,
// no sampling.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>

#include "directspec/core/types.hpp"
#include "directspec/data/interactions.hpp"

namespace directspec {

/// Expectation and standard deviation of a metric averaged over the evaluated users.
struct ChanceLevel {
  double mean = 0;
  double stddev = 0;
};

/// Recall@k of a uniformly random ranking, averaged like the Evaluator's recall over the users
/// with at least one test item. For user u with C candidates (items minus train items), h of her
/// |T| test items among them and q = min(k, C) ranks: hits ~ Hypergeometric(C, h, q), so
/// E[recall_u] = q h / (C |T|); users are independent, so the variances add.
///
///   ChanceLevel chance = RandomRankingRecall(data.train, data.test, 20);
///   if (recall20 < 2 * chance.mean) ...   // no better than guessing
inline ChanceLevel RandomRankingRecall(const Interactions& train, const Interactions& test,
                                       Index k) {
  double sum = 0, variance = 0;
  Index users = 0;
  const double m = static_cast<double>(train.Items());
  for (Index u = 0; u < test.Users(); ++u) {
    const auto held = test.ItemsOf(u);
    if (held.empty()) continue;
    ++users;
    const auto seen = u < train.Users() ? train.ItemsOf(u) : std::span<const Id>{};
    Index hittable = 0;  // test items that are candidates (a train item is never ranked)
    for (Id i : held) hittable += std::binary_search(seen.begin(), seen.end(), i) ? 0 : 1;
    const double c = m - static_cast<double>(seen.size());
    if (c <= 0 || hittable == 0) continue;
    const double q = std::min(static_cast<double>(k), c), h = static_cast<double>(hittable);
    const double t = static_cast<double>(held.size());
    sum += q * h / c / t;
    if (c > 1) variance += q * (h / c) * (1 - h / c) * (c - q) / (c - 1) / (t * t);
  }
  if (users == 0) return {};
  const double count = static_cast<double>(users);
  return {sum / count, std::sqrt(variance) / count};
}

}  // namespace directspec
