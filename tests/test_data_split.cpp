// Splits and subsampling: partitions are exact, counts follow the documented rounding, choices
// are uniform and depend only on the seed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "directspec/data.hpp"

using namespace directspec;
namespace ds = directspec;
using Pairs = std::vector<std::pair<Id, Id>>;

namespace {

/// Users with degrees 0, 1, 2, ..., 29 over 40 items (user u holds items 0..u-1, shifted).
Interactions Staircase() {
  Pairs p;
  for (Id u = 0; u < 30; ++u)
    for (Id k = 0; k < u; ++k) p.emplace_back(u, static_cast<Id>((k * 7 + u) % 40));
  return Interactions::FromPairs(30, 40, p);
}

void CheckPartition(const Interactions& data, const HoldOut& s) {
  REQUIRE(s.kept.Users() == data.Users());
  REQUIRE(s.kept.Items() == data.Items());
  REQUIRE(s.held_out.Users() == data.Users());
  REQUIRE(s.held_out.Items() == data.Items());
  CHECK(s.kept.Nnz() + s.held_out.Nnz() == data.Nnz());
  Pairs all = s.kept.Pairs();
  const Pairs held = s.held_out.Pairs();
  all.insert(all.end(), held.begin(), held.end());
  std::sort(all.begin(), all.end());
  CHECK(all == data.Pairs());  // CSR order is sorted, and the union has no repeats
}

}  // namespace

TEST_CASE("SplitPerUserRatio: exact partition with rounded per-user counts", "[data][split]") {
  const Interactions data = Staircase();
  const HoldOut s = SplitPerUserRatio(data, 0.25, 11);
  CheckPartition(data, s);
  for (Index u = 0; u < data.Users(); ++u) {
    const Index n = data.UserDegree(u);
    const Index want =
        std::min<Index>(static_cast<Index>(std::floor(0.25 * n + 0.5)), n - std::min<Index>(1, n));
    CHECK(s.held_out.UserDegree(u) == want);
  }
  // min_kept: fraction 1 keeps exactly min_kept items; min_kept 0 may hold out everything.
  const HoldOut all_but_one = SplitPerUserRatio(data, 1.0, 11);
  for (Index u = 1; u < data.Users(); ++u) CHECK(all_but_one.kept.UserDegree(u) == 1);
  const HoldOut everything = SplitPerUserRatio(data, 1.0, 11, 0);
  CHECK(everything.kept.Nnz() == 0);
  CHECK(SplitPerUserRatio(data, 0.0, 11).held_out.Nnz() == 0);
  CHECK_THROWS_AS(SplitPerUserRatio(data, 1.5, 1), std::invalid_argument);
  CHECK_THROWS_AS(SplitPerUserRatio(data, -0.1, 1), std::invalid_argument);
}

TEST_CASE("Splits are deterministic by seed and differ across seeds", "[data][split]") {
  const Interactions data = Staircase();
  CHECK(SplitPerUserRatio(data, 0.3, 5).held_out.Pairs() ==
        SplitPerUserRatio(data, 0.3, 5).held_out.Pairs());
  CHECK(SplitPerUserRatio(data, 0.3, 5).held_out.Pairs() !=
        SplitPerUserRatio(data, 0.3, 6).held_out.Pairs());
  CHECK(LeaveKOut(data, 2, 5).held_out.Pairs() == LeaveKOut(data, 2, 5).held_out.Pairs());
  CHECK(LeaveKOut(data, 2, 5).held_out.Pairs() != LeaveKOut(data, 2, 6).held_out.Pairs());
  CHECK(Subsample(data, 0.5, 5).Pairs() == Subsample(data, 0.5, 5).Pairs());
  CHECK(Subsample(data, 0.5, 5).Pairs() != Subsample(data, 0.5, 6).Pairs());
}

TEST_CASE("SplitPerUserRatio holds out each item with equal probability", "[data][split]") {
  // One user with 10 items, fraction 0.3 -> 3 held out; over 4000 seeds each item should be
  // held out 1200 times (binomial sd ~ 29); allow 5 sd.
  Pairs p;
  for (Id i = 0; i < 10; ++i) p.emplace_back(0, i);
  const auto data = Interactions::FromPairs(1, 10, p);
  std::vector<int> held(10, 0);
  for (std::uint64_t seed = 0; seed < 4000; ++seed) {
    const HoldOut s = SplitPerUserRatio(data, 0.3, seed);
    REQUIRE(s.held_out.UserDegree(0) == 3);
    for (Id i : s.held_out.ItemsOf(0)) ++held[static_cast<std::size_t>(i)];
  }
  for (int h : held) CHECK(std::abs(h - 1200) < 145);
}

