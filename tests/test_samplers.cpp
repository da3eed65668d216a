// Samplers: distributions (chi-square against the exact law, with a power check that the same
// statistic rejects a wrong law), rejection of train items, guards, steps per epoch and
// reproducibility of the per-step streams.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "directspec/samplers.hpp"

using namespace directspec;

namespace {

// Upper 1 - 1e-6 quantile of chi-square(df) (Wilson-Hilferty); the seeds are fixed, so a pass
// is deterministic, and a sampler off by a few percent in some cell lands far above it.
double ChiSquareBound(double df) {
  const double z = 4.75;
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1 - a + z * std::sqrt(a), 3);
}

double ChiSquare(const std::vector<double>& observed, const std::vector<double>& expected) {
  double chi = 0;
  for (std::size_t i = 0; i < observed.size(); ++i) {
    REQUIRE(expected[i] > 0);
    chi += (observed[i] - expected[i]) * (observed[i] - expected[i]) / expected[i];
  }
  return chi;
}

// 7 users x 12 items; user 3 has no train item, user 5 has 11 of 12 (dense: exercises the exact
// fallback of the negative policies), user 0 repeats a pair (a duplicate source row).
Interactions SmallTrain() {
  std::vector<std::pair<Id, Id>> pairs = {{0, 0}, {0, 1}, {0, 1}, {0, 5},           // user 0 (dup)
                                          {1, 2},                                   // user 1
                                          {2, 0}, {2, 3}, {2, 4}, {2, 7},  {2, 9},  // user 2
                                          {4, 1}, {4, 6},                           // user 4
                                          {5, 0}, {5, 1}, {5, 2}, {5, 3},  {5, 4}, {5, 5}, {5, 6},
                                          {5, 7}, {5, 8}, {5, 9}, {5, 10}, {6, 1}, {6, 11}};
  return Interactions::FromPairs(7, 12, pairs);
}

}  // namespace

TEST_CASE("NthMissingItem walks the complement of a sorted row", "[samplers]") {
  const std::vector<Id> row = {0, 2, 3, 7};
  const std::vector<Id> complement = {1, 4, 5, 6, 8, 9};
  for (std::size_t r = 0; r < complement.size(); ++r)
    CHECK(detail::NthMissingItem(row, r) == complement[r]);
  CHECK(detail::NthMissingItem({}, 5) == 5);
}

TEST_CASE("UserThenPositive: users uniform over active users, items uniform within a user",
          "[samplers]") {
  const Interactions train = SmallTrain();
  UserThenPositive<> sampler;
  sampler.Reset(train, 42);
  REQUIRE(sampler.PositivePolicy().ActiveUsers() == std::vector<Id>{0, 1, 2, 4, 5, 6});
  const Index B = 500, steps = 400;
  std::vector<double> user_count(7, 0);
  std::map<std::pair<Id, Id>, double> pair_count;
  Batch batch;
  for (Index s = 0; s < steps; ++s) {
    sampler.Sample(B, batch);
    REQUIRE(batch.Size() == B);
    REQUIRE(batch.negatives.empty());
    REQUIRE(batch.negatives_per_positive == 0);
    for (Index b = 0; b < B; ++b) {
      const Id u = batch.users[b], i = batch.positives[b];
      REQUIRE(train.Contains(u, i));
      user_count[u] += 1;
      pair_count[{u, i}] += 1;
    }
  }
  const double n = static_cast<double>(B * steps);
  CHECK(user_count[3] == 0);  // no train item: never drawn
  std::vector<double> observed, expected, wrong;
  for (Id u : {0, 1, 2, 4, 5, 6}) {
    observed.push_back(user_count[u]);
    expected.push_back(n / 6);
    wrong.push_back(n * static_cast<double>(train.UserDegree(u)) /
                    static_cast<double>(train.Nnz()));
  }
  CHECK(ChiSquare(observed, expected) < ChiSquareBound(5));
  CHECK(ChiSquare(observed, wrong) > ChiSquareBound(5));  // power: degree-proportional is rejected

  observed.clear();
  expected.clear();
  for (const auto& [u, i] : train.Pairs()) {
    observed.push_back(pair_count[{u, i}]);
    expected.push_back(n / 6 / static_cast<double>(train.UserDegree(u)));
  }
  CHECK(pair_count.size() == static_cast<std::size_t>(train.Nnz()));
  CHECK(ChiSquare(observed, expected) < ChiSquareBound(static_cast<double>(observed.size() - 1)));
}

