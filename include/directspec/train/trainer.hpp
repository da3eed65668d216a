// Trainer: runs the whole training pipeline of docs/architecture.md,
//
//     sample -> encode -> normalise -> filter -> shrink -> loss -> backward -> update -> callbacks
//
// for a given set of policies: an encoder (models/), a side filter instantiated once per side
// (filters/), a loss (losses/), a sampler (samplers/) and an optimizer (optim/). Each policy is
// checked against its concept (train/concepts.hpp) so a missing member is named at compile time.
// Named configurations of the paper live in train/configurations.hpp; callbacks in
// train/training_callbacks.hpp.
//
// Threads and determinism (docs/trainer.md): the user side and the item side of a step are
// independent and run in parallel (one OpenMP thread each) when Options::threads >= 2; each side's
// arithmetic is the same whichever thread runs it, the sampler's batches depend only on
// (seed, step), and every reduction has a fixed order, so the same seed and thread count give
// bitwise-identical tables. Different seeds give different initial tables and batches.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <exception>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "directspec/core/batch.hpp"
#include "directspec/core/first_exception.hpp"
#include "directspec/core/rng.hpp"
#include "directspec/core/row_gradient.hpp"
#include "directspec/core/state_archive.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/interactions.hpp"
#include "directspec/filters/filter_context.hpp"
#include "directspec/filters/norm_shrink.hpp"
#include "directspec/filters/row_normalizer.hpp"
#include "directspec/train/concepts.hpp"
#include "directspec/train/training_state.hpp"
#include "directspec/train/update_split.hpp"

namespace directspec {

/// Which side of the batch a per-side object (filter, workspace) belongs to.
enum class Side { kUser = 0, kItem = 1 };

namespace detail {

/// `typename P::Options` when the policy has one, else an empty struct (the policy is then
/// default-constructed).
struct NoPolicyOptions {};
template <class P>
struct PolicyOptions {
  using type = NoPolicyOptions;
};
template <class P>
requires requires { typename P::Options; }
struct PolicyOptions<P> {
  using type = typename P::Options;
};

/// The filter the trainer owns, built from its Options (Options::user_filter / item_filter).
/// A policy that declares an Options must take it: a silent default construction would drop
/// the user's settings.
template <class P, class O>
P MakePolicy(const O& options) {
  if constexpr (std::is_same_v<O, NoPolicyOptions>) {
    return P();
  } else {
    static_assert(std::is_constructible_v<P, const O&>,
                  "Trainer: the filter declares a nested Options but has no constructor taking "
                  "const Options&, so the trainer cannot pass Options::user_filter / item_filter "
                  "to it; add `explicit Filter(const Options&)`");
    return P(options);
  }
}

/// Calls `hook` if the callback has it; a hook returning bool asks to stop with `true`.
template <class C, class F>
bool CallHook(C& callback, F&& hook) {
  if constexpr (std::is_invocable_v<F&, C&>) {
    using R = std::invoke_result_t<F&, C&>;
    if constexpr (std::is_convertible_v<R, bool>) {
      return static_cast<bool>(hook(callback));
    } else {
      hook(callback);
      return false;
    }
  } else {
    return false;
  }
}

/// Thread settings for the duration of Train(): OpenMP's thread count (for policies that use
/// OpenMP themselves, e.g. LightGCN propagation, and callbacks such as evaluation) when
/// `threads` > 0, and Eigen's internal GEMM threading off. The trainer's parallelism is one
/// thread per side; Eigen's parallel GEMM on the filter's B x d shapes measured several times
/// slower than one thread (docs/trainer.md). Both settings are restored afterwards.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : eigen_(Eigen::nbThreads()) {
#if defined(_OPENMP)
    omp_ = omp_get_max_threads();
    if (threads > 0) omp_set_num_threads(threads);
#else
    (void)threads;
#endif
    Eigen::setNbThreads(1);
  }
  ~ThreadScope() {
    Eigen::setNbThreads(eigen_);
#if defined(_OPENMP)
    omp_set_num_threads(omp_);
#endif
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int eigen_;
#if defined(_OPENMP)
  int omp_ = 1;
#endif
};

}  // namespace detail

