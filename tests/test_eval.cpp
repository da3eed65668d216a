// Evaluator: hand-worked fixtures for every metric in both modes, a randomized brute-force
// comparison against a naive per-user sort, thread-count determinism, and the input checks.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "directspec/eval/evaluator.hpp"
#include "directspec/eval/topk.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace directspec;
using Pairs = std::vector<std::pair<Id, Id>>;

namespace {

double L2(double x) { return std::log2(x); }

// 4 users x 6 items. Scores are chosen so that every metric is hand-computable:
//   user 0: train {0}, test {2,5}; ranking [1, 2, 3, 5, 4] (2 and 3 tie at 4.0: 2 first)
//   user 1: train {1}, no test item (skipped by standard metrics, a zero in paper mode)
//   user 2: train {0,1,2,3}, test {4}; only 2 candidates, ranking [4, 5] (tie: 4 first)
//   user 3: train {5}, test rows {0,3,3,5} (3 duplicated, 5 also in train, masked); score of 5
//           is the highest but it is excluded; ranking [1, 3, 0, 2, 4]
struct Fixture {
  Interactions train;
  Pairs test_pairs;
  RowMatrix<double> scores;
  Fixture() {
    const Pairs train_pairs{{0, 0}, {1, 1}, {2, 0}, {2, 1}, {2, 2}, {2, 3}, {3, 5}};
    train = Interactions::FromPairs(4, 6, train_pairs);
    test_pairs = {{0, 2}, {0, 5}, {2, 4}, {3, 0}, {3, 3}, {3, 3}, {3, 5}};
    scores.resize(4, 6);
    scores << 9, 5, 4, 4, 1, 3,  //
        1, 2, 3, 4, 5, 6,        //
        7, 7, 7, 7, 0.5, 0.5,    //
        2, 7, 1, 6, 0, 100;
  }
};

}  // namespace

TEST_CASE("standard metrics match the hand-worked fixture", "[eval]") {
  Fixture f;
  EvalOptions o;
  o.ks = {3, 1};  // unsorted on purpose
  Evaluator eval(f.train, f.test_pairs, o);
  const EvalResult r = eval.EvaluateScores(f.scores);
  REQUIRE(r.users_evaluated == 3);
  REQUIRE(r.users_total == 4);
  const double ideal2 = 1.0 / L2(2) + 1.0 / L2(3);
  const double ideal3 = 1.0 / L2(2) + 1.0 / L2(3) + 1.0 / L2(4);
  // @1: only user 2 hits (rank 1).
  CHECK(r.Get("recall@1") == Approx((0.0 + 1.0 + 0.0) / 3));
  CHECK(r.Get("ndcg@1") == Approx((0.0 + 1.0 + 0.0) / 3));
  CHECK(r.Get("precision@1") == Approx((0.0 + 1.0 + 0.0) / 3));
  CHECK(r.Get("hit_rate@1") == Approx(1.0 / 3));
  CHECK(r.Get("mrr@1") == Approx(1.0 / 3));
  // @3: user 0 hits rank 2 of {2,5}; user 2 hits rank 1 of {4} (list of 2 only); user 3 hits
  // ranks 2 and 3 of {0,3,5} (5 is masked by train but still counts in |T|).
  CHECK(r.Get("recall@3") == Approx((1.0 / 2 + 1.0 + 2.0 / 3) / 3));
  CHECK(r.Get("ndcg@3") ==
        Approx(((1.0 / L2(3)) / ideal2 + 1.0 + (1.0 / L2(3) + 1.0 / L2(4)) / ideal3) / 3));
  CHECK(r.Get("precision@3") == Approx((1.0 / 3 + 1.0 / 3 + 2.0 / 3) / 3));
  CHECK(r.Get("hit_rate@3") == Approx(1.0));
  CHECK(r.Get("mrr@3") == Approx((1.0 / 2 + 1.0 + 1.0 / 2) / 3));
  // Coverage: top-1 items {1, 4, 1}; top-3 items {1,2,3} U {4,5} U {1,3,0} = all six.
  CHECK(r.Get("coverage@1") == Approx(2.0 / 6));
  CHECK(r.Get("coverage@3") == Approx(6.0 / 6));
  CHECK_FALSE(r.Has("paper_recall@3"));
  // Report order: metric-major, K ascending.
  REQUIRE(r.metrics.size() == 12);
  CHECK(r.metrics[0].first == "recall@1");
  CHECK(r.metrics[1].first == "recall@3");
  CHECK(r.metrics[2].first == "ndcg@1");
}

