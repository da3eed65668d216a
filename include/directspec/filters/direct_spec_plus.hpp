// DirectSpecPlus: the self-paced spectrum filter (docs/method.md#directspec-plus), applied to one
// side's normalised batch X̂ between RowNormalizer and NormShrink:
//
//     P = softmax_row(τ X̂X̂ᵀ),   Y = X̂ − α P X̂.
//
// The self term (C_bb = 1) and duplicate batch rows stay in the softmax, as in the reference.
// The softmax subtracts each row's maximum, so any finite τ is safe. The kernel shared with
// AdaptiveDirectSpecPlus (per-pair temperatures) is detail::SoftmaxSpectrumKernel.
//
// Cost per call (forward + backward) is five B x B x d GEMMs, 10 B² d FLOP, plus three O(B²)
// passes: the fused softmax, the fused softmax backward and a tiled in-place symmetrisation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "directspec/core/argument_check.hpp"
#include "directspec/core/bit_set.hpp"
#include "directspec/core/types.hpp"
#include "directspec/filters/filter_context.hpp"
#include "directspec/filters/shared_neighbours.hpp"

namespace directspec {
namespace detail {

/// W <- W + Wᵀ in place, in square tiles so both the row and the transposed column accesses
/// stay in L1 (Eigen's plain `W + W.transpose()` walks a B-strided column per row: at B = 256 it
/// cost as much as one of the GEMMs). The tile shrinks for power-of-two row strides, whose
/// column walks all land in one L1 set (8 ways): 32 rows at 1 KB, 16 at 2 KB, 8 from 4 KB up.
template <class S>
void SymmetrizeInPlace(RowMatrix<S>& w) {
  const Index n = w.rows();
  const Index stride = std::max<Index>(n * static_cast<Index>(sizeof(S)), 1);
  const Index kTile = std::clamp<Index>(8 * 4096 / stride, 8, 32);
  for (Index i0 = 0; i0 < n; i0 += kTile) {
    const Index i1 = std::min(i0 + kTile, n);
    for (Index i = i0; i < i1; ++i) {
      w(i, i) *= S(2);
      for (Index j = i + 1; j < i1; ++j) w(i, j) = w(j, i) = w(i, j) + w(j, i);
    }
    for (Index j0 = i1; j0 < n; j0 += kTile) {
      const Index j1 = std::min(j0 + kTile, n);
      for (Index i = i0; i < i1; ++i)
        for (Index j = j0; j < j1; ++j) w(i, j) = w(j, i) = w(i, j) + w(j, i);
    }
  }
}

/// Y = X̂ − α softmax_row(T ⊙ X̂X̂ᵀ) X̂ where T_ab = τ for every pair, or, given a share mask,
/// τ0 for the pairs whose bit is set and τ1 (`tau`) elsewhere. The mask must be symmetric (it is:
/// sharing a neighbour is symmetric), which the backward formula below relies on. Pair
/// temperatures are applied sparsely — τ1 inside the GEMM (or the softmax-backward constant),
/// then the set bits rescaled to τ0 — so no dense B x B temperature matrix is built, stored or
/// read.
template <class S>
class SoftmaxSpectrumKernel {
 public:
  /// `shared` is null for one temperature `tau`. Y may be the same object as Xhat.
  void Forward(const RowMatrix<S>& Xhat, S alpha, S tau, const SharedNeighbours* shared, S tau0,
               RowMatrix<S>& Y) {
    x_ = Xhat;
    const Index B = x_.rows();
    p_.resize(B, B);
    held_.reserve(static_cast<std::size_t>(B));
    where_.reserve(static_cast<std::size_t>(B));
    // Z = τ X̂X̂ᵀ with the scale folded into the GEMM (with a mask: τ1, and the set bits are
    // rescaled afterwards, so no extra pass over Z). A plain GEMM beat the symmetric
    // rankUpdate (half the FLOP) by 2-4x at these shapes, see bench_filters BM_Gram*.
    p_.noalias() = FoldedScale(shared, tau) * (x_ * x_.transpose());
    for (Index b = 0; b < B; ++b) {
      auto z = p_.row(b).array();
      ApplyMask(z, shared, b, tau0, tau);
      const S top = z.maxCoeff();
      z = (z - top).exp();
      z *= S(1) / z.sum();  // the max entry contributes exp(0) = 1, so the sum is >= 1
    }
    Y = x_;
    Y.noalias() -= alpha * (p_ * x_);
  }

