// LogLoss: the paper's positive-only objective (docs/method.md#log-loss), the last stage of a
// DirectSpec(+) step: L = −(1/B) Σ_b log σ(o^U_b · o^I_b) over the B (user, positive) rows.
// There are no negatives — the repulsion comes from the filters — so negative item rows, if the
// batch has any, are ignored and get a zero gradient.
#pragma once

#include "directspec/core/batch.hpp"
#include "directspec/core/types.hpp"
#include "directspec/losses/log_sigmoid.hpp"

namespace directspec {

/// Positive-only log loss.
///
///   LogLoss<float> loss;
///   float value = loss.Evaluate(OU, OI, batch, GU, GI);   // GU, GI = dL/dOU, dL/dOI
template <class S>
class LogLoss {
 public:
  using Scalar = S;
  struct Options {};

  LogLoss() = default;
  explicit LogLoss(const Options&) {}

  /// OU: B x d, OI: (B + B k) x d with the positives first. Outputs must not alias inputs.
  S Evaluate(const RowMatrix<S>& OU, const RowMatrix<S>& OI, const Batch& /*batch*/,
             RowMatrix<S>& GU, RowMatrix<S>& GI) {
    const Index B = OU.rows();
    eigen_assert(OI.rows() >= B && OI.cols() == OU.cols());
    GU.resize(B, OU.cols());
    GI.setZero(OI.rows(), OI.cols());
    if (B == 0) return S(0);
    const S inv_b = S(1) / static_cast<S>(B);
    S loss = S(0);
    for (Index b = 0; b < B; ++b) {
      const S z = OU.row(b).dot(OI.row(b));
      loss -= LogSigmoid(z);
      const S g = -inv_b * Sigmoid(-z);  // d/dz of −(1/B) log σ(z)
      GU.row(b) = g * OI.row(b);
      GI.row(b) = g * OU.row(b);
    }
    return loss * inv_b;
  }
};

}  // namespace directspec