TEST_CASE("paper mode counts K+1 ranks, min(K,|T|) and duplicate rows", "[eval]") {
  Fixture f;
  EvalOptions o;
  o.ks = {1, 3};
  o.mode = EvalMode::kPaper;  // depth = max(ks) = 3: "@1" counts ranks 1..2, "@3" ranks 1..3
  Evaluator eval(f.train, f.test_pairs, o);
  const EvalResult r = eval.EvaluateScores(f.scores);
  const double d2 = 1.0 / L2(3), d3 = 1.0 / L2(4);
  // user 0 (raw 2): @1 ranks [1,2] hit at 2 -> 1/min(1,2); @3 hit at 2 -> 1/min(3,2)
  // user 1: no test rows -> 0 (still in the denominator 4)
  // user 2 (raw 1): hit at rank 1 -> 1 for both
  // user 3 (raw 4, duplicates count): @1 ranks [1,3] hit at 2 -> 1/1; @3 hits 2,3 -> 2/min(3,4)
  CHECK(r.Get("paper_recall@1") == Approx((1.0 + 0.0 + 1.0 + 1.0) / 4));
  CHECK(r.Get("paper_recall@3") == Approx((1.0 / 2 + 0.0 + 1.0 + 2.0 / 3) / 4));
  // NDCG: DCG over the counted ranks, IDCG over min(K, raw |T|) ranks.
  CHECK(r.Get("paper_ndcg@1") == Approx((d2 / 1.0 + 0.0 + 1.0 + d2 / 1.0) / 4));
  CHECK(r.Get("paper_ndcg@3") ==
        Approx((d2 / (1.0 + d2) + 0.0 + 1.0 + (d2 + d3) / (1.0 + d2 + d3)) / 4));
  CHECK_FALSE(r.Has("recall@3"));
  CHECK(r.metrics.size() == 4);
}

TEST_CASE("paper mode can exceed 1 per user, as the authors' script does", "[eval]") {
  // One user, test {0, 1} both ranked first; K = 1 counts 2 ranks (depth 2): hits 2 / min(1, 2).
  const Pairs train_pairs{{0, 3}};
  const Pairs test_pairs{{0, 0}, {0, 1}};
  const auto train = Interactions::FromPairs(1, 4, train_pairs);
  RowMatrix<float> scores(1, 4);
  scores << 5, 4, 1, 9;
  EvalOptions o;
  o.ks = {1};
  o.mode = EvalMode::kBoth;
  o.paper_depth = 2;
  Evaluator eval(train, test_pairs, o);
  const EvalResult r = eval.EvaluateScores(scores);
  CHECK(r.Get("paper_recall@1") == Approx(2.0));
  CHECK(r.Get("paper_ndcg@1") == Approx((1.0 + 1.0 / L2(3)) / 1.0));
  CHECK(r.Get("recall@1") == Approx(0.5));  // standard: ranks 1..1, hits / |T|
  CHECK(r.Get("ndcg@1") == Approx(1.0));
  CHECK(eval.Depth() == 2);
}

TEST_CASE("U I^T, dense scores and a scorer callback give the same result", "[eval]") {
  Fixture f;
  EvalOptions o;
  o.ks = {1, 3, 10};
  o.mode = EvalMode::kBoth;
  o.user_batch = 2;
  o.item_tile = 4;  // two tiles of items, the second partial
  Evaluator eval(f.train, f.test_pairs, o);
  const RowMatrix<double> U = f.scores;
  const RowMatrix<double> I = RowMatrix<double>::Identity(6, 6);
  const auto a = eval.EvaluateScores(f.scores);
  const auto b = eval.Evaluate(U, I);
  const auto c = eval.EvaluateScorer<double>([&](std::span<const Id> users, RowMatrix<double>& s) {
    for (std::size_t r = 0; r < users.size(); ++r)
      s.row(static_cast<Index>(r)) = f.scores.row(users[r]);
  });
  REQUIRE(a.metrics.size() == b.metrics.size());
  for (std::size_t k = 0; k < a.metrics.size(); ++k) {
    CHECK(a.metrics[k].first == b.metrics[k].first);
    CHECK(a.metrics[k].second == b.metrics[k].second);
    CHECK(a.metrics[k].second == c.metrics[k].second);
  }
  // K = 10 exceeds every candidate list (user 0 hits ranks 2 and 4): precision divides by K.
  CHECK(a.Get("precision@10") == Approx((2.0 / 10 + 1.0 / 10 + 2.0 / 10) / 3));
  CHECK(a.Get("recall@10") == Approx((1.0 + 1.0 + 2.0 / 3) / 3));
}

