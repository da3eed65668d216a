// Reliability checks across the pipeline (docs/reliability.md):
//  - numerical safety: absurd learning rates end in a DivergenceError that names the table and
//    the learning rate (never in silently NaN tables); filters at extreme temperatures, with
//    zero-norm rows and with batches of one repeated row give finite outputs and gradients;
//  - thread safety: the evaluator and the trainer give bitwise-identical results with 1 and 2
//    threads, as their headers document;
// Regression tests for bugs found by the fuzz targets live in test_reliability_regressions.cpp.
// Everything runs on small synthetic data and finishes in a few seconds.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "directspec/core/batch.hpp"
#include "directspec/data/interactions.hpp"
#include "directspec/data/synthetic.hpp"
#include "directspec/eval/evaluator.hpp"
#include "directspec/filters/adaptive_direct_spec_plus.hpp"
#include "directspec/filters/direct_spec.hpp"
#include "directspec/filters/direct_spec_plus.hpp"
#include "directspec/filters/norm_shrink.hpp"
#include "directspec/filters/row_normalizer.hpp"
#include "directspec/losses/bpr_loss.hpp"
#include "directspec/losses/log_loss.hpp"
#include "directspec/models/lightgcn.hpp"
#include "directspec/models/mf.hpp"
#include "directspec/optim/sgd.hpp"
#include "directspec/samplers/batch_sampler.hpp"
#include "directspec/train/trainer.hpp"
#include "directspec/train/training_callbacks.hpp"

using namespace directspec;

namespace {

// 60 users x 40 items, about 8 interactions per user: a few milliseconds per epoch.
const Dataset& Small() {
  static const Dataset d = [] {
    SyntheticOptions o;
    o.users = 60;
    o.items = 40;
    o.clusters = 3;
    o.mean_degree = 8;
    o.min_degree = 3;
    o.seed = 11;
    return MakeSyntheticDataset(o);
  }();
  return d;
}

template <class S>
using MfPlusTrainer = Trainer<MF<S>, DirectSpecPlus<S>, LogLoss<S>, UserThenPositive<>, Sgd<S>>;

template <class S>
MfPlusTrainer<S> MakeMfPlus(double lr, double tau, bool normalize_rows, int threads = 0,
                            Index epochs = 2) {
  typename MfPlusTrainer<S>::Options o;
  o.epochs = epochs;
  o.batch_size = 32;
  o.seed = 5;
  o.threads = threads;
  o.normalize_rows = normalize_rows;
  o.shrink = normalize_rows ? 0.03 : 0.0;
  o.user_filter = o.item_filter = {.alpha = S(1), .tau = static_cast<S>(tau)};
  return MfPlusTrainer<S>(o, MF<S>({.dim = 8}), LogLoss<S>(), UserThenPositive<>(), Sgd<S>(lr));
}

template <class T>
bool TablesFinite(T& trainer) {
  for (const auto* table : trainer.Encoder().Tables())
    if (!table->allFinite()) return false;
  return true;
}

template <class S>
bool SameBits(const RowMatrix<S>& a, const RowMatrix<S>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.size()) * sizeof(S)) == 0;
}

template <class S>
RowMatrix<S> RandomRows(Index rows, Index cols, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  RowMatrix<S> x(rows, cols);
  for (Index k = 0; k < x.size(); ++k) x.data()[k] = static_cast<S>(normal(engine));
  return x;
}