TEST_CASE("LeaveKOut holds out k items but keeps min_kept", "[data][split]") {
  const Interactions data = Staircase();
  const HoldOut s = LeaveKOut(data, 3, 2);
  CheckPartition(data, s);
  for (Index u = 0; u < data.Users(); ++u) {
    const Index n = data.UserDegree(u);
    CHECK(s.held_out.UserDegree(u) == std::max<Index>(0, std::min<Index>(3, n - 1)));
  }
  const HoldOut keep5 = LeaveKOut(data, 3, 2, 5);
  for (Index u = 0; u < data.Users(); ++u)
    CHECK(keep5.kept.UserDegree(u) ==
          std::max<Index>(std::min<Index>(5, data.UserDegree(u)), data.UserDegree(u) - 3));
  CHECK_THROWS_AS(LeaveKOut(data, -1, 2), std::invalid_argument);
}

TEST_CASE("Subsample keeps an exact, uniform fraction of rows", "[data][split]") {
  const Interactions data = Staircase();  // 435 entries
  REQUIRE(data.Nnz() == 435);
  for (double f : {0.0, 0.1, 0.3, 0.5, 1.0}) {
    const Interactions s = Subsample(data, f, 9);
    CHECK(s.Nnz() == std::llround(f * 435));
    CHECK(s.Users() == data.Users());
    CHECK(s.Items() == data.Items());
    for (const auto& [u, i] : s.Pairs()) REQUIRE(data.Contains(u, i));
  }
  CHECK(Subsample(data, 1.0, 9).Pairs() == data.Pairs());
  // Uniformity: each entry kept with probability ~0.3 over 2000 seeds (sd ~ 20.5; allow 5 sd).
  std::vector<int> kept(static_cast<std::size_t>(data.Nnz()), 0);
  const Pairs all = data.Pairs();
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    const Interactions s = Subsample(data, 0.3, seed);
    for (std::size_t k = 0; k < all.size(); ++k) kept[k] += s.Contains(all[k].first, all[k].second);
  }
  for (int c : kept) REQUIRE(std::abs(c - 600) < 103);
  CHECK_THROWS_AS(Subsample(data, 2.0, 1), std::invalid_argument);
}

TEST_CASE("CarveValidation moves a per-user share of train into valid", "[data][split]") {
  SyntheticOptions so;
  so.users = 200;
  so.items = 150;
  so.seed = 4;
  Dataset d = MakeSyntheticDataset(so);
  const Pairs train_before = d.train.Pairs();
  const Pairs test_before = d.test_pairs;
  CarveValidation(d, 0.2, 8);
  REQUIRE(d.valid);
  CHECK(d.test_pairs == test_before);
  Pairs merged = d.train.Pairs();
  merged.insert(merged.end(), d.valid_pairs.begin(), d.valid_pairs.end());
  std::sort(merged.begin(), merged.end());
  CHECK(merged == train_before);
  CHECK(d.valid->Users() == d.Users());
  REQUIRE(d.report.valid);
  CHECK(d.report.valid->rows == static_cast<Index>(d.valid_pairs.size()));
  CHECK(d.report.valid_vs_train->pairs_in_train == 0);
  CHECK(d.report.train.rows == d.train.Nnz());
  CHECK(d.report.notes.back().find("validation carved from train") != std::string::npos);
  CHECK(d.report.source == MakeSyntheticDataset(so).report.source);
}

TEST_CASE("Subsample of Gowalla: 10 %, 30 %, 100 %", "[data][split][shared]") {
  const std::string dir = std::string(DIRECTSPEC_DATASETS_DIR) + "/gowalla";
  INFO(dir << "/train.csv must exist (the datasets ship in the repository)");
  REQUIRE(std::filesystem::exists(dir + "/train.csv"));
  const Dataset d = LoadDataset(dir);
  for (double f : {0.1, 0.3, 1.0}) {
    const Interactions s = Subsample(d.train, f, 2024);
    CHECK(s.Nnz() == std::llround(f * 810128));
    CHECK(s.Users() == 29858);
    CHECK(s.Items() == 40981);
  }
}

TEST_CASE("Interactions::Transposed: concurrent first calls build one shared transpose",
          "[data][interactions]") {
  std::vector<std::pair<ds::Id, ds::Id>> pairs;
  for (ds::Id u = 0; u < 300; ++u)
    for (ds::Id k = 0; k < 7; ++k) pairs.emplace_back(u, (u * 13 + k * 29) % 211);
  const auto data = ds::Interactions::FromPairs(300, 211, pairs);
  const auto copy = data;  // copies share the cache: both see the one built below
  std::vector<ds::CsrView> seen(8);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < seen.size(); ++t)
    threads.emplace_back([&, t] { seen[t] = (t % 2 ? copy : data).Transposed(); });
  for (auto& thread : threads) thread.join();
  for (const auto& view : seen) {
    CHECK(view.offsets.data() == seen[0].offsets.data());  // one build, not eight
    CHECK(view.columns.data() == seen[0].columns.data());
  }
  // And it is the transpose.
  REQUIRE(seen[0].Rows() == 211);
  std::int64_t entries = 0;
  for (ds::Index i = 0; i < 211; ++i)
    for (ds::Id u : seen[0].Row(i)) {
      CHECK(data.Contains(u, static_cast<ds::Id>(i)));
      ++entries;
    }
  CHECK(entries == data.Nnz());
}
