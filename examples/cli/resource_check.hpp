// directspec-train's resource rules, applied after the data is loaded and before anything large
// is allocated (docs/reliability.md "Resources"): the batch is clamped to the train rows, the
// run's peak memory is estimated (resources/memory_estimate.hpp) and a run that does not fit in
// what the machine has (or in --max-memory) is refused with a UsageError naming the flag that
// makes it large.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "directspec/data/dataset.hpp"
#include "directspec/resources/available_memory.hpp"
#include "directspec/resources/memory_estimate.hpp"
#include "directspec/train/learning_signals.hpp"
#include "settings.hpp"

namespace directspec_cli {

// The CLI is a client of the library, written in its vocabulary; it adds nothing to it.
using namespace directspec;

/// The shape of the run the settings describe on this data.
inline RunShape ShapeOf(const Settings& s, const Dataset& data, int threads) {
  RunShape r;
  r.users = data.Users();
  r.items = data.Items();
  r.train_nnz = data.train.Nnz();
  r.test_nnz = data.test.Nnz();
  r.valid_nnz = data.valid ? data.valid->Nnz() : 0;
  for (Index u = 0; u < data.Users(); ++u)
    r.max_user_degree = std::max(r.max_user_degree, data.train.UserDegree(u));
  if (s.filter == "adaptive")
    for (Index degree : data.train.ItemDegrees())
      r.max_item_degree = std::max(r.max_item_degree, degree);
  r.encoder = s.model == "lightgcn" ? EncoderKind::kLightGCN : EncoderKind::kMF;
  r.dim = s.dim;
  r.layers = s.layers;
  r.filter = s.filter == "none"          ? FilterKind::kNone
             : s.filter == "directspec"  ? FilterKind::kDirectSpec
             : s.filter == "directspec+" ? FilterKind::kDirectSpecPlus
                                         : FilterKind::kAdaptive;
  r.normalize_rows = s.normalize;
  r.shrink = s.shrink > 0;
  r.batch = s.batch;
  r.micro_batches = s.micro_batches;
  r.negatives = s.loss == "bpr" ? s.negatives : 0;
  r.optimizer = s.optimizer == "adam" ? OptimizerKind::kAdam : OptimizerKind::kSgd;
  r.scalar_bytes = sizeof(float);
  r.threads = std::max(threads, 1);
  r.eval_depth = *std::max_element(s.topk.begin(), s.topk.end());
  r.early_stopping = !s.early_stop.empty();
  r.recommend_k = s.recommend_out.empty() ? 0 : s.k;
  r.save_model = !s.save_model.empty();
  r.checkpoint = !s.checkpoint.empty() || !s.resume.empty();
  r.sampled_rows = LearningSignals::Options{}.sample_rows;  // the learning warnings' samples
  return r;
}

/// A batch larger than the train rows only repeats rows (and steps per epoch would round to
/// one): it is clamped to the rows, with a note for the report. Returns the note, or "".
inline std::string ClampBatch(Settings& s, const Dataset& data) {
  const Index rows = data.train.SourceRows();
  if (rows <= 0 || s.batch <= rows) return "";
  s.batch_given = s.batch;
  s.batch = static_cast<int>(rows);
  return "--batch " + std::to_string(s.batch_given) + " is larger than the " +
         std::to_string(rows) + " train rows; using --batch " + std::to_string(s.batch);
}

/// "--batch 4096 and --dim 5000", "the data (...)": the flags (and values) a memory term grows
/// with, the data last.
inline std::string FlagsFor(unsigned drivers, const Settings& s, const RunShape& r) {
  std::vector<std::string> flags;
  if (drivers & kDriverBatch)
    flags.push_back("--batch " + (s.batch_given > 0
                                      ? std::to_string(s.batch_given) + " (clamped to the " +
                                            std::to_string(s.batch) + " train rows)"
                                      : std::to_string(s.batch)));
  if (drivers & kDriverMicroBatches)
    flags.push_back("--micro-batches " + std::to_string(s.micro_batches));
  if (drivers & kDriverNegatives) flags.push_back("--negatives " + std::to_string(s.negatives));
  if (drivers & kDriverDim) flags.push_back("--dim " + std::to_string(s.dim));
  if (drivers & kDriverLayers) flags.push_back("--layers " + std::to_string(s.layers));
  if (drivers & kDriverEvalDepth) {
    std::string list;
    for (int k : s.topk) list += (list.empty() ? "" : ",") + std::to_string(k);
    flags.push_back("--topk " + list);
  }
  if (drivers & kDriverRecommendK) flags.push_back("--k " + std::to_string(s.k));
  if (drivers & kDriverThreads) flags.push_back("--threads " + std::to_string(r.threads));
  const std::string data = std::to_string(r.users) + " users x " + std::to_string(r.items) +
                           " items, " + std::to_string(r.train_nnz) + " train interactions";
  if (flags.empty()) return "the data (" + data + ")";
  std::string out;
  for (std::size_t f = 0; f < flags.size(); ++f)
    out += (f == 0 ? "" : f + 1 == flags.size() ? " and " : ", ") + flags[f];
  return (drivers & kDriverData) ? out + " on " + data : out;
}

/// Refuses a run whose estimated peak exceeds --max-memory or, without it, the available memory
/// (skipped when that cannot be read). Returns the estimate for the report.
inline MemoryEstimate CheckMemory(const Settings& s, const RunShape& shape,
                                  const std::optional<AvailableMemory>& available) {
  MemoryEstimate estimate = EstimateMemory(shape);
  const double need = estimate.PeakBytes();
  std::string limit;
  double cap = 0;
  if (s.max_memory > 0) {
    cap = s.max_memory;
    limit = "--max-memory allows " + FormatBytes(cap);
  } else if (available) {
    cap = available->bytes;
    limit = "this machine has " + FormatBytes(cap) + " available (" + available->source +
            "; --max-memory to set a cap)";
  }
  if (cap <= 0 || need <= cap) return estimate;
  const MemoryItem& largest = estimate.Largest();
  throw UsageError(FlagsFor(largest.drivers, s, shape) + " needs about " + FormatBytes(need) +
                   " (" + FormatBytes(largest.bytes) + " for the " + largest.what + "); " + limit);
}

}  // namespace directspec_cli
