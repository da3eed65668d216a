// Tests for the per-side stages: RowNormalizer, NoFilter, DirectSpec, DirectSpecPlus,
// SharedNeighbours, AdaptiveDirectSpecPlus and NormShrink. Every backward is checked against
// central finite differences in double; forwards against direct formulas; float against double.
#include <Eigen/SVD>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/filters.hpp"
#include "support/dense_checks.hpp"

namespace ds = directspec;
using ds::Index;
using Mat = ds::RowMatrix<double>;

namespace {

using namespace directspec::testing;

// Backward against central differences of f(X) = sum(R ⊙ Forward(X)) for a random R
// (directspec/testing/gradient_check.hpp).
template <class Fwd, class Bwd>
void RequireGradient(Fwd forward, Bwd backward, const Mat& X, std::uint64_t seed,
                     double tol = 1e-7) {
  RequirePassed(CheckGradient(forward, backward, X, seed), tol);
}

template <class Filter>
void RequireFilterGradient(Filter& filter, const Mat& X, const ds::FilterContext& ctx,
                           std::uint64_t seed, double tol = 1e-7) {
  RequirePassed(CheckFilterGradient(filter, X, ctx, seed), tol);
}

Mat Softmax(const Mat& z) {
  Mat p(z.rows(), z.cols());
  for (Index r = 0; r < z.rows(); ++r) {
    const double top = z.row(r).maxCoeff();
    p.row(r) = (z.row(r).array() - top).exp().matrix();
    p.row(r) /= p.row(r).sum();
  }
  return p;
}

// A small CSR owned by the test: rows are sorted unique column lists.
struct Csr {
  std::vector<std::int64_t> offsets{0};
  std::vector<ds::Id> columns;
  explicit Csr(const std::vector<std::vector<ds::Id>>& rows) {
    for (const auto& row : rows) {
      columns.insert(columns.end(), row.begin(), row.end());
      offsets.push_back(static_cast<std::int64_t>(columns.size()));
    }
  }
  ds::CsrView View() const { return {offsets, columns}; }
};

bool Intersect(std::span<const ds::Id> a, std::span<const ds::Id> b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) return true;
    if (a[i] < b[j])
      ++i;
    else
      ++j;
  }
  return false;
}

const ds::FilterContext kNoContext{};

}  // namespace

TEST_CASE("RowNormalizer: unit rows, zero rows stay zero, gradient", "[filters][normalizer]") {
  ds::RowNormalizer<double> norm;
  Mat X = RandomMatrix(5, 4, 1);
  X.row(2).setZero();
  Mat Xhat;
  norm.Forward(X, Xhat);
  REQUIRE(Xhat.allFinite());
  for (Index b : {0, 1, 3, 4}) REQUIRE(Xhat.row(b).norm() == Approx(1.0).epsilon(1e-14));
  REQUIRE(Xhat.row(2).norm() == 0.0);
  REQUIRE(norm.Norms()[1] == Approx(X.row(1).norm()));

  // The backward of a zero row is G / epsilon (the map is x / epsilon there): finite, no NaN.
  const Mat G = RandomMatrix(5, 4, 2);
  Mat GX;
  norm.Backward(G, GX);
  REQUIRE(GX.allFinite());
  RequireClose(GX.row(2), G.row(2) / 1e-12, 1e-15);
  // Non-zero rows: gradient orthogonal to the row.
  for (Index b : {0, 1, 3, 4}) REQUIRE(std::abs(GX.row(b).dot(X.row(b))) < 1e-12);

  RequireGradient([&](const Mat& in, Mat& out) { norm.Forward(in, out); },
                  [&](const Mat& g, Mat& out) { norm.Backward(g, out); }, RandomMatrix(6, 3, 3), 4);

  // In place.
  Mat Y = X;
  norm.Forward(Y, Y);
  RequireClose(Y, Xhat, 0);

  REQUIRE_THROWS_AS(ds::RowNormalizer<double>({.epsilon = 0.0}), std::invalid_argument);
  REQUIRE_THROWS_WITH(ds::RowNormalizer<double>({.epsilon = -1.0}),
                      Catch::Contains("epsilon") && Catch::Contains("-1"));
}

