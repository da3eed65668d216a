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

#include "directspec/core/argument_check.hpp"
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
    CheckOption(factor > 0 && std::isfinite(factor), "ExponentialDecay", "factor", factor,
                "must be finite and > 0");
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
    CheckOption(every >= 1, "StepDecay", "every", every, "must be >= 1");
    CheckOption(factor > 0 && std::isfinite(factor), "StepDecay", "factor", factor,
                "must be finite and > 0");
    return initial * std::pow(factor, static_cast<double>(finished_epoch / every));
  }
};

}  // namespace directspec
