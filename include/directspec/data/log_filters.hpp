// Filters on a raw interaction log (raw_log.hpp), the middle of data preparation, applied in this
// order by PrepareDataset (prepare.hpp): KeepMinRating, ResolveDuplicates, KCore. Each edits the
// rows in place (order preserved) and returns a FilterReport with the rows, users and items it
// removed, so a user sees what each step cost. Next: log_split.hpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "directspec/core/argument_check.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/data_error.hpp"
#include "directspec/data/dataset.hpp"
#include "directspec/data/raw_log.hpp"

namespace directspec {

/// What one filter removed and what it left.
struct FilterReport {
  std::string name;  // e.g. "min-rating 4", "duplicates merge", "k-core 5,5"
  Index rows_removed = 0, users_removed = 0, items_removed = 0;
  Index rows_left = 0, users_left = 0, items_left = 0;
  std::string note;  // e.g. "3 rounds", "120 duplicate rows merged into 95 pairs"

  /// "k-core 5,5: removed 1,234 rows, 12 users, 340 items (3 rounds); left 9,876 rows, ..."
  std::string Line() const {
    std::string s = name + ": removed " + detail::Thousands(rows_removed) + " rows, " +
                    detail::Thousands(users_removed) + " users, " +
                    detail::Thousands(items_removed) + " items";
    if (!note.empty()) s += " (" + note + ")";
    return s + "; left " + detail::Thousands(rows_left) + " rows, " +
           detail::Thousands(users_left) + " users, " + detail::Thousands(items_left) + " items";
  }
};

/// How repeated (user, item) pairs are handled.
enum class DuplicatePolicy {
  kMerge,  // the default: one row per pair, at its first occurrence, and the count is reported
  kKeep,   // every row stays (train may hold a pair twice; a pair may land in train and test)
  kFirst,  // the earliest row of each pair (by time, then line)
  kLast,   // the latest row of each pair (by time, then line)
};

inline const char* DuplicatePolicyName(DuplicatePolicy p) {
  switch (p) {
    case DuplicatePolicy::kKeep:
      return "keep";
    case DuplicatePolicy::kFirst:
      return "first";
    case DuplicatePolicy::kLast:
      return "last";
    default:
      return "merge";
  }
}

/// Rows, distinct users and distinct items of `rows`.
struct LogCounts {
  Index rows = 0, users = 0, items = 0;
};

inline LogCounts CountLog(const std::vector<LogRow>& rows, const IdMaps& ids) {
  std::vector<char> user(static_cast<std::size_t>(ids.users.Size()), 0);
  std::vector<char> item(static_cast<std::size_t>(ids.items.Size()), 0);
  LogCounts c;
  c.rows = static_cast<Index>(rows.size());
  for (const LogRow& r : rows) {
    c.users += user[static_cast<std::size_t>(r.user)] ? 0 : 1;
    c.items += item[static_cast<std::size_t>(r.item)] ? 0 : 1;
    user[static_cast<std::size_t>(r.user)] = item[static_cast<std::size_t>(r.item)] = 1;
  }
  return c;
}

namespace detail {

inline FilterReport Compare(std::string name, const LogCounts& before, const LogCounts& after) {
  FilterReport r;
  r.name = std::move(name);
  r.rows_removed = before.rows - after.rows;
  r.users_removed = before.users - after.users;
  r.items_removed = before.items - after.items;
  r.rows_left = after.rows;
  r.users_left = after.users;
  r.items_left = after.items;
  return r;
}

/// Time order with the line as tie-breaker: a strict total order on a log's rows.
inline bool Earlier(const LogRow& a, const LogRow& b) {
  return a.time < b.time || (a.time == b.time && a.line < b.line);
}

[[noreturn]] inline void Emptied(const RawLog& log, const std::string& what) {
  throw DataError(log.source, 0, "", "no interactions left: " + what);
}

}  // namespace detail

/// Keeps the rows with rating >= min_rating. Throws DataError when the log has no rating column
/// or when no row is left.
inline FilterReport KeepMinRating(RawLog& log, double min_rating) {
  const std::string name = "min-rating " + FormatValue(min_rating);
  if (!log.has_rating)
    throw DataError(log.source, 0, "",
                    name + " needs a rating column (add rating=COLUMN to the columns)");
  const LogCounts before = CountLog(log.rows, log.ids);
  std::erase_if(log.rows, [&](const LogRow& r) { return !(r.rating >= min_rating); });
  if (log.rows.empty())
    detail::Emptied(log, "every one of the " + detail::Thousands(before.rows) +
                             " rows has a rating below " + FormatValue(min_rating));
  return detail::Compare(name, before, CountLog(log.rows, log.ids));
}

/// Applies `policy` to repeated (user, item) pairs. The report's detail says how many rows
/// repeated an earlier pair (for Keep: how many are kept).
inline FilterReport ResolveDuplicates(RawLog& log, DuplicatePolicy policy) {
  const LogCounts before = CountLog(log.rows, log.ids);
  // Rows of each pair next to each other, earliest first.
  std::vector<std::size_t> order(log.rows.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const LogRow &x = log.rows[a], &y = log.rows[b];
    if (x.user != y.user) return x.user < y.user;
    if (x.item != y.item) return x.item < y.item;
    return detail::Earlier(x, y);
  });
  std::vector<char> keep(log.rows.size(), 1);
  Index repeats = 0, pairs_repeated = 0;
  for (std::size_t s = 0; s < order.size();) {
    std::size_t e = s + 1;
    while (e < order.size() && log.rows[order[e]].user == log.rows[order[s]].user &&
           log.rows[order[e]].item == log.rows[order[s]].item)
      ++e;
    if (e - s > 1) {
      repeats += static_cast<Index>(e - s - 1);
      ++pairs_repeated;
      if (policy != DuplicatePolicy::kKeep) {
        const std::size_t kept = policy == DuplicatePolicy::kLast ? e - 1 : s;
        for (std::size_t k = s; k < e; ++k)
          if (k != kept) keep[order[k]] = 0;
      }
    }
    s = e;
  }
  std::size_t w = 0;
  for (std::size_t k = 0; k < log.rows.size(); ++k)
    if (keep[k]) log.rows[w++] = log.rows[k];
  log.rows.resize(w);
  FilterReport r = detail::Compare(std::string("duplicates ") + DuplicatePolicyName(policy), before,
                                   CountLog(log.rows, log.ids));
  const std::string counts = detail::Thousands(repeats) + " repeated rows of " +
                             detail::Thousands(pairs_repeated) + " pairs";
  switch (policy) {
    case DuplicatePolicy::kKeep:
      r.note = counts + " kept";
      break;
    case DuplicatePolicy::kFirst:
      r.note = counts + ", the earliest row of each pair kept";
      break;
    case DuplicatePolicy::kLast:
      r.note = counts + ", the latest row of each pair kept";
      break;
    default:
      r.note = counts + " merged into the first row of each pair";
      break;
  }
  return r;
}

