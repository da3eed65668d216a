// Synthetic interaction data with a known, learnable structure: users and items belong to
// planted clusters and users mostly pick items of their own cluster, while item popularity
// follows a Zipf law across the whole catalogue. Popularity ranking alone therefore does poorly
// and any model that learns the clusters does clearly better, so tests and examples can check
// that training learns something in seconds. Deterministic by seed (MakeStream streams).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/dataset.hpp"

namespace directspec {

/// Shape of a synthetic dataset. The defaults give about 2,000 users, 1,500 items and 40,000
/// interactions in 12 clusters.
struct SyntheticOptions {
  Index users = 2000;
  Index items = 1500;
  Index clusters = 12;
  /// Mean interactions per user (train + test); degrees are min_degree plus an exponential tail.
  double mean_degree = 20.0;
  Index min_degree = 5;
  /// Probability that an interaction is drawn from the user's own cluster (else from the whole
  /// catalogue by popularity).
  double in_cluster = 0.85;
  /// Zipf exponent s: the item of popularity rank r (0-based) has weight 1 / (r + 1)^s.
  double popularity_exponent = 1.0;
  /// Share of each user's interactions held out as test (at least 1 when the user has >= 2).
  double test_fraction = 0.2;
  std::uint64_t seed = 1;
};

/// The planted structure, for tests and diagnostics.
struct SyntheticTruth {
  std::vector<Id> user_cluster;     // cluster of each user
  std::vector<Id> item_cluster;     // cluster of each item
  std::vector<double> item_weight;  // unnormalised Zipf popularity of each item
};

namespace detail {

/// Draws an index from cumulative weights `cdf` (last entry = total) restricted to [lo, hi).
inline Index DrawCumulative(const std::vector<double>& cdf, std::size_t lo, std::size_t hi,
                            std::mt19937_64& engine) {
  const double base = lo == 0 ? 0.0 : cdf[lo - 1];
  const double x = base + UniformUnit(engine) * (cdf[hi - 1] - base);
  const auto it = std::upper_bound(cdf.begin() + static_cast<std::ptrdiff_t>(lo),
                                   cdf.begin() + static_cast<std::ptrdiff_t>(hi), x);
  return std::min<Index>(static_cast<Index>(it - cdf.begin()), static_cast<Index>(hi) - 1);
}

}  // namespace detail

/// Generates a clustered, popularity-skewed dataset split per user into train and test.
///
///   SyntheticOptions opt;  opt.seed = 7;
///   Dataset d = MakeSyntheticDataset(opt);   // d.train, d.test, d.report
inline Dataset MakeSyntheticDataset(const SyntheticOptions& opt, SyntheticTruth* truth = nullptr) {
  if (opt.users < 1 || opt.items < 1 || opt.clusters < 1 || opt.clusters > opt.items)
    throw std::invalid_argument("MakeSyntheticDataset: need users >= 1 and 1 <= clusters <= items");
  if (opt.min_degree < 1 || opt.mean_degree < static_cast<double>(opt.min_degree))
    throw std::invalid_argument("MakeSyntheticDataset: need 1 <= min_degree <= mean_degree");
  if (!(opt.in_cluster >= 0.0 && opt.in_cluster <= 1.0) ||
      !(opt.test_fraction >= 0.0 && opt.test_fraction < 1.0) || !(opt.popularity_exponent >= 0.0))
    throw std::invalid_argument(
        "MakeSyntheticDataset: in_cluster in [0,1], test_fraction in [0,1), exponent >= 0");

  const auto n_items = static_cast<std::size_t>(opt.items);
  const auto n_clusters = static_cast<std::size_t>(opt.clusters);

  // Items: a random popularity rank each, and clusters of (almost) equal size so every cluster
  // holds popular and rare items alike.
  auto setup = MakeStream(opt.seed, 0);
  std::vector<Index> rank(n_items);
  std::iota(rank.begin(), rank.end(), Index{0});
  for (std::size_t k = n_items; k > 1; --k) std::swap(rank[k - 1], rank[UniformIndex(setup, k)]);
  std::vector<Id> item_cluster(n_items);
  std::vector<double> weight(n_items);
  for (std::size_t i = 0; i < n_items; ++i) {
    weight[i] = std::pow(static_cast<double>(rank[i] + 1), -opt.popularity_exponent);
    item_cluster[i] = static_cast<Id>(i % n_clusters);
  }
  for (std::size_t k = n_items; k > 1; --k)
    std::swap(item_cluster[k - 1], item_cluster[UniformIndex(setup, k)]);

  // Items ordered by cluster, so each cluster is one contiguous range of one cumulative table.
  std::vector<Id> by_cluster(n_items);
  std::iota(by_cluster.begin(), by_cluster.end(), Id{0});
  std::stable_sort(by_cluster.begin(), by_cluster.end(),
                   [&](Id a, Id b) { return item_cluster[a] < item_cluster[b]; });
  std::vector<std::size_t> cluster_begin(n_clusters + 1, 0);
  for (Id i : by_cluster) ++cluster_begin[static_cast<std::size_t>(item_cluster[i]) + 1];
  for (std::size_t c = 0; c < n_clusters; ++c) cluster_begin[c + 1] += cluster_begin[c];
  std::vector<double> cluster_cdf(n_items), global_cdf(n_items);
  double acc = 0.0;
  for (std::size_t k = 0; k < n_items; ++k) cluster_cdf[k] = acc += weight[by_cluster[k]];
  acc = 0.0;
  for (std::size_t i = 0; i < n_items; ++i) global_cdf[i] = acc += weight[i];

  std::vector<Id> user_cluster(static_cast<std::size_t>(opt.users));
  auto users_engine = MakeStream(opt.seed, 1);
  for (auto& c : user_cluster) c = static_cast<Id>(UniformIndex(users_engine, n_clusters));

  // Users: degree, then distinct items drawn in-cluster or globally, then a per-user split.
  const Index max_degree = std::max<Index>(opt.min_degree, opt.items / 4);
  std::vector<std::pair<Id, Id>> train, test;
  std::vector<char> taken(n_items, 0);
  std::vector<Id> chosen;
  for (Index u = 0; u < opt.users; ++u) {
    auto engine = MakeStream(opt.seed, 2 + static_cast<std::uint64_t>(u));
    const double tail = -std::log(1.0 - UniformUnit(engine)) *
                        (opt.mean_degree - static_cast<double>(opt.min_degree));
    const Index degree =
        std::min(max_degree, opt.min_degree + static_cast<Index>(std::floor(tail)));
    const auto c = static_cast<std::size_t>(user_cluster[static_cast<std::size_t>(u)]);
    chosen.clear();
    // Each slot picks its source once and redraws from that source until the item is new, so
    // the in-cluster share stays `in_cluster` even when a cluster's popular items are taken.
    // The attempt cap only matters for tiny catalogues.
    Index attempts = 0;
    while (static_cast<Index>(chosen.size()) < degree && attempts < 50 * degree) {
      const bool own = UniformUnit(engine) < opt.in_cluster;
      for (; attempts < 50 * degree; ++attempts) {
        const Id item =
            own ? by_cluster[static_cast<std::size_t>(detail::DrawCumulative(
                      cluster_cdf, cluster_begin[c], cluster_begin[c + 1], engine))]
                : static_cast<Id>(detail::DrawCumulative(global_cdf, 0, n_items, engine));
        if (taken[static_cast<std::size_t>(item)]) continue;
        taken[static_cast<std::size_t>(item)] = 1;
        chosen.push_back(item);
        break;
      }
    }
    for (Id i : chosen) taken[static_cast<std::size_t>(i)] = 0;
    // Draw order is already random with respect to the items, so the last ones become test.
    const auto n = static_cast<Index>(chosen.size());
    Index held = static_cast<Index>(std::floor(opt.test_fraction * static_cast<double>(n) + 0.5));
    if (opt.test_fraction > 0.0 && n >= 2) held = std::max<Index>(held, 1);
    held = std::max<Index>(0, std::min(held, n - 1));
    for (Index k = 0; k < n; ++k)
      (k < n - held ? train : test)
          .emplace_back(static_cast<Id>(u), chosen[static_cast<std::size_t>(k)]);
  }

  Dataset d = AssembleDataset(opt.users, opt.items, train, std::move(test));
  char source[160];
  std::snprintf(source, sizeof source,
                "synthetic (seed %llu, %lld clusters, in-cluster %g, Zipf %g)",
                static_cast<unsigned long long>(opt.seed), static_cast<long long>(opt.clusters),
                opt.in_cluster, opt.popularity_exponent);
  d.report.source = source;
  if (truth) *truth = {std::move(user_cluster), std::move(item_cluster), std::move(weight)};
  return d;
}

}  // namespace directspec