/// The training loop, templated on its five policies.
///
///   using T = Trainer<MF<float>, DirectSpecPlus<float>, LogLoss<float>, UserThenPositive<>,
///                     Sgd<float, ExponentialDecay>>;
///   T::Options o;
///   o.epochs = 300;  o.shrink = 0.03;  o.user_filter = o.item_filter = {.alpha = 1, .tau = 3};
///   T trainer(o, MF<float>({.dim = 64}), LogLoss<float>(), UserThenPositive<>(),
///             Sgd<float, ExponentialDecay>(180.0, {0.9995}));
///   LossLog log;
///   trainer.Train(train, log, ProgressBar());   // callbacks by reference, inspectable after
///   RowMatrix<float> U, I;
///   trainer.Encoder().InferenceEmbeddings(U, I);
///
/// The train Interactions must outlive Train(); the trainer keeps no reference afterwards.
template <class EncoderT, class FilterT, class LossT, class SamplerT, class OptimizerT>
class Trainer {
  static_assert(EncoderPolicy<EncoderT>,
                "Trainer: the encoder does not satisfy directspec::EncoderPolicy; the note below "
                "names the missing or mistyped member");
  static_assert(
      FilterPolicy<FilterT>,
      "Trainer: the filter does not satisfy directspec::FilterPolicy; the note below names "
      "the missing or mistyped member");
  static_assert(LossPolicy<LossT>,
                "Trainer: the loss does not satisfy directspec::LossPolicy; the note below names "
                "the missing or mistyped member");
  static_assert(SamplerPolicy<SamplerT>,
                "Trainer: the sampler does not satisfy directspec::SamplerPolicy; the note below "
                "names the missing or mistyped member");
  static_assert(OptimizerPolicy<OptimizerT>,
                "Trainer: the optimizer does not satisfy directspec::OptimizerPolicy; the note "
                "below names the missing or mistyped member");

 public:
  using Scalar = typename EncoderT::Scalar;
  using EncoderType = EncoderT;
  using FilterType = FilterT;
  using LossType = LossT;
  using SamplerType = SamplerT;
  using OptimizerType = OptimizerT;
  using FilterOptions = typename detail::PolicyOptions<FilterT>::type;

  static_assert(std::same_as<Scalar, typename FilterT::Scalar> &&
                    std::same_as<Scalar, typename LossT::Scalar> &&
                    std::same_as<Scalar, typename OptimizerT::Scalar>,
                "Trainer: encoder, filter, loss and optimizer must share one Scalar type");

  struct Options {
    Index epochs = 1;
    Index batch_size = 256;
    /// Steps per epoch; 0 takes the sampler's StepsPerEpoch(batch_size) (reference: floor of
    /// train source rows / B).
    Index steps_per_epoch = 0;
    /// Run seed: stream 0 initialises the encoder, stream 1 seeds the sampler.
    std::uint64_t seed = 0;
    /// OpenMP threads during Train() (0: the process setting, OMP_NUM_THREADS). With >= 2 the two
    /// sides run in parallel; Eigen's own GEMM threading is off during Train().
    int threads = 0;
    /// L2-normalise each side's rows before the filter (RowNormalizer). BPR baselines: false.
    bool normalize_rows = true;
    /// NormShrink strength s after the filter (0 = off). Reference: 0.03 / 0.02 / 0.
    double shrink = 0;
    /// Weight decay on the batch's parameter rows (encoder.AddWeightDecay); 0 = off.
    double weight_decay = 0;
    /// Options of the filter on each side (used when the filter has an Options type).
    FilterOptions user_filter{};
    FilterOptions item_filter{};
    /// Run the user and item sides concurrently when >= 2 threads are available. On a shared,
    /// busy machine OpenMP's spin-waiting makes this slower than one thread; see docs/trainer.md
    /// (set false, or run with OMP_WAIT_POLICY=passive).
    bool parallel_sides = true;
    /// Keep the encoder's current tables and the optimizer's state instead of re-initialising
    /// them at the start of Train() (continue training, or start from given tables).
    bool warm_start = false;
    /// Filter batches per update (M): one encoder forward over the M batches' rows (LightGCN:
    /// one propagation over the union of their neighbourhoods), then the normaliser, filter,
    /// shrink and loss on each batch of batch_size pairs exactly as with M = 1, then one encoder
    /// backward of the M batches' output gradients and one optimizer update with their SUM
    /// (docs/trainer.md "Micro-batches"). An epoch still draws steps_per_epoch batches; its last
    /// update takes the remainder when M does not divide them. 1: one update per batch.
    Index micro_batches = 1;
  };