TEST_CASE("InteractionUniform: pairs uniform over unique train entries", "[samplers]") {
  const Interactions train = SmallTrain();
  InteractionUniform<> sampler;
  sampler.Reset(train, 7);
  std::map<std::pair<Id, Id>, double> pair_count;
  Batch batch;
  const Index B = 256, steps = 500;
  for (Index s = 0; s < steps; ++s) {
    sampler.Sample(B, batch);
    for (Index b = 0; b < B; ++b) pair_count[{batch.users[b], batch.positives[b]}] += 1;
  }
  const double n = static_cast<double>(B * steps);
  std::vector<double> observed, expected, wrong;
  for (const auto& [u, i] : train.Pairs()) {
    observed.push_back(pair_count[{u, i}]);
    expected.push_back(n / static_cast<double>(train.Nnz()));
    wrong.push_back(n / 6 / static_cast<double>(train.UserDegree(u)));  // user-then-item law
  }
  CHECK(pair_count.size() == static_cast<std::size_t>(train.Nnz()));
  const double df = static_cast<double>(observed.size() - 1);
  CHECK(ChiSquare(observed, expected) < ChiSquareBound(df));
  CHECK(ChiSquare(observed, wrong) > ChiSquareBound(df));
}

TEST_CASE("UniformNegatives: never a train item, uniform over the user's complement",
          "[samplers]") {
  const Interactions train = SmallTrain();
  // max_rejections 1 sends most draws of dense users through the exact fallback; 32 mostly not.
  for (Index rejections : {Index(1), Index(32)}) {
    UserThenPositive<UniformNegatives> sampler(
        UniformNegatives({.per_positive = 3, .max_rejections = rejections}));
    sampler.Reset(train, 11);
    std::map<Id, std::vector<double>> per_user;
    Batch batch;
    const Index B = 300, steps = 400;
    for (Index s = 0; s < steps; ++s) {
      sampler.Sample(B, batch);
      REQUIRE(batch.negatives_per_positive == 3);
      REQUIRE(batch.negatives.size() == static_cast<std::size_t>(3 * B));
      for (Index b = 0; b < B; ++b) {
        const Id u = batch.users[b];
        auto& counts = per_user[u];
        counts.resize(12, 0);
        for (Index j = 0; j < 3; ++j) {
          const Id item = batch.negatives[b * 3 + j];
          REQUIRE(item >= 0);
          REQUIRE(item < 12);
          REQUIRE_FALSE(train.Contains(u, item));
          counts[item] += 1;
        }
      }
    }
    for (const auto& [u, counts] : per_user) {
      std::vector<double> observed, expected;
      double total = 0;
      for (double c : counts) total += c;
      for (Id i = 0; i < 12; ++i) {
        if (train.Contains(u, i)) continue;
        observed.push_back(counts[i]);
        expected.push_back(total / static_cast<double>(12 - train.UserDegree(u)));
      }
      INFO("user " << u << " max_rejections " << rejections);
      if (observed.size() > 1)
        CHECK(ChiSquare(observed, expected) < ChiSquareBound(double(observed.size() - 1)));
      else
        CHECK(observed.front() == total);  // user 5: the only non-train item, every time
    }
  }
}

TEST_CASE("PopularityNegatives: frequencies proportional to degree^beta over the complement",
          "[samplers]") {
  const Interactions train = SmallTrain();
  const std::vector<Index> degree = train.ItemDegrees();
  for (double beta : {1.0, 0.75, 0.0}) {
    PopularityNegatives negatives({.per_positive = 2, .exponent = beta});
    UserThenPositive<PopularityNegatives> sampler(negatives);
    sampler.Reset(train, 3);
    // Item 11 has degree 1 and every item has degree >= 1 here, so all weights are positive.
    std::map<Id, std::vector<double>> per_user;
    Batch batch;
    const Index B = 400, steps = 300;
    for (Index s = 0; s < steps; ++s) {
      sampler.Sample(B, batch);
      for (Index b = 0; b < B; ++b) {
        auto& counts = per_user[batch.users[b]];
        counts.resize(12, 0);
        for (Index j = 0; j < 2; ++j) {
          const Id item = batch.negatives[b * 2 + j];
          REQUIRE_FALSE(train.Contains(batch.users[b], item));
          counts[item] += 1;
        }
      }
    }
    for (Id u : {0, 2, 4}) {
      const auto& counts = per_user[u];
      std::vector<double> observed, expected, uniform;
      double total = 0, weight = 0;
      for (Id i = 0; i < 12; ++i)
        if (!train.Contains(u, i)) {
          total += counts[i];
          weight += std::pow(double(degree[i]), beta);
        }
      for (Id i = 0; i < 12; ++i) {
        if (train.Contains(u, i)) continue;
        observed.push_back(counts[i]);
        expected.push_back(total * std::pow(double(degree[i]), beta) / weight);
        uniform.push_back(total / double(12 - train.UserDegree(u)));
      }
      INFO("user " << u << " beta " << beta);
      const double df = double(observed.size() - 1);
      CHECK(ChiSquare(observed, expected) < ChiSquareBound(df));
      if (beta == 1.0) CHECK(ChiSquare(observed, uniform) > ChiSquareBound(df));
    }
  }
}

