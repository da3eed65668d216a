// Sgd: plain stochastic gradient descent on the rows a step touched, the optimizer of the
// reference recipe (last stage of a training step, after encoder.Backward). Each table row in a
// RowGradient is updated once with its summed gradient: E[r] -= lr * g[r]. A decay policy
// (optim/decay.hpp) changes the rate after every epoch.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "directspec/core/row_gradient.hpp"
#include "directspec/core/state_archive.hpp"
#include "directspec/core/types.hpp"
#include "directspec/optim/decay.hpp"
#include "directspec/optim/update_checks.hpp"

namespace directspec {

/// Plain SGD on touched rows with a learning-rate decay policy.
///
///   Sgd<float, ExponentialDecay> opt(180.0, ExponentialDecay{0.9995});   // reference MF recipe
///   opt.Update(encoder.Tables(), grads);   // after encoder.Backward
///   opt.EndEpoch(epoch);                   // lr *= 0.9995
template <class S, class Decay = NoDecay>
class Sgd {
 public:
  using Scalar = S;
  static constexpr const char* kName = "sgd";

  explicit Sgd(double learning_rate = 0.01, Decay decay = {})
      : initial_(learning_rate), rate_(learning_rate), decay_(std::move(decay)) {
    detail::CheckLearningRate<S>("Sgd", learning_rate);
  }

  void Update(const std::vector<RowMatrix<S>*>& tables, const std::vector<RowGradient<S>>& grads) {
    detail::CheckGradientShapes("Sgd::Update", tables, grads);
    const S step = static_cast<S>(rate_);
    for (std::size_t t = 0; t < tables.size(); ++t) {
      RowMatrix<S>& table = *tables[t];
      const RowGradient<S>& g = grads[t];
      for (Index k = 0; k < g.Size(); ++k)
        table.row(g.rows[static_cast<std::size_t>(k)]).noalias() -= step * g.values.row(k);
    }
  }

  void EndEpoch(Index epoch) { rate_ = decay_.Next(rate_, initial_, epoch); }

  /// Back to the initial rate (the trainer calls it when a Train() starts from fresh tables).
  void Reset() { rate_ = initial_; }

  S LearningRate() const { return static_cast<S>(rate_); }
  /// The rate in double, as the decay computes it.
  double LearningRateDouble() const { return rate_; }
  void SetLearningRate(double rate) {
    detail::CheckLearningRate<S>("Sgd::SetLearningRate", rate);
    rate_ = rate;
  }
  const Decay& DecayPolicy() const { return decay_; }

  /// Checkpoint state (io/checkpoint.hpp): the current rate (the decay policies are stateless:
  /// the next rate follows from it, the initial rate and the epoch).
  void SaveState(StateArchive& archive, const std::string& prefix) const {
    archive.PutText(prefix + "kind", kName);
    archive.PutReal(prefix + "learning_rate", rate_);
  }
  void LoadState(const StateArchive& archive, const std::string& prefix) {
    detail::CheckStateKind(archive, prefix, kName);
    const double rate = archive.GetReal(prefix + "learning_rate");
    if (!(rate > 0) || !std::isfinite(rate))
      throw StateError("state entry '" + prefix + "learning_rate' holds " + std::to_string(rate) +
                       ", not a finite positive rate");
    rate_ = rate;
  }

 private:
  double initial_;
  double rate_;
  Decay decay_;
};

}  // namespace directspec
