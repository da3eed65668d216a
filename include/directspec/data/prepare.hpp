// Data preparation: one raw interaction log in (raw_log.hpp), a Dataset out. PrepareDataset
// applies the filters in a fixed order (min-rating, duplicates, k-core; log_filters.hpp), splits
// the rows (log_split.hpp) and assigns dense ids by first appearance in train, then validation,
// then test, which is the order LoadDataset reads a folder in: the split written with
// WriteSplitDirectory (io/split_directory.hpp) loads back to the same Dataset. Downstream: the
// Dataset goes to the trainer and the evaluator like any loaded one.
#pragma once

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "directspec/core/types.hpp"
#include "directspec/data/dataset.hpp"
#include "directspec/data/log_filters.hpp"
#include "directspec/data/log_split.hpp"
#include "directspec/data/raw_log.hpp"

namespace directspec {

struct PrepareOptions {
  std::optional<double> min_rating;  // keep rating >= this; needs a rating column
  DuplicatePolicy duplicates = DuplicatePolicy::kMerge;
  Index kcore_users = 0;  // 0 and 0: no k-core
  Index kcore_items = 0;
  LogSplitSpec split;
  double valid_fraction = 0;  // 0: no validation part
  std::uint64_t seed = 0;     // for ratio splits
};

/// A prepared dataset and how it was made.
struct PreparedData {
  Dataset dataset;     // ids remapped (dataset.ids), train / valid / test in one index space
  LogPartition parts;  // the rows of each part, file order, ids dense in dataset.ids
  bool has_rating = false;
  bool has_time = false;
  std::string input;                  // where the log came from and how it was read
  LogCounts read;                     // the log as read
  std::vector<FilterReport> filters;  // in the order applied
  std::string split;                  // how the rows were split

  /// The whole story: Steps() and the load report.
  std::string Report() const { return Steps() + dataset.report.Summary(); }

  /// Input, each filter, the split and the tie-breaking rule, one line each.
  std::string Steps() const {
    std::string s = "input: " + input + "\n";
    s += "read: " + detail::Thousands(read.rows) + " rows, " + detail::Thousands(read.users) +
         " users, " + detail::Thousands(read.items) + " items\n";
    for (const FilterReport& f : filters) s += "filter " + f.Line() + "\n";
    s += split + "\n";
    if (has_time)
      s += "ties in time: rows with equal times are ordered by their line in the file\n";
    return s;
  }
};

/// Filters, splits and densifies `log` (see the file comment). Throws DataError when a filter
/// leaves nothing, when a filter or split needs a rating or time column the log lacks, or when
/// the split leaves test (or a requested validation part) empty.
///
///   RawLog log = ReadRawLog("ratings.csv.gz", read_options);
///   PrepareOptions o;
///   o.min_rating = 4; o.kcore_users = o.kcore_items = 5;
///   o.split = ParseLogSplitSpec("temporal:0.2"); o.valid_fraction = 0.1;
///   PreparedData p = PrepareDataset(std::move(log), o);
///   std::cout << p.Report();
inline PreparedData PrepareDataset(RawLog log, const PrepareOptions& options) {
  PreparedData out;
  out.has_rating = log.has_rating;
  out.has_time = log.has_time;
  out.input = log.source + (log.gzipped ? " (gzip)" : "") + ", " + detail::Thousands(log.lines) +
              " lines" + (log.header ? " with a header" : ", no header") +
              ", fields separated by " + DescribeDelimiter(log.delimiter) + "; " + log.columns;
  out.read = CountLog(log.rows, log.ids);
  if (options.min_rating) out.filters.push_back(KeepMinRating(log, *options.min_rating));
  out.filters.push_back(ResolveDuplicates(log, options.duplicates));
  if (options.kcore_users > 0 || options.kcore_items > 0)
    out.filters.push_back(KCore(log, options.kcore_users, options.kcore_items));
  LogPartition parts = SplitLog(log, options.split, options.valid_fraction, options.seed);

  // Dense ids by first appearance in train, valid, test: LoadDataset's order for a folder.
  IdMaps maps;
  std::vector<Id> user_of(static_cast<std::size_t>(log.ids.users.Size()), -1);
  std::vector<Id> item_of(static_cast<std::size_t>(log.ids.items.Size()), -1);
  auto densify = [&](std::vector<LogRow>& rows) {
    std::vector<std::pair<Id, Id>> pairs;
    pairs.reserve(rows.size());
    for (LogRow& r : rows) {
      Id& u = user_of[static_cast<std::size_t>(r.user)];
      if (u < 0) u = maps.users.Insert(log.ids.users.Raw(r.user));
      Id& i = item_of[static_cast<std::size_t>(r.item)];
      if (i < 0) i = maps.items.Insert(log.ids.items.Raw(r.item));
      r.user = u;
      r.item = i;
      pairs.emplace_back(u, i);
    }
    return pairs;
  };
  const auto train_pairs = densify(parts.train);
  std::optional<std::vector<std::pair<Id, Id>>> valid_pairs;
  if (options.valid_fraction > 0) valid_pairs = densify(parts.valid);
  auto test_pairs = densify(parts.test);
  out.dataset = AssembleDataset(maps.users.Size(), maps.items.Size(), train_pairs,
                                std::move(test_pairs), std::move(valid_pairs));
  out.dataset.ids = std::move(maps);
  LoadReport& r = out.dataset.report;
  r.source = log.source + " (prepared)";
  r.ids = IdPolicy::kRemap;
  if (r.train.duplicates > 0)
    r.notes.push_back(detail::Thousands(r.train.duplicates) +
                      " duplicate train rows merged (steps per epoch still count them)");
  if (r.test_vs_train.users_without_train > 0)
    r.notes.push_back(detail::Thousands(r.test_vs_train.users_without_train) +
                      " test users have no train items (cold users: no train signal)");

  std::ostringstream split;
  split << "split " << options.split.Describe();
  if (options.split.kind == LogSplitKind::kRatio) split << " (seed " << options.seed << ")";
  split << ": " << detail::Thousands(static_cast<Index>(parts.train.size() + parts.valid.size()))
        << " train rows, " << detail::Thousands(static_cast<Index>(parts.test.size()))
        << " test rows";
  if (options.valid_fraction > 0) {
    split << "; validation " << options.valid_fraction << " carved from train ("
          << (options.split.kind == LogSplitKind::kRatio        ? "random rows per user"
              : options.split.kind == LogSplitKind::kGlobalTime ? "the latest train rows overall"
                                                                : "the latest rows per user")
          << "): " << detail::Thousands(static_cast<Index>(parts.train.size())) << " train, "
          << detail::Thousands(static_cast<Index>(parts.valid.size())) << " valid rows";
  }
  out.split = split.str();
  out.parts = std::move(parts);
  return out;
}

}  // namespace directspec
