// Trainer micro-batches (Options::micro_batches = M): M = 1 replays the exact one-batch schedule
// bit for bit (against a step loop written out here from the policies); M > 1 applies the SUM
// of the M per-batch gradients at the same parameters, checked against central finite
// differences of an independent plain-Eigen batch loss (MF and a dense LightGCN, double), and,
// for every filter, loss and encoder, against the sum of single-batch updates.

// GCC 12 reports a false -Wmaybe-uninitialized inside its own AVX-512 intrinsics when Eigen's
// reductions are inlined with -march=native (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <catch2/catch.hpp>
#include <cmath>
#include <utility>
#include <vector>

#include "directspec/filters.hpp"
#include "directspec/losses.hpp"
#include "directspec/models.hpp"
#include "directspec/optim.hpp"
#include "directspec/samplers.hpp"
#include "directspec/train/trainer.hpp"
#include "directspec/train/training_callbacks.hpp"
#include "support/random_train.hpp"
#include "support/reference_loss.hpp"

using namespace directspec;

namespace {

using directspec::testing::RandomTrain;
using directspec::testing::RankingLoss;
using directspec::testing::Recipe;

// ------------------------------------------------ M = 1: the exact schedule, written out by hand
// The pre-micro-batch Trainer::Step, spelled out from the policies: sample, encode, per side
// normalise -> filter -> shrink, loss, backwards, encoder backward, weight decay, update; decay at
// every epoch end.
template <class Encoder, class Filter, class Loss, class Sampler, class Optimizer>
void ReferenceSchedule(const Interactions& train, Encoder& encoder, Filter user_filter,
                       Filter item_filter, Loss loss, Sampler sampler, Optimizer& optimizer,
                       std::uint64_t seed, Index epochs, Index steps, Index batch, double shrink,
                       double l2) {
  using S = typename Encoder::Scalar;
  encoder.Initialize(train, MakeStream(seed, 0)());
  train.Transposed();
  sampler.Reset(train, MakeStream(seed, 1)());
  std::array<Filter, 2> filters{std::move(user_filter), std::move(item_filter)};
  std::array<RowNormalizer<S>, 2> normalizers{};
  typename NormShrink<S>::Options so;
  so.strength = static_cast<S>(shrink);
  std::array<NormShrink<S>, 2> shrinks{NormShrink<S>(so), NormShrink<S>(so)};
  Batch b;
  std::vector<RowGradient<S>> grads;
  std::array<RowMatrix<S>, 2> x, xhat, y, o, gout, gy, gxhat, gx;
  for (Index e = 1; e <= epochs; ++e) {
    for (Index s = 0; s < steps; ++s) {
      sampler.Sample(batch, b);
      const std::vector<Id> items = b.ItemRows();
      encoder.Encode(b.users, items, x[0], x[1]);
      const std::array<FilterContext, 2> ctx{FilterContext{b.users, train.View()},
                                             FilterContext{items, train.Transposed()}};
      for (int side = 0; side < 2; ++side) {
        normalizers[side].Forward(x[side], xhat[side]);
        filters[side].Forward(xhat[side], ctx[side], y[side]);
        shrinks[side].Forward(y[side], o[side]);
      }
      loss.Evaluate(o[0], o[1], b, gout[0], gout[1]);
      for (int side = 0; side < 2; ++side) {
        shrinks[side].Backward(gout[side], gy[side]);
        filters[side].Backward(gy[side], gxhat[side]);
        normalizers[side].Backward(gxhat[side], gx[side]);
      }
      encoder.Backward(gx[0], gx[1], grads);
      encoder.AddWeightDecay(static_cast<S>(l2), grads);
      optimizer.Update(encoder.Tables(), grads);
    }
    optimizer.EndEpoch(e);
  }
}

template <class Encoder>
void CheckDefaultIsTheExactSchedule(Encoder prototype, int threads) {
  using S = typename Encoder::Scalar;
  using T =
      Trainer<Encoder, DirectSpecPlus<S>, LogLoss<S>, UserThenPositive<>, Sgd<S, ExponentialDecay>>;
  const Interactions train = RandomTrain(70, 50, 500, 9);
  typename T::Options o;
  o.epochs = 3;
  o.batch_size = 32;
  o.steps_per_epoch = 5;
  o.seed = 31;
  o.threads = threads;
  o.shrink = 0.03;
  o.weight_decay = 0.01;
  o.user_filter = {.alpha = S(1), .tau = S(3)};
  o.item_filter = {.alpha = S(0.7), .tau = S(2.5)};
  REQUIRE(o.micro_batches == 1);  // the default
  T trainer(o, prototype, LogLoss<S>(), UserThenPositive<>(),
            Sgd<S, ExponentialDecay>(20.0, {0.9}));
  trainer.Train(train);

  Encoder reference = prototype;
  Sgd<S, ExponentialDecay> sgd(20.0, {0.9});
  ReferenceSchedule(train, reference, DirectSpecPlus<S>(o.user_filter),
                    DirectSpecPlus<S>(o.item_filter), LogLoss<S>(), UserThenPositive<>(), sgd,
                    o.seed, o.epochs, o.steps_per_epoch, o.batch_size, o.shrink, o.weight_decay);
  const auto got = trainer.Encoder().Tables();
  const auto want = reference.Tables();
  REQUIRE(got.size() == want.size());
  for (std::size_t t = 0; t < got.size(); ++t) CHECK(*got[t] == *want[t]);  // bitwise
  CHECK(trainer.Optimizer().LearningRateDouble() == sgd.LearningRateDouble());
}

// --------------------------------------------- M > 1: finite differences of the summed loss
// The encoder as a plain function of its parameters: rows of the output for user u and item i.
struct DenseEncoder {
  bool lightgcn = false;
  Index users = 0;
  RowMatrix<double> propagation;  // LightGCN: sum_k Â^k (dense), (n+m) x (n+m)

