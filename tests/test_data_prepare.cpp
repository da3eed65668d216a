// Data preparation on hand-made logs: what each filter removes (rows, users, items), the k-core
// fixpoint, the four splits and their validation carving, deterministic tie-breaking, the
// Dataset PrepareDataset builds, and test evaluation masking train and validation items.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "directspec/data.hpp"
#include "directspec/eval/evaluator.hpp"

using namespace directspec;

namespace {

RawLog Log(const std::string& rows, const std::string& columns = "user=u,item=i,rating=r,time=t") {
  RawLogOptions o;
  o.columns = ParseColumnSpec(columns);
  return ParseRawLog(rows, "log.csv", o);
}

std::set<std::int64_t> Lines(const std::vector<LogRow>& rows) {
  std::set<std::int64_t> lines;
  for (const LogRow& r : rows) lines.insert(r.line);
  return lines;
}

void CheckCounts(const FilterReport& f, Index rows, Index users, Index items, Index rows_left,
                 Index users_left, Index items_left) {
  INFO(f.Line());
  CHECK(f.rows_removed == rows);
  CHECK(f.users_removed == users);
  CHECK(f.items_removed == items);
  CHECK(f.rows_left == rows_left);
  CHECK(f.users_left == users_left);
  CHECK(f.items_left == items_left);
}

// Line numbers in comments: the header is line 1.
const std::string kFilterLog =
    "u,i,r,t\n"
    "a,x,5,10\n"   // 2
    "a,y,4,20\n"   // 3
    "a,z,2,30\n"   // 4  below 4
    "b,x,3,15\n"   // 5  below 4
    "b,y,5,25\n"   // 6
    "a,x,4,40\n"   // 7  repeats (a, x), later
    "c,w,1,5\n"    // 8  below 4: c and w disappear
    "b,x,5,50\n"   // 9  (b, x) again, the only one left after min-rating
    "d,y,5,60\n";  // 10

/// A log of `users` users where user u has u + 1 rows at times 10 * k (k = 0..u) and item ids
/// shifted per user; a few equal times when `ties`.
RawLog Staircase(int users, bool ties) {
  std::string text = "u,i,r,t\n";
  for (int u = 0; u < users; ++u)
    for (int k = 0; k <= u; ++k) {
      const int time = ties && k % 3 == 1 ? 10 * (k - 1) : 10 * k;
      text += "u" + std::to_string(u) + ",i" + std::to_string((u * 7 + k * 3) % 40) + ",5," +
              std::to_string(time) + "\n";
    }
  return Log(text);
}

Index Rounded(double f, Index n) { return static_cast<Index>(std::floor(f * n + 0.5)); }

std::map<Id, std::vector<LogRow>> ByUser(const std::vector<LogRow>& rows) {
  std::map<Id, std::vector<LogRow>> m;
  for (const LogRow& r : rows) m[r.user].push_back(r);
  return m;
}

}  // namespace

TEST_CASE("KeepMinRating: rows, users and items removed", "[data][prepare]") {
  RawLog log = Log(kFilterLog);
  const FilterReport f = KeepMinRating(log, 4);
  CheckCounts(f, 3, 1, 2, 6, 3, 2);
  CHECK(Lines(log.rows) == std::set<std::int64_t>{2, 3, 6, 7, 9, 10});
  CHECK(f.Line() ==
        "min-rating 4: removed 3 rows, 1 users, 2 items; left 6 rows, 3 users, 2 items");

  RawLog none = Log(kFilterLog);
  CHECK_THROWS_WITH(KeepMinRating(none, 6),
                    Catch::Contains("log.csv: no interactions left: every one of the 9 rows has a "
                                    "rating below 6"));
  RawLog unrated = Log("u,i\na,b\n", "user=u,item=i");
  CHECK_THROWS_WITH(KeepMinRating(unrated, 4), Catch::Contains("needs a rating column"));
}

