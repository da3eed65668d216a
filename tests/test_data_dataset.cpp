// Dataset loading from real files: the bad-input table (each row a file written to a temp dir),
// folder discovery, one index space across parts, remapped ids, the LoadReport, CSV and LightGCN
// round trips, and the four shipped datasets against their README numbers.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "directspec/data.hpp"
#include "directspec/io/interaction_writers.hpp"
#include "support/error_of.hpp"
#include "support/temp_dir.hpp"

using namespace directspec;
using directspec::testing::ErrorOf;
namespace fs = std::filesystem;
using directspec::testing::TempDir;
using Pairs = std::vector<std::pair<Id, Id>>;

namespace {

/// A fresh directory under the system temp dir, removed with its contents at scope exit.

}  // namespace

TEST_CASE("Bad-input table: each row is a real file, error text or documented repair",
          "[data][dataset][errors]") {
  const std::string good_test = "user,item\n0,1\n";
  struct Row {
    std::string name;
    std::string train;  // bytes of train.csv
    std::string test;   // bytes of test.csv
    DatasetOptions options;
    // Expected error (empty `file` = the load must succeed and `check` must hold).
    std::string file;
    std::int64_t line = 0;
    std::string text;
    std::string message_tail;  // what() after "<dir>/<file>"
    std::function<void(const Dataset&)> check;
  };
  DatasetOptions allow_empty;
  allow_empty.allow_empty_test = true;
  DatasetOptions declared;
  declared.parse.declared_users = 3;
  const Pairs base{{0, 1}, {0, 2}, {1, 0}, {2, 2}};
  auto same_as_base = [&](const Dataset& d) {
    CHECK(d.train.Pairs() == base);
    CHECK(d.Users() == 3);
    CHECK(d.Items() == 3);
  };
  const std::vector<Row> rows = {
      {"empty file", "", good_test, {}, "train.csv", 1, "", ":1: no interactions: empty file", {}},
      {"header only train",
       "user,item\n",
       good_test,
       {},
       "train.csv",
       1,
       "user,item",
       ":1: no interactions: only a header line 'user,item'",
       {}},
      {"header only test (default: error)",
       "0,1\n",
       "user,item\n",
       {},
       "test.csv",
       1,
       "user,item",
       ":1: no interactions: only a header line 'user,item'",
       {}},
      {"header only test (allow_empty_test: empty part + note)", "0,1\n1,1\n", "user,item\n",
       allow_empty, "", 0, "", "",
       [](const Dataset& d) {
         CHECK(d.test.Nnz() == 0);
         CHECK(d.test.Users() == 2);
         CHECK(d.test_pairs.empty());
         CHECK(d.report.test.rows == 0);
         CHECK(d.report.test.header);
         REQUIRE(!d.report.notes.empty());
         CHECK(d.report.notes[0].find("holds no interactions") != std::string::npos);
       }},
      {"CRLF line endings",
       "user,item\r\n0,1\r\n0,2\r\n1,0\r\n2,2\r\n",
       good_test,
       {},
       "",
       0,
       "",
       "",
       same_as_base},
      {"UTF-8 BOM",
       "\xEF\xBB\xBFuser,item\n0,1\n0,2\n1,0\n2,2\n",
       good_test,
       {},
       "",
       0,
       "",
       "",
       [&](const Dataset& d) {
         same_as_base(d);
         CHECK(d.report.train.header);
       }},
      {"tabs and spaces mixed",
       "user\titem\n0\t1\n0 2\n1 \t 0\n\t2  2\n",
       good_test,
       {},
       "",
       0,
       "",
       "",
       same_as_base},
      {"blank lines",
       "\n0,1\n\n\n0,2\n   \n1,0\n2,2\n\n",
       good_test,
       {},
       "",
       0,
       "",
       "",
       same_as_base},
      {"blank lines keep line numbers",
       "0,1\n\n\n0,x\n",
       good_test,
       {},
       "train.csv",
       4,
       "x",
       ":4: non-numeric item id 'x' in line '0,x'",
       {}},
      {"trailing garbage",
       "user,item\n0,1\n3,12x\n",
       good_test,
       {},
       "train.csv",
       3,
       "12x",
       ":3: trailing characters after the number in item id '12x' in line '3,12x'",
       {}},
      {"non-numeric id",
       "0,1\nbob,2\n",
       good_test,
       {},
       "train.csv",
       2,
       "bob",
       ":2: non-numeric user id 'bob' in line 'bob,2'",
       {}},
      {"non-numeric id in test",
       "0,1\n",
       "user,item\n0,1\n0,?\n",
       {},
       "test.csv",
       3,
       "?",
       ":3: non-numeric item id '?' in line '0,?'",
       {}},
      {"negative id",
       "0,1\n-7,2\n",
       good_test,
       {},
       "train.csv",
       2,
       "-7",
       ":2: negative user id '-7' in line '-7,2'",
       {}},
      {"id beyond 2^31",
       "0,1\n1,4294967296\n",
       good_test,
       {},
       "train.csv",
       2,
       "4294967296",
       ":2: item id '4294967296' exceeds the largest supported id 2147483647 (2^31-1) in line "
       "'1,4294967296'",
       {}},
      {"id 2^31-1 with few rows (guard against a huge index space)",
       "0,1\n2147483647,2\n",
       good_test,
       {},
       "train.csv",
       2,
       "2147483647",
       ":2: user id '2147483647' would make an index space of 2147483648 users for only 3 rows; "
       "use IdPolicy::kRemap or declare the user count",
       {}},
      {"id above declared count",
       "0,1\n3,2\n",
       good_test,
       declared,
       "train.csv",
       2,
       "3",
       ":2: user id '3' is not below the declared user count 3 in line '3,2'",
       {}},
      {"single field",
       "0,1\n7\n",
       good_test,
       {},
       "train.csv",
       2,
       "7",
       ":2: expected two fields (user, item) separated by a comma, found one: '7'",
       {}},
      {"duplicated rows merged and counted",
       "0,1\n0,2\n0,1\n1,0\n2,2\n0,1\n",
       good_test,
       {},
       "",
       0,
       "",
       "",
       [&](const Dataset& d) {
         same_as_base(d);
         CHECK(d.train.DuplicatesMerged() == 2);
         CHECK(d.train.SourceRows() == 6);
         CHECK(d.report.train.rows == 6);
         CHECK(d.report.train.unique == 4);
         CHECK(d.report.train.duplicates == 2);
       }},
      {"duplicated test rows: merged in test, kept in test_pairs",
       "0,1\n1,1\n",
       "0,2\n0,2\n1,0\n",
       {},
       "",
       0,
       "",
       "",
       [](const Dataset& d) {
         CHECK(d.test.Nnz() == 2);
         CHECK(d.report.test.duplicates == 1);
         CHECK(d.test_pairs == Pairs{{0, 2}, {0, 2}, {1, 0}});
         CHECK(d.TestRowsPerUser() == std::vector<Index>{2, 1});
       }},
      {"user in test but not in train",
       "0,1\n1,0\n",
       "0,0\n4,1\n4,0\n",
       {},
       "",
       0,
       "",
       "",
       [](const Dataset& d) {
         CHECK(d.Users() == 5);  // the test user extends the index space
         CHECK(d.train.UserDegree(4) == 0);
         CHECK(d.report.test_vs_train.users_without_train == 1);
         CHECK(d.report.test_vs_train.rows_of_users_without_train == 2);
         CHECK(d.report.users_in_no_part == 2);  // users 2 and 3
         CHECK(d.report.Summary().find("1 users without train items (2 rows)") !=
               std::string::npos);
       }},
      {"item in test only",
       "0,1\n1,0\n",
       "0,0\n1,5\n0,1\n",
       {},
       "",
       0,
       "",
       "",
       [](const Dataset& d) {
         CHECK(d.Items() == 6);
         CHECK(d.train.Items() == 6);
         CHECK(d.report.test_vs_train.items_not_in_train == 1);  // item 5; 0 and 1 are in train
         CHECK(d.report.test_vs_train.pairs_in_train == 1);      // (0, 1)
         CHECK(d.report.items_in_no_part == 3);                  // items 2, 3, 4
       }},
  };
  for (const auto& row : rows) {
    SECTION(row.name) {
      TempDir dir("bad");
      dir.Write("train.csv", row.train);
      dir.Write("test.csv", row.test);
      if (row.file.empty()) {
        const Dataset d = LoadDataset(dir.path, row.options);
        row.check(d);
      } else {
        const auto e = ErrorOf<DataError>([&] { LoadDataset(dir.path, row.options); });
        REQUIRE(e);
        const std::string path = (dir.path / row.file).string();
        CHECK(e->File() == path);
        CHECK(e->Line() == row.line);
        CHECK(e->Text() == row.text);
        CHECK(std::string(e->what()) == path + row.message_tail);
      }
    }
  }
}

