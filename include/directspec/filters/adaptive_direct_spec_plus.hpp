// AdaptiveDirectSpecPlus: DirectSpecPlus with two temperatures
// (docs/method.md#adaptive-directspec-plus). Pairs of batch rows that share at least one neighbour
// in ctx.neighbours (users with a common train item, items with a common train user) get τ0, all
// other pairs τ1, and the diagonal always τ0:
//
//     P = softmax_row(T ⊙ X̂X̂ᵀ),  T_ab = τ0 if a = b or rows a, b share a neighbour, else τ1,
//     Y = X̂ − α P X̂.
//
// The share mask is rebuilt from the sparse adjacency every Forward (SharedNeighbours, B²/8
// bytes): O(nnz + B²) memory, never an n x n or m x m mask, and T is never materialised. Duplicate
// ids with at least one neighbour share (they have the same neighbours); two copies of a
// neighbourless id do not, apart from each row's diagonal.
#pragma once

#include <cmath>
#include <cstdint>

#include "directspec/core/argument_check.hpp"
#include "directspec/core/types.hpp"
#include "directspec/filters/direct_spec_plus.hpp"
#include "directspec/filters/filter_context.hpp"
#include "directspec/filters/shared_neighbours.hpp"

namespace directspec {

/// Self-paced spectrum filter with per-pair temperatures from the interaction graph.
///
///   AdaptiveDirectSpecPlus<float> filter({.alpha = 1.0f, .tau0 = 2.5f, .tau1 = 3.0f});
///   filter.Forward(Xhat, FilterContext{batch.users, train.View()}, Y);
///   filter.Backward(GY, GXhat);
template <class S>
class AdaptiveDirectSpecPlus {
 public:
  using Scalar = S;
  struct Options {
    S alpha = S(1);   // step size α
    S tau0 = S(2.5);  // temperature of pairs sharing a neighbour (and of the diagonal)
    S tau1 = S(3);    // temperature of all other pairs
  };

  AdaptiveDirectSpecPlus() = default;
  explicit AdaptiveDirectSpecPlus(const Options& options) : options_(options) {
    CheckOption(std::isfinite(options_.alpha), "AdaptiveDirectSpecPlus", "alpha", options_.alpha,
                "must be finite");
    CheckOption(std::isfinite(options_.tau0), "AdaptiveDirectSpecPlus", "tau0", options_.tau0,
                "must be finite");
    CheckOption(std::isfinite(options_.tau1), "AdaptiveDirectSpecPlus", "tau1", options_.tau1,
                "must be finite");
  }

  /// ctx.ids must have one id per row of Xhat, each a row of ctx.neighbours.
  void Forward(const RowMatrix<S>& Xhat, const FilterContext& ctx, RowMatrix<S>& Y) {
    eigen_assert(static_cast<Index>(ctx.ids.size()) == Xhat.rows());
    shared_.Compute(ctx.ids, ctx.neighbours);
    shared_.SetDiagonal();  // a node always gets τ0 with itself
    kernel_.Forward(Xhat, options_.alpha, options_.tau1, &shared_, options_.tau0, Y);
  }
  void Backward(const RowMatrix<S>& GY, RowMatrix<S>& GXhat) {
    kernel_.Backward(GY, options_.alpha, options_.tau1, &shared_, options_.tau0, GXhat);
  }

  /// The dense pair temperatures T of the last Forward, built on demand (diagnostics, tests;
  /// the filter itself never materialises T).
  RowMatrix<S> Temperatures() const {
    const Index B = shared_.Rows();
    RowMatrix<S> t(B, B);
    for (Index a = 0; a < B; ++a)
      for (Index b = 0; b < B; ++b) t(a, b) = shared_.Shares(a, b) ? options_.tau0 : options_.tau1;
    return t;
  }
  const RowMatrix<S>& Weights() const { return kernel_.Weights(); }
  /// The share mask of the last Forward (diagonal set).
  const SharedNeighbours& Mask() const { return shared_; }
  const Options& GetOptions() const { return options_; }

 private:
  Options options_;
  SharedNeighbours shared_;
  detail::SoftmaxSpectrumKernel<S> kernel_;
};

}  // namespace directspec
