// Tests of models/lightgcn.hpp and models/propagation.hpp: LightGCN against a dense
// H = sum_k w_k Â^k E, finite-difference gradients for both propagation policies and both layer
// weightings (zero-degree nodes and repeated ids in the batch), agreement of the two policies on
// random batches, the neighbourhood gradient's support, the L2 penalty, and thread invariance.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/models.hpp"
#include "support/encoder_checks.hpp"
#include "support/random_graph.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace directspec;
using namespace directspec::testing;

namespace {

using Dense = Eigen::MatrixXd;

// Â from R by the dense formula, and H = sum_k w_k Â^k E.
Dense DenseH(const Interactions& train, const Dense& E, Index layers, LayerWeights weights) {
  const Index n = train.Users(), N = train.Users() + train.Items();
  Dense A = Dense::Zero(N, N);
  for (const auto& [u, i] : train.Pairs()) A(u, n + i) = A(n + i, u) = 1;
  const Eigen::VectorXd deg = A.rowwise().sum();
  for (Index r = 0; r < N; ++r)
    for (Index c = 0; c < N; ++c)
      if (A(r, c) != 0) A(r, c) /= std::sqrt(deg[r] * deg[c]);
  const double w = weights == LayerWeights::kSum ? 1.0 : 1.0 / static_cast<double>(layers + 1);
  Dense term = E, H = w * E;
  for (Index k = 1; k <= layers; ++k) {
    term = Mul(A, term);
    H += w * term;
  }
  return H;
}

// A batch in the trainer's layout: B users, then B positives and B negatives as items.
struct TestBatch {
  std::vector<Id> users, items;
};

TestBatch RandomBatch(const Interactions& train, Index size, std::uint64_t seed) {
  std::mt19937_64 engine = MakeStream(seed, 4);
  TestBatch batch;
  for (Index b = 0; b < size; ++b)
    batch.users.push_back(static_cast<Id>(UniformIndex(engine, train.Users())));
  for (Index b = 0; b < 2 * size; ++b)
    batch.items.push_back(static_cast<Id>(UniformIndex(engine, train.Items())));
  return batch;
}

}  // namespace

TEMPLATE_TEST_CASE("LightGCN batch rows and inference embeddings equal the dense H",
                   "[models][lightgcn]", (LightGCN<double, WholeGraphPropagation>),
                   (LightGCN<double, NeighbourhoodPropagation>)) {
  const auto train = RandomInteractions(7, 9, 0.3, 3);
  const Index n = 7, m = 9;
  for (const LayerWeights weights : {LayerWeights::kSum, LayerWeights::kMean}) {
    for (Index layers = 0; layers <= 4; ++layers) {
      TestType gcn({.dim = 3, .layers = layers, .layer_weights = weights});
      gcn.Initialize(train, 5);
      const Dense H = DenseH(train, gcn.Table(), layers, weights);
      const std::vector<Id> users{6, 0, 3, 0}, items{8, 1, 1, 4, 0, 8, 2, 5};
      RowMatrix<double> XU, XI;
      gcn.Encode(users, items, XU, XI);
      INFO("layers " << layers << " mean " << (weights == LayerWeights::kMean));
      for (std::size_t b = 0; b < users.size(); ++b)
        CHECK((XU.row(static_cast<Index>(b)) - H.row(users[b])).cwiseAbs().maxCoeff() < 1e-14);
      for (std::size_t b = 0; b < items.size(); ++b)
        CHECK((XI.row(static_cast<Index>(b)) - H.row(n + items[b])).cwiseAbs().maxCoeff() < 1e-14);
      RowMatrix<double> U, I;
      gcn.InferenceEmbeddings(U, I);
      REQUIRE(U.rows() == n);
      REQUIRE(I.rows() == m);
      CHECK((U - H.topRows(n)).cwiseAbs().maxCoeff() < 1e-14);
      CHECK((I - H.bottomRows(m)).cwiseAbs().maxCoeff() < 1e-14);
      // The zero-degree user's and item's rows are w_0 times their own embedding.
      const double w0 = gcn.LayerWeightValues()[0];
      CHECK(U.row(n - 1) == w0 * gcn.Table().row(n - 1));
      CHECK(I.row(m - 1) == w0 * gcn.Table().row(n + m - 1));
    }
  }
}

