// The synthetic generator: deterministic by seed, the documented sizes, planted clusters and
// Zipf popularity, and, the point of it, a learnable signal: a simple user-kNN scorer (computed
// here, no model) must beat a popularity ranking clearly on Recall@20 of the test split.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>
#include <vector>

#include "directspec/data.hpp"

using namespace directspec;

namespace {

/// Recall@K of `score(u, out)` rankings (train items excluded), averaged over users with test
/// items: hits / |T_u|.
template <class Scorer>
double RecallAtK(const Dataset& d, Index k, Scorer&& score) {
  std::vector<double> s(static_cast<std::size_t>(d.Items()));
  std::vector<Id> order(static_cast<std::size_t>(d.Items()));
  double sum = 0.0;
  Index users = 0;
  for (Index u = 0; u < d.Users(); ++u) {
    const auto truth = d.test.ItemsOf(u);
    if (truth.empty()) continue;
    score(u, s);
    for (Id i : d.train.ItemsOf(u)) s[static_cast<std::size_t>(i)] = -1e300;
    std::iota(order.begin(), order.end(), Id{0});
    // Ties broken by id so the measure is deterministic.
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](Id a, Id b) {
      const double sa = s[static_cast<std::size_t>(a)], sb = s[static_cast<std::size_t>(b)];
      return sa != sb ? sa > sb : a < b;
    });
    Index hits = 0;
    for (Index r = 0; r < k; ++r) hits += d.test.Contains(u, order[static_cast<std::size_t>(r)]);
    sum += static_cast<double>(hits) / static_cast<double>(truth.size());
    ++users;
  }
  return sum / static_cast<double>(users);
}

double PopularityRecall(const Dataset& d, Index k) {
  const std::vector<Index> deg = d.train.ItemDegrees();
  return RecallAtK(d, k, [&](Index, std::vector<double>& s) {
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<double>(deg[i]);
  });
}

/// User-kNN: cosine overlap with every other user, the `neighbours` most similar vote for
/// their items with their similarity.
double UserKnnRecall(const Dataset& d, Index k, Index neighbours) {
  const Interactions& t = d.train;
  std::vector<double> overlap(static_cast<std::size_t>(d.Users()), 0.0);
  std::vector<Id> touched, best;
  return RecallAtK(d, k, [&](Index u, std::vector<double>& s) {
    std::fill(s.begin(), s.end(), 0.0);
    touched.clear();
    for (Id i : t.ItemsOf(u))
      for (Id v : t.UsersOf(i)) {
        if (v == u) continue;
        if (overlap[static_cast<std::size_t>(v)] == 0.0) touched.push_back(v);
        overlap[static_cast<std::size_t>(v)] += 1.0;
      }
    for (Id v : touched)
      overlap[static_cast<std::size_t>(v)] /=
          std::sqrt(static_cast<double>(t.UserDegree(u) * t.UserDegree(v)));
    best = touched;
    const auto n = std::min<std::size_t>(static_cast<std::size_t>(neighbours), best.size());
    std::partial_sort(best.begin(), best.begin() + static_cast<std::ptrdiff_t>(n), best.end(),
                      [&](Id a, Id b) {
                        const double oa = overlap[static_cast<std::size_t>(a)];
                        const double ob = overlap[static_cast<std::size_t>(b)];
                        return oa != ob ? oa > ob : a < b;
                      });
    for (std::size_t r = 0; r < n; ++r)
      for (Id i : t.ItemsOf(best[r]))
        s[static_cast<std::size_t>(i)] += overlap[static_cast<std::size_t>(best[r])];
    for (Id v : touched) overlap[static_cast<std::size_t>(v)] = 0.0;
  });
}

}  // namespace

TEST_CASE("Synthetic data is deterministic by seed", "[data][synthetic]") {
  SyntheticOptions a;
  a.seed = 17;
  const Dataset x = MakeSyntheticDataset(a);
  const Dataset y = MakeSyntheticDataset(a);
  CHECK(x.train.Pairs() == y.train.Pairs());
  CHECK(x.test_pairs == y.test_pairs);
  a.seed = 18;
  CHECK(MakeSyntheticDataset(a).train.Pairs() != x.train.Pairs());
}

