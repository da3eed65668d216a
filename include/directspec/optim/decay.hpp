// Learning-rate decay policies for the optimizers (optim/sgd.hpp, optim/adam.hpp). The optimizer
// calls Next() from EndEpoch(epoch) after every epoch; the result is the rate of the next epoch.
//
// A decay policy is any class with
//   double Next(double current, double initial, Index finished_epoch) const;
// where finished_epoch is 1-based. Rates are kept in double (like the reference's Python float)
// and cast to the table scalar only when applied.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>

#include "directspec/core/types.hpp"

namespace directspec {

/// Constant learning rate.
struct NoDecay {
  static constexpr const char* kName = "none";
  double Next(double current, double /*initial*/, Index /*finished_epoch*/) const {
    return current;
  }
};

/// lr <- lr * factor after every epoch (the reference: 0.9995 for MF, 0.9999 otherwise).
///
///   Sgd<float, ExponentialDecay> sgd(180.0, ExponentialDecay{0.9995});
struct ExponentialDecay {
  static constexpr const char* kName = "exponential";
  double factor = 0.9995;

  double Next(double current, double /*initial*/, Index /*finished_epoch*/) const {
    if (!(factor > 0) || !std::isfinite(factor))
      throw std::invalid_argument("ExponentialDecay: factor must be finite and > 0, got " +
                                  std::to_string(factor));
    return current * factor;
  }
};

/// lr = initial * factor^floor(finished_epoch / every): a drop by `factor` every `every` epochs.
///
///   Sgd<float, StepDecay> sgd(0.1, StepDecay{.every = 30, .factor = 0.1});
struct StepDecay {
  static constexpr const char* kName = "step";
  Index every = 10;
  double factor = 0.1;

  double Next(double /*current*/, double initial, Index finished_epoch) const {
    if (every <= 0)
      throw std::invalid_argument("StepDecay: every must be >= 1, got " + std::to_string(every));
    if (!(factor > 0) || !std::isfinite(factor))
      throw std::invalid_argument("StepDecay: factor must be finite and > 0, got " +
                                  std::to_string(factor));
    return initial * std::pow(factor, static_cast<double>(finished_epoch / every));
  }
};

}  // namespace directspec