TEST_CASE("ResolveDuplicates: merge, first, last and keep", "[data][prepare]") {
  auto after_min_rating = [] {
    RawLog log = Log(kFilterLog);
    KeepMinRating(log, 4);
    return log;
  };
  RawLog merge = after_min_rating();
  const FilterReport m = ResolveDuplicates(merge, DuplicatePolicy::kMerge);
  CheckCounts(m, 1, 0, 0, 5, 3, 2);
  CHECK(m.note == "1 repeated rows of 1 pairs merged into the first row of each pair");
  CHECK(Lines(merge.rows) == std::set<std::int64_t>{2, 3, 6, 9, 10});

  RawLog first = after_min_rating();
  CheckCounts(ResolveDuplicates(first, DuplicatePolicy::kFirst), 1, 0, 0, 5, 3, 2);
  CHECK(Lines(first.rows) == std::set<std::int64_t>{2, 3, 6, 9, 10});

  RawLog last = after_min_rating();
  CheckCounts(ResolveDuplicates(last, DuplicatePolicy::kLast), 1, 0, 0, 5, 3, 2);
  CHECK(Lines(last.rows) == std::set<std::int64_t>{3, 6, 7, 9, 10});

  RawLog keep = after_min_rating();
  const FilterReport k = ResolveDuplicates(keep, DuplicatePolicy::kKeep);
  CheckCounts(k, 0, 0, 0, 6, 3, 2);
  CHECK(k.note == "1 repeated rows of 1 pairs kept");

  // "First" and "last" follow time, not file order; equal times fall back to the line.
  RawLog timed = Log("u,i,r,t\na,x,1,50\na,x,2,10\na,x,3,10\n");
  ResolveDuplicates(timed, DuplicatePolicy::kFirst);
  REQUIRE(timed.rows.size() == 1);
  CHECK(timed.rows[0].line == 3);
  RawLog timed_last = Log("u,i,r,t\na,x,1,50\na,x,2,10\na,x,3,50\n");
  ResolveDuplicates(timed_last, DuplicatePolicy::kLast);
  CHECK(timed_last.rows[0].line == 4);
}

TEST_CASE("KCore: iterated to the fixpoint, counted, and empty results refused",
          "[data][prepare]") {
  // A 2 x 2 block (a, e) x (x, y) and a chain b-y, b-z, c-z that peels off in three rounds.
  RawLog log = Log("u,i\na,x\na,y\ne,x\ne,y\nb,y\nb,z\nc,z\n", "user=u,item=i");
  const FilterReport f = KCore(log, 2, 2);
  CheckCounts(f, 3, 2, 1, 4, 2, 2);
  CHECK(f.note == "3 rounds to the fixpoint");
  CHECK(Lines(log.rows) == std::set<std::int64_t>{2, 3, 4, 5});
  CHECK(f.name == "k-core 2");

  // Users and items apart: every user >= 1, every item >= 3 rows.
  RawLog items_only = Log("u,i\na,x\nb,x\nc,x\na,y\nb,y\n", "user=u,item=i");
  CheckCounts(KCore(items_only, 1, 3), 2, 0, 1, 3, 3, 1);

  RawLog chain = Log("u,i\na,x\na,y\nb,y\nb,z\nc,z\n", "user=u,item=i");
  CHECK_THROWS_WITH(KCore(chain, 2, 2), Catch::Contains("no interactions left: no user with at "
                                                        "least 2 rows and item with at least 2"));
}