TEST_CASE("Missing files and folders name the path", "[data][dataset][errors]") {
  TempDir dir("missing");
  auto e = ErrorOf<DataError>([&] { LoadDataset(dir.path); });
  REQUIRE(e);
  CHECK(e->File() == (dir.path / "train.csv").string());
  CHECK(e->Line() == 0);
  CHECK(std::string(e->what()) == (dir.path / "train.csv").string() +
                                      ": cannot open: no such file (also looked for train.tsv, "
                                      "train.txt)");
  dir.Write("train.csv", "0,1\n");
  e = ErrorOf<DataError>([&] { LoadDataset(dir.path); });
  REQUIRE(e);
  CHECK(e->File() == (dir.path / "test.csv").string());
  e = ErrorOf<DataError>([&] { LoadDataset(dir.path / "nope"); });
  REQUIRE(e);
  CHECK(std::string(e->what()) ==
        (dir.path / "nope").string() + ": cannot open dataset: not a directory");
  e = ErrorOf<DataError>([&] {
    LoadDataset(DatasetFiles{dir.path / "train.csv", dir.path / "t.csv", {}});
  });
  REQUIRE(e);
  CHECK(std::string(e->what()) == (dir.path / "t.csv").string() + ": cannot open: no such file");
  e = ErrorOf<DataError>([&] { ReadInteractionsFile(dir.path); });
  REQUIRE(e);
  CHECK(std::string(e->what()) == dir.path.string() + ": cannot open: is a directory");
}

