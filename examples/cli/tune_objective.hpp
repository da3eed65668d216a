// The objective directspec-tune optimises: train one setting (through the same VisitTrainer as
// directspec-train) on the tuning train part and report the validation metric at the epochs the
// search asks for. It only ever sees train and validation interactions: the test set is not an
// argument. A run whose loss or tables stop being finite, or whose embeddings explode, is cut and
// reported as diverged instead of throwing.
#pragma once

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "directspec/directspec.hpp"
#include "search_space.hpp"
#include "trainer_factory.hpp"
#include "tuner.hpp"

namespace directspec_cli {

// The CLI is a client of the library, written in its vocabulary; it adds nothing to it.
using namespace directspec;

/// Largest |entry| of the inference tables a healthy run reaches; beyond it the run is cut as
/// exploding (L2-normalised losses are scale-free, so runaway norms only grow until they
/// overflow).
inline constexpr double kExplodingEntry = 1e12;

namespace detail {

/// Evaluates at the requested epochs and cuts runaway tables, every epoch.
class ValidationProbe {
 public:
  using Observe = std::function<bool(int, double)>;

  ValidationProbe(const Evaluator& evaluator, std::string metric, const std::vector<int>& epochs,
                  const Observe& observe, const DivergenceGuard& guard)
      : evaluator_(evaluator),
        metric_(std::move(metric)),
        epochs_(epochs),
        observe_(observe),
        guard_(guard) {}

  template <class T>
  bool OnEpochEnd(T& trainer, const TrainingState& s) {
    epochs_trained_ = static_cast<int>(s.epoch);
    if (guard_.Diverged()) return true;
    trainer.Encoder().InferenceEmbeddings(U_, I_);
    const double largest = std::max(U_.size() ? U_.cwiseAbs().maxCoeff() : 0.0f,
                                    I_.size() ? I_.cwiseAbs().maxCoeff() : 0.0f);
    if (!std::isfinite(largest) || largest > kExplodingEntry) {
      std::ostringstream m;
      m << "exploding embeddings at epoch " << s.epoch << ": largest entry " << largest;
      message_ = m.str();
      return true;
    }
    if (!std::binary_search(epochs_.begin(), epochs_.end(), static_cast<int>(s.epoch)))
      return false;
    const double value = evaluator_.Evaluate(U_, I_).Get(metric_);
    return !observe_(static_cast<int>(s.epoch), value);
  }

  int EpochsTrained() const { return epochs_trained_; }
  const std::string& Message() const { return message_; }

 private:
  const Evaluator& evaluator_;
  std::string metric_;
  const std::vector<int>& epochs_;
  const Observe& observe_;
  const DivergenceGuard& guard_;
  RowMatrix<CliScalar> U_, I_;
  int epochs_trained_ = 0;
  std::string message_;
};

}  // namespace detail

/// Trains settings `base` + an assignment on `train`, scored on `valid_pairs` by `metric`.
class TrainingObjective {
 public:
  TrainingObjective(Settings base, const Interactions& train,
                    const std::vector<std::pair<Id, Id>>& valid_pairs, std::string metric,
                    const EvalOptions& eval_options)
      : base_(std::move(base)),
        train_(train),
        evaluator_(train, valid_pairs, eval_options),
        metric_(std::move(metric)) {}

  /// The settings one trial trains with (the base, the assignment, `epochs`).
  Settings TrialSettings(const Assignment& assignment, int epochs) const {
    Settings s = ApplyAssignment(base_, assignment);
    s.epochs = epochs;
    return s;
  }

  TrialOutcome operator()(const Assignment& assignment, int max_epochs,
                          const std::vector<int>& eval_epochs,
                          const std::function<bool(int, double)>& observe) const {
    const Settings s = TrialSettings(assignment, max_epochs);
    return VisitTrainer(s, [&](auto& trainer) {
      DivergenceGuard guard(DivergenceGuard::Options{.throw_on_divergence = false});
      detail::ValidationProbe probe(evaluator_, metric_, eval_epochs, observe, guard);
      trainer.Train(train_, guard, probe);
      TrialOutcome out;
      out.epochs_trained = probe.EpochsTrained();
      if (guard.Diverged()) {
        out.diverged = true;
        out.message = guard.Message();
      } else if (!probe.Message().empty()) {
        out.diverged = true;
        out.message = probe.Message();
      }
      return out;
    });
  }

 private:
  Settings base_;
  const Interactions& train_;
  Evaluator evaluator_;
  std::string metric_;
};

}  // namespace directspec_cli
