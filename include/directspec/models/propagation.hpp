// LightGCN propagation policies: how the encoder (models/lightgcn.hpp) computes the batch rows
// of H = sum_k w_k Â^k E and back-propagates dE = sum_k w_k Â^k dH (Â is symmetric). Both are
// exact and agree to rounding; they differ in how much of the graph a step touches.
//
//   WholeGraphPropagation     K products over the whole graph forward and K backward: simple,
//                             cost independent of the batch, the gradient covers every row.
//   NeighbourhoodPropagation  only the rows the batch needs: layer j is computed on the
//                             (K-j)-hop neighbourhood of the batch (shrinking sets) and the
//                             gradient grows from the batch's rows hop by hop (growing
//                             supports); the gradient covers the touched rows only.
//
// A policy is a class template on the scalar with this interface (nodes: the batch's distinct
// graph nodes; HT, GT: row k for nodes[k], and they may have spare rows past |nodes|, which
// Forward keeps so that a buffer is not reallocated every step; weights: w_0..w_K):
//
//   void Forward(const NormalizedAdjacency<S>& A, const RowMatrix<S>& E, std::span<const S>
//   weights,
//                std::span<const Id> nodes, RowMatrix<S>& HT);
//   void Backward(const NormalizedAdjacency<S>& A, std::span<const S> weights,
//                 std::span<const Id> nodes, const RowMatrix<S>& GT, RowGradient<S>& grad);
//
// Both evaluate the sum in Horner form, H = w_0 E + Â(w_1 E + Â(w_2 E + ... Â(w_K E))), so layer
// j needs its input only on the rows one hop further out, and no term is stored per layer.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "directspec/core/first_exception.hpp"
#include "directspec/core/row_gradient.hpp"
#include "directspec/core/types.hpp"
#include "directspec/graph/normalized_adjacency.hpp"
#include "directspec/graph/spmm.hpp"

