// LightGCN propagation benchmarks: one forward + backward encoder step (B = 256 users and their
// 256 positive items, d = 64, K = 3, float) with whole-graph and with neighbourhood-restricted
// propagation (counters: the encode / backward split in ms), and the raw whole-graph SpMM Y = Â X,
// on CiteULike and Gowalla read from DIRECTSPEC_DATASETS_DIR/<name>/. Missing datasets are
// reported as skipped.
//
//   OMP_NUM_THREADS=1 ./bench_lightgcn --benchmark_min_time=0.5 --benchmark_repetitions=3
//   (add --benchmark_report_aggregates_only=true for medians only)
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/data/dataset.hpp"
#include "directspec/graph.hpp"
#include "directspec/models.hpp"

using namespace directspec;

namespace {

constexpr Index kDim = 64;
constexpr Index kBatch = 256;
constexpr Index kLayers = 3;
constexpr int kBatches = 32;  // distinct batches cycled through, so no step sees a warm cache

std::filesystem::path DatasetDir(const std::string& name) {
  return std::filesystem::path(DIRECTSPEC_DATASETS_DIR) / name;
}

/// Train interactions of a shared dataset, loaded once per process (null when absent).
const Interactions* Train(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Interactions>> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    std::unique_ptr<Interactions> train;
    if (std::filesystem::exists(DatasetDir(name) / "train.csv"))
      train = std::make_unique<Interactions>(LoadDataset(DatasetDir(name)).train);
    it = cache.emplace(name, std::move(train)).first;
  }
  return it->second.get();
}

double PeakRssMegabytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

/// The reference sampling: a user uniformly among users with train items, then one of her items.
struct Batches {
  std::vector<std::vector<Id>> users, items;
};

Batches SampleBatches(const Interactions& train, std::uint64_t seed) {
  std::vector<Id> active;
  for (Index u = 0; u < train.Users(); ++u)
    if (train.UserDegree(u) > 0) active.push_back(static_cast<Id>(u));
  Batches out;
  for (int s = 0; s < kBatches; ++s) {
    std::mt19937_64 engine = MakeStream(seed, static_cast<std::uint64_t>(s));
    std::vector<Id> users, items;
    for (Index b = 0; b < kBatch; ++b) {
      const Id u = active[UniformIndex(engine, active.size())];
      const auto row = train.ItemsOf(u);
      users.push_back(u);
      items.push_back(row[UniformIndex(engine, row.size())]);
    }
    out.users.push_back(std::move(users));
    out.items.push_back(std::move(items));
  }
  return out;
}

template <template <class> class Propagation>
void BM_LightGCNStep(benchmark::State& state, const std::string& name) {
  const Interactions* train = Train(name);
  if (train == nullptr) {
    state.SkipWithError(
        ("dataset not found: " + (DatasetDir(name) / "train.csv").string()).c_str());
    return;
  }
  LightGCN<float, Propagation> gcn({.dim = kDim, .layers = kLayers});
  gcn.Initialize(*train, 1);
  const Batches batches = SampleBatches(*train, 2);
  std::mt19937_64 engine = MakeStream(3);
  RowMatrix<float> GU(kBatch, kDim), GI(kBatch, kDim);
  for (Index k = 0; k < GU.size(); ++k)
    GU.data()[k] = static_cast<float>(UniformUnit(engine) - 0.5);
  for (Index k = 0; k < GI.size(); ++k)
    GI.data()[k] = static_cast<float>(UniformUnit(engine) - 0.5);
  RowMatrix<float> XU, XI;
  std::vector<RowGradient<float>> grads;
  // One untimed step: first-touch of the workspaces is not part of a steady-state step.
  gcn.Encode(batches.users[0], batches.items[0], XU, XI);
  gcn.Backward(GU, GI, grads);
  double touched = 0, encode_seconds = 0, backward_seconds = 0;
  int step = 0;
  using Clock = std::chrono::steady_clock;
  for (auto _ : state) {
    const int b = step++ % kBatches;
    // The split between the two halves (two clock reads per step, negligible against ms).
    const auto start = Clock::now();
    gcn.Encode(batches.users[b], batches.items[b], XU, XI);
    const auto middle = Clock::now();
    gcn.Backward(GU, GI, grads);
    benchmark::DoNotOptimize(grads[0].values.data());
    const auto end = Clock::now();
    encode_seconds += std::chrono::duration<double>(middle - start).count();
    backward_seconds += std::chrono::duration<double>(end - middle).count();
    touched += static_cast<double>(grads[0].Size());
  }
  const double steps = static_cast<double>(std::max(step, 1));
  state.counters["encode_ms"] = 1e3 * encode_seconds / steps;
  state.counters["backward_ms"] = 1e3 * backward_seconds / steps;
  state.counters["grad_rows"] = touched / steps;
  state.counters["nodes"] = static_cast<double>(gcn.Graph().Nodes());
  state.counters["peak_rss_MB"] = PeakRssMegabytes();
  state.SetItemsProcessed(state.iterations());  // items/s = steps per second
}

void BM_StepWholeGraph(benchmark::State& state, const std::string& name) {
  BM_LightGCNStep<WholeGraphPropagation>(state, name);
}
void BM_StepNeighbourhood(benchmark::State& state, const std::string& name) {
  BM_LightGCNStep<NeighbourhoodPropagation>(state, name);
}

void BM_SpMM(benchmark::State& state, const std::string& name) {
  const Interactions* train = Train(name);
  if (train == nullptr) {
    state.SkipWithError(
        ("dataset not found: " + (DatasetDir(name) / "train.csv").string()).c_str());
    return;
  }
  const NormalizedAdjacency<float> graph(*train);
  std::mt19937_64 engine = MakeStream(4);
  RowMatrix<float> X(graph.Nodes(), kDim), Y;
  for (Index k = 0; k < X.size(); ++k) X.data()[k] = static_cast<float>(UniformUnit(engine));
  Multiply(graph, X, Y);  // untimed: allocates and first-touches Y
  for (auto _ : state) {
    Multiply(graph, X, Y);
    benchmark::DoNotOptimize(Y.data());
  }
  // Per product: each non-zero reads a column id, a weight and one d-float row of X; each
  // output row is written once; the offsets are read once.
  const double bytes =
      static_cast<double>(graph.Nnz()) * (sizeof(Id) + sizeof(float) + kDim * sizeof(float)) +
      static_cast<double>(graph.Nodes()) * (kDim * sizeof(float) + 8);
  state.SetBytesProcessed(
      static_cast<std::int64_t>(bytes * static_cast<double>(state.iterations())));
  // items = multiply-adds.
  state.SetItemsProcessed(state.iterations() * graph.Nnz() * kDim);
  state.counters["nnz"] = static_cast<double>(graph.Nnz());
}

}  // namespace

BENCHMARK_CAPTURE(BM_StepWholeGraph, citeulike, std::string("citeulike"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_StepNeighbourhood, citeulike, std::string("citeulike"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_StepWholeGraph, gowalla, std::string("gowalla"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_StepNeighbourhood, gowalla, std::string("gowalla"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SpMM, citeulike, std::string("citeulike"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SpMM, gowalla, std::string("gowalla"))->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
