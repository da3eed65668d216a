// Adam with lazy per-row state: an optimizer for the last stage of a training step that, like
// Sgd, touches only the rows in each RowGradient. It is not the reference's optimizer (the
// paper's recipe needs plain SGD, see docs/optimizers.md) but the usual choice for BPR and
// DirectAU baselines.
//
// Lazy variant (documented in docs/optimizers.md): every table row r has its own moments m_r,
// v_r and its own step count t_r, advanced only on the steps that touch r:
//   t_r += 1;  m_r = b1 m_r + (1 - b1) g;  v_r = b2 v_r + (1 - b2) g^2;
//   E[r] -= lr * (m_r / (1 - b1^t_r)) / (sqrt(v_r / (1 - b2^t_r)) + eps).
// A row touched at every step therefore follows dense Adam exactly; an untouched row neither
// moves nor decays its moments (dense Adam would keep moving it with its old momentum).
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "directspec/core/argument_check.hpp"
#include "directspec/core/row_gradient.hpp"
#include "directspec/core/types.hpp"
#include "directspec/optim/decay.hpp"
#include "directspec/optim/update_checks.hpp"

namespace directspec {

/// Adam on touched rows with per-row moments and step counters.
///
///   Adam<float> adam({.learning_rate = 1e-3});
///   adam.Update(encoder.Tables(), grads);
template <class S, class Decay = NoDecay>
class Adam {
 public:
  using Scalar = S;
  static constexpr const char* kName = "adam";

  struct Options {
    double learning_rate = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double epsilon = 1e-8;
  };

  Adam() : Adam(Options{}) {}
  explicit Adam(Options options, Decay decay = {})
      : options_(options), rate_(options.learning_rate), decay_(std::move(decay)) {
    detail::CheckLearningRate<S>("Adam", options_.learning_rate);
    CheckOption(options_.beta1 >= 0 && options_.beta1 < 1, "Adam", "beta1", options_.beta1,
                "must lie in [0, 1)");
    CheckOption(options_.beta2 >= 0 && options_.beta2 < 1, "Adam", "beta2", options_.beta2,
                "must lie in [0, 1)");
    CheckOption(options_.epsilon > 0 && std::isfinite(options_.epsilon), "Adam", "epsilon",
                options_.epsilon, "must be finite and > 0");
  }

  void Update(const std::vector<RowMatrix<S>*>& tables, const std::vector<RowGradient<S>>& grads) {
    detail::CheckGradientShapes("Adam::Update", tables, grads);
    if (state_.size() != tables.size()) state_.resize(tables.size());
    const S b1 = static_cast<S>(options_.beta1), b2 = static_cast<S>(options_.beta2);
    const S eps = static_cast<S>(options_.epsilon);
    for (std::size_t t = 0; t < tables.size(); ++t) {
      RowMatrix<S>& table = *tables[t];
      State& st = state_[t];
      if (st.first.rows() != table.rows() || st.first.cols() != table.cols()) {
        // First update of this table (or the table was re-created): fresh zero moments.
        st.first.setZero(table.rows(), table.cols());
        st.second.setZero(table.rows(), table.cols());
        st.steps.assign(static_cast<std::size_t>(table.rows()), 0);
      }
      const RowGradient<S>& g = grads[t];
      for (Index k = 0; k < g.Size(); ++k) {
        const Id r = g.rows[static_cast<std::size_t>(k)];
        const auto count = static_cast<double>(++st.steps[static_cast<std::size_t>(r)]);
        const S correction1 = static_cast<S>(1.0 - std::pow(options_.beta1, count));
        const S correction2 = static_cast<S>(1.0 - std::pow(options_.beta2, count));
        const S step = static_cast<S>(rate_) / correction1;
        // A scalar loop: d is small, and it sidesteps a GCC 12 false -Wmaybe-uninitialized in
        // the AVX-512 rsqrt path of Eigen's vectorised sqrt.
        S* row = table.row(r).data();
        S* m = st.first.row(r).data();
        S* v = st.second.row(r).data();
        const S* grad = g.values.row(k).data();
        for (Index c = 0; c < table.cols(); ++c) {
          m[c] = b1 * m[c] + (S(1) - b1) * grad[c];
          v[c] = b2 * v[c] + (S(1) - b2) * grad[c] * grad[c];
          row[c] -= step * m[c] / (std::sqrt(v[c] / correction2) + eps);
        }
      }
    }
  }

  void EndEpoch(Index epoch) { rate_ = decay_.Next(rate_, options_.learning_rate, epoch); }

  /// Forgets every moment and step count and restores the initial rate.
  void Reset() {
    state_.clear();
    rate_ = options_.learning_rate;
  }

  S LearningRate() const { return static_cast<S>(rate_); }
  double LearningRateDouble() const { return rate_; }
  const Options& GetOptions() const { return options_; }
  const Decay& DecayPolicy() const { return decay_; }

  /// Checkpoint state (io/checkpoint.hpp): the current rate and, per table, both moments and
  /// the per-row step counts.
  void SaveState(StateArchive& archive, const std::string& prefix) const {
    archive.PutText(prefix + "kind", kName);
    archive.PutReal(prefix + "learning_rate", rate_);
    archive.PutInt(prefix + "tables", static_cast<std::int64_t>(state_.size()));
    for (std::size_t t = 0; t < state_.size(); ++t) {
      const std::string p = prefix + std::to_string(t) + ".";
      archive.PutMatrix(p + "first_moment", state_[t].first);
      archive.PutMatrix(p + "second_moment", state_[t].second);
      archive.PutInts(p + "steps", state_[t].steps);
    }
  }
  void LoadState(const StateArchive& archive, const std::string& prefix) {
    detail::CheckStateKind(archive, prefix, kName);
    const double rate = archive.GetReal(prefix + "learning_rate");
    if (!(rate > 0) || !std::isfinite(rate))
      throw StateError("state entry '" + prefix + "learning_rate' holds " + std::to_string(rate) +
                       ", not a finite positive rate");
    const std::int64_t tables = archive.GetInt(prefix + "tables");
    if (tables < 0 || tables > 1024)
      throw StateError("state entry '" + prefix + "tables' holds " + std::to_string(tables));
    std::vector<State> state(static_cast<std::size_t>(tables));
    for (std::size_t t = 0; t < state.size(); ++t) {
      const std::string p = prefix + std::to_string(t) + ".";
      archive.GetMatrix(p + "first_moment", state[t].first);
      archive.GetMatrix(p + "second_moment", state[t].second, state[t].first.rows(),
                        state[t].first.cols());
      state[t].steps = archive.GetInts(p + "steps");
      if (static_cast<Index>(state[t].steps.size()) != state[t].first.rows())
        throw StateError("state entry '" + p + "steps' has " +
                         std::to_string(state[t].steps.size()) + " rows, the moments " +
                         std::to_string(state[t].first.rows()));
      for (std::int64_t count : state[t].steps)
        if (count < 0) throw StateError("state entry '" + p + "steps' holds a negative count");
    }
    rate_ = rate;
    state_ = std::move(state);
  }

  /// Steps that have touched row `row` of table `table` (0 before its first update).
  std::int64_t RowSteps(std::size_t table, Id row) const {
    if (table >= state_.size() || state_[table].steps.empty()) return 0;
    return state_[table].steps[static_cast<std::size_t>(row)];
  }

 private:
  struct State {
    RowMatrix<S> first;   // m
    RowMatrix<S> second;  // v
    std::vector<std::int64_t> steps;
  };

  Options options_;
  double rate_;
  Decay decay_;
  std::vector<State> state_;
};

}  // namespace directspec
