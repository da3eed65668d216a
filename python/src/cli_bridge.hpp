// The Python module's one window onto directspec-train (examples/cli/): the settings struct and
// its flag parser (validation, presets), the trainer factory, the data path and the checkpoint
// writer. The bindings build trainers and load data only through these names, so a fit from
// Python is the CLI's run, and a rename in examples/cli/ is one edit here.
#pragma once

#include "cli/checkpointing.hpp"
#include "cli/load_data.hpp"
#include "cli/resource_check.hpp"
#include "cli/settings.hpp"
#include "cli/trainer_factory.hpp"

namespace directspec::python::bridge {

using Scalar = ::directspec::cli::CliScalar;
using ::directspec::cli::CarveValidationSet;
using ::directspec::cli::CheckpointWriter;
using ::directspec::cli::ClampBatch;
using ::directspec::cli::LoadData;
using ::directspec::cli::ParseSettings;
using ::directspec::cli::PrepareInput;
using ::directspec::cli::Presets;
using ::directspec::cli::RunFingerprint;
using ::directspec::cli::Settings;
using ::directspec::cli::SubsampleTrain;
using ::directspec::cli::UsageError;
using ::directspec::cli::VisitTrainer;

}  // namespace directspec::python::bridge