TEST_CASE("PopularityNegatives: zero-degree items are never drawn, even via the fallback",
          "[samplers]") {
  // Items 4..7 have no train user; user 1 holds items 0..2, so only item 3 may be drawn for her.
  const std::vector<std::pair<Id, Id>> pairs = {{0, 3}, {1, 0}, {1, 1}, {1, 2}, {2, 0}};
  const Interactions train = Interactions::FromPairs(3, 8, pairs);
  PopularityNegatives policy({.per_positive = 1, .exponent = 1.0, .max_rejections = 1});
  policy.Reset(train);
  CHECK(policy.Weights() == std::vector<double>{2, 1, 1, 1, 0, 0, 0, 0});
  std::mt19937_64 engine = MakeStream(5);
  for (int n = 0; n < 2000; ++n) {
    const Id item = policy.Draw(engine, 1);
    REQUIRE(item == 3);
    const Id other = policy.Draw(engine, 0);
    REQUIRE(other >= 0);
    REQUIRE(other <= 2);
  }
}

TEST_CASE("Negative policies reject impossible users at Reset with a message naming them",
          "[samplers]") {
  // User 1 has every item.
  const std::vector<std::pair<Id, Id>> full = {{0, 0}, {1, 0}, {1, 1}, {1, 2}};
  const Interactions train = Interactions::FromPairs(2, 3, full);
  UserThenPositive<UniformNegatives> uniform{UniformNegatives({.per_positive = 1})};
  CHECK_THROWS_WITH(uniform.Reset(train, 1),
                    Catch::Contains("user 1") && Catch::Contains("all 3 items"));
  UserThenPositive<PopularityNegatives> popular{PopularityNegatives({.per_positive = 1})};
  CHECK_THROWS_WITH(popular.Reset(train, 1), Catch::Contains("user 1"));
  // Popularity: user 0's only non-train item (2) has degree 0 once user 1 is gone.
  const std::vector<std::pair<Id, Id>> zero = {{0, 0}, {0, 1}, {1, 0}};
  const Interactions sparse = Interactions::FromPairs(2, 3, zero);
  CHECK_THROWS_WITH(popular.Reset(sparse, 1), Catch::Contains("user 0"));
  CHECK_NOTHROW(UserThenPositive<PopularityNegatives>(
                    PopularityNegatives({.per_positive = 1, .exponent = 0.0}))
                    .Reset(sparse, 1));
  // k = 0 never draws, so the same data is fine.
  UserThenPositive<UniformNegatives> none{UniformNegatives({.per_positive = 0})};
  CHECK_NOTHROW(none.Reset(train, 1));
  CHECK_THROWS_AS(UniformNegatives({.per_positive = -1}), std::invalid_argument);
  CHECK_THROWS_AS(PopularityNegatives({.exponent = -0.5}), std::invalid_argument);
  const Interactions empty = Interactions::FromPairs(3, 3, std::vector<std::pair<Id, Id>>{});
  UserThenPositive<> sampler;
  CHECK_THROWS_WITH(sampler.Reset(empty, 1), Catch::Contains("empty"));
}

TEST_CASE("Steps per epoch count duplicate source rows, with an override and a minimum of one",
          "[samplers]") {
  const Interactions train = SmallTrain();
  REQUIRE(train.SourceRows() == 25);
  REQUIRE(train.Nnz() == 24);
  UserThenPositive<> sampler;
  sampler.Reset(train, 0);
  CHECK(sampler.StepsPerEpoch(5) == 5);
  CHECK(sampler.StepsPerEpoch(4) == 6);
  CHECK(sampler.StepsPerEpoch(26) == 1);  // fewer rows than one batch: still one step
  UserThenPositive<> fixed({.steps_per_epoch = 9});
  fixed.Reset(train, 0);
  CHECK(fixed.StepsPerEpoch(5) == 9);
  CHECK_THROWS_AS(UserThenPositive<>({.steps_per_epoch = -1}), std::invalid_argument);
}

TEST_CASE("Batches are a function of (seed, step): reproducible, seekable, seed-dependent",
          "[samplers]") {
  const Interactions train = SmallTrain();
  auto draw = [&](std::uint64_t seed, Index steps) {
    InteractionUniform<UniformNegatives> s{UniformNegatives({.per_positive = 2})};
    s.Reset(train, seed);
    std::vector<Batch> out(static_cast<std::size_t>(steps));
    for (auto& b : out) s.Sample(64, b);
    return out;
  };
  const auto a = draw(99, 5), b = draw(99, 5), c = draw(100, 5);
  for (std::size_t s = 0; s < a.size(); ++s) {
    CHECK(a[s].users == b[s].users);
    CHECK(a[s].positives == b[s].positives);
    CHECK(a[s].negatives == b[s].negatives);
  }
  CHECK(a[0].users != c[0].users);
  CHECK(a[0].users != a[1].users);  // consecutive steps differ
  // Seek to step 3 (and a different batch size earlier) reproduces step 3.
  InteractionUniform<UniformNegatives> s{UniformNegatives({.per_positive = 2})};
  s.Reset(train, 99);
  Batch scratch;
  s.Sample(7, scratch);
  s.Seek(3);
  s.Sample(64, scratch);
  CHECK(scratch.users == a[3].users);
  CHECK(scratch.negatives == a[3].negatives);
  CHECK(s.StepsDrawn() == 4);
  // Reset restarts the stream.
  s.Reset(train, 99);
  s.Sample(64, scratch);
  CHECK(scratch.positives == a[0].positives);
}
