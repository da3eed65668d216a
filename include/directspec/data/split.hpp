// Split utilities: seeded ways to cut one Interactions into two (per-user ratio hold-out,
// leave-k-out, e.g. to carve a validation set out of train) and to subsample train rows for
// scaling runs. Every random choice draws from directspec::MakeStream, one stream per user for
// the per-user splits, so results depend only on (data, parameters, seed).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/dataset.hpp"
#include "directspec/data/interactions.hpp"

namespace directspec {

/// The two sides of a split, both in the input's index space (same users x items).
struct HoldOut {
  Interactions kept;      // e.g. the new train
  Interactions held_out;  // e.g. validation or test
};

namespace detail {

// Stream purposes, so different utilities with the same seed do not draw the same numbers.
inline constexpr std::uint64_t kRatioSplitStream = 0x5250'0000'0000'0000ull;
inline constexpr std::uint64_t kLeaveKOutStream = 0x4C4B'0000'0000'0000ull;
inline constexpr std::uint64_t kSubsampleStream = 0x5353'0000'0000'0000ull;

/// Holds out `count(u, degree)` random items of each user u.
template <class CountFn>
HoldOut SplitPerUser(const Interactions& data, std::uint64_t seed, std::uint64_t purpose,
                     CountFn count) {
  std::vector<std::pair<Id, Id>> kept, held;
  kept.reserve(static_cast<std::size_t>(data.Nnz()));
  std::vector<Id> row;
  for (Index u = 0; u < data.Users(); ++u) {
    const auto items = data.ItemsOf(u);
    const Index degree = static_cast<Index>(items.size());
    const Index h = count(degree);
    if (h <= 0) {
      for (Id i : items) kept.emplace_back(static_cast<Id>(u), i);
      continue;
    }
    // Partial Fisher-Yates: the first h slots become a uniform random h-subset.
    row.assign(items.begin(), items.end());
    auto engine = MakeStream(seed, purpose + static_cast<std::uint64_t>(u));
    for (Index k = 0; k < h; ++k) {
      const auto j =
          k + static_cast<Index>(UniformIndex(engine, static_cast<std::uint64_t>(degree - k)));
      std::swap(row[static_cast<std::size_t>(k)], row[static_cast<std::size_t>(j)]);
    }
    for (Index k = 0; k < degree; ++k)
      (k < h ? held : kept).emplace_back(static_cast<Id>(u), row[static_cast<std::size_t>(k)]);
  }
  return {Interactions::FromPairs(data.Users(), data.Items(), kept),
          Interactions::FromPairs(data.Users(), data.Items(), held)};
}

inline void CheckFraction(double fraction, const char* where) {
  if (!(fraction >= 0.0 && fraction <= 1.0))
    throw std::invalid_argument(std::string(where) + ": fraction " + std::to_string(fraction) +
                                " is not in [0, 1]");
}

}  // namespace detail

/// Per-user random ratio split: each user with degree n holds out round(fraction * n) random
/// items, but always keeps at least min(min_kept, n) of them.
///
///   HoldOut s = SplitPerUserRatio(dataset.train, 0.1, seed);   // 90 % train, 10 % validation
inline HoldOut SplitPerUserRatio(const Interactions& data, double held_out_fraction,
                                 std::uint64_t seed, Index min_kept = 1) {
  detail::CheckFraction(held_out_fraction, "SplitPerUserRatio");
  return detail::SplitPerUser(data, seed, detail::kRatioSplitStream, [&](Index n) {
    const auto want =
        static_cast<Index>(std::floor(held_out_fraction * static_cast<double>(n) + 0.5));
    return std::min(want, n - std::min(min_kept, n));
  });
}

/// Leave-k-out: each user holds out k random items, or fewer when that would leave fewer than
/// min_kept (users with n <= min_kept hold out nothing).
///
///   HoldOut s = LeaveKOut(dataset.train, 1, seed);   // one validation item per user
inline HoldOut LeaveKOut(const Interactions& data, Index k, std::uint64_t seed,
                         Index min_kept = 1) {
  if (k < 0) throw std::invalid_argument("LeaveKOut: k = " + std::to_string(k) + " < 0");
  return detail::SplitPerUser(data, seed, detail::kLeaveKOutStream, [&](Index n) {
    return std::max<Index>(0, std::min(k, n - std::min(min_kept, n)));
  });
}

/// Keeps exactly round(fraction * Nnz()) entries of `train`, chosen uniformly at random
/// (selection sampling, one pass in CSR order), in the same users x items space. For scaling
/// runs: Subsample(train, 0.1, seed) is 10 % of the interactions.
inline Interactions Subsample(const Interactions& train, double fraction, std::uint64_t seed) {
  detail::CheckFraction(fraction, "Subsample");
  const auto total = static_cast<std::uint64_t>(train.Nnz());
  const auto want = static_cast<std::uint64_t>(std::llround(fraction * static_cast<double>(total)));
  auto engine = MakeStream(seed, detail::kSubsampleStream);
  std::vector<std::pair<Id, Id>> kept;
  kept.reserve(want);
  std::uint64_t seen = 0;
  for (Index u = 0; u < train.Users(); ++u) {
    for (Id i : train.ItemsOf(u)) {
      // Knuth's algorithm S: take this entry with probability (still needed) / (still left).
      if (UniformIndex(engine, total - seen) < want - kept.size())
        kept.emplace_back(static_cast<Id>(u), i);
      ++seen;
    }
  }
  return Interactions::FromPairs(train.Users(), train.Items(), kept);
}

/// Replaces `d.train` by its kept part and sets `d.valid` to a per-user ratio hold-out of it
/// (any previous validation part is dropped). The report is recomputed with a note.
///
///   Dataset d = LoadDataset(dir);
///   CarveValidation(d, 0.1, seed);   // d.valid: 10 % of each user's train items
inline void CarveValidation(Dataset& d, double fraction, std::uint64_t seed, Index min_kept = 1) {
  HoldOut s = SplitPerUserRatio(d.train, fraction, seed, min_kept);
  const std::vector<std::pair<Id, Id>> train_pairs = s.kept.Pairs();
  Dataset out = AssembleDataset(d.Users(), d.Items(), train_pairs, std::move(d.test_pairs),
                                s.held_out.Pairs());
  out.ids = std::move(d.ids);
  LoadReport& r = out.report;
  r.source = d.report.source;
  r.ids = d.report.ids;
  r.train.file = d.report.train.file;
  r.train.header = d.report.train.header;
  r.test.file = d.report.test.file;
  r.test.header = d.report.test.header;
  r.notes = d.report.notes;
  r.notes.push_back("validation carved from train: " + std::to_string(fraction) +
                    " of each user's items, seed " + std::to_string(seed) +
                    " (train duplicates dropped)");
  d = std::move(out);
}

}  // namespace directspec