TEST_CASE("KCore equals a one-row-at-a-time peeling on random logs", "[data][prepare]") {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    auto engine = MakeStream(seed, 99);
    std::string text = "u,i\n";
    for (int k = 0; k < 150; ++k)
      text += "u" + std::to_string(UniformIndex(engine, 25)) + ",i" +
              std::to_string(UniformIndex(engine, 30)) + "\n";
    RawLog log = Log(text, "user=u,item=i");
    ResolveDuplicates(log, DuplicatePolicy::kMerge);
    const Index min_user = 2 + static_cast<Index>(seed % 4),
                min_item = 2 + static_cast<Index>(seed % 3);

    // Reference: remove any one row that violates a threshold, recount, repeat.
    std::vector<LogRow> ref = log.rows;
    for (bool removed = true; removed;) {
      removed = false;
      std::map<Id, Index> du, di;
      for (const LogRow& r : ref) ++du[r.user], ++di[r.item];
      for (std::size_t k = 0; k < ref.size(); ++k)
        if (du[ref[k].user] < min_user || di[ref[k].item] < min_item) {
          ref.erase(ref.begin() + static_cast<std::ptrdiff_t>(k));
          removed = true;
          break;
        }
    }
    INFO("seed " << seed);
    if (ref.empty()) {
      CHECK_THROWS_AS(KCore(log, min_user, min_item), DataError);
      continue;
    }
    KCore(log, min_user, min_item);
    CHECK(Lines(log.rows) == Lines(ref));
  }
}

TEST_CASE("SplitLog temporal: the latest rows of each user, every test time >= every train time",
          "[data][prepare][split]") {
  for (const bool ties : {false, true}) {
    const RawLog log = Staircase(14, ties);
    const LogPartition p = SplitLog(log, ParseLogSplitSpec("temporal:0.3"), 0.2, 5);
    CHECK(p.train.size() + p.valid.size() + p.test.size() == log.rows.size());
    const auto train = ByUser(p.train), valid = ByUser(p.valid), test = ByUser(p.test);
    for (Id u = 0; u < 14; ++u) {
      const Index n = u + 1;
      const Index h = std::min(Rounded(0.3, n), n - 1);
      const Index v = std::min(Rounded(0.2, n - h), n - h - 1);
      INFO("user " << u << " ties " << ties);
      CHECK(static_cast<Index>(test.count(u) ? test.at(u).size() : 0) == h);
      CHECK(static_cast<Index>(valid.count(u) ? valid.at(u).size() : 0) == v);
      REQUIRE(train.count(u) == 1);  // every user keeps a train row
      double train_max = -1, valid_min = 1e30, valid_max = -1, test_min = 1e30;
      for (const LogRow& r : train.at(u)) train_max = std::max(train_max, r.time);
      if (valid.count(u))
        for (const LogRow& r : valid.at(u)) {
          valid_min = std::min(valid_min, r.time);
          valid_max = std::max(valid_max, r.time);
        }
      if (test.count(u))
        for (const LogRow& r : test.at(u)) test_min = std::min(test_min, r.time);
      CHECK(test_min >= train_max);
      CHECK(valid_min >= train_max);
      CHECK(test_min >= valid_max);
    }
  }
}

TEST_CASE("SplitLog: equal times are ordered by line, deterministically",
          "[data][prepare][split]") {
  // Four rows at the same second: the later lines are the later rows.
  const RawLog log = Log("u,i,r,t\na,w,5,7\na,x,5,7\na,y,5,7\na,z,5,7\na,v,5,3\n");
  const LogPartition p = SplitLog(log, ParseLogSplitSpec("temporal:0.4"), 0, 0);
  CHECK(Lines(p.test) == std::set<std::int64_t>{4, 5});
  CHECK(Lines(SplitLog(log, ParseLogSplitSpec("leave-last:1"), 0, 9).test) ==
        std::set<std::int64_t>{5});
  // The same input always gives the same split, whatever the seed (no randomness involved).
  CHECK(Lines(SplitLog(log, ParseLogSplitSpec("temporal:0.4"), 0, 123).test) == Lines(p.test));
}

