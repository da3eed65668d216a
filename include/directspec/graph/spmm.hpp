// Sparse-times-dense products with the normalised adjacency Â (graph/normalized_adjacency.hpp),
// the kernels of LightGCN propagation (models/propagation.hpp): whole-graph Y = γ Â X + β B,
// the same restricted to a list of rows (pull), and a scatter (push) from a list of source rows.
// X, B, Y are row-major with one row per node, so each non-zero reads one contiguous row.
//
// Threads: OpenMP when compiled with it (`#ifdef _OPENMP`), otherwise serial. Every output row
// is summed in the same order whatever the thread count, so results are bitwise identical for
// 1, 2 or more threads. Each region runs through FirstException (core/first_exception.hpp), so
// nothing thrown inside one can terminate the program.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cassert>
#include <cstdint>
#include <span>
#include <utility>

#include "directspec/core/bit_set.hpp"
#include "directspec/core/first_exception.hpp"
#include "directspec/core/types.hpp"
#include "directspec/graph/normalized_adjacency.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace directspec {

/// Restricts a row-restricted product to the columns whose bit is set in `bits` (a bit set of
/// core/bit_set.hpp over the nodes; build it with SetBit), i.e. multiplies by an X that is zero
/// outside a node set without zeroing X. One bit per node keeps the whole set in L1 (8.9 KB for
/// Gowalla's 70,839 nodes), where the column tests of a masked pull read it once per non-zero. Null
/// `bits`: every column.
struct ColumnMask {
  const std::uint64_t* bits = nullptr;
  bool Admits(Id c) const { return TestBit(bits, static_cast<std::size_t>(c)); }
};

/// Where a row-restricted product writes row rows[k]: at row k of Y (kCompact: Y is resized to
/// |rows| x d; kCompactPrefix: Y must already have >= |rows| rows of width d, and rows past
/// |rows| are left untouched, so a buffer with spare capacity is not reallocated) or at row
/// rows[k] of an n+m row Y (kByNode; rows outside the list are left untouched).
enum class RowOutput { kCompact, kCompactPrefix, kByNode };

