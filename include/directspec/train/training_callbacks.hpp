// Training callbacks: the last stage of every step and epoch of the Trainer (train/trainer.hpp).
// Pass any number of them to trainer.Train(train, cb1, cb2, ...) by reference; each implements
// only the hooks it needs (OnTrainBegin, OnEpochBegin, OnStepEnd, OnEpochEnd, OnTrainEnd), and a
// hook returning true stops training. State stays inspectable after Train returns.
//
//   ProgressBar      epoch, steps/s, loss and ETA on stderr
//   LossLog          per-epoch mean loss (and optionally every step's loss)
//   TimeLimit        stops after a wall-clock budget
//   DivergenceGuard  stops (or throws DivergenceError) on a NaN/Inf loss or table entry
// Evaluation callbacks (periodic evaluation, early stopping) live in eval/.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <limits>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "directspec/core/types.hpp"
#include "directspec/train/training_state.hpp"

namespace directspec {

namespace detail {

inline std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  auto total = static_cast<long long>(seconds + 0.5);
  const long long h = total / 3600, m = (total / 60) % 60, s = total % 60;
  char buffer[32];
  if (h > 0)
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", h, m, s);
  else
    std::snprintf(buffer, sizeof buffer, "%02lld:%02lld", m, s);
  return buffer;
}

}  // namespace detail

/// Progress on a stream (stderr by default): epoch, step, step rate, mean loss so far and the
/// estimated time left for the whole run.
///
///   trainer.Train(train, ProgressBar());
///
/// On a terminal (isatty) the line is redrawn in place with '\r' at most every
/// `refresh_seconds`; otherwise (logs, CI) one plain line is printed per epoch.
class ProgressBar {
 public:
  struct Options {
    double refresh_seconds = 0.2;  // terminal redraw interval
  };

  ProgressBar() : ProgressBar(std::cerr, isatty(fileno(stderr)) != 0) {}
  /// `terminal` selects in-place redraws; pass false to get one line per epoch.
  ProgressBar(std::ostream& out, bool terminal) : ProgressBar(out, terminal, Options{}) {}
  ProgressBar(std::ostream& out, bool terminal, Options options)
      : out_(&out), terminal_(terminal), options_(options) {}

  template <class T>
  void OnTrainBegin(T& /*trainer*/, const TrainingState& /*s*/) {
    start_ = Clock::now();
    last_draw_ = start_ - std::chrono::hours(1);
    lines_ = 0;
  }
  template <class T>
  void OnEpochBegin(T& /*trainer*/, const TrainingState& /*s*/) {
    epoch_start_ = Clock::now();
  }
  template <class T>
  void OnStepEnd(T& /*trainer*/, const TrainingState& s) {
    if (!terminal_) return;
    const auto now = Clock::now();
    if (std::chrono::duration<double>(now - last_draw_).count() < options_.refresh_seconds) return;
    last_draw_ = now;
    *out_ << '\r' << Line(s, now) << "   " << std::flush;
  }
  template <class T>
  void OnEpochEnd(T& /*trainer*/, const TrainingState& s) {
    const auto now = Clock::now();
    if (terminal_) *out_ << '\r';
    *out_ << Line(s, now) << '\n' << std::flush;
    ++lines_;
  }
  template <class T>
  void OnTrainEnd(T& /*trainer*/, const TrainingState& s) {
    if (s.epoch > 0 && (s.step < s.steps_per_epoch || lines_ == 0)) {
      // Stopped inside an epoch: close the line with the state reached.
      if (terminal_) *out_ << '\r';
      *out_ << Line(s, Clock::now()) << " (stopped)\n" << std::flush;
      ++lines_;
    }
  }

  /// Lines written so far (one per finished epoch, plus one if stopped mid-epoch).
  Index LinesWritten() const { return lines_; }

 private:
  using Clock = std::chrono::steady_clock;

