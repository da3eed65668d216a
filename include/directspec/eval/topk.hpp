// Bounded top-K selection: the inner loop of full-ranking evaluation and of recommendation. A
// TopKSelector keeps the K best (score, item) pairs seen so far in a small heap whose root is the
// current worst, so a score row of m items costs m comparisons against one threshold plus
// O(K log K) for the few items that enter. Ranking order (the library's tie rule): higher score
// first; on equal scores the lower item id first; NaN scores rank as -infinity.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "directspec/core/types.hpp"

namespace directspec {

/// One ranked item with its score.
template <class S>
struct ScoredItem {
  Id item = -1;
  S score = 0;
};

/// True when `a` ranks before `b`: higher score, then lower item id.
template <class S>
inline bool RanksBefore(const ScoredItem<S>& a, const ScoredItem<S>& b) {
  return a.score > b.score || (a.score == b.score && a.item < b.item);
}

/// Keeps the best K items of a stream of scores.
///
///   TopKSelector<float> top;
///   top.Reset(20);
///   top.OfferRow(scores.data(), /*first_item=*/0, m, train.ItemsOf(u));   // skips train items
///   std::vector<ScoredItem<float>> best = top.Sorted();                   // best first
template <class S>
class TopKSelector {
 public:
  void Reset(Index k) {
    k_ = std::max<Index>(k, 0);
    heap_.clear();
    heap_.reserve(static_cast<std::size_t>(k_));
  }

  Index K() const { return k_; }
  Index Size() const { return static_cast<Index>(heap_.size()); }

  /// Offers one item (any order). NaN counts as -infinity.
  void Offer(Id item, S score) {
    if (std::isnan(score)) score = -std::numeric_limits<S>::infinity();
    const ScoredItem<S> c{item, score};
    if (Size() < k_) {
      heap_.push_back(c);
      std::push_heap(heap_.begin(), heap_.end(), RanksBefore<S>);
    } else if (k_ > 0 && RanksBefore(c, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), RanksBefore<S>);
      heap_.back() = c;
      std::push_heap(heap_.begin(), heap_.end(), RanksBefore<S>);
    }
  }

  /// Offers items first_item .. first_item + count - 1 with scores[0 .. count), skipping every id
  /// in `excluded` (sorted ascending). Calls for one user must come in ascending item order
  /// (e.g. item tiles left to right): an item that only ties the current worst then has a larger
  /// id and cannot enter, so one strict comparison per item suffices.
  void OfferRow(const S* scores, Id first_item, Index count, std::span<const Id> excluded) {
    Index j = 0;
    // Fill phase: the heap is not full yet, every non-excluded item enters.
    for (; j < count && Size() < k_; ++j) {
      const Id item = first_item + static_cast<Id>(j);
      if (!IsExcluded(excluded, item)) Offer(item, scores[j]);
    }
    if (k_ == 0 || j >= count) return;
    S threshold = heap_.front().score;
    // Skip whole blocks that cannot enter: a branch-free OR over 16 comparisons vectorises, and
    // after the first few hundred items almost every block is skipped.
    constexpr Index kBlock = 16;
    for (; j + kBlock <= count; j += kBlock) {
      bool any = false;
      for (Index q = 0; q < kBlock; ++q) any |= scores[j + q] > threshold;
      if (!any) continue;
      for (Index q = j; q < j + kBlock; ++q) {
        const S s = scores[q];
        if (!(s > threshold)) continue;
        const Id item = first_item + static_cast<Id>(q);
        if (IsExcluded(excluded, item)) continue;
        std::pop_heap(heap_.begin(), heap_.end(), RanksBefore<S>);
        heap_.back() = {item, s};
        std::push_heap(heap_.begin(), heap_.end(), RanksBefore<S>);
        threshold = heap_.front().score;
      }
    }
    for (; j < count; ++j) {
      const S s = scores[j];
      if (!(s > threshold)) continue;  // also rejects NaN
      const Id item = first_item + static_cast<Id>(j);
      if (IsExcluded(excluded, item)) continue;
      std::pop_heap(heap_.begin(), heap_.end(), RanksBefore<S>);
      heap_.back() = {item, s};
      std::push_heap(heap_.begin(), heap_.end(), RanksBefore<S>);
      threshold = heap_.front().score;
    }
  }

  /// The kept items, best first. The selector is left unchanged.
  std::vector<ScoredItem<S>> Sorted() const {
    std::vector<ScoredItem<S>> out(heap_);
    std::sort(out.begin(), out.end(), RanksBefore<S>);
    return out;
  }

  /// Writes the kept item ids best first into `items` (at least Size() entries); returns Size().
  Index SortedItems(Id* items, S* scores = nullptr) {
    std::sort_heap(heap_.begin(), heap_.end(), RanksBefore<S>);  // ascending in "ranks before"
    const Index size = Size();
    for (Index r = 0; r < size; ++r) {
      items[r] = heap_[static_cast<std::size_t>(r)].item;
      if (scores) scores[r] = heap_[static_cast<std::size_t>(r)].score;
    }
    std::make_heap(heap_.begin(), heap_.end(), RanksBefore<S>);
    return size;
  }

 private:
  static bool IsExcluded(std::span<const Id> excluded, Id item) {
    return !excluded.empty() && std::binary_search(excluded.begin(), excluded.end(), item);
  }

  Index k_ = 0;
  std::vector<ScoredItem<S>> heap_;  // heap whose front is the worst kept item
};

}  // namespace directspec