  Trainer() : Trainer(Options{}) {}
  explicit Trainer(Options options, EncoderT encoder = EncoderT(), LossT loss = LossT(),
                   SamplerT sampler = SamplerT(), OptimizerT optimizer = OptimizerT())
      : options_(std::move(options)),
        encoder_(std::move(encoder)),
        filters_{detail::MakePolicy<FilterT>(options_.user_filter),
                 detail::MakePolicy<FilterT>(options_.item_filter)},
        shrinks_{MakeShrink(), MakeShrink()},
        loss_(std::move(loss)),
        sampler_(std::move(sampler)),
        optimizer_(std::move(optimizer)) {
    CheckOptions();
  }

  /// (Re)initialises the encoder's tables for `train` from the run seed and resets the
  /// optimizer's state (when it has a Reset()). Train() calls it unless warm_start is set.
  void Initialize(const Interactions& train) {
    encoder_.Initialize(train, MakeStream(options_.seed, kInitSeedStream)());
    if constexpr (ResettableOptimizer<OptimizerT>) optimizer_.Reset();
  }

  /// Runs options.epochs epochs on `train`, calling the callbacks' hooks (see
  /// train/training_callbacks.hpp). Returns the final state. Exceptions from policies or callbacks
  /// propagate (after OnTrainEnd is skipped); the tables then hold the last completed update.
  ///
  /// After LoadState (a checkpoint, io/checkpoint.hpp) the next Train() continues that run
  /// instead: the loaded tables and optimizer state, epochs done + 1 .. options.epochs, the
  /// sampler at the batch where the run stopped, train_seconds counting on.
  template <class... Callbacks>
  TrainingState Train(const Interactions& train, Callbacks&&... callbacks) {
    detail::ThreadScope thread_scope(options_.threads);
    const bool resuming = resume_;
    resume_ = false;
    if (!resuming && !options_.warm_start) Initialize(train);
    tables_ = encoder_.Tables();
    if (tables_.empty() || tables_.front()->size() == 0)
      throw std::logic_error(
          "Trainer::Train: the encoder has no tables (warm_start is set but the encoder was never "
          "initialised)");
    sampler_.Reset(train, MakeStream(options_.seed, kSamplerSeedStream)());
    train_ = &train;
    stopped_ = false;
    if (resuming) {
      SeekSampler(batches_drawn_);
    } else {
      epochs_done_ = 0;
      batches_drawn_ = 0;
      seconds_done_ = 0;
    }
    at_epoch_boundary_ = true;

    TrainingState state;
    state.epochs = options_.epochs;
    state.steps_per_epoch = options_.steps_per_epoch > 0
                                ? options_.steps_per_epoch
                                : static_cast<Index>(sampler_.StepsPerEpoch(options_.batch_size));
    state.learning_rate = static_cast<double>(optimizer_.LearningRate());
    state.epoch = epochs_done_;
    state.first_epoch = epochs_done_ + 1;
    using Clock = std::chrono::steady_clock;
    double seconds = seconds_done_;
    state.train_seconds = seconds;
    auto since = Clock::now();
    auto pause = [&] {
      seconds += std::chrono::duration<double>(Clock::now() - since).count();
      state.train_seconds = seconds;
      if (at_epoch_boundary_) seconds_done_ = seconds;
    };
    auto resume = [&] { since = Clock::now(); };
    auto any = [&](auto&& hook) {
      pause();
      bool stop = false;
      ((stop = detail::CallHook(callbacks, hook) || stop), ...);
      resume();
      return stop;
    };

    bool stop = any([&](auto& c) -> decltype(c.OnTrainBegin(*this, state)) {
      return c.OnTrainBegin(*this, state);
    });
    for (Index epoch = epochs_done_ + 1; !stop && epoch <= options_.epochs; ++epoch) {
      state.epoch = epoch;
      state.step = 0;
      state.epoch_loss = 0;
      state.step_loss = 0;
      state.learning_rate = static_cast<double>(optimizer_.LearningRate());
      if (any([&](auto& c) -> decltype(c.OnEpochBegin(*this, state)) {
            return c.OnEpochBegin(*this, state);
          })) {
        stop = true;
        break;
      }
      at_epoch_boundary_ = false;
      double loss_sum = 0;
      for (Index step = 0; step < state.steps_per_epoch;) {
        // One update of up to M batches; state.step counts batches, so it advances by M.
        const Index count = std::min(options_.micro_batches, state.steps_per_epoch - step);
        const double group_loss = RunUpdate(count);
        step += count;
        state.step = step;
        state.step_loss = count == 1 ? group_loss : group_loss / static_cast<double>(count);
        loss_sum += group_loss;
        state.epoch_loss = loss_sum / static_cast<double>(step);
        if (any([&](auto& c) -> decltype(c.OnStepEnd(*this, state)) {
              return c.OnStepEnd(*this, state);
            })) {
          stop = true;
          break;
        }
      }
      if (stop) break;
      optimizer_.EndEpoch(epoch);
      epochs_done_ = epoch;
      at_epoch_boundary_ = true;
      if (any([&](auto& c) -> decltype(c.OnEpochEnd(*this, state)) {
            return c.OnEpochEnd(*this, state);
          }))
        stop = true;
      state.learning_rate = static_cast<double>(optimizer_.LearningRate());
    }
    stopped_ = stop;
    pause();
    (void)any([&](auto& c) -> decltype(c.OnTrainEnd(*this, state)) {
      return c.OnTrainEnd(*this, state);
    });
    train_ = nullptr;
    return state;
  }

