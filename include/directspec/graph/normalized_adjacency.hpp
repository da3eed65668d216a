// NormalizedAdjacency: the symmetric normalised bipartite adjacency Â = D^-1/2 A D^-1/2 of the
// user-item graph, A = [[0, R], [R^T, 0]], stored as CSR over the n + m nodes (users first, then
// items: item i is node n + i). LightGCN propagates embeddings through it (graph/spmm.hpp); it
// is built straight from the Interactions CSR, never through a dense matrix.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "directspec/core/types.hpp"
#include "directspec/data/interactions.hpp"

namespace directspec {

/// Â as CSR: row r lists its neighbours in increasing node order with weights
/// 1 / sqrt(deg(r) deg(c)). A node without interactions has an empty row (its Â row and column
/// are zero, never NaN). Duplicate interactions were already merged by Interactions, so every
/// edge has weight exactly 1 in A.
///
///   NormalizedAdjacency<float> graph(train);
///   for (Id c : graph.Neighbours(u)) ...               // items of user u, as nodes n + i
///   RowMatrix<float> Y;  Multiply(graph, X, Y);         // Y = Â X   (graph/spmm.hpp)
template <class S>
class NormalizedAdjacency {
 public:
  using Scalar = S;

  NormalizedAdjacency() = default;

  explicit NormalizedAdjacency(const Interactions& train)
      : users_(train.Users()), items_(train.Items()) {
    const Index nodes = users_ + items_;
    const CsrView by_user = train.View();
    const CsrView by_item = train.Transposed();
    // 1/sqrt(degree) per node, computed in double so float and double graphs hold the same
    // correctly rounded weights.
    std::vector<double> inv_sqrt(static_cast<std::size_t>(nodes), 0.0);
    for (Index u = 0; u < users_; ++u) {
      const Index deg = by_user.Degree(u);
      if (deg > 0)
        inv_sqrt[static_cast<std::size_t>(u)] = 1.0 / std::sqrt(static_cast<double>(deg));
    }
    for (Index i = 0; i < items_; ++i) {
      const Index deg = by_item.Degree(i);
      if (deg > 0)
        inv_sqrt[static_cast<std::size_t>(users_ + i)] = 1.0 / std::sqrt(static_cast<double>(deg));
    }
    offsets_.assign(static_cast<std::size_t>(nodes) + 1, 0);
    columns_.resize(2 * static_cast<std::size_t>(train.Nnz()));
    values_.resize(columns_.size());
    std::size_t k = 0;
    // User rows: item columns n + i, increasing because each user's items are sorted.
    for (Index u = 0; u < users_; ++u) {
      const double du = inv_sqrt[static_cast<std::size_t>(u)];
      for (Id i : by_user.Row(u)) {
        const Index c = users_ + i;
        columns_[k] = static_cast<Id>(c);
        values_[k] = static_cast<S>(du * inv_sqrt[static_cast<std::size_t>(c)]);
        ++k;
      }
      offsets_[static_cast<std::size_t>(u) + 1] = static_cast<std::int64_t>(k);
    }
    // Item rows: user columns, sorted because the transpose lists users in increasing order.
    for (Index i = 0; i < items_; ++i) {
      const double di = inv_sqrt[static_cast<std::size_t>(users_ + i)];
      for (Id u : by_item.Row(i)) {
        columns_[k] = u;
        values_[k] = static_cast<S>(di * inv_sqrt[static_cast<std::size_t>(u)]);
        ++k;
      }
      offsets_[static_cast<std::size_t>(users_ + i) + 1] = static_cast<std::int64_t>(k);
    }
  }

  Index Users() const { return users_; }
  Index Items() const { return items_; }
  /// n + m.
  Index Nodes() const { return users_ + items_; }
  /// Stored non-zeros: twice the number of unique interactions.
  Index Nnz() const { return static_cast<Index>(columns_.size()); }
  /// The node of item i.
  Index ItemNode(Index item) const { return users_ + item; }

  Index Degree(Index node) const {
    return static_cast<Index>(offsets_[static_cast<std::size_t>(node) + 1] -
                              offsets_[static_cast<std::size_t>(node)]);
  }
  std::span<const Id> Neighbours(Index node) const {
    return {columns_.data() + offsets_[static_cast<std::size_t>(node)],
            static_cast<std::size_t>(Degree(node))};
  }
  std::span<const S> Weights(Index node) const {
    return {values_.data() + offsets_[static_cast<std::size_t>(node)],
            static_cast<std::size_t>(Degree(node))};
  }

  std::span<const std::int64_t> Offsets() const { return offsets_; }
  std::span<const Id> Columns() const { return columns_; }
  std::span<const S> Values() const { return values_; }
  /// The sparsity pattern (the unnormalised A) as a CsrView.
  CsrView Pattern() const { return {offsets_, columns_}; }

  /// Bytes held by the three CSR arrays.
  std::size_t MemoryBytes() const {
    return offsets_.size() * sizeof(std::int64_t) + columns_.size() * sizeof(Id) +
           values_.size() * sizeof(S);
  }

 private:
  Index users_ = 0;
  Index items_ = 0;
  std::vector<std::int64_t> offsets_{0};
  std::vector<Id> columns_;
  std::vector<S> values_;
};

}  // namespace directspec