TEMPLATE_TEST_CASE("LightGCN gradient matches finite differences", "[models][lightgcn][gradient]",
                   (LightGCN<double, WholeGraphPropagation>),
                   (LightGCN<double, NeighbourhoodPropagation>)) {
  const auto train = RandomInteractions(6, 7, 0.35, 8);
  // Users 5 and item 6 have degree 0; ids repeat.
  const std::vector<Id> users{5, 0, 2, 0}, items{6, 1, 1, 3, 0, 6, 4, 2};
  for (const LayerWeights weights : {LayerWeights::kSum, LayerWeights::kMean}) {
    for (Index layers : {1, 2, 3}) {
      INFO("layers " << layers << " mean " << (weights == LayerWeights::kMean));
      TestType gcn({.dim = 2, .layers = layers, .layer_weights = weights});
      gcn.Initialize(train, 13);
      CheckEncoderGradient(gcn, users, items, 0.0, 31);
      CheckEncoderGradient(gcn, {3}, {2, 6}, 0.0, 32);   // batch of one
      CheckEncoderGradient(gcn, users, items, 0.4, 33);  // with the weight decay
    }
  }
}

TEST_CASE("LightGCN AddWeightDecay penalises the layer-0 rows of the batch", "[models][lightgcn]") {
  const auto train = RandomInteractions(4, 5, 0.5, 2);
  LightGCN<double, NeighbourhoodPropagation> gcn({.dim = 2, .layers = 2});
  gcn.Initialize(train, 3);
  RowMatrix<double> E = RowMatrix<double>::Zero(9, 2);
  E.row(1) << 1, 2;  // user 1
  E.row(6) << 3, 0;  // item 2 -> node 6
  gcn.SetTable(E);
  RowMatrix<double> XU, XI;
  gcn.Encode(std::vector<Id>{1, 1}, std::vector<Id>{2, 0}, XU, XI);
  std::vector<RowGradient<double>> grads;
  // B = 2: weight_decay/(2*2) * (5 + 5 + 9 + 0).
  CHECK(gcn.AddWeightDecay(0.2, grads) == Approx(0.2 / 4 * 19));
  const Dense g = Densify(grads[0], 9, 2);
  CHECK(g.row(1).isApprox(Eigen::RowVector2d(0.2, 0.4)));  // 0.2 * 2 / 2 * (1, 2)
  CHECK(g.row(6).isApprox(Eigen::RowVector2d(0.3, 0)));
  CHECK(grads[0].Size() == 3);  // nodes 1, 6 and item 0's node 4 (a zero row)
}

TEMPLATE_TEST_CASE("Whole-graph and neighbourhood propagation agree on random batches",
                   "[models][lightgcn][propagation]", float, double) {
  using S = TestType;
  const double tol = std::is_same_v<S, float> ? 2e-6 : 1e-14;
  const auto train = RandomInteractions(60, 90, 0.04, 17);
  for (const LayerWeights weights : {LayerWeights::kSum, LayerWeights::kMean}) {
    for (Index layers : {1, 2, 3, 4}) {
      LightGCN<S, WholeGraphPropagation> whole(
          {.dim = 8, .layers = layers, .layer_weights = weights});
      LightGCN<S, NeighbourhoodPropagation> local(
          {.dim = 8, .layers = layers, .layer_weights = weights});
      whole.Initialize(train, 23);
      local.Initialize(train, 23);
      REQUIRE(whole.Table() == local.Table());
      // Consecutive batches of different sizes reuse the workspaces.
      for (std::uint64_t step = 0; step < 6; ++step) {
        const auto batch = RandomBatch(train, step % 2 == 0 ? 7 : 3, 100 * layers + step);
        RowMatrix<S> XU[2], XI[2];
        whole.Encode(batch.users, batch.items, XU[0], XI[0]);
        local.Encode(batch.users, batch.items, XU[1], XI[1]);
        const double scale = std::max<double>(1.0, XU[0].cwiseAbs().maxCoeff());
        INFO("layers " << layers << " step " << step);
        CHECK((XU[0] - XU[1]).cwiseAbs().maxCoeff() <= tol * scale);
        CHECK((XI[0] - XI[1]).cwiseAbs().maxCoeff() <= tol * scale);
        const RowMatrix<S> GU = RandomRows<S>(XU[0].rows(), 8, step);
        const RowMatrix<S> GI = RandomRows<S>(XI[0].rows(), 8, step + 50);
        std::vector<RowGradient<S>> gw, gl;
        whole.Backward(GU, GI, gw);
        local.Backward(GU, GI, gl);
        const Index N = whole.Graph().Nodes();
        CHECK(gw[0].Size() == N);
        const Dense dw = Densify(gw[0], N, 8), dl = Densify(gl[0], N, 8);
        const double gscale = std::max(1.0, dw.cwiseAbs().maxCoeff());
        CHECK((dw - dl).cwiseAbs().maxCoeff() <= 4 * tol * gscale);
        // The neighbourhood gradient lists exactly the nodes within K hops of the batch, sorted.
        std::vector<char> reach(static_cast<std::size_t>(N), 0);
        std::vector<Id> frontier(local.BatchNodes().begin(), local.BatchNodes().end());
        for (Id v : frontier) reach[static_cast<std::size_t>(v)] = 1;
        for (Index hop = 0; hop < layers; ++hop) {
          std::vector<Id> next;
          for (Id v : frontier)
            for (Id c : local.Graph().Neighbours(v))
              if (!reach[static_cast<std::size_t>(c)]) {
                reach[static_cast<std::size_t>(c)] = 1;
                next.push_back(c);
              }
          frontier = std::move(next);
        }
        std::vector<Id> expected;
        for (Index v = 0; v < N; ++v)
          if (reach[static_cast<std::size_t>(v)]) expected.push_back(static_cast<Id>(v));
        CHECK(gl[0].rows == expected);
        CHECK(gl[0].Size() < N);
      }
    }
  }
}

