// Filter kernels: forward + backward of each spectrum filter for B in {128, 256, 512, 1024} and
// d in {32, 64, 128}, in float, beside an Eigen float GEMM of the filter's shape (B x d times
// d x B) in the same binary, so the "% of GEMM rate" target is a ratio measured side by side.
//
//   build-filters/bench/bench_filters --benchmark_min_time=0.5
//   OMP_NUM_THREADS=1 build-filters/bench/bench_filters --benchmark_filter='/256/64'
//
// FLOP counters (FLOP/s column, a rate): GEMM 2 B² d; DirectSpecPlus and the adaptive variant
// 10 B² d (five B x B x d products, performance.md); DirectSpec 10 B d² when d < B (it runs the
// X̂(X̂ᵀX̂) association), else 10 B² d. Adaptive DirectSpec+ draws its ids and neighbour lists from
// DIRECTSPEC_DATASETS_DIR/citeulike/train.csv when present (users uniformly among active
// users, items as one random train item of each), else from a synthetic power-law graph.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/data/interactions.hpp"
#include "directspec/filters.hpp"

namespace ds = directspec;
using ds::Index;
using MatF = ds::RowMatrix<float>;

namespace {

MatF RandomRows(Index rows, Index cols, std::uint64_t seed, bool normalise) {
  auto engine = ds::MakeStream(seed);
  MatF m(rows, cols);
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c)
      m(r, c) = static_cast<float>(2.0 * ds::UniformUnit(engine) - 1.0);
  if (normalise)
    for (Index r = 0; r < rows; ++r) m.row(r).normalize();
  return m;
}

// A minimal reader for the `user,item` CSV; the real loaders live in data/.
bool ReadPairs(const std::string& path, std::vector<std::pair<ds::Id, ds::Id>>& pairs, Index& n,
               Index& m) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  std::getline(in, line);  // header
  n = m = 0;
  while (std::getline(in, line)) {
    const auto comma = line.find(',');
    if (comma == std::string::npos) continue;
    const auto u = static_cast<ds::Id>(std::stol(line.substr(0, comma)));
    const auto i = static_cast<ds::Id>(std::stol(line.substr(comma + 1)));
    pairs.emplace_back(u, i);
    n = std::max<Index>(n, u + 1);
    m = std::max<Index>(m, i + 1);
  }
  return !pairs.empty();
}

// The train graph the adaptive filter intersects: CiteULike when available.
struct Graph {
  ds::Interactions train;
  std::vector<ds::Id> active_users;
  bool real = false;

  Graph() {
    std::vector<std::pair<ds::Id, ds::Id>> pairs;
    Index n = 0, m = 0;
    real = ReadPairs(std::string(DIRECTSPEC_DATASETS_DIR) + "/citeulike/train.csv", pairs, n,
                     m);
    if (!real) {  // CiteULike-sized synthetic graph: 5.5k users, 17k items, power-law items
      pairs.clear();
      n = 5551;
      m = 16980;
      auto engine = ds::MakeStream(7);
      for (Index u = 0; u < n; ++u) {
        const auto degree = 5 + ds::UniformIndex(engine, 50);
        for (std::uint64_t k = 0; k < degree; ++k) {
          const double r = ds::UniformUnit(engine);
          pairs.emplace_back(static_cast<ds::Id>(u),
                             static_cast<ds::Id>(static_cast<double>(m) * r * r * r));
        }
      }
    }
    train = ds::Interactions::FromPairs(n, m, pairs);
    for (Index u = 0; u < n; ++u)
      if (train.UserDegree(u) > 0) active_users.push_back(static_cast<ds::Id>(u));
    train.Transposed();
  }

  // Reference sampling: users uniformly among active users, one train item of each.
  void Sample(Index B, std::uint64_t seed, std::vector<ds::Id>& users,
              std::vector<ds::Id>& items) const {
    auto engine = ds::MakeStream(seed);
    users.resize(static_cast<std::size_t>(B));
    items.resize(static_cast<std::size_t>(B));
    for (Index b = 0; b < B; ++b) {
      const ds::Id u = active_users[ds::UniformIndex(engine, active_users.size())];
      const auto row = train.ItemsOf(u);
      users[static_cast<std::size_t>(b)] = u;
      items[static_cast<std::size_t>(b)] = row[ds::UniformIndex(engine, row.size())];
    }
  }
};

const Graph& TheGraph() {
  static const Graph graph;
  return graph;
}

