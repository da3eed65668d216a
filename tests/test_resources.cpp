// Bounded resources (docs/reliability.md "Resources"):
//  - FirstException carries exceptions out of OpenMP regions and critical sections, and an
//    allocation failure inside any of the library's parallel regions reaches the caller as
//    std::bad_alloc under an address-space limit (fresh child processes, skipped under
//    sanitizers, which reserve terabytes of address space);
//  - cut-offs and list lengths beyond the catalogue cost no memory;
//  - the memory estimate: its structure, and against the measured peak RSS of real runs;
//  - the available-memory parsers, the chance level of a random ranking and LearningSignals.

#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <atomic>
#include <cmath>
#include <iostream>
#include <new>
#include <random>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "directspec/core/first_exception.hpp"
#include "directspec/data/synthetic.hpp"
#include "directspec/eval/chance_level.hpp"
#include "directspec/eval/evaluator.hpp"
#include "directspec/eval/spectrum.hpp"
#include "directspec/resources/available_memory.hpp"
#include "directspec/resources/memory_estimate.hpp"
#include "directspec/serve/recommend.hpp"
#include "directspec/train/configurations.hpp"
#include "directspec/train/learning_signals.hpp"
#include "support/isolated_case.hpp"

using namespace directspec;
using directspec::testing::ChildRole;
using directspec::testing::kSanitized;
using directspec::testing::RunTestInChild;

namespace {

void SetThreads([[maybe_unused]] int threads) {
#if defined(_OPENMP)
  omp_set_num_threads(threads);
#endif
}

/// Stops training after `steps` steps (keeps the resource tests short).
struct StopAfter {
  Index steps;
  Index taken = 0;
  template <class T>
  bool OnStepEnd(T&, const TrainingState&) {
    return ++taken >= steps;
  }
};

/// users x items with a few interactions per user (enough for every code path, cheap to build).
Dataset SparseWideData(Index users, Index items) {
  std::vector<std::pair<Id, Id>> train, test;
  std::mt19937_64 engine(3);
  for (Index u = 0; u < users; ++u) {
    for (int k = 0; k < 3; ++k)
      train.emplace_back(static_cast<Id>(u), static_cast<Id>(engine() % items));
    test.emplace_back(static_cast<Id>(u), static_cast<Id>(engine() % items));
  }
  return AssembleDataset(users, items, train, test);
}

EvalOptions Eval(std::vector<Index> ks, Index user_batch = 128, Index item_tile = 1024) {
  EvalOptions o;
  o.ks = std::move(ks);
  o.user_batch = user_batch;
  o.item_tile = item_tile;
  return o;
}

RowMatrix<float> RandomTable(Index rows, Index cols, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  RowMatrix<float> t(rows, cols);
  for (Index k = 0; k < t.size(); ++k) t.data()[k] = uniform(engine);
  return t;
}

}  // namespace

// ------------------------------------------------------------------------------ FirstException
TEST_CASE("FirstException keeps the first exception and skips the work after it", "[parallel]") {
  FirstException errors;
  int ran = 0;
  errors.Run([&] { ++ran; });
  CHECK_FALSE(errors.Failed());
  CHECK_NOTHROW(errors.Rethrow());
  errors.Run([&] { throw std::runtime_error("first"); });
  errors.Run([&] { throw std::logic_error("second"); });
  errors.Run([&] { ++ran; });
  CHECK(errors.Failed());
  CHECK(ran == 1);
  CHECK_THROWS_WITH(errors.Rethrow(), "first");
}

TEST_CASE("FirstException carries an exception out of an OpenMP region", "[parallel]") {
  SetThreads(2);
  std::atomic<int> done{0};
  FirstException errors;
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1)
#endif
  for (int k = 0; k < 64; ++k)
    errors.Run([&] {
      if (k == 5) throw std::bad_alloc();
      ++done;
    });
  CHECK_THROWS_AS(errors.Rethrow(), std::bad_alloc);
  CHECK(done.load() < 64);
  SetThreads(1);
}

