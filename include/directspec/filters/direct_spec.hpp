// DirectSpec: the linear all-pass spectrum filter (docs/method.md#directspec), applied to one
// side's normalised batch X̂ between RowNormalizer and NormShrink:
//
//     Y = X̂ − (α/B) X̂ X̂ᵀ X̂.
//
// With X̂ = U Σ Vᵀ, Y = U (Σ − (α/B) Σ³) Vᵀ: singular vectors are kept and each singular value σ
// maps to σ(1 − (α/B)σ²). The product is associated whichever way is cheaper, both exact:
// X̂ (X̂ᵀX̂) in O(B d²) when d < B, (X̂ X̂ᵀ) X̂ in O(B² d) otherwise.
#pragma once

#include <cmath>

#include "directspec/core/argument_check.hpp"
#include "directspec/core/types.hpp"
#include "directspec/filters/filter_context.hpp"

namespace directspec {

/// Linear spectrum filter. Workspaces live in the object and are reused across steps.
///
///   DirectSpec<float> filter({.alpha = 1.0f});
///   filter.Forward(Xhat, ctx, Y);     // Y = X̂ − (α/B) X̂X̂ᵀX̂
///   filter.Backward(GY, GXhat);       // gradient for the last Forward
template <class S>
class DirectSpec {
 public:
  using Scalar = S;
  struct Options {
    S alpha = S(1);  // filter strength α (the 1/B factor is applied inside)
  };

  DirectSpec() = default;
  explicit DirectSpec(const Options& options) : options_(options) {
    CheckOption(std::isfinite(options_.alpha), "DirectSpec", "alpha", options_.alpha,
                "must be finite");
  }

  /// Y may be the same object as Xhat.
  void Forward(const RowMatrix<S>& Xhat, const FilterContext& /*ctx*/, RowMatrix<S>& Y) {
    x_ = Xhat;
    const Index B = x_.rows();
    const S c = B > 0 ? options_.alpha / static_cast<S>(B) : S(0);
    gram_on_features_ = x_.cols() < B;
    Y = x_;
    if (gram_on_features_) {
      k_.noalias() = x_.transpose() * x_;  // d x d
      Y.noalias() -= c * (x_ * k_);
    } else {
      k_.noalias() = x_ * x_.transpose();  // B x B
      Y.noalias() -= c * (k_ * x_);
    }
  }

  /// GXhat may be the same object as GY.
  ///   d < B:  G_X̂ = G − (α/B) (G K + X̂ (H + Hᵀ)),  K = X̂ᵀX̂, H = X̂ᵀG   (all d x d)
  ///   else:   G_X̂ = G − (α/B) ((W + Wᵀ) X̂ + C G),  C = X̂X̂ᵀ, W = G X̂ᵀ  (all B x B)
  void Backward(const RowMatrix<S>& GY, RowMatrix<S>& GXhat) {
    const RowMatrix<S>* g = &GY;
    if (&GXhat == &GY) {
      g_ = GY;
      g = &g_;
    }
    const Index B = x_.rows();
    const S c = B > 0 ? options_.alpha / static_cast<S>(B) : S(0);
    GXhat = *g;
    if (gram_on_features_) {
      h_.noalias() = x_.transpose() * (*g);
      hs_ = h_ + h_.transpose();
      GXhat.noalias() -= c * ((*g) * k_);
      GXhat.noalias() -= c * (x_ * hs_);
    } else {
      h_.noalias() = (*g) * x_.transpose();
      hs_ = h_ + h_.transpose();
      GXhat.noalias() -= c * (hs_ * x_);
      GXhat.noalias() -= c * (k_ * (*g));
    }
  }

  const Options& GetOptions() const { return options_; }

 private:
  Options options_;
  bool gram_on_features_ = true;
  RowMatrix<S> x_, k_, h_, hs_, g_;
};

}  // namespace directspec
