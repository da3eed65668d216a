// Dataset: a dataset's train / test / optional validation Interactions in one index space, the
// raw test rows (duplicates kept, for the paper-compatible evaluator), the id maps when ids were
// remapped, and a LoadReport saying what was read, merged and found odd. LoadDataset builds one
// from a folder (train.csv / test.csv / valid.csv, or .tsv / LightGCN .txt) or explicit paths.
// Downstream: samplers and models read `train`, the evaluator masks `train` and scores `test`.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "directspec/core/types.hpp"
#include "directspec/data/data_error.hpp"
#include "directspec/data/id_map.hpp"
#include "directspec/data/interactions.hpp"
#include "directspec/data/parse.hpp"

namespace directspec {

/// Counts for one part (train, test or validation).
struct PartReport {
  std::string file;      // the file read ("" when built in memory)
  Index rows = 0;        // interaction rows read, duplicates included
  Index unique = 0;      // distinct (user, item) pairs
  Index duplicates = 0;  // rows merged because they repeated an earlier row of the same part
  Index users = 0;       // distinct users with at least one row
  Index items = 0;       // distinct items with at least one row
  bool header = false;   // a header line was skipped
};

/// How a held-out part (test or validation) relates to train.
struct OverlapReport {
  Index pairs_in_train = 0;       // distinct held-out pairs also in train (masked, never hit)
  Index items_not_in_train = 0;   // distinct held-out items with no train interaction
  Index users_without_train = 0;  // distinct held-out users with no train item (cold users)
  Index rows_of_users_without_train = 0;  // held-out rows (duplicates included) of those users
};

/// What loading found; Summary() is the text the CLI prints.
struct LoadReport {
  std::string source;  // the folder, or a description of where the data came from
  IdPolicy ids = IdPolicy::kAsIs;
  Index users = 0;
  Index items = 0;
  PartReport train;
  PartReport test;
  std::optional<PartReport> valid;
  OverlapReport test_vs_train;
  std::optional<OverlapReport> valid_vs_train;
  Index users_in_no_part = 0;  // ids below `users` that appear in no part (gaps in as-is ids)
  Index items_in_no_part = 0;
  std::vector<std::string> notes;  // anything repaired or unusual, one sentence each

  std::string Summary() const;
};

/// Train / test / validation interactions sharing one user and one item index space.
///
///   Dataset d = LoadDataset("datasets/citeulike");
///   std::cout << d.report.Summary();
///   trainer.Train(d.train, ...);
///   evaluator.Evaluate(model, d.train, d.test);
struct Dataset {
  Interactions train;
  Interactions test;  // deduplicated; empty (same shape) if no test file
  std::optional<Interactions> valid;
  std::vector<std::pair<Id, Id>> test_pairs;   // test rows as read, file order, duplicates kept
  std::vector<std::pair<Id, Id>> valid_pairs;  // likewise for validation
  std::optional<IdMaps> ids;                   // set when ids were remapped: dense id -> raw token
  LoadReport report;

  Index Users() const { return train.Users(); }
  Index Items() const { return train.Items(); }

  /// What test evaluation excludes from each user's ranking: train, plus validation when there
  /// is one (the RecBole convention: items the user was seen with before test are no
  /// candidates). Pass it as the Evaluator's first argument for test metrics.
  Interactions EvaluationMask() const {
    if (!valid || valid->Nnz() == 0) return train;
    std::vector<std::pair<Id, Id>> seen = train.Pairs();
    const auto held = valid->Pairs();
    seen.insert(seen.end(), held.begin(), held.end());
    return Interactions::FromPairs(Users(), Items(), seen);
  }