  // Tables -> (user outputs, item outputs) for all users / items.
  std::pair<RowMatrix<double>, RowMatrix<double>> Outputs(
      const std::vector<RowMatrix<double>>& tables) const {
    if (!lightgcn) return {tables[0], tables[1]};
    const RowMatrix<double> h = propagation * tables[0];
    return {h.topRows(users), h.bottomRows(h.rows() - users)};
  }
  // Squared norm of the parameter row behind a user / item occurrence.
  double UserRowSq(const std::vector<RowMatrix<double>>& t, Id u) const {
    return t[0].row(u).squaredNorm();
  }
  double ItemRowSq(const std::vector<RowMatrix<double>>& t, Id i) const {
    return lightgcn ? t[0].row(users + i).squaredNorm() : t[1].row(i).squaredNorm();
  }
};

DenseEncoder DenseLightGcn(const Interactions& train, Index layers) {
  const Index n = train.Users(), m = train.Items(), nodes = n + m;
  RowMatrix<double> a = RowMatrix<double>::Zero(nodes, nodes);
  for (Index u = 0; u < n; ++u)
    for (Id i : train.ItemsOf(u)) a(u, n + i) = a(n + i, u) = 1;
  const Eigen::VectorXd degree = a.rowwise().sum();
  for (Index r = 0; r < nodes; ++r)
    for (Index c = 0; c < nodes; ++c)
      if (a(r, c) != 0) a(r, c) /= std::sqrt(degree(r) * degree(c));
  RowMatrix<double> sum = RowMatrix<double>::Identity(nodes, nodes), power = sum;
  for (Index k = 1; k <= layers; ++k) {
    power = (power * a).eval();
    sum += power;
  }
  return {true, n, sum};
}

// One batch's loss (the paper's mean over its B pairs, plus its weight decay).
double BatchLoss(const DenseEncoder& enc, const std::vector<RowMatrix<double>>& tables,
                 const Batch& batch, const Recipe& r) {
  const auto [eu, ei] = enc.Outputs(tables);
  double loss = RankingLoss(eu, ei, batch, r);
  if (r.l2 > 0) {
    double sq = 0;
    for (Id u : batch.users) sq += enc.UserRowSq(tables, u);
    for (Id i : batch.ItemRows()) sq += enc.ItemRowSq(tables, i);
    loss += r.l2 / (2.0 * static_cast<double>(batch.Size())) * sq;
  }
  return loss;
}

// Central differences of sum_m BatchLoss(batch m) with respect to every table entry.
std::vector<RowMatrix<double>> SumGradient(const DenseEncoder& enc,
                                           const std::vector<RowMatrix<double>>& tables,
                                           const std::vector<Batch>& batches, const Recipe& r) {
  auto total = [&](const std::vector<RowMatrix<double>>& t) {
    double sum = 0;
    for (const Batch& b : batches) sum += BatchLoss(enc, t, b, r);
    return sum;
  };
  std::vector<RowMatrix<double>> grad;
  const double h = 1e-6;
  for (std::size_t t = 0; t < tables.size(); ++t) {
    grad.emplace_back(tables[t].rows(), tables[t].cols());
    for (Index i = 0; i < tables[t].rows(); ++i)
      for (Index c = 0; c < tables[t].cols(); ++c) {
        auto plus = tables, minus = tables;
        plus[t](i, c) += h;
        minus[t](i, c) -= h;
        grad[t](i, c) = (total(plus) - total(minus)) / (2 * h);
      }
  }
  return grad;
}

std::vector<RowMatrix<double>> Copy(const std::vector<RowMatrix<double>*>& tables) {
  std::vector<RowMatrix<double>> out;
  for (const auto* t : tables) out.push_back(*t);
  return out;
}

// One epoch of `steps` batches with micro_batches = M and plain SGD: every update must equal
// SGD on the finite-difference gradient of the SUM of its batches' losses at the tables before
// it (the last update takes the remainder). Also checks the reported losses.
template <class Encoder, class Filter, class Loss, class Sampler>
void CheckAgainstFiniteDifferences(Encoder encoder, const DenseEncoder& dense,
                                   const Interactions& train, const Recipe& recipe, Sampler sampler,
                                   Index micro_batches, Index steps) {
  using T = Trainer<Encoder, Filter, Loss, Sampler, Sgd<double>>;
  typename T::Options o;
  o.batch_size = 5;
  o.steps_per_epoch = steps;
  o.micro_batches = micro_batches;
  o.seed = 2024;
  o.normalize_rows = recipe.normalize;
  o.shrink = recipe.shrink;
  o.weight_decay = recipe.l2;
  if constexpr (std::is_same_v<Filter, DirectSpecPlus<double>>) {
    o.user_filter = {.alpha = recipe.alpha, .tau = recipe.tau};
    o.item_filter = o.user_filter;
  }
  const double lr = 0.7;
  T trainer(o, encoder, Loss(), sampler, Sgd<double>(lr));
  trainer.Initialize(train);

  // The batches the trainer will draw: the sampler's per-step streams from the run seed.
  Sampler replay = sampler;
  replay.Reset(train, MakeStream(o.seed, T::kSamplerSeedStream)());
  std::vector<Batch> all(static_cast<std::size_t>(steps));
  for (Batch& b : all) replay.Sample(o.batch_size, b);

  // Expected tables, update by update.
  std::vector<RowMatrix<double>> tables = Copy(trainer.Encoder().Tables());
  std::vector<double> expected_losses;
  for (Index first = 0; first < steps; first += micro_batches) {
    const Index count = std::min(micro_batches, steps - first);
    const std::vector<Batch> group(all.begin() + first, all.begin() + first + count);
    double sum = 0;
    for (const Batch& b : group) sum += BatchLoss(dense, tables, b, recipe);
    expected_losses.push_back(sum / static_cast<double>(count));
    const auto grad = SumGradient(dense, tables, group, recipe);
    for (std::size_t t = 0; t < tables.size(); ++t) tables[t] -= lr * grad[t];
  }

  typename T::Options warm = o;
  warm.warm_start = true;
  T run(warm, trainer.Encoder(), Loss(), sampler, Sgd<double>(lr));
  LossLog log(true);
  run.Train(train, log);
  REQUIRE(log.StepLosses().size() == expected_losses.size());
  for (std::size_t k = 0; k < expected_losses.size(); ++k)
    CHECK(log.StepLosses()[k] == Approx(expected_losses[k]).epsilon(1e-10));
  // Epoch loss: the mean over batches, whatever M.
  double batch_sum = 0;
  for (std::size_t k = 0; k < expected_losses.size(); ++k) {
    const Index count =
        std::min<Index>(micro_batches, steps - static_cast<Index>(k) * micro_batches);
    batch_sum += expected_losses[k] * static_cast<double>(count);
  }
  CHECK(log.EpochLosses().back() == Approx(batch_sum / static_cast<double>(steps)).epsilon(1e-10));
  // The union batch of the last update.
  const Index last_count = steps - (steps - 1) / micro_batches * micro_batches;
  CHECK(run.LastBatch().Size() == last_count * o.batch_size);

  const auto got = run.Encoder().Tables();
  double worst = 0, moved = 0;
  for (std::size_t t = 0; t < tables.size(); ++t) {
    worst = std::max(worst, (*got[t] - tables[t]).cwiseAbs().maxCoeff());
    moved = std::max(moved, (*got[t] - *trainer.Encoder().Tables()[t]).cwiseAbs().maxCoeff());
  }
  CHECK(worst < 1e-7);
  CHECK(moved > 1e-4);  // the tables did move: the check is not vacuous
}

// ---------------------------------- M > 1 for any policy: the sum of single-batch updates
// A sampler that serves fixed batches in turn (so a batch can be replayed alone).
struct FixedBatches {
  std::vector<Batch> batches;
  std::size_t next = 0;
  void Reset(const Interactions&, std::uint64_t) { next = 0; }
  void Sample(Index, Batch& out) { out = batches[next++ % batches.size()]; }
  Index StepsPerEpoch(Index) const { return static_cast<Index>(batches.size()); }
};

// Tables after one M-batch update from `start` minus `start`, and the same for each batch alone:
// with SGD the former must equal the sum of the latter (rounding only).
template <class Encoder, class Filter, class Loss, class Sampler>
void CheckSumOfSingleBatchUpdates(Encoder encoder, Sampler sampler,
                                  typename Filter::Options filter_options = {},
                                  Loss loss = Loss()) {
  using T = Trainer<Encoder, Filter, Loss, FixedBatches, Sgd<double>>;
  const Interactions train = RandomTrain(25, 30, 120, 6);
  sampler.Reset(train, 99);
  const Index M = 3, B = 8;
  FixedBatches fixed;
  fixed.batches.resize(M);
  for (Batch& b : fixed.batches) sampler.Sample(B, b);

  typename T::Options o;
  o.batch_size = B;
  o.seed = 5;
  o.shrink = 0.05;
  o.weight_decay = 0.02;
  o.user_filter = o.item_filter = filter_options;
  o.warm_start = true;
  T init(o, encoder, loss, fixed, Sgd<double>(0.5));
  init.Initialize(train);
  const std::vector<RowMatrix<double>> start = Copy(init.Encoder().Tables());

  auto delta = [&](Index micro, std::vector<Batch> batches) {
    typename T::Options run_options = o;
    run_options.micro_batches = micro;
    run_options.steps_per_epoch = static_cast<Index>(batches.size());
    FixedBatches s;
    s.batches = std::move(batches);
    T t(run_options, init.Encoder(), loss, s, Sgd<double>(0.5));
    t.Train(train);
    std::vector<RowMatrix<double>> d = Copy(t.Encoder().Tables());
    for (std::size_t k = 0; k < d.size(); ++k) d[k] -= start[k];
    return d;
  };
  const auto together = delta(M, fixed.batches);
  std::vector<RowMatrix<double>> sum = delta(1, {fixed.batches[0]});
  for (Index m = 1; m < M; ++m) {
    const auto one = delta(1, {fixed.batches[static_cast<std::size_t>(m)]});
    for (std::size_t k = 0; k < sum.size(); ++k) sum[k] += one[k];
  }
  double worst = 0, scale = 0;
  for (std::size_t k = 0; k < sum.size(); ++k) {
    worst = std::max(worst, (together[k] - sum[k]).cwiseAbs().maxCoeff());
    scale = std::max(scale, sum[k].cwiseAbs().maxCoeff());
  }
  CHECK(scale > 1e-6);
  CHECK(worst <= 1e-12 * std::max(1.0, scale));
}

struct StepRecorder {
  std::vector<Index> seen;
  template <class Tr>
  void OnStepEnd(Tr&, const TrainingState& s) {
    seen.push_back(s.step);
  }
};

}  // namespace