// One side's forward and backward chain as the trainer runs it (RowNormalizer -> filter ->
// NormShrink), with the log loss on top; checks that every intermediate is finite.
template <class S, class Filter>
void CheckChainFinite(Filter& filter, const RowMatrix<S>& XU, const RowMatrix<S>& XI,
                      const FilterContext& ctx_u, const FilterContext& ctx_i) {
  RowNormalizer<S> norm_u, norm_i;
  NormShrink<S> shrink_u({.strength = S(0.03)}), shrink_i({.strength = S(0.03)});
  Filter filter_i = filter;
  RowMatrix<S> hu, hi, yu, yi, ou, oi, gou, goi, gyu, gyi, ghu, ghi, gxu, gxi;
  norm_u.Forward(XU, hu);
  norm_i.Forward(XI, hi);
  filter.Forward(hu, ctx_u, yu);
  filter_i.Forward(hi, ctx_i, yi);
  shrink_u.Forward(yu, ou);
  shrink_i.Forward(yi, oi);
  CHECK(hu.allFinite());
  CHECK(yu.allFinite());
  CHECK(yi.allFinite());
  CHECK(ou.allFinite());
  Batch batch;
  batch.users.assign(static_cast<std::size_t>(XU.rows()), 0);
  batch.positives.assign(static_cast<std::size_t>(XI.rows()), 0);
  LogLoss<S> loss;
  const S value = loss.Evaluate(ou, oi, batch, gou, goi);
  CHECK(std::isfinite(value));
  shrink_u.Backward(gou, gyu);
  shrink_i.Backward(goi, gyi);
  filter.Backward(gyu, ghu);
  filter_i.Backward(gyi, ghi);
  norm_u.Backward(ghu, gxu);
  norm_i.Backward(ghi, gxi);
  CHECK(gyu.allFinite());
  CHECK(ghu.allFinite());
  CHECK(ghi.allFinite());
  CHECK(gxu.allFinite());
  CHECK(gxi.allFinite());
}

}  // namespace

// ------------------------------------------------------------------------------ divergence guard

TEMPLATE_TEST_CASE(
    "An absurd learning rate without row normalisation ends in a DivergenceError "
    "naming the table and the learning rate",
    "[reliability][divergence]", float, double) {
  using S = TestType;
  const auto& train = Small().train;

  // Control: without the guard the same run silently leaves non-finite tables.
  auto unguarded = MakeMfPlus<S>(1e30, 3.0, false);
  unguarded.Train(train);
  REQUIRE_FALSE(TablesFinite(unguarded));

  auto trainer = MakeMfPlus<S>(1e30, 3.0, false);
  DivergenceGuard guard;
  std::string message;
  try {
    trainer.Train(train, guard);
  } catch (const DivergenceError& e) {
    message = e.what();
  }
  INFO("message: " << message);
  REQUIRE_FALSE(message.empty());
  CHECK(guard.Diverged());
  CHECK(message.find("learning rate 1e+30") != std::string::npos);
  CHECK(message.find("lower the learning rate") != std::string::npos);
  // The table that went bad, so the user knows where to look. At lr = 1e30 the first step leaves
  // finite but ~1e28-sized rows, and the next batch loss overflows to NaN before any table entry
  // does: the guard must still say which table holds the runaway rows.
  const bool names_table = message.find("table 'user'") != std::string::npos ||
                           message.find("table 'item'") != std::string::npos;
  CHECK(names_table);
}

TEMPLATE_TEST_CASE("The soft DivergenceGuard stops training and reports why",
                   "[reliability][divergence]", float, double) {
  using S = TestType;
  auto trainer = MakeMfPlus<S>(1e30, 3.0, false, 0, 3);
  DivergenceGuard guard({.throw_on_divergence = false});
  LossLog log;
  const TrainingState state = trainer.Train(Small().train, guard, log);
  CHECK(trainer.Stopped());
  CHECK(guard.Diverged());
  CHECK(guard.Message().find("learning rate 1e+30") != std::string::npos);
  CHECK(state.epoch == 1);           // stopped inside the first epoch,
  CHECK(log.EpochLosses().empty());  // before any epoch finished
}

