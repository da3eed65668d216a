// Shared by the graph and LightGCN tests (test_graph, test_models_lightgcn): random interaction
// graphs with the corner cases the propagation must handle, and a dense reference product.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/interactions.hpp"

namespace directspec::testing {

/// Random interactions in which the last user and the last item have no interaction, with a few
/// repeated pairs (merged by Interactions).
inline Interactions RandomInteractions(Index users, Index items, double density,
                                       std::uint64_t seed) {
  std::mt19937_64 engine = MakeStream(seed, 1);
  std::vector<std::pair<Id, Id>> pairs;
  for (Id u = 0; u + 1 < users; ++u)
    for (Id i = 0; i + 1 < items; ++i)
      if (UniformUnit(engine) < density) {
        pairs.emplace_back(u, i);
        if (UniformUnit(engine) < 0.1) pairs.emplace_back(u, i);
      }
  return Interactions::FromPairs(users, items, pairs);
}

/// Dense reference product by plain loops: tiny sizes, and it keeps Eigen's GEMM kernel (whose
/// AVX-512 instantiation trips GCC 12's -Wmaybe-uninitialized false positive) out of the tests.
inline Eigen::MatrixXd Mul(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(a.rows(), b.cols());
  for (Index i = 0; i < a.rows(); ++i)
    for (Index k = 0; k < a.cols(); ++k)
      for (Index j = 0; j < b.cols(); ++j) c(i, j) += a(i, k) * b(k, j);
  return c;
}

}  // namespace directspec::testing