TEST_CASE("ranked lists follow the tie rule and skip train items", "[eval]") {
  Fixture f;
  EvalOptions o;
  o.ks = {5};
  Evaluator eval(f.train, f.test_pairs, o);
  const RankedLists lists = eval.RankScores(f.scores);
  REQUIRE(lists.users == std::vector<Id>{0, 2, 3});
  CHECK(std::vector<Id>(lists.Of(0).begin(), lists.Of(0).end()) == std::vector<Id>{1, 2, 3, 5, 4});
  CHECK(std::vector<Id>(lists.Of(1).begin(), lists.Of(1).end()) == std::vector<Id>{4, 5});
  CHECK(std::vector<Id>(lists.Of(2).begin(), lists.Of(2).end()) == std::vector<Id>{1, 3, 0, 2, 4});
}

TEST_CASE("NaN scores rank last", "[eval]") {
  TopKSelector<float> top;
  top.Reset(3);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float s[] = {nan, 1.0f, nan, 2.0f, -5.0f};
  top.OfferRow(s, 0, 5, {});
  const auto best = top.Sorted();
  REQUIRE(best.size() == 3);
  CHECK(best[0].item == 3);
  CHECK(best[1].item == 1);
  CHECK(best[2].item == 4);
}

TEST_CASE("per-user values and custom metrics", "[eval]") {
  Fixture f;
  EvalOptions o;
  o.ks = {3};
  o.mode = EvalMode::kBoth;
  o.keep_per_user = true;
  o.custom.push_back({"hits", [](const UserRanking& u, Index k) {
                        double h = 0;
                        for (Index q = 0;
                             q < std::min<Index>(k, static_cast<Index>(u.ranked.size())); ++q)
                          h += std::binary_search(u.test.begin(), u.test.end(),
                                                  u.ranked[static_cast<std::size_t>(q)]);
                        return h;
                      }});
  Evaluator eval(f.train, f.test_pairs, o);
  const EvalResult r = eval.EvaluateScores(f.scores);
  CHECK(r.Get("hits@3") == Approx((1.0 + 1.0 + 2.0) / 3));
  REQUIRE(r.per_user.users == std::vector<Id>{0, 2, 3});
  const Eigen::VectorXd recall = r.per_user.Column("recall@3");
  CHECK(recall(0) == Approx(0.5));
  CHECK(recall(1) == Approx(1.0));
  CHECK(recall(2) == Approx(2.0 / 3));
  CHECK(r.per_user.Column("paper_recall@3")(2) == Approx(2.0 / 3));
  CHECK(recall.mean() == Approx(r.Get("recall@3")));
  CHECK_THROWS_AS(r.per_user.Column("nope@3"), std::out_of_range);
  const std::string json = r.ToJson();
  CHECK(json.find("\"recall@3\":") != std::string::npos);
  CHECK(json.find("\"users\":3") != std::string::npos);
  CHECK(json.front() == '{');
  CHECK(json.back() == '}');
}

TEST_CASE("input errors name the offending values", "[eval]") {
  Fixture f;
  EvalOptions bad;
  bad.ks = {10, 0};
  CHECK_THROWS_WITH(Evaluator(f.train, f.test_pairs, bad), Catch::Contains("cut-off 0"));
  Evaluator eval(f.train, f.test_pairs);
  RowMatrix<float> U(4, 3), I(5, 3);
  U.setZero();
  I.setZero();
  CHECK_THROWS_WITH(eval.Evaluate(U, I), Catch::Contains("I 5x3"));
  const auto wrong = Interactions::FromPairs(3, 6, Pairs{});
  CHECK_THROWS_AS(Evaluator(f.train, wrong), std::invalid_argument);
  CHECK_THROWS_AS(eval.SetRawTestCounts({1, 0, 1, 1}), std::invalid_argument);  // user 3 has 3
  CHECK_THROWS_WITH(EvalResult{}.Get("recall@20"), Catch::Contains("recall@20"));
}

