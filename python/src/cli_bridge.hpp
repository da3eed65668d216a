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

using Scalar = ::directspec_cli::CliScalar;
using ::directspec_cli::Assignment;
using ::directspec_cli::CarveValidationSet;
using ::directspec_cli::CheckpointWriter;
using ::directspec_cli::ClampBatch;
using ::directspec_cli::DefaultSpaceText;
using ::directspec_cli::Leaderboard;
using ::directspec_cli::LoadData;
using ::directspec_cli::ParseSettings;
using ::directspec_cli::ParseSpace;
using ::directspec_cli::PrepareInput;
using ::directspec_cli::Presets;
using ::directspec_cli::RunFingerprint;
using ::directspec_cli::RunSearch;
using ::directspec_cli::SearchSpace;
using ::directspec_cli::Settings;
using ::directspec_cli::StatusName;
using ::directspec_cli::SubsampleTrain;
using ::directspec_cli::TrainingObjective;
using ::directspec_cli::TrialRecord;
using ::directspec_cli::TunerOptions;
using ::directspec_cli::UsageError;
using ::directspec_cli::VisitTrainer;

}  // namespace directspec::python::bridge
