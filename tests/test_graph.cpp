// Tests of graph/: the normalised adjacency Â (against a dense computation on tiny graphs,
// symmetry, zero-degree nodes) and the sparse products (against dense products, and bitwise
// equal across thread counts).

#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <cmath>
#include <random>
#include <utility>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/graph.hpp"
#include "support/encoder_checks.hpp"
#include "support/random_graph.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace directspec;
using directspec::testing::Mul;
using directspec::testing::RandomInteractions;
using directspec::testing::RandomRows;

namespace {

using Dense = Eigen::MatrixXd;

// Â computed densely from R: D^-1/2 A D^-1/2 with 0 for zero-degree nodes.
Dense DenseNormalized(const Interactions& train) {
  const Index n = train.Users(), m = train.Items();
  Dense A = Dense::Zero(n + m, n + m);
  for (const auto& [u, i] : train.Pairs()) {
    A(u, n + i) = 1;
    A(n + i, u) = 1;
  }
  const Eigen::VectorXd deg = A.rowwise().sum();
  Eigen::VectorXd s(n + m);
  for (Index r = 0; r < n + m; ++r) s[r] = deg[r] > 0 ? 1 / std::sqrt(deg[r]) : 0;
  for (Index r = 0; r < n + m; ++r)
    for (Index c = 0; c < n + m; ++c) A(r, c) *= s[r] * s[c];
  return A;
}

template <class S>
Dense ToDense(const NormalizedAdjacency<S>& graph) {
  Dense out = Dense::Zero(graph.Nodes(), graph.Nodes());
  for (Index r = 0; r < graph.Nodes(); ++r) {
    const auto cols = graph.Neighbours(r);
    const auto vals = graph.Weights(r);
    for (std::size_t k = 0; k < cols.size(); ++k) out(r, cols[k]) = static_cast<double>(vals[k]);
  }
  return out;
}

template <class S>
double Tolerance() {
  return std::is_same_v<S, float> ? 1e-5 : 1e-13;
}

}  // namespace

TEST_CASE("NormalizedAdjacency matches a hand-worked tiny graph", "[graph]") {
  // Users 0..2, items 0..2; (0,0) repeated; user 2 and item 2 have no interaction.
  const std::vector<std::pair<Id, Id>> pairs{{0, 0}, {0, 1}, {1, 1}, {0, 0}};
  const auto train = Interactions::FromPairs(3, 3, pairs);
  const NormalizedAdjacency<double> graph(train);
  REQUIRE(graph.Nodes() == 6);
  REQUIRE(graph.Nnz() == 6);  // 3 unique pairs, both directions
  // deg(user 0) = 2, deg(user 1) = 1, deg(item 0) = 1, deg(item 1) = 2.
  const Dense dense = ToDense(graph);
  CHECK(dense(0, 3) == Approx(1 / std::sqrt(2.0)).epsilon(1e-15));
  CHECK(dense(0, 4) == Approx(0.5).epsilon(1e-15));
  CHECK(dense(1, 4) == Approx(1 / std::sqrt(2.0)).epsilon(1e-15));
  CHECK(dense(4, 0) == Approx(0.5).epsilon(1e-15));
  CHECK(graph.Degree(2) == 0);  // zero-degree user
  CHECK(graph.Degree(5) == 0);  // zero-degree item
  CHECK(dense.row(2).isZero());
  CHECK(dense.col(5).isZero());
  CHECK((dense - DenseNormalized(train)).cwiseAbs().maxCoeff() < 1e-15);
  CHECK(graph.ItemNode(1) == 4);
}

TEMPLATE_TEST_CASE("NormalizedAdjacency is symmetric, finite and equals the dense formula",
                   "[graph]", float, double) {
  using S = TestType;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const auto train = RandomInteractions(9, 11, 0.3, seed);
    const NormalizedAdjacency<S> graph(train);
    REQUIRE(graph.Nnz() == 2 * train.Nnz());
    const Dense dense = ToDense(graph);
    CHECK(dense.allFinite());
    CHECK(dense == dense.transpose());  // exact: both halves use the same double product
    CHECK((dense - DenseNormalized(train)).cwiseAbs().maxCoeff() < Tolerance<S>());
    // Columns sorted and unique within each row, users link only to items and vice versa.
    for (Index r = 0; r < graph.Nodes(); ++r) {
      const auto cols = graph.Neighbours(r);
      for (std::size_t k = 1; k < cols.size(); ++k) CHECK(cols[k - 1] < cols[k]);
      for (Id c : cols) CHECK((r < graph.Users()) == (c >= graph.Users()));
    }
    CHECK(graph.Degree(train.Users() - 1) == 0);
    CHECK(graph.Degree(graph.Nodes() - 1) == 0);
  }
}