// ---------------------------------------------------------------- randomized brute force

namespace {

// Plain per-user full sort and textbook formulas, independent of the evaluator's code.
template <class S>
std::vector<std::pair<std::string, double>> NaiveMetrics(const RowMatrix<S>& scores,
                                                         const Interactions& train,
                                                         const Pairs& test_pairs,
                                                         const std::vector<Index>& ks,
                                                         Index depth) {
  const Index n = scores.rows(), m = scores.cols();
  std::vector<std::vector<Id>> test(static_cast<std::size_t>(n));
  std::vector<double> raw(static_cast<std::size_t>(n), 0);
  for (auto [u, i] : test_pairs) {
    test[static_cast<std::size_t>(u)].push_back(i);
    raw[static_cast<std::size_t>(u)] += 1;
  }
  for (auto& t : test) {
    std::sort(t.begin(), t.end());
    t.erase(std::unique(t.begin(), t.end()), t.end());
  }
  std::map<std::string, double> sum;
  double evaluated = 0;
  std::vector<std::vector<int>> covered(ks.size(), std::vector<int>(static_cast<std::size_t>(m)));
  for (Index u = 0; u < n; ++u) {
    const auto& t = test[static_cast<std::size_t>(u)];
    if (t.empty()) continue;
    evaluated += 1;
    std::vector<Id> cand;
    for (Id i = 0; i < m; ++i)
      if (!train.Contains(u, i)) cand.push_back(i);
    std::stable_sort(cand.begin(), cand.end(),
                     [&](Id a, Id b) { return scores(u, a) > scores(u, b); });
    auto is_hit = [&](Index q) {
      return q < static_cast<Index>(cand.size()) &&
             std::find(t.begin(), t.end(), cand[static_cast<std::size_t>(q)]) != t.end();
    };
    for (std::size_t a = 0; a < ks.size(); ++a) {
      const Index k = ks[a];
      auto name = [k](std::string metric) { return metric.append("@").append(std::to_string(k)); };
      double hits = 0, dcg = 0, idcg = 0, rr = 0;
      for (Index q = 0; q < k; ++q) {
        if (q < static_cast<Index>(cand.size()))
          covered[a][static_cast<std::size_t>(cand[static_cast<std::size_t>(q)])] = 1;
        if (is_hit(q)) {
          hits += 1;
          dcg += 1.0 / std::log2(q + 2.0);
          if (rr == 0) rr = 1.0 / (q + 1.0);
        }
      }
      for (Index q = 0; q < std::min<Index>(k, static_cast<Index>(t.size())); ++q)
        idcg += 1.0 / std::log2(q + 2.0);
      sum[name("recall")] += hits / static_cast<double>(t.size());
      sum[name("ndcg")] += dcg / idcg;
      sum[name("precision")] += hits / static_cast<double>(k);
      sum[name("hit_rate")] += hits > 0;
      sum[name("mrr")] += rr;
      // Paper: ranks 1..min(k+1, depth), |T| = raw rows.
      double ph = 0, pd = 0, pi = 0;
      for (Index q = 0; q < std::min(k + 1, depth); ++q)
        if (is_hit(q)) {
          ph += 1;
          pd += 1.0 / std::log2(q + 2.0);
        }
      const double denom =
          std::min<double>(static_cast<double>(k), raw[static_cast<std::size_t>(u)]);
      for (Index q = 0; q < static_cast<Index>(denom); ++q) pi += 1.0 / std::log2(q + 2.0);
      sum[name("paper_recall")] += ph / denom;
      sum[name("paper_ndcg")] += pd / pi;
    }
  }
  std::vector<std::pair<std::string, double>> out;
  for (auto& [name, v] : sum)
    out.emplace_back(name, v / (name.rfind("paper_", 0) == 0 ? static_cast<double>(n) : evaluated));
  for (std::size_t a = 0; a < ks.size(); ++a)
    out.emplace_back(
        "coverage@" + std::to_string(ks[a]),
        std::accumulate(covered[a].begin(), covered[a].end(), 0.0) / static_cast<double>(m));
  return out;
}

template <class S>
void BruteForceCase(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const Index n = 37, m = 203, d = 4;
  // Quarter-integer entries: every score is exact in float, so ties are frequent and real.
  RowMatrix<S> U(n, d), I(m, d);
  std::uniform_int_distribution<int> v(-3, 3);
  for (Index r = 0; r < n; ++r)
    for (Index c = 0; c < d; ++c) U(r, c) = static_cast<S>(v(rng)) / 4;
  for (Index r = 0; r < m; ++r)
    for (Index c = 0; c < d; ++c) I(r, c) = static_cast<S>(v(rng)) / 4;
  Pairs train_pairs, test_pairs;
  std::uniform_int_distribution<int> item(0, static_cast<int>(m) - 1);
  for (Id u = 0; u < n; ++u) {
    const int tr = static_cast<int>(rng() % 12);
    for (int k = 0; k < tr; ++k) train_pairs.emplace_back(u, item(rng));
    if (u == 5)  // user 5 keeps only 5 candidates (0, 50, ..., 200): fewer than K = 10
      for (Id i = 0; i < m; ++i)
        if (i % 50 != 0) train_pairs.emplace_back(u, i);
    const int te = u % 7 == 3 ? 0 : static_cast<int>(rng() % 6);         // some users without test
    for (int k = 0; k < te; ++k) test_pairs.emplace_back(u, item(rng));  // duplicates possible
  }
  const auto train = Interactions::FromPairs(n, m, train_pairs);
  EvalOptions o;
  o.ks = {1, 2, 5, 10};
  o.mode = EvalMode::kBoth;
  o.user_batch = 6;
  const RowMatrix<S> scores = U * I.transpose();
  const auto want = NaiveMetrics(scores, train, test_pairs, o.ks, 10);
  for (Index tile :
       {7, 1024}) {  // tiles shorter than the selector's 16-item blocks, and whole rows
    o.item_tile = tile;
    Evaluator eval(train, test_pairs, o);
    const EvalResult r = eval.Evaluate(U, I);
    REQUIRE(r.metrics.size() == want.size());
    for (const auto& [name, value] : want) {
      INFO(name << " with item tile " << tile);
      CHECK(r.Get(name) == Approx(value).margin(1e-12));
    }
  }
}

}  // namespace

