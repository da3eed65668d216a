// MF: the matrix-factorisation encoder, the first stage after sampling. It owns a user table and
// an item table; a batch's rows are plain gathers of them, and Backward scatter-adds the batch
// gradients (repeated ids accumulate) into one RowGradient per table.
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
#include "directspec/models/init.hpp"
#include "directspec/models/weight_decay.hpp"

namespace directspec {

/// Matrix factorisation: X_U = E_U[users], X_I = E_I[items]; scores at inference are E_U E_I^T.
///
///   MF<float> mf({.dim = 64});
///   mf.Initialize(train, seed);             // Xavier-uniform tables, reproducible by seed
///   mf.Encode(batch.users, items, XU, XI);  // gathers
///   mf.Backward(GU, GI, grads);             // grads[0]: user rows, grads[1]: item rows
///
/// Initialisation (replayable elsewhere): one engine MakeStream(seed, kInitStream); the user
/// table (n x d) then the item table (m x d), each row-major, value = a * (2 * UniformUnit(engine)
/// - 1) with a = sqrt(6 / (rows + d)) of that table (see XavierUniform in models/init.hpp).
template <class S>
class MF {
 public:
  using Scalar = S;
  struct Options {
    Index dim = 64;  // embedding size d
  };
  static constexpr const char* kName = "mf";

  MF() : MF(Options{}) {}
  explicit MF(const Options& options) : options_(options) {
    CheckOption(options_.dim > 0, "MF", "dim", options_.dim, "must be > 0");
  }

  const Options& GetOptions() const { return options_; }

  /// Allocates n x d and m x d tables for `train` and fills them from `seed`.
  void Initialize(const Interactions& train, std::uint64_t seed) {
    std::mt19937_64 engine = MakeStream(seed, kInitStream);
    XavierUniform(users_, train.Users(), options_.dim, engine);
    XavierUniform(items_, train.Items(), options_.dim, engine);
    ResetWorkspaces();
  }

  /// Replaces both tables (e.g. to reproduce a run from given initial tables). Their column
  /// counts must agree; Dim() becomes that count.
  void SetTables(RowMatrix<S> users, RowMatrix<S> items) {
    if (users.cols() != items.cols() || users.cols() <= 0)
      ThrowInvalidArgument("MF::SetTables", "user table has " + std::to_string(users.cols()) +
                                                " columns, item table " +
                                                std::to_string(items.cols()) +
                                                " (must be the same count, > 0)");
    users_ = std::move(users);
    items_ = std::move(items);
    options_.dim = users_.cols();
    ResetWorkspaces();
  }

  /// XU = E_U[users], XI = E_I[items] (ids may repeat).
  void Encode(std::span<const Id> users, std::span<const Id> items, RowMatrix<S>& XU,
              RowMatrix<S>& XI) {
    BindRows(users, items);
    GatherRows(users, items, XU, XI);
  }

  /// The rows the next Backward and AddWeightDecay refer to (Encode's first half;
  /// directspec::RowwiseEncoder).
  void BindRows(std::span<const Id> users, std::span<const Id> items) {
    last_users_.assign(users.begin(), users.end());
    last_items_.assign(items.begin(), items.end());
  }

  /// XU = E_U[users], XI = E_I[items] without remembering them (Encode's second half): a
  /// data-parallel process gathers only the rows of its own batches.
  void GatherRows(std::span<const Id> users, std::span<const Id> items, RowMatrix<S>& XU,
                  RowMatrix<S>& XI) const {
    Gather(users_, users, XU);
    Gather(items_, items, XI);
  }

  /// grads[0] = dL/dE_U and grads[1] = dL/dE_I on the rows of the last Encode, duplicates summed
  /// (rows listed in order of first appearance).
  void Backward(const RowMatrix<S>& GU, const RowMatrix<S>& GI,
                std::vector<RowGradient<S>>& grads) {
    assert(GU.rows() == static_cast<Index>(last_users_.size()));
    assert(GI.rows() == static_cast<Index>(last_items_.size()));
    grads.resize(2);
    AccumulateRows(last_users_, GU, user_slot_, grads[0]);
    AccumulateRows(last_items_, GI, item_slot_, grads[1]);
  }

  /// Weight decay on the last Encode's rows: returns (weight_decay / 2B) sum over occurrences of
  /// ||E_row||^2 (B = number of users; every user and item occurrence counts) and adds its gradient
  /// (weight_decay * count / B) E_row to `grads` (as left by Backward; missing rows are appended).
  S AddWeightDecay(S weight_decay, std::vector<RowGradient<S>>& grads) const {
    const Index batch = static_cast<Index>(last_users_.size());
    if (batch == 0 || weight_decay == S(0)) return S(0);
    if (grads.size() < 2) grads.resize(2);
    const S coeff = weight_decay / static_cast<S>(batch);
    const S sum = detail::AddRowsWeightDecay<S>(users_, last_users_, coeff, grads[0], user_slot_) +
                  detail::AddRowsWeightDecay<S>(items_, last_items_, coeff, grads[1], item_slot_);
    return coeff * sum / S(2);
  }

  std::vector<RowMatrix<S>*> Tables() { return {&users_, &items_}; }
  std::vector<const RowMatrix<S>*> Tables() const { return {&users_, &items_}; }
  std::vector<std::string> TableNames() const { return {"user", "item"}; }

  /// The raw tables: scores are U I^T.
  void InferenceEmbeddings(RowMatrix<S>& U, RowMatrix<S>& I) const {
    U = users_;
    I = items_;
  }

  Index Dim() const { return options_.dim; }
  Index Users() const { return users_.rows(); }
  Index Items() const { return items_.rows(); }
  const RowMatrix<S>& UserTable() const { return users_; }
  const RowMatrix<S>& ItemTable() const { return items_; }

 private:
  static void Gather(const RowMatrix<S>& table, std::span<const Id> ids, RowMatrix<S>& out) {
    out.resize(static_cast<Index>(ids.size()), table.cols());
    for (std::size_t b = 0; b < ids.size(); ++b) {
      assert(ids[b] >= 0 && ids[b] < table.rows());
      out.row(static_cast<Index>(b)) = table.row(ids[b]);
    }
  }

  void ResetWorkspaces() {
    user_slot_.assign(static_cast<std::size_t>(users_.rows()), -1);
    item_slot_.assign(static_cast<std::size_t>(items_.rows()), -1);
  }

  Options options_;
  RowMatrix<S> users_;
  RowMatrix<S> items_;
  std::vector<Id> last_users_;
  std::vector<Id> last_items_;
  // All -1 between calls (AccumulateRows / AddRowsWeightDecay workspaces); mutable for the const
  // penalty.
  mutable std::vector<Id> user_slot_;
  mutable std::vector<Id> item_slot_;
};

}  // namespace directspec