TEST_CASE("micro_batches = 1 is the exact one-batch schedule, bit for bit",
          "[trainer][micro_batches]") {
  for (int threads : {1, 2}) {
    INFO("threads " << threads);
    CheckDefaultIsTheExactSchedule(MF<float>({.dim = 8}), threads);
    CheckDefaultIsTheExactSchedule(LightGCN<float>({.dim = 8, .layers = 3}), threads);
    CheckDefaultIsTheExactSchedule(LightGCN<float, WholeGraphPropagation>({.dim = 8, .layers = 2}),
                                   threads);
  }
}

TEST_CASE("micro_batches > 1 applies the sum of the batch gradients (finite differences)",
          "[trainer][micro_batches][gradient]") {
  const Interactions train = RandomTrain(9, 11, 30, 5);
  const DenseEncoder mf;
  SECTION("MF, DirectSpec+ with shrink, 2 batches per update, an epoch of 4") {
    CheckAgainstFiniteDifferences<MF<double>, DirectSpecPlus<double>, LogLoss<double>>(
        MF<double>({.dim = 4}), mf, train, Recipe{.shrink = 0.3}, UserThenPositive<>(), 2, 4);
  }
  SECTION("MF, DirectSpec+ with weight decay, 3 per update, an epoch of 5 (remainder of 2)") {
    CheckAgainstFiniteDifferences<MF<double>, DirectSpecPlus<double>, LogLoss<double>>(
        MF<double>({.dim = 4}), mf, train, Recipe{.l2 = 0.05}, InteractionUniform<>(), 3, 5);
  }
  SECTION("MF, BPR with two negatives, no normalisation or filter, 2 per update") {
    CheckAgainstFiniteDifferences<MF<double>, NoFilter<double>, BprLoss<double>>(
        MF<double>({.dim = 4}), mf, train,
        Recipe{.normalize = false, .softmax_filter = false, .bpr = true},
        UserThenPositive<UniformNegatives>(UniformNegatives({.per_positive = 2})), 2, 2);
  }
  SECTION("LightGCN (3 layers), DirectSpec+ with shrink and weight decay, 2 per update") {
    CheckAgainstFiniteDifferences<LightGCN<double>, DirectSpecPlus<double>, LogLoss<double>>(
        LightGCN<double>({.dim = 3, .layers = 3}), DenseLightGcn(train, 3), train,
        Recipe{.shrink = 0.3, .l2 = 0.05}, UserThenPositive<>(), 2, 3);
  }
  SECTION("LightGCN, BPR with one negative, 4 per update") {
    CheckAgainstFiniteDifferences<LightGCN<double>, NoFilter<double>, BprLoss<double>>(
        LightGCN<double>({.dim = 3, .layers = 2}), DenseLightGcn(train, 2), train,
        Recipe{.normalize = false, .softmax_filter = false, .bpr = true},
        UserThenPositive<UniformNegatives>(UniformNegatives({.per_positive = 1})), 4, 4);
  }
}