namespace directspec {

namespace detail {

/// out = sum_k w_k Â^k X over the whole graph, in Horner form with two (n+m) x d scratch
/// buffers (resized only when the shape changes). `out` must alias neither X nor a scratch.
template <class S>
void PropagateAll(const NormalizedAdjacency<S>& A, std::span<const S> weights,
                  const RowMatrix<S>& X, RowMatrix<S>& out, RowMatrix<S>& scratch_a,
                  RowMatrix<S>& scratch_b) {
  assert(!weights.empty());
  const Index layers = static_cast<Index>(weights.size()) - 1;
  if (layers == 0) {
    out = weights[0] * X;
    return;
  }
  const RowMatrix<S>* inner = &X;  // the bracket one level deeper, times `gamma`
  S gamma = weights[static_cast<std::size_t>(layers)];
  for (Index j = layers - 1; j >= 0; --j) {
    RowMatrix<S>* level = j == 0 ? &out : (inner == &scratch_a ? &scratch_b : &scratch_a);
    MultiplyAdd<S>(A, gamma, *inner, weights[static_cast<std::size_t>(j)], &X, *level);
    inner = level;
    gamma = S(1);
  }
}

template <class S>
void EnsureShape(RowMatrix<S>& m, Index rows, Index cols) {
  if (m.rows() != rows || m.cols() != cols) m.resize(rows, cols);
}

/// Makes m hold at least `rows` rows of width `cols`, keeping a larger buffer (and growing with
/// 1/8 to spare): a per-step buffer whose row count changes every step is then not reallocated
/// every step (blocks of megabytes come back from glibc as fresh pages, docs/performance.md).
template <class S>
void ReserveRows(RowMatrix<S>& m, Index rows, Index cols) {
  if (m.cols() != cols || m.rows() < rows) m.resize(rows + rows / 8, cols);
}

/// Runs f(lo, hi, part) on contiguous, equal parts of [0, n), one per thread of a parallel
/// region when `parallel` (else one part), and returns how many parts ran (parts 0..count-1,
/// in order). An exception inside the region is carried out and rethrown.
template <class F>
int ForRanges(Index n, bool parallel, F&& f) {
  int used = 1;
  FirstException errors;
#ifdef _OPENMP
#pragma omp parallel if (parallel)
#endif
  errors.Run([&] {
    const int parts = ThreadCount();
    const int part = ThreadId();
    if (part == 0) used = parts;
    const Index lo = n * part / parts, hi = n * (part + 1) / parts;
    f(lo, hi, part);
  });
  errors.Rethrow();
  return used;
}

/// Below this many nodes (or row entries to zero) the serial loops of a neighbourhood step stay
/// serial: a parallel region costs a few microseconds.
inline constexpr Index kParallelNodes = Index{1} << 15;

/// Zeroes rows `rows` of Y (by node), in parallel for long lists.
template <class S>
void ZeroRows(std::span<const Id> rows, RowMatrix<S>& Y) {
  const Index count = static_cast<Index>(rows.size());
  ForRanges(count, count * Y.cols() >= kParallelMultiplyAdds, [&](Index lo, Index hi, int) {
    for (Index k = lo; k < hi; ++k) Y.row(rows[static_cast<std::size_t>(k)]).setZero();
  });
}

/// Zeroes the first `count` rows of Y, in parallel for large blocks.
template <class S>
void ZeroTopRows(Index count, RowMatrix<S>& Y) {
  ForRanges(count, count * Y.cols() >= kParallelMultiplyAdds,
            [&](Index lo, Index hi, int) { Y.middleRows(lo, hi - lo).setZero(); });
}

}  // namespace detail

/// Exact propagation over the whole graph: forward computes all of H (K sparse products) and
/// gathers the batch rows; backward scatters the batch gradient into an (n+m) x d matrix and
/// applies sum_k w_k Â^k to it (K more products). The RowGradient lists every node.
/// Best for small graphs, or when most nodes lie within K hops of every batch anyway.
template <class S>
class WholeGraphPropagation {
 public:
  using Scalar = S;
  static constexpr const char* kName = "whole-graph";

  void Forward(const NormalizedAdjacency<S>& A, const RowMatrix<S>& E, std::span<const S> weights,
               std::span<const Id> nodes, RowMatrix<S>& HT) {
    detail::PropagateAll(A, weights, E, h_, scratch_a_, scratch_b_);
    detail::ReserveRows(HT, static_cast<Index>(nodes.size()), E.cols());
    for (std::size_t k = 0; k < nodes.size(); ++k) HT.row(static_cast<Index>(k)) = h_.row(nodes[k]);
  }

  void Backward(const NormalizedAdjacency<S>& A, std::span<const S> weights,
                std::span<const Id> nodes, const RowMatrix<S>& GT, RowGradient<S>& grad) {
    const Index n = A.Nodes();
    const Index d = GT.cols();
    if (g_.rows() != n || g_.cols() != d) g_.setZero(n, d);  // zero outside the batch rows
    for (std::size_t k = 0; k < nodes.size(); ++k) g_.row(nodes[k]) = GT.row(static_cast<Index>(k));
    detail::PropagateAll(A, weights, g_, grad.values, scratch_a_, scratch_b_);
    for (Id node : nodes) g_.row(node).setZero();
    grad.rows.resize(static_cast<std::size_t>(n));
    std::iota(grad.rows.begin(), grad.rows.end(), Id(0));
  }

