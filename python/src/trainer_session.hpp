// A trainer of any (model, loss) pair behind one interface, so the Python model object can hold
// it: MakeSession builds it with the CLI's factory (VisitTrainer) and Fit trains it with the
// CLI's callbacks (progress bar, divergence guard, early stopping on validation, learning
// signals, checkpoint writer and --resume), plus a FitListener through which Python sees each
// step and epoch and can stop the run (Ctrl-C, a callback asking to stop, an exception).
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "cli_bridge.hpp"
#include "directspec/directspec.hpp"

namespace directspec::python {

using bridge::Scalar;

/// What Python sees during Fit. Called on the training thread without the GIL: an
/// implementation takes the GIL itself. Returning true stops training after the current step
/// (the trainer then ends the run normally: the tables hold the last completed update).
class FitListener {
 public:
  virtual ~FitListener() = default;
  virtual bool OnStep(const TrainingState& s) = 0;
  /// `valid` is the validation evaluation of this epoch, when one was made.
  virtual bool OnEpoch(const TrainingState& s, const EvalResult* valid) = 0;
  /// Whether OnEpoch wants validation metrics (they cost an evaluation).
  virtual bool WantsValidation() const = 0;
};

/// The evaluation options of the CLI's --topk and --metrics.
inline EvalOptions EvalOptionsOf(const std::vector<int>& topk, const std::string& metrics) {
  EvalOptions o;
  o.ks.assign(topk.begin(), topk.end());
  o.mode = metrics == "paper"  ? EvalMode::kPaper
           : metrics == "both" ? EvalMode::kBoth
                               : EvalMode::kStandard;
  return o;
}

namespace detail {

/// The trainer callback that forwards to a FitListener. Runs after early stopping, so an epoch
/// the stopper evaluated is not evaluated twice.
struct ListenerCallback {
  FitListener& listener;
  const Evaluator* valid;                    // null: no validation set
  const std::vector<EvalResult>* evaluated;  // the stopper's history, or null
  Index every;                               // validation every N epochs

  template <class T>
  bool OnStepEnd(T& /*trainer*/, const TrainingState& s) {
    return listener.OnStep(s);
  }
  template <class T>
  bool OnEpochEnd(T& trainer, const TrainingState& s) {
    std::optional<EvalResult> result;
    if (valid && listener.WantsValidation() && s.epoch % every == 0) {
      if (evaluated && !evaluated->empty() && evaluated->back().epoch == s.epoch)
        result = evaluated->back();
      else
        result = ::directspec::EvaluateTrainer(*valid, trainer, s.epoch);
    }
    return listener.OnEpoch(s, result ? &*result : nullptr);
  }
};

}  // namespace detail

class TrainerSession {
 public:
  virtual ~TrainerSession() = default;
  /// Trains on data.train as directspec-train would with `s` (a fresh run, or --resume).
  virtual TrainingState Fit(const Dataset& data, const bridge::Settings& s, FitListener& listener,
                            bool library_progress) = 0;
  /// The tables as served and evaluated (LightGCN: propagated).
  virtual void Embeddings(RowMatrix<Scalar>& U, RowMatrix<Scalar>& I) const = 0;
};

template <class T>
class TypedSession final : public TrainerSession {
 public:
  explicit TypedSession(T trainer) : trainer_(std::move(trainer)) {}

  TrainingState Fit(const Dataset& data, const bridge::Settings& s, FitListener& listener,
                    bool library_progress) override {
    ProgressBar progress;
    DivergenceGuard guard;
    LearningSignals signals;  // kept in checkpoints, as directspec-train's are
    const CheckpointFingerprint fingerprint = bridge::RunFingerprint(trainer_, s, data);
    const EvalOptions eval_options = EvalOptionsOf(s.topk, s.metrics);
    std::optional<Evaluator> valid;
    // Validation ranks exclude train only, as directspec-train's early stopping does.
    if (data.valid) valid.emplace(data.train, data.valid_pairs, eval_options);
    const Index every = std::max(1, s.eval_every);
    auto train = [&](const std::vector<EvalResult>* evaluated, auto&... parts) {
      bridge::CheckpointWriter writer(s.checkpoint, s.checkpoint_every, fingerprint, true, signals,
                                      parts...);
      if (!s.resume.empty())
        LoadCheckpoint(s.resume, trainer_, data.train, fingerprint, signals, parts...);
      detail::ListenerCallback hook{listener, valid ? &*valid : nullptr, evaluated, every};
      return library_progress
                 ? trainer_.Train(data.train, progress, guard, parts..., signals, hook, writer)
                 : trainer_.Train(data.train, guard, parts..., signals, hook, writer);
    };
    if (s.early_stop.empty()) return train(nullptr);
    if (!valid)
      throw std::invalid_argument(
          "early_stop needs a validation set (it never watches test): pass valid= to fit(), or "
          "load the data with a validation part (valid_fraction=, or valid.csv in the folder)");
    EarlyStopping stopper(*valid, {.metric = s.early_stop, .patience = s.patience, .every = every});
    return train(&stopper.History(), stopper);
  }

  void Embeddings(RowMatrix<Scalar>& U, RowMatrix<Scalar>& I) const override {
    trainer_.Encoder().InferenceEmbeddings(U, I);
  }

 private:
  T trainer_;
};

/// The trainer `s` describes, built by the CLI's factory.
inline std::unique_ptr<TrainerSession> MakeSession(const bridge::Settings& s) {
  return bridge::VisitTrainer(s, [](auto& trainer) -> std::unique_ptr<TrainerSession> {
    using T = std::remove_cvref_t<decltype(trainer)>;
    return std::make_unique<TypedSession<T>>(std::move(trainer));
  });
}

}  // namespace directspec::python