TEST_CASE("NoFilter is the identity", "[filters]") {
  ds::NoFilter<double> filter;
  const Mat X = RandomMatrix(4, 3, 5);
  Mat Y, G;
  filter.Forward(X, kNoContext, Y);
  RequireClose(Y, X, 0);
  filter.Backward(X, G);
  RequireClose(G, X, 0);
}

TEST_CASE("DirectSpec forward matches the formula in both association orders", "[filters]") {
  for (auto [B, d] : {std::pair<Index, Index>{9, 4}, {4, 9}, {6, 6}, {1, 3}}) {
    const Mat X = Normalized(RandomMatrix(B, d, 10 + B));
    ds::DirectSpec<double> filter({.alpha = 0.7});
    Mat Y;
    filter.Forward(X, kNoContext, Y);
    const Mat expected = X - (0.7 / static_cast<double>(B)) * (X * X.transpose() * X);
    RequireClose(Y, expected, 1e-14);
  }
}

TEST_CASE("DirectSpec gradient (d < B and d >= B, duplicates, B = 1)", "[filters][gradient]") {
  for (auto [B, d] : {std::pair<Index, Index>{9, 4}, {4, 9}, {5, 5}, {1, 4}}) {
    Mat X = Normalized(RandomMatrix(B, d, 20 + B));
    if (B > 3) X.row(3) = X.row(1);  // duplicate batch row
    ds::DirectSpec<double> filter({.alpha = 1.3});
    RequireFilterGradient(filter, X, kNoContext, 30 + B);
  }
}