TEST_CASE("An exception inside a critical section releases its lock", "[parallel]") {
  // The evaluator's scorer runs in a critical section; a scorer that throws must not keep the
  // lock (the other thread would wait forever) nor terminate the program.
  SetThreads(2);
  const Dataset data = MakeSyntheticDataset({.users = 600, .items = 300});
  const Evaluator eval(data.train, data.test_pairs, Eval({10, 20}, 16));
  int calls = 0;
  auto scorer = [&](std::span<const Id> users, RowMatrix<float>& scores) {
    if (++calls == 2) throw std::runtime_error("scorer failed");
    scores.setRandom(static_cast<Index>(users.size()), data.Items());
  };
  CHECK_THROWS_WITH(eval.EvaluateScorer<float>(scorer), "scorer failed");
  SetThreads(1);
}

// ------------------------------------------------- allocation failures under an address-space
// limit
namespace {

/// The address space a child gets: room to start (binary, libraries, OpenMP thread stacks and
/// malloc arenas), far below the 1 GiB each scenario then asks for.
constexpr rlim_t kChildAddressSpace = rlim_t{640} << 20;

}  // namespace

TEST_CASE("child: allocation failures in parallel regions under RLIMIT_AS", "[.]") {
  const std::string role = ChildRole();
  if (role.empty()) return;  // only meaningful in a child started below
  SetThreads(2);
  constexpr Index kItems = Index{1} << 20, kUsers = 600;
  if (role == "recommend") {
    // Each thread scores 256 users against 2^20 items: a 1 GiB tile.
    const Dataset data = SparseWideData(kUsers, kItems);
    const auto U = RandomTable(kUsers, 4, 1), I = RandomTable(kItems, 4, 2);
    REQUIRE_THROWS_AS(RecommendMany(U, I, data.train, {}, 20), std::bad_alloc);
  } else if (role == "evaluate") {
    const Dataset data = SparseWideData(kUsers, kItems);
    const auto U = RandomTable(kUsers, 4, 1), I = RandomTable(kItems, 4, 2);
    const Evaluator eval(data.train, data.test_pairs, Eval({10, 20}, 256, kItems));
    REQUIRE_THROWS_AS(eval.Evaluate(U, I), std::bad_alloc);
  } else if (role == "train") {
    // Both sides in parallel, each building a 16384 x 16384 softmax Gram (1 GiB).
    const Dataset data = MakeSyntheticDataset({.users = 600, .items = 300});
    RecipeSettings r;
    r.dim = 8;
    r.batch_size = 16384;
    r.epochs = 1;
    r.threads = 2;
    auto trainer = MakeDirectSpecPlusMF<float>(r);
    REQUIRE_THROWS_AS(trainer.Train(data.train, StopAfter{1}), std::bad_alloc);
  } else {
    FAIL("unknown role " << role);
  }
}

TEST_CASE("An allocation failure in a parallel region reaches the caller as std::bad_alloc",
          "[parallel][rlimit]") {
  if (kSanitized) {
    WARN("skipped: sanitizers reserve more address space than any limit this test can set");
    return;
  }
  for (const char* role : {"recommend", "evaluate", "train"}) {
    INFO("scenario " << role);
    const auto run = RunTestInChild(
        "child: allocation failures in parallel regions under RLIMIT_AS", role, kChildAddressSpace);
    INFO(run.output);
    CHECK(run.signal == 0);  // SIGABRT would be std::terminate from inside the region
    CHECK(run.exited);
    CHECK(run.code == 0);
  }
}

// ---------------------------------------------------------- sizes beyond the catalogue are capped
TEST_CASE("Cut-offs and list lengths beyond the catalogue allocate nothing extra", "[bounds]") {
  const Dataset data = MakeSyntheticDataset({.users = 200, .items = 150});
  const auto U = RandomTable(data.Users(), 8, 1), I = RandomTable(data.Items(), 8, 2);
  // A cut-off of 2^31 - 1 would reserve 16 GiB of selector space per thread.
  const Evaluator eval(data.train, data.test_pairs, Eval({20, 2147483647}));
  CHECK(eval.Depth() == data.Items());
  const EvalResult r = eval.Evaluate(U, I);
  CHECK(r.Get("recall@2147483647") == Approx(1.0));
  const auto lists = RecommendMany(U, I, data.train, {}, 2147483647);
  for (Index u = 0; u < data.Users(); ++u)
    CHECK(static_cast<Index>(lists[static_cast<std::size_t>(u)].size()) ==
          data.Items() - data.train.UserDegree(u));
  CHECK(Recommend(U, I, data.train, 0, 2147483647).size() == lists[0].size());
  CHECK(static_cast<Index>(SimilarItems(I, 0, 2147483647).size()) == data.Items() - 1);
}

