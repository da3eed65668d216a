// Training-time callbacks of the evaluation layer (contract: docs/architecture.md "Callbacks"):
// EvaluationCallback evaluates every N epochs and keeps a history (optionally with the spectrum of
// the same tables, and a hook that prints or logs each result), EarlyStopping watches one
// metric, stops after `patience` evaluations without improvement and restores the best tables,
// SpectrumCallback records the singular values and effective rank of [U; I] per epoch. All of
// them reach the model through trainer.Encoder(): InferenceEmbeddings(U, I) and Tables().
#pragma once

#include <cstdio>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "directspec/core/state_archive.hpp"
#include "directspec/core/types.hpp"
#include "directspec/eval/eval_result.hpp"
#include "directspec/eval/evaluator.hpp"
#include "directspec/eval/spectrum.hpp"
#include "directspec/eval/svg_plot.hpp"
#include "directspec/train/training_state.hpp"

namespace directspec {

namespace detail {

template <class T>
using EncoderOf = std::remove_cvref_t<decltype(std::declval<T&>().Encoder())>;

/// The trainer's inference tables, the one input of every evaluation callback.
template <class T, class S>
void InferenceTables(T& trainer, RowMatrix<S>& U, RowMatrix<S>& I) {
  // Only the inference tables are needed here, not a whole EncoderPolicy.
  static_assert(
      requires(const EncoderOf<T>& e, RowMatrix<S>& u, RowMatrix<S>& i) {
        e.InferenceEmbeddings(u, i);
      },
      "evaluation callbacks need an encoder with InferenceEmbeddings(U, I)");
  trainer.Encoder().InferenceEmbeddings(U, I);
}

inline void PrintResult(std::ostream& os, const std::string& label, const EvalResult& r) {
  os << label << " epoch " << r.epoch;
  char buf[48];
  for (const auto& [name, value] : r.metrics) {
    std::snprintf(buf, sizeof(buf), " %.5f", value);
    os << " " << name << buf;
  }
  std::snprintf(buf, sizeof(buf), " (%.2f s)", r.seconds);
  os << buf << "\n";
}

}  // namespace detail

/// Evaluates the trainer's inference tables now, labelled with `epoch`: what every evaluation
/// callback does, for callers that evaluate from their own hooks (e.g. the Python bindings).
template <class T>
EvalResult EvaluateTrainer(const Evaluator& evaluator, T& trainer, Index epoch) {
  using S = typename detail::EncoderOf<T>::Scalar;
  RowMatrix<S> U, I;
  detail::InferenceTables(trainer, U, I);
  EvalResult r = evaluator.Evaluate(U, I);
  r.epoch = epoch;
  return r;
}

/// One metric of a history as a plot series (x = epoch).
inline PlotSeries MetricCurve(const std::vector<EvalResult>& history, const std::string& metric,
                              std::string name = {}) {
  PlotSeries s{name.empty() ? metric : std::move(name), {}, {}};
  for (const auto& r : history) {
    s.x.push_back(static_cast<double>(r.epoch));
    s.y.push_back(r.Get(metric));
  }
  return s;
}

/// The spectrum of [U; I] at one epoch.
struct SpectrumRecord {
  Index epoch = 0;
  Eigen::VectorXd singular_values;  // descending
  double effective_rank = 0;
  double top1_energy = 0;
};

namespace detail {

template <class S>
SpectrumRecord SpectrumRecordOf(const RowMatrix<S>& U, const RowMatrix<S>& I, Index epoch) {
  SpectrumSummary s = StackedSpectrum(U, I);
  return {epoch, std::move(s.singular_values), s.effective_rank, s.top1_energy};
}

}  // namespace detail

/// Options of EvaluationCallback.
struct EvaluationCallbackOptions {
  Index every = 10;             // evaluate after epochs every, 2*every, ... (0: only at end)
  bool at_end = true;           // also after the last epoch if it was not just evaluated
  std::ostream* log = nullptr;  // print one line per evaluation when set
  std::string label = "eval";
  /// Also record the spectrum of the same tables with each evaluation (Spectra()).
  bool spectrum = false;
  /// Called after each evaluation with its result, its spectrum (null unless `spectrum`) and the
  /// training state it was taken in: where a program prints or logs its evaluations.
  std::function<void(const EvalResult&, const SpectrumRecord*, const TrainingState&)> on_result =
      nullptr;
};

/// Evaluates every `every` epochs (and after the last epoch) and records the results.
///
///   Evaluator eval(train, test);
///   EvaluationCallback evaluation(eval, {.every = 10, .log = &std::cout});
///   trainer.Train(train, evaluation);
///   for (const EvalResult& r : evaluation.History()) std::cout << r.ToJson() << "\n";
class EvaluationCallback {
 public:
  using Options = EvaluationCallbackOptions;