TEST_CASE("DirectSpec maps singular values s -> s (1 - (a/B) s^2), vectors unchanged",
          "[filters][spectrum]") {
  for (auto [B, d] : {std::pair<Index, Index>{12, 5}, {5, 8}}) {
    const double alpha = 0.9;
    const Mat X = Normalized(RandomMatrix(B, d, 40 + B));
    ds::DirectSpec<double> filter({.alpha = alpha});
    Mat Y;
    filter.Forward(X, kNoContext, Y);
    Eigen::JacobiSVD<Mat> svd(X, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const Eigen::VectorXd s = svd.singularValues();
    const Eigen::VectorXd mapped =
        s.array() * (1.0 - (alpha / static_cast<double>(B)) * s.array().square());
    // Same left and right singular vectors: Y V = U f(Σ) and Uᵀ Y = f(Σ) Vᵀ.
    RequireClose(Y * svd.matrixV(), svd.matrixU() * mapped.asDiagonal(), 1e-13);
    RequireClose(svd.matrixU().transpose() * Y, mapped.asDiagonal() * svd.matrixV().transpose(),
                 1e-13);
    // And Y's own singular values are |f(σ)|.
    Eigen::JacobiSVD<Mat> svd_y(Y);
    std::vector<double> expected(mapped.data(), mapped.data() + mapped.size());
    for (double& v : expected) v = std::abs(v);
    std::sort(expected.rbegin(), expected.rend());
    for (Index k = 0; k < svd_y.singularValues().size(); ++k)
      REQUIRE(svd_y.singularValues()[k] == Approx(expected[static_cast<std::size_t>(k)]));
  }
}

TEST_CASE("DirectSpecPlus forward matches softmax formula, rows of P sum to one", "[filters]") {
  Mat X = Normalized(RandomMatrix(7, 4, 50));
  X.row(5) = X.row(2);  // duplicate rows stay in the softmax
  ds::DirectSpecPlus<double> filter({.alpha = 0.8, .tau = 3.5});
  Mat Y;
  filter.Forward(X, kNoContext, Y);
  const Mat P = Softmax(3.5 * X * X.transpose());
  RequireClose(filter.Weights(), P, 1e-14);
  RequireClose(Y, X - 0.8 * P * X, 1e-14);
  for (Index b = 0; b < 7; ++b) REQUIRE(filter.Weights().row(b).sum() == Approx(1.0));
  // Duplicates: both copies get the same weight in every row, and identical outputs.
  for (Index b = 0; b < 7; ++b) REQUIRE(filter.Weights()(b, 5) == Approx(filter.Weights()(b, 2)));
  RequireClose(Y.row(5), Y.row(2), 1e-14);
}

TEST_CASE("DirectSpecPlus gradient: duplicates, B = 1, zero row, large tau",
          "[filters][gradient]") {
  SECTION("default options with a duplicate row") {
    Mat X = Normalized(RandomMatrix(6, 4, 60));
    X.row(4) = X.row(0);
    ds::DirectSpecPlus<double> filter;
    RequireFilterGradient(filter, X, kNoContext, 61);
  }
  SECTION("B = 1") {
    ds::DirectSpecPlus<double> filter;
    const Mat X = Normalized(RandomMatrix(1, 5, 62));
    Mat Y;
    filter.Forward(X, kNoContext, Y);
    RequireClose(Y, (1.0 - 1.0) * X, 1e-15);  // P = [1], Y = (1 − α) x̂
    RequireFilterGradient(filter, X, kNoContext, 63);
  }
  SECTION("zero row (as RowNormalizer outputs it)") {
    Mat X = Normalized(RandomMatrix(5, 3, 64));
    X.row(1).setZero();
    ds::DirectSpecPlus<double> filter({.alpha = 0.5, .tau = 4.0});
    Mat Y;
    filter.Forward(X, kNoContext, Y);
    REQUIRE(Y.allFinite());
    RequireFilterGradient(filter, X, kNoContext, 65);
  }
  SECTION("tau = 20") {
    const Mat X = Normalized(RandomMatrix(8, 3, 66));
    ds::DirectSpecPlus<double> filter({.alpha = 1.0, .tau = 20.0});
    RequireFilterGradient(filter, X, kNoContext, 67, 1e-6);
  }
  SECTION("d >= B") {
    ds::DirectSpecPlus<double> filter({.alpha = 1.2, .tau = 2.0});
    RequireFilterGradient(filter, Normalized(RandomMatrix(3, 7, 68)), kNoContext, 69);
  }
}

TEST_CASE("DirectSpecPlus softmax is stable for huge tau in float", "[filters]") {
  ds::DirectSpecPlus<float> filter({.alpha = 1.0f, .tau = 1e6f});
  ds::RowMatrix<float> X = Normalized(RandomMatrix(16, 8, 70)).cast<float>();
  ds::RowMatrix<float> Y, G;
  filter.Forward(X, kNoContext, Y);
  REQUIRE(Y.allFinite());
  // With τ → ∞ every row's weight sits on its own (largest cosine) entry: Y ≈ (1 − α) X̂ = 0.
  REQUIRE(Y.cwiseAbs().maxCoeff() < 1e-5f);
  filter.Backward(ds::RowMatrix<float>::Ones(16, 8), G);
  REQUIRE(G.allFinite());
}

TEST_CASE("Filter options are validated", "[filters]") {
  const double nan = std::nan("");
  REQUIRE_THROWS_AS(ds::DirectSpec<double>({.alpha = nan}), std::invalid_argument);
  REQUIRE_THROWS_WITH(ds::DirectSpecPlus<double>({.alpha = 1.0, .tau = INFINITY}),
                      Catch::Equals("DirectSpecPlus: tau = inf (must be finite)"));
  REQUIRE_THROWS_AS(ds::AdaptiveDirectSpecPlus<double>({.alpha = 1.0, .tau0 = nan, .tau1 = 3.0}),
                    std::invalid_argument);
  REQUIRE_THROWS_WITH(ds::NormShrink<double>({.strength = -0.5}),
                      Catch::Equals("NormShrink: strength = -0.5 (must be finite and >= 0)"));
}

TEST_CASE("SharedNeighbours: hand-worked mask", "[filters][adaptive]") {
  // Users 0..4 and their items.
  const Csr csr({{1, 4}, {2}, {4, 7}, {}, {0, 2, 9}});
  ds::SharedNeighbours mask;
  const std::vector<ds::Id> ids = {0, 1, 2, 3, 4, 1};
  mask.Compute(ids, csr.View());
  // 0-2 share item 4; 1-4 share item 2; duplicated user 1 (rows 1, 5) shares with itself and 4.
  const bool expected[6][6] = {
      {1, 0, 1, 0, 0, 0}, {0, 1, 0, 0, 1, 1}, {1, 0, 1, 0, 0, 0},
      {0, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 1, 1}, {0, 1, 0, 0, 1, 1},
  };
  for (Index a = 0; a < 6; ++a)
    for (Index b = 0; b < 6; ++b) {
      INFO("a = " << a << ", b = " << b);
      REQUIRE(mask.Shares(a, b) == expected[a][b]);
    }
  const std::vector<ds::Id> bad = {0, 5};
  REQUIRE_THROWS_WITH(mask.Compute(bad, csr.View()),
                      Catch::Equals("SharedNeighbours: batch row 1 has id 5 (must lie in [0, 5), "
                                    "the adjacency's rows)"));
}

TEST_CASE("SharedNeighbours agrees with sorted-list intersection (B > 64, repeated use)",
          "[filters][adaptive]") {
  auto engine = ds::MakeStream(80);
  std::vector<std::vector<ds::Id>> rows(300);
  for (auto& row : rows) {
    const auto degree = ds::UniformIndex(engine, 6);
    for (std::uint64_t k = 0; k < degree; ++k)
      row.push_back(static_cast<ds::Id>(ds::UniformIndex(engine, 400)));
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
  }
  const Csr csr(rows);
  ds::SharedNeighbours mask;
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<ds::Id> ids(static_cast<std::size_t>(130 + trial * 7));
    for (auto& id : ids) id = static_cast<ds::Id>(ds::UniformIndex(engine, 300));
    mask.Compute(ids, csr.View());
    REQUIRE(mask.Rows() == static_cast<Index>(ids.size()));
    for (std::size_t a = 0; a < ids.size(); ++a)
      for (std::size_t b = 0; b < ids.size(); ++b)
        REQUIRE(mask.Shares(static_cast<Index>(a), static_cast<Index>(b)) ==
                Intersect(csr.View().Row(ids[a]), csr.View().Row(ids[b])));
  }
}