namespace detail {

/// Below this many multiply-adds a product runs on one thread: a parallel region costs a few
/// microseconds, more than a small product.
inline constexpr std::int64_t kParallelMultiplyAdds = 1 << 16;

inline int ThreadCount() {
#ifdef _OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}
inline int ThreadId() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

/// First node of part `part` out of `parts` in a static partition of all nodes balanced by
/// non-zeros (plus one per row, for the per-row overhead and for zero-degree rows).
inline Index BalancedBoundary(std::span<const std::int64_t> offsets, int part, int parts) {
  const Index rows = static_cast<Index>(offsets.size()) - 1;
  if (part <= 0) return 0;
  if (part >= parts) return rows;
  const std::int64_t total = offsets[static_cast<std::size_t>(rows)] + rows;
  const std::int64_t target = total / parts * part + (total % parts) * part / parts;
  // Smallest r with offsets[r] + r >= target (a monotone sequence).
  Index lo = 0, hi = rows;
  while (lo < hi) {
    const Index mid = lo + (hi - lo) / 2;
    if (offsets[static_cast<std::size_t>(mid)] + mid < target)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/// This thread's part [first, last) of a row list, split into `parts` contiguous runs that hold
/// about the same number of non-zeros (plus one per row, as BalancedBoundary), given their
/// total `cost`. Contiguous runs keep each core's cache on its own stretch of the (sorted) list,
/// which an interleaved dynamic schedule would spread across both. Each part scans the list up
/// to its own end; neighbouring parts find the same boundary, so the runs tile the list.
inline std::pair<Index, Index> BalancedListRange(std::span<const std::int64_t> offsets,
                                                 std::span<const Id> rows, std::int64_t cost,
                                                 int part, int parts) {
  const Index count = static_cast<Index>(rows.size());
  if (parts <= 1) return {0, count};
  const auto row_cost = [&](Index k) {
    const auto r = static_cast<std::size_t>(rows[static_cast<std::size_t>(k)]);
    return offsets[r + 1] - offsets[r] + 1;
  };
  const std::int64_t begin_target = cost / parts * part + (cost % parts) * part / parts;
  const std::int64_t end_target = cost / parts * (part + 1) + (cost % parts) * (part + 1) / parts;
  Index k = 0;
  std::int64_t sum = 0;
  while (k < count && sum < begin_target) sum += row_cost(k++);
  const Index first = part == 0 ? 0 : k;
  while (k < count && sum < end_target) sum += row_cost(k++);
  return {first, part + 1 == parts ? count : k};
}

/// Columns [c0, c0 + W) of y = start_scale * start + sum_k (gamma * vals[k]) * X[cols[k]]
/// (start null: no start term), with the W-wide partial sum held in registers (a fixed-size
/// block) and stored once, instead of a load and a store of the output row per non-zero. Each
/// element receives its terms in k order, exactly as in the plain loop.
template <class S, int W>
inline void AccumulateBlock(const Id* cols, const S* vals, std::size_t count, S gamma, const S* X,
                            S* y, Index d, Index c0, const S* start, S start_scale) {
  using Block = Eigen::Matrix<S, 1, W>;
  Block acc;
  if (start != nullptr)
    acc = start_scale * Eigen::Map<const Block>(start + c0);
  else
    acc.setZero();
  for (std::size_t k = 0; k < count; ++k) {
    acc.noalias() +=
        (gamma * vals[k]) * Eigen::Map<const Block>(X + static_cast<Index>(cols[k]) * d + c0);
  }
  Eigen::Map<Block>(y + c0) = acc;
}

/// y = start_scale * start + sum_k (gamma * vals[k]) * X[cols[k]] over `count` entries (start
/// may be null, or y itself with scale 1 to accumulate): in register blocks of four 64-byte
/// vectors (64 floats, 32 doubles), then blocks of one vector, then a scalar tail. No software
/// prefetch of the random X rows: measured on Gowalla it made the product 10-17 % slower (the
/// out-of-order core already keeps several row reads in flight).
template <class S>
inline void AccumulateRows(const Id* cols, const S* vals, std::size_t count, S gamma, const S* X,
                           S* y, Index d, const S* start, S start_scale) {
  constexpr int kVector = 64 / static_cast<int>(sizeof(S));
  Index c0 = 0;
  for (; c0 + 4 * kVector <= d; c0 += 4 * kVector)
    AccumulateBlock<S, 4 * kVector>(cols, vals, count, gamma, X, y, d, c0, start, start_scale);
  for (; c0 + kVector <= d; c0 += kVector)
    AccumulateBlock<S, kVector>(cols, vals, count, gamma, X, y, d, c0, start, start_scale);
  for (; c0 < d; ++c0)
    AccumulateBlock<S, 1>(cols, vals, count, gamma, X, y, d, c0, start, start_scale);
}

/// y = beta * b + gamma * sum_c Â_rc x_c for one row r (b may be null; with a mask, only the
/// columns it admits).
template <class S, bool kMasked = false>
inline void PullRow(const NormalizedAdjacency<S>& A, Index r, S gamma, const S* X, S beta,
                    const S* B, S* y, Index d, ColumnMask mask = {}) {
  // The output row starts as beta * b (or zero) inside the first accumulation: no separate
  // pass over it.
  const S* start = B != nullptr && beta != S(0) ? B + r * d : nullptr;
  const auto cols = A.Neighbours(r);
  const auto vals = A.Weights(r);
  if constexpr (!kMasked) {
    AccumulateRows(cols.data(), vals.data(), cols.size(), gamma, X, y, d, start, beta);
  } else {
    // Admitted columns are compacted branch-free, a chunk at a time, before the multiply-adds:
    // a data-dependent branch per non-zero mispredicts whenever the set is neither tiny nor
    // nearly everything. Later chunks add to what the earlier ones stored.
    constexpr std::size_t kChunk = 64;
    Id kept_cols[kChunk];
    S kept_vals[kChunk];
    std::size_t begin = 0;
    do {
      const std::size_t end = std::min(cols.size(), begin + kChunk);
      std::size_t kept = 0;
      for (std::size_t k = begin; k < end; ++k) {
        kept_cols[kept] = cols[k];
        kept_vals[kept] = vals[k];
        kept += mask.Admits(cols[k]) ? 1 : 0;
      }
      AccumulateRows(kept_cols, kept_vals, kept, gamma, X, y, d, begin == 0 ? start : y,
                     begin == 0 ? beta : S(1));
      begin = end;
    } while (begin < cols.size());
  }
}

}  // namespace detail

/// Y = gamma * Â X + beta * B for all n + m rows (B may be null: Y = gamma Â X). X, B and Y are
/// (n+m) x d; Y is resized if needed and must not alias X or B. Rows are split statically
/// between threads, each part holding about the same number of non-zeros.
template <class S>
void MultiplyAdd(const NormalizedAdjacency<S>& A, S gamma, const RowMatrix<S>& X, S beta,
                 const RowMatrix<S>* B, RowMatrix<S>& Y) {
  const Index nodes = A.Nodes();
  const Index d = X.cols();
  assert(X.rows() == nodes);
  assert(B == nullptr || (B->rows() == nodes && B->cols() == d));
  assert(&Y != &X && &Y != B);
  Y.resize(nodes, d);
  const S* x = X.data();
  const S* b = B == nullptr ? nullptr : B->data();
  S* y = Y.data();
  [[maybe_unused]] const bool parallel =
      static_cast<std::int64_t>(A.Nnz()) * d >= detail::kParallelMultiplyAdds;
  FirstException errors;
#ifdef _OPENMP
#pragma omp parallel if (parallel)
#endif
  errors.Run([&] {
    const int parts = detail::ThreadCount();
    const int part = detail::ThreadId();
    const Index lo = detail::BalancedBoundary(A.Offsets(), part, parts);
    const Index hi = detail::BalancedBoundary(A.Offsets(), part + 1, parts);
    for (Index r = lo; r < hi; ++r) detail::PullRow(A, r, gamma, x, beta, b, y + r * d, d);
  });
  errors.Rethrow();
}

/// Y = Â X for all rows.
template <class S>
void Multiply(const NormalizedAdjacency<S>& A, const RowMatrix<S>& X, RowMatrix<S>& Y) {
  MultiplyAdd<S>(A, S(1), X, S(0), nullptr, Y);
}

/// Row-restricted pull: for each k, row r = rows[k] of (gamma Â X + beta B) is written to Y at
/// row k (kCompact, kCompactPrefix) or at row r (kByNode; Y must already be (n+m) x d); see
/// RowOutput. X and B are indexed by node and are read only on the neighbours of `rows`
/// admitted by `mask` (X) and on `rows` themselves (B), so they need be valid only there.
template <class S>
void MultiplyAddRows(const NormalizedAdjacency<S>& A, std::span<const Id> rows, S gamma,
                     const RowMatrix<S>& X, S beta, const RowMatrix<S>* B, RowMatrix<S>& Y,
                     RowOutput output, ColumnMask mask = {}) {
  const Index d = X.cols();
  const Index count = static_cast<Index>(rows.size());
  assert(&Y != &X && &Y != B);
  if (output == RowOutput::kCompact)
    Y.resize(count, d);
  else if (output == RowOutput::kCompactPrefix)
    assert(Y.rows() >= count && Y.cols() == d);
  else
    assert(Y.rows() == A.Nodes() && Y.cols() == d);
  const S* x = X.data();
  const S* b = B == nullptr ? nullptr : B->data();
  S* y = Y.data();
  const bool compact = output != RowOutput::kByNode;
  // Work estimate without a pass over the rows: average degree times row count.
  [[maybe_unused]] const bool parallel =
      A.Nodes() > 0 && count * (A.Nnz() / A.Nodes() + 1) * d >= detail::kParallelMultiplyAdds;
  // Each row is independent: any partition gives the same results.
  std::int64_t cost = 0;  // non-zeros + rows, for the partition (parallel runs only)
  if (parallel) {
    for (const Id r : rows) cost += static_cast<std::int64_t>(A.Neighbours(r).size()) + 1;
  }
  FirstException errors;
#ifdef _OPENMP
#pragma omp parallel if (parallel)
#endif
  errors.Run([&] {
    // Not parallel: a team of one, so ThreadCount() is 1 and the run is the whole list.
    const auto [first, last] = detail::BalancedListRange(A.Offsets(), rows, cost,
                                                         detail::ThreadId(), detail::ThreadCount());
    for (Index k = first; k < last; ++k) {
      const Index r = rows[static_cast<std::size_t>(k)];
      S* out = y + (compact ? k : r) * d;
      if (mask.bits != nullptr)
        detail::PullRow<S, true>(A, r, gamma, x, beta, b, out, d, mask);
      else
        detail::PullRow<S, false>(A, r, gamma, x, beta, b, out, d);
    }
  });
  errors.Rethrow();
}

/// Scatter (push) from source rows: for each s in `sources` and each neighbour r of s,
/// Y[row(r)] += gamma * Â_rs * X[s], with row(r) = position[r] (a compact output; every
/// neighbour must have position >= 0) or r when `position` is null. Because Â is symmetric
/// this is the product Â X for an X that is zero outside `sources`, at a cost of the sources'
/// non-zeros only. Threads own disjoint node ranges of the output, so each output row
/// receives its terms in the order of `sources` whatever the thread count.
template <class S>
void ScatterAddRows(const NormalizedAdjacency<S>& A, std::span<const Id> sources, S gamma,
                    const RowMatrix<S>& X, RowMatrix<S>& Y, const Id* position = nullptr) {
  using RowMap = Eigen::Map<Eigen::Matrix<S, 1, Eigen::Dynamic>>;
  using ConstRowMap = Eigen::Map<const Eigen::Matrix<S, 1, Eigen::Dynamic>>;
  const Index d = X.cols();
  assert(&Y != &X && Y.cols() == d);
  assert(position != nullptr || Y.rows() == A.Nodes());
  const S* x = X.data();
  S* y = Y.data();
  [[maybe_unused]] const bool parallel =
      A.Nodes() > 0 && static_cast<Index>(sources.size()) * (A.Nnz() / A.Nodes() + 1) * d >=
                           detail::kParallelMultiplyAdds;
  FirstException errors;
#ifdef _OPENMP
#pragma omp parallel if (parallel)
#endif
  errors.Run([&] {
    const int parts = detail::ThreadCount();
    const int part = detail::ThreadId();
    const Id lo = static_cast<Id>(detail::BalancedBoundary(A.Offsets(), part, parts));
    const Id hi = static_cast<Id>(detail::BalancedBoundary(A.Offsets(), part + 1, parts));
    for (const Id s : sources) {
      const auto cols = A.Neighbours(s);
      const auto vals = A.Weights(s);
      std::size_t begin = 0, end = cols.size();
      if (parts > 1) {
        // Columns are sorted: this thread's targets form one contiguous run.
        begin =
            static_cast<std::size_t>(std::lower_bound(cols.begin(), cols.end(), lo) - cols.begin());
        end = static_cast<std::size_t>(std::lower_bound(cols.begin() + begin, cols.end(), hi) -
                                       cols.begin());
      }
      if (begin == end) continue;
      const ConstRowMap xs(x + static_cast<Index>(s) * d, d);
      for (std::size_t k = begin; k < end; ++k) {
        const Index r = position == nullptr ? cols[k] : position[cols[k]];
        assert(r >= 0 && r < Y.rows());
        RowMap(y + r * d, d).noalias() += (gamma * vals[k]) * xs;
      }
    }
  });
  errors.Rethrow();
}

}  // namespace directspec
