// End-to-end training speed: whole epochs of MF + DirectSpec+ with the reference CiteULike and
// Gowalla recipes (B 256, d 64, float), and LightGCN + DirectSpec+ steps, read from
// DIRECTSPEC_DATASETS_DIR (each case is skipped with a message when its dataset is
// absent). Threads come from OMP_NUM_THREADS (the trainer's threads option is left at 0 = the
// OpenMP default), so compare
//
//   OMP_NUM_THREADS=1 build-train/bench/bench_epoch --benchmark_filter=MF
//   OMP_NUM_THREADS=2 build-train/bench/bench_epoch --benchmark_filter=MF
//
// (the _sequential_sides case keeps the two sides on one thread and leaves any parallelism to
// Eigen) against the GEMM floor of docs/performance.md (0.64 s per CiteULike epoch, 3.1 s per
// Gowalla epoch at 85 GFLOP/s) and the PyTorch peer. Counters: seconds per epoch (or per step),
// steps/s and the achieved filter GFLOP/s (20 B^2 d FLOP per step).

#include <benchmark/benchmark.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "directspec/data/dataset.hpp"
#include "directspec/train.hpp"

using namespace directspec;

namespace {

const Dataset* Load(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Dataset>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second.get();
  const std::filesystem::path dir = std::filesystem::path(DIRECTSPEC_DATASETS_DIR) / name;
  std::unique_ptr<Dataset> data;
  if (std::filesystem::exists(dir / "train.csv"))
    data = std::make_unique<Dataset>(LoadDataset(dir));
  return (cache[name] = std::move(data)).get();
}

void Counters(benchmark::State& state, double steps_per_iteration, Index B, Index d) {
  const double steps = steps_per_iteration * static_cast<double>(state.iterations());
  state.counters["steps/s"] = benchmark::Counter(steps, benchmark::Counter::kIsRate);
  state.counters["filter_GFLOP/s"] = benchmark::Counter(
      steps * 20.0 * static_cast<double>(B * B * d) / 1e9, benchmark::Counter::kIsRate);
}

// One epoch per iteration, continuing from the previous iteration's tables (warm start), so
// initialisation is not timed.
void BM_EpochMF_DirectSpecPlus(benchmark::State& state, const std::string& name,
                               ReferenceDataset reference, bool parallel_sides) {
  const Dataset* data = Load(name);
  if (data == nullptr) {
    state.SkipWithError((name + " is absent from " DIRECTSPEC_DATASETS_DIR).c_str());
    return;
  }
  auto recipe = ReferenceRecipe(reference, ReferenceModel::kMF);
  recipe.epochs = 1;
  auto trainer = MakeDirectSpecPlusMF<float>(recipe);
  trainer.Initialize(data->train);
  auto options = trainer.GetOptions();
  options.warm_start = true;
  options.parallel_sides = parallel_sides;
  DirectSpecPlusMF<float> warm(options, trainer.Encoder(), trainer.Loss(), trainer.Sampler(),
                               trainer.Optimizer());
  Index steps = 0;
  for (auto _ : state) steps = warm.Train(data->train).steps_per_epoch;
  Counters(state, static_cast<double>(steps), recipe.batch_size, recipe.dim);
  state.counters["s/epoch"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(name + ", " + std::to_string(steps) + " steps/epoch" +
                 (parallel_sides ? "" : ", sides sequential"));
}

// `steps` LightGCN + DirectSpec+ steps per iteration (reference recipe, 3 layers,
// neighbourhood-restricted propagation).
void BM_StepsLightGCN_DirectSpecPlus(benchmark::State& state, const std::string& name,
                                     ReferenceDataset reference) {
  const Dataset* data = Load(name);
  if (data == nullptr) {
    state.SkipWithError((name + " is absent from " DIRECTSPEC_DATASETS_DIR).c_str());
    return;
  }
  constexpr Index kSteps = 20;
  auto recipe = ReferenceRecipe(reference, ReferenceModel::kLightGCN);
  recipe.epochs = 1;
  auto trainer = MakeDirectSpecPlusLightGCN<float>(recipe);
  trainer.Initialize(data->train);
  auto options = trainer.GetOptions();
  options.warm_start = true;
  options.steps_per_epoch = kSteps;
  DirectSpecPlusLightGCN<float> warm(options, trainer.Encoder(), trainer.Loss(), trainer.Sampler(),
                                     trainer.Optimizer());
  for (auto _ : state) warm.Train(data->train);
  Counters(state, kSteps, recipe.batch_size, recipe.dim);
  state.counters["s/step"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kSteps),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(name);
}

}  // namespace

BENCHMARK_CAPTURE(BM_EpochMF_DirectSpecPlus, citeulike, std::string("citeulike"),
                  ReferenceDataset::kCiteULike, true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_EpochMF_DirectSpecPlus, citeulike_sequential_sides, std::string("citeulike"),
                  ReferenceDataset::kCiteULike, false)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_EpochMF_DirectSpecPlus, gowalla, std::string("gowalla"),
                  ReferenceDataset::kGowalla, true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(2);
BENCHMARK_CAPTURE(BM_StepsLightGCN_DirectSpecPlus, citeulike, std::string("citeulike"),
                  ReferenceDataset::kCiteULike)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_StepsLightGCN_DirectSpecPlus, gowalla, std::string("gowalla"),
                  ReferenceDataset::kGowalla)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