  /// One update on the next micro_batches sampled batches (one by default); returns the mean
  /// batch loss (each plus its weight decay when enabled). Only valid inside Train()
  /// (callbacks may not call it).
  Scalar Step() {
    if (train_ == nullptr)
      throw std::logic_error("Trainer::Step: called outside Train() (no train data bound)");
    const Index count = options_.micro_batches;
    return static_cast<Scalar>(count == 1 ? RunUpdate(1)
                                          : RunUpdate(count) / static_cast<double>(count));
  }

  // ------------------------------------------------------------------------- checkpoint state
  /// Puts the state a run needs to continue into `archive` (io/checkpoint.hpp writes it): the
  /// encoder's tables ("trainer.table.<name>"), the optimizer's state ("optimizer."), and the
  /// progress: epochs done, batches drawn, train seconds. Valid between epochs: outside Train(),
  /// or from OnEpochBegin / OnEpochEnd (the latter after the epoch's decay); anywhere else
  /// (inside an epoch) it throws std::logic_error, as the tables would belong to no epoch.
  void SaveState(StateArchive& archive) const {
    static_assert(CheckpointableOptimizer<OptimizerT>,
                  "Trainer::SaveState: the optimizer has no SaveState / LoadState "
                  "(directspec::CheckpointableOptimizer)");
    if (!at_epoch_boundary_)
      throw std::logic_error(
          "Trainer::SaveState: called inside an epoch; save from OnEpochEnd or between Train() "
          "calls");
    const auto tables = encoder_.Tables();
    const auto names = encoder_.TableNames();
    for (std::size_t t = 0; t < tables.size(); ++t)
      archive.PutMatrix(kStatePrefix + std::string("table.") + names[t], *tables[t]);
    optimizer_.SaveState(archive, "optimizer.");
    archive.PutInt(kStatePrefix + std::string("epochs_done"), epochs_done_);
    archive.PutInt(kStatePrefix + std::string("batches_drawn"),
                   static_cast<std::int64_t>(batches_drawn_));
    archive.PutReal(kStatePrefix + std::string("train_seconds"), seconds_done_);
  }

  /// Restores what SaveState stored, for `train` (the data the run was trained on): initialises
  /// the encoder for it (graph, shapes), replaces its tables (each must have the stored shape),
  /// restores the optimizer and arms the next Train() to continue the run (see Train). Throws
  /// StateError naming the entry when one is missing or does not fit; the trainer is then left
  /// as a fresh Initialize would.
  void LoadState(const StateArchive& archive, const Interactions& train) {
    static_assert(CheckpointableOptimizer<OptimizerT>,
                  "Trainer::LoadState: the optimizer has no SaveState / LoadState "
                  "(directspec::CheckpointableOptimizer)");
    Initialize(train);
    const auto names = encoder_.TableNames();
    std::vector<RowMatrix<Scalar>> loaded(names.size());
    {
      const auto tables = encoder_.Tables();
      for (std::size_t t = 0; t < tables.size(); ++t)
        archive.GetMatrix(kStatePrefix + std::string("table.") + names[t], loaded[t],
                          tables[t]->rows(), tables[t]->cols());
    }
    const std::int64_t epochs = archive.GetInt(kStatePrefix + std::string("epochs_done"));
    const std::int64_t batches = archive.GetInt(kStatePrefix + std::string("batches_drawn"));
    const double seconds = archive.GetReal(kStatePrefix + std::string("train_seconds"));
    if (epochs < 0 || batches < 0 || !(seconds >= 0) || !std::isfinite(seconds))
      throw StateError("the trainer's progress is invalid (" + std::to_string(epochs) +
                       " epochs, " + std::to_string(batches) + " batches, " +
                       std::to_string(seconds) + " s)");
    optimizer_.LoadState(archive, "optimizer.");
    const auto tables = encoder_.Tables();
    for (std::size_t t = 0; t < tables.size(); ++t) *tables[t] = std::move(loaded[t]);
    epochs_done_ = static_cast<Index>(epochs);
    batches_drawn_ = static_cast<std::uint64_t>(batches);
    seconds_done_ = seconds;
    at_epoch_boundary_ = true;
    resume_ = true;
  }

