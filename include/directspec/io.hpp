// Umbrella header of the io layer: model files (SaveModel / LoadModel / ParseModel), training
// checkpoints (SaveCheckpoint / LoadCheckpoint), .npy export and import, split directories of
// prepared data, and the plumbing they share: atomic file and directory writes, output-path
// checks, temporary-file cleanup (after errors, handled signals and killed runs), checksums.
#pragma once

#include "directspec/io/atomic_dir.hpp"
#include "directspec/io/atomic_file.hpp"
#include "directspec/io/checkpoint.hpp"
#include "directspec/io/file_io.hpp"
#include "directspec/io/interaction_writers.hpp"
#include "directspec/io/io_error.hpp"
#include "directspec/io/model_file.hpp"
#include "directspec/io/npy.hpp"
#include "directspec/io/output_path.hpp"
#include "directspec/io/signal_cleanup.hpp"
#include "directspec/io/split_directory.hpp"
#include "directspec/io/temp_files.hpp"
