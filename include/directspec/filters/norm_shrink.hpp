// NormShrink: the optional stage between the filter and the loss (docs/method.md#norm-shrink),
// o_b = y_b · (s ||y_b||), so ||o_b|| = s ||y_b||². It is not a rescale to a fixed norm: the
// gradient flows through the factor. s = 0 switches it off (o = y, a plain copy).
#pragma once

#include <cmath>

#include "directspec/core/argument_check.hpp"
#include "directspec/core/types.hpp"

namespace directspec {

/// Norm-dependent shrink of the filtered rows.
///
///   NormShrink<float> shrink({.strength = 0.03f});
///   shrink.Forward(Y, O);             // o_b = s ||y_b|| y_b
///   shrink.Backward(GO, GY);          // G_y = s (||y|| G_o + (y·G_o) y / ||y||)
template <class S>
class NormShrink {
 public:
  using Scalar = S;
  struct Options {
    /// Shrink strength; 0 = off. Reference: 0.03 (CiteULike), 0.02 (Gowalla), 0 (Yelp).
    S strength = S(0);  // s of the method: 0 switches the stage off
  };

  NormShrink() = default;
  explicit NormShrink(const Options& options) : options_(options) {
    CheckOption(options_.strength >= S(0) && std::isfinite(options_.strength), "NormShrink",
                "strength", options_.strength, "must be finite and >= 0");
  }

  bool Enabled() const { return options_.strength > S(0); }

  /// O may be the same object as Y.
  void Forward(const RowMatrix<S>& Y, RowMatrix<S>& O) {
    if (!Enabled()) {
      if (&O != &Y) O = Y;
      return;
    }
    y_ = Y;
    norms_.resize(Y.rows());
    O.resize(Y.rows(), Y.cols());
    for (Index b = 0; b < Y.rows(); ++b) {
      norms_[b] = y_.row(b).norm();
      O.row(b) = y_.row(b) * (options_.strength * norms_[b]);
    }
  }

  /// GY may be the same object as GO. A zero row gets a zero gradient (the limit as y -> 0).
  void Backward(const RowMatrix<S>& GO, RowMatrix<S>& GY) {
    if (!Enabled()) {
      if (&GY != &GO) GY = GO;
      return;
    }
    GY.resize(y_.rows(), y_.cols());
    for (Index b = 0; b < y_.rows(); ++b) {
      const S q = norms_[b];
      if (q > S(0)) {
        const S radial = y_.row(b).dot(GO.row(b)) / q;
        GY.row(b) = options_.strength * (q * GO.row(b) + radial * y_.row(b));
      } else {
        GY.row(b).setZero();
      }
    }
  }

  const Options& GetOptions() const { return options_; }

 private:
  Options options_;
  RowMatrix<S> y_;
  Vector<S> norms_;
};

}  // namespace directspec