  /// Keeps a reference to `evaluator`, which must outlive the callback.
  explicit EvaluationCallback(const Evaluator& evaluator, Options options = {})
      : evaluator_(evaluator), options_(std::move(options)) {}
  EvaluationCallback(const Evaluator&& evaluator, Options options = {}) = delete;

  template <class T>
  bool OnTrainBegin(T&, const TrainingState&) {
    history_.clear();
    spectra_.clear();
    return false;
  }

  template <class T>
  bool OnEpochEnd(T& trainer, const TrainingState& s) {
    if (Due(s.epoch)) Evaluate(trainer, s);
    return false;
  }

  template <class T>
  void OnTrainEnd(T& trainer, const TrainingState& s) {
    if (options_.at_end && (history_.empty() || history_.back().epoch != s.epoch))
      Evaluate(trainer, s);
  }

  /// Whether OnEpochEnd evaluates after `epoch`.
  bool Due(Index epoch) const { return options_.every > 0 && epoch % options_.every == 0; }

  /// Evaluates the trainer's current tables as of `s` (r.epoch = s.epoch), recorded and reported
  /// like a scheduled evaluation; e.g. the final tables after EarlyStopping restored the best.
  /// The reference stays valid until the next evaluation.
  template <class T>
  const EvalResult& Evaluate(T& trainer, const TrainingState& s) {
    using S = typename detail::EncoderOf<T>::Scalar;
    RowMatrix<S> U, I;
    detail::InferenceTables(trainer, U, I);
    EvalResult r = evaluator_.Evaluate(U, I);
    r.epoch = s.epoch;
    history_.push_back(std::move(r));
    if (options_.spectrum) spectra_.push_back(detail::SpectrumRecordOf(U, I, s.epoch));
    if (options_.log) detail::PrintResult(*options_.log, options_.label, history_.back());
    if (options_.on_result)
      options_.on_result(history_.back(), options_.spectrum ? &spectra_.back() : nullptr, s);
    return history_.back();
  }

  const std::vector<EvalResult>& History() const { return history_; }
  /// With Options::spectrum: the spectrum of each evaluation's tables, in History()'s order.
  const std::vector<SpectrumRecord>& Spectra() const { return spectra_; }
  PlotSeries Curve(const std::string& metric) const { return MetricCurve(history_, metric); }

 private:
  const Evaluator& evaluator_;
  Options options_;
  std::vector<EvalResult> history_;
  std::vector<SpectrumRecord> spectra_;
};

/// Options of EarlyStopping.
struct EarlyStoppingOptions {
  std::string metric = "ndcg@20";
  Index patience = 5;        // evaluations without improvement before stopping
  Index every = 1;           // evaluate every `every` epochs
  double min_delta = 0;      // an improvement must exceed this
  bool maximize = true;      // false for losses
  bool restore_best = true;  // copy the best tables back at OnTrainEnd
  std::ostream* log = nullptr;
};

/// Stops training when `metric` has not improved for `patience` evaluations, keeping a copy of
/// the tables of the best epoch and restoring it when training ends.
///
///   EarlyStopping stop(valid_eval, {.metric = "ndcg@20", .patience = 3, .every = 5});
///   trainer.Train(train, stop);          // the encoder now holds the best epoch's tables
///   std::cout << stop.BestEpoch() << " " << stop.BestValue() << "\n";
class EarlyStopping {
 public:
  using Options = EarlyStoppingOptions;

  EarlyStopping(const Evaluator&& evaluator, Options options = {}) = delete;
  /// Keeps a reference to `evaluator`, which must outlive the callback.
  explicit EarlyStopping(const Evaluator& evaluator, Options options = {})
      : evaluator_(evaluator), options_(std::move(options)) {
    if (options_.patience < 1)
      throw std::invalid_argument("EarlyStopping: patience must be >= 1, got " +
                                  std::to_string(options_.patience));
    if (options_.every < 1)
      throw std::invalid_argument("EarlyStopping: every must be >= 1, got " +
                                  std::to_string(options_.every));
  }