TEST_CASE("micro_batches: one update equals the sum of single-batch updates for every policy",
          "[trainer][micro_batches]") {
  using S = double;
  const UserThenPositive<> plain;
  const UserThenPositive<UniformNegatives> negatives(UniformNegatives({.per_positive = 2}));
  const InteractionUniform<PopularityNegatives> popular(PopularityNegatives({.per_positive = 1}));
  SECTION("filters on MF") {
    CheckSumOfSingleBatchUpdates<MF<S>, DirectSpecPlus<S>, LogLoss<S>>(MF<S>({.dim = 6}), plain,
                                                                       {.alpha = 1, .tau = 3});
    CheckSumOfSingleBatchUpdates<MF<S>, AdaptiveDirectSpecPlus<S>, LogLoss<S>>(
        MF<S>({.dim = 6}), plain, {.alpha = 0.7, .tau0 = 2.5, .tau1 = 3});
    CheckSumOfSingleBatchUpdates<MF<S>, DirectSpec<S>, LogLoss<S>>(MF<S>({.dim = 6}), plain,
                                                                   {.alpha = 2});
    CheckSumOfSingleBatchUpdates<MF<S>, NoFilter<S>, LogLoss<S>>(MF<S>({.dim = 6}), plain);
  }
  SECTION("losses and samplers on LightGCN (both propagation policies)") {
    CheckSumOfSingleBatchUpdates<LightGCN<S>, AdaptiveDirectSpecPlus<S>, WithOutputL2<LogLoss<S>>>(
        LightGCN<S>({.dim = 6}), plain, {.alpha = 0.7, .tau0 = 2.5, .tau1 = 3},
        WithOutputL2<LogLoss<S>>({.output_l2 = 0.01}));
    CheckSumOfSingleBatchUpdates<LightGCN<S>, NoFilter<S>, BprLoss<S>>(LightGCN<S>({.dim = 6}),
                                                                       negatives);
    CheckSumOfSingleBatchUpdates<LightGCN<S, WholeGraphPropagation>, DirectSpecPlus<S>,
                                 DirectAuLoss<S>>(LightGCN<S, WholeGraphPropagation>({.dim = 6}),
                                                  plain, {.alpha = 1, .tau = 3});
    CheckSumOfSingleBatchUpdates<LightGCN<S>, DirectSpecPlus<S>, SampledSoftmaxLoss<S>>(
        LightGCN<S>({.dim = 6, .layers = 2}), plain, {.alpha = 1, .tau = 3});
    CheckSumOfSingleBatchUpdates<MF<S>, NoFilter<S>, BprLoss<S>>(MF<S>({.dim = 6}), popular);
  }
}

TEST_CASE("micro_batches: callbacks see one step per update, counted in batches",
          "[trainer][micro_batches]") {
  using T =
      Trainer<MF<float>, DirectSpecPlus<float>, LogLoss<float>, UserThenPositive<>, Sgd<float>>;
  const Interactions train = RandomTrain(40, 30, 200, 2);
  T::Options o;
  o.epochs = 2;
  o.batch_size = 16;
  o.steps_per_epoch = 7;
  o.micro_batches = 3;
  StepRecorder steps;
  T trainer(o, MF<float>({.dim = 4}), LogLoss<float>(), UserThenPositive<>(), Sgd<float>(5.0));
  const TrainingState end = trainer.Train(train, steps);
  CHECK(steps.seen == std::vector<Index>{3, 6, 7, 3, 6, 7});
  CHECK(end.step == 7);
  CHECK(trainer.Sampler().StepsDrawn() == 14);  // an epoch draws steps_per_epoch batches

  o.micro_batches = 0;
  CHECK_THROWS_WITH(T(o), Catch::Contains("micro_batches") && Catch::Contains("= 0"));
}