// ------------------------------------------------------------------------------ memory estimate
TEST_CASE("The memory estimate grows with the settings that allocate", "[estimate]") {
  RunShape base;
  base.users = 30000;
  base.items = 40000;
  base.train_nnz = 800000;
  base.test_nnz = 200000;
  base.max_user_degree = 500;
  base.max_item_degree = 2000;
  const double peak = EstimateMemory(base).PeakBytes();
  const double tables = 70000.0 * 64 * 4;
  CHECK(peak > 2 * tables);  // tables and their inference copies at least
  CHECK(peak < 20 * tables);

  SECTION("the B x B Gram of DirectSpec+ is quadratic in B and names --batch") {
    RunShape big = base;
    big.batch = 1 << 16;
    const MemoryEstimate e = EstimateMemory(big);
    CHECK(e.Largest().what == "B x B filter Gram");
    CHECK(e.Largest().drivers == kDriverBatch);
    CHECK(e.Largest().bytes == Approx(2.0 * 2 * 65536.0 * 65536.0 * 4));
    RunShape none = big;
    none.filter = FilterKind::kNone;
    CHECK(EstimateMemory(none).PeakBytes() < e.PeakBytes() / 100);
  }
  SECTION("absurd settings give a finite, huge number") {
    RunShape absurd = base;
    absurd.batch = 2147483647;
    absurd.dim = 2147483647;
    const double bytes = EstimateMemory(absurd).PeakBytes();
    CHECK(std::isfinite(bytes));
    CHECK(bytes > 1e20);
  }
  SECTION("negatives enlarge the item side and are named with the batch") {
    RunShape bpr = base;
    bpr.filter = FilterKind::kNone;
    bpr.negatives = 64;
    const MemoryEstimate e = EstimateMemory(bpr);
    CHECK(e.PeakBytes() > EstimateMemory(RunShape{base}).PeakBytes());
    bool named = false;
    for (const auto& item : e.items)
      if (item.what == "batch workspaces (B x d per stage)")
        named = (item.drivers & kDriverNegatives) && (item.drivers & kDriverBatch);
    CHECK(named);
  }
  SECTION("Adam adds two moment tables; LightGCN adds the graph and level buffers") {
    RunShape adam = base;
    adam.optimizer = OptimizerKind::kAdam;
    // (plus the 5 % allocator slack on top of every term)
    CHECK(EstimateMemory(adam).PeakBytes() - peak == Approx(1.05 * (2 * tables + 8 * 70000.0)));
    RunShape gcn = base;
    gcn.encoder = EncoderKind::kLightGCN;
    CHECK(EstimateMemory(gcn).PeakBytes() - peak > 3 * tables);
    RunShape deep = gcn;
    deep.layers = 200;
    CHECK(EstimateMemory(deep).Largest().drivers & kDriverLayers);
  }
  SECTION("transient phases count once: the largest of them") {
    RunShape rec = base;
    rec.recommend_k = 1 << 30;  // capped at the catalogue
    const MemoryEstimate e = EstimateMemory(rec);
    double persistent = 0, transient = 0;
    for (const auto& item : e.items) (item.transient ? transient : persistent) += item.bytes;
    CHECK(e.PeakBytes() < persistent + transient);
    CHECK(e.Largest().what == "recommendation lists and score rows");
    CHECK(e.Largest().bytes < 30000.0 * 40000 * 8 * 1.1 + 1e8);
  }
  SECTION("per-thread tiles name the thread count when they dominate") {
    RunShape many = base;
    many.threads = 100000;
    const MemoryEstimate e = EstimateMemory(many);
    CHECK(e.Largest().what == "evaluation lists and tiles");
    CHECK(e.Largest().drivers & kDriverThreads);
    CHECK_FALSE(EstimateMemory(base).Largest().drivers & kDriverThreads);
  }
  SECTION("the spectrum workspace follows the smaller side") {
    CHECK(SpectrumWorkspaceBytes(100, 5000) < 8.0 * 5000 * 200);
    CHECK(SpectrumWorkspaceBytes(70000, 64) < 8.0 * 2048 * 64 * 2);
  }
  CHECK(FormatBytes(512) == "512 B");
  CHECK(FormatBytes(1536) == "1.5 KiB");
  CHECK(FormatBytes(1.2 * 1099511627776.0) == "1.2 TiB");
}

