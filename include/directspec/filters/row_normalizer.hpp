// RowNormalizer: the first stage after the encoder, X -> X̂ with every row scaled to unit L2 norm
// (docs/method.md#row-normaliser). All spectrum filters act on X̂, so the loss depends only on
// directions.
//
// Zero and tiny rows: x̂_b = x_b / max(||x_b||, epsilon) (the same rule as PyTorch's
// F.normalize), so a zero row maps to a zero row and nothing is ever NaN. Below epsilon the map is
// linear (x / epsilon) and its backward is G / epsilon.
#pragma once

#include <algorithm>
#include <cmath>

#include "directspec/core/argument_check.hpp"
#include "directspec/core/types.hpp"

namespace directspec {

/// Row-wise L2 normalisation with its backward pass.
///
///   RowNormalizer<float> norm;
///   norm.Forward(XU, XUhat);          // XUhat rows have unit norm (zero rows stay zero)
///   ...
///   norm.Backward(GXUhat, GXU);       // G_x = (G_x̂ − (x̂·G_x̂) x̂) / ||x||
template <class S>
class RowNormalizer {
 public:
  using Scalar = S;
  struct Options {
    /// Rows with norm below epsilon are divided by epsilon instead of their norm.
    S epsilon = S(1e-12);
  };

  RowNormalizer() = default;
  explicit RowNormalizer(const Options& options) : options_(options) {
    CheckOption(options_.epsilon > S(0) && std::isfinite(options_.epsilon), "RowNormalizer",
                "epsilon", options_.epsilon, "must be finite and > 0");
  }

  /// Xhat may be the same object as X.
  void Forward(const RowMatrix<S>& X, RowMatrix<S>& Xhat) {
    const Index rows = X.rows();
    norms_.resize(rows);
    inverse_.resize(rows);
    for (Index b = 0; b < rows; ++b) {
      norms_[b] = X.row(b).norm();
      inverse_[b] = S(1) / std::max(norms_[b], options_.epsilon);
    }
    Xhat.resize(rows, X.cols());
    Xhat = inverse_.asDiagonal() * X;
    xhat_ = Xhat;
  }

  /// Gradient w.r.t. the X of the last Forward. GX may be the same object as GXhat.
  void Backward(const RowMatrix<S>& GXhat, RowMatrix<S>& GX) {
    const Index rows = xhat_.rows();
    GX.resize(rows, xhat_.cols());
    for (Index b = 0; b < rows; ++b) {
      if (norms_[b] > options_.epsilon) {
        const S radial = xhat_.row(b).dot(GXhat.row(b));
        GX.row(b) = (GXhat.row(b) - radial * xhat_.row(b)) * inverse_[b];
      } else {
        GX.row(b) = GXhat.row(b) * inverse_[b];
      }
    }
  }

  /// ||x_b|| of the last Forward's rows (before clamping to epsilon).
  const Vector<S>& Norms() const { return norms_; }
  const Options& GetOptions() const { return options_; }

 private:
  Options options_;
  Vector<S> norms_;
  Vector<S> inverse_;
  RowMatrix<S> xhat_;
};

}  // namespace directspec
