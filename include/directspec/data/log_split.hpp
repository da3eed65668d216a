// Splits of a filtered raw log (log_filters.hpp) into train / validation / test rows, the last
// step of data preparation before PrepareDataset (prepare.hpp) builds the Dataset:
//
//   ratio:F        per user, round(F * n) random rows to test (seeded, one stream per user)
//   temporal:F     per user, the latest round(F * n) rows to test
//   leave-last:N   per user, the latest N rows to test
//   global-time:T  every row with time >= T to test (T: a number or an ISO date)
//
// Per-user splits keep at least one train row per user. The validation part is carved from the
// train rows the same way with its own fraction: random per user for ratio, latest per user for
// temporal and leave-last, the globally latest train rows for global-time. Rows with equal times
// are ordered by their line in the file (a later line is later), so every split is a
// deterministic function of (log, spec, fraction, seed).
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "directspec/core/argument_check.hpp"
#include "directspec/core/rng.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/data_error.hpp"
#include "directspec/data/log_filters.hpp"
#include "directspec/data/raw_log.hpp"

namespace directspec {

enum class LogSplitKind { kRatio, kTemporal, kLeaveLast, kGlobalTime };

/// A split of a raw log; ParseLogSplitSpec reads the CLI's --split text.
struct LogSplitSpec {
  LogSplitKind kind = LogSplitKind::kRatio;
  double fraction = 0.2;  // ratio, temporal: share of each user's rows held out
  Index last = 1;         // leave-last: rows per user held out
  double time = 0;        // global-time: the first test time
  std::string time_text;  // global-time: T as given (for reports)

  bool NeedsTime() const { return kind != LogSplitKind::kRatio; }

  /// "temporal:0.2", as accepted by ParseLogSplitSpec.
  std::string Describe() const {
    std::ostringstream s;
    switch (kind) {
      case LogSplitKind::kRatio:
        s << "ratio:" << fraction;
        break;
      case LogSplitKind::kTemporal:
        s << "temporal:" << fraction;
        break;
      case LogSplitKind::kLeaveLast:
        s << "leave-last:" << last;
        break;
      case LogSplitKind::kGlobalTime:
        s << "global-time:";
        if (time_text.empty())
          s << time;
        else
          s << time_text;
        break;
    }
    return s.str();
  }
};

/// Parses "ratio:F", "temporal:F" (0 < F < 1), "leave-last:N" (N >= 1) or "global-time:T" (T a
/// number or an ISO date such as 2021-06-01). Throws std::invalid_argument naming the problem.
inline LogSplitSpec ParseLogSplitSpec(std::string_view text) {
  const auto colon = text.find(':');
  const std::string kind(text.substr(0, colon));
  const std::string value(colon == std::string_view::npos ? "" : text.substr(colon + 1));
  LogSplitSpec spec;
  auto fraction = [&] {
    const auto v = detail::ParseNumber(value);
    if (!v || !(*v > 0 && *v < 1))
      throw std::invalid_argument("'" + std::string(text) + "': " + kind +
                                  " needs a fraction strictly between 0 and 1, e.g. " + kind +
                                  ":0.2");
    return *v;
  };
  if (kind == "ratio") {
    spec.kind = LogSplitKind::kRatio;
    spec.fraction = fraction();
  } else if (kind == "temporal") {
    spec.kind = LogSplitKind::kTemporal;
    spec.fraction = fraction();
  } else if (kind == "leave-last") {
    spec.kind = LogSplitKind::kLeaveLast;
    long long n = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || ptr != value.data() + value.size() || value.empty() || n < 1 ||
        n > (1ll << 40))
      throw std::invalid_argument("'" + std::string(text) +
                                  "': leave-last needs a positive row count, e.g. leave-last:1");
    spec.last = static_cast<Index>(n);
  } else if (kind == "global-time") {
    spec.kind = LogSplitKind::kGlobalTime;
    auto t = detail::ParseNumber(value);
    if (!t) t = detail::ParseIsoTime(value);
    if (!t)
      throw std::invalid_argument("'" + std::string(text) +
                                  "': global-time needs a time, a number (as in the log's time "
                                  "column) or an ISO date (2021-06-01)");
    spec.time = *t;
    spec.time_text = value;
  } else {
    throw std::invalid_argument("'" + std::string(text) +
                                "' is not a split (expected ratio:F, temporal:F, leave-last:N or "
                                "global-time:T)");
  }
  return spec;
}

/// The three parts of a split log, each in file order.
struct LogPartition {
  std::vector<LogRow> train, valid, test;
};