TEST_CASE("LoadDataset: one index space over train, valid and test", "[data][dataset]") {
  TempDir dir("space");
  dir.Write("train.csv", "user,item\n0,0\n1,1\n1,2\n");
  dir.Write("valid.csv", "user,item\n3,1\n");
  dir.Write("test.csv", "user,item\n0,4\n1,1\n");
  const Dataset d = LoadDataset(dir.path);
  CHECK(d.Users() == 4);
  CHECK(d.Items() == 5);
  for (const Interactions* part : {&d.train, &d.test, &*d.valid}) {
    CHECK(part->Users() == 4);
    CHECK(part->Items() == 5);
  }
  CHECK(d.valid_pairs == Pairs{{3, 1}});
  REQUIRE(d.report.valid);
  CHECK(d.report.valid->rows == 1);
  REQUIRE(d.report.valid_vs_train);
  CHECK(d.report.valid_vs_train->users_without_train == 1);
  CHECK(d.report.test_vs_train.pairs_in_train == 1);
  CHECK(d.report.test_vs_train.items_not_in_train == 1);
  CHECK_FALSE(d.ids.has_value());
  CHECK(d.report.source == dir.path.string());
  CHECK(d.report.train.file == (dir.path / "train.csv").string());
  const std::string summary = d.report.Summary();
  CHECK(summary.find(": 4 users x 5 items, ids as-is\n") != std::string::npos);
  CHECK(summary.find("  valid: 1 rows, 1 unique pairs (0 duplicates merged), 1 users, 1 items") !=
        std::string::npos);
  CHECK(summary.find("  test vs train: 1 pairs also in train (masked at evaluation), 1 items not "
                     "in train, 0 users without train items (0 rows)") != std::string::npos);

  // Declared counts widen the index space.
  DatasetOptions declared;
  declared.parse.declared_users = 10;
  declared.parse.declared_items = 7;
  const Dataset wide = LoadDataset(dir.path, declared);
  CHECK(wide.Users() == 10);
  CHECK(wide.Items() == 7);
  CHECK(wide.report.users_in_no_part == 7);  // 2 and 4..9
}

