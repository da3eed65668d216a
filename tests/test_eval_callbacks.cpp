// Training callbacks of eval/ (EvaluationCallback, EarlyStopping, SpectrumCallback) driven by a
// tiny fake trainer that follows the callback contract of docs/architecture.md: it exposes
// Encoder() with InferenceEmbeddings(U, I) and Tables(), calls the hooks a callback defines and
// stops when a hook returns true. Each epoch it sets the item table to a scripted value, so the
// metric's path (and hence the best epoch) is known in advance.

#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>
#include <utility>
#include <vector>

#include "directspec/eval/evaluation_callbacks.hpp"

using namespace directspec;

namespace {

template <class S>
struct FakeEncoder {
  using Scalar = S;
  RowMatrix<S> user, item;
  void InferenceEmbeddings(RowMatrix<S>& U, RowMatrix<S>& I) const {
    U = user;
    I = item;
  }
  std::vector<RowMatrix<S>*> Tables() { return {&user, &item}; }
};

// Epoch e sets item 0's score to script[e - 1]; items 1 and 2 score 2 and 1. One user whose
// only test item is item 0, so ndcg@2 is 1 (rank 1), 1/log2(3) (rank 2) or 0 (rank 3).
template <class S>
struct FakeTrainer {
  FakeEncoder<S> encoder;
  std::vector<double> script;
  Index epochs_run = 0;

  FakeEncoder<S>& Encoder() { return encoder; }

  template <class... C>
  void Train(Index epochs, C&... callbacks) {
    encoder.user = RowMatrix<S>::Ones(1, 2);
    encoder.item.resize(3, 2);
    encoder.item << 0, 0, 1, 1, 0.5, 0.5;  // scores 0, 2, 1
    TrainingState s;
    s.epochs = epochs;
    bool stop = false;
    ((stop = Begin(callbacks, s) || stop), ...);
    for (Index e = 1; e <= epochs && !stop; ++e) {
      s.epoch = e;
      const S half = static_cast<S>(script[static_cast<std::size_t>(e - 1)] / 2);
      encoder.item.row(0).setConstant(half);                                     // score = 2 * half
      encoder.item(2, 1) = static_cast<S>(0.5 + 0.01 * static_cast<double>(e));  // spectrum moves
      epochs_run = e;
      ((stop = End(callbacks, s) || stop), ...);
    }
    (Finish(callbacks, s), ...);
  }

 private:
  template <class C>
  bool Begin(C& c, const TrainingState& s) {
    if constexpr (requires { c.OnTrainBegin(*this, s); }) return c.OnTrainBegin(*this, s);
    return false;
  }
  template <class C>
  bool End(C& c, const TrainingState& s) {
    if constexpr (requires { c.OnEpochEnd(*this, s); }) return c.OnEpochEnd(*this, s);
    return false;
  }
  template <class C>
  void Finish(C& c, const TrainingState& s) {
    if constexpr (requires { c.OnTrainEnd(*this, s); }) c.OnTrainEnd(*this, s);
  }
};

Evaluator MakeEvaluator() {
  const std::vector<std::pair<Id, Id>> train_pairs, test_pairs{{0, 0}};
  EvalOptions o;
  o.ks = {1, 2};
  return Evaluator(Interactions::FromPairs(1, 3, train_pairs), test_pairs, o);
}

}  // namespace