 private:
  RowMatrix<S> h_, g_, scratch_a_, scratch_b_;
};

/// Exact propagation restricted to the batch's K-hop neighbourhood.
///
/// Forward: with R_0 = the batch nodes and R_j = neighbours of R_{j-1}, the Horner bracket of
/// depth j is needed only on R_j; so level K-1 reads E on R_K, is computed on R_{K-1}, ..., and
/// the last level is computed on the batch rows alone. Cost: nnz of rows R_0..R_{K-1}
/// (whole graph: K * nnz).
/// Backward: the gradient of H is non-zero on the batch rows T only; bracket j is supported on
/// S_j = T ∪ N(S_{j+1}) (S_K = T) and computed by a pull over S_j that admits only columns in
/// S_{j+1} (multiply-adds: the non-zeros of S_{j+1}; column ids read: those of S_j).
/// The RowGradient lists S_0, the rows within K hops of the batch, in increasing order.
/// Frontiers are deduplicated with a marker array (no hash map) and sorted; all workspaces
/// (two (n+m) x d buffers, markers, frontiers) persist, so steady-state steps do not allocate.
template <class S>
class NeighbourhoodPropagation {
 public:
  using Scalar = S;
  static constexpr const char* kName = "neighbourhood";

  void Forward(const NormalizedAdjacency<S>& A, const RowMatrix<S>& E, std::span<const S> weights,
               std::span<const Id> nodes, RowMatrix<S>& HT) {
    const Index layers = static_cast<Index>(weights.size()) - 1;
    const Index d = E.cols();
    Prepare(A, layers, d);
    if (layers == 0) {
      detail::ReserveRows(HT, static_cast<Index>(nodes.size()), d);
      for (std::size_t k = 0; k < nodes.size(); ++k)
        HT.row(static_cast<Index>(k)) = weights[0] * E.row(nodes[k]);
      return;
    }
    // Shrinking sets: frontier_[j] = R_j for j = 1..K-1 (R_0 = nodes).
    std::span<const Id> previous = nodes;
    for (Index j = 1; j < layers; ++j) {
      Frontier(A, {}, previous, MaskOf(previous), frontier_[static_cast<std::size_t>(j)]);
      previous = frontier_[static_cast<std::size_t>(j)];
    }
    const RowMatrix<S>* inner = &E;
    S gamma = weights[static_cast<std::size_t>(layers)];
    for (Index j = layers - 1; j >= 1; --j) {
      RowMatrix<S>& level = buffer_[static_cast<std::size_t>(j % 2)];
      MultiplyAddRows<S>(A, frontier_[static_cast<std::size_t>(j)], gamma, *inner,
                         weights[static_cast<std::size_t>(j)], &E, level, RowOutput::kByNode);
      inner = &level;
      gamma = S(1);
    }
    detail::ReserveRows(HT, static_cast<Index>(nodes.size()), d);
    MultiplyAddRows<S>(A, nodes, gamma, *inner, weights[0], &E, HT, RowOutput::kCompactPrefix);
  }