TEST_CASE("LoadDataset: LightGCN .txt parts and explicit paths", "[data][dataset]") {
  TempDir dir("lightgcn");
  dir.Write("train.txt", "0 1 2\n1 0\n2\n");
  dir.Write("test.txt", "0 3\n1 2 1\n");
  const Dataset d = LoadDataset(dir.path);
  CHECK(d.train.Pairs() == Pairs{{0, 1}, {0, 2}, {1, 0}});
  CHECK(d.test_pairs == Pairs{{0, 3}, {1, 2}, {1, 1}});
  CHECK(d.Users() == 3);  // user 2 listed without items
  CHECK(d.Items() == 4);
  // Explicit paths, mixed formats, no test part.
  dir.Write("extra.csv", "user,item\n5,0\n");
  const Dataset e = LoadDataset(DatasetFiles{dir.path / "extra.csv", {}, dir.path / "test.txt"});
  CHECK(e.Users() == 6);
  CHECK(e.test.Nnz() == 0);
  CHECK(e.valid_pairs == Pairs{{0, 3}, {1, 2}, {1, 1}});
  CHECK(e.report.notes.front() == "no test file: the test part is empty");
}

TEST_CASE("LoadDataset: remapped ids share one IdMaps across parts", "[data][dataset]") {
  TempDir dir("remap");
  dir.Write("train.csv", "user_id,item_id\nu7,m1\nu3,m2\nu7,m2\n");
  dir.Write("valid.csv", "u3,m9\n");
  dir.Write("test.csv", "u9,m1\nu3,m5\n");
  DatasetOptions o;
  o.parse.ids = IdPolicy::kRemap;
  const Dataset d = LoadDataset(dir.path, o);
  REQUIRE(d.ids);
  // Filled in the order train, valid, test.
  CHECK(d.ids->users.RawIds() == std::vector<std::string>{"u7", "u3", "u9"});
  CHECK(d.ids->items.RawIds() == std::vector<std::string>{"m1", "m2", "m9", "m5"});
  CHECK(d.Users() == 3);
  CHECK(d.Items() == 4);
  CHECK(d.train.Pairs() == Pairs{{0, 0}, {0, 1}, {1, 1}});
  CHECK(d.valid_pairs == Pairs{{1, 2}});
  CHECK(d.test_pairs == Pairs{{2, 0}, {1, 3}});
  CHECK(d.report.ids == IdPolicy::kRemap);
  CHECK(d.report.Summary().find("ids remapped") != std::string::npos);
  CHECK(d.report.test_vs_train.users_without_train == 1);
  CHECK(d.report.test_vs_train.items_not_in_train == 1);
}

