// LearningSignals: a training callback that measures whether anything is being learned, for runs
// that end without an error yet without a model: the loss of the first and the latest epoch, the
// steps taken, and how far the tables moved and grew from their initial values. A front end turns
// the numbers into a warning with a likely cause (the CLI: docs/cli.md "Warnings"); the callback
// itself only measures. Cost: a float copy of at most `sample_rows` rows per table at
// OnTrainBegin (4 KiB per row at d = 1024) and one pass over them whenever Measure() is called.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "directspec/core/state_archive.hpp"
#include "directspec/core/types.hpp"
#include "directspec/train/training_state.hpp"

namespace directspec {

/// What LearningSignals measured so far.
struct LearningMeasurement {
  double first_epoch_loss = 0;  // mean step loss of epoch 1
  double last_epoch_loss = 0;   // mean step loss of the latest completed epoch
  Index epochs = 0;             // completed epochs
  Index steps = 0;              // steps taken
  /// ||T - T0|| / ||T0|| over the sampled rows: 0 when nothing moved.
  double relative_change = 0;
  /// ||T|| / ||T0|| over the sampled rows: far above 1 when the steps blew the tables up (a too
  /// large learning rate on normalised rows, whose gradients shrink as 1 / ||x||).
  double norm_growth = 1;
};

/// Records the tables' starting point and the losses.
///
///   LearningSignals signals;
///   trainer.Train(train, signals);
///   LearningMeasurement m = signals.Measure(trainer);
///   if (m.relative_change < 1e-3) ...   // the tables barely moved
class LearningSignals {
 public:
  struct Options {
    Index sample_rows = 1024;  // rows kept per table, evenly spaced
  };

  LearningSignals() = default;
  explicit LearningSignals(Options options) : options_(options) {}

  template <class T>
  void OnTrainBegin(T& trainer, const TrainingState& /*s*/) {
    if (resumed_) {  // LoadState: keep the run's starting point and counts
      resumed_ = false;
      return;
    }
    measured_ = {};
    initial_.clear();
    rows_.clear();
    for (const auto* table : trainer.Encoder().Tables()) {
      std::vector<Index> rows;
      const Index count = std::min<Index>(table->rows(), std::max<Index>(options_.sample_rows, 1));
      for (Index k = 0; k < count; ++k) rows.push_back(k * table->rows() / count);
      RowMatrix<float> copy(static_cast<Index>(rows.size()), table->cols());
      for (std::size_t k = 0; k < rows.size(); ++k)
        copy.row(static_cast<Index>(k)) = table->row(rows[k]).template cast<float>();
      initial_.push_back(std::move(copy));
      rows_.push_back(std::move(rows));
    }
  }

  template <class T>
  void OnStepEnd(T& /*trainer*/, const TrainingState& /*s*/) {
    ++measured_.steps;
  }

  template <class T>
  void OnEpochEnd(T& /*trainer*/, const TrainingState& s) {
    if (measured_.epochs == 0) measured_.first_epoch_loss = s.epoch_loss;
    measured_.last_epoch_loss = s.epoch_loss;
    ++measured_.epochs;
  }

  /// Checkpoint state (io/checkpoint.hpp): the kept rows of the initial tables and the counts.
  void SaveState(StateArchive& archive) const {
    archive.PutReals("learning_signals.measured",
                     std::vector<double>{measured_.first_epoch_loss, measured_.last_epoch_loss,
                                         static_cast<double>(measured_.epochs),
                                         static_cast<double>(measured_.steps)});
    archive.PutInt("learning_signals.tables", static_cast<std::int64_t>(initial_.size()));
    for (std::size_t t = 0; t < initial_.size(); ++t) {
      const std::string p = "learning_signals." + std::to_string(t) + ".";
      archive.PutMatrix(p + "initial", initial_[t]);
      archive.PutInts(p + "rows", std::vector<std::int64_t>(rows_[t].begin(), rows_[t].end()));
    }
  }
  /// Restores SaveState's entries; the next OnTrainBegin keeps them.
  void LoadState(const StateArchive& archive) {
    const std::vector<double>& m = archive.GetReals("learning_signals.measured");
    const std::int64_t count = archive.GetInt("learning_signals.tables");
    if (m.size() != 4 || count < 0 || count > 1024)
      throw StateError("the learning-signals state is invalid");
    std::vector<RowMatrix<float>> initial(static_cast<std::size_t>(count));
    std::vector<std::vector<Index>> rows(static_cast<std::size_t>(count));
    for (std::size_t t = 0; t < initial.size(); ++t) {
      const std::string p = "learning_signals." + std::to_string(t) + ".";
      archive.GetMatrix(p + "initial", initial[t]);
      const auto& r = archive.GetInts(p + "rows");
      if (static_cast<Index>(r.size()) != initial[t].rows())
        throw StateError("state entry '" + p + "rows' does not match its table");
      for (std::int64_t row : r)
        if (row < 0) throw StateError("state entry '" + p + "rows' holds a negative row");
      rows[t].assign(r.begin(), r.end());
    }
    measured_.first_epoch_loss = m[0];
    measured_.last_epoch_loss = m[1];
    measured_.epochs = static_cast<Index>(m[2]);
    measured_.steps = static_cast<Index>(m[3]);
    initial_ = std::move(initial);
    rows_ = std::move(rows);
    resumed_ = true;
  }

  /// The losses and steps so far, and the tables' movement at this moment.
  template <class T>
  LearningMeasurement Measure(T& trainer) const {
    LearningMeasurement m = measured_;
    double start = 0, now = 0, moved = 0;
    const auto tables = trainer.Encoder().Tables();
    for (std::size_t t = 0; t < tables.size() && t < initial_.size(); ++t) {
      for (std::size_t k = 0; k < rows_[t].size(); ++k) {
        if (rows_[t][k] >= tables[t]->rows()) continue;  // a loaded state for another table
        const auto row = tables[t]->row(rows_[t][k]).template cast<double>();
        const auto first = initial_[t].row(static_cast<Index>(k)).template cast<double>();
        start += first.squaredNorm();
        now += row.squaredNorm();
        moved += (row - first).squaredNorm();
      }
    }
    if (start > 0) {
      m.relative_change = std::sqrt(moved / start);
      m.norm_growth = std::sqrt(now / start);
    }
    return m;
  }

 private:
  Options options_{};
  LearningMeasurement measured_{};
  std::vector<RowMatrix<float>> initial_;  // float: a relative change of 1e-3 needs no more
  std::vector<std::vector<Index>> rows_;
  bool resumed_ = false;  // LoadState ran: the next OnTrainBegin keeps the state
};

}  // namespace directspec