TEST_CASE("Neighbourhood propagation is exact on every path (scatter, masked, dense levels)",
          "[models][lightgcn][propagation]") {
  // A larger sparse graph and batch sizes from 1 to 64, so that each backward level meets each
  // strategy: scatter from a small support (also into the compact last level when K = 1), a
  // masked pull from a mid-sized one, an unmasked pull after zeroing outside a large one; and
  // frontiers both by marking and by testing every node.
  const auto train = RandomInteractions(400, 500, 0.01, 21);
  for (Index layers : {1, 2, 3}) {
    LightGCN<double, WholeGraphPropagation> whole({.dim = 4, .layers = layers});
    LightGCN<double, NeighbourhoodPropagation> local({.dim = 4, .layers = layers});
    whole.Initialize(train, 5);
    local.Initialize(train, 5);
    for (Index size : {1, 4, 16, 64}) {
      const auto batch = RandomBatch(train, size, static_cast<std::uint64_t>(size + 10 * layers));
      RowMatrix<double> XU[2], XI[2];
      whole.Encode(batch.users, batch.items, XU[0], XI[0]);
      local.Encode(batch.users, batch.items, XU[1], XI[1]);
      INFO("layers " << layers << " batch " << size);
      CHECK((XU[0] - XU[1]).cwiseAbs().maxCoeff() < 1e-14);
      CHECK((XI[0] - XI[1]).cwiseAbs().maxCoeff() < 1e-14);
      const RowMatrix<double> GU = RandomRows<double>(size, 4, 1);
      const RowMatrix<double> GI = RandomRows<double>(2 * size, 4, 2);
      std::vector<RowGradient<double>> gw, gl;
      whole.Backward(GU, GI, gw);
      local.Backward(GU, GI, gl);
      const Index N = whole.Graph().Nodes();
      CHECK((Densify(gw[0], N, 4) - Densify(gl[0], N, 4)).cwiseAbs().maxCoeff() < 1e-14);
      CHECK(std::is_sorted(gl[0].rows.begin(), gl[0].rows.end()));
    }
  }
}