  template <class T>
  bool OnTrainBegin(T&, const TrainingState&) {
    if (resumed_) {  // LoadState: continue from the checkpoint's best-so-far
      resumed_ = false;
      return false;
    }
    history_.clear();
    best_epoch_ = -1;
    best_value_ = 0;
    bad_ = 0;
    stopped_epoch_ = 0;
    restored_ = false;
    snapshot_f_.clear();
    snapshot_d_.clear();
    return false;
  }

  template <class T>
  bool OnEpochEnd(T& trainer, const TrainingState& s) {
    if (s.epoch % options_.every != 0) return false;
    history_.push_back(EvaluateTrainer(evaluator_, trainer, s.epoch));
    const double v = history_.back().Get(options_.metric);
    const bool improved =
        best_epoch_ < 0 || (options_.maximize ? v > best_value_ + options_.min_delta
                                              : v < best_value_ - options_.min_delta);
    if (improved) {
      best_epoch_ = s.epoch;
      best_value_ = v;
      bad_ = 0;
      if (options_.restore_best) Snapshot(trainer);
    } else {
      ++bad_;
    }
    if (options_.log) {
      *options_.log << "early-stopping epoch " << s.epoch << " " << options_.metric << " " << v
                    << (improved ? " (best)" : "") << "\n";
    }
    if (bad_ >= options_.patience) {
      stopped_epoch_ = s.epoch;
      if (options_.log)
        *options_.log << "early-stopping: no improvement for " << bad_
                      << " evaluations, stopping at epoch " << s.epoch << " (best epoch "
                      << best_epoch_ << ")\n";
      return true;
    }
    return false;
  }

  template <class T>
  void OnTrainEnd(T& trainer, const TrainingState&) {
    if (!options_.restore_best || best_epoch_ < 0) return;
    using S = typename detail::EncoderOf<T>::Scalar;
    auto tables = trainer.Encoder().Tables();
    auto& snap = Snap<S>();
    if (snap.size() != tables.size())
      throw std::logic_error("EarlyStopping: encoder has " + std::to_string(tables.size()) +
                             " tables, snapshot has " + std::to_string(snap.size()));
    for (std::size_t t = 0; t < tables.size(); ++t) {
      if (tables[t]->rows() != snap[t].rows() || tables[t]->cols() != snap[t].cols())
        throw std::logic_error("EarlyStopping: table " + std::to_string(t) + " changed shape");
      *tables[t] = snap[t];
    }
    restored_ = true;
  }

  /// Checkpoint state (io/checkpoint.hpp): best epoch and value, evaluations since the best and
  /// the best tables. The evaluation history is not kept (History() restarts after a resume).
  void SaveState(StateArchive& archive) const {
    archive.PutText("early_stopping.metric", options_.metric);
    archive.PutInt("early_stopping.best_epoch", best_epoch_);
    archive.PutReal("early_stopping.best_value", best_value_);
    archive.PutInt("early_stopping.bad", bad_);
    const std::size_t count = snapshot_f_.size() + snapshot_d_.size();
    archive.PutInt("early_stopping.tables", static_cast<std::int64_t>(count));
    for (std::size_t t = 0; t < snapshot_f_.size(); ++t)
      archive.PutMatrix("early_stopping.table." + std::to_string(t), snapshot_f_[t]);
    for (std::size_t t = 0; t < snapshot_d_.size(); ++t)
      archive.PutMatrix("early_stopping.table." + std::to_string(t), snapshot_d_[t]);
  }
  /// Restores SaveState's entries; the next OnTrainBegin keeps them instead of starting afresh.
  void LoadState(const StateArchive& archive) {
    const std::string& metric = archive.GetText("early_stopping.metric");
    if (metric != options_.metric)
      throw StateError("the checkpoint's early stopping watches '" + metric + "', this run '" +
                       options_.metric + "'");
    const std::int64_t best_epoch = archive.GetInt("early_stopping.best_epoch");
    const std::int64_t bad = archive.GetInt("early_stopping.bad");
    const std::int64_t count = archive.GetInt("early_stopping.tables");
    if (best_epoch < -1 || bad < 0 || count < 0 || count > 1024)
      throw StateError("the early-stopping state is invalid");
    std::vector<RowMatrix<float>> snap_f;
    std::vector<RowMatrix<double>> snap_d;
    for (std::int64_t t = 0; t < count; ++t) {
      const std::string name = "early_stopping.table." + std::to_string(t);
      if (archive.KindOf(name) == StateArchive::Kind::kFloat32)
        archive.GetMatrix(name, snap_f.emplace_back());
      else
        archive.GetMatrix(name, snap_d.emplace_back());
    }
    if (!snap_f.empty() && !snap_d.empty())
      throw StateError("the early-stopping tables mix float and double");
    history_.clear();
    best_epoch_ = static_cast<Index>(best_epoch);
    best_value_ = archive.GetReal("early_stopping.best_value");
    bad_ = static_cast<Index>(bad);
    stopped_epoch_ = 0;
    restored_ = false;
    snapshot_f_ = std::move(snap_f);
    snapshot_d_ = std::move(snap_d);
    resumed_ = true;
  }

