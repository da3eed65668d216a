// DirectAuLoss: the DirectAU baseline (docs/method.md#directau), alignment plus uniformity on the
// normalised rows:
//
//     L = mean_b ||x̂^U_b − x̂^I_b||² + γ (unif(X̂_U) + unif(X̂_I)) / 2,
//     unif(X̂) = log mean_{b≠j} exp(−t ||x̂_b − x̂_j||²).
//
// The trainer normalises rows before the loss (RowNormalizer), so this class uses its inputs as
// they are; its gradient is exact for any rows. Only the B positive item rows are used (negative
// rows get a zero gradient). The uniformity log-mean-exp subtracts its maximum exponent; with
// B < 2 there is no pair and unif is taken as 0 (no gradient).
#pragma once

#include <cmath>
#include <limits>

#include "directspec/core/argument_check.hpp"
#include "directspec/core/batch.hpp"
#include "directspec/core/types.hpp"

namespace directspec {

/// Alignment + uniformity loss.
///
///   DirectAuLoss<float> loss({.gamma = 1.0f, .temperature = 2.0f});
///   float value = loss.Evaluate(XUhat, XIhat, batch, GU, GI);
template <class S>
class DirectAuLoss {
 public:
  using Scalar = S;
  struct Options {
    S gamma = S(1);        // uniformity weight γ (DirectAU tunes it in [0.5, 5])
    S temperature = S(2);  // t of the uniformity term
  };

  DirectAuLoss() = default;
  explicit DirectAuLoss(const Options& options) : options_(options) {
    CheckOption(std::isfinite(options_.gamma), "DirectAuLoss", "gamma", options_.gamma,
                "must be finite");
    CheckOption(options_.temperature > S(0) && std::isfinite(options_.temperature), "DirectAuLoss",
                "temperature", options_.temperature, "must be finite and > 0");
  }

  /// Outputs must not alias inputs.
  S Evaluate(const RowMatrix<S>& OU, const RowMatrix<S>& OI, const Batch& /*batch*/,
             RowMatrix<S>& GU, RowMatrix<S>& GI) {
    const Index B = OU.rows();
    eigen_assert(OI.rows() >= B && OI.cols() == OU.cols());
    GU.resize(B, OU.cols());
    GI.setZero(OI.rows(), OI.cols());
    if (B == 0) return S(0);
    items_ = OI.topRows(B);
    const S inv_b = S(1) / static_cast<S>(B);
    const S alignment = (OU - items_).squaredNorm() * inv_b;
    GU = (S(2) * inv_b) * (OU - items_);
    GI.topRows(B) = -GU;
    const S half_gamma = options_.gamma / S(2);
    const S unif_u = Uniformity(OU, half_gamma, GU);
    grad_items_.setZero(B, OI.cols());
    const S unif_i = Uniformity(items_, half_gamma, grad_items_);
    GI.topRows(B) += grad_items_.topRows(B);
    return alignment + half_gamma * (unif_u + unif_i);
  }

  const Options& GetOptions() const { return options_; }

 private:
  /// Returns unif(X) and adds weight · d unif / dX to G (same shape as X).
  S Uniformity(const RowMatrix<S>& X, S weight, RowMatrix<S>& G) {
    const Index B = X.rows();
    if (B < 2) return S(0);
    const S t = options_.temperature;
    sq_ = X.rowwise().squaredNorm();
    q_.noalias() = X * X.transpose();
    // Exponents E_bj = −t ||x_b − x_j||², diagonal excluded.
    S top = -std::numeric_limits<S>::infinity();
    for (Index b = 0; b < B; ++b)
      for (Index j = 0; j < B; ++j) {
        const S e = -t * (sq_[b] + sq_[j] - S(2) * q_(b, j));
        q_(b, j) = e;
        if (j != b && e > top) top = e;
      }
    S total = S(0);
    for (Index b = 0; b < B; ++b)
      for (Index j = 0; j < B; ++j) {
        const S w = j == b ? S(0) : std::exp(q_(b, j) - top);
        q_(b, j) = w;
        total += w;
      }
    const S unif = top + std::log(total) - std::log(static_cast<S>(B) * static_cast<S>(B - 1));
    // d unif / dx_b = −4t (rowsum(Q)_b x_b − (Q X)_b), Q = w / total (each pair counted twice).
    q_ /= total;
    const S c = -S(4) * t * weight;
    sq_ = q_.rowwise().sum();
    G += c * (sq_.asDiagonal() * X);
    G.noalias() -= c * (q_ * X);
    return unif;
  }

  Options options_;
  RowMatrix<S> items_, grad_items_, q_;
  Vector<S> sq_;
};

}  // namespace directspec
