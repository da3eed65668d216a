// Checks shared by the optimizers (Sgd, Adam): a learning rate that is usable in the table's
// scalar type, gradients whose shapes match the tables, and the optimizer kind of a checkpoint.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "directspec/core/argument_check.hpp"
#include "directspec/core/row_gradient.hpp"
#include "directspec/core/state_archive.hpp"
#include "directspec/core/types.hpp"

namespace directspec {

namespace detail {

/// The rate must be finite and positive both as given and in the table's scalar type: a float
/// table would step by inf for 1e300 and by 0 for 1e-50.
template <class S = double>
void CheckLearningRate(const char* who, double rate) {
  const S as_scalar = static_cast<S>(rate);
  CheckOption(rate > 0 && std::isfinite(rate) && as_scalar > S(0) && std::isfinite(as_scalar), who,
              "learning rate", rate, "must be finite and > 0 in the table's scalar type");
}

template <class S>
void CheckGradientShapes(const char* who, const std::vector<RowMatrix<S>*>& tables,
                         const std::vector<RowGradient<S>>& grads) {
  if (tables.size() != grads.size())
    ThrowInvalidArgument(who, std::to_string(tables.size()) + " tables but " +
                                  std::to_string(grads.size()) + " gradients");
  // RowGradient values may carry spare rows (capacity) but never fewer than Size().
  for (std::size_t t = 0; t < tables.size(); ++t)
    if (grads[t].Size() > 0 &&
        (grads[t].values.rows() < grads[t].Size() || grads[t].values.cols() != tables[t]->cols()))
      ThrowInvalidArgument(who, "gradient " + std::to_string(t) + " is " +
                                    std::to_string(grads[t].values.rows()) + " x " +
                                    std::to_string(grads[t].values.cols()) + " for " +
                                    std::to_string(grads[t].Size()) + " rows of a table with " +
                                    std::to_string(tables[t]->cols()) + " columns");
}

/// The optimizer kind recorded in a checkpoint must be this one.
inline void CheckStateKind(const StateArchive& archive, const std::string& prefix,
                           const std::string& kind) {
  const std::string& stored = archive.GetText(prefix + "kind");
  if (stored != kind)
    throw StateError("the state holds a '" + stored + "' optimizer, this run uses '" + kind + "'");
}

}  // namespace detail

}  // namespace directspec
