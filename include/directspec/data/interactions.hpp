// Interactions: the binary user-by-item train (or test) matrix in CSR form. Every other stage
// reads it: samplers draw from its rows, LightGCN builds its graph from it, adaptive filters
// intersect its rows, and the evaluator masks train items and reads test items from it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "directspec/core/types.hpp"

namespace directspec {

/// A compressed sparse row view (offsets + sorted column ids) of a 0/1 matrix.
struct CsrView {
  std::span<const std::int64_t> offsets;  // rows + 1 entries
  std::span<const Id> columns;            // sorted and unique within each row

  Index Rows() const { return offsets.empty() ? 0 : static_cast<Index>(offsets.size()) - 1; }
  std::span<const Id> Row(Index r) const {
    return columns.subspan(static_cast<std::size_t>(offsets[r]),
                           static_cast<std::size_t>(offsets[r + 1] - offsets[r]));
  }
  Index Degree(Index r) const { return static_cast<Index>(offsets[r + 1] - offsets[r]); }
};

/// User-by-item binary matrix in CSR form with sorted, unique items per user.
///
///   auto train = Interactions::FromPairs(n_users, n_items, pairs);
///   for (Id item : train.ItemsOf(u)) ...
///   const CsrView users_of = train.Transposed();   // item -> users, built once on demand
class Interactions {
 public:
  Interactions() = default;

  /// Builds the matrix from (user, item) pairs; duplicates collapse to one entry and are counted
  /// in DuplicatesMerged(). Ids must lie in [0, users) and [0, items).
  static Interactions FromPairs(Index users, Index items,
                                std::span<const std::pair<Id, Id>> pairs) {
    Interactions r;
    r.users_ = users;
    r.items_ = items;
    r.offsets_.assign(static_cast<std::size_t>(users) + 1, 0);
    for (const auto& [u, i] : pairs) {
      if (u < 0 || u >= users || i < 0 || i >= items)
        throw std::out_of_range("Interactions::FromPairs: pair (" + std::to_string(u) + ", " +
                                std::to_string(i) + ") outside " + std::to_string(users) + " x " +
                                std::to_string(items));
      ++r.offsets_[static_cast<std::size_t>(u) + 1];
    }
    for (std::size_t u = 0; u < static_cast<std::size_t>(users); ++u)
      r.offsets_[u + 1] += r.offsets_[u];
    r.columns_.resize(pairs.size());
    std::vector<std::int64_t> fill(r.offsets_.begin(), r.offsets_.end() - 1);
    for (const auto& [u, i] : pairs) r.columns_[static_cast<std::size_t>(fill[u]++)] = i;
    // Sort each row and squeeze out duplicates in place.
    std::int64_t write = 0;
    for (Index u = 0; u < users; ++u) {
      auto begin = r.columns_.begin() + r.offsets_[u];
      auto end = r.columns_.begin() + r.offsets_[u + 1];
      std::sort(begin, end);
      const auto unique_end = std::unique(begin, end);
      r.offsets_[u] = write;
      for (auto it = begin; it != unique_end; ++it)
        r.columns_[static_cast<std::size_t>(write++)] = *it;
    }
    r.offsets_[users] = write;
    r.duplicates_merged_ = static_cast<Index>(pairs.size()) - write;
    r.columns_.resize(static_cast<std::size_t>(write));
    r.columns_.shrink_to_fit();
    return r;
  }

  Index Users() const { return users_; }
  Index Items() const { return items_; }
  /// Number of unique (user, item) entries.
  Index Nnz() const { return static_cast<Index>(columns_.size()); }
  /// Input pairs dropped because they repeated an earlier pair.
  Index DuplicatesMerged() const { return duplicates_merged_; }
  /// Rows of the source data, duplicates included: the reference counts steps per epoch from it.
  Index SourceRows() const { return Nnz() + duplicates_merged_; }

  std::span<const Id> ItemsOf(Index user) const { return View().Row(user); }
  Index UserDegree(Index user) const {
    return static_cast<Index>(offsets_[user + 1] - offsets_[user]);
  }
  bool Contains(Index user, Id item) const {
    const auto row = ItemsOf(user);
    return std::binary_search(row.begin(), row.end(), item);
  }

  /// User -> items CSR.
  CsrView View() const { return {offsets_, columns_}; }

  /// Item -> users CSR (sorted users per item), built on first use and cached. Thread-safe:
  /// concurrent first calls build it once (std::call_once) and all see the same view.
  CsrView Transposed() const {
    if (!transpose_) return {};  // a moved-from object
    std::call_once(transpose_->built, [this] { transpose_->value = BuildTranspose(); });
    return {transpose_->value.offsets, transpose_->value.columns};
  }
  Index ItemDegree(Index item) const { return Transposed().Degree(item); }
  std::span<const Id> UsersOf(Index item) const { return Transposed().Row(item); }

  /// Degrees of every item (number of distinct users), computed without building the transpose.
  std::vector<Index> ItemDegrees() const {
    std::vector<Index> deg(static_cast<std::size_t>(items_), 0);
    for (Id i : columns_) ++deg[static_cast<std::size_t>(i)];
    return deg;
  }

  /// Every entry as (user, item) pairs in CSR order.
  std::vector<std::pair<Id, Id>> Pairs() const {
    std::vector<std::pair<Id, Id>> out;
    out.reserve(columns_.size());
    for (Index u = 0; u < users_; ++u)
      for (Id i : ItemsOf(u)) out.emplace_back(static_cast<Id>(u), i);
    return out;
  }

 private:
  struct Transpose {
    std::vector<std::int64_t> offsets;
    std::vector<Id> columns;
  };
  struct TransposeCache {
    std::once_flag built;
    Transpose value;
  };

  Transpose BuildTranspose() const {
    Transpose t;
    t.offsets.assign(static_cast<std::size_t>(items_) + 1, 0);
    for (Id i : columns_) ++t.offsets[static_cast<std::size_t>(i) + 1];
    for (std::size_t i = 0; i < static_cast<std::size_t>(items_); ++i)
      t.offsets[i + 1] += t.offsets[i];
    t.columns.resize(columns_.size());
    std::vector<std::int64_t> fill(t.offsets.begin(), t.offsets.end() - 1);
    // Users are visited in increasing order, so each item's user list comes out sorted.
    for (Index u = 0; u < users_; ++u)
      for (Id i : ItemsOf(u)) t.columns[static_cast<std::size_t>(fill[i]++)] = static_cast<Id>(u);
    return t;
  }

  Index users_ = 0;
  Index items_ = 0;
  Index duplicates_merged_ = 0;
  std::vector<std::int64_t> offsets_{0};
  std::vector<Id> columns_;
  // Shared so copies of an Interactions stay cheap and the cache survives copying (the entries
  // never change after construction, so copies may share it).
  std::shared_ptr<TransposeCache> transpose_ = std::make_shared<TransposeCache>();
};

}  // namespace directspec