  void Backward(const NormalizedAdjacency<S>& A, std::span<const S> weights,
                std::span<const Id> nodes, const RowMatrix<S>& GT, RowGradient<S>& grad) {
    const Index layers = static_cast<Index>(weights.size()) - 1;
    const Index d = GT.cols();
    Prepare(A, layers, d);
    if (layers == 0) {
      grad.rows.assign(nodes.begin(), nodes.end());
      grad.Reserve(grad.Size(), d);
      grad.Values() = weights[0] * GT.topRows(grad.Size());
      return;
    }
    // The batch gradient by node, in the buffer that level K-1 does not write.
    RowMatrix<S>* inner = &buffer_[static_cast<std::size_t>(layers % 2)];
    for (std::size_t k = 0; k < nodes.size(); ++k)
      inner->row(nodes[k]) = GT.row(static_cast<Index>(k));
    S gamma = weights[static_cast<std::size_t>(layers)];
    std::span<const Id> support = nodes;  // S_{j+1}
    for (Index j = layers - 1; j >= 0; --j) {
      // S_j from S_{j+1} (S_{j+1} as a bit set: the frontier and the product both test it).
      const ColumnMask in_support = MaskOf(support);
      std::vector<Id>& rows = frontier_[static_cast<std::size_t>(j)];
      Frontier(A, nodes, support, in_support, rows);
      const S wj = weights[static_cast<std::size_t>(j)];
      // Output rows (S_j) start as w_j G on the batch rows; then the product is added.
      RowMatrix<S>& level = buffer_[static_cast<std::size_t>(j % 2)];
      // The last level writes the gradient's values, whose capacity persists between steps.
      RowMatrix<S>& out = j > 0 ? level : grad.values;
      const Id* position = nullptr;  // compact row of each node (last level only)
      if (j == 0) {
        grad.Reserve(static_cast<Index>(rows.size()), d);
        for (std::size_t k = 0; k < rows.size(); ++k) position_[rows[k]] = static_cast<Id>(k);
        position = position_.data();
      }
      const auto row_of = [&](Id node) -> Index { return position ? position[node] : node; };
      if (4 * support.size() < rows.size()) {
        // Small support (the batch itself, at level K-1): scatter from it, which touches only
        // its own non-zeros, into zeroed output rows.
        if (j == 0)
          detail::ZeroTopRows(static_cast<Index>(rows.size()), out);
        else
          detail::ZeroRows<S>(rows, out);
        ScatterAddRows<S>(A, support, gamma, *inner, out, position);
      } else {
        // The pull must see the inner bracket as zero outside S_{j+1}, but its buffer is never
        // cleared: a mid-sized support is admitted column by column (mask); for a large one it
        // is cheaper to zero the few rows outside it and pull unmasked.
        ColumnMask mask = in_support;
        if (2 * support.size() >= static_cast<std::size_t>(A.Nodes())) {
          detail::ForRanges(A.Nodes(), A.Nodes() >= detail::kParallelNodes,
                            [&](Index lo, Index hi, int) {
                              for (Index r = lo; r < hi; ++r)
                                if (!in_support.Admits(static_cast<Id>(r))) inner->row(r).setZero();
                            });
          mask = {};
        }
        MultiplyAddRows<S>(A, rows, gamma, *inner, S(0), nullptr, out,
                           j == 0 ? RowOutput::kCompactPrefix : RowOutput::kByNode, mask);
      }
      for (std::size_t k = 0; k < nodes.size(); ++k)
        out.row(row_of(nodes[k])) += wj * GT.row(static_cast<Index>(k));
      if (j == 0) {
        grad.rows.assign(rows.begin(), rows.end());
        for (Id r : rows) position_[r] = -1;
      } else {
        inner = &level;
      }
      support = rows;
      gamma = S(1);
    }
  }

  /// Node-set sizes of the last call (diagnostics): after Forward, entries 1..K-1 are |R_j|;
  /// after Backward, entry j is |S_j| (entry 0: the rows of the RowGradient).
  std::vector<Index> FrontierSizes() const {
    std::vector<Index> sizes;
    for (const auto& f : frontier_) sizes.push_back(static_cast<Index>(f.size()));
    return sizes;
  }

 private:
  void Prepare(const NormalizedAdjacency<S>& A, Index layers, Index d) {
    const Index n = A.Nodes();
    if (static_cast<Index>(marker_.size()) != n) {
      marker_.assign(static_cast<std::size_t>(n), 0);
      position_.assign(static_cast<std::size_t>(n), -1);
      members_.assign(BitSetWords(static_cast<std::size_t>(n)), 0u);
    }
    if (static_cast<Index>(frontier_.size()) < layers)
      frontier_.resize(static_cast<std::size_t>(layers));
    if (layers > 0) {
      detail::EnsureShape(buffer_[0], n, d);
      detail::EnsureShape(buffer_[1], n, d);
    }
  }

  /// Makes members_ hold exactly `set` and returns the mask that admits it.
  ColumnMask MaskOf(std::span<const Id> set) {
    std::fill(members_.begin(), members_.end(), 0u);
    for (Id node : set) SetBit(members_.data(), static_cast<std::size_t>(node));
    return {members_.data()};
  }