  /// Epochs completed by the current (or last) Train(), counting those of a loaded checkpoint.
  Index EpochsDone() const { return epochs_done_; }
  /// Batches drawn from the sampler since the run began (M per update, an epoch's worth each
  /// epoch).
  std::uint64_t BatchesDrawn() const { return batches_drawn_; }

  // ----------------------------------------------------------------------------- accessors
  EncoderT& Encoder() { return encoder_; }
  const EncoderT& Encoder() const { return encoder_; }
  FilterT& Filter(Side side) { return filters_[static_cast<int>(side)]; }
  const FilterT& Filter(Side side) const { return filters_[static_cast<int>(side)]; }
  LossT& Loss() { return loss_; }
  const LossT& Loss() const { return loss_; }
  SamplerT& Sampler() { return sampler_; }
  const SamplerT& Sampler() const { return sampler_; }
  OptimizerT& Optimizer() { return optimizer_; }
  const OptimizerT& Optimizer() const { return optimizer_; }
  /// The options (named GetOptions because `Options` is the nested type, as in the filters).
  const Options& GetOptions() const { return options_; }

  /// Shares each micro-batch update (micro_batches >= 2) with cooperating processes through
  /// `split` (train/update_split.hpp; directspec/distributed/ implements it over MPI); null, the
  /// default, computes every batch here. The split must outlive Train(). Updates of one batch
  /// (M = 1, or an epoch's remainder of one) are computed whole by every process.
  void SetUpdateSplit(UpdateSplit<Scalar>* split) { split_ = split; }
  UpdateSplit<Scalar>* GetUpdateSplit() const { return split_; }

  /// The batch of the last step and the gradients it produced (for callbacks such as
  /// DivergenceGuard, which checks only the rows a step touched).
  const Batch& LastBatch() const { return batch_; }
  const std::vector<RowGradient<Scalar>>& LastGradients() const { return grads_; }
  /// True if the last Train() was stopped by a callback before its last epoch ended.
  bool Stopped() const { return stopped_; }
  /// The train data during Train() (callbacks may read it), null outside.
  const Interactions* TrainData() const { return train_; }

  static constexpr std::uint64_t kInitSeedStream = 0;
  static constexpr std::uint64_t kSamplerSeedStream = 1;
  /// Prefix of the trainer's own entries in a StateArchive.
  static constexpr const char* kStatePrefix = "trainer.";

 private:
  NormShrink<Scalar> MakeShrink() const {
    typename NormShrink<Scalar>::Options o;
    o.strength = static_cast<Scalar>(options_.shrink);
    return NormShrink<Scalar>(o);
  }

  // Puts the sampler where it will draw batch `batches` next: Seek when it has one (the shipped
  // samplers: batches depend only on (seed, index)), else by drawing and dropping batches.
  void SeekSampler(std::uint64_t batches) {
    if constexpr (SeekableSampler<SamplerT>) {
      sampler_.Seek(batches);
    } else {
      Batch scratch;
      for (std::uint64_t b = 0; b < batches; ++b) sampler_.Sample(options_.batch_size, scratch);
    }
  }