TEST_CASE("NormalizedAdjacency of an empty interaction matrix is all zero", "[graph]") {
  const auto train = Interactions::FromPairs(2, 3, std::vector<std::pair<Id, Id>>{});
  const NormalizedAdjacency<double> graph(train);
  CHECK(graph.Nodes() == 5);
  CHECK(graph.Nnz() == 0);
  RowMatrix<double> X = RandomRows<double>(5, 3, 7), Y;
  Multiply(graph, X, Y);
  CHECK(Y.isZero());
}

TEMPLATE_TEST_CASE("Sparse products equal dense products", "[graph][spmm]", float, double) {
  using S = TestType;
  const auto train = RandomInteractions(13, 17, 0.25, 11);
  const NormalizedAdjacency<S> graph(train);
  const Dense A = ToDense(graph);
  const Index N = graph.Nodes(), d = 5;
  const RowMatrix<S> X = RandomRows<S>(N, d, 3);
  const RowMatrix<S> B = RandomRows<S>(N, d, 4);
  const Dense Xd = X.template cast<double>(), Bd = B.template cast<double>();
  const double tol = Tolerance<S>() * 10;

  SECTION("Y = A X and Y = gamma A X + beta B") {
    RowMatrix<S> Y;
    Multiply(graph, X, Y);
    CHECK((Y.template cast<double>() - Mul(A, Xd)).cwiseAbs().maxCoeff() < tol);
    MultiplyAdd<S>(graph, S(0.5), X, S(-2), &B, Y);
    CHECK((Y.template cast<double>() - (0.5 * Mul(A, Xd) - 2 * Bd)).cwiseAbs().maxCoeff() < tol);
  }
  SECTION("row-restricted pull, compact and by node") {
    const std::vector<Id> rows{16, 0, 29, 5, 12};  // 29: the zero-degree item node
    const Dense full = 0.5 * Mul(A, Xd) + 3 * Bd;
    RowMatrix<S> Yc;
    MultiplyAddRows<S>(graph, rows, S(0.5), X, S(3), &B, Yc, RowOutput::kCompact);
    REQUIRE(Yc.rows() == 5);
    RowMatrix<S> Yn = RowMatrix<S>::Constant(N, d, S(42));
    MultiplyAddRows<S>(graph, rows, S(0.5), X, S(3), &B, Yn, RowOutput::kByNode);
    std::vector<bool> listed(static_cast<std::size_t>(N), false);
    for (std::size_t k = 0; k < rows.size(); ++k) {
      listed[static_cast<std::size_t>(rows[k])] = true;
      CHECK((Yc.row(static_cast<Index>(k)).template cast<double>() - full.row(rows[k]))
                .cwiseAbs()
                .maxCoeff() < tol);
      CHECK((Yn.row(rows[k]).template cast<double>() - full.row(rows[k])).cwiseAbs().maxCoeff() <
            tol);
    }
    CHECK(Yc.row(2).isZero(0) == false);
    CHECK((Yc.row(2).template cast<double>() - 3 * Bd.row(29)).cwiseAbs().maxCoeff() < tol);
    for (Index r = 0; r < N; ++r)
      if (!listed[static_cast<std::size_t>(r)]) CHECK((Yn.row(r).array() == S(42)).all());
  }
  SECTION("scatter from sources equals A times X restricted to the sources") {
    const std::vector<Id> sources{3, 20, 7, 14};
    Dense Xs = Dense::Zero(N, d);
    for (Id s : sources) Xs.row(s) = Xd.row(s);
    const Dense expected = 2 * Mul(A, Xs);
    RowMatrix<S> Y = RowMatrix<S>::Zero(N, d);
    ScatterAddRows<S>(graph, sources, S(2), X, Y);
    CHECK((Y.template cast<double>() - expected).cwiseAbs().maxCoeff() < tol);
    // Compact output through a position map: every node listed, in reverse order.
    std::vector<Id> position(static_cast<std::size_t>(N));
    for (Index r = 0; r < N; ++r)
      position[static_cast<std::size_t>(r)] = static_cast<Id>(N - 1 - r);
    RowMatrix<S> Yc = RowMatrix<S>::Ones(N, d);
    ScatterAddRows<S>(graph, sources, S(2), X, Yc, position.data());
    for (Index r = 0; r < N; ++r)
      CHECK((Yc.row(N - 1 - r).template cast<double>() - expected.row(r) -
             Eigen::RowVectorXd::Ones(d))
                .cwiseAbs()
                .maxCoeff() < tol);
  }
}

