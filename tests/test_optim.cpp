// Optimizers: one step against hand computation, duplicate batch ids against dense updates on the
// summed gradient, lazy Adam against dense Adam on rows touched every step, decay policies.

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "directspec/core/row_gradient.hpp"
#include "directspec/optim.hpp"

using namespace directspec;

namespace {

template <class S>
RowMatrix<S> Table(Index rows, Index cols, double start) {
  RowMatrix<S> t(rows, cols);
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c) t(r, c) = static_cast<S>(start + 0.37 * r - 0.21 * c * c);
  return t;
}

// Dense Adam on a full gradient (zero rows included): the textbook algorithm with one global step.
template <class S>
struct DenseAdam {
  explicit DenseAdam(double rate) : lr(rate) {}
  double lr, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  RowMatrix<S> m, v;
  int t = 0;
  void Step(RowMatrix<S>& table, const RowMatrix<S>& g) {
    if (m.size() == 0) {
      m.setZero(table.rows(), table.cols());
      v.setZero(table.rows(), table.cols());
    }
    ++t;
    m = S(b1) * m + S(1 - b1) * g;
    v = S(b2) * v + S(1 - b2) * g.cwiseAbs2();
    const S c1 = S(1 - std::pow(b1, t)), c2 = S(1 - std::pow(b2, t));
    table.array() -= (S(lr) / c1) * m.array() / ((v.array() / c2).sqrt() + S(eps));
  }
};

}  // namespace

TEMPLATE_TEST_CASE("Sgd: one step equals the hand computation on touched rows only", "[optim]",
                   float, double) {
  using S = TestType;
  RowMatrix<S> table(3, 2);
  table << 1, 2, 3, 4, 5, 6;
  RowGradient<S> g;
  g.rows = {2, 0};
  g.values.resize(2, 2);
  g.values << 0.5, -1, 2, 0.25;
  Sgd<S> sgd(0.5);
  sgd.Update({&table}, {g});
  RowMatrix<S> want(3, 2);
  want << 1 - 0.5 * 2, 2 - 0.5 * 0.25, 3, 4, 5 - 0.5 * 0.5, 6 + 0.5 * 1;
  CHECK(table == want);  // exact: each entry is one multiply-subtract of representable values
  CHECK(sgd.LearningRate() == S(0.5));
}

TEMPLATE_TEST_CASE("Sgd and Adam: duplicate batch ids give the dense update on the summed gradient",
                   "[optim]", float, double) {
  using S = TestType;
  // Batch of 5 occurrences touching rows 3, 1, 3, 0, 3 of a 5-row table (row 2, 4 untouched).
  const std::vector<Id> ids = {3, 1, 3, 0, 3};
  RowMatrix<S> per_occurrence(5, 3);
  per_occurrence << 0.1, -0.2, 0.3, 1.0, 0.5, -0.5, -0.4, 0.7, 0.2, 0.05, 0.0, -0.3, 0.25, 0.25,
      -0.1;
  std::vector<Id> slot(5, -1);
  RowGradient<S> g;
  AccumulateRows(ids, per_occurrence, slot, g);
  REQUIRE(g.rows == std::vector<Id>{3, 1, 0});
  RowMatrix<S> dense = RowMatrix<S>::Zero(5, 3);
  for (Index b = 0; b < 5; ++b) dense.row(ids[b]) += per_occurrence.row(b);
  const S tol = std::is_same_v<S, float> ? S(1e-6) : S(1e-14);

  RowMatrix<S> sparse_table = Table<S>(5, 3, 0.5), dense_table = sparse_table;
  Sgd<S> sgd(0.3);
  sgd.Update({&sparse_table}, {g});
  dense_table -= S(0.3) * dense;
  CHECK((sparse_table - dense_table).cwiseAbs().maxCoeff() <= tol);

  RowMatrix<S> lazy_table = Table<S>(5, 3, 0.5);
  dense_table = lazy_table;
  Adam<S> adam({.learning_rate = 0.01});
  adam.Update({&lazy_table}, {g});
  DenseAdam<S> reference(0.01);
  reference.Step(dense_table, dense);  // zero-gradient rows get a zero update at step 1
  CHECK((lazy_table - dense_table).cwiseAbs().maxCoeff() <= tol);
  CHECK(adam.RowSteps(0, 3) == 1);
  CHECK(adam.RowSteps(0, 2) == 0);
}

TEMPLATE_TEST_CASE("Adam: first step is lr * g / (|g| + eps), by hand", "[optim]", float, double) {
  using S = TestType;
  RowMatrix<S> table(2, 2);
  table << 1, 1, 1, 1;
  RowGradient<S> g;
  g.rows = {1};
  g.values.resize(1, 2);
  g.values << 4, -1e-9;
  Adam<S> adam({.learning_rate = 0.1, .beta1 = 0.9, .beta2 = 0.999, .epsilon = 1e-8});
  adam.Update({&table}, {g});
  // m̂ = g, v̂ = g², so the step is lr g / (|g| + eps).
  const double second = 1 - 0.1 * (-1e-9) / (1e-9 + 1e-8);
  CHECK(table(0, 0) == S(1));
  CHECK(table(1, 0) == Approx(1 - 0.1 * 4 / (4 + 1e-8)).epsilon(1e-6));
  CHECK(table(1, 1) == Approx(second).epsilon(1e-6));
}