TEMPLATE_TEST_CASE("The reference recipe at an absurd learning rate never leaves NaN silently",
                   "[reliability][divergence]", float, double) {
  using S = TestType;
  // With row normalisation the step is scale-invariant: lr = 1e30 inflates the rows to ~1e24
  // and collapses the model (loss -> ln 2) but need not produce NaN. Whatever happens, either the
  // guard throws naming the learning rate, or every table entry is finite.
  for (double tau : {3.0, 50.0, 1e4}) {
    auto trainer = MakeMfPlus<S>(1e30, tau, true);
    DivergenceGuard guard;
    LossLog log;
    try {
      trainer.Train(Small().train, guard, log);
      INFO("tau " << tau);
      CHECK(TablesFinite(trainer));
      for (double loss : log.EpochLosses()) CHECK(std::isfinite(loss));
    } catch (const DivergenceError& e) {
      INFO("tau " << tau << ": " << e.what());
      CHECK(std::string(e.what()).find("learning rate") != std::string::npos);
    }
  }
}

TEMPLATE_TEST_CASE("Extreme temperatures and the reference learning rate train to finite tables",
                   "[reliability][divergence]", float, double) {
  using S = TestType;
  for (double tau : {-50.0, 0.0, 50.0, 1e4}) {
    auto trainer = MakeMfPlus<S>(180.0, tau, true);
    DivergenceGuard guard;
    INFO("tau " << tau);
    CHECK_NOTHROW(trainer.Train(Small().train, guard));
    CHECK(TablesFinite(trainer));
  }
}

TEST_CASE("Sgd refuses a learning rate the scalar type cannot represent",
          "[reliability][divergence]") {
  // Sgd<float>(1e300) is accepted (finite as a double) but steps by static_cast<float>(1e300) =
  // inf; the DivergenceGuard then reports "learning rate inf" instead of the configured value.
  // Likewise 1e-50 rounds to a zero step in float and training silently does nothing.
  CHECK_THROWS_AS(Sgd<float>(1e300), std::invalid_argument);
  CHECK_THROWS_AS(Sgd<float>(1e-50), std::invalid_argument);
  CHECK_NOTHROW(Sgd<double>(1e300));
  CHECK_NOTHROW(Sgd<float>(180.0));
}

TEMPLATE_TEST_CASE("Zero-norm rows in the tables train to finite values", "[reliability][numeric]",
                   float, double) {
  using S = TestType;
  const auto& train = Small().train;
  auto trainer = MakeMfPlus<S>(180.0, 3.0, true);
  trainer.Initialize(train);
  RowMatrix<S> U = trainer.Encoder().UserTable(), I = trainer.Encoder().ItemTable();
  U.topRows(10).setZero();  // users 0..9 (and items 0..9) start at the origin
  I.topRows(10).setZero();
  trainer.Encoder().SetTables(U, I);
  auto options = trainer.GetOptions();
  options.warm_start = true;
  MfPlusTrainer<S> warm(options, trainer.Encoder(), LogLoss<S>(), UserThenPositive<>(),
                        Sgd<S>(180.0));
  DivergenceGuard guard;
  CHECK_NOTHROW(warm.Train(train, guard));
  CHECK(TablesFinite(warm));
}

// ---------------------------------------------------------------------------------- filters

TEMPLATE_TEST_CASE(
    "DirectSpec+ at temperatures up to 50 (and beyond) has finite outputs and "
    "gradients",
    "[reliability][numeric]", float, double) {
  using S = TestType;
  const RowMatrix<S> XU = RandomRows<S>(64, 16, 1), XI = RandomRows<S>(64, 16, 2);
  const FilterContext ctx{};
  for (double tau : {-50.0, 0.0, 1.0, 3.0, 50.0, 1e4, 1e30}) {
    INFO("tau " << tau);
    DirectSpecPlus<S> filter({.alpha = S(1), .tau = static_cast<S>(tau)});
    CheckChainFinite<S>(filter, XU, XI, ctx, ctx);
  }
}