  /// Test rows per user with duplicates counted (the paper-compatible |T_u|).
  std::vector<Index> TestRowsPerUser() const {
    std::vector<Index> rows(static_cast<std::size_t>(Users()), 0);
    for (const auto& [u, i] : test_pairs) ++rows[static_cast<std::size_t>(u)];
    return rows;
  }
};

/// Explicit paths of a dataset's parts. An empty `test` path means "no test set".
struct DatasetFiles {
  std::filesystem::path train;
  std::filesystem::path test;
  std::optional<std::filesystem::path> valid;
};

struct DatasetOptions {
  /// Format, delimiter, header, id policy and declared counts, applied to every part.
  ParseOptions parse;
  /// A test or validation file with no interactions (header only, blank) loads as an empty
  /// part with a note instead of throwing. Train may never be empty.
  bool allow_empty_test = false;
  /// As-is ids: refuse an index space above 2^20 ids that is this many times larger than the
  /// rows read (a stray huge id would otherwise allocate gigabytes). 0 disables the check;
  /// declared counts bypass it.
  double max_ids_per_row = 64.0;
  /// The remedy that refusal names. Empty: the library's own ("use IdPolicy::kRemap or declare
  /// the user count"); a front end names its flag instead (the CLI: "add --ids remap").
  std::string sparse_ids_advice;
  /// LoadDataset(dir) reads a folder written by WriteSplitDirectory (IsSplitDirectory) with
  /// remapped ids, the ids it was written with, whatever `parse.ids` says.
  bool follow_split_directory = true;
};

/// The first line of the report.txt that WriteSplitDirectory (io/split_directory.hpp) writes; it
/// marks a folder whose files hold raw ids to be remapped.
inline constexpr std::string_view kSplitDirectoryMarker = "directspec split directory";

/// Whether `dir` holds a report.txt starting with kSplitDirectoryMarker.
inline bool IsSplitDirectory(const std::filesystem::path& dir) {
  std::error_code ec;
  const auto report = dir / "report.txt";
  if (!std::filesystem::is_regular_file(report, ec)) return false;
  std::FILE* f = std::fopen(report.c_str(), "rb");
  if (f == nullptr) return false;
  char head[64] = {};
  const std::size_t got = std::fread(head, 1, kSplitDirectoryMarker.size(), f);
  std::fclose(f);
  return std::string_view(head, got) == kSplitDirectoryMarker;
}

namespace detail {

inline std::string Thousands(Index v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  const std::size_t n = digits.size();
  for (std::size_t k = 0; k < n; ++k) {
    out += digits[k];
    if ((n - k - 1) % 3 == 0 && k + 1 < n) out += ',';
  }
  return v < 0 ? "-" + out : out;
}

inline PartReport DescribePart(const Interactions& part, std::size_t rows, std::string file,
                               bool header) {
  PartReport r;
  r.file = std::move(file);
  r.rows = static_cast<Index>(rows);
  r.unique = part.Nnz();
  r.duplicates = part.DuplicatesMerged();
  r.header = header;
  for (Index u = 0; u < part.Users(); ++u) r.users += part.UserDegree(u) > 0 ? 1 : 0;
  for (Index d : part.ItemDegrees()) r.items += d > 0 ? 1 : 0;
  return r;
}

inline OverlapReport DescribeOverlap(const Interactions& train, const Interactions& held,
                                     std::span<const std::pair<Id, Id>> held_rows) {
  OverlapReport r;
  const std::vector<Index> train_item_degree = train.ItemDegrees();
  std::vector<char> item_seen(static_cast<std::size_t>(held.Items()), 0);
  for (Index u = 0; u < held.Users(); ++u) {
    const auto items = held.ItemsOf(u);
    if (items.empty()) continue;
    if (train.UserDegree(u) == 0) ++r.users_without_train;
    for (Id i : items) {
      if (train.Contains(u, i)) ++r.pairs_in_train;
      if (train_item_degree[static_cast<std::size_t>(i)] == 0 &&
          !item_seen[static_cast<std::size_t>(i)]) {
        item_seen[static_cast<std::size_t>(i)] = 1;
        ++r.items_not_in_train;
      }
    }
  }
  for (const auto& [u, i] : held_rows) r.rows_of_users_without_train += train.UserDegree(u) == 0;
  return r;
}

inline std::string DescribeLine(const char* name, const PartReport& p) {
  std::string s = std::string("  ") + name + ": " + Thousands(p.rows) + " rows, " +
                  Thousands(p.unique) + " unique pairs (" + Thousands(p.duplicates) +
                  " duplicates merged), " + Thousands(p.users) + " users, " + Thousands(p.items) +
                  " items";
  if (!p.file.empty()) s += "  [" + p.file + "]";
  return s + "\n";
}

inline std::string DescribeOverlapLine(const char* name, const OverlapReport& o) {
  return std::string("  ") + name + " vs train: " + Thousands(o.pairs_in_train) +
         " pairs also in train (masked at evaluation), " + Thousands(o.items_not_in_train) +
         " items not in train, " + Thousands(o.users_without_train) +
         " users without train items (" + Thousands(o.rows_of_users_without_train) + " rows)\n";
}

}  // namespace detail

inline std::string LoadReport::Summary() const {
  std::string s = (source.empty() ? std::string("dataset") : source) + ": " +
                  detail::Thousands(users) + " users x " + detail::Thousands(items) +
                  " items, ids " + (ids == IdPolicy::kAsIs ? "as-is" : "remapped") + "\n";
  s += detail::DescribeLine("train", train);
  s += detail::DescribeLine("test", test);
  if (valid) s += detail::DescribeLine("valid", *valid);
  s += detail::DescribeOverlapLine("test", test_vs_train);
  if (valid_vs_train) s += detail::DescribeOverlapLine("valid", *valid_vs_train);
  if (valid)
    s += "  test evaluation masks train and valid items (RecBole convention: neither is ranked)\n";
  if (users_in_no_part > 0 || items_in_no_part > 0)
    s += "  ids in no part: " + detail::Thousands(users_in_no_part) + " users, " +
         detail::Thousands(items_in_no_part) + " items\n";
  for (const auto& note : notes) s += "  note: " + note + "\n";
  return s;
}

/// Builds a Dataset (interactions, raw held-out rows and report) from dense pairs already in
/// one index space of `users` x `items`. Loaders, splits and the synthetic generator all end
/// here, so every Dataset carries a consistent report. Throws std::out_of_range for ids outside
/// the space.
inline Dataset AssembleDataset(Index users, Index items,
                               std::span<const std::pair<Id, Id>> train_pairs,
                               std::vector<std::pair<Id, Id>> test_pairs,
                               std::optional<std::vector<std::pair<Id, Id>>> valid_pairs = {}) {
  Dataset d;
  d.train = Interactions::FromPairs(users, items, train_pairs);
  d.test = Interactions::FromPairs(users, items, test_pairs);
  d.test_pairs = std::move(test_pairs);
  if (valid_pairs) {
    d.valid = Interactions::FromPairs(users, items, *valid_pairs);
    d.valid_pairs = std::move(*valid_pairs);
  }
  LoadReport& r = d.report;
  r.users = users;
  r.items = items;
  r.train = detail::DescribePart(d.train, train_pairs.size(), "", false);
  r.test = detail::DescribePart(d.test, d.test_pairs.size(), "", false);
  r.test_vs_train = detail::DescribeOverlap(d.train, d.test, d.test_pairs);
  if (d.valid) {
    r.valid = detail::DescribePart(*d.valid, d.valid_pairs.size(), "", false);
    r.valid_vs_train = detail::DescribeOverlap(d.train, *d.valid, d.valid_pairs);
  }
  std::vector<char> user_used(static_cast<std::size_t>(users), 0);
  std::vector<char> item_used(static_cast<std::size_t>(items), 0);
  auto mark = [&](std::span<const std::pair<Id, Id>> pairs) {
    for (const auto& [u, i] : pairs) {
      user_used[static_cast<std::size_t>(u)] = 1;
      item_used[static_cast<std::size_t>(i)] = 1;
    }
  };
  mark(train_pairs);
  mark(d.test_pairs);
  mark(d.valid_pairs);
  for (char used : user_used) r.users_in_no_part += used ? 0 : 1;
  for (char used : item_used) r.items_in_no_part += used ? 0 : 1;
  return d;
}

/// The parts found in `dir`: train.{csv,tsv,txt}, test.{csv,tsv,txt} and optional
/// valid.{csv,tsv,txt} (first extension that exists, in that order). Throws DataError naming
/// the missing train or test file.
inline DatasetFiles FindDatasetFiles(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw DataError(dir.string(), 0, "", "cannot open dataset: not a directory");
  auto find = [&](const char* stem) -> std::optional<std::filesystem::path> {
    for (const char* ext : {".csv", ".tsv", ".txt"}) {
      const auto p = dir / (std::string(stem) + ext);
      if (std::filesystem::is_regular_file(p, ec)) return p;
    }
    return std::nullopt;
  };
  DatasetFiles files;
  const auto train = find("train");
  if (!train)
    throw DataError((dir / "train.csv").string(), 0, "",
                    "cannot open: no such file (also looked for train.tsv, train.txt)");
  const auto test = find("test");
  if (!test)
    throw DataError((dir / "test.csv").string(), 0, "",
                    "cannot open: no such file (also looked for test.tsv, test.txt)");
  files.train = *train;
  files.test = *test;
  files.valid = find("valid");
  return files;
}

/// Loads the parts named in `files` into one index space.
///
/// As-is ids: users = max user id + 1 and items = max item id + 1 over all parts (or the
/// declared counts). Remapped ids: one IdMaps shared by the parts, filled in the order train,
/// validation, test, and stored in Dataset::ids. Duplicate rows are merged per part and counted.
/// Throws DataError (file, line, text) on bad input; see docs/data.md for the table.
inline Dataset LoadDataset(const DatasetFiles& files, const DatasetOptions& options = {}) {
  IdMaps maps;
  IdMaps* shared = options.parse.ids == IdPolicy::kRemap ? &maps : nullptr;

  ParseOptions held_out = options.parse;
  held_out.allow_empty = options.allow_empty_test;
  ParseOptions train_options = options.parse;
  train_options.allow_empty = false;

  ParsedFile train = ReadInteractionsFile(files.train, train_options, shared);
  std::optional<ParsedFile> valid;
  if (files.valid) valid = ReadInteractionsFile(*files.valid, held_out, shared);
  std::optional<ParsedFile> test;
  if (!files.test.empty()) test = ReadInteractionsFile(files.test, held_out, shared);

  // The index space: everything any part mentions (LightGCN users without items included).
  const ParsedFile* max_user_part = &train;
  const ParsedFile* max_item_part = &train;
  Index rows = static_cast<Index>(train.pairs.size());
  for (const ParsedFile* p : {valid ? &*valid : nullptr, test ? &*test : nullptr}) {
    if (p == nullptr) continue;
    rows += static_cast<Index>(p->pairs.size());
    if (p->max_user > max_user_part->max_user) max_user_part = p;
    if (p->max_item > max_item_part->max_item) max_item_part = p;
  }
  Index users = static_cast<Index>(max_user_part->max_user) + 1;
  Index items = static_cast<Index>(max_item_part->max_item) + 1;
  if (shared) {
    users = maps.users.Size();
    items = maps.items.Size();
  }
  if (options.parse.declared_users) users = *options.parse.declared_users;
  if (options.parse.declared_items) items = *options.parse.declared_items;

  if (!shared && options.max_ids_per_row > 0) {
    auto check = [&](const char* side, Index n, bool declared, const ParsedFile& part, Id max_id,
                     std::int64_t line) {
      if (declared || n <= (Index{1} << 20) ||
          static_cast<double>(n) <= options.max_ids_per_row * static_cast<double>(rows))
        return;
      throw DataError(
          part.source, line, std::to_string(max_id),
          std::string(side) + " id '" + std::to_string(max_id) + "' would make an index space of " +
              std::to_string(n) + " " + side + "s for only " + std::to_string(rows) + " rows; " +
              (options.sparse_ids_advice.empty()
                   ? "use IdPolicy::kRemap or declare the " + std::string(side) + " count"
                   : options.sparse_ids_advice));
    };
    check("user", users, options.parse.declared_users.has_value(), *max_user_part,
          max_user_part->max_user, max_user_part->max_user_line);
    check("item", items, options.parse.declared_items.has_value(), *max_item_part,
          max_item_part->max_item, max_item_part->max_item_line);
  }

  std::optional<std::vector<std::pair<Id, Id>>> valid_pairs;
  if (valid) valid_pairs = std::move(valid->pairs);
  std::vector<std::pair<Id, Id>> test_pairs;
  if (test) test_pairs = std::move(test->pairs);
  Dataset d =
      AssembleDataset(users, items, train.pairs, std::move(test_pairs), std::move(valid_pairs));

  LoadReport& r = d.report;
  r.ids = options.parse.ids;
  r.train.file = train.source;
  r.train.header = train.header;
  if (test) {
    r.test.file = test->source;
    r.test.header = test->header;
    if (d.test_pairs.empty())
      r.notes.push_back("test file " + test->source + " holds no interactions");
  } else {
    r.notes.push_back("no test file: the test part is empty");
  }
  if (valid) {
    r.valid->file = valid->source;
    r.valid->header = valid->header;
    if (d.valid_pairs.empty())
      r.notes.push_back("validation file " + valid->source + " holds no interactions");
  }
  if (r.train.duplicates > 0)
    r.notes.push_back(detail::Thousands(r.train.duplicates) +
                      " duplicate train rows merged (steps per epoch still count them)");
  if (r.test_vs_train.users_without_train > 0)
    r.notes.push_back(detail::Thousands(r.test_vs_train.users_without_train) +
                      " test users have no train items (cold users: no train signal; skip "
                      "them in evaluation for warm-user numbers)");
  if (shared) d.ids = std::move(maps);
  return d;
}

/// Loads the dataset in folder `dir` (see FindDatasetFiles for the file names).
inline Dataset LoadDataset(const std::filesystem::path& dir, const DatasetOptions& options = {}) {
  DatasetOptions used = options;
  const bool split_directory = options.follow_split_directory && IsSplitDirectory(dir);
  if (split_directory) used.parse.ids = IdPolicy::kRemap;
  Dataset d = LoadDataset(FindDatasetFiles(dir), used);
  d.report.source = dir.string();
  if (split_directory && options.parse.ids != IdPolicy::kRemap)
    d.report.notes.push_back("ids remapped: the folder holds a split written with raw ids");
  return d;
}

}  // namespace directspec