  std::string Line(const TrainingState& s, Clock::time_point now) const {
    const double epoch_seconds = std::chrono::duration<double>(now - epoch_start_).count();
    const double total_seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = epoch_seconds > 0 ? static_cast<double>(s.step) / epoch_seconds : 0;
    const double done = static_cast<double>((s.epoch - 1) * s.steps_per_epoch + s.step);
    const double all = static_cast<double>(s.epochs * s.steps_per_epoch);
    const double eta = done > 0 ? total_seconds * (all - done) / done : -1;
    std::ostringstream line;
    line << "epoch " << s.epoch << '/' << s.epochs << "  step " << s.step << '/'
         << s.steps_per_epoch << "  " << std::fixed << std::setprecision(1) << rate
         << " steps/s  loss " << std::setprecision(6) << s.epoch_loss << "  lr "
         << std::defaultfloat << std::setprecision(6) << s.learning_rate << "  ETA "
         << detail::FormatDuration(eta);
    return line.str();
  }

  std::ostream* out_;
  bool terminal_;
  Options options_;
  Clock::time_point start_{}, epoch_start_{}, last_draw_{};
  Index lines_ = 0;
};

/// Records the mean loss of every finished epoch (and, if asked, every step's loss).
///
///   LossLog log;
///   trainer.Train(train, log);
///   double last = log.EpochLosses().back();
class LossLog {
 public:
  explicit LossLog(bool record_steps = false) : record_steps_(record_steps) {}

  template <class T>
  void OnTrainBegin(T& /*trainer*/, const TrainingState& /*s*/) {
    epochs_.clear();
    steps_.clear();
  }
  template <class T>
  void OnStepEnd(T& /*trainer*/, const TrainingState& s) {
    if (record_steps_) steps_.push_back(s.step_loss);
  }
  template <class T>
  void OnEpochEnd(T& /*trainer*/, const TrainingState& s) {
    epochs_.push_back(s.epoch_loss);
  }

  const std::vector<double>& EpochLosses() const { return epochs_; }
  /// Every step's loss, in order, when constructed with record_steps = true.
  const std::vector<double>& StepLosses() const { return steps_; }

 private:
  bool record_steps_;
  std::vector<double> epochs_;
  std::vector<double> steps_;
};

/// Stops training once `seconds` of wall-clock time (callbacks included) have passed since
/// Train began; checked after every step.
///
///   TimeLimit limit(600.0);
///   trainer.Train(train, limit);
///   if (limit.Expired()) ...
class TimeLimit {
 public:
  explicit TimeLimit(double seconds) : seconds_(seconds) {
    if (!(seconds >= 0))
      throw std::invalid_argument("TimeLimit: seconds must be >= 0, got " +
                                  std::to_string(seconds));
  }

  template <class T>
  void OnTrainBegin(T& /*trainer*/, const TrainingState& /*s*/) {
    start_ = Clock::now();
    expired_ = false;
  }
  template <class T>
  bool OnStepEnd(T& /*trainer*/, const TrainingState& /*s*/) {
    expired_ = std::chrono::duration<double>(Clock::now() - start_).count() >= seconds_;
    return expired_;
  }

  bool Expired() const { return expired_; }

 private:
  using Clock = std::chrono::steady_clock;
  double seconds_;
  Clock::time_point start_{};
  bool expired_ = false;
};

/// Thrown by DivergenceGuard (in its default mode) when training produced NaN or Inf.
class DivergenceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Watches for numerical divergence: after every step it checks the step loss and the table rows
/// that step updated (cheap: only the touched rows); after every epoch it checks every entry of
/// every table. On NaN/Inf it builds a message naming the epoch, step, table (TableNames()),
/// row and learning rate, then throws DivergenceError (default) or, with throw_on_divergence =
/// false, records the message and stops training.
///
///   DivergenceGuard guard;                                  // throws
///   DivergenceGuard soft({.throw_on_divergence = false});   // stops; soft.Message() says why
class DivergenceGuard {
 public:
  struct Options {
    bool throw_on_divergence = true;
    bool check_touched_rows_every_step = true;
    bool check_tables_every_epoch = true;
  };

  DivergenceGuard() = default;
  explicit DivergenceGuard(Options options) : options_(options) {}

  template <class T>
  void OnTrainBegin(T& /*trainer*/, const TrainingState& /*s*/) {
    message_.clear();
  }

