// Recommendation API against brute force: single-user and batched top-k with seen items, extra
// exclusions and allowed lists; cosine similar items; the CSV export with raw ids.

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "directspec/serve/recommend.hpp"

using namespace directspec;

namespace {

struct Case {
  RowMatrix<double> U, I;
  Interactions train;
};

// Quarter-integer entries: exact scores, many ties (the tie rule is exercised).
Case MakeCase(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> v(-2, 2);
  Case c;
  c.U.resize(12, 3);
  c.I.resize(30, 3);
  for (Index k = 0; k < c.U.size(); ++k) c.U.data()[k] = v(rng) / 4.0;
  for (Index k = 0; k < c.I.size(); ++k) c.I.data()[k] = v(rng) / 4.0;
  std::vector<std::pair<Id, Id>> pairs;
  for (Id u = 0; u < 12; ++u)
    for (int k = 0; k < 6; ++k) pairs.emplace_back(u, static_cast<Id>(rng() % 30));
  c.train = Interactions::FromPairs(12, 30, pairs);
  return c;
}

// Full sort by (score desc, id asc) over the allowed, unexcluded items.
std::vector<Id> Brute(const Case& c, Id u, Index k, const RecommendOptions& o) {
  std::vector<Id> cand;
  for (Id i = 0; i < 30; ++i) {
    if (o.exclude_seen && c.train.Contains(u, i)) continue;
    if (std::find(o.exclude.begin(), o.exclude.end(), i) != o.exclude.end()) continue;
    if (!o.allowed.empty() && std::find(o.allowed.begin(), o.allowed.end(), i) == o.allowed.end())
      continue;
    cand.push_back(i);
  }
  std::stable_sort(cand.begin(), cand.end(), [&](Id a, Id b) {
    return c.U.row(u).dot(c.I.row(a)) > c.U.row(u).dot(c.I.row(b));
  });
  cand.resize(std::min<std::size_t>(cand.size(), static_cast<std::size_t>(k)));
  return cand;
}

template <class S>
std::vector<Id> ItemsOf(const std::vector<ScoredItem<S>>& v) {
  std::vector<Id> out;
  for (const auto& s : v) out.push_back(s.item);
  return out;
}

}  // namespace

TEST_CASE("Recommend and RecommendMany match brute force", "[recommend]") {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const Case c = MakeCase(seed);
    std::vector<RecommendOptions> variants(4);
    variants[1].exclude_seen = false;
    variants[2].exclude = {3, 7, 7, 29};
    variants[3].allowed = {25, 1, 2, 3, 4, 5, 6, 20, 21};
    variants[3].exclude = {2};
    for (const auto& o : variants) {
      for (Index k : {1, 5, 40}) {  // 40 > items: every candidate, ranked
        const auto many = RecommendMany(c.U, c.I, c.train, {}, k, o);
        REQUIRE(many.size() == 12);
        for (Id u = 0; u < 12; ++u) {
          const auto want = Brute(c, u, k, o);
          const auto one = Recommend(c.U, c.I, c.train, u, k, o);
          CHECK(ItemsOf(one) == want);
          CHECK(ItemsOf(many[static_cast<std::size_t>(u)]) == want);
          for (const auto& r : one) CHECK(r.score == c.U.row(u).dot(c.I.row(r.item)));
        }
      }
    }
    // A subset of users, in a chosen order.
    const std::vector<Id> users{9, 2, 2};
    const auto some = RecommendMany(c.U, c.I, c.train, users, 4);
    CHECK(ItemsOf(some[0]) == Brute(c, 9, 4, {}));
    CHECK(ItemsOf(some[2]) == Brute(c, 2, 4, {}));
  }
}

