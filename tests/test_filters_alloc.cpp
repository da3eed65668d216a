// Workspace reuse: once shapes are stable, a step through the filters and losses must not touch
// the heap. Eigen's EIGEN_RUNTIME_NO_MALLOC hook turns any Eigen allocation into an exception,
// and a replaced global operator new counts std::vector growth (SharedNeighbours' lists).
// Runs with one Eigen thread: Eigen's OpenMP-parallel GEMM allocates its own shared packing
// buffers per product (outside our control); inside an OpenMP parallel region (the trainer's
// two sides) Eigen's GEMM runs serially and allocates nothing.
#include <atomic>
#include <cstdlib>
#include <new>
#include <stdexcept>

#define EIGEN_RUNTIME_NO_MALLOC
// Eigen's GEMM takes its packing blocks (blockA/blockB) from the stack up to this limit and from
// the heap above it. Their size follows Eigen's blocking heuristic, which depends on the SIMD
// width: with AVX2/AVX-512 the B x B products of DirectSpec+ fit Eigen's default 128 KB, with
// SSE2 only (a build without -march) they do not. That allocation is Eigen's, once per product,
// not one of our workspaces: a larger limit keeps it off the heap on every build, so the test
// checks what it is about (workspace reuse) whatever the flags.
#define EIGEN_STACK_ALLOCATION_LIMIT (1024 * 1024)
#define eigen_assert(x) \
  if (!(x)) throw std::runtime_error("Eigen assertion failed: " #x)

#include <catch2/catch.hpp>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/filters.hpp"
#include "directspec/losses.hpp"

namespace {
std::atomic<long> g_news{0};
}

// GCC 12 flags free() on memory from a replaced operator new as mismatched; here both are ours.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  ++g_news;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// Catch2 allocates with the nothrow form: replace it too, so every delete frees what malloc gave.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++g_news;
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace ds = directspec;
using ds::Index;

namespace {

template <class S>
ds::RowMatrix<S> RandomMatrix(Index rows, Index cols, std::uint64_t seed) {
  auto engine = ds::MakeStream(seed);
  ds::RowMatrix<S> m(rows, cols);
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c) m(r, c) = static_cast<S>(2 * ds::UniformUnit(engine) - 1);
  return m;
}

// Runs `step` once to size the workspaces, then again with the heap forbidden; returns the
// number of operator new calls during the second run (Eigen allocations throw).
template <class Step>
long AllocationsInSecondStep(Step step) {
  step(0);
  Eigen::internal::set_is_malloc_allowed(false);
  const long before = g_news.load();
  try {
    step(1);
  } catch (...) {
    Eigen::internal::set_is_malloc_allowed(true);
    throw;
  }
  const long after = g_news.load();
  Eigen::internal::set_is_malloc_allowed(true);
  return after - before;
}

}  // namespace

TEMPLATE_TEST_CASE("A stable-shape step allocates nothing", "[filters][losses][alloc]", float,
                   double) {
#if defined(__SANITIZE_ADDRESS__)
  // In the sanitizer build (-O1, no -march=native) Eigen's GEMM was observed to take its blocking
  // buffers from the heap, which is Eigen's doing, not the filters' workspaces. The property is
  // checked in the optimised (release) build.
  WARN("allocation check skipped under AddressSanitizer");
  return;
#endif
  using S = TestType;
  using M = ds::RowMatrix<S>;
  const int threads = Eigen::nbThreads();
  Eigen::setNbThreads(1);
  const Index B = 256, d = 64;
  // Users 0..299, each with a few items out of 1000; items share users often enough.
  std::vector<std::int64_t> offsets{0};
  std::vector<ds::Id> columns;
  auto engine = ds::MakeStream(5);
  for (int u = 0; u < 300; ++u) {
    const auto first = static_cast<ds::Id>(ds::UniformIndex(engine, 900));
    for (ds::Id k = 0; k < 1 + u % 7; ++k) columns.push_back(first + 13 * k);
    offsets.push_back(static_cast<std::int64_t>(columns.size()));
  }
  const ds::CsrView graph{offsets, columns};
  std::vector<std::vector<ds::Id>> id_batches(2, std::vector<ds::Id>(B));
  for (auto& ids : id_batches)
    for (auto& id : ids) id = static_cast<ds::Id>(ds::UniformIndex(engine, 300));
  // The second batch only reuses the first batch's users, so the mask lists cannot grow.
  for (Index b = 0; b < B; ++b) id_batches[1][b] = id_batches[0][(b * 7) % B];

  const M X = RandomMatrix<S>(B, d, 1), G = RandomMatrix<S>(B, d, 2);
  M Xhat, Y, O, GO, GY, GX, GXhat;
  ds::RowNormalizer<S> norm;
  ds::NormShrink<S> shrink({.strength = S(0.03)});
  auto side = [&](auto& filter) {
    return AllocationsInSecondStep([&](int k) {
      const ds::FilterContext ctx{id_batches[static_cast<std::size_t>(k)], graph};
      norm.Forward(X, Xhat);
      filter.Forward(Xhat, ctx, Y);
      shrink.Forward(Y, O);
      shrink.Backward(G, GY);
      filter.Backward(GY, GXhat);
      norm.Backward(GXhat, GX);
    });
  };
  ds::NoFilter<S> none;
  ds::DirectSpec<S> linear;
  ds::DirectSpecPlus<S> plus;
  ds::AdaptiveDirectSpecPlus<S> adaptive;
  CHECK(side(none) == 0);
  CHECK(side(linear) == 0);
  CHECK(side(plus) == 0);
  CHECK(side(adaptive) == 0);

  const M OU = RandomMatrix<S>(B, d, 3), OI = RandomMatrix<S>(2 * B, d, 4);
  ds::Batch batch;
  batch.users.assign(static_cast<std::size_t>(B), 0);
  batch.positives.assign(static_cast<std::size_t>(B), 0);
  batch.negatives.assign(static_cast<std::size_t>(B), 0);
  batch.negatives_per_positive = 1;
  M GU, GI;
  auto loss_step = [&](auto& loss) {
    return AllocationsInSecondStep([&](int) { loss.Evaluate(OU, OI, batch, GU, GI); });
  };
  ds::WithOutputL2<ds::LogLoss<S>> log_loss;
  ds::BprLoss<S> bpr;
  ds::DirectAuLoss<S> directau;
  ds::SampledSoftmaxLoss<S> ssm;
  CHECK(loss_step(log_loss) == 0);
  CHECK(loss_step(bpr) == 0);
  CHECK(loss_step(directau) == 0);
  CHECK(loss_step(ssm) == 0);
  Eigen::setNbThreads(threads);
}
