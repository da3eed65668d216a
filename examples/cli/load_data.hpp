// directspec-train's data path, from Settings to a Dataset: --input (read a raw log, filter,
// split: data/prepare.hpp), --data / --train --test (the loaders of data/dataset.hpp, or the
// synthetic dataset without either), then --valid-fraction (carve validation from train) and
// --subsample. The Python module (python/) loads through the same functions, so both give the
// same data for the same settings.
#pragma once

#include <optional>
#include <sstream>
#include <string>

#include "directspec/data.hpp"
#include "phase.hpp"
#include "settings.hpp"

namespace directspec_cli {

using namespace directspec;

/// --input: reads the raw log, filters and splits it (data/prepare.hpp).
inline PreparedData PrepareInput(const Settings& s) {
  const Phase phase("preparing --input " + s.input);
  RawLogOptions read;
  read.columns = ParseColumnSpec(s.columns);
  PrepareOptions prep;
  prep.min_rating = s.min_rating;
  prep.duplicates = s.duplicates == "keep"    ? DuplicatePolicy::kKeep
                    : s.duplicates == "first" ? DuplicatePolicy::kFirst
                    : s.duplicates == "last"  ? DuplicatePolicy::kLast
                                              : DuplicatePolicy::kMerge;
  prep.kcore_users = s.kcore_users;
  prep.kcore_items = s.kcore_items;
  prep.split = ParseLogSplitSpec(s.split);
  prep.valid_fraction = s.valid_fraction;
  prep.seed = s.seed;
  return PrepareDataset(ReadRawLog(s.input, read), prep);
}

inline Dataset LoadData(const Settings& s) {
  const Phase phase("loading the data");
  DatasetOptions options;
  options.allow_empty_test = false;
  if (s.ids == "remap") options.parse.ids = IdPolicy::kRemap;
  options.sparse_ids_advice = "add --ids remap to map the raw ids to dense ones";
  if (!s.data.empty()) {
    // A folder written by --write-split holds raw ids: it loads remapped, as it was written.
    const bool split_directory = IsSplitDirectory(s.data);
    if (split_directory) options.parse.ids = IdPolicy::kRemap;
    auto files = FindDatasetFiles(s.data);
    if (!s.valid.empty()) files.valid = s.valid;
    Dataset d = LoadDataset(files, options);
    d.report.source = s.data;
    if (split_directory && s.ids != "remap")
      d.report.notes.push_back("ids remapped: the folder holds a split written by --write-split");
    return d;
  }
  if (!s.train.empty()) {
    DatasetFiles files{s.train, s.test, std::nullopt};
    if (!s.valid.empty()) files.valid = s.valid;
    return LoadDataset(files, options);
  }
  SyntheticOptions synthetic;
  synthetic.seed = 1;
  return MakeSyntheticDataset(synthetic);
}

/// --valid-fraction with --data / --train: carves the validation set from train.
inline void CarveValidationSet(Dataset& data, const Settings& s) {
  if (s.valid_fraction <= 0 || !s.input.empty()) return;  // --input carves it while splitting
  if (data.valid)
    throw UsageError(
        "--valid-fraction carves a validation set from train, but the data already have one "
        "(valid.csv in the --data folder): drop --valid-fraction or the file");
  CarveValidation(data, s.valid_fraction, s.seed);
  if (!data.valid || data.valid->Nnz() == 0)
    throw UsageError("bad value for --valid-fraction: '" +
                     (std::ostringstream() << s.valid_fraction).str() +
                     "' holds out no train interaction (too few per user)");
}

/// Keeps a random fraction of the train interactions (--subsample), for scaling runs.
inline void SubsampleTrain(Dataset& data, const Settings& s) {
  if (s.subsample >= 1) return;
  data.train = Subsample(data.train, s.subsample, s.seed);
  if (data.train.Nnz() == 0)
    throw UsageError("bad value for --subsample: '" + (std::ostringstream() << s.subsample).str() +
                     "' keeps none of the train interactions");
  data.report.notes.push_back("train subsampled to " + std::to_string(data.train.Nnz()) +
                              " interactions (--subsample " + std::to_string(s.subsample) + ")");
}

}  // namespace directspec_cli
