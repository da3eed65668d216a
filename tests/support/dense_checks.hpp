// Shared by the stage tests (filters, losses): seeded random dense matrices and a closeness
// check that reports the largest difference.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>

#include "directspec/core/rng.hpp"
#include "directspec/core/types.hpp"

namespace directspec::testing {

using Mat = RowMatrix<double>;

/// rows x cols entries uniform in [-scale, scale), reproducible from `seed`.
inline Mat RandomMatrix(Index rows, Index cols, std::uint64_t seed, double scale = 1.0) {
  auto engine = MakeStream(seed);
  Mat m(rows, cols);
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c) m(r, c) = scale * (2.0 * UniformUnit(engine) - 1.0);
  return m;
}

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

}  // namespace directspec::testing