TEST_CASE("AdaptiveDirectSpecPlus: temperatures, reduction to DirectSpecPlus, gradient",
          "[filters][adaptive][gradient]") {
  const Csr csr({{1, 4}, {2}, {4, 7}, {}, {0, 2, 9}});
  const std::vector<ds::Id> ids = {0, 1, 2, 3, 4, 1};
  const ds::FilterContext ctx{ids, csr.View()};
  Mat X = Normalized(RandomMatrix(6, 4, 90));
  X.row(5) = X.row(1);

  ds::AdaptiveDirectSpecPlus<double> filter({.alpha = 0.9, .tau0 = 2.5, .tau1 = 3.0});
  Mat Y;
  filter.Forward(X, ctx, Y);
  const Mat& T = filter.Temperatures();
  for (Index a = 0; a < 6; ++a)
    for (Index b = 0; b < 6; ++b)
      REQUIRE(T(a, b) == ((a == b || filter.Mask().Shares(a, b)) ? 2.5 : 3.0));
  REQUIRE(T(3, 3) == 2.5);  // neighbourless row: the diagonal still gets τ0
  const Mat P = Softmax(T.cwiseProduct(X * X.transpose()));
  RequireClose(Y, X - 0.9 * P * X, 1e-14);

  RequireFilterGradient(filter, X, ctx, 91);
  ds::AdaptiveDirectSpecPlus<double> hot({.alpha = 1.0, .tau0 = 20.0, .tau1 = 12.0});
  RequireFilterGradient(hot, X, ctx, 92, 1e-6);

  // τ0 = τ1 is plain DirectSpecPlus, forward and backward.
  ds::AdaptiveDirectSpecPlus<double> same({.alpha = 0.9, .tau0 = 3.0, .tau1 = 3.0});
  ds::DirectSpecPlus<double> plain({.alpha = 0.9, .tau = 3.0});
  Mat Ya, Yp, Ga, Gp;
  same.Forward(X, ctx, Ya);
  plain.Forward(X, kNoContext, Yp);
  RequireClose(Ya, Yp, 1e-15);
  const Mat R = RandomMatrix(6, 4, 93);
  same.Backward(R, Ga);
  plain.Backward(R, Gp);
  RequireClose(Ga, Gp, 1e-14);
}

TEST_CASE("NormShrink: off, norm s||y||^2, gradient, zero row", "[filters][shrink][gradient]") {
  const Mat Y = RandomMatrix(5, 4, 100);
  ds::NormShrink<double> off;
  Mat O, G;
  off.Forward(Y, O);
  RequireClose(O, Y, 0);
  off.Backward(Y, G);
  RequireClose(G, Y, 0);

  ds::NormShrink<double> shrink({.strength = 0.3});
  shrink.Forward(Y, O);
  for (Index b = 0; b < 5; ++b) {
    REQUIRE(O.row(b).norm() == Approx(0.3 * Y.row(b).squaredNorm()));
    REQUIRE(O.row(b).dot(Y.row(b)) == Approx(O.row(b).norm() * Y.row(b).norm()));
  }
  RequireGradient([&](const Mat& in, Mat& out) { shrink.Forward(in, out); },
                  [&](const Mat& g, Mat& out) { shrink.Backward(g, out); }, Y, 101);

  Mat Z = Y;
  Z.row(2).setZero();
  shrink.Forward(Z, O);
  shrink.Backward(RandomMatrix(5, 4, 102), G);
  REQUIRE(G.allFinite());
  REQUIRE(G.row(2).isZero());
}