  template <class T>
  bool OnStepEnd(T& trainer, const TrainingState& s) {
    if (!std::isfinite(s.step_loss)) {
      std::ostringstream m;
      m << "training diverged at epoch " << s.epoch << " step " << s.step << ": the batch loss is "
        << s.step_loss << WorstTouchedRow(trainer) << " (learning rate "
        << trainer.Optimizer().LearningRate() << "); lower the learning rate";
      return Fail(m.str());
    }
    if (!options_.check_touched_rows_every_step) return false;
    const auto tables = trainer.Encoder().Tables();
    const auto names = trainer.Encoder().TableNames();
    const auto& grads = trainer.LastGradients();
    for (std::size_t t = 0; t < tables.size() && t < grads.size(); ++t) {
      if (AllFinite(*tables[t], grads[t].rows)) continue;
      for (Id r : grads[t].rows)
        if (!tables[t]->row(r).allFinite())
          return Fail(TableMessage(trainer, s, names, t, r, "after the update"));
    }
    return false;
  }

  template <class T>
  bool OnEpochEnd(T& trainer, const TrainingState& s) {
    if (!options_.check_tables_every_epoch) return false;
    const auto tables = trainer.Encoder().Tables();
    const auto names = trainer.Encoder().TableNames();
    for (std::size_t t = 0; t < tables.size(); ++t) {
      const auto& table = *tables[t];
      if (table.allFinite()) continue;
      for (Index r = 0; r < table.rows(); ++r)
        if (!table.row(r).allFinite())
          return Fail(
              TableMessage(trainer, s, names, t, static_cast<Id>(r), "at the end of epoch"));
    }
    return false;
  }

  bool Diverged() const { return !message_.empty(); }
  /// Why training was stopped (empty if it was not).
  const std::string& Message() const { return message_; }

 private:
  /// Whether the listed rows are all finite, in one vectorised pass without a branch or a
  /// horizontal reduction per row (LightGCN touches every row of its table each step): NaN and
  /// Inf times zero are NaN, so a NaN in the column-wise sum of row * 0 means a bad entry.
  template <class Table, class Rows>
  static bool AllFinite(const Table& table, const Rows& rows) {
    using S = typename Table::Scalar;
    Eigen::Array<S, 1, Eigen::Dynamic> sum = Eigen::Array<S, 1, Eigen::Dynamic>::Zero(table.cols());
    for (const auto r : rows) sum += table.row(static_cast<Index>(r)).array() * S(0);
    return !sum.isNaN().any();
  }

  template <class T>
  static std::string TableMessage(T& trainer, const TrainingState& s,
                                  const std::vector<std::string>& names, std::size_t t, Id row,
                                  const char* when) {
    std::ostringstream m;
    m << "training diverged " << when << " (epoch " << s.epoch << ", step " << s.step
      << "): table '" << (t < names.size() ? names[t] : std::to_string(t)) << "' row " << row
      << " holds NaN or Inf (learning rate " << trainer.Optimizer().LearningRate()
      << "); lower the learning rate";
    return m.str();
  }

  /// Where a non-finite loss came from: the step's touched row holding NaN/Inf, or else the one
  /// with the largest entry (the loss can overflow while every table entry is still finite).
  template <class T>
  static std::string WorstTouchedRow(T& trainer) {
    const auto tables = trainer.Encoder().Tables();
    const auto names = trainer.Encoder().TableNames();
    const auto& grads = trainer.LastGradients();
    double worst = -1;
    std::size_t worst_table = 0;
    Id worst_row = -1;
    for (std::size_t t = 0; t < tables.size() && t < grads.size(); ++t)
      for (Id r : grads[t].rows) {
        const auto row = tables[t]->row(r);
        const double size = row.allFinite() ? static_cast<double>(row.cwiseAbs().maxCoeff())
                                            : std::numeric_limits<double>::infinity();
        if (size > worst) worst = size, worst_table = t, worst_row = r;
      }
    if (worst_row < 0) return "";
    std::ostringstream m;
    m << "; table '"
      << (worst_table < names.size() ? names[worst_table] : std::to_string(worst_table)) << "' row "
      << worst_row << (std::isfinite(worst) ? " has the largest entry, " : " holds NaN or Inf");
    if (std::isfinite(worst)) m << worst;
    return m.str();
  }

  bool Fail(std::string message) {
    message_ = std::move(message);
    if (options_.throw_on_divergence) throw DivergenceError(message_);
    return true;
  }

  Options options_{};
  std::string message_;
};

}  // namespace directspec