void SetFlops(benchmark::State& state, double flop_per_iteration) {
  state.counters["FLOP/s"] =
      benchmark::Counter(flop_per_iteration, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_EigenGemmFloat(benchmark::State& state) {
  const Index B = state.range(0), d = state.range(1);
  const MatF X = RandomRows(B, d, 1, true), Z = RandomRows(B, d, 2, true);
  MatF C(B, B);
  for (auto _ : state) {
    C.noalias() = X * Z.transpose();
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  SetFlops(state, 2.0 * double(B) * double(B) * double(d));
}

// The Gram matrix X̂X̂ᵀ two ways: a plain GEMM or a symmetric rank update (half the FLOP).
void BM_GramGemm(benchmark::State& state) {
  const Index B = state.range(0), d = state.range(1);
  const MatF X = RandomRows(B, d, 1, true);
  MatF C(B, B);
  for (auto _ : state) {
    C.noalias() = X * X.transpose();
    benchmark::DoNotOptimize(C.data());
  }
  SetFlops(state, 2.0 * double(B) * double(B) * double(d));
}

void BM_GramRankUpdate(benchmark::State& state) {
  const Index B = state.range(0), d = state.range(1);
  const MatF X = RandomRows(B, d, 1, true);
  MatF C(B, B);
  for (auto _ : state) {
    C.setZero();
    C.selfadjointView<Eigen::Lower>().rankUpdate(X);
    C.triangularView<Eigen::StrictlyUpper>() = C.transpose();  // full matrix for the softmax
    benchmark::DoNotOptimize(C.data());
  }
  SetFlops(state, 2.0 * double(B) * double(B) * double(d));  // same nominal work as the GEMM
}

template <class Filter>
void RunFilter(benchmark::State& state, Filter& filter, const ds::FilterContext& ctx, double flop) {
  const Index B = state.range(0), d = state.range(1);
  const MatF X = RandomRows(B, d, 3, true), G = RandomRows(B, d, 4, false);
  MatF Y, GX;
  for (auto _ : state) {
    filter.Forward(X, ctx, Y);
    filter.Backward(G, GX);
    benchmark::DoNotOptimize(GX.data());
    benchmark::ClobberMemory();
  }
  SetFlops(state, flop);
}

double SoftmaxFlop(Index B, Index d) { return 10.0 * double(B) * double(B) * double(d); }

void BM_NoFilter(benchmark::State& state) {
  ds::NoFilter<float> filter;
  RunFilter(state, filter, ds::FilterContext{}, 0.0);
}

void BM_DirectSpec(benchmark::State& state) {
  const Index B = state.range(0), d = state.range(1);
  ds::DirectSpec<float> filter;
  const double small = double(std::min(B, d)), large = double(std::max(B, d));
  RunFilter(state, filter, ds::FilterContext{}, 10.0 * large * small * small);
}

void BM_DirectSpecPlus(benchmark::State& state) {
  ds::DirectSpecPlus<float> filter;
  RunFilter(state, filter, ds::FilterContext{}, SoftmaxFlop(state.range(0), state.range(1)));
}

// Adaptive on the user side (users -> items) or the item side (items -> users). A fresh batch of
// ids each iteration (from a pool of 64 sampled batches), as in training.
template <bool kUserSide>
void BM_AdaptiveDirectSpecPlus(benchmark::State& state) {
  const Index B = state.range(0), d = state.range(1);
  const Graph& graph = TheGraph();
  std::vector<std::vector<ds::Id>> pool(64);
  for (std::size_t k = 0; k < pool.size(); ++k) {
    std::vector<ds::Id> users, items;
    graph.Sample(B, 100 + k, users, items);
    pool[k] = kUserSide ? users : items;
  }
  const ds::CsrView neighbours = kUserSide ? graph.train.View() : graph.train.Transposed();
  ds::AdaptiveDirectSpecPlus<float> filter;
  const MatF X = RandomRows(B, d, 3, true), G = RandomRows(B, d, 4, false);
  MatF Y, GX;
  std::size_t k = 0;
  for (auto _ : state) {
    filter.Forward(X, ds::FilterContext{pool[k], neighbours}, Y);
    filter.Backward(G, GX);
    k = (k + 1) % pool.size();
    benchmark::DoNotOptimize(GX.data());
    benchmark::ClobberMemory();
  }
  SetFlops(state, SoftmaxFlop(B, d));
  state.SetLabel(graph.real ? "citeulike" : "synthetic");
}

// The mask alone, to show its share of the adaptive cost.
template <bool kUserSide>
void BM_SharedNeighbours(benchmark::State& state) {
  const Index B = state.range(0);
  const Graph& graph = TheGraph();
  std::vector<std::vector<ds::Id>> pool(64);
  for (std::size_t k = 0; k < pool.size(); ++k) {
    std::vector<ds::Id> users, items;
    graph.Sample(B, 100 + k, users, items);
    pool[k] = kUserSide ? users : items;
  }
  const ds::CsrView neighbours = kUserSide ? graph.train.View() : graph.train.Transposed();
  ds::SharedNeighbours mask;
  std::size_t k = 0;
  for (auto _ : state) {
    mask.Compute(pool[k], neighbours);
    k = (k + 1) % pool.size();
    benchmark::DoNotOptimize(mask.Row(0));
  }
  state.SetLabel(graph.real ? "citeulike" : "synthetic");
}

void Shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "d"});
  for (Index B : {128, 256, 512, 1024})
    for (Index d : {32, 64, 128}) b->Args({B, d});
  b->Unit(benchmark::kMicrosecond)->UseRealTime();  // wall time: CPU time is unreliable in VMs
}

}  // namespace

BENCHMARK(BM_EigenGemmFloat)->Apply(Shapes);
BENCHMARK(BM_GramGemm)->Apply(Shapes);
BENCHMARK(BM_GramRankUpdate)->Apply(Shapes);
BENCHMARK(BM_NoFilter)->Apply(Shapes);
BENCHMARK(BM_DirectSpec)->Apply(Shapes);
BENCHMARK(BM_DirectSpecPlus)->Apply(Shapes);
BENCHMARK_TEMPLATE(BM_AdaptiveDirectSpecPlus, true)->Apply(Shapes);
BENCHMARK_TEMPLATE(BM_AdaptiveDirectSpecPlus, false)->Apply(Shapes);
BENCHMARK_TEMPLATE(BM_SharedNeighbours, true)->Apply(Shapes);
BENCHMARK_TEMPLATE(BM_SharedNeighbours, false)->Apply(Shapes);

BENCHMARK_MAIN();
