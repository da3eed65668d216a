// RowGradient: the gradient of one embedding table restricted to the rows a step touched.
// Encoders produce one per parameter table in Backward; optimizers consume them and update only
// those rows, so a step costs O(touched rows x d), not O(table).
#pragma once

#include <vector>

#include "directspec/core/types.hpp"

namespace directspec {

template <class Scalar>
struct RowGradient {
  std::vector<Id> rows;      // unique table rows, in the order of `values`
  RowMatrix<Scalar> values;  // rows.size() x d, the summed gradient of each row

  Index Size() const { return static_cast<Index>(rows.size()); }
  void Clear() {
    rows.clear();
    values.resize(0, values.cols());
  }
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
  out.values.setZero(static_cast<Index>(out.rows.size()), grads.cols());
  for (Index b = 0; b < count; ++b)
    out.values.row(slot[static_cast<std::size_t>(ids[b])]) += grads.row(b);
  for (Id r : out.rows) slot[static_cast<std::size_t>(r)] = -1;
}

}  // namespace directspec