TEST_CASE("randomized comparison against a naive per-user sort", "[eval]") {
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    BruteForceCase<double>(seed);
    BruteForceCase<float>(seed + 100);
  }
}

TEST_CASE("results are identical for 1 and 2 threads", "[eval]") {
  std::mt19937_64 rng(7);
  const Index n = 300, m = 700, d = 16;
  std::normal_distribution<float> g;
  RowMatrix<float> U(n, d), I(m, d);
  for (Index k = 0; k < U.size(); ++k) U.data()[k] = g(rng);
  for (Index k = 0; k < I.size(); ++k) I.data()[k] = g(rng);
  Pairs train_pairs, test_pairs;
  for (Id u = 0; u < n; ++u)
    for (int k = 0; k < 8; ++k) {
      train_pairs.emplace_back(u, static_cast<Id>(rng() % m));
      if (k < 3) test_pairs.emplace_back(u, static_cast<Id>(rng() % m));
    }
  EvalOptions o;
  o.mode = EvalMode::kBoth;
  o.user_batch = 32;
  o.item_tile = 256;
  Evaluator eval(Interactions::FromPairs(n, m, train_pairs), test_pairs, o);
#ifdef _OPENMP
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  const RankedLists one = eval.Rank(U, I);
  const EvalResult r1 = eval.Score(one);
  omp_set_num_threads(2);
  const RankedLists two = eval.Rank(U, I);
  const EvalResult r2 = eval.Score(two);
  omp_set_num_threads(before);
  CHECK(one.items == two.items);
  REQUIRE(r1.metrics.size() == r2.metrics.size());
  for (std::size_t k = 0; k < r1.metrics.size(); ++k)
    CHECK(r1.metrics[k].second == r2.metrics[k].second);
#else
  WARN("built without OpenMP: single-threaded only");
  CHECK(eval.Rank(U, I).items == eval.Rank(U, I).items);
#endif
}
