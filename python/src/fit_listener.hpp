// The FitListener of a fit() called from Python: between steps (at most every 0.1 s, and at each
// epoch's last step) it takes the GIL, lets Python handle signals (Ctrl-C) and updates the
// Python progress bar; after each epoch it calls the Python epoch hook with the epoch's log.
// A Python exception (KeyboardInterrupt included) or a hook returning True stops training
// cleanly; the exception is kept and raised once the model is usable again (RethrowPending).
#pragma once

#include <Python.h>
#include <pybind11/pybind11.h>

#include <chrono>
#include <exception>
#include <utility>

#include "trainer_session.hpp"

namespace directspec::python {

namespace py = pybind11;

class PythonFitListener final : public FitListener {
 public:
  /// on_step(epoch, epochs, step, steps, loss) and on_epoch(logs) -> bool; either may be None.
  PythonFitListener(py::object on_step, py::object on_epoch, bool wants_validation)
      : on_step_(std::move(on_step)),
        on_epoch_(std::move(on_epoch)),
        wants_validation_(wants_validation) {}

  // Constructed and destroyed with the GIL held (the Python objects it owns need it); its
  // hooks run on the training thread without it and take it themselves.

  bool OnStep(const TrainingState& s) override {
    const auto now = Clock::now();
    if (s.step < s.steps_per_epoch && now - last_ < std::chrono::milliseconds(100)) return false;
    last_ = now;
    py::gil_scoped_acquire gil;
    Guarded([&] {
      if (!on_step_.is_none()) on_step_(s.epoch, s.epochs, s.step, s.steps_per_epoch, s.epoch_loss);
      return false;
    });
    return stop_;
  }

  bool OnEpoch(const TrainingState& s, const EvalResult* valid) override {
    py::gil_scoped_acquire gil;
    Guarded([&] {
      if (on_epoch_.is_none()) return false;
      py::dict logs;
      logs["epoch"] = s.epoch;
      logs["loss"] = s.epoch_loss;
      logs["learning_rate"] = s.learning_rate;
      logs["train_seconds"] = s.train_seconds;
      if (valid)
        for (const auto& [name, value] : valid->metrics) logs[py::str(name)] = value;
      return static_cast<bool>(py::bool_(on_epoch_(logs)));
    });
    return stop_;
  }

  bool WantsValidation() const override { return wants_validation_; }

  /// True when Python asked to stop (an exception or a callback's True).
  bool Stopped() const { return stop_; }

  /// Raises the Python exception that stopped training, if any. Call with the GIL held.
  void RethrowPending() {
    if (pending_) std::rethrow_exception(std::exchange(pending_, nullptr));
  }

 private:
  using Clock = std::chrono::steady_clock;

  // Signals first (Ctrl-C raises KeyboardInterrupt here), then the hook; any exception stops.
  template <class F>
  void Guarded(F&& hook) {
    if (stop_) return;
    try {
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      if (hook()) stop_ = true;
    } catch (...) {
      pending_ = std::current_exception();
      stop_ = true;
    }
  }

  py::object on_step_, on_epoch_;
  bool wants_validation_;
  bool stop_ = false;
  std::exception_ptr pending_;
  Clock::time_point last_ = Clock::now();
};

}  // namespace directspec::python
