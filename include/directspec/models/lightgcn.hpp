// LightGCN: the graph encoder. One table E of n + m node embeddings (users, then items) is
// propagated over the normalised user-item graph, H = sum_{k=0..K} w_k Â^k E, and a batch's rows
// are rows of H (user u -> node u, item i -> node n + i). How the propagation is computed (whole
// graph, or only the batch's K-hop neighbourhood) is a policy from models/propagation.hpp.
#pragma once

#include <cassert>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "directspec/core/argument_check.hpp"
#include "directspec/core/rng.hpp"
#include "directspec/core/row_gradient.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/interactions.hpp"
#include "directspec/graph/normalized_adjacency.hpp"
#include "directspec/models/init.hpp"
#include "directspec/models/propagation.hpp"
#include "directspec/models/weight_decay.hpp"

namespace directspec {

/// Layer weights w_k of H = sum_k w_k Â^k E. kSum (w_k = 1) is the DirectSpec reference code;
/// kMean (w_k = 1 / (K + 1)) is classic LightGCN. They differ by a global factor, which changes
/// neither training on normalised rows nor the ranking.
enum class LayerWeights { kSum, kMean };

/// LightGCN encoder, templated on the scalar and on the propagation policy.
///
///   LightGCN<float, NeighbourhoodPropagation> gcn({.dim = 64, .layers = 3});
///   gcn.Initialize(train, seed);            // builds Â, Xavier-uniform table of n + m rows
///   gcn.Encode(batch.users, items, XU, XI); // rows of H for the batch
///   gcn.Backward(GU, GI, grads);            // grads[0]: table rows (RowGradient)
///   gcn.InferenceEmbeddings(U, I);          // H split into users and items
///
/// Initialisation: one engine MakeStream(seed, kInitStream); the (n+m) x d table row-major,
/// value = a * (2 * UniformUnit(engine) - 1), a = sqrt(6 / (n + m + d)) (models/init.hpp).
template <class S, template <class> class Propagation = NeighbourhoodPropagation>
class LightGCN {
 public:
  using Scalar = S;
  struct Options {
    Index dim = 64;    // embedding size d
    Index layers = 3;  // K, propagation depth (0 gives MF on one table)
    LayerWeights layer_weights = LayerWeights::kSum;
  };
  using PropagationPolicy = Propagation<S>;
  static constexpr const char* kName = "lightgcn";

  LightGCN() : LightGCN(Options{}) {}
  explicit LightGCN(const Options& options) : options_(options) {
    CheckOption(options_.dim > 0, "LightGCN", "dim", options_.dim, "must be > 0");
    CheckOption(options_.layers >= 0, "LightGCN", "layers", options_.layers, "must be >= 0");
    const auto count = static_cast<std::size_t>(options_.layers) + 1;
    const S w = options_.layer_weights == LayerWeights::kSum ? S(1) : S(1) / static_cast<S>(count);
    weights_.assign(count, w);
  }

  const Options& GetOptions() const { return options_; }

  /// Builds Â from `train` and fills the (n+m) x d table from `seed`.
  void Initialize(const Interactions& train, std::uint64_t seed) {
    graph_ = NormalizedAdjacency<S>(train);
    std::mt19937_64 engine = MakeStream(seed, kInitStream);
    XavierUniform(table_, graph_.Nodes(), options_.dim, engine);
    slot_.assign(static_cast<std::size_t>(graph_.Nodes()), -1);
  }

  /// Replaces the table (e.g. initial values from another run). Call after Initialize (which
  /// builds the graph); the table needs n + m rows. Dim() becomes its column count.
  void SetTable(RowMatrix<S> table) {
    if (table.rows() != graph_.Nodes() || table.cols() <= 0)
      ThrowInvalidArgument("LightGCN::SetTable",
                           "table is " + std::to_string(table.rows()) + " x " +
                               std::to_string(table.cols()) + " (must have " +
                               std::to_string(graph_.Nodes()) +
                               " rows, users + items, and > 0 columns; call Initialize first)");
    table_ = std::move(table);
    options_.dim = table_.cols();
  }