TEST_CASE("SplitLog leave-last and global-time", "[data][prepare][split]") {
  const RawLog log = Staircase(10, false);
  const LogPartition last = SplitLog(log, ParseLogSplitSpec("leave-last:2"), 0, 0);
  const auto test = ByUser(last.test), train = ByUser(last.train);
  for (Id u = 0; u < 10; ++u) {
    const Index n = u + 1;
    CHECK(static_cast<Index>(test.count(u) ? test.at(u).size() : 0) == std::min<Index>(2, n - 1));
    if (test.count(u))
      for (const LogRow& r : test.at(u)) CHECK(r.time >= 10.0 * (n - 2));
  }
  CHECK(last.valid.empty());

  // Global time 50: rows at 50 and later are test; validation = the latest 25 % of train rows.
  const LogPartition global = SplitLog(log, ParseLogSplitSpec("global-time:50"), 0.25, 0);
  for (const LogRow& r : global.test) CHECK(r.time >= 50);
  for (const LogRow& r : global.train) CHECK(r.time < 50);
  Index before = 0;
  for (const LogRow& r : log.rows) before += r.time < 50 ? 1 : 0;
  CHECK(static_cast<Index>(global.test.size()) == static_cast<Index>(log.rows.size()) - before);
  CHECK(static_cast<Index>(global.valid.size()) == Rounded(0.25, before));
  double train_max = 0, valid_min = 1e30;
  for (const LogRow& r : global.train) train_max = std::max(train_max, r.time);
  for (const LogRow& r : global.valid) valid_min = std::min(valid_min, r.time);
  CHECK(valid_min >= train_max);
  CHECK(ParseLogSplitSpec("global-time:2021-06-01").time == 1622505600.0);

  CHECK_THROWS_WITH(
      SplitLog(log, ParseLogSplitSpec("global-time:1000"), 0, 0),
      Catch::Contains("leaves the test set empty (no row has a time at or after 1000)"));
  CHECK_THROWS_WITH(SplitLog(log, ParseLogSplitSpec("global-time:0"), 0, 0),
                    Catch::Contains("leaves the train set empty"));
}

TEST_CASE("SplitLog ratio: rounded per-user counts, seeded", "[data][prepare][split]") {
  const RawLog log = Staircase(20, false);
  const LogPartition a = SplitLog(log, ParseLogSplitSpec("ratio:0.25"), 0.2, 7);
  const LogPartition b = SplitLog(log, ParseLogSplitSpec("ratio:0.25"), 0.2, 7);
  const LogPartition c = SplitLog(log, ParseLogSplitSpec("ratio:0.25"), 0.2, 8);
  CHECK(Lines(a.test) == Lines(b.test));
  CHECK(Lines(a.valid) == Lines(b.valid));
  CHECK(Lines(a.test) != Lines(c.test));
  const auto test = ByUser(a.test), valid = ByUser(a.valid);
  for (Id u = 0; u < 20; ++u) {
    const Index n = u + 1, h = std::min(Rounded(0.25, n), n - 1);
    CHECK(static_cast<Index>(test.count(u) ? test.at(u).size() : 0) == h);
    CHECK(static_cast<Index>(valid.count(u) ? valid.at(u).size() : 0) ==
          std::min(Rounded(0.2, n - h), n - h - 1));
  }
}

TEST_CASE("Split specs and their errors", "[data][prepare][split]") {
  CHECK(ParseLogSplitSpec("temporal:0.2").Describe() == "temporal:0.2");
  CHECK(ParseLogSplitSpec("leave-last:3").last == 3);
  CHECK_THROWS_WITH(ParseLogSplitSpec("temporal:1.5"), Catch::Contains("strictly between 0 and 1"));
  CHECK_THROWS_WITH(ParseLogSplitSpec("leave-last:0"), Catch::Contains("positive row count"));
  CHECK_THROWS_WITH(ParseLogSplitSpec("global-time:soon"), Catch::Contains("needs a time"));
  CHECK_THROWS_WITH(ParseLogSplitSpec("random:0.2"), Catch::Contains("is not a split"));
  const RawLog untimed = Log("u,i\na,x\na,y\n", "user=u,item=i");
  CHECK_THROWS_WITH(SplitLog(untimed, ParseLogSplitSpec("temporal:0.5"), 0, 0),
                    Catch::Contains("no time column was selected"));
  const RawLog tiny = Log("u,i,r,t\na,x,1,1\na,y,1,2\nb,x,1,3\n");
  CHECK_THROWS_WITH(SplitLog(tiny, ParseLogSplitSpec("temporal:0.2"), 0, 0),
                    Catch::Contains("leaves the test set empty (no user has enough rows"));
  CHECK_THROWS_WITH(SplitLog(tiny, ParseLogSplitSpec("temporal:0.5"), 0.1, 0),
                    Catch::Contains("leaves the validation set empty"));
}