  void CheckOptions() const {
    auto fail = [](const std::string& what, const std::string& value, const char* rule) {
      throw std::invalid_argument("invalid option Trainer::Options::" + what + " = " + value +
                                  " (" + rule + ")");
    };
    if (options_.epochs < 0) fail("epochs", std::to_string(options_.epochs), "must be >= 0");
    if (options_.batch_size < 1)
      fail("batch_size", std::to_string(options_.batch_size), "must be >= 1");
    if (options_.steps_per_epoch < 0)
      fail("steps_per_epoch", std::to_string(options_.steps_per_epoch), "must be >= 0");
    if (options_.threads < 0) fail("threads", std::to_string(options_.threads), "must be >= 0");
    if (options_.micro_batches < 1)
      fail("micro_batches", std::to_string(options_.micro_batches), "must be >= 1");
    if (!(options_.weight_decay >= 0) || !std::isfinite(options_.weight_decay))
      fail("weight_decay", std::to_string(options_.weight_decay), "must be finite and >= 0");
    if (options_.weight_decay > 0 && !EncoderWithWeightDecay<EncoderT>)
      fail("weight_decay", std::to_string(options_.weight_decay),
           "the encoder has no AddWeightDecay, so it must be 0");
  }

  // One update on one batch: the exact step (M = 1), unchanged by the micro-batch path.
  Scalar SingleBatchUpdate() {
    const Interactions& train = *train_;
    sampler_.Sample(options_.batch_size, batch_);
    item_rows_.clear();  // keeps its capacity: no allocation once batch shapes are stable
    batch_.AppendItemRows(item_rows_);
    encoder_.Encode(batch_.users, item_rows_, x_[0], x_[1]);
    contexts_[0] = FilterContext{batch_.users, train.View()};
    contexts_[1] = FilterContext{item_rows_, train.Transposed()};

    ForBothSides([this](int s) { ForwardSide(s); });
    Scalar loss = loss_.Evaluate(*out_[0], *out_[1], batch_, gout_[0], gout_[1]);
    ForBothSides([this](int s) { BackwardSide(s); });

    encoder_.Backward(*gin_[0], *gin_[1], grads_);
    if (options_.weight_decay > 0) {
      if constexpr (EncoderWithWeightDecay<EncoderT>)
        loss += static_cast<Scalar>(
            encoder_.AddWeightDecay(static_cast<Scalar>(options_.weight_decay), grads_));
    }
    optimizer_.Update(tables_, grads_);
    return loss;
  }

  // One update on `count` >= 2 batches: one Encode of their concatenated rows, the side chains
  // and the loss per batch (each batch its own filter Gram), one Backward of the concatenated
  // output gradients (the encoder is linear in them, so this is the sum of the per-batch
  // gradients at the same parameters) and one optimizer update. Returns the sum of the batch
  // losses (each plus its L2 penalty).
  double GroupUpdate(Index count) {
    if constexpr (RowwiseEncoder<EncoderT> && SeekableSampler<SamplerT>) {
      if (split_ != nullptr && split_->SharesSampling()) return SharedGroupUpdate(count);
    }
    SampleBatches(0, count, group_rows_);
    encoder_.Encode(group_rows_.users, group_rows_.items, group_x_[0], group_x_[1]);
    // With an UpdateSplit this process computes only its share of the batches; the exchange
    // brings the others' rows and losses, which FinishGroup then sums in batch order as here.
    Index first = 0, last = count;
    if (split_ != nullptr) std::tie(first, last) = split_->Share(count);
    ComputeBatches(group_rows_, first, last, 0);
    if (split_ != nullptr)
      split_->Exchange(count, group_rows_.user_offsets, group_rows_.item_offsets,
                       group_rows_.user_grads, group_rows_.item_grads, group_rows_.losses);
    return FinishGroup(count, group_rows_);
  }

  // GroupUpdate shared with processes that sample too (UpdateSplit::SharesSampling, an MF-like
  // RowwiseEncoder, a seekable sampler): this process samples, gathers and computes only its own
  // batches; ExchangeBatches brings every batch's ids, output gradients and losses, and the
  // encoder backward and the update then run on all of them, in batch order, as in GroupUpdate.
  double SharedGroupUpdate(Index count) {
    static_assert(RowwiseEncoder<EncoderT> && SeekableSampler<SamplerT>,
                  "SharedGroupUpdate is called only for a RowwiseEncoder and a SeekableSampler");
    const auto [first, last] = split_->Share(count);
    const std::uint64_t next = batches_drawn_;  // RunUpdate has counted this update's batches
    sampler_.Seek(next - static_cast<std::uint64_t>(count - first));
    SampleBatches(first, last, own_rows_);
    sampler_.Seek(next);
    encoder_.GatherRows(own_rows_.users, own_rows_.items, group_x_[0], group_x_[1]);
    ComputeBatches(own_rows_, 0, last - first, first);
    split_->ExchangeBatches(count, own_rows_, all_rows_);
    encoder_.BindRows(all_rows_.users, all_rows_.items);
    return FinishGroup(count, all_rows_);
  }