TEMPLATE_TEST_CASE("LightGCN initialisation is reproducible and uses n + m rows",
                   "[models][lightgcn]", float, double) {
  using S = TestType;
  const auto train = RandomInteractions(30, 50, 0.1, 4);
  LightGCN<S> a({.dim = 16}), b({.dim = 16}), c({.dim = 16});
  a.Initialize(train, 99);
  b.Initialize(train, 99);
  c.Initialize(train, 100);
  CHECK(a.Table().rows() == 80);
  CHECK(a.Table() == b.Table());
  CHECK(a.Table() != c.Table());
  std::mt19937_64 engine = MakeStream(99, kInitStream);
  const double bound = std::sqrt(6.0 / (80 + 16));
  for (Index k = 0; k < a.Table().size(); ++k)
    CHECK(a.Table().data()[k] == static_cast<S>(bound * (2 * UniformUnit(engine) - 1)));
  CHECK(a.Layers() == 3);
  CHECK(a.LayerWeightValues().size() == 4);
  CHECK(a.TableNames() == std::vector<std::string>{"node"});
  CHECK(std::string(LightGCN<S>::kName) == "lightgcn");
  CHECK(std::string(NeighbourhoodPropagation<S>::kName) == "neighbourhood");
  CHECK(std::string(WholeGraphPropagation<S>::kName) == "whole-graph");
}

TEST_CASE("LightGCN options and SetTable validate their input", "[models][lightgcn]") {
  CHECK_THROWS_WITH((LightGCN<float>({.dim = 8, .layers = -1})),
                    Catch::Equals("LightGCN: layers = -1 (must be >= 0)"));
  CHECK_THROWS_WITH((LightGCN<float>({.dim = -3})), Catch::Contains("dim = -3"));
  const auto train = RandomInteractions(4, 5, 0.5, 2);
  LightGCN<float> gcn({.dim = 4});
  gcn.Initialize(train, 1);
  CHECK_THROWS_WITH(gcn.SetTable(RowMatrix<float>::Zero(8, 4)),
                    Catch::StartsWith("LightGCN::SetTable: table is 8 x 4 (must have 9 rows"));
  gcn.SetTable(RowMatrix<float>::Ones(9, 6));
  CHECK(gcn.Dim() == 6);
  const LightGCN<float> mean({.layers = 3, .layer_weights = LayerWeights::kMean});
  for (float w : mean.LayerWeightValues()) CHECK(w == 0.25f);
}

TEST_CASE("LightGCN float and double agree", "[models][lightgcn]") {
  const auto train = RandomInteractions(20, 30, 0.1, 6);
  LightGCN<float> f({.dim = 8});
  LightGCN<double> d({.dim = 8});
  f.Initialize(train, 7);
  d.Initialize(train, 7);
  const auto batch = RandomBatch(train, 5, 1);
  RowMatrix<float> fu, fi;
  RowMatrix<double> du, di;
  f.Encode(batch.users, batch.items, fu, fi);
  d.Encode(batch.users, batch.items, du, di);
  CHECK((fu.cast<double>() - du).cwiseAbs().maxCoeff() < 1e-6);
  CHECK((fi.cast<double>() - di).cwiseAbs().maxCoeff() < 1e-6);
}

#ifdef _OPENMP
TEMPLATE_TEST_CASE("LightGCN steps are bitwise identical on 1 and 2 threads",
                   "[models][lightgcn][propagation]", (LightGCN<float, WholeGraphPropagation>),
                   (LightGCN<float, NeighbourhoodPropagation>)) {
  const auto train = RandomInteractions(400, 500, 0.03, 12);  // big enough to run in parallel
  const auto batch = RandomBatch(train, 32, 2);
  RowMatrix<float> XU[2], XI[2];
  std::vector<RowGradient<float>> grads[2];
  const int saved = omp_get_max_threads();
  for (int t = 1; t <= 2; ++t) {
    omp_set_num_threads(t);
    TestType gcn({.dim = 16});
    gcn.Initialize(train, 3);
    gcn.Encode(batch.users, batch.items, XU[t - 1], XI[t - 1]);
    gcn.Backward(RandomRows<float>(32, 16, 1), RandomRows<float>(64, 16, 2), grads[t - 1]);
  }
  omp_set_num_threads(saved);
  CHECK(XU[0] == XU[1]);
  CHECK(XI[0] == XI[1]);
  CHECK(grads[0][0].rows == grads[1][0].rows);
  CHECK(grads[0][0].Values() == grads[1][0].Values());
}
#endif

