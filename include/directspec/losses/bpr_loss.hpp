// BprLoss: Bayesian personalised ranking with sampled negatives (docs/method.md#bpr), the
// standard baseline loss. With k negatives per positive and scores s_ui = o^U_u · o^I_i:
//
//     L = −(1 / (B k)) Σ_b Σ_{r<k} log σ(s_{b,pos} − s_{b,neg r}),
//
// the mean over all B·k (positive, negative) pairs, so the scale does not depend on k (k = 1 is
// the usual −(1/B) Σ_b log σ(s_ui − s_uj)). L2 on parameter rows is not part of the loss (it
// belongs to the encoder or the optimiser); WithOutputL2 adds a penalty on the scored rows.
#pragma once

#include <stdexcept>
#include <string>

#include "directspec/core/argument_check.hpp"
#include "directspec/core/batch.hpp"
#include "directspec/core/types.hpp"
#include "directspec/losses/log_sigmoid.hpp"

namespace directspec {

/// BPR over B positives and B k negatives (OI rows: positives, then row b's negatives at
/// B + b k ... B + b k + k − 1, see Batch).
///
///   BprLoss<float> loss;
///   float value = loss.Evaluate(OU, OI, batch, GU, GI);
template <class S>
class BprLoss {
 public:
  using Scalar = S;
  struct Options {};

  BprLoss() = default;
  explicit BprLoss(const Options&) {}

  /// Throws std::invalid_argument if the batch has no negatives. Outputs must not alias inputs.
  S Evaluate(const RowMatrix<S>& OU, const RowMatrix<S>& OI, const Batch& batch, RowMatrix<S>& GU,
             RowMatrix<S>& GI) {
    const Index B = OU.rows();
    const Index k = batch.negatives_per_positive;
    CheckOption(k > 0, "BprLoss", "batch.negatives_per_positive", k,
                "must be >= 1: BPR compares each positive with sampled negatives");
    eigen_assert(OI.rows() == B * (1 + k) && OI.cols() == OU.cols());
    GU.setZero(B, OU.cols());
    GI.setZero(OI.rows(), OI.cols());
    if (B == 0) return S(0);
    const S inv = S(1) / static_cast<S>(B * k);
    S loss = S(0);
    for (Index b = 0; b < B; ++b) {
      const S positive = OU.row(b).dot(OI.row(b));
      for (Index r = 0; r < k; ++r) {
        const Index j = B + b * k + r;
        const S margin = positive - OU.row(b).dot(OI.row(j));
        loss -= LogSigmoid(margin);
        const S g = -inv * Sigmoid(-margin);  // d/d margin
        GU.row(b) += g * (OI.row(b) - OI.row(j));
        GI.row(b) += g * OU.row(b);
        GI.row(j) = -g * OU.row(b);
      }
    }
    return loss * inv;
  }
};

}  // namespace directspec