  // Draws the group's batches [first, last) into group_ and their ids into `rows` (its batch k
  // is batch first + k).
  void SampleBatches(Index first, Index last, BatchRows<Scalar>& rows) {
    if (group_.size() < static_cast<std::size_t>(last))
      group_.resize(static_cast<std::size_t>(last));
    rows.Clear();
    for (Index m = first; m < last; ++m) {
      Batch& part = group_[static_cast<std::size_t>(m)];
      sampler_.Sample(options_.batch_size, part);
      rows.Append(part);
    }
  }

  // The side chains and the loss of rows' batches [begin, end), batch k being group batch
  // first_batch + k: its encoder rows are rows [user_offsets[k], user_offsets[k + 1]) of
  // group_x_[0] (items alike), and its output gradients and loss go to the same rows of
  // rows.user_grads / item_grads and to rows.losses[k].
  void ComputeBatches(BatchRows<Scalar>& rows, Index begin, Index end, Index first_batch) {
    const Interactions& train = *train_;
    rows.user_grads.resize(group_x_[0].rows(), group_x_[0].cols());
    rows.item_grads.resize(group_x_[1].rows(), group_x_[1].cols());
    rows.losses.assign(static_cast<std::size_t>(rows.Batches()), 0.0);
    for (Index k = begin; k < end; ++k) {
      const auto users = rows.Users(k), items = rows.Items(k);
      const auto user_row = static_cast<Index>(rows.user_offsets[static_cast<std::size_t>(k)]);
      const auto item_row = static_cast<Index>(rows.item_offsets[static_cast<std::size_t>(k)]);
      const auto user_count = static_cast<Index>(users.size());
      const auto item_count = static_cast<Index>(items.size());
      x_[0] = group_x_[0].middleRows(user_row, user_count);
      x_[1] = group_x_[1].middleRows(item_row, item_count);
      contexts_[0] = FilterContext{users, train.View()};
      contexts_[1] = FilterContext{items, train.Transposed()};
      ForBothSides([this](int s) { ForwardSide(s); });
      rows.losses[static_cast<std::size_t>(k)] = static_cast<double>(
          loss_.Evaluate(*out_[0], *out_[1], group_[static_cast<std::size_t>(first_batch + k)],
                         gout_[0], gout_[1]));
      ForBothSides([this](int s) { BackwardSide(s); });
      rows.user_grads.middleRows(user_row, user_count) = *gin_[0];
      rows.item_grads.middleRows(item_row, item_count) = *gin_[1];
    }
  }

  // The end of a group update on every batch's rows: LastBatch, the encoder backward of their
  // output gradients, the weight decay, the optimizer update. Returns the sum of the batch
  // losses (in batch order) plus the penalty.
  double FinishGroup(Index count, const BatchRows<Scalar>& rows) {
    double loss = 0;
    for (const double batch_loss : rows.losses) loss += batch_loss;
    // LastBatch: the group's batches concatenated (each batch's items are its positives, one
    // per user, then its negatives).
    batch_.users = rows.users;
    batch_.positives.clear();
    batch_.negatives.clear();
    for (Index k = 0; k < rows.Batches(); ++k) {
      const auto items = rows.Items(k);
      const auto users = static_cast<std::ptrdiff_t>(rows.Users(k).size());
      batch_.positives.insert(batch_.positives.end(), items.begin(), items.begin() + users);
      batch_.negatives.insert(batch_.negatives.end(), items.begin() + users, items.end());
    }
    batch_.negatives_per_positive =
        batch_.users.empty() ? 0
                             : static_cast<Index>(batch_.negatives.size() / batch_.users.size());
    encoder_.Backward(rows.user_grads, rows.item_grads, grads_);
    if (options_.weight_decay > 0) {
      // The encoder's penalty is a mean over the users of the last Encode (count * B of them):
      // scaled by count it is the sum of the per-batch penalties, like the loss gradients.
      if constexpr (EncoderWithWeightDecay<EncoderT>)
        loss += static_cast<double>(encoder_.AddWeightDecay(
            static_cast<Scalar>(options_.weight_decay * static_cast<double>(count)), grads_));
    }
    optimizer_.Update(tables_, grads_);
    return loss;
  }

