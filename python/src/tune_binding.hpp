// directspec._core.tune: directspec-tune's search from Python. The base setting is a model's
// flags, the space is the CLI's default space for it overridden by `space` (the --space
// syntax), and each trial trains with the CLI's TrainingObjective on the dataset's train part,
// scored on its validation part (test is never read). The GIL is released during the search;
// after each trial Python gets the trial's record (and Ctrl-C ends the search there).
#pragma once

#include <Python.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli_bridge.hpp"
#include "model_binding.hpp"

namespace directspec::python {

inline py::dict TrialDict(const bridge::TrialRecord& r) {
  py::dict params;
  for (const auto& [name, value] : r.assignment) params[py::str(name)] = value;
  py::dict out;
  out["index"] = r.index;
  out["params"] = params;
  out["origin"] = r.origin;
  out["status"] = bridge::StatusName(r.status);
  out["message"] = r.message;
  out["epochs_trained"] = r.epochs_trained;
  out["curve"] = r.curve;
  out["best_value"] = r.best_value;
  out["best_epoch"] = r.best_epoch;
  out["seconds"] = r.seconds;
  return out;
}

/// Runs the search; returns the space searched, every trial, and the best trial's settings
/// (its assignment and its best epoch) as flag name -> value.
inline py::dict Tune(const std::vector<std::string>& base_flags,
                     std::shared_ptr<const Dataset> data, const std::string& space_text, int trials,
                     double budget_seconds, int eta, int eval_every, const std::string& metric,
                     py::object on_trial) {
  bridge::Settings base = bridge::ParseSettings(base_flags);
  if (!data->valid || data->valid_pairs.empty())
    throw std::invalid_argument(
        "tune needs a validation set (the search never reads test): load the data with "
        "valid_fraction=, or give it one with dataset.with_validation()");
  if (trials <= 0 && budget_seconds <= 0)
    throw std::invalid_argument("tune needs trials > 0 or a time budget");
  bridge::ClampBatch(base, *data);
  bridge::SearchSpace space =
      bridge::ParseSpace(bridge::DefaultSpaceText(base), "the default space");
  if (!space_text.empty()) space.Override(bridge::ParseSpace(space_text, "space"));
  bridge::TunerOptions options;
  options.trials = trials;
  options.budget_seconds = budget_seconds;
  options.eta = eta;
  options.eval_every = eval_every;
  options.seed = base.seed;
  EvalOptions eval_options;
  eval_options.ks.assign(base.topk.begin(), base.topk.end());
  const bridge::TrainingObjective objective(base, data->train, data->valid_pairs, metric,
                                            eval_options);
  std::vector<bridge::TrialRecord> records;
  {
    py::gil_scoped_release release;
    OmpThreads threads(base.threads);
    records = bridge::RunSearch(space, options, objective, [&](const bridge::TrialRecord& r) {
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      if (!on_trial.is_none()) on_trial(TrialDict(r));
    });
  }
  py::list all;
  for (const auto& r : records) all.append(TrialDict(r));
  py::dict out;
  out["space"] = space.Describe();
  out["trials"] = all;
  const auto board = bridge::Leaderboard(records);
  if (board.empty() || !board.front()->Ranked())
    throw std::runtime_error("no trial produced a finite validation " + metric +
                             " (every trial diverged or failed)");
  const bridge::TrialRecord& best = *board.front();
  py::dict params;
  for (const auto& [name, value] : best.assignment) params[py::str(name)] = value;
  params["epochs"] = std::to_string(best.best_epoch);
  out["best_params"] = params;
  out["best_value"] = best.best_value;
  out["best_trial"] = best.index;
  return out;
}

inline void BindTune(py::module_& m) {
  m.def("tune", &Tune, py::arg("base_flags"), py::arg("data"), py::arg("space"), py::arg("trials"),
        py::arg("budget_seconds"), py::arg("eta"), py::arg("eval_every"), py::arg("metric"),
        py::arg("on_trial"));
}

}  // namespace directspec::python