TEST_CASE("BalancedBoundary partitions all rows monotonically", "[graph][spmm]") {
  const auto train = RandomInteractions(50, 80, 0.1, 5);
  const NormalizedAdjacency<float> graph(train);
  for (int parts = 1; parts <= 5; ++parts) {
    CHECK(detail::BalancedBoundary(graph.Offsets(), 0, parts) == 0);
    CHECK(detail::BalancedBoundary(graph.Offsets(), parts, parts) == graph.Nodes());
    for (int p = 0; p < parts; ++p)
      CHECK(detail::BalancedBoundary(graph.Offsets(), p, parts) <=
            detail::BalancedBoundary(graph.Offsets(), p + 1, parts));
  }
  // Two parts hold about half of (non-zeros + rows) each.
  const Index mid = detail::BalancedBoundary(graph.Offsets(), 1, 2);
  const double first = static_cast<double>(graph.Offsets()[static_cast<std::size_t>(mid)] + mid);
  const double total = static_cast<double>(graph.Nnz() + graph.Nodes());
  CHECK(first / total == Approx(0.5).margin(0.05));
}

TEST_CASE("BalancedListRange tiles a row list into runs of similar work", "[graph][spmm]") {
  const auto train = RandomInteractions(50, 80, 0.1, 5);
  const NormalizedAdjacency<float> graph(train);
  std::vector<Id> rows;  // unsorted, with a repeat: the split only follows the list order
  for (Id r = graph.Nodes() - 1; r >= 0; r -= 3) rows.push_back(r);
  rows.push_back(rows.front());
  std::int64_t cost = 0;
  for (Id r : rows) cost += static_cast<std::int64_t>(graph.Neighbours(r).size()) + 1;
  const auto count = static_cast<Index>(rows.size());
  for (int parts = 1; parts <= 5; ++parts) {
    Index expected_first = 0;
    for (int p = 0; p < parts; ++p) {
      const auto [first, last] = detail::BalancedListRange(graph.Offsets(), rows, cost, p, parts);
      CHECK(first == expected_first);
      CHECK(first <= last);
      expected_first = last;
    }
    CHECK(expected_first == count);
  }
  // Two parts hold about half of (non-zeros + rows) each.
  const auto [first, mid] = detail::BalancedListRange(graph.Offsets(), rows, cost, 0, 2);
  std::int64_t before = 0;
  for (Index k = first; k < mid; ++k)
    before +=
        static_cast<std::int64_t>(graph.Neighbours(rows[static_cast<std::size_t>(k)]).size()) + 1;
  CHECK(static_cast<double>(before) / static_cast<double>(cost) == Approx(0.5).margin(0.1));
  // An empty list is one empty run.
  const auto [e0, e1] = detail::BalancedListRange(graph.Offsets(), {}, 0, 1, 2);
  CHECK(e0 == 0);
  CHECK(e1 == 0);
}

#ifdef _OPENMP
TEMPLATE_TEST_CASE("Sparse products are bitwise identical on 1 and 2 threads", "[graph][spmm]",
                   float, double) {
  using S = TestType;
  const auto train = RandomInteractions(300, 400, 0.05, 9);  // large enough to run in parallel
  const NormalizedAdjacency<S> graph(train);
  const Index N = graph.Nodes(), d = 16;
  REQUIRE(graph.Nnz() * d >= detail::kParallelMultiplyAdds);
  const RowMatrix<S> X = RandomRows<S>(N, d, 3);
  std::vector<Id> rows;
  for (Id r = 0; r < N; r += 2) rows.push_back(r);
  // A mask admitting every third node.
  std::vector<std::uint64_t> bits((static_cast<std::size_t>(N) + 63) / 64, 0);
  for (Id c = 0; c < N; c += 3) SetBit(bits.data(), static_cast<std::size_t>(c));
  const ColumnMask mask{bits.data()};
  const int saved = omp_get_max_threads();
  RowMatrix<S> Y[2], Yr[2], Ym[2], Ys[2];
  for (int t = 1; t <= 2; ++t) {
    omp_set_num_threads(t);
    Multiply(graph, X, Y[t - 1]);
    MultiplyAddRows<S>(graph, rows, S(1), X, S(1), &X, Yr[t - 1], RowOutput::kCompact);
    MultiplyAddRows<S>(graph, rows, S(2), X, S(0), nullptr, Ym[t - 1], RowOutput::kCompact, mask);
    Ys[t - 1].setZero(N, d);
    ScatterAddRows<S>(graph, rows, S(1), X, Ys[t - 1]);
  }
  omp_set_num_threads(saved);
  CHECK(Y[0] == Y[1]);
  CHECK(Yr[0] == Yr[1]);
  CHECK(Ym[0] == Ym[1]);
  CHECK(Ys[0] == Ys[1]);
  // The masked rows are the product with X zeroed outside the mask.
  RowMatrix<S> X_masked = X, Y_masked;
  for (Id c = 0; c < N; ++c)
    if (c % 3 != 0) X_masked.row(c).setZero();
  MultiplyAddRows<S>(graph, rows, S(2), X_masked, S(0), nullptr, Y_masked, RowOutput::kCompact);
  CHECK((Ym[0] - Y_masked).cwiseAbs().maxCoeff() <=
        S(1e-5) * (S(1) + Y_masked.cwiseAbs().maxCoeff()));
}
#endif