TEMPLATE_TEST_CASE("Lazy Adam equals dense Adam on rows touched at every step", "[optim]", float,
                   double) {
  using S = TestType;
  RowMatrix<S> lazy_table = Table<S>(4, 3, -0.2), dense_table = lazy_table;
  const RowMatrix<S> start = lazy_table;
  Adam<S> adam({.learning_rate = 0.05});
  DenseAdam<S> dense(0.05);
  for (int step = 0; step < 12; ++step) {
    // Rows 0 and 2 every step, row 1 on even steps only, row 3 never.
    RowGradient<S> g;
    g.rows.push_back(2);
    g.rows.push_back(0);
    if (step % 2 == 0) g.rows.push_back(1);
    g.values.resize(g.Size(), 3);
    for (Index k = 0; k < g.Size(); ++k)
      for (Index c = 0; c < 3; ++c)
        g.values(k, c) = static_cast<S>(std::sin(1.3 * step + 0.7 * g.rows[k] + 0.4 * c));
    RowMatrix<S> full = RowMatrix<S>::Zero(4, 3);
    for (Index k = 0; k < g.Size(); ++k) full.row(g.rows[k]) = g.values.row(k);
    adam.Update({&lazy_table}, {g});
    dense.Step(dense_table, full);
  }
  const S tol = std::is_same_v<S, float> ? S(2e-6) : S(1e-13);
  CHECK((lazy_table.row(0) - dense_table.row(0)).cwiseAbs().maxCoeff() <= tol);
  CHECK((lazy_table.row(2) - dense_table.row(2)).cwiseAbs().maxCoeff() <= tol);
  // The lazy variant differs where rows skip steps: row 1 keeps its own count (6 steps) ...
  CHECK(adam.RowSteps(0, 1) == 6);
  CHECK(adam.RowSteps(0, 0) == 12);
  CHECK((lazy_table.row(1) - dense_table.row(1)).cwiseAbs().maxCoeff() > 1e-4);
  // ... and an untouched row never moves (dense Adam does not move it either: zero moments).
  CHECK(lazy_table.row(3) == start.row(3));
  adam.Reset();
  CHECK(adam.RowSteps(0, 0) == 0);
}

TEST_CASE("Decay policies give the documented learning-rate sequences", "[optim]") {
  Sgd<float, ExponentialDecay> exp_sgd(180.0, ExponentialDecay{0.9995});
  double expected = 180.0;
  for (Index epoch = 1; epoch <= 5; ++epoch) {
    exp_sgd.EndEpoch(epoch);
    expected *= 0.9995;
    CHECK(exp_sgd.LearningRateDouble() == expected);  // same double sequence as the reference
  }
  CHECK(exp_sgd.LearningRate() == static_cast<float>(expected));
  exp_sgd.Reset();
  CHECK(exp_sgd.LearningRateDouble() == 180.0);

  Sgd<double, StepDecay> step_sgd(1.0, StepDecay{.every = 2, .factor = 0.5});
  const double want[] = {1.0, 0.5, 0.5, 0.25, 0.25};
  for (Index epoch = 1; epoch <= 5; ++epoch) {
    step_sgd.EndEpoch(epoch);
    CHECK(step_sgd.LearningRateDouble() == want[epoch - 1]);
  }
  Sgd<double> constant(0.1);
  constant.EndEpoch(1);
  CHECK(constant.LearningRateDouble() == 0.1);

  Adam<float, ExponentialDecay> adam({.learning_rate = 1e-2}, ExponentialDecay{0.5});
  adam.EndEpoch(1);
  CHECK(adam.LearningRateDouble() == 5e-3);
}

TEST_CASE("Optimizers reject bad options and mismatched gradients", "[optim]") {
  CHECK_THROWS_WITH(Sgd<float>(0.0), Catch::Contains("learning rate") && Catch::Contains("0"));
  CHECK_THROWS_AS(Sgd<float>(std::nan("")), std::invalid_argument);
  CHECK_THROWS_WITH(Adam<float>({.beta1 = 1.0}), Catch::Contains("beta1"));
  CHECK_THROWS_AS(Adam<float>({.epsilon = 0}), std::invalid_argument);
  Sgd<float, ExponentialDecay> bad(1.0, ExponentialDecay{-1});
  CHECK_THROWS_WITH(bad.EndEpoch(1), Catch::Contains("factor"));
  Sgd<float, StepDecay> bad_step(1.0, StepDecay{.every = 0});
  CHECK_THROWS_WITH(bad_step.EndEpoch(1), Catch::Contains("every"));

  RowMatrix<float> table = RowMatrix<float>::Zero(3, 2);
  RowGradient<float> g;
  g.rows = {0};
  g.values = RowMatrix<float>::Ones(1, 3);  // 3 columns for a 2-column table
  Sgd<float> sgd(1.0);
  CHECK_THROWS_WITH(sgd.Update({&table}, {g}),
                    Catch::Contains("3 columns") || Catch::Contains("2 columns"));
  CHECK_THROWS_WITH(sgd.Update({&table}, {}), Catch::Contains("1 tables but 0 gradients"));
}
