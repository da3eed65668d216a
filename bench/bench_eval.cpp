// Full-ranking evaluation throughput against the GEMM floor (docs/performance.md target:
// Gowalla, top-20, 2 threads, <= 2x the time of the n*m*d multiply-adds at the GEMM rate measured
// in this binary). Random tables d = 64 on the real Gowalla train/test split (skipped with a
// message when the dataset is absent), plus Google Benchmark cases for the parts: the tiled GEMM
// alone and the top-K selection alone.
//
//   ./bench_eval                         # summary table, then the Google Benchmark cases
//   ./bench_eval --benchmark_filter=TopK --benchmark_min_time=0.5

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "directspec/eval/evaluator.hpp"
#include "directspec/eval/topk.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace directspec;

namespace {

constexpr Index kDim = 64;

void SetThreads(int threads) {
#ifdef _OPENMP
  omp_set_num_threads(threads);
#else
  (void)threads;
#endif
}

// Tiny reader for the shared `user,item` CSV files (header line, decimal ids).
bool ReadPairs(const std::filesystem::path& path, std::vector<std::pair<Id, Id>>& out, Index& users,
               Index& items) {
  std::ifstream f(path);
  if (!f) return false;
  std::string line;
  std::getline(f, line);
  while (std::getline(f, line)) {
    const auto comma = line.find(',');
    if (comma == std::string::npos) continue;
    const Id u = static_cast<Id>(std::stol(line.substr(0, comma)));
    const Id i = static_cast<Id>(std::stol(line.substr(comma + 1)));
    out.emplace_back(u, i);
    users = std::max<Index>(users, u + 1);
    items = std::max<Index>(items, i + 1);
  }
  return true;
}

struct Gowalla {
  bool present = false;
  Index n = 0, m = 0;
  Interactions train;
  std::vector<std::pair<Id, Id>> test;
  RowMatrix<float> U, I;

  static const Gowalla& Get() {
    static const Gowalla g = [] {
      Gowalla g;
      const std::filesystem::path dir = std::filesystem::path(DIRECTSPEC_DATASETS_DIR) / "gowalla";
      std::vector<std::pair<Id, Id>> train;
      if (!ReadPairs(dir / "train.csv", train, g.n, g.m) ||
          !ReadPairs(dir / "test.csv", g.test, g.n, g.m))
        return g;
      g.train = Interactions::FromPairs(g.n, g.m, train);
      std::mt19937_64 rng(42);
      std::normal_distribution<float> normal(0.0f, 0.1f);
      g.U.resize(g.n, kDim);
      g.I.resize(g.m, kDim);
      for (Index k = 0; k < g.U.size(); ++k) g.U.data()[k] = normal(rng);
      for (Index k = 0; k < g.I.size(); ++k) g.I.data()[k] = normal(rng);
      g.present = true;
      return g;
    }();
    return g;
  }
};

// The floor: every (user, item) score computed with the evaluator's own GEMM shape (user batch x
// item tile), no selection, OpenMP over user batches.
double GemmFloorSeconds(const RowMatrix<float>& U, const RowMatrix<float>& I, Index batch,
                        Index tile) {
  const auto start = std::chrono::steady_clock::now();
  const Index n = U.rows(), m = I.rows();
  const Index batches = (n + batch - 1) / batch;
  float sink = 0;
#ifdef _OPENMP
#pragma omp parallel reduction(+ : sink)
#endif
  {
    RowMatrix<float> S;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (Index b = 0; b < batches; ++b) {
      const Index lo = b * batch, rows = std::min(batch, n - lo);
      for (Index j0 = 0; j0 < m; j0 += tile) {
        const Index len = std::min(tile, m - j0);
        S.resize(rows, len);
        S.noalias() = U.middleRows(lo, rows) * I.middleRows(j0, len).transpose();
        sink += S(0, 0);
      }
    }
  }
  benchmark::DoNotOptimize(sink);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <class F>
double BestOf(int runs, F&& f) {
  double best = 1e300;
  for (int r = 0; r < runs; ++r) best = std::min(best, f());
  return best;
}

void Summary() {
  const Gowalla& g = Gowalla::Get();
  if (!g.present) {
    std::printf("bench_eval: %s/gowalla not found; skipping the Gowalla summary\n",
                DIRECTSPEC_DATASETS_DIR);
    return;
  }
  EvalOptions o;
  o.ks = {20};
  const Evaluator eval(g.train, g.test, o);
  const double madds = static_cast<double>(g.n) * static_cast<double>(g.m) * kDim;
  std::printf(
      "Gowalla full ranking: n=%ld users (%zu evaluated), m=%ld items, d=%ld, top-20, "
      "%.1f G multiply-adds\n",
      static_cast<long>(g.n), eval.EvaluatedUsers().size(), static_cast<long>(g.m),
      static_cast<long>(kDim), madds / 1e9);
  std::printf("%8s %12s %12s %14s %10s %10s\n", "threads", "eval s", "floor s", "floor GFLOP/s",
              "ratio", "recall@20");
  for (int threads : {1, 2}) {
    SetThreads(threads);
    const double floor =
        BestOf(3, [&] { return GemmFloorSeconds(g.U, g.I, o.user_batch, o.item_tile); });
    double recall = 0;
    const double evals = BestOf(3, [&] {
      const EvalResult r = eval.Evaluate(g.U, g.I);
      recall = r.Get("recall@20");
      return r.seconds;
    });
    std::printf("%8d %12.3f %12.3f %14.1f %10.2f %10.5f\n", threads, evals, floor,
                2 * madds / floor / 1e9, evals / floor, recall);
  }
  std::fflush(stdout);
}

// Google Benchmark cases on a Gowalla-sized synthetic block (no dataset needed).
void BM_TopKSelection(benchmark::State& state) {
  const Index m = 40981, k = state.range(0);
  std::mt19937_64 rng(1);
  std::normal_distribution<float> normal;
  std::vector<float> scores(static_cast<std::size_t>(m));
  for (auto& s : scores) s = normal(rng);
  std::vector<Id> excluded;
  for (Id i = 0; i < m; i += 1500) excluded.push_back(i);
  TopKSelector<float> top;
  std::vector<Id> out(static_cast<std::size_t>(k));
  for (auto _ : state) {
    top.Reset(k);
    top.OfferRow(scores.data(), 0, m, excluded);
    benchmark::DoNotOptimize(top.SortedItems(out.data()));
  }
  state.SetItemsProcessed(state.iterations() * m);
}
BENCHMARK(BM_TopKSelection)->Arg(20)->Arg(100);

void BM_TiledGemm(benchmark::State& state) {
  const Index batch = 128, tile = state.range(0);
  std::mt19937_64 rng(2);
  std::normal_distribution<float> normal;
  RowMatrix<float> U(batch, kDim), I(tile, kDim), S(batch, tile);
  for (Index q = 0; q < U.size(); ++q) U.data()[q] = normal(rng);
  for (Index q = 0; q < I.size(); ++q) I.data()[q] = normal(rng);
  SetThreads(1);
  for (auto _ : state) {
    S.noalias() = U * I.transpose();
    benchmark::DoNotOptimize(S.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * static_cast<double>(batch * tile * kDim) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_TiledGemm)->Arg(512)->Arg(1024)->Arg(2048);

}  // namespace

int main(int argc, char** argv) {
  Summary();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