TEST_CASE("In-place calls give the same results as out-of-place ones", "[filters]") {
  const Mat X = Normalized(RandomMatrix(7, 3, 110));
  const Mat R = RandomMatrix(7, 3, 111);
  auto check = [&](auto& filter) {
    Mat Y, G;
    filter.Forward(X, kNoContext, Y);
    filter.Backward(R, G);
    Mat Yi = X, Gi = R;
    filter.Forward(Yi, kNoContext, Yi);
    filter.Backward(Gi, Gi);
    RequireClose(Yi, Y, 1e-15);
    RequireClose(Gi, G, 1e-15);
  };
  ds::DirectSpec<double> linear;
  ds::DirectSpec<double> linear_wide;  // d >= B form
  ds::DirectSpecPlus<double> plus;
  check(linear);
  check(plus);
  const Mat Xw = Normalized(RandomMatrix(3, 7, 112));
  Mat Y, G, Yi = Xw, Gi = RandomMatrix(3, 7, 113);
  const Mat Rw = Gi;
  linear_wide.Forward(Xw, kNoContext, Y);
  linear_wide.Backward(Rw, G);
  linear_wide.Forward(Yi, kNoContext, Yi);
  linear_wide.Backward(Gi, Gi);
  RequireClose(Yi, Y, 1e-15);
  RequireClose(Gi, G, 1e-15);
}

TEST_CASE("Float instantiations agree with double", "[filters][float]") {
  const Csr csr({{1, 4}, {2}, {4, 7}, {}, {0, 2, 9}, {7}, {1, 9}, {3}});
  std::vector<ds::Id> ids = {0, 1, 2, 3, 4, 5, 6, 7, 2, 0};
  const ds::FilterContext ctx{ids, csr.View()};
  Mat X = RandomMatrix(10, 6, 120);
  const Mat R = RandomMatrix(10, 6, 121);
  using MatF = ds::RowMatrix<float>;
  auto run = [&](auto& fd, auto& ff) {
    ds::RowNormalizer<double> nd;
    ds::RowNormalizer<float> nf;
    Mat Xh, Y, G, GX;
    MatF Xhf, Yf, Gf, GXf;
    nd.Forward(X, Xh);
    nf.Forward(X.cast<float>(), Xhf);
    fd.Forward(Xh, ctx, Y);
    ff.Forward(Xhf, ctx, Yf);
    fd.Backward(R, G);
    ff.Backward(R.cast<float>(), Gf);
    nd.Backward(G, GX);
    nf.Backward(Gf, GXf);
    RequireClose(Yf.cast<double>(), Y, 1e-5);
    RequireClose(GXf.cast<double>(), GX, 1e-4);
  };
  ds::NoFilter<double> n0;
  ds::NoFilter<float> n1;
  run(n0, n1);
  ds::DirectSpec<double> l0;
  ds::DirectSpec<float> l1;
  run(l0, l1);
  ds::DirectSpecPlus<double> p0({.alpha = 1.0, .tau = 20.0});
  ds::DirectSpecPlus<float> p1({.alpha = 1.0f, .tau = 20.0f});
  run(p0, p1);
  ds::AdaptiveDirectSpecPlus<double> a0;
  ds::AdaptiveDirectSpecPlus<float> a1;
  run(a0, a1);

  ds::NormShrink<double> s0({.strength = 0.03});
  ds::NormShrink<float> s1({.strength = 0.03f});
  Mat O, GY;
  MatF Of, GYf;
  s0.Forward(X, O);
  s1.Forward(X.cast<float>(), Of);
  s0.Backward(R, GY);
  s1.Backward(R.cast<float>(), GYf);
  RequireClose(Of.cast<double>(), O, 1e-5);
  RequireClose(GYf.cast<double>(), GY, 1e-5);
}
