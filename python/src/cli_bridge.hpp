// The Python module's one window onto the command-line programs (examples/cli/): the settings
// struct and its flag parser (validation, presets), the trainer factory, the data path, the
// checkpoint writer and directspec-tune's search. The bindings build trainers, load data and
// tune only through these names, so a fit from Python is the CLI's run, and a rename in
// examples/cli/ is one edit here.
#pragma once

#include "cli/checkpointing.hpp"
#include "cli/load_data.hpp"
#include "cli/resource_check.hpp"
#include "cli/settings.hpp"
#include "cli/trainer_factory.hpp"
#include "cli/tune_objective.hpp"
#include "cli/tuner.hpp"

namespace directspec::python::bridge {

using Scalar = ::directspec::cli::CliScalar;
using ::directspec::cli::Assignment;
using ::directspec::cli::CarveValidationSet;
using ::directspec::cli::CheckpointWriter;
using ::directspec::cli::ClampBatch;
using ::directspec::cli::DefaultSpaceText;
using ::directspec::cli::Leaderboard;
using ::directspec::cli::LoadData;
using ::directspec::cli::ParseSettings;
using ::directspec::cli::ParseSpace;
using ::directspec::cli::PrepareInput;
using ::directspec::cli::Presets;
using ::directspec::cli::RunFingerprint;
using ::directspec::cli::RunSearch;
using ::directspec::cli::SearchSpace;
using ::directspec::cli::Settings;
using ::directspec::cli::StatusName;
using ::directspec::cli::SubsampleTrain;
using ::directspec::cli::TrainingObjective;
using ::directspec::cli::TrialRecord;
using ::directspec::cli::TunerOptions;
using ::directspec::cli::UsageError;
using ::directspec::cli::VisitTrainer;

}  // namespace directspec::python::bridge