namespace {

/// One measured configuration: trains a few steps, evaluates, computes the spectrum and (when
/// asked) recommendations, like directspec-train; prints the estimate and the measured growth
/// of the peak resident set.
template <class T>
void MeasureRun(T trainer, const Dataset& data, RunShape shape) {
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  trainer.Train(data.train, StopAfter{2});
  RowMatrix<float> U, I;
  trainer.Encoder().InferenceEmbeddings(U, I);
  const Evaluator eval(data.train, data.test_pairs, Eval({10, 20}));
  const EvalResult result = eval.Evaluate(U, I);
  const double erank = EffectiveRank(StackedSingularValues(U, I));
  std::size_t recommended = 0;
  if (shape.recommend_k > 0)
    for (const auto& list : RecommendMany(U, I, data.train, {}, shape.recommend_k))
      recommended += list.size();
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  const double measured = 1024.0 * static_cast<double>(after.ru_maxrss - before.ru_maxrss);
  std::cout << "estimate " << EstimateMemory(shape).PeakBytes() << " measured " << measured
            << " (recall " << result.Get("recall@20") << ", erank " << erank << ", " << recommended
            << " recommendations)\n";
}

RunShape ShapeOfData(const Dataset& data) {
  RunShape r;
  r.users = data.Users();
  r.items = data.Items();
  r.train_nnz = data.train.Nnz();
  r.test_nnz = data.test.Nnz();
  r.threads = 1;
  return r;
}

}  // namespace

TEST_CASE("child: measured configurations", "[.]") {
  const std::string role = ChildRole();
  if (role.empty()) return;
  SetThreads(1);
  if (role == "mf-directspec+") {
    // The B x B Grams dominate: 2 sides x 2 matrices x 4096^2 floats = 256 MiB.
    const Dataset data = MakeSyntheticDataset({.users = 600, .items = 1500});
    RecipeSettings r;
    r.batch_size = 4096;
    r.epochs = 1;
    r.threads = 1;
    RunShape shape = ShapeOfData(data);
    shape.batch = 4096;
    MeasureRun(MakeDirectSpecPlusMF<float>(r), data, shape);
  } else if (role == "lightgcn") {
    // Tables, level buffers and the full propagation of a larger graph.
    const Dataset data = MakeSyntheticDataset({.users = 20000, .items = 15000});
    RecipeSettings r;
    r.batch_size = 1024;
    r.dim = 128;
    r.epochs = 1;
    r.threads = 1;
    RunShape shape = ShapeOfData(data);
    shape.encoder = EncoderKind::kLightGCN;
    shape.batch = 1024;
    shape.dim = 128;
    MeasureRun(MakeDirectSpecPlusLightGCN<float>(r), data, shape);
  } else if (role == "bpr-adam") {
    // Adam moments, 8 negatives per positive, and top-200 recommendations for every user.
    const Dataset data = MakeSyntheticDataset({.users = 20000, .items = 15000});
    BaselineSettings b;
    b.batch_size = 4096;
    b.dim = 128;
    b.negatives = 8;
    b.epochs = 1;
    b.threads = 1;
    RunShape shape = ShapeOfData(data);
    shape.filter = FilterKind::kNone;
    shape.normalize_rows = false;
    shape.optimizer = OptimizerKind::kAdam;
    shape.batch = 4096;
    shape.dim = 128;
    shape.negatives = 8;
    shape.recommend_k = 200;
    MeasureRun(MakeBprMF<float>(b), data, shape);
  } else {
    FAIL("unknown role " << role);
  }
}

TEST_CASE("The memory estimate bounds the measured peak without overstating it", "[estimate]") {
  if (kSanitized) {
    WARN("skipped: sanitizers inflate the resident set");
    return;
  }
  for (const char* role : {"mf-directspec+", "lightgcn", "bpr-adam"}) {
    INFO("configuration " << role);
    const auto run = RunTestInChild("child: measured configurations", role);
    INFO(run.output);
    REQUIRE(run.exited);
    REQUIRE(run.code == 0);
    std::smatch m;
    REQUIRE(
        std::regex_search(run.output, m, std::regex("estimate ([0-9.e+]+) measured ([0-9.e+]+)")));
    const double estimate = std::stod(m[1]), measured = std::stod(m[2]);
    WARN(role << ": estimate " << FormatBytes(estimate) << ", measured peak growth "
              << FormatBytes(measured));
    CHECK(estimate >= measured);
    CHECK(estimate <= 3 * measured + 32.0 * (1 << 20));
  }
}

