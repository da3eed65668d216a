// Split directories: WriteSplitDirectory -> LoadDataset(dir) gives back the prepared Dataset
// (ids, parts, rows), numeric raw ids included; the directory is replaced as a whole; raw ids a
// CSV field cannot hold are refused.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "directspec/data.hpp"
#include "directspec/io/split_directory.hpp"
#include "support/temp_dir.hpp"

using namespace directspec;
namespace fs = std::filesystem;
using directspec::testing::TempDir;

namespace {

/// A log with string (or numeric) ids, ratings, times, duplicates and ties: 30 users.
std::string MakeLog(bool numeric_ids) {
  std::string text = "who,what,stars,when\n";
  auto engine = MakeStream(42, 1);
  for (int row = 0; row < 900; ++row) {
    const auto u = UniformIndex(engine, 30), i = UniformIndex(engine, 60);
    const auto stars = 1 + UniformIndex(engine, 5), when = 1000 + UniformIndex(engine, 400);
    text += (numeric_ids ? std::to_string(100 + u) : "user " + std::to_string(u)) + "," +
            (numeric_ids ? std::to_string(7 * i) : "item-" + std::to_string(i)) + "," +
            std::to_string(stars) + "," + std::to_string(when) + "\n";
  }
  return text;
}

PreparedData Prepare(const std::string& text, DuplicatePolicy duplicates, double valid,
                     const std::string& split = "temporal:0.2") {
  RawLogOptions read;
  read.columns = ParseColumnSpec("user=who,item=what,rating=stars,time=when");
  PrepareOptions o;
  o.min_rating = 2;
  o.duplicates = duplicates;
  o.kcore_users = 3;
  o.kcore_items = 2;
  o.split = ParseLogSplitSpec(split);
  o.valid_fraction = valid;
  o.seed = 3;
  return PrepareDataset(ParseRawLog(text, "log.csv", read), o);
}

void CheckSame(const Dataset& a, const Dataset& b) {
  REQUIRE(a.ids);
  REQUIRE(b.ids);
  CHECK(a.ids->users == b.ids->users);
  CHECK(a.ids->items == b.ids->items);
  CHECK(a.Users() == b.Users());
  CHECK(a.Items() == b.Items());
  CHECK(a.train.Pairs() == b.train.Pairs());
  CHECK(a.train.SourceRows() == b.train.SourceRows());
  CHECK(a.test.Pairs() == b.test.Pairs());
  CHECK(a.test_pairs == b.test_pairs);
  CHECK(a.valid.has_value() == b.valid.has_value());
  if (a.valid && b.valid) CHECK(a.valid->Pairs() == b.valid->Pairs());
  CHECK(a.valid_pairs == b.valid_pairs);
}

}  // namespace

TEST_CASE("WriteSplitDirectory -> LoadDataset reproduces the prepared dataset",
          "[io][split_directory]") {
  TempDir tmp("split");
  const auto dir = tmp.path / "split";
  for (const bool numeric : {false, true})
    for (const auto duplicates : {DuplicatePolicy::kMerge, DuplicatePolicy::kKeep})
      for (const double valid : {0.0, 0.15})
        for (const char* split : {"temporal:0.2", "ratio:0.3", "global-time:1300"}) {
          INFO("numeric " << numeric << " duplicates " << DuplicatePolicyName(duplicates)
                          << " valid " << valid << " split " << split);
          const PreparedData p = Prepare(MakeLog(numeric), duplicates, valid, split);
          WriteSplitDirectory(dir, p);
          CHECK(fs::exists(dir / "valid.csv") == (valid > 0));
          CHECK(IsSplitDirectory(dir));
          // The default options (as-is ids) still read raw ids: the folder says how.
          const Dataset back = LoadDataset(dir);
          CheckSame(p.dataset, back);
          // Kept duplicates reach train.csv and are merged (and counted) again when read.
          CHECK((back.train.DuplicatesMerged() > 0) == (duplicates == DuplicatePolicy::kKeep));
        }
}