namespace {

// A sparse graph above the size where the neighbourhood step's node scans and row zeroing run in
// parallel (models/propagation.hpp kParallelNodes): `per_user` random items per user.
Interactions LargeSparse(Index users, Index items, Index per_user, std::uint64_t seed) {
  std::mt19937_64 engine = MakeStream(seed, 5);
  std::vector<std::pair<Id, Id>> pairs;
  for (Index u = 0; u < users; ++u)
    for (Index k = 0; k < per_user; ++k)
      pairs.emplace_back(static_cast<Id>(u),
                         static_cast<Id>(UniformIndex(engine, static_cast<std::uint64_t>(items))));
  return Interactions::FromPairs(users, items, pairs);
}

}  // namespace

#ifdef _OPENMP
TEST_CASE("Neighbourhood steps on a large graph: parallel scans are exact and thread-invariant",
          "[models][lightgcn][propagation]") {
  const auto train = LargeSparse(24000, 16000, 6, 21);
  REQUIRE(train.Users() + train.Items() >= 32768);
  const auto batch = RandomBatch(train, 64, 5);
  const auto GU = RandomRows<float>(64, 8, 1), GI = RandomRows<float>(128, 8, 2);
  RowMatrix<float> XU[3], XI[3];
  std::vector<RowGradient<float>> grads[3];
  const int saved = omp_get_max_threads();
  for (int t = 1; t <= 2; ++t) {
    omp_set_num_threads(t);
    LightGCN<float, NeighbourhoodPropagation> gcn({.dim = 8});
    gcn.Initialize(train, 3);
    gcn.Encode(batch.users, batch.items, XU[t - 1], XI[t - 1]);
    gcn.Backward(GU, GI, grads[t - 1]);
    // The dense-frontier branch ran (a level's frontier tested every node) and the gradient
    // reaches far beyond the batch.
    CHECK(gcn.GetPropagation().FrontierSizes()[0] > 8000);
  }
  omp_set_num_threads(saved);
  CHECK(XU[0] == XU[1]);
  CHECK(XI[0] == XI[1]);
  CHECK(grads[0][0].rows == grads[1][0].rows);
  CHECK(grads[0][0].Values() == grads[1][0].Values());

  // Against the whole-graph policy (every row of the graph): equal to rounding on the rows the
  // neighbourhood lists, zero elsewhere.
  LightGCN<float, WholeGraphPropagation> whole({.dim = 8});
  whole.Initialize(train, 3);
  whole.Encode(batch.users, batch.items, XU[2], XI[2]);
  whole.Backward(GU, GI, grads[2]);
  CHECK((XU[2] - XU[0]).cwiseAbs().maxCoeff() < 1e-5f);
  CHECK((XI[2] - XI[0]).cwiseAbs().maxCoeff() < 1e-5f);
  RowMatrix<float> dense = grads[2][0].Values();
  const RowGradient<float>& local = grads[0][0];
  for (Index k = 0; k < local.Size(); ++k) {
    const Id r = local.rows[static_cast<std::size_t>(k)];
    CHECK((dense.row(r) - local.values.row(k)).cwiseAbs().maxCoeff() < 1e-5f);
    dense.row(r).setZero();
  }
  CHECK(dense.cwiseAbs().maxCoeff() == 0.0f);
}
#endif

TEST_CASE("The neighbourhood gradient keeps its capacity between steps",
          "[models][lightgcn][propagation]") {
  // Steps with different neighbourhood sizes reuse one values buffer: no reallocation (and so no
  // fresh pages) once it has grown to the largest.
  const auto train = RandomInteractions(300, 400, 0.01, 8);
  LightGCN<float, NeighbourhoodPropagation> gcn({.dim = 16, .layers = 2});
  gcn.Initialize(train, 1);
  std::vector<RowGradient<float>> grads;
  RowMatrix<float> XU, XI;
  auto step = [&](Index size, std::uint64_t seed) {
    const auto batch = RandomBatch(train, size, seed);
    gcn.Encode(batch.users, batch.items, XU, XI);
    gcn.Backward(RandomRows<float>(size, 16, seed), RandomRows<float>(2 * size, 16, seed + 1),
                 grads);
    return grads[0].Size();
  };
  const Index large = step(64, 1);
  const float* buffer = grads[0].values.data();
  const Index small = step(2, 2);
  CHECK(small < large);
  CHECK(grads[0].values.data() == buffer);
  CHECK(grads[0].values.rows() >= large);
  CHECK(step(64, 1) == large);
  CHECK(grads[0].values.data() == buffer);
}