  /// G_X̂ = G − α PᵀG + (G_C + G_Cᵀ) X̂ with W = G X̂ᵀ, r = rowsum(P ⊙ W),
  /// G_C = −α T ⊙ P ⊙ (W − r 1ᵀ). GXhat may be the same object as GY.
  void Backward(const RowMatrix<S>& GY, S alpha, S tau, const SharedNeighbours* shared, S tau0,
                RowMatrix<S>& GXhat) {
    const RowMatrix<S>* g = &GY;
    if (&GXhat == &GY) {
      g_ = GY;
      g = &g_;
    }
    const Index B = x_.rows();
    w_.resize(B, B);
    w_.noalias() = (*g) * x_.transpose();
    for (Index b = 0; b < B; ++b) {  // fused softmax backward, one row at a time
      auto w = w_.row(b).array();
      const auto p = p_.row(b).array();
      const S r = (p * w).sum();
      w = (-alpha * FoldedScale(shared, tau)) * p * (w - r);
      ApplyMask(w, shared, b, tau0, tau);
    }
    SymmetrizeInPlace(w_);  // G_C + G_Cᵀ
    GXhat = *g;
    GXhat.noalias() -= alpha * (p_.transpose() * (*g));
    GXhat.noalias() += w_ * x_;
  }

  /// The softmax weights of the last Forward (rows sum to one).
  const RowMatrix<S>& Weights() const { return p_; }

 private:
  /// The temperature applied to every pair inside a vectorised product: τ, or with a mask τ1
  /// unless τ1 = 0 (which cannot be divided out afterwards; then 1).
  static S FoldedScale(const SharedNeighbours* shared, S tau) {
    return shared == nullptr || tau != S(0) ? tau : S(1);
  }

  /// Turns row b, scaled by FoldedScale, into row b scaled by its pair temperatures.
  template <class Row>
  void ApplyMask(Row z, const SharedNeighbours* shared, Index b, S tau0, S tau) {
    if (shared == nullptr) return;
    if (tau != S(0))
      RescaleBits(&z(0), shared->Row(b), shared->Words(), tau0 / tau);
    else
      KeepSetBits(z, shared->Row(b), shared->Words(), tau0);
  }

  /// row_j *= ratio for the set bits j (typically a few percent of the row).
  static void RescaleBits(S* row, const std::uint64_t* bits, Index words, S ratio) {
    ForEachSetBit(bits, static_cast<std::size_t>(words), [&](std::size_t j) { row[j] *= ratio; });
  }

  /// The τ1 = 0 case, where τ1 cannot be folded in and divided out: z_j *= τ0 where bit j is
  /// set, z_j = 0 elsewhere. The set entries are kept aside while the row is cleared.
  template <class Row>
  void KeepSetBits(Row z, const std::uint64_t* bits, Index words, S tau0) {
    S* row = &z(0);
    held_.clear();
    where_.clear();
    ForEachSetBit(bits, static_cast<std::size_t>(words), [&](std::size_t j) {
      held_.push_back(row[j] * tau0);
      where_.push_back(static_cast<Index>(j));
    });
    z.setZero();
    for (std::size_t t = 0; t < where_.size(); ++t) row[where_[t]] = held_[t];
  }

  RowMatrix<S> x_, p_, w_, g_;
  std::vector<S> held_;
  std::vector<Index> where_;
};

}  // namespace detail

/// Self-paced spectrum filter with one temperature.
///
///   DirectSpecPlus<float> filter({.alpha = 1.0f, .tau = 3.0f});
///   filter.Forward(Xhat, ctx, Y);     // Y = X̂ − α softmax_row(τ X̂X̂ᵀ) X̂
///   filter.Backward(GY, GXhat);       // gradient for the last Forward
template <class S>
class DirectSpecPlus {
 public:
  using Scalar = S;
  struct Options {
    S alpha = S(1);  // step size α of the uniformity step
    S tau = S(3);    // inverse temperature τ multiplying the cosine (reference 3 or 4)
  };

  DirectSpecPlus() = default;
  explicit DirectSpecPlus(const Options& options) : options_(options) {
    CheckOption(std::isfinite(options_.alpha), "DirectSpecPlus", "alpha", options_.alpha,
                "must be finite");
    CheckOption(std::isfinite(options_.tau), "DirectSpecPlus", "tau", options_.tau,
                "must be finite");
  }

  void Forward(const RowMatrix<S>& Xhat, const FilterContext& /*ctx*/, RowMatrix<S>& Y) {
    kernel_.Forward(Xhat, options_.alpha, options_.tau, nullptr, S(0), Y);
  }
  void Backward(const RowMatrix<S>& GY, RowMatrix<S>& GXhat) {
    kernel_.Backward(GY, options_.alpha, options_.tau, nullptr, S(0), GXhat);
  }

  /// P of the last Forward, for diagnostics and tests.
  const RowMatrix<S>& Weights() const { return kernel_.Weights(); }
  const Options& GetOptions() const { return options_; }

 private:
  Options options_;
  detail::SoftmaxSpectrumKernel<S> kernel_;
};

}  // namespace directspec