TEST_CASE("Split directory files: header, raw ids, ratings, times, and the report",
          "[io][split_directory]") {
  TempDir tmp("split");
  const auto dir = tmp.path / "split";
  const PreparedData p = Prepare(MakeLog(false), DuplicatePolicy::kMerge, 0.1);
  WriteSplitDirectory(dir, p);
  std::ifstream train(dir / "train.csv");
  std::string header, first;
  std::getline(train, header);
  std::getline(train, first);
  CHECK(header == "user,item,rating,time");
  const LogRow& row = p.parts.train.front();
  CHECK(first == p.dataset.ids->users.Raw(row.user) + "," + p.dataset.ids->items.Raw(row.item) +
                     "," + std::to_string(static_cast<int>(row.rating)) + "," +
                     std::to_string(static_cast<long long>(row.time)));
  const std::string report = ReadTextFile(dir / "report.txt");
  CHECK(report.rfind(std::string(kSplitDirectoryMarker), 0) == 0);
  CHECK_THAT(report, Catch::Contains("filter min-rating 2: removed") &&
                         Catch::Contains("filter duplicates merge: removed") &&
                         Catch::Contains("filter k-core 3,2: removed") &&
                         Catch::Contains("split temporal:0.2") &&
                         Catch::Contains("test evaluation masks train and valid items"));
}

TEST_CASE("WriteSplitDirectory replaces a previous split whole, and refuses foreign folders",
          "[io][split_directory]") {
  TempDir tmp("split");
  const auto dir = tmp.path / "split";
  WriteSplitDirectory(dir, Prepare(MakeLog(false), DuplicatePolicy::kMerge, 0.1));
  REQUIRE(fs::exists(dir / "valid.csv"));
  // A split without validation replaces it: no stale valid.csv is left behind.
  const PreparedData without = Prepare(MakeLog(false), DuplicatePolicy::kMerge, 0);
  WriteSplitDirectory(dir, without);
  CHECK_FALSE(fs::exists(dir / "valid.csv"));
  CheckSame(without.dataset, LoadDataset(dir));
  // A folder with other files is not replaced.
  const auto mine = tmp.path / "mine";
  fs::create_directories(mine);
  std::ofstream(mine / "notes.txt") << "keep me\n";
  CHECK_THROWS_WITH(WriteSplitDirectory(mine, without), Catch::Contains("notes.txt"));
  CHECK(fs::exists(mine / "notes.txt"));
  CHECK_FALSE(fs::exists(mine / "train.csv"));
}

TEST_CASE("WriteSplitDirectory refuses raw ids a CSV field cannot hold", "[io][split_directory]") {
  TempDir tmp("split");
  std::string text = "u,i,r,t\n";
  for (int k = 0; k < 6; ++k)
    text += "\"a,b\",x" + std::to_string(k) + ",5," + std::to_string(k) + "\n";
  RawLogOptions read;
  read.columns = ParseColumnSpec("user=u,item=i,rating=r,time=t");
  PrepareOptions o;
  o.split = ParseLogSplitSpec("leave-last:1");
  const PreparedData p = PrepareDataset(ParseRawLog(text, "log.csv", read), o);
  CHECK_THROWS_WITH(WriteSplitDirectory(tmp.path / "split", p),
                    Catch::Contains("the raw user id 'a,b' cannot be written"));
  CHECK_FALSE(fs::exists(tmp.path / "split"));
}

TEST_CASE("LoadDataset follows a split directory's marker only when asked",
          "[io][split_directory]") {
  TempDir tmp("split");
  const auto dir = tmp.path / "split";
  const PreparedData p = Prepare(MakeLog(true), DuplicatePolicy::kMerge, 0);
  WriteSplitDirectory(dir, p);
  DatasetOptions plain;
  plain.follow_split_directory = false;
  // As-is, the numeric raw ids 100..129 would make a 130-user space: a different dataset.
  const Dataset as_is = LoadDataset(dir, plain);
  CHECK_FALSE(as_is.ids);
  CHECK(as_is.Users() > p.dataset.Users());
  const Dataset followed = LoadDataset(dir);
  CHECK_THAT(followed.report.Summary(), Catch::Contains("ids remapped: the folder holds a split"));
  std::ofstream(tmp.path / "report.txt") << "something else\n";
  CHECK_FALSE(IsSplitDirectory(tmp.path));
  CHECK_FALSE(IsSplitDirectory(tmp.path / "absent"));
}