namespace detail {

inline constexpr std::uint64_t kTestStream = 0x4C54'0000'0000'0000ull;   // "LT"
inline constexpr std::uint64_t kValidStream = 0x4C56'0000'0000'0000ull;  // "LV"

inline Index Rounded(double fraction, Index n) {
  return static_cast<Index>(std::floor(fraction * static_cast<double>(n) + 0.5));
}

/// Moves rows of `from` (part[k] == from) to `to`, per user: random (ratio) or latest.
inline void PerUser(const std::vector<LogRow>& rows, std::vector<char>& part, char from, char to,
                    bool random, std::uint64_t seed, std::uint64_t stream, Index users,
                    const std::function<Index(Index)>& held_count) {
  std::vector<std::vector<std::size_t>> of_user(static_cast<std::size_t>(users));
  for (std::size_t k = 0; k < rows.size(); ++k)
    if (part[k] == from) of_user[static_cast<std::size_t>(rows[k].user)].push_back(k);
  for (Index u = 0; u < users; ++u) {
    auto& list = of_user[static_cast<std::size_t>(u)];
    const auto n = static_cast<Index>(list.size());
    const Index h = std::min(held_count(n), n - std::min<Index>(1, n));
    if (h <= 0) continue;
    if (random) {
      // Partial Fisher-Yates: the first h slots become a uniform random h-subset.
      auto engine = MakeStream(seed, stream + static_cast<std::uint64_t>(u));
      for (Index k = 0; k < h; ++k) {
        const auto j =
            k + static_cast<Index>(UniformIndex(engine, static_cast<std::uint64_t>(n - k)));
        std::swap(list[static_cast<std::size_t>(k)], list[static_cast<std::size_t>(j)]);
      }
      for (Index k = 0; k < h; ++k) part[list[static_cast<std::size_t>(k)]] = to;
    } else {
      std::sort(list.begin(), list.end(),
                [&](std::size_t a, std::size_t b) { return detail::Earlier(rows[a], rows[b]); });
      for (Index k = n - h; k < n; ++k) part[list[static_cast<std::size_t>(k)]] = to;
    }
  }
}

}  // namespace detail

/// Splits `log.rows` by `spec`, then carves `valid_fraction` (0: no validation part) of the
/// train rows into validation the same way. Throws DataError when the spec needs times and the
/// log has none, or when test (or a requested validation part) would be empty.
///
///   LogPartition p = SplitLog(log, ParseLogSplitSpec("temporal:0.2"), 0.1, seed);
inline LogPartition SplitLog(const RawLog& log, const LogSplitSpec& spec, double valid_fraction,
                             std::uint64_t seed) {
  using namespace detail;
  if (spec.NeedsTime() && !log.has_time)
    throw DataError(log.source, 0, "",
                    "the split " + spec.Describe() +
                        " orders rows by time, but no time column was selected (add time=COLUMN "
                        "to the columns, or use ratio:F)");
  if (!(valid_fraction >= 0 && valid_fraction < 1))
    throw std::invalid_argument("SplitLog: validation fraction " + std::to_string(valid_fraction) +
                                " is not in [0, 1)");
  const std::vector<LogRow>& rows = log.rows;
  const Index users = log.ids.users.Size();
  std::vector<char> part(rows.size(), 0);  // 0 train, 1 valid, 2 test
  const bool random = spec.kind == LogSplitKind::kRatio;
  switch (spec.kind) {
    case LogSplitKind::kRatio:
    case LogSplitKind::kTemporal:
      PerUser(rows, part, 0, 2, random, seed, kTestStream, users,
              [&](Index n) { return Rounded(spec.fraction, n); });
      break;
    case LogSplitKind::kLeaveLast:
      PerUser(rows, part, 0, 2, false, seed, kTestStream, users, [&](Index) { return spec.last; });
      break;
    case LogSplitKind::kGlobalTime:
      for (std::size_t k = 0; k < rows.size(); ++k) part[k] = rows[k].time >= spec.time ? 2 : 0;
      break;
  }
  if (valid_fraction > 0) {
    if (spec.kind == LogSplitKind::kGlobalTime) {
      std::vector<std::size_t> train;
      for (std::size_t k = 0; k < rows.size(); ++k)
        if (part[k] == 0) train.push_back(k);
      std::sort(train.begin(), train.end(),
                [&](std::size_t a, std::size_t b) { return detail::Earlier(rows[a], rows[b]); });
      const auto n = static_cast<Index>(train.size());
      const Index h = std::min(Rounded(valid_fraction, n), n);
      for (Index k = n - h; k < n; ++k) part[train[static_cast<std::size_t>(k)]] = 1;
    } else {
      PerUser(rows, part, 0, 1, random, seed, kValidStream, users,
              [&](Index n) { return Rounded(valid_fraction, n); });
    }
  }
  LogPartition out;
  for (std::size_t k = 0; k < rows.size(); ++k)
    (part[k] == 0 ? out.train : part[k] == 1 ? out.valid : out.test).push_back(rows[k]);
  if (out.test.empty())
    throw DataError(
        log.source, 0, "",
        "the split " + spec.Describe() + " leaves the test set empty (" +
            (spec.kind == LogSplitKind::kGlobalTime
                 ? std::string("no row has a time at or after ") + spec.Describe().substr(12)
                 : std::string("no user has enough rows to hold any out")) +
            ")");
  if (out.train.empty())
    throw DataError(
        log.source, 0, "",
        "the split " + spec.Describe() +
            (valid_fraction > 0 ? " with a validation fraction of " + FormatValue(valid_fraction)
                                : std::string()) +
            " leaves the train set empty");
  if (valid_fraction > 0 && out.valid.empty())
    throw DataError(log.source, 0, "",
                    "a validation fraction of " + FormatValue(valid_fraction) +
                        " leaves the validation set empty (too few train rows per user)");
  return out;
}

}  // namespace directspec