TEMPLATE_TEST_CASE("EvaluationCallback evaluates every N epochs and at the end", "[callbacks]",
                   float, double) {
  const Evaluator eval = MakeEvaluator();
  std::ostringstream log;
  EvaluationCallback cb(eval, {.every = 2, .at_end = true, .log = &log, .label = "valid"});
  FakeTrainer<TestType> t;
  t.script = {0, 1.5, 3, 1.5, 3};
  t.Train(5, cb);
  REQUIRE(cb.History().size() == 3);
  CHECK(cb.History()[0].epoch == 2);
  CHECK(cb.History()[1].epoch == 4);
  CHECK(cb.History()[2].epoch == 5);
  const double rank2 = 1.0 / std::log2(3.0);
  CHECK(cb.History()[0].Get("ndcg@2") == Approx(rank2));
  CHECK(cb.History()[1].Get("ndcg@2") == Approx(rank2));
  CHECK(cb.History()[2].Get("ndcg@2") == Approx(1.0));
  CHECK(cb.History()[2].Get("recall@1") == Approx(1.0));
  const PlotSeries curve = cb.Curve("ndcg@2");
  CHECK(curve.x == std::vector<double>{2, 4, 5});
  CHECK_THAT(log.str(), Catch::Contains("valid epoch 2") && Catch::Contains("ndcg@2 0.63093"));

  // Running again starts a fresh history.
  t.Train(2, cb);
  CHECK(cb.History().size() == 1);
}

TEMPLATE_TEST_CASE(
    "EvaluationCallback records the spectrum of the same tables and reports each "
    "evaluation",
    "[callbacks]", float, double) {
  using S = TestType;
  const Evaluator eval = MakeEvaluator();
  std::vector<std::pair<Index, double>> reported;  // (state epoch, effective rank)
  EvaluationCallback cb(eval, {.every = 2,
                               .at_end = false,
                               .spectrum = true,
                               .on_result = [&](const EvalResult& r, const SpectrumRecord* spectrum,
                                                const TrainingState& s) {
                                 REQUIRE(spectrum != nullptr);
                                 CHECK(r.epoch == s.epoch);
                                 CHECK(spectrum->epoch == s.epoch);
                                 reported.emplace_back(s.epoch, spectrum->effective_rank);
                               }});
  SpectrumCallback spectrum({.every = 2, .at_begin = false});
  FakeTrainer<S> t;
  t.script = {0, 1.5, 3, 1.5, 3};
  t.Train(5, cb, spectrum);
  CHECK(cb.Due(4));
  CHECK_FALSE(cb.Due(5));
  REQUIRE(cb.History().size() == 2);
  REQUIRE(cb.Spectra().size() == 2);
  REQUIRE(reported.size() == 2);
  REQUIRE(spectrum.History().size() == 2);
  for (std::size_t k = 0; k < 2; ++k) {
    CHECK(reported[k].first == static_cast<Index>(2 * (k + 1)));
    // One fact, one definition: the same record SpectrumCallback makes of the same tables.
    CHECK(cb.Spectra()[k].effective_rank == spectrum.History()[k].effective_rank);
    CHECK(cb.Spectra()[k].singular_values == spectrum.History()[k].singular_values);
    CHECK(reported[k].second == cb.Spectra()[k].effective_rank);
  }
  // An evaluation on demand (the final tables) is recorded and reported like a scheduled one.
  TrainingState s;
  s.epoch = 7;
  const EvalResult& r = cb.Evaluate(t, s);
  CHECK(r.epoch == 7);
  CHECK(r.Get("ndcg@2") == Approx(1.0));  // epoch 5's tables: item 0 scores 3, rank 1
  CHECK(cb.History().size() == 3);
  REQUIRE(reported.size() == 3);
  CHECK(reported.back().first == 7);
}

TEMPLATE_TEST_CASE("EarlyStopping stops after patience and restores the best tables", "[callbacks]",
                   float, double) {
  const Evaluator eval = MakeEvaluator();
  EarlyStopping stop(eval, {.metric = "ndcg@2", .patience = 2});
  EvaluationCallback all(eval, {.every = 1});
  FakeTrainer<TestType> t;
  // ndcg@2 per epoch: 0, 0.63, 1 (best), 0.63, 0 -> stop after epoch 5; epochs 6..8 never run.
  t.script = {0, 1.5, 3, 1.5, 0, 3, 3, 3};
  t.Train(8, stop, all);
  CHECK(t.epochs_run == 5);
  CHECK(stop.StoppedEpoch() == 5);
  CHECK(stop.BestEpoch() == 3);
  CHECK(stop.BestValue() == Approx(1.0));
  CHECK(stop.History().size() == 5);
  CHECK(stop.Restored());
  // The encoder holds epoch 3's tables again: item 0 scores 3, item 2's second entry 0.53.
  CHECK(t.encoder.item(0, 0) == static_cast<TestType>(1.5));
  CHECK(t.encoder.item(2, 1) == static_cast<TestType>(0.53));
  // The evaluation callback saw the last trained state (epoch 5), before the restore.
  CHECK(all.History().back().epoch == 5);
  CHECK(all.History().back().Get("ndcg@2") == 0.0);
  CHECK(eval.EvaluateEncoder(t.encoder).Get("ndcg@2") == Approx(1.0));
}