  Index BestEpoch() const { return best_epoch_; }  // -1 before the first evaluation
  double BestValue() const { return best_value_; }
  Index StoppedEpoch() const { return stopped_epoch_; }  // 0 when training ran to the end
  bool Restored() const { return restored_; }
  const std::vector<EvalResult>& History() const { return history_; }

 private:
  template <class S>
  std::vector<RowMatrix<S>>& Snap() {
    if constexpr (std::is_same_v<S, float>)
      return snapshot_f_;
    else
      return snapshot_d_;
  }

  template <class T>
  void Snapshot(T& trainer) {
    using S = typename detail::EncoderOf<T>::Scalar;
    static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>,
                  "EarlyStopping snapshots float or double tables");
    auto& snap = Snap<S>();
    const auto tables = trainer.Encoder().Tables();
    snap.resize(tables.size());
    for (std::size_t t = 0; t < tables.size(); ++t) snap[t] = *tables[t];  // reuses storage
  }

  const Evaluator& evaluator_;
  Options options_;
  std::vector<EvalResult> history_;
  Index best_epoch_ = -1;
  double best_value_ = 0;
  Index bad_ = 0;
  Index stopped_epoch_ = 0;
  bool restored_ = false;
  bool resumed_ = false;  // LoadState ran: the next OnTrainBegin keeps the state
  std::vector<RowMatrix<float>> snapshot_f_;
  std::vector<RowMatrix<double>> snapshot_d_;
};

/// Options of SpectrumCallback.
struct SpectrumCallbackOptions {
  Index every = 1;
  bool at_begin = true;
  std::ostream* log = nullptr;
};

/// Records singular values and effective rank of the inference embeddings every N epochs (and
/// at epoch 0, before training, when at_begin is set).
///
///   SpectrumCallback spectrum({.every = 5});
///   trainer.Train(train, spectrum);
///   WriteSvgFile("erank.svg", LineChartSvg({spectrum.EffectiveRankCurve("MF")}, {}));
class SpectrumCallback {
 public:
  using Options = SpectrumCallbackOptions;

  explicit SpectrumCallback(Options options = {}) : options_(std::move(options)) {}

  template <class T>
  bool OnTrainBegin(T& trainer, const TrainingState&) {
    history_.clear();
    if (options_.at_begin) Record(trainer, 0);
    return false;
  }

  template <class T>
  bool OnEpochEnd(T& trainer, const TrainingState& s) {
    if (options_.every > 0 && s.epoch % options_.every == 0) Record(trainer, s.epoch);
    return false;
  }

  const std::vector<SpectrumRecord>& History() const { return history_; }

  PlotSeries EffectiveRankCurve(std::string name = "erank") const {
    PlotSeries s{std::move(name), {}, {}};
    for (const auto& r : history_) {
      s.x.push_back(static_cast<double>(r.epoch));
      s.y.push_back(r.effective_rank);
    }
    return s;
  }

 private:
  template <class T>
  void Record(T& trainer, Index epoch) {
    using S = typename detail::EncoderOf<T>::Scalar;
    RowMatrix<S> U, I;
    detail::InferenceTables(trainer, U, I);
    history_.push_back(detail::SpectrumRecordOf(U, I, epoch));
    const SpectrumRecord& r = history_.back();
    if (options_.log)
      *options_.log << "spectrum epoch " << epoch << " erank " << r.effective_rank << " of "
                    << U.cols() << ", top-1 energy " << r.top1_energy << "\n";
  }

  Options options_;
  std::vector<SpectrumRecord> history_;
};

}  // namespace directspec