TEST_CASE("PrepareDataset: filters in order, ids dense by first appearance in train, valid, test",
          "[data][prepare]") {
  PrepareOptions o;
  o.min_rating = 4;
  o.kcore_users = o.kcore_items = 2;
  o.split = ParseLogSplitSpec("leave-last:1");
  const PreparedData p = PrepareDataset(Log(kFilterLog), o);
  REQUIRE(p.filters.size() == 3);
  CHECK(p.filters[0].name == "min-rating 4");
  CHECK(p.filters[1].name == "duplicates merge");
  CHECK(p.filters[2].name == "k-core 2");
  CheckCounts(p.filters[2], 1, 1, 0, 4, 2, 2);  // d (one row) goes
  CHECK(p.read.rows == 9);
  // a: x@10, y@20 -> test y; b: y@25, x@50 -> test x. Train rows in file order: a-x, b-y.
  const Dataset& d = p.dataset;
  REQUIRE(d.ids);
  CHECK(d.ids->users.RawIds() == std::vector<std::string>{"a", "b"});
  CHECK(d.ids->items.RawIds() == std::vector<std::string>{"x", "y"});
  CHECK(d.train.Pairs() == std::vector<std::pair<Id, Id>>{{0, 0}, {1, 1}});
  CHECK(d.test_pairs == std::vector<std::pair<Id, Id>>{{0, 1}, {1, 0}});
  CHECK_FALSE(d.valid);
  const std::string report = p.Report();
  CHECK_THAT(report, Catch::Contains("filter k-core 2: removed 1 rows, 1 users, 0 items") &&
                         Catch::Contains("split leave-last:1: 2 train rows, 2 test rows") &&
                         Catch::Contains("ties in time: rows with equal times are ordered by "
                                         "their line in the file") &&
                         Catch::Contains("2 users x 2 items, ids remapped"));
}

TEST_CASE("Test evaluation masks train and validation items", "[data][prepare][eval]") {
  // One user, four items; scores 0.1, 0.9, 0.5, 0.2. Item 1 is in validation, item 2 in test.
  using Pairs = std::vector<std::pair<Id, Id>>;
  const Pairs train{{0, 0}};
  Dataset d = AssembleDataset(1, 4, train, Pairs{{0, 2}}, Pairs{{0, 1}});
  const Interactions mask = d.EvaluationMask();
  CHECK(mask.Pairs() == std::vector<std::pair<Id, Id>>{{0, 0}, {0, 1}});
  RowMatrix<double> U(1, 1), I(4, 1);
  U << 1;
  I << 0.1, 0.9, 0.5, 0.2;
  EvalOptions o;
  o.ks = {1};
  CHECK(Evaluator(mask, d.test_pairs, o).Evaluate(U, I).Get("recall@1") == 1.0);
  // Masking train alone would rank the validation item first.
  CHECK(Evaluator(d.train, d.test_pairs, o).Evaluate(U, I).Get("recall@1") == 0.0);
  CHECK_THAT(d.report.Summary(), Catch::Contains("test evaluation masks train and valid items"));
  d.valid.reset();
  CHECK(d.EvaluationMask().Pairs() == d.train.Pairs());
}