// ----------------------------------------------------------------------------- available memory
TEST_CASE("Available memory: /proc/meminfo and cgroup limits", "[available]") {
  CHECK(
      ParseMemAvailable("MemTotal:       24000000 kB\nMemFree: 1 kB\nMemAvailable:   22007004 kB\n")
          .value() == 22007004.0 * 1024);
  CHECK_FALSE(ParseMemAvailable("MemTotal: 5 kB\n"));
  CHECK_FALSE(ParseMemAvailable("MemAvailable: lots\n"));
  CHECK(ParseCgroupRoom("1073741824\n", "268435456\n").value() == 805306368.0);
  CHECK(ParseCgroupRoom("1073741824\n", "2147483648\n").value() == 0.0);
  CHECK_FALSE(ParseCgroupRoom("max\n", "1\n"));
  CHECK_FALSE(ParseCgroupRoom("9223372036854771712\n", "1\n"));  // cgroup v1's "no limit"
  const auto available = QueryAvailableMemory();
  REQUIRE(available);  // Linux, where the tests run
  CHECK(available->bytes > 0);
}

// --------------------------------------------------------------------------------- chance level
TEST_CASE("RandomRankingRecall matches random score matrices", "[chance]") {
  const Dataset data = MakeSyntheticDataset({.users = 300, .items = 200});
  const ChanceLevel chance = RandomRankingRecall(data.train, data.test, 20);
  REQUIRE(chance.mean > 0);
  REQUIRE(chance.mean < 0.3);
  const Evaluator eval(data.train, data.test_pairs, Eval({20}));
  std::mt19937_64 engine(11);
  std::uniform_real_distribution<float> uniform(0.f, 1.f);
  constexpr int kDraws = 200;
  double sum = 0, squares = 0;
  RowMatrix<float> scores(data.Users(), data.Items());
  for (int draw = 0; draw < kDraws; ++draw) {
    for (Index k = 0; k < scores.size(); ++k) scores.data()[k] = uniform(engine);
    const double recall = eval.EvaluateScores(scores).Get("recall@20");
    sum += recall;
    squares += recall * recall;
  }
  const double mean = sum / kDraws, spread = std::sqrt(squares / kDraws - mean * mean);
  CHECK(std::abs(mean - chance.mean) < 4 * chance.stddev / std::sqrt(double(kDraws)));
  CHECK(spread == Approx(chance.stddev).epsilon(0.2));
  // A learned-looking ranking (the test items on top) is far above it.
  RowMatrix<float> oracle = RowMatrix<float>::Zero(data.Users(), data.Items());
  for (const auto& [u, i] : data.test_pairs) oracle(u, i) = 1;
  CHECK(eval.EvaluateScores(oracle).Get("recall@20") > 5 * chance.mean);
}

// ------------------------------------------------------------------------------ learning signals
TEST_CASE("LearningSignals tells a stalled run from a learning one", "[learning]") {
  const Dataset data = MakeSyntheticDataset({.users = 600, .items = 400});
  auto run = [&](double lr, double tau) {
    RecipeSettings r;
    r.learning_rate = lr;
    r.tau = tau;
    r.shrink = 0;
    r.epochs = 2;
    r.threads = 1;
    auto trainer = MakeDirectSpecPlusMF<float>(r);
    LearningSignals signals;
    trainer.Train(data.train, signals);
    return signals.Measure(trainer);
  };
  const LearningMeasurement normal = run(10, 3);
  CHECK(normal.epochs == 2);
  CHECK(normal.steps == 2 * (data.train.SourceRows() / 256));
  CHECK(normal.last_epoch_loss < normal.first_epoch_loss);
  CHECK(normal.relative_change > 1e-2);
  CHECK(normal.norm_growth < 100);
  const LearningMeasurement huge = run(1e30, 3);
  CHECK(huge.norm_growth > 1e3);
  const LearningMeasurement self = run(10, 1e6);  // the softmax keeps every row to itself
  CHECK(std::abs(self.last_epoch_loss - std::log(2.0)) < 1e-4 * std::log(2.0));
  CHECK(self.relative_change < 1e-3);
}
