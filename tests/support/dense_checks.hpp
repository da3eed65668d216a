// Shared by the stage tests (filters, losses): the public gradient checker's seeded random
// matrices, and Catch2 assertions around it and around a closeness check.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>

#include "directspec/core/types.hpp"
#include "directspec/testing/gradient_check.hpp"

namespace directspec::testing {

using Mat = RowMatrix<double>;

inline Mat Normalized(Mat m) {
  for (Index r = 0; r < m.rows(); ++r) m.row(r).normalize();
  return m;
}

inline double MaxAbs(const Mat& m) { return m.size() == 0 ? 0.0 : m.cwiseAbs().maxCoeff(); }

/// Same shape, finite, and within tol relative to max(1, max |expected|).
inline void RequireClose(const Mat& actual, const Mat& expected, double tol) {
  REQUIRE(actual.rows() == expected.rows());
  REQUIRE(actual.cols() == expected.cols());
  REQUIRE(actual.allFinite());
  const double scale = std::max(1.0, MaxAbs(expected));
  INFO("max |difference| = " << MaxAbs(actual - expected) << ", scale = " << scale);
  REQUIRE(MaxAbs(actual - expected) <= tol * scale);
}

/// REQUIREs that a CheckGradient / CheckFilterGradient / CheckLossGradient result passed,
/// printing where it is worst when it did not.
template <class Check>
void RequirePassed(const Check& check, double tol = 1e-7) {
  INFO(check.Describe());
  REQUIRE(check.Passed(tol));
}

}  // namespace directspec::testing