  /// out = include ∪ neighbours(sources), sorted and distinct; `in_sources` must admit exactly
  /// `sources` (see MaskOf). Small source sets mark their neighbours (cost: their non-zeros);
  /// large ones test every node for a neighbour in the set, stopping at the first hit (cost:
  /// about one test per node, as most nodes then have one early in their list). The scans over
  /// all nodes run in parallel on contiguous node ranges, each collecting its own sorted part;
  /// the parts are concatenated in order, so the result does not depend on the thread count.
  void Frontier(const NormalizedAdjacency<S>& A, std::span<const Id> include,
                std::span<const Id> sources, ColumnMask in_sources, std::vector<Id>& out) {
    out.clear();
    const Index n = A.Nodes();
    const bool parallel = n >= detail::kParallelNodes;
    for (Id node : include) marker_[static_cast<std::size_t>(node)] = 1;
    if (8 * sources.size() >= static_cast<std::size_t>(n)) {
      ScanNodes(n, parallel, out, [&](Index r) {
        if (marker_[static_cast<std::size_t>(r)] != 0) return true;
        for (Id c : A.Neighbours(r))
          if (in_sources.Admits(c)) return true;
        return false;
      });
      for (Id node : include) marker_[static_cast<std::size_t>(node)] = 0;
      return;
    }
    for (Id node : include) {
      if (marker_[static_cast<std::size_t>(node)] == 1) {
        marker_[static_cast<std::size_t>(node)] = 2;
        out.push_back(node);
      }
    }
    for (Id s : sources)
      for (Id c : A.Neighbours(s)) {
        std::uint8_t& m = marker_[static_cast<std::size_t>(c)];
        if (m == 0) {
          m = 2;
          out.push_back(c);
        }
      }
    if (out.size() * 16 < static_cast<std::size_t>(n)) {
      std::sort(out.begin(), out.end());
      for (Id node : out) marker_[static_cast<std::size_t>(node)] = 0;
    } else {
      // Many marked nodes: collecting them in node order is cheaper than sorting.
      out.clear();
      ScanNodes(n, parallel, out, [&](Index r) {
        std::uint8_t& m = marker_[static_cast<std::size_t>(r)];
        const bool hit = m != 0;
        m = 0;
        return hit;
      });
    }
  }

  /// out = the nodes r in increasing order for which test(r) holds; test may write only state
  /// of node r. In parallel, each thread scans a contiguous range into its own list.
  template <class Test>
  void ScanNodes(Index n, bool parallel, std::vector<Id>& out, Test&& test) {
    if (!parallel) {
      for (Index r = 0; r < n; ++r)
        if (test(r)) out.push_back(static_cast<Id>(r));
      return;
    }
#ifdef _OPENMP
    const auto threads = static_cast<std::size_t>(omp_get_max_threads());
#else
    const std::size_t threads = 1;
#endif
    if (parts_.size() < threads) parts_.resize(threads);
    const int used = detail::ForRanges(n, true, [&](Index lo, Index hi, int part) {
      std::vector<Id>& local = parts_[static_cast<std::size_t>(part)];
      local.clear();
      for (Index r = lo; r < hi; ++r)
        if (test(r)) local.push_back(static_cast<Id>(r));
    });
    for (int p = 0; p < used; ++p)
      out.insert(out.end(), parts_[static_cast<std::size_t>(p)].begin(),
                 parts_[static_cast<std::size_t>(p)].end());
  }

  std::vector<std::uint8_t> marker_;    // all 0 between calls
  std::vector<Id> position_;            // all -1 between calls
  std::vector<std::uint64_t> members_;  // the current node set, one bit per node (see MaskOf)
  std::vector<std::vector<Id>> frontier_;
  std::vector<std::vector<Id>> parts_;  // per-thread parts of a parallel node scan
  RowMatrix<S> buffer_[2];              // (n+m) x d, valid only on the current level's rows
};

}  // namespace directspec