  /// XU = H[users], XI = H[n + items] (ids may repeat; only distinct nodes are propagated).
  void Encode(std::span<const Id> users, std::span<const Id> items, RowMatrix<S>& XU,
              RowMatrix<S>& XI) {
    const Index n = graph_.Users();
    batch_users_ = static_cast<Index>(users.size());
    occurrences_.clear();
    for (Id u : users) {
      assert(u >= 0 && u < n);
      occurrences_.push_back(u);
    }
    for (Id i : items) {
      assert(i >= 0 && i < graph_.Items());
      occurrences_.push_back(static_cast<Id>(n + i));
    }
    // Distinct nodes in order of first appearance; occurrence b reads row position_[b] of HT.
    nodes_.clear();
    position_.resize(occurrences_.size());
    for (std::size_t b = 0; b < occurrences_.size(); ++b) {
      Id& s = slot_[static_cast<std::size_t>(occurrences_[b])];
      if (s < 0) {
        s = static_cast<Id>(nodes_.size());
        nodes_.push_back(occurrences_[b]);
      }
      position_[b] = s;
    }
    for (Id node : nodes_) slot_[static_cast<std::size_t>(node)] = -1;

    propagation_.Forward(graph_, table_, weights_, nodes_, ht_);
    const Index d = table_.cols();
    XU.resize(static_cast<Index>(users.size()), d);
    XI.resize(static_cast<Index>(items.size()), d);
    for (std::size_t b = 0; b < users.size(); ++b)
      XU.row(static_cast<Index>(b)) = ht_.row(position_[b]);
    for (std::size_t b = 0; b < items.size(); ++b)
      XI.row(static_cast<Index>(b)) = ht_.row(position_[users.size() + b]);
  }

  /// grads[0] = dL/dE given dL/dXU and dL/dXI of the last Encode. Its rows depend on the policy
  /// (whole graph: every node; neighbourhood: the nodes within K hops of the batch).
  void Backward(const RowMatrix<S>& GU, const RowMatrix<S>& GI,
                std::vector<RowGradient<S>>& grads) {
    assert(GU.rows() == batch_users_);
    assert(GU.rows() + GI.rows() == static_cast<Index>(occurrences_.size()));
    // Row k for nodes_[k]; spare rows past them are kept between steps (no reallocation).
    detail::ReserveRows(gt_, static_cast<Index>(nodes_.size()), table_.cols());
    gt_.topRows(static_cast<Index>(nodes_.size())).setZero();
    for (Index b = 0; b < GU.rows(); ++b)
      gt_.row(position_[static_cast<std::size_t>(b)]) += GU.row(b);
    for (Index b = 0; b < GI.rows(); ++b)
      gt_.row(position_[static_cast<std::size_t>(GU.rows() + b)]) += GI.row(b);
    grads.resize(1);
    propagation_.Backward(graph_, weights_, nodes_, gt_, grads[0]);
  }

  /// Weight decay on the last Encode's rows of E: returns (weight_decay / 2B) sum over occurrences
  /// (each user and each item of the batch) of ||E_row||^2, B = number of users, and adds
  /// (weight_decay * count / B) E_row to grads[0] (rows it lacks are appended).
  S AddWeightDecay(S weight_decay, std::vector<RowGradient<S>>& grads) const {
    if (batch_users_ == 0 || weight_decay == S(0)) return S(0);
    if (grads.empty()) grads.resize(1);
    const S coeff = weight_decay / static_cast<S>(batch_users_);
    return coeff * detail::AddRowsWeightDecay<S>(table_, occurrences_, coeff, grads[0], slot_) /
           S(2);
  }

  std::vector<RowMatrix<S>*> Tables() { return {&table_}; }
  std::vector<const RowMatrix<S>*> Tables() const { return {&table_}; }
  std::vector<std::string> TableNames() const { return {"node"}; }

  /// U = H[0, n), I = H[n, n + m): propagated embeddings over the whole graph.
  void InferenceEmbeddings(RowMatrix<S>& U, RowMatrix<S>& I) const {
    RowMatrix<S> h, scratch_a, scratch_b;
    detail::PropagateAll<S>(graph_, weights_, table_, h, scratch_a, scratch_b);
    U = h.topRows(graph_.Users());
    I = h.bottomRows(graph_.Items());
  }

  Index Dim() const { return options_.dim; }
  Index Layers() const { return options_.layers; }
  Index Users() const { return graph_.Users(); }
  Index Items() const { return graph_.Items(); }
  /// w_0..w_K.
  std::span<const S> LayerWeightValues() const { return weights_; }
  const NormalizedAdjacency<S>& Graph() const { return graph_; }
  const RowMatrix<S>& Table() const { return table_; }
  PropagationPolicy& GetPropagation() { return propagation_; }
  /// Distinct nodes of the last Encode (users u, items n + i), in order of first appearance.
  std::span<const Id> BatchNodes() const { return nodes_; }

 private:
  Options options_;
  std::vector<S> weights_;
  NormalizedAdjacency<S> graph_;
  RowMatrix<S> table_;
  PropagationPolicy propagation_;
  // Last Encode: user then item occurrences as nodes, their distinct nodes, and for each
  // occurrence its row among the distinct nodes.
  Index batch_users_ = 0;
  std::vector<Id> occurrences_;
  std::vector<Id> nodes_;
  std::vector<Id> position_;
  RowMatrix<S> ht_, gt_;
  mutable std::vector<Id> slot_;  // one entry per node, all -1 between calls
};

}  // namespace directspec