TEMPLATE_TEST_CASE(
    "Filters handle zero-norm rows, all-zero batches and batches of one repeated "
    "row",
    "[reliability][numeric]", float, double) {
  using S = TestType;
  const Index d = 16;
  const FilterContext ctx{};
  std::vector<std::pair<std::string, RowMatrix<S>>> batches;
  {
    RowMatrix<S> x = RandomRows<S>(32, d, 3);
    x.row(0).setZero();
    x.row(7).setZero();
    batches.emplace_back("two zero rows", x);
  }
  batches.emplace_back("all zero", RowMatrix<S>::Zero(16, d));
  for (Index b : {1, 2, 64, 256}) {
    const RowMatrix<S> row = RandomRows<S>(1, d, 4);
    batches.emplace_back("one row repeated " + std::to_string(b), row.replicate(b, 1));
  }
  batches.emplace_back("tiny rows", RandomRows<S>(8, d, 5) * S(1e-30));
  batches.emplace_back("huge rows", RandomRows<S>(8, d, 6) * S(1e18));
  for (const auto& [name, x] : batches) {
    INFO(name);
    for (double tau : {3.0, 50.0}) {
      INFO("tau " << tau);
      DirectSpecPlus<S> plus({.alpha = S(1), .tau = static_cast<S>(tau)});
      CheckChainFinite<S>(plus, x, x, ctx, ctx);
    }
    DirectSpec<S> spec({.alpha = S(1)});
    CheckChainFinite<S>(spec, x, x, ctx, ctx);
  }
}

TEMPLATE_TEST_CASE("DirectSpec+ on a batch of one repeated row removes the common direction",
                   "[reliability][numeric]", float, double) {
  using S = TestType;
  // B copies of one unit row: the softmax is uniform, so Y = x̂ − α x̂ = (1 − α) x̂ exactly in
  // exact arithmetic, whatever τ is.
  RowMatrix<S> row = RandomRows<S>(1, 16, 7);
  row /= row.norm();
  const RowMatrix<S> X = row.replicate(64, 1);
  for (double tau : {3.0, 50.0}) {
    DirectSpecPlus<S> filter({.alpha = S(0.25), .tau = static_cast<S>(tau)});
    RowMatrix<S> Y;
    filter.Forward(X, FilterContext{}, Y);
    const S tol = std::is_same_v<S, float> ? S(1e-5) : S(1e-12);
    CHECK((Y - S(0.75) * X).cwiseAbs().maxCoeff() < tol);
  }
}

TEMPLATE_TEST_CASE("AdaptiveDirectSpec+ at temperature 50 with repeated ids is finite",
                   "[reliability][numeric]", float, double) {
  using S = TestType;
  const auto& train = Small().train;
  const std::vector<Id> users(48, 3);  // one user, 48 times
  std::vector<Id> items;
  for (Id i = 0; i < 48; ++i) items.push_back(i % 5);
  const RowMatrix<S> XU = RandomRows<S>(1, 8, 8).replicate(48, 1);
  const RowMatrix<S> XI = RandomRows<S>(48, 8, 9);
  AdaptiveDirectSpecPlus<S> filter({.alpha = S(1), .tau0 = S(50), .tau1 = S(50)});
  CheckChainFinite<S>(filter, XU, XI, FilterContext{users, train.View()},
                      FilterContext{items, train.Transposed()});
}

TEMPLATE_TEST_CASE("Losses stay finite for huge logits", "[reliability][numeric]", float, double) {
  using S = TestType;
  const Index B = 8, d = 4;
  Batch batch;
  batch.users.assign(B, 0);
  batch.positives.assign(B, 1);
  batch.negatives.assign(B, 2);
  batch.negatives_per_positive = 1;
  for (S scale : {S(1e3), S(-1e3), S(1e15)}) {
    INFO("scale " << scale);
    const RowMatrix<S> OU = RandomRows<S>(B, d, 10) * scale;
    const RowMatrix<S> OI = RandomRows<S>(2 * B, d, 11) * scale;
    RowMatrix<S> GU, GI;
    LogLoss<S> log_loss;
    const S l1 = log_loss.Evaluate(OU, OI, batch, GU, GI);
    CHECK(std::isfinite(l1));
    CHECK(GU.allFinite());
    CHECK(GI.allFinite());
    BprLoss<S> bpr;
    const S l2 = bpr.Evaluate(OU, OI, batch, GU, GI);
    CHECK(std::isfinite(l2));
    CHECK(GU.allFinite());
    CHECK(GI.allFinite());
  }
}

