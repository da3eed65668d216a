// Trainer: one step against an independent finite-difference gradient of the whole composed batch
// loss (normalise -> filter -> shrink -> loss [+ weight decay]), hook order and stopping, options,
// determinism across seeds and thread counts, and allocation-free steps in steady state.

// Eigen allocations bypass operator new (aligned std::malloc), so the steady-state test counts
// them through Eigen's own hook: with EIGEN_RUNTIME_NO_MALLOC, every heap allocation while
// set_is_malloc_allowed(false) fails an eigen_assert, which here only counts.
#include <atomic>
extern std::atomic<long> g_eigen_heap_allocations;
#define EIGEN_RUNTIME_NO_MALLOC
#define eigen_assert(x)                   \
  do {                                    \
    if (!(x)) ++g_eigen_heap_allocations; \
  } while (false)

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "directspec/filters.hpp"
#include "directspec/losses.hpp"
#include "directspec/models/mf.hpp"
#include "directspec/optim.hpp"
#include "directspec/samplers.hpp"
#include "directspec/train/trainer.hpp"
#include "directspec/train/training_callbacks.hpp"
#include "support/random_train.hpp"
#include "support/reference_loss.hpp"

std::atomic<long> g_eigen_heap_allocations{0};

// Allocation counter for the steady-state test: counts operator new calls while enabled.
namespace {
std::atomic<bool> g_count_allocations{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (g_count_allocations.load(std::memory_order_relaxed)) ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// Catch2 allocates with the nothrow form: replace it too, so every delete frees what malloc gave.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  if (g_count_allocations.load(std::memory_order_relaxed)) ++g_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace directspec;

namespace {

using directspec::testing::RandomTrain;
using directspec::testing::RankingLoss;
using directspec::testing::Recipe;

// ---- an independent re-implementation of the composed batch loss (plain Eigen, double) ----
double BatchLoss(const RowMatrix<double>& eu, const RowMatrix<double>& ei, const Batch& batch,
                 const Recipe& r) {
  double loss = RankingLoss(eu, ei, batch, r);
  if (r.l2 > 0) {
    double sq = 0;
    for (Id u : batch.users) sq += eu.row(u).squaredNorm();
    for (Id i : batch.ItemRows()) sq += ei.row(i).squaredNorm();
    loss += r.l2 / (2.0 * static_cast<double>(batch.Size())) * sq;
  }
  return loss;
}

template <class Filter, class Loss, class Sampler>
void CheckOneStepAgainstFiniteDifferences(const Recipe& recipe, Sampler sampler) {
  const Interactions train = RandomTrain(9, 11, 30, 5);
  using T = Trainer<MF<double>, Filter, Loss, Sampler, Sgd<double>>;
  typename T::Options o;
  o.batch_size = 6;
  o.steps_per_epoch = 1;
  o.seed = 2024;
  o.normalize_rows = recipe.normalize;
  o.shrink = recipe.shrink;
  o.weight_decay = recipe.l2;
  o.warm_start = true;
  if constexpr (std::is_same_v<Filter, DirectSpecPlus<double>>) {
    o.user_filter = {.alpha = recipe.alpha, .tau = recipe.tau};
    o.item_filter = o.user_filter;
  }
  const double lr = 0.7;
  T trainer(o, MF<double>({.dim = 4}), Loss(), std::move(sampler), Sgd<double>(lr));
  trainer.Initialize(train);
  const RowMatrix<double> eu = trainer.Encoder().UserTable();
  const RowMatrix<double> ei = trainer.Encoder().ItemTable();
  LossLog log(true);
  trainer.Train(train, log);
  const Batch& batch = trainer.LastBatch();
  REQUIRE(batch.Size() == 6);
  REQUIRE(log.StepLosses().size() == 1);
  CHECK(log.StepLosses()[0] == Approx(BatchLoss(eu, ei, batch, recipe)).epsilon(1e-12));

  // Expected tables after one SGD step: E - lr * central-difference gradient of BatchLoss.
  auto check_table = [&](bool users) {
    const RowMatrix<double>& start = users ? eu : ei;
    const RowMatrix<double>& got =
        users ? trainer.Encoder().UserTable() : trainer.Encoder().ItemTable();
    double worst = 0;
    for (Index r = 0; r < start.rows(); ++r)
      for (Index c = 0; c < start.cols(); ++c) {
        const double h = 1e-6;
        RowMatrix<double> plus = start, minus = start;
        plus(r, c) += h;
        minus(r, c) -= h;
        const double fd =
            users ? (BatchLoss(plus, ei, batch, recipe) - BatchLoss(minus, ei, batch, recipe))
                  : (BatchLoss(eu, plus, batch, recipe) - BatchLoss(eu, minus, batch, recipe));
        const double want = start(r, c) - lr * fd / (2 * h);
        worst = std::max(worst, std::abs(got(r, c) - want));
      }
    return worst;
  };
  CHECK(check_table(true) < 1e-7);
  CHECK(check_table(false) < 1e-7);
  // Something actually moved (the check is not vacuous).
  CHECK((trainer.Encoder().UserTable() - eu).cwiseAbs().maxCoeff() > 1e-4);
}

// Records every hook call; stops when asked.
struct Recorder {
  std::vector<std::string> calls;
  Index stop_at_step = -1;       // stop after this global step (1-based), -1: never
  Index stop_at_epoch_end = -1;  // stop at the end of this epoch
  Index steps_seen = 0;

  template <class T>
  void OnTrainBegin(T&, const TrainingState& s) {
    calls.push_back("train_begin " + std::to_string(s.epochs));
  }
  template <class T>
  bool OnEpochBegin(T&, const TrainingState& s) {
    calls.push_back("epoch_begin " + std::to_string(s.epoch));
    return false;
  }
  template <class T>
  bool OnStepEnd(T&, const TrainingState& s) {
    ++steps_seen;
    calls.push_back("step " + std::to_string(s.epoch) + "." + std::to_string(s.step));
    return steps_seen == stop_at_step;
  }
  template <class T>
  bool OnEpochEnd(T&, const TrainingState& s) {
    calls.push_back("epoch_end " + std::to_string(s.epoch));
    return s.epoch == stop_at_epoch_end;
  }
  template <class T>
  void OnTrainEnd(T&, const TrainingState& s) {
    calls.push_back("train_end " + std::to_string(s.epoch));
  }
};

// A callback with a single non-bool hook.
struct EpochCounter {
  int epochs = 0;
  template <class T>
  void OnEpochEnd(T&, const TrainingState&) {
    ++epochs;
  }
};

template <class S>
using PlusMF =
    Trainer<MF<S>, DirectSpecPlus<S>, LogLoss<S>, UserThenPositive<>, Sgd<S, ExponentialDecay>>;

template <class S>
typename PlusMF<S>::Options PlusOptions(std::uint64_t seed, int threads) {
  typename PlusMF<S>::Options o;
  o.epochs = 2;
  o.batch_size = 32;
  o.steps_per_epoch = 5;
  o.seed = seed;
  o.threads = threads;
  o.shrink = 0.03;
  o.user_filter = {.alpha = S(1), .tau = S(3)};
  o.item_filter = o.user_filter;
  return o;
}

template <class S>
PlusMF<S> MakePlus(std::uint64_t seed, int threads) {
  return PlusMF<S>(PlusOptions<S>(seed, threads), MF<S>({.dim = 8}), LogLoss<S>(),
                   UserThenPositive<>(), Sgd<S, ExponentialDecay>(20.0, {0.9}));
}

// Busy-waits 60 ms at every epoch end (callback time the trainer must not count).
struct Sleeper {
  double slept = 0;
  template <class T>
  void OnEpochEnd(T&, const TrainingState&) {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(60)) {
    }
    slept += 0.06;
  }
};

// Counts allocations over steps 3..12 (steps 1-2 size the workspaces).
struct AllocationProbe {
  long during = 0;  // operator new
  long eigen = 0;   // Eigen heap allocations
  template <class T>
  void OnStepEnd(T&, const TrainingState& s) {
    if (s.step == 2) {
      g_allocations = 0;
      g_eigen_heap_allocations = 0;
      g_count_allocations = true;
      Eigen::internal::set_is_malloc_allowed(false);
    } else if (s.step == 12) {
      Eigen::internal::set_is_malloc_allowed(true);
      g_count_allocations = false;
      during = g_allocations.load();
      eigen = g_eigen_heap_allocations.load();
    }
  }
};

}  // namespace

TEST_CASE("One trainer step = SGD on the finite-difference gradient of the composed loss",
          "[trainer]") {
  SECTION("DirectSpec+ with normalisation and shrink, positive-only log loss") {
    CheckOneStepAgainstFiniteDifferences<DirectSpecPlus<double>, LogLoss<double>>(
        Recipe{.shrink = 0.3}, UserThenPositive<>());
  }
  SECTION("DirectSpec+ without shrink, with weight decay") {
    CheckOneStepAgainstFiniteDifferences<DirectSpecPlus<double>, LogLoss<double>>(
        Recipe{.l2 = 0.05}, InteractionUniform<>());
  }
  SECTION("BPR baseline: no normalisation, no filter, two negatives per positive") {
    CheckOneStepAgainstFiniteDifferences<NoFilter<double>, BprLoss<double>>(
        Recipe{.normalize = false, .softmax_filter = false, .bpr = true},
        UserThenPositive<UniformNegatives>(UniformNegatives({.per_positive = 2})));
  }
}

TEST_CASE("Hooks run in order, a true return stops, non-bool hooks are fine", "[trainer]") {
  const Interactions train = RandomTrain(20, 15, 60, 1);
  auto options = PlusOptions<float>(1, 1);
  options.epochs = 2;
  options.steps_per_epoch = 2;
  PlusMF<float> trainer(options, MF<float>({.dim = 4}), LogLoss<float>(), UserThenPositive<>(),
                        Sgd<float, ExponentialDecay>(20.0, {0.5}));
  Recorder rec;
  EpochCounter counter;
  const TrainingState end = trainer.Train(train, rec, counter);
  CHECK(rec.calls == std::vector<std::string>{
                         "train_begin 2", "epoch_begin 1", "step 1.1", "step 1.2", "epoch_end 1",
                         "epoch_begin 2", "step 2.1", "step 2.2", "epoch_end 2", "train_end 2"});
  CHECK(counter.epochs == 2);
  CHECK_FALSE(trainer.Stopped());
  CHECK(end.epoch == 2);
  CHECK(end.learning_rate == Approx(5.0));  // two epochs of x 0.5 decay
  CHECK(trainer.Optimizer().LearningRate() == 5.0f);

  SECTION("stop from OnStepEnd skips the rest of the epoch, its decay and OnEpochEnd") {
    Recorder stopper;
    stopper.stop_at_step = 3;
    EpochCounter c2;
    trainer.Train(train, stopper, c2);
    CHECK(stopper.calls == std::vector<std::string>{"train_begin 2", "epoch_begin 1", "step 1.1",
                                                    "step 1.2", "epoch_end 1", "epoch_begin 2",
                                                    "step 2.1", "train_end 2"});
    CHECK(trainer.Stopped());
    CHECK(c2.epochs == 1);
    CHECK(trainer.Optimizer().LearningRate() == 10.0f);  // Reset to 20, one decay
  }
  SECTION("stop from OnEpochEnd") {
    Recorder stopper;
    stopper.stop_at_epoch_end = 1;
    trainer.Train(train, stopper);
    CHECK(stopper.calls.back() == "train_end 1");
    CHECK(stopper.calls.size() == 6);
    CHECK(trainer.Stopped());
  }
}

TEST_CASE("Same seed and thread count give bitwise-identical tables, other seeds differ",
          "[trainer]") {
  const Interactions train = RandomTrain(60, 40, 400, 3);
  auto run = [&](std::uint64_t seed, int threads) {
    auto trainer = MakePlus<float>(seed, threads);
    trainer.Train(train);
    return std::make_pair(trainer.Encoder().UserTable(), trainer.Encoder().ItemTable());
  };
  for (int threads : {1, 2}) {
    INFO("threads " << threads);
    const auto a = run(7, threads), b = run(7, threads), c = run(8, threads);
    CHECK(a.first == b.first);  // Eigen operator== is exact, element by element
    CHECK(a.second == b.second);
    CHECK(a.first != c.first);
    CHECK(a.second != c.second);
  }
  // The two sides run on separate threads but each side's arithmetic is unchanged, so here the
  // result is even independent of the thread count (documented as not guaranteed in general).
  const auto one = run(7, 1), two = run(7, 2);
  CHECK(one.first == two.first);
  CHECK(one.second == two.second);
}

TEST_CASE("Train re-initialises unless warm_start, and warm_start continues from given tables",
          "[trainer]") {
  const Interactions train = RandomTrain(30, 20, 100, 4);
  auto trainer = MakePlus<double>(5, 1);
  trainer.Train(train);
  const RowMatrix<double> after_first = trainer.Encoder().UserTable();
  trainer.Train(train);  // fresh start: same result
  CHECK(trainer.Encoder().UserTable() == after_first);

  auto options = PlusOptions<double>(5, 1);
  options.warm_start = true;
  PlusMF<double> warm(options, MF<double>({.dim = 8}), LogLoss<double>(), UserThenPositive<>(),
                      Sgd<double, ExponentialDecay>(20.0, {0.9}));
  CHECK_THROWS_WITH(warm.Train(train), Catch::Contains("warm_start"));
  warm.Initialize(train);
  warm.Train(train);
  CHECK(warm.Encoder().UserTable() == after_first);  // Initialize + warm Train == cold Train
  warm.Train(train);                                 // continues
  CHECK(warm.Encoder().UserTable() != after_first);
}

TEST_CASE("Accessors expose the policies and per-side filter options", "[trainer]") {
  auto options = PlusOptions<float>(1, 1);
  options.item_filter = {.alpha = 0.5f, .tau = 4.0f};
  PlusMF<float> trainer(options);
  CHECK(trainer.Filter(Side::kUser).GetOptions().tau == 3.0f);
  CHECK(trainer.Filter(Side::kItem).GetOptions().tau == 4.0f);
  CHECK(trainer.Filter(Side::kItem).GetOptions().alpha == 0.5f);
  CHECK(trainer.GetOptions().shrink == 0.03);
  CHECK(trainer.Encoder().Dim() == 64);  // MF default
  CHECK(trainer.TrainData() == nullptr);
  CHECK_THROWS_WITH(trainer.Step(), Catch::Contains("outside Train()"));
}

TEST_CASE("Trainer rejects bad options with messages naming them", "[trainer]") {
  auto options = PlusOptions<float>(1, 1);
  options.batch_size = 0;
  CHECK_THROWS_WITH(PlusMF<float>(options),
                    Catch::Contains("batch_size") && Catch::Contains("= 0"));
  options = PlusOptions<float>(1, 1);
  options.weight_decay = -1;
  CHECK_THROWS_WITH(PlusMF<float>(options), Catch::Contains("weight_decay"));
  options = PlusOptions<float>(1, 1);
  options.shrink = -0.5;
  CHECK_THROWS_WITH(PlusMF<float>(options), Catch::Contains("NormShrink"));
  options = PlusOptions<float>(1, 1);
  options.epochs = -1;
  CHECK_THROWS_WITH(PlusMF<float>(options), Catch::Contains("epochs"));
}

TEST_CASE("Training seconds exclude callback time", "[trainer]") {
  const Interactions train = RandomTrain(30, 20, 100, 4);
  auto trainer = MakePlus<float>(1, 1);
  Sleeper sleeper;
  const auto start = std::chrono::steady_clock::now();
  const TrainingState s = trainer.Train(train, sleeper);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(s.train_seconds > 0);
  CHECK(s.train_seconds < wall - sleeper.slept + 1e-3);
}

TEST_CASE("Steps allocate nothing in steady state", "[trainer]") {
  const Interactions train = RandomTrain(200, 150, 2000, 9);
  AllocationProbe probe;
  auto options = PlusOptions<float>(3, 1);
  options.epochs = 1;
  options.steps_per_epoch = 12;
  options.batch_size = 64;
  PlusMF<float> trainer(options, MF<float>({.dim = 16}), LogLoss<float>(), UserThenPositive<>(),
                        Sgd<float, ExponentialDecay>(20.0, {0.9}));
  trainer.Train(train, probe);
  // The RowGradients keep their capacity (AccumulateRows reserves the batch's row count), and
  // the trainer's own workspaces, the filters, the loss, the sampler and SGD are reused.
  INFO("allocations in 10 steady-state steps: " << probe.during << " operator new, " << probe.eigen
                                                << " Eigen");
  CHECK(probe.during == 0);
  CHECK(probe.eigen == 0);
}

TEST_CASE("The library's policies satisfy the concepts, in float and double",
          "[trainer][concepts]") {
  STATIC_REQUIRE(EncoderPolicy<MF<float>>);
  STATIC_REQUIRE(EncoderPolicy<MF<double>>);
  STATIC_REQUIRE(FilterPolicy<NoFilter<float>>);
  STATIC_REQUIRE(FilterPolicy<DirectSpec<double>>);
  STATIC_REQUIRE(FilterPolicy<DirectSpecPlus<float>>);
  STATIC_REQUIRE(FilterPolicy<AdaptiveDirectSpecPlus<double>>);
  STATIC_REQUIRE(LossPolicy<LogLoss<float>>);
  STATIC_REQUIRE(LossPolicy<BprLoss<double>>);
  STATIC_REQUIRE(LossPolicy<DirectAuLoss<float>>);
  STATIC_REQUIRE(LossPolicy<SampledSoftmaxLoss<double>>);
  STATIC_REQUIRE(LossPolicy<WithOutputL2<LogLoss<float>>>);
  STATIC_REQUIRE(SamplerPolicy<UserThenPositive<>>);
  STATIC_REQUIRE(SamplerPolicy<InteractionUniform<PopularityNegatives>>);
  STATIC_REQUIRE(NegativePolicy<NoNegatives>);
  STATIC_REQUIRE(NegativePolicy<UniformNegatives>);
  STATIC_REQUIRE(OptimizerPolicy<Sgd<float, ExponentialDecay>>);
  STATIC_REQUIRE(OptimizerPolicy<Adam<double, StepDecay>>);
  STATIC_REQUIRE(DecayPolicy<NoDecay>);
  // And some things that are not policies.
  STATIC_REQUIRE_FALSE(EncoderPolicy<DirectSpecPlus<float>>);
  STATIC_REQUIRE_FALSE(FilterPolicy<RowNormalizer<float>>);  // no FilterContext in Forward
  STATIC_REQUIRE_FALSE(LossPolicy<MF<float>>);
  STATIC_REQUIRE_FALSE(OptimizerPolicy<UniformNegatives>);
  STATIC_REQUIRE_FALSE(SamplerPolicy<Sgd<float>>);
}
