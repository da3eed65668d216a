// Weight decay on a batch's parameter rows (classic LightGCN / BPR weight decay), shared by
// the encoders' AddWeightDecay: it runs after Backward and adds its gradient into the encoder's
// RowGradients before the optimizer sees them.
#pragma once

#include <cassert>
#include <span>
#include <vector>

#include "directspec/core/row_gradient.hpp"
#include "directspec/core/types.hpp"

namespace directspec::detail {

/// For each occurrence of a table row in `ids` (ids may repeat): returns the sum over
/// occurrences of ||table.row(id)||^2 and adds coeff * table.row(id) to that row of `grad`,
/// appending the row (zero-initialised) when the RowGradient lacks it. `slot` is a workspace of
/// one entry per table row, all -1 on entry and on exit.
template <class S>
S AddRowsWeightDecay(const RowMatrix<S>& table, std::span<const Id> ids, S coeff,
                     RowGradient<S>& grad, std::vector<Id>& slot) {
  constexpr Id kWanted = -2;
  const Index d = table.cols();
  if (grad.rows.empty() && grad.values.cols() != d) grad.values.resize(0, d);
  assert(grad.values.cols() == d && grad.values.rows() >= grad.Size());
  for (Id id : ids) slot[static_cast<std::size_t>(id)] = kWanted;
  // Locate the wanted rows already in the gradient (one pass over its rows, no hash map).
  for (Index k = 0; k < grad.Size(); ++k) {
    Id& s = slot[static_cast<std::size_t>(grad.rows[static_cast<std::size_t>(k)])];
    if (s == kWanted) s = static_cast<Id>(k);
  }
  const Index old_rows = grad.Size();
  Index missing = 0;
  for (Id id : ids) {
    Id& s = slot[static_cast<std::size_t>(id)];
    if (s == kWanted) {
      s = static_cast<Id>(old_rows + missing++);
      grad.rows.push_back(id);
    }
  }
  if (missing > 0) {
    grad.Reserve(old_rows + missing, d, /*keep_values=*/true);  // the first old_rows survive
    grad.values.middleRows(old_rows, missing).setZero();
  }
  S sum = 0;
  for (Id id : ids) {
    const auto row = table.row(id);
    sum += row.squaredNorm();
    grad.values.row(slot[static_cast<std::size_t>(id)]) += coeff * row;
  }
  for (Id id : ids) slot[static_cast<std::size_t>(id)] = -1;
  return sum;
}

}  // namespace directspec::detail