  // One update of `count` batches; returns the sum of their losses.
  double RunUpdate(Index count) {
    batches_drawn_ += static_cast<std::uint64_t>(count);
    return count == 1 ? static_cast<double>(SingleBatchUpdate()) : GroupUpdate(count);
  }

  // Runs f(0) and f(1), in parallel when the trainer has >= 2 threads. An exception inside the
  // OpenMP region (e.g. std::bad_alloc growing a workspace) is carried out of it and rethrown.
  template <class F>
  void ForBothSides(F&& f) {
    FirstException errors;
#if defined(_OPENMP)
    const bool parallel = options_.parallel_sides &&
                          (options_.threads > 0 ? options_.threads : omp_get_max_threads()) >= 2;
#pragma omp parallel for num_threads(2) schedule(static, 1) if (parallel)
#endif
    for (int s = 0; s < 2; ++s) errors.Run([&] { f(s); });
    errors.Rethrow();
  }

  // Per side: X -> X̂ (optional) -> Y (filter) -> O (optional shrink). out_[s] is the loss input.
  void ForwardSide(int s) {
    const RowMatrix<Scalar>* current = &x_[s];
    if (options_.normalize_rows) {
      normalizers_[s].Forward(*current, xhat_[s]);
      current = &xhat_[s];
    }
    filters_[s].Forward(*current, contexts_[s], y_[s]);
    current = &y_[s];
    if (shrinks_[s].Enabled()) {
      shrinks_[s].Forward(*current, o_[s]);
      current = &o_[s];
    }
    out_[s] = current;
  }

  // The same chain backwards: dL/dO -> dL/dY -> dL/dX̂ -> dL/dX; gin_[s] is the encoder input.
  void BackwardSide(int s) {
    const RowMatrix<Scalar>* g = &gout_[s];
    if (shrinks_[s].Enabled()) {
      shrinks_[s].Backward(*g, gy_[s]);
      g = &gy_[s];
    }
    filters_[s].Backward(*g, gxhat_[s]);
    g = &gxhat_[s];
    if (options_.normalize_rows) {
      normalizers_[s].Backward(*g, gx_[s]);
      g = &gx_[s];
    }
    gin_[s] = g;
  }

  Options options_;
  EncoderT encoder_;
  std::array<FilterT, 2> filters_;
  std::array<RowNormalizer<Scalar>, 2> normalizers_{};
  std::array<NormShrink<Scalar>, 2> shrinks_;
  LossT loss_;
  SamplerT sampler_;
  OptimizerT optimizer_;

  // Step workspaces, reused across steps.
  const Interactions* train_ = nullptr;
  bool stopped_ = false;
  Batch batch_;
  std::vector<Id> item_rows_;
  std::array<FilterContext, 2> contexts_{};
  std::array<RowMatrix<Scalar>, 2> x_, xhat_, y_, o_;        // forward chain per side
  std::array<RowMatrix<Scalar>, 2> gout_, gy_, gxhat_, gx_;  // backward chain per side
  std::array<const RowMatrix<Scalar>*, 2> out_{}, gin_{};
  std::vector<RowGradient<Scalar>> grads_;
  std::vector<RowMatrix<Scalar>*> tables_;
  // Micro-batch workspaces: the group's batches, the encoder rows of the batches computed here,
  // and the batches' ids, offsets, output gradients and losses: the whole group (GroupUpdate),
  // or this process's batches and every batch (SharedGroupUpdate).
  std::vector<Batch> group_;
  std::array<RowMatrix<Scalar>, 2> group_x_;
  BatchRows<Scalar> group_rows_, own_rows_, all_rows_;
  // The processes sharing each update (null: none).
  UpdateSplit<Scalar>* split_ = nullptr;
  // Progress of the run (saved in checkpoints): completed epochs, batches drawn, train seconds
  // at the last epoch boundary; whether the tables are at an epoch boundary; whether the next
  // Train() continues a loaded checkpoint.
  Index epochs_done_ = 0;
  std::uint64_t batches_drawn_ = 0;
  double seconds_done_ = 0;
  bool at_epoch_boundary_ = true;
  bool resume_ = false;
};

}  // namespace directspec
