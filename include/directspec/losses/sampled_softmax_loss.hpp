// SampledSoftmaxLoss: sampled softmax / InfoNCE with in-batch negatives
// (docs/method.md#sampled-softmax), a baseline loss. With cosine scores c_bj = x̂^U_b · x̂^I_j over
// the B positive item rows and temperature T:
//
//     L = −(1/B) Σ_b log( exp(c_bb / T) / Σ_j exp(c_bj / T) ).
//
// The cosine is computed inside (RowNormalizer rules: zero rows stay zero), so the loss is right
// whether or not the trainer normalised first. Duplicate positives in a batch stay in the
// denominator as (false) negatives, as in the usual in-batch formulation. Negative item rows, if
// the batch has any, are ignored and get a zero gradient.
#pragma once

#include <cmath>

#include "directspec/core/argument_check.hpp"
#include "directspec/core/batch.hpp"
#include "directspec/core/types.hpp"
#include "directspec/filters/row_normalizer.hpp"

namespace directspec {

/// In-batch sampled softmax on cosine scores.
///
///   SampledSoftmaxLoss<float> loss({.temperature = 0.1f});
///   float value = loss.Evaluate(OU, OI, batch, GU, GI);
template <class S>
class SampledSoftmaxLoss {
 public:
  using Scalar = S;
  struct Options {
    S temperature = S(0.1);  // T: scores are cosine / T
  };

  SampledSoftmaxLoss() = default;
  explicit SampledSoftmaxLoss(const Options& options) : options_(options) {
    CheckOption(options_.temperature > S(0) && std::isfinite(options_.temperature),
                "SampledSoftmaxLoss", "temperature", options_.temperature,
                "must be finite and > 0");
  }

  /// Outputs must not alias inputs.
  S Evaluate(const RowMatrix<S>& OU, const RowMatrix<S>& OI, const Batch& /*batch*/,
             RowMatrix<S>& GU, RowMatrix<S>& GI) {
    const Index B = OU.rows();
    eigen_assert(OI.rows() >= B && OI.cols() == OU.cols());
    GI.setZero(OI.rows(), OI.cols());
    if (B == 0) {
      GU.resize(0, OU.cols());
      return S(0);
    }
    items_ = OI.topRows(B);
    user_norm_.Forward(OU, u_);
    item_norm_.Forward(items_, i_);
    const S inv_t = S(1) / options_.temperature;
    p_.noalias() = inv_t * (u_ * i_.transpose());
    S loss = S(0);
    const S inv_b = S(1) / static_cast<S>(B);
    for (Index b = 0; b < B; ++b) {
      auto z = p_.row(b).array();
      const S top = z.maxCoeff();
      const S diagonal = z(b);
      z = (z - top).exp();
      const S total = z.sum();
      loss += top + std::log(total) - diagonal;  // −log softmax_bb
      z *= inv_b / total;                        // dL/dz_bj = (P_bj − δ_bj) / B
      z(b) -= inv_b;
    }
    p_ *= inv_t;  // dL/dc
    gu_hat_.noalias() = p_ * i_;
    gi_hat_.noalias() = p_.transpose() * u_;
    user_norm_.Backward(gu_hat_, GU);
    item_norm_.Backward(gi_hat_, gi_);
    GI.topRows(B) = gi_;
    return loss * inv_b;
  }

  const Options& GetOptions() const { return options_; }

 private:
  Options options_;
  RowNormalizer<S> user_norm_, item_norm_;
  RowMatrix<S> items_, u_, i_, p_, gu_hat_, gi_hat_, gi_;
};

}  // namespace directspec