/// The (min_user, min_item)-core: removes users with fewer than min_user rows and items with
/// fewer than min_item rows, again and again until every remaining user and item has enough (the
/// result is unique: the largest sub-log where both hold). Rows are counted as they are (after
/// ResolveDuplicates: distinct pairs unless duplicates were kept). Throws DataError when nothing
/// is left.
inline FilterReport KCore(RawLog& log, Index min_user, Index min_item) {
  const std::string name =
      min_user == min_item ? "k-core " + std::to_string(min_user)
                           : "k-core " + std::to_string(min_user) + "," + std::to_string(min_item);
  const LogCounts before = CountLog(log.rows, log.ids);
  std::vector<Index> user_rows(static_cast<std::size_t>(log.ids.users.Size()), 0);
  std::vector<Index> item_rows(static_cast<std::size_t>(log.ids.items.Size()), 0);
  for (const LogRow& r : log.rows) {
    ++user_rows[static_cast<std::size_t>(r.user)];
    ++item_rows[static_cast<std::size_t>(r.item)];
  }
  int rounds = 0;
  for (;;) {
    // One round removes every row of every user and item below its threshold at the round's
    // start; degrees are then updated and the next round looks again.
    std::vector<Index> user_next = user_rows, item_next = item_rows;
    std::size_t w = 0;
    for (std::size_t k = 0; k < log.rows.size(); ++k) {
      const LogRow& r = log.rows[k];
      if (user_rows[static_cast<std::size_t>(r.user)] < min_user ||
          item_rows[static_cast<std::size_t>(r.item)] < min_item) {
        --user_next[static_cast<std::size_t>(r.user)];
        --item_next[static_cast<std::size_t>(r.item)];
        continue;
      }
      log.rows[w++] = r;
    }
    if (w == log.rows.size()) break;
    ++rounds;
    log.rows.resize(w);
    user_rows.swap(user_next);
    item_rows.swap(item_next);
  }
  if (log.rows.empty())
    detail::Emptied(log, "no user with at least " + std::to_string(min_user) +
                             " rows and item with at least " + std::to_string(min_item) +
                             " rows survives (" + name + ", from " +
                             detail::Thousands(before.rows) + " rows)");
  FilterReport r = detail::Compare(name, before, CountLog(log.rows, log.ids));
  r.note = std::to_string(rounds) + (rounds == 1 ? " round" : " rounds") + " to the fixpoint";
  return r;
}

}  // namespace directspec
