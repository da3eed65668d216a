// NoFilter: the null spectrum filter, Y = X̂ (docs/method.md#no-filter). It is the plain
// alignment baseline — without negatives it collapses — and costs one copy.
#pragma once

#include "directspec/core/types.hpp"
#include "directspec/filters/filter_context.hpp"

namespace directspec {

/// Identity filter.
///
///   NoFilter<float> filter;
///   filter.Forward(Xhat, ctx, Y);     // Y = Xhat
///   filter.Backward(GY, GXhat);       // GXhat = GY
template <class S>
class NoFilter {
 public:
  using Scalar = S;
  struct Options {};

  NoFilter() = default;
  explicit NoFilter(const Options&) {}

  void Forward(const RowMatrix<S>& Xhat, const FilterContext& /*ctx*/, RowMatrix<S>& Y) {
    if (&Y != &Xhat) Y = Xhat;
  }
  void Backward(const RowMatrix<S>& GY, RowMatrix<S>& GXhat) {
    if (&GXhat != &GY) GXhat = GY;
  }
};

}  // namespace directspec
