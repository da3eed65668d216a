// C++20 concepts for the policy contracts of docs/architecture.md: exactly what the Trainer
// (train/trainer.hpp) requires of its encoder, filter, loss, sampler and optimizer, and, named
// apart, what it uses only when a policy has it (EncoderWithWeightDecay, RowwiseEncoder,
// ResettableOptimizer, CheckpointableOptimizer, SeekableSampler) or what other stages need
// (InferenceEncoder).
//
// Each concept is a conjunction of one requires-expression per member, so when a policy lacks a
// member (or has it with the wrong signature) the compiler's "constraints not satisfied" note
// quotes the failing expression, e.g. `the required expression 'e.Backward(gu, gi, grads)' is
// invalid` (GCC) or `because 'e.Backward(gu, gi, grads)' would be invalid` (Clang). The Trainer
// checks each policy in its own static_assert so the first error line names the policy kind too.
#pragma once

#include <concepts>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "directspec/core/batch.hpp"
#include "directspec/core/row_gradient.hpp"
#include "directspec/core/state_archive.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/interactions.hpp"
#include "directspec/filters/filter_context.hpp"

namespace directspec {

/// A policy names its scalar type: float for speed, double for gradient checks.
template <class P>
concept HasScalar = requires {
  typename P::Scalar;
}
&&std::floating_point<typename P::Scalar>;

/// Encoder (models/): parameter tables -> batch rows, and batch-row gradients -> RowGradients.
/// Exactly what the Trainer calls; evaluation needs InferenceEncoder as well.
template <class E>
concept EncoderPolicy = HasScalar<E> &&
    requires(E& e, const Interactions& train, std::uint64_t seed) {
  e.Initialize(train, seed);
} && requires(E& e, std::span<const Id> users, std::span<const Id> items,
              RowMatrix<typename E::Scalar>& xu, RowMatrix<typename E::Scalar>& xi) {
  e.Encode(users, items, xu, xi);
} &&
    requires(E& e, const RowMatrix<typename E::Scalar>& gu, const RowMatrix<typename E::Scalar>& gi,
             std::vector<RowGradient<typename E::Scalar>>& grads) {
  e.Backward(gu, gi, grads);
} && requires(E& e) {
  { e.Tables() } -> std::convertible_to<std::vector<RowMatrix<typename E::Scalar>*>>;
} && requires(const E& e) {
  { e.TableNames() } -> std::convertible_to<std::vector<std::string>>;
};

/// An encoder whose scores can be computed for every user and item: scores = U Iᵀ. The
/// evaluation callbacks, model files and recommendations need it; the Trainer does not.
template <class E>
concept InferenceEncoder = EncoderPolicy<E> &&
    requires(const E& e, RowMatrix<typename E::Scalar>& u, RowMatrix<typename E::Scalar>& i) {
  e.InferenceEmbeddings(u, i);
};

/// Optional: an encoder whose batch rows are plain table rows (MF), so that Encode of some rows
/// is those rows of Encode. Encode(users, items, xu, xi) must equal BindRows(users, items) then
/// GatherRows(users, items, xu, xi): BindRows names the rows the next Backward and
/// AddWeightDecay refer to, GatherRows fills rows without remembering them. A data-parallel
/// update (train/update_split.hpp) then gathers each process's own batches only.
template <class E>
concept RowwiseEncoder = EncoderPolicy<E> &&
    requires(E& e, const E& ce, std::span<const Id> users, std::span<const Id> items,
             RowMatrix<typename E::Scalar>& xu, RowMatrix<typename E::Scalar>& xi) {
  e.BindRows(users, items);
  ce.GatherRows(users, items, xu, xi);
};

/// Optional: an encoder with a parameter L2 penalty on its layer-0 tables. Trainer::Options::
/// weight_decay > 0 requires it; it adds the penalty's gradient to `grads` and returns its value.
template <class E>
concept EncoderWithWeightDecay = EncoderPolicy<E> &&
    requires(E& e, typename E::Scalar weight, std::vector<RowGradient<typename E::Scalar>>& grads) {
  { e.AddWeightDecay(weight, grads) } -> std::convertible_to<typename E::Scalar>;
};

/// Side filter (filters/): X̂ -> Y for one side's batch, with its backward pass.
template <class F>
concept FilterPolicy = HasScalar<F> &&
    requires(F& f, const RowMatrix<typename F::Scalar>& xhat, const FilterContext& ctx,
             RowMatrix<typename F::Scalar>& y) {
  f.Forward(xhat, ctx, y);
} && requires(F& f, const RowMatrix<typename F::Scalar>& gy, RowMatrix<typename F::Scalar>& gxhat) {
  f.Backward(gy, gxhat);
};

/// Loss (losses/): output rows of both sides -> batch loss and dL/dO per side.
template <class L>
concept LossPolicy = HasScalar<L> &&
    requires(L& l, const RowMatrix<typename L::Scalar>& ou, const RowMatrix<typename L::Scalar>& oi,
             const Batch& batch, RowMatrix<typename L::Scalar>& gu,
             RowMatrix<typename L::Scalar>& gi) {
  { l.Evaluate(ou, oi, batch, gu, gi) } -> std::convertible_to<typename L::Scalar>;
};

/// Sampler (samplers/): seeded batches of (user, positive[, negatives]).
template <class P>
concept SamplerPolicy = requires(P& p, const Interactions& train, std::uint64_t seed) {
  p.Reset(train, seed);
}
&&requires(P& p, Index batch_size, Batch& batch) { p.Sample(batch_size, batch); }
&&requires(const P& p, Index batch_size) {
  { p.StepsPerEpoch(batch_size) } -> std::convertible_to<Index>;
};

/// Optional: a sampler that can jump to the batch with a given index (a resumed run continues
/// the sequence); without it the Trainer draws and drops the batches before it.
template <class P>
concept SeekableSampler = SamplerPolicy<P> && requires(P& p, std::uint64_t batches) {
  p.Seek(batches);
};

/// Optimizer (optim/): updates the touched rows of the encoder's tables.
template <class O>
concept OptimizerPolicy = HasScalar<O> &&
    requires(O& o, const std::vector<RowMatrix<typename O::Scalar>*>& tables,
             const std::vector<RowGradient<typename O::Scalar>>& grads) {
  o.Update(tables, grads);
} && requires(O& o, Index epoch) {
  o.EndEpoch(epoch);
} && requires(const O& o) {
  { o.LearningRate() } -> std::convertible_to<typename O::Scalar>;
};

/// Optional: an optimizer with state to clear when the trainer re-initialises the tables.
template <class O>
concept ResettableOptimizer = OptimizerPolicy<O> && requires(O& o) {
  o.Reset();
};

/// Optional: an optimizer whose state goes into a checkpoint (Trainer::SaveState / LoadState).
template <class O>
concept CheckpointableOptimizer = OptimizerPolicy<O> &&
    requires(const O& o, StateArchive& out, const std::string& prefix) {
  o.SaveState(out, prefix);
} && requires(O& o, const StateArchive& in, const std::string& prefix) {
  o.LoadState(in, prefix);
};

/// Negative-item policy of the batch samplers (samplers/negatives.hpp). Draw is only needed
/// when PerPositive() can be non-zero, so it is not part of the concept.
template <class N>
concept NegativePolicy = requires(const N& n) {
  { n.PerPositive() } -> std::convertible_to<Index>;
}
&&requires(N& n, const Interactions& train) { n.Reset(train); };

/// Learning-rate decay policy (optim/decay.hpp).
template <class D>
concept DecayPolicy = requires(const D& d, double current, double initial, Index epoch) {
  { d.Next(current, initial, epoch) } -> std::convertible_to<double>;
};

}  // namespace directspec
