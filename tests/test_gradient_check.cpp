// The public gradient checker (directspec/testing/gradient_check.hpp) passes a correct backward
// and catches wrong ones: a wrong factor, a wrong entry, a wrong shape, NaN.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "directspec/core/batch.hpp"
#include "directspec/testing/gradient_check.hpp"

namespace ds = directspec;
using Mat = ds::RowMatrix<double>;

namespace {

// Y = X ⊙ X (elementwise), dL/dX = 2 X ⊙ G; `factor` and `poke` break it on purpose.
struct Square {
  double factor = 2.0;
  bool poke = false;
  Mat x;
  void Forward(const Mat& in, Mat& out) {
    x = in;
    out = in.cwiseProduct(in);
  }
  void Backward(const Mat& g, Mat& out) {
    out = factor * x.cwiseProduct(g);
    if (poke) out(1, 2) += 1e-3;
  }
};

template <class Stage>
ds::testing::GradientCheck Check(Stage& stage, const Mat& X) {
  return ds::testing::CheckGradient([&](const Mat& in, Mat& out) { stage.Forward(in, out); },
                                    [&](const Mat& g, Mat& out) { stage.Backward(g, out); }, X);
}

// L = sum_b o^U_b · o^I_b (positives only): dL/dO^U = O^I, dL/dO^I = O^U.
struct DotLoss {
  using Scalar = double;
  bool swap_sides = false;
  double Evaluate(const Mat& OU, const Mat& OI, const ds::Batch&, Mat& GU, Mat& GI) {
    GU = swap_sides ? OU : OI;
    GI = swap_sides ? OI : OU;
    return OU.cwiseProduct(OI).sum();
  }
};

}  // namespace

TEST_CASE("The gradient checker passes a correct backward and locates a wrong one",
          "[testing][gradient]") {
  const Mat X = ds::testing::RandomMatrix(4, 5, 3);
  Square right;
  const auto good = Check(right, X);
  INFO(good.Describe());
  CHECK(good.Passed());
  CHECK(good.max_error < 1e-8);

  Square half;
  half.factor = 1.0;
  CHECK_FALSE(Check(half, X).Passed());

  Square poked;
  poked.poke = true;
  const auto bad = Check(poked, X);
  CHECK_FALSE(bad.Passed());
  CHECK(bad.row == 1);
  CHECK(bad.col == 2);
  CHECK(bad.max_error == Approx(1e-3).epsilon(1e-4));
  CHECK(bad.Passed(1e-2));  // the tolerance is the caller's
}

TEST_CASE("The gradient checker refuses a wrong shape and NaN", "[testing][gradient]") {
  const Mat X = ds::testing::RandomMatrix(3, 2, 4);
  const auto shape =
      ds::testing::CheckGradient([](const Mat& in, Mat& out) { out = in; },
                                 [](const Mat& g, Mat& out) { out = g.transpose(); }, X);
  CHECK(shape.shape_mismatch);
  CHECK_FALSE(shape.Passed());
  const auto nan = ds::testing::CheckGradient([](const Mat& in, Mat& out) { out = in; },
                                              [](const Mat& g, Mat& out) {
                                                out = g;
                                                out(0, 0) =
                                                    std::numeric_limits<double>::quiet_NaN();
                                              },
                                              X);
  CHECK_FALSE(nan.Passed());
  CHECK(nan.row == 0);
}

TEST_CASE("The loss checker tests both sides", "[testing][gradient]") {
  const Mat OU = ds::testing::RandomMatrix(3, 4, 5), OI = ds::testing::RandomMatrix(3, 4, 6);
  const ds::Batch batch;
  DotLoss right;
  const auto good = ds::testing::CheckLossGradient(right, OU, OI, batch);
  INFO(good.Describe());
  CHECK(good.Passed());
  DotLoss wrong;
  wrong.swap_sides = true;
  const auto bad = ds::testing::CheckLossGradient(wrong, OU, OI, batch);
  CHECK_FALSE(bad.users.Passed());
  CHECK_FALSE(bad.items.Passed());
}