// ---------------------------------------------------------------------------- thread safety

TEST_CASE("The evaluator gives identical results with 1 and 2 threads", "[reliability][threads]") {
#if defined(_OPENMP)
  const auto& d = Small();
  const RowMatrix<float> U = RandomRows<float>(d.Users(), 8, 12);
  const RowMatrix<float> I = RandomRows<float>(d.Items(), 8, 13);
  EvalOptions o;
  o.ks = {1, 5, 10};
  o.mode = EvalMode::kBoth;
  o.user_batch = 7;  // several batches, so two threads really share the work
  o.item_tile = 9;
  o.keep_per_user = true;
  const Evaluator eval(d.train, d.test, o);
  const int previous = omp_get_max_threads();
  omp_set_num_threads(1);
  const EvalResult one = eval.Evaluate(U, I);
  const RankedLists lists_one = eval.Rank(U, I);
  omp_set_num_threads(2);
  const EvalResult two = eval.Evaluate(U, I);
  const RankedLists lists_two = eval.Rank(U, I);
  omp_set_num_threads(previous);
  REQUIRE(one.metrics.size() == two.metrics.size());
  for (std::size_t k = 0; k < one.metrics.size(); ++k) {
    CHECK(one.metrics[k].first == two.metrics[k].first);
    CHECK(one.metrics[k].second == two.metrics[k].second);  // bitwise, not approximately
  }
  CHECK(lists_one.items == lists_two.items);
  CHECK(lists_one.lengths == lists_two.lengths);
  CHECK(one.per_user.values == two.per_user.values);
#else
  WARN("built without OpenMP: the evaluator is single-threaded, nothing to compare");
#endif
}

TEMPLATE_TEST_CASE("The trainer gives bitwise-identical tables with 1 and 2 threads",
                   "[reliability][threads]", float, double) {
  using S = TestType;
  const auto& train = Small().train;
  auto run = [&](int threads) {
    auto trainer = MakeMfPlus<S>(180.0, 3.0, true, threads, 2);
    trainer.Train(train);
    RowMatrix<S> U, I;
    trainer.Encoder().InferenceEmbeddings(U, I);
    return std::pair{U, I};
  };
  const auto [U1, I1] = run(1);
  const auto [U2, I2] = run(2);
  const auto [U2b, I2b] = run(2);
  CHECK(SameBits(U2, U2b));  // same seed, same thread count: documented identical
  CHECK(SameBits(I2, I2b));
  CHECK(SameBits(U1, U2));  // each side's arithmetic does not depend on which thread runs it
  CHECK(SameBits(I1, I2));
}

TEST_CASE("LightGCN training gives bitwise-identical tables with 1 and 2 threads",
          "[reliability][threads]") {
  using S = float;
  using T = Trainer<LightGCN<S>, DirectSpecPlus<S>, LogLoss<S>, UserThenPositive<>, Sgd<S>>;
  const auto& train = Small().train;
  auto run = [&](int threads) {
    T::Options o;
    o.epochs = 2;
    o.batch_size = 32;
    o.seed = 9;
    o.threads = threads;
    o.shrink = 0.03;
    T trainer(o, LightGCN<S>({.dim = 8, .layers = 2}), LogLoss<S>(), UserThenPositive<>(),
              Sgd<S>(10.0));
    trainer.Train(train);
    RowMatrix<S> U, I;
    trainer.Encoder().InferenceEmbeddings(U, I);
    return std::pair{U, I};
  };
  const auto [U1, I1] = run(1);
  const auto [U2, I2] = run(2);
  CHECK(U1.allFinite());
  CHECK(SameBits(U1, U2));
  CHECK(SameBits(I1, I2));
}
