// Sampler throughput: batches of B = 256 (user, positive[, negatives]) per second for each
// positive policy and negative policy, on CiteULike when DIRECTSPEC_DATASETS_DIR holds it
// (else on the synthetic generator's data, said in the label). Counters: rows/s and the cost of
// one batch beside the ~1 ms a DirectSpec+ step takes.
//
//   build-train/bench/bench_sampler --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "directspec/data/dataset.hpp"
#include "directspec/data/synthetic.hpp"
#include "directspec/samplers.hpp"

using namespace directspec;

namespace {

const Dataset& Data() {
  static const Dataset data = [] {
    const std::filesystem::path dir =
        std::filesystem::path(DIRECTSPEC_DATASETS_DIR) / "citeulike";
    if (std::filesystem::exists(dir / "train.csv")) return LoadDataset(dir);
    return MakeSyntheticDataset(SyntheticOptions{});
  }();
  return data;
}

std::string Label() {
  return Data().Users() == 5551 ? "citeulike" : "synthetic (citeulike absent)";
}

template <class Sampler>
void Run(benchmark::State& state, Sampler sampler) {
  const Index B = state.range(0);
  sampler.Reset(Data().train, 42);
  Batch batch;
  for (auto _ : state) {
    sampler.Sample(B, batch);
    benchmark::DoNotOptimize(batch.users.data());
    benchmark::DoNotOptimize(batch.negatives.data());
  }
  state.SetItemsProcessed(state.iterations() * B);
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * B), benchmark::Counter::kIsRate);
  state.SetLabel(Label());
}

void BM_UserThenPositive(benchmark::State& state) { Run(state, UserThenPositive<>()); }
void BM_InteractionUniform(benchmark::State& state) { Run(state, InteractionUniform<>()); }
void BM_UserThenPositive_Uniform1(benchmark::State& state) {
  Run(state, UserThenPositive<UniformNegatives>(UniformNegatives({.per_positive = 1})));
}
void BM_UserThenPositive_Uniform8(benchmark::State& state) {
  Run(state, UserThenPositive<UniformNegatives>(UniformNegatives({.per_positive = 8})));
}
void BM_UserThenPositive_Popularity1(benchmark::State& state) {
  Run(state, UserThenPositive<PopularityNegatives>(
                 PopularityNegatives({.per_positive = 1, .exponent = 0.75})));
}

}  // namespace

BENCHMARK(BM_UserThenPositive)->Arg(256)->Arg(2048);
BENCHMARK(BM_InteractionUniform)->Arg(256)->Arg(2048);
BENCHMARK(BM_UserThenPositive_Uniform1)->Arg(256)->Arg(2048);
BENCHMARK(BM_UserThenPositive_Uniform8)->Arg(256);
BENCHMARK(BM_UserThenPositive_Popularity1)->Arg(256)->Arg(2048);

BENCHMARK_MAIN();
