// Central finite differences against a hand-written backward pass, for anyone writing a policy:
// the checks the library's own tests run on every filter and loss (docs/filters.md and
// docs/losses.md, "Write your own"). Double precision only: in float, rounding swamps the
// differences. Sits beside the pipeline, above filters/ and losses/; nothing in the library
// includes it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>

#include "directspec/core/batch.hpp"
#include "directspec/core/rng.hpp"
#include "directspec/core/types.hpp"
#include "directspec/filters/filter_context.hpp"

namespace directspec::testing {

/// How far an analytic gradient is from central differences, and where it is worst.
struct GradientCheck {
  double max_error = 0.0;  // max |analytic - numeric| over all entries
  double scale = 1.0;      // max(1, max |numeric|): the error is relative to this
  Index row = -1, col = -1;
  double analytic = 0.0, numeric = 0.0;  // the two values at (row, col)
  bool shape_mismatch = false;           // the backward returned another shape than its input

  double RelativeError() const { return max_error / scale; }
  /// True when the shapes match and every entry is within `tolerance` relative to `scale`.
  /// 1e-7 suits smooth stages at step 1e-6; stiff ones (a sharp softmax) need 1e-6.
  bool Passed(double tolerance = 1e-7) const {
    return !shape_mismatch && std::isfinite(max_error) && RelativeError() <= tolerance;
  }
  /// "max error 3.1e-09 (relative 3.1e-09) at (2, 1): analytic 0.41, numeric 0.41".
  std::string Describe() const {
    if (shape_mismatch) return "the backward's output has another shape than its input";
    std::ostringstream out;
    out.precision(3);
    out << "max error " << max_error << " (relative " << RelativeError() << ") at (" << row << ", "
        << col << "): analytic " << analytic << ", numeric " << numeric;
    return out.str();
  }
};

/// Entries uniform in [-scale, scale), reproducible from `seed`: random inputs and weights.
inline RowMatrix<double> RandomMatrix(Index rows, Index cols, std::uint64_t seed,
                                      double scale = 1.0) {
  auto engine = MakeStream(seed);
  RowMatrix<double> m(rows, cols);
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c) m(r, c) = scale * (2.0 * UniformUnit(engine) - 1.0);
  return m;
}

namespace detail {

// Folds one entry into the running worst case.
inline void Record(GradientCheck& check, Index r, Index c, double analytic, double numeric) {
  const double error = std::abs(analytic - numeric);
  if (std::isfinite(numeric)) check.scale = std::max(check.scale, std::abs(numeric));
  if (std::isnan(check.max_error)) return;  // the first NaN is where it is worst
  if (!(error <= check.max_error)) {        // a NaN error replaces any number
    check.max_error = error;
    check.row = r;
    check.col = c;
    check.analytic = analytic;
    check.numeric = numeric;
  }
}

// Compares `analytic` (dF/dX) with central differences of the scalar function F at X.
template <class ScalarFn>
GradientCheck CompareWithDifferences(const RowMatrix<double>& analytic, const RowMatrix<double>& X,
                                     ScalarFn value, double step) {
  GradientCheck check;
  if (analytic.rows() != X.rows() || analytic.cols() != X.cols()) {
    check.shape_mismatch = true;
    return check;
  }
  RowMatrix<double> Z = X;
  for (Index r = 0; r < X.rows(); ++r)
    for (Index c = 0; c < X.cols(); ++c) {
      Z(r, c) = X(r, c) + step;
      const double plus = value(Z);
      Z(r, c) = X(r, c) - step;
      const double minus = value(Z);
      Z(r, c) = X(r, c);
      Record(check, r, c, analytic(r, c), (plus - minus) / (2 * step));
    }
  return check;
}

}  // namespace detail

/// Checks a stage X -> Y with backward dL/dY -> dL/dX against central differences of
/// F(X) = sum(R ⊙ Y(X)) for random weights R (seeded), so every output entry counts.
///
///   auto check = CheckGradient([&](const auto& x, auto& y) { f.Forward(x, ctx, y); },
///                              [&](const auto& gy, auto& gx) { f.Backward(gy, gx); }, X);
///   if (!check.Passed()) std::cerr << check.Describe();
///
/// `forward(const RowMatrix<double>&, RowMatrix<double>&)` may keep state for `backward`: the
/// analytic gradient is taken right after the forward at X, before any perturbed forward.
template <class Forward, class Backward>
GradientCheck CheckGradient(Forward&& forward, Backward&& backward, const RowMatrix<double>& X,
                            std::uint64_t seed = 1, double step = 1e-6) {
  RowMatrix<double> Y, G;
  forward(X, Y);
  const RowMatrix<double> R = RandomMatrix(Y.rows(), Y.cols(), seed);
  backward(R, G);
  RowMatrix<double> out;
  return detail::CompareWithDifferences(
      G, X,
      [&](const RowMatrix<double>& Z) {
        forward(Z, out);
        return (R.array() * out.array()).sum();
      },
      step);
}

/// CheckGradient for a side filter (docs/architecture.md, "Side filter").
template <class Filter>
GradientCheck CheckFilterGradient(Filter& filter, const RowMatrix<double>& X,
                                  const FilterContext& context = {}, std::uint64_t seed = 1,
                                  double step = 1e-6) {
  return CheckGradient(
      [&](const RowMatrix<double>& x, RowMatrix<double>& y) { filter.Forward(x, context, y); },
      [&](const RowMatrix<double>& gy, RowMatrix<double>& gx) { filter.Backward(gy, gx); }, X, seed,
      step);
}

/// A loss's two gradients, each against central differences of its value.
struct LossGradientCheck {
  GradientCheck users, items;
  bool value_finite = true;
  bool Passed(double tolerance = 1e-7) const {
    return value_finite && users.Passed(tolerance) && items.Passed(tolerance);
  }
  std::string Describe() const {
    if (!value_finite) return "the loss value is not finite";
    return "users: " + users.Describe() + "; items: " + items.Describe();
  }
};

/// Checks `loss.Evaluate(OU, OI, batch, GU, GI)` (docs/architecture.md, "Loss"): GU and GI
/// against central differences of the returned value in every entry of OU and OI.
template <class Loss>
LossGradientCheck CheckLossGradient(Loss& loss, const RowMatrix<double>& OU,
                                    const RowMatrix<double>& OI, const Batch& batch,
                                    double step = 1e-6) {
  RowMatrix<double> GU, GI, gu, gi;
  LossGradientCheck check;
  check.value_finite = std::isfinite(static_cast<double>(loss.Evaluate(OU, OI, batch, GU, GI)));
  check.users = detail::CompareWithDifferences(
      GU, OU,
      [&](const RowMatrix<double>& Z) {
        return static_cast<double>(loss.Evaluate(Z, OI, batch, gu, gi));
      },
      step);
  check.items = detail::CompareWithDifferences(
      GI, OI,
      [&](const RowMatrix<double>& Z) {
        return static_cast<double>(loss.Evaluate(OU, Z, batch, gu, gi));
      },
      step);
  return check;
}

}  // namespace directspec::testing