TEST_CASE("EarlyStopping with every > 1, min_delta and minimisation", "[callbacks]") {
  const Evaluator eval = MakeEvaluator();
  {
    // Evaluations at 2, 4, 6: values 0.63, 1, 1 -> +0 is not an improvement with min_delta.
    EarlyStopping stop(eval, {.metric = "ndcg@2", .patience = 1, .every = 2, .min_delta = 1e-6});
    FakeTrainer<double> t;
    t.script = {0, 1.5, 0, 3, 0, 3, 0, 0};
    t.Train(8, stop);
    CHECK(stop.BestEpoch() == 4);
    CHECK(stop.StoppedEpoch() == 6);
    CHECK(t.epochs_run == 6);
    CHECK(t.encoder.item(0, 0) == 1.5);  // epoch 4's table, not epoch 6's
  }
  {
    // Minimising ndcg (a stand-in for a loss): best is the first 0.
    EarlyStopping stop(eval, {.metric = "ndcg@2", .patience = 3, .maximize = false});
    FakeTrainer<double> t;
    t.script = {1.5, 0, 3, 3, 3, 0};
    t.Train(6, stop);
    CHECK(stop.BestEpoch() == 2);
    CHECK(stop.StoppedEpoch() == 5);
  }
  {
    // A metric the evaluator does not report is an error naming it.
    EarlyStopping stop(eval, {.metric = "ndcg@50"});
    FakeTrainer<double> t;
    t.script = {1};
    CHECK_THROWS_WITH(t.Train(1, stop), Catch::Contains("ndcg@50"));
  }
  CHECK_THROWS_AS(EarlyStopping(eval, {.patience = 0}), std::invalid_argument);
}

TEMPLATE_TEST_CASE("SpectrumCallback records the spectrum per epoch", "[callbacks]", float,
                   double) {
  SpectrumCallback spectrum({.every = 2, .at_begin = true});
  FakeTrainer<TestType> t;
  t.script = {0, 1.5, 3, 1.5};
  t.Train(4, spectrum);
  REQUIRE(spectrum.History().size() == 3);  // epochs 0, 2, 4
  CHECK(spectrum.History()[0].epoch == 0);
  CHECK(spectrum.History()[2].epoch == 4);
  // Epoch 4's tables: U = [1 1], I rows (0.75, 0.75), (1, 1), (0.5, 0.54).
  RowMatrix<double> stacked(4, 2);
  stacked << 1, 1, 0.75, 0.75, 1, 1, 0.5, static_cast<double>(static_cast<TestType>(0.54));
  const Eigen::VectorXd want = Eigen::JacobiSVD<Eigen::MatrixXd>(stacked).singularValues();
  const auto& rec = spectrum.History()[2];
  CHECK(rec.singular_values(0) == Approx(want(0)).epsilon(1e-6));
  CHECK(rec.singular_values(1) == Approx(want(1)).epsilon(1e-4));
  CHECK(rec.effective_rank == Approx(EffectiveRank(want)).epsilon(1e-5));
  const PlotSeries curve = spectrum.EffectiveRankCurve();
  CHECK(curve.x == std::vector<double>{0, 2, 4});
  CHECK(curve.y[0] == Approx(1.0));  // before training: every row is a multiple of (1, 1)
  CHECK(curve.y[2] > 1.0);
}
