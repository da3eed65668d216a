// WithOutputL2: a loss combinator adding the output L2, a penalty on the rows the loss scores
// (the reference LightGCN script's `reg`, docs/method.md#output-l2; CLI --output-l2):
//
//     L' = L + (output_l2 / B) Σ_rows (||o^U||² + ||o^I||²)   over every row of OU and OI,
//
// B = OU.rows() (the batch size). With positives only this is the peer's
// `reg / B * o.pow(2).sum()` (reg = output_l2) over the stacked (2, B, d) outputs; with negatives
// their rows count too. It penalises the filtered, shrunk outputs, not the parameters (that is the
// weight decay, Trainer::Options::weight_decay).
#pragma once

#include <cmath>
#include <utility>

#include "directspec/core/argument_check.hpp"
#include "directspec/core/batch.hpp"
#include "directspec/core/types.hpp"

namespace directspec {

/// Wraps any loss policy and adds the output penalty.
///
///   WithOutputL2<LogLoss<float>> loss({.output_l2 = 0.01f});
///   float value = loss.Evaluate(OU, OI, batch, GU, GI);   // log loss + (output_l2/B) Σ ||o||²
template <class Loss>
class WithOutputL2 {
 public:
  using Scalar = typename Loss::Scalar;
  using S = Scalar;
  struct Options {
    S output_l2 = S(0.01);  // reference LightGCN script value
  };

  WithOutputL2() = default;
  explicit WithOutputL2(const Options& options, Loss inner = Loss())
      : options_(options), inner_(std::move(inner)) {
    CheckOption(options_.output_l2 >= S(0) && std::isfinite(options_.output_l2), "WithOutputL2",
                "output_l2", options_.output_l2, "must be finite and >= 0");
  }

  S Evaluate(const RowMatrix<S>& OU, const RowMatrix<S>& OI, const Batch& batch, RowMatrix<S>& GU,
             RowMatrix<S>& GI) {
    S loss = inner_.Evaluate(OU, OI, batch, GU, GI);
    const Index B = OU.rows();
    if (B == 0 || options_.output_l2 == S(0)) return loss;
    const S c = options_.output_l2 / static_cast<S>(B);
    loss += c * (OU.squaredNorm() + OI.squaredNorm());
    GU += (S(2) * c) * OU;
    GI += (S(2) * c) * OI;
    return loss;
  }

  Loss& Inner() { return inner_; }
  const Loss& Inner() const { return inner_; }
  const Options& GetOptions() const { return options_; }

 private:
  Options options_;
  Loss inner_;
};

}  // namespace directspec