TEST_CASE("Round trip: WritePairsCsv / WriteLightGcn and reload give equal datasets",
          "[data][dataset][roundtrip]") {
  SyntheticOptions so;
  so.users = 300;
  so.items = 200;
  so.seed = 3;
  const Dataset d = MakeSyntheticDataset(so);
  TempDir dir("roundtrip");
  WritePairsCsv(dir.path / "train.csv", d.train.Pairs());
  WritePairsCsv(dir.path / "test.csv", d.test_pairs);
  const Dataset back = LoadDataset(dir.path);
  CHECK(back.train.Pairs() == d.train.Pairs());
  CHECK(back.test_pairs == d.test_pairs);
  CHECK(back.test.Pairs() == d.test.Pairs());
  // The index space can shrink only if the largest ids are unused in every part.
  CHECK(back.Users() <= d.Users());
  CHECK(back.Items() <= d.Items());
  CHECK(back.report.train.rows == d.report.train.rows);
  CHECK(back.report.test_vs_train.items_not_in_train == d.report.test_vs_train.items_not_in_train);

  // Header-less CSV.
  WritePairsCsv(dir.path / "train.csv", d.train.Pairs(), nullptr, false);
  CHECK(LoadDataset(dir.path).train.Pairs() == d.train.Pairs());

  // LightGCN text (users without items written too, so the index space is kept).
  TempDir lg("roundtrip_lg");
  WriteLightGcn(lg.path / "train.txt", d.train, nullptr, true);
  WriteLightGcn(lg.path / "test.txt", d.test);
  const Dataset lgd = LoadDataset(lg.path);
  CHECK(lgd.train.Pairs() == d.train.Pairs());
  CHECK(lgd.test.Pairs() == d.test.Pairs());
  CHECK(lgd.Users() == d.Users());

  // Remapped: written with raw tokens, reloaded by token (dense ids may be renumbered).
  TempDir rm("roundtrip_remap");
  rm.Write("train.csv", "user,item\nann,x1\nbo,x2\nann,x3\ncy,x1\n");
  rm.Write("test.csv", "user,item\nbo,x1\ncy,x9\n");
  DatasetOptions remap;
  remap.parse.ids = IdPolicy::kRemap;
  const Dataset r = LoadDataset(rm.path, remap);
  TempDir rm2("roundtrip_remap2");
  WritePairsCsv(rm2.path / "train.csv", r.train.Pairs(), &*r.ids);
  WritePairsCsv(rm2.path / "test.csv", r.test_pairs, &*r.ids);
  const Dataset r2 = LoadDataset(rm2.path, remap);
  auto raw = [](const Dataset& x, const Pairs& p) {
    std::set<std::pair<std::string, std::string>> s;
    for (const auto& [u, i] : p) s.emplace(x.ids->users.Raw(u), x.ids->items.Raw(i));
    return s;
  };
  CHECK(raw(r2, r2.train.Pairs()) == raw(r, r.train.Pairs()));
  CHECK(raw(r2, r2.test_pairs) == raw(r, r.test_pairs));
  CHECK(r2.ids->users.Size() == r.ids->users.Size());

  // Writing to a missing folder names the file.
  const auto e =
      ErrorOf<DataError>([&] { WritePairsCsv(dir.path / "no" / "x.csv", d.test_pairs); });
  REQUIRE(e);
  CHECK_THAT(std::string(e->what()), Catch::StartsWith((dir.path / "no" / "x.csv").string() +
                                                       ": cannot create the temporary file") &&
                                         Catch::EndsWith("(No such file or directory)"));
}

TEST_CASE("FormatPairsCsv and FormatLightGcn text", "[data][dataset][roundtrip]") {
  const Pairs p{{0, 3}, {2, 1}, {0, 1}};
  CHECK(FormatPairsCsv(p) == "user,item\n0,3\n2,1\n0,1\n");
  CHECK(FormatPairsCsv(p, nullptr, false) == "0,3\n2,1\n0,1\n");
  const auto m = Interactions::FromPairs(4, 4, p);
  CHECK(FormatLightGcn(m) == "0 1 3\n2 1\n");
  CHECK(FormatLightGcn(m, nullptr, true) == "0 1 3\n1\n2 1\n3\n");
  IdMaps maps;
  for (const char* u : {"a", "b", "c", "d"}) maps.users.Insert(u);
  for (const char* i : {"w", "x", "y", "z"}) maps.items.Insert(i);
  CHECK(FormatPairsCsv(p, &maps) == "user,item\na,z\nc,x\na,x\n");
}