TEST_CASE("recommendation input errors", "[recommend]") {
  const Case c = MakeCase(1);
  CHECK_THROWS_WITH(Recommend(c.U, c.I, c.train, 12, 3), Catch::Contains("user 12"));
  RecommendOptions o;
  o.exclude = {30};
  CHECK_THROWS_WITH(Recommend(c.U, c.I, c.train, 0, 3, o), Catch::Contains("item 30"));
  const RowMatrix<double> wrong(30, 4);
  CHECK_THROWS_AS(Recommend(c.U, wrong, c.train, 0, 3), std::invalid_argument);
}

TEST_CASE("SimilarItems ranks by cosine", "[recommend]") {
  RowMatrix<float> I(5, 2);
  I << 1, 0,  //
      10, 1,  // cos with item 0: 10/sqrt(101)
      0, 3,   // 0
      -1, 0,  // -1
      0, 0;   // zero row: cosine 0, ties with item 2 (lower id first)
  const auto sim = SimilarItems(I, 0, 4);
  REQUIRE(sim.size() == 4);
  CHECK(sim[0].item == 1);
  CHECK(sim[0].score == Approx(10.0 / std::sqrt(101.0)));
  CHECK(sim[1].item == 2);
  CHECK(sim[2].item == 4);
  CHECK(sim[3].item == 3);
  CHECK(sim[3].score == Approx(-1.0));

  // Brute force on random rows.
  const Case c = MakeCase(3);
  for (Id item = 0; item < 30; ++item) {
    const auto got = SimilarItems(c.I, item, 6);
    std::vector<std::pair<double, Id>> all;
    for (Id j = 0; j < 30; ++j) {
      if (j == item) continue;
      const double den = c.I.row(j).norm() * c.I.row(item).norm();
      all.emplace_back(den > 0 ? c.I.row(j).dot(c.I.row(item)) / den : 0.0, j);
    }
    std::stable_sort(all.begin(), all.end(), [](auto a, auto b) { return a.first > b.first; });
    for (std::size_t q = 0; q < 6; ++q) CHECK(got[q].score == Approx(all[q].first));
  }
}

TEST_CASE("recommendations CSV with raw ids", "[recommend]") {
  const Case c = MakeCase(2);
  const std::vector<Id> users{0, 5};
  const auto lists = RecommendMany(c.U, c.I, c.train, users, 3);
  std::vector<std::string> user_ids, item_ids;
  for (int u = 0; u < 12; ++u)
    user_ids.push_back(u == 5 ? std::string("alice, \"A\"")
                              : std::string("u").append(std::to_string(u)));
  for (int i = 0; i < 30; ++i) item_ids.push_back(std::string("item-").append(std::to_string(i)));
  const auto path = std::filesystem::temp_directory_path() /
                    ("directspec-recs-" + std::to_string(::getpid()) + ".csv");
  WriteRecommendationsCsv(path.string(), users, lists, user_ids, item_ids);
  std::ifstream f(path);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(f, line)) lines.push_back(line);
  std::filesystem::remove(path);
  REQUIRE(lines.size() == 1 + 6);
  CHECK(lines[0] == "user,item,rank,score");
  std::ostringstream want;
  want << "u0,item-" << lists[0][0].item << ",1," << lists[0][0].score;
  CHECK(lines[1] == want.str());
  CHECK_THAT(lines[4], Catch::StartsWith("\"alice, \"\"A\"\"\",item-"));
  CHECK_THAT(lines[6], Catch::Contains(",3,"));

  // Dense ids when no maps are given; an unmapped id is an error naming the file.
  WriteRecommendationsCsv(path.string(), users, lists);
  std::ifstream g(path);
  std::getline(g, line);
  std::getline(g, line);
  CHECK_THAT(line, Catch::StartsWith("0," + std::to_string(lists[0][0].item) + ",1,"));
  const std::vector<std::string> short_ids{"a"};
  CHECK_THROWS_WITH(WriteRecommendationsCsv(path.string(), users, lists, short_ids),
                    Catch::Contains("user 5 has no raw id"));
  std::filesystem::remove(path);
}
