// Tests for the loss policies: stable log-sigmoid, LogLoss, BprLoss, DirectAuLoss,
// SampledSoftmaxLoss and the WithOutputL2 combinator. Each gradient is checked against central
// finite differences in double; each value against a hand-worked case; float against double.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/losses.hpp"
#include "support/dense_checks.hpp"

namespace ds = directspec;
using ds::Index;
using Mat = ds::RowMatrix<double>;

namespace {

using namespace directspec::testing;

ds::Batch MakeBatch(Index B, Index k) {
  ds::Batch batch;
  for (Index b = 0; b < B; ++b) {
    batch.users.push_back(static_cast<ds::Id>(b));
    batch.positives.push_back(static_cast<ds::Id>(b));
  }
  batch.negatives.assign(static_cast<std::size_t>(B * k), 0);
  batch.negatives_per_positive = k;
  return batch;
}

// Central differences of loss.Evaluate in every entry of OU and OI
// (directspec/testing/gradient_check.hpp).
template <class Loss>
void RequireLossGradient(Loss& loss, const Mat& OU, const Mat& OI, const ds::Batch& batch,
                         double tol = 1e-7) {
  RequirePassed(CheckLossGradient(loss, OU, OI, batch), tol);
}

double Sigma(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

TEST_CASE("LogSigmoid and Sigmoid are stable and accurate", "[losses]") {
  for (double x : {-30.0, -5.0, -0.5, 0.0, 0.5, 5.0})
    REQUIRE(ds::LogSigmoid(x) ==
            Approx(std::log(Sigma(x))).epsilon(1e-12));  // naive ref loses ~1e-14
  REQUIRE(ds::LogSigmoid(0.0) == Approx(-std::log(2.0)));
  // Far tails: log σ(x) ≈ x for x << 0 and ≈ −e^(−x) for x >> 0, no overflow or rounding to 0.
  REQUIRE(ds::LogSigmoid(-1000.0) == Approx(-1000.0));
  REQUIRE(ds::LogSigmoid(-1000.0f) == Approx(-1000.0f));
  REQUIRE(ds::LogSigmoid(40.0) == Approx(-std::exp(-40.0)).epsilon(1e-12));
  REQUIRE(ds::LogSigmoid(30.0) == Approx(-std::exp(-30.0) * (1 - std::exp(-30.0) / 2)));
  REQUIRE(ds::LogSigmoid(100.0f) < 0.0f);
  REQUIRE(std::isfinite(ds::LogSigmoid(-1e30f)));
  REQUIRE(ds::Sigmoid(-1000.0) == 0.0);
  REQUIRE(ds::Sigmoid(1000.0f) == 1.0f);
  REQUIRE(ds::Sigmoid(-40.0) == Approx(std::exp(-40.0)).epsilon(1e-12));
}

TEST_CASE("LogLoss: hand value, gradient, negatives ignored", "[losses][gradient]") {
  ds::LogLoss<double> loss;
  // B = 2: scores 0 and 2·1 = 2.
  Mat OU(2, 2), OI(2, 2), GU, GI;
  OU << 1, 0, 2, 0;
  OI << 0, 1, 1, 5;
  const double expected = -(std::log(0.5) + std::log(Sigma(2.0))) / 2.0;
  REQUIRE(loss.Evaluate(OU, OI, MakeBatch(2, 0), GU, GI) == Approx(expected).epsilon(1e-14));
  // dL/dOU_0 = −(1/2)(1 − σ(0)) OI_0.
  REQUIRE(GU(0, 1) == Approx(-0.25));

  RequireLossGradient(loss, RandomMatrix(5, 3, 1), RandomMatrix(5, 3, 2), MakeBatch(5, 0));
  // With negatives in OI they get exactly zero gradient and do not change the value.
  const Mat OU3 = RandomMatrix(3, 4, 3);
  const Mat OI3 = RandomMatrix(9, 4, 4);
  const double with = loss.Evaluate(OU3, OI3, MakeBatch(3, 2), GU, GI);
  REQUIRE(GI.bottomRows(6).isZero(0));
  Mat GI0;
  REQUIRE(loss.Evaluate(OU3, OI3.topRows(3).eval(), MakeBatch(3, 0), GU, GI0) == Approx(with));
  RequireLossGradient(loss, OU3, OI3, MakeBatch(3, 2));
  // Extreme scores stay finite.
  REQUIRE(
      std::isfinite(loss.Evaluate((OU * 1e4).eval(), (OI * -1e4).eval(), MakeBatch(2, 0), GU, GI)));
}

TEST_CASE("BprLoss: mean over B k pairs, gradient, needs negatives", "[losses][gradient]") {
  ds::BprLoss<double> loss;
  // B = 1, k = 2: positive score 1, negative scores 0 and 3.
  Mat OU(1, 2), OI(3, 2), GU, GI;
  OU << 1, 0;
  OI << 1, 0,  // positive
      0, 1,    // negative 0
      3, 0;    // negative 1
  const double expected = -(std::log(Sigma(1.0)) + std::log(Sigma(-2.0))) / 2.0;
  REQUIRE(loss.Evaluate(OU, OI, MakeBatch(1, 2), GU, GI) == Approx(expected).epsilon(1e-14));

  RequireLossGradient(loss, RandomMatrix(4, 3, 10), RandomMatrix(4, 3, 11).replicate(2, 1).eval(),
                      MakeBatch(4, 1));
  RequireLossGradient(loss, RandomMatrix(3, 5, 12), RandomMatrix(12, 5, 13), MakeBatch(3, 3));
  REQUIRE_THROWS_WITH(loss.Evaluate(OU, OI.topRows(1).eval(), MakeBatch(1, 0), GU, GI),
                      Catch::Contains("negatives_per_positive = 0"));
}

TEST_CASE("DirectAuLoss: hand value, gradient, B = 1", "[losses][gradient]") {
  SECTION("hand-worked B = 2") {
    // Users e1, e2; items e1, −e1. Alignment: (0 + ||e2 + e1||²)/2 = 1.
    // unif(U) = log exp(−2·2) = −4, unif(I) = log exp(−2·4) = −8.
    ds::DirectAuLoss<double> loss({.gamma = 0.5, .temperature = 2.0});
    Mat OU(2, 2), OI(2, 2), GU, GI;
    OU << 1, 0, 0, 1;
    OI << 1, 0, -1, 0;
    REQUIRE(loss.Evaluate(OU, OI, MakeBatch(2, 0), GU, GI) ==
            Approx(1.0 + 0.5 * (-4.0 - 8.0) / 2.0).epsilon(1e-14));
  }
  SECTION("gradients") {
    ds::DirectAuLoss<double> loss({.gamma = 1.5, .temperature = 2.0});
    Mat OI = Normalized(RandomMatrix(7, 4, 21));
    OI.row(3) = OI.row(0);  // duplicate positives
    RequireLossGradient(loss, Normalized(RandomMatrix(5, 4, 20)), OI, MakeBatch(5, 0));
    ds::DirectAuLoss<double> hot({.gamma = 1.0, .temperature = 20.0});
    RequireLossGradient(hot, Normalized(RandomMatrix(6, 3, 22)), Normalized(RandomMatrix(6, 3, 23)),
                        MakeBatch(6, 0), 1e-6);
  }
  SECTION("B = 1 has no pairs: alignment only") {
    ds::DirectAuLoss<double> loss;
    Mat OU(1, 2), OI(1, 2), GU, GI;
    OU << 1, 0;
    OI << 0, 1;
    REQUIRE(loss.Evaluate(OU, OI, MakeBatch(1, 0), GU, GI) == Approx(2.0));
    RequireLossGradient(loss, OU, OI, MakeBatch(1, 0));
  }
  REQUIRE_THROWS_AS(ds::DirectAuLoss<double>({.gamma = 1.0, .temperature = 0.0}),
                    std::invalid_argument);
}

TEST_CASE("SampledSoftmaxLoss: hand value, cosine invariance, gradient", "[losses][gradient]") {
  ds::SampledSoftmaxLoss<double> loss({.temperature = 0.5});
  // Orthonormal users / items aligned pairwise: c = I, L = −log(e² / (e² + 1)).
  Mat OU(2, 2), OI(2, 2), GU, GI;
  OU << 3, 0, 0, 0.5;
  OI << 2, 0, 0, 7;
  const double expected = -std::log(std::exp(2.0) / (std::exp(2.0) + 1.0));
  REQUIRE(loss.Evaluate(OU, OI, MakeBatch(2, 0), GU, GI) == Approx(expected).epsilon(1e-14));
  // Scores are cosines: scaling rows changes nothing.
  const Mat U = RandomMatrix(5, 3, 30), I = RandomMatrix(5, 3, 31);
  const double base = loss.Evaluate(U, I, MakeBatch(5, 0), GU, GI);
  Mat U2 = U;
  U2.row(2) *= 9.0;
  REQUIRE(loss.Evaluate(U2, I, MakeBatch(5, 0), GU, GI) == Approx(base).epsilon(1e-14));
  // B = 1: the only candidate is the positive, loss 0.
  REQUIRE(loss.Evaluate(U.topRows(1).eval(), I.topRows(1).eval(), MakeBatch(1, 0), GU, GI) ==
          Approx(0.0).margin(1e-15));

  RequireLossGradient(loss, U, I, MakeBatch(5, 0));
  ds::SampledSoftmaxLoss<double> sharp({.temperature = 0.05});
  Mat I2 = RandomMatrix(9, 3, 33);
  I2.row(4) = I2.row(1);
  RequireLossGradient(sharp, RandomMatrix(3, 3, 32), I2, MakeBatch(3, 2), 1e-6);
  REQUIRE_THROWS_AS(ds::SampledSoftmaxLoss<double>({.temperature = -1.0}), std::invalid_argument);
}

TEST_CASE("WithOutputL2 adds (output_l2/B) sum ||o||^2 over both sides", "[losses][gradient]") {
  const Mat OU = RandomMatrix(4, 3, 40), OI = RandomMatrix(4, 3, 41);
  ds::LogLoss<double> plain;
  ds::WithOutputL2<ds::LogLoss<double>> penalised({.output_l2 = 0.01});
  Mat GU, GI, GU0, GI0;
  const double base = plain.Evaluate(OU, OI, MakeBatch(4, 0), GU0, GI0);
  const double value = penalised.Evaluate(OU, OI, MakeBatch(4, 0), GU, GI);
  // The peer's `reg / B * o.pow(2).sum()` with o the stacked (2, B, d) outputs.
  double sum_sq = 0;
  for (const Mat* m : {&OU, &OI})
    for (Index i = 0; i < m->size(); ++i) sum_sq += m->data()[i] * m->data()[i];
  REQUIRE(value == Approx(base + 0.01 / 4.0 * sum_sq).epsilon(1e-14));
  RequireClose(GU - GU0, (2 * 0.01 / 4.0) * OU, 1e-15);
  RequireLossGradient(penalised, OU, OI, MakeBatch(4, 0));

  ds::WithOutputL2<ds::BprLoss<double>> bpr({.output_l2 = 0.3});
  RequireLossGradient(bpr, RandomMatrix(3, 4, 42), RandomMatrix(6, 4, 43), MakeBatch(3, 1));
  ds::WithOutputL2<ds::SampledSoftmaxLoss<double>> ssm({.output_l2 = 0.1});
  RequireLossGradient(ssm, RandomMatrix(3, 4, 44), RandomMatrix(3, 4, 45), MakeBatch(3, 0));
  REQUIRE_THROWS_WITH(ds::WithOutputL2<ds::LogLoss<double>>({.output_l2 = -0.1}),
                      Catch::Contains("output_l2") && Catch::Contains("-0.1"));
}

TEST_CASE("Float losses agree with double", "[losses][float]") {
  const Mat OU = Normalized(RandomMatrix(6, 5, 50)), OI = Normalized(RandomMatrix(12, 5, 51));
  const ds::Batch batch = MakeBatch(6, 1);
  using MatF = ds::RowMatrix<float>;
  auto compare = [&](auto& ld, auto& lf) {
    Mat GU, GI;
    MatF GUf, GIf;
    const double vd = ld.Evaluate(OU, OI, batch, GU, GI);
    const float vf = lf.Evaluate(OU.cast<float>().eval(), OI.cast<float>().eval(), batch, GUf, GIf);
    REQUIRE(vf == Approx(vd).epsilon(1e-5));
    RequireClose(GUf.cast<double>(), GU, 1e-4);
    RequireClose(GIf.cast<double>(), GI, 1e-4);
  };
  ds::LogLoss<double> a0;
  ds::LogLoss<float> a1;
  compare(a0, a1);
  ds::BprLoss<double> b0;
  ds::BprLoss<float> b1;
  compare(b0, b1);
  ds::DirectAuLoss<double> c0;
  ds::DirectAuLoss<float> c1;
  compare(c0, c1);
  ds::SampledSoftmaxLoss<double> d0;
  ds::SampledSoftmaxLoss<float> d1;
  compare(d0, d1);
  ds::WithOutputL2<ds::LogLoss<double>> e0;
  ds::WithOutputL2<ds::LogLoss<float>> e1;
  compare(e0, e1);
}