TEST_CASE("Shipped datasets reproduce their README counts", "[data][dataset][shared]") {
  struct Expect {
    const char* name;
    Index users, items, train_rows, train_duplicates, test_rows, pairs_in_train,
        test_items_not_in_train, test_users_without_train, rows_of_those_users;
  };
  const std::vector<Expect> expected = {
      {"citeulike", 5551, 16980, 166025, 22, 44512, 11, 46, 0, 0},
      {"gowalla", 29858, 40981, 810128, 0, 217242, 0, 0, 0, 0},
      {"lastfm", 1880, 4489, 42135, 0, 10533, 0, 13, 2, 3},
      {"ml-100k", 943, 1682, 80064, 0, 19936, 0, 35, 0, 0},
  };
  const fs::path root = fs::path(DIRECTSPEC_DATASETS_DIR);
  for (const auto& x : expected) {
    const fs::path dir = root / x.name;
    // The datasets ship in the repository: a missing one is a broken checkout, not a skip.
    INFO(dir.string() << "/train.csv must exist");
    REQUIRE(fs::exists(dir / "train.csv"));
    INFO(x.name);
    const auto t0 = std::chrono::steady_clock::now();
    const Dataset d = LoadDataset(dir);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const LoadReport& r = d.report;
    CHECK(r.users == x.users);
    CHECK(r.items == x.items);
    CHECK(d.Users() == x.users);
    CHECK(d.Items() == x.items);
    CHECK(r.train.rows == x.train_rows);
    CHECK(r.train.duplicates == x.train_duplicates);
    CHECK(d.train.SourceRows() == x.train_rows);
    CHECK(d.train.Nnz() == x.train_rows - x.train_duplicates);
    CHECK(r.test.rows == x.test_rows);
    CHECK(static_cast<Index>(d.test_pairs.size()) == x.test_rows);
    CHECK(r.test.duplicates == 0);
    CHECK(r.test_vs_train.pairs_in_train == x.pairs_in_train);
    CHECK(r.test_vs_train.items_not_in_train == x.test_items_not_in_train);
    CHECK(r.test_vs_train.users_without_train == x.test_users_without_train);
    CHECK(r.test_vs_train.rows_of_users_without_train == x.rows_of_those_users);
    // README: ids are contiguous over the union of the parts.
    CHECK(r.users_in_no_part == 0);
    CHECK(r.items_in_no_part == 0);
    CHECK(r.train.header);
    // Remapping by first appearance must see the same structure (counts, not ids).
    DatasetOptions remap;
    remap.parse.ids = IdPolicy::kRemap;
    const Dataset m = LoadDataset(dir, remap);
    CHECK(m.Users() == x.users);
    CHECK(m.Items() == x.items);
    CHECK(m.report.train.duplicates == x.train_duplicates);
    CHECK(m.report.test_vs_train.pairs_in_train == x.pairs_in_train);
    CHECK(m.report.test_vs_train.items_not_in_train == x.test_items_not_in_train);
    // The raw ids of the remapped load are the as-is ids.
    const auto pairs = m.train.Pairs();
    for (std::size_t k = 0; k < pairs.size(); k += 997) {
      const Id u = static_cast<Id>(std::stol(m.ids->users.Raw(pairs[k].first)));
      const Id i = static_cast<Id>(std::stol(m.ids->items.Raw(pairs[k].second)));
      REQUIRE(d.train.Contains(u, i));
    }
    // Not an assertion on time (shared machine); printed for docs/data.md.
    WARN(x.name << ": as-is load (train + test + report) took " << seconds << " s");
  }
}