TEST_CASE("Synthetic defaults: sizes, per-user split, clusters and popularity skew",
          "[data][synthetic]") {
  SyntheticTruth truth;
  const SyntheticOptions opt;
  const Dataset d = MakeSyntheticDataset(opt, &truth);
  CHECK(d.Users() == 2000);
  CHECK(d.Items() == 1500);
  const Index total = d.train.Nnz() + d.test.Nnz();
  CHECK(total > 34000);
  CHECK(total < 46000);
  CHECK(d.train.DuplicatesMerged() == 0);
  CHECK(d.test.DuplicatesMerged() == 0);
  CHECK(d.report.test_vs_train.pairs_in_train == 0);
  // Every user has >= min_degree interactions, at least one in test, and ~20 % held out.
  for (Index u = 0; u < d.Users(); ++u) {
    REQUIRE(d.train.UserDegree(u) + d.test.UserDegree(u) >= opt.min_degree);
    REQUIRE(d.test.UserDegree(u) >= 1);
    REQUIRE(d.train.UserDegree(u) >= 1);
  }
  const double test_share = static_cast<double>(d.test.Nnz()) / static_cast<double>(total);
  CHECK(test_share > 0.18);
  CHECK(test_share < 0.23);
  // Planted clusters: in-cluster picks plus the global picks that land in the user's cluster.
  REQUIRE(truth.user_cluster.size() == 2000);
  REQUIRE(truth.item_cluster.size() == 1500);
  Index same = 0;
  for (const auto& [u, i] : d.train.Pairs())
    same += truth.user_cluster[static_cast<std::size_t>(u)] ==
            truth.item_cluster[static_cast<std::size_t>(i)];
  const double in_cluster = static_cast<double>(same) / static_cast<double>(d.train.Nnz());
  CHECK(in_cluster > 0.83);
  CHECK(in_cluster < 0.93);
  // Zipf popularity: the 10 % most popular items hold well over 10 % of the interactions.
  std::vector<Index> deg = d.train.ItemDegrees();
  std::sort(deg.begin(), deg.end(), std::greater<>());
  const Index top = std::accumulate(deg.begin(), deg.begin() + 150, Index{0});
  const double top_share = static_cast<double>(top) / static_cast<double>(d.train.Nnz());
  CHECK(top_share > 0.35);
  WARN("synthetic defaults: " << d.train.Nnz() << " train + " << d.test.Nnz()
                              << " test interactions, in-cluster share " << in_cluster
                              << ", top-10% item share " << top_share);
}

TEST_CASE("Synthetic signal is learnable: user-kNN beats popularity on Recall@20",
          "[data][synthetic]") {
  for (std::uint64_t seed : {1, 2}) {
    SyntheticOptions opt;
    opt.seed = seed;
    const Dataset d = MakeSyntheticDataset(opt);
    const double pop = PopularityRecall(d, 20);
    const double knn = UserKnnRecall(d, 20, 50);
    WARN("seed " << seed << ": Recall@20 popularity " << pop << ", user-kNN(50) " << knn);
    CHECK(knn > 0.2);
    CHECK(knn > 2.0 * pop);
  }
  // Control: without clusters (in_cluster = 0) the same scorer has nothing to learn beyond
  // popularity, so the gap closes. This shows the test above measures the planted structure.
  SyntheticOptions flat;
  flat.in_cluster = 0.0;
  const Dataset f = MakeSyntheticDataset(flat);
  const double pop = PopularityRecall(f, 20);
  const double knn = UserKnnRecall(f, 20, 50);
  WARN("no clusters: Recall@20 popularity " << pop << ", user-kNN(50) " << knn);
  CHECK(knn < 1.3 * pop);
}

TEST_CASE("Synthetic options are validated", "[data][synthetic]") {
  SyntheticOptions bad;
  bad.clusters = 0;
  CHECK_THROWS_AS(MakeSyntheticDataset(bad), std::invalid_argument);
  bad = {};
  bad.mean_degree = 2.0;  // below min_degree 5
  CHECK_THROWS_AS(MakeSyntheticDataset(bad), std::invalid_argument);
  bad = {};
  bad.test_fraction = 1.0;
  CHECK_THROWS_AS(MakeSyntheticDataset(bad), std::invalid_argument);
  // A tiny catalogue still terminates (the attempt cap) and keeps every pair in range.
  SyntheticOptions tiny;
  tiny.users = 50;
  tiny.items = 6;
  tiny.clusters = 3;
  tiny.min_degree = 5;
  tiny.mean_degree = 10;
  const Dataset t = MakeSyntheticDataset(tiny);
  CHECK(t.Items() == 6);
  CHECK(t.train.Nnz() > 0);
}
