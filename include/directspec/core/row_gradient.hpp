// RowGradient: the gradient of one embedding table restricted to the rows a step touched.
// Encoders produce one per parameter table in Backward; optimizers consume them and update only
// those rows, so a step costs O(touched rows x d), not O(table).
//
// The values keep their capacity between steps: the touched-row count changes every step, and
// reallocating a block of |rows| x d (18 MB for a LightGCN neighbourhood on Gowalla) each time
// made glibc hand back fresh pages, hundreds of page faults per step (docs/performance.md).
#pragma once

#include <algorithm>
#include <vector>

#include "directspec/core/types.hpp"

namespace directspec {

template <class Scalar>
struct RowGradient {
  /// Unique table rows, in the order of `values`.
  std::vector<Id> rows;
  /// values.row(k), k < Size(), is the summed gradient of table row rows[k]. Rows from Size() on
  /// are spare capacity kept between steps and hold nothing meaningful, so the contract is
  /// values.rows() >= Size() (optimizers check it) and values.cols() = d.
  RowMatrix<Scalar> values;

  Index Size() const { return static_cast<Index>(rows.size()); }
  /// The meaningful block, Size() x d.
  auto Values() { return values.topRows(Size()); }
  auto Values() const { return values.topRows(Size()); }

  /// Makes `values` hold at least `count` rows of width d. Reallocates only when the capacity or
  /// the width is too small, then with 1/8 to spare; with keep_values the rows already there
  /// survive a reallocation.
  void Reserve(Index count, Index d, bool keep_values = false) {
    if (values.cols() == d && values.rows() >= count) return;
    const Index capacity = count + count / 8;
    if (keep_values && values.cols() == d)
      values.conservativeResize(capacity, d);
    else
      values.resize(capacity, d);
  }
  /// No rows; the capacity is kept.
  void Clear() { rows.clear(); }
};

/// Sums gradient rows that share a table row: out.rows lists each distinct id once, in order of
/// first appearance, and out.values[k] is the sum of grads[b] over b with ids[b] == out.rows[k].
/// `slot` is a caller-owned workspace with one entry per table row, all -1 on entry and exit.
template <class Scalar, class Ids, class Grads>
void AccumulateRows(const Ids& ids, const Grads& grads, std::vector<Id>& slot,
                    RowGradient<Scalar>& out) {
  out.rows.clear();
  const Index count = static_cast<Index>(ids.size());
  for (Index b = 0; b < count; ++b) {
    Id& s = slot[static_cast<std::size_t>(ids[b])];
    if (s < 0) {
      s = static_cast<Id>(out.rows.size());
      out.rows.push_back(ids[b]);
    }
  }
  out.Reserve(count, grads.cols());  // ids.size() bounds the distinct rows: no regrowth
  out.Values().setZero();
  for (Index b = 0; b < count; ++b)
    out.values.row(slot[static_cast<std::size_t>(ids[b])]) += grads.row(b);
  for (Id r : out.rows) slot[static_cast<std::size_t>(r)] = -1;
}

}  // namespace directspec
