// Memory estimate of a whole run, computed before anything is allocated: the embedding tables,
// optimizer state, per-step workspaces (including the B x B Gram of the softmax filters), the
// LightGCN graph and propagation levels, evaluation and recommendation tiles and the spectrum
// report. A front end (the CLI) compares it with the memory the machine has and refuses a run
// that cannot fit, naming the setting responsible, instead of dying in the allocator later.
//
// This header sits above train/ and eval/: it describes their workspaces by formula (each term
// names the component it stands for) and includes only what it reuses. The formulas are upper
// bounds of the steady state (largest batch, every node within reach of LightGCN's frontiers);
// tests/test_resources.cpp checks them against the measured peak of real runs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "directspec/core/types.hpp"
#include "directspec/eval/spectrum.hpp"

namespace directspec {

enum class EncoderKind { kMF, kLightGCN };
enum class FilterKind { kNone, kDirectSpec, kDirectSpecPlus, kAdaptive };
enum class OptimizerKind { kSgd, kAdam };

/// Everything that sizes a run: data shape, model, step, evaluation and outputs.
struct RunShape {
  // data
  Index users = 0;
  Index items = 0;
  Index train_nnz = 0;  // unique train interactions
  Index test_nnz = 0;
  Index valid_nnz = 0;
  Index max_user_degree = 0;  // adaptive filter: neighbours a batch row can bring into the mask
  Index max_item_degree = 0;
  // model and step
  EncoderKind encoder = EncoderKind::kMF;
  Index dim = 64;
  Index layers = 3;  // LightGCN only
  FilterKind filter = FilterKind::kDirectSpecPlus;
  bool normalize_rows = true;  // RowNormalizer before the filter
  bool shrink = false;         // NormShrink after it (s > 0)
  Index batch = 256;
  Index micro_batches = 1;  // M filter batches per update (Trainer::Options::micro_batches)
  Index negatives = 0;      // per positive
  OptimizerKind optimizer = OptimizerKind::kSgd;
  Index scalar_bytes = 4;  // sizeof(float)
  int threads = 1;
  // evaluation (EvalOptions defaults) and outputs
  Index eval_depth = 20;  // max(--topk), capped at items by the evaluator
  Index eval_user_batch = 128;
  Index eval_item_tile = 1024;
  bool early_stopping = false;  // a second evaluator and a snapshot of the best tables
  bool spectrum = true;         // effective rank at each report
  Index recommend_k = 0;        // 0: no recommendations
  Index recommend_user_batch = 256;
  bool save_model = false;  // the serialised model is built in memory before it is written
  bool checkpoint = false;  // checkpoints (io/checkpoint.hpp) are built in memory too
  Index sampled_rows = 0;   // rows per table kept by LearningSignals (train/learning_signals.hpp)
};

/// The settings a term grows with, so a refusal can name what to change: a set of these bits.
enum MemoryDriver : unsigned {
  kDriverData = 1u,           // users, items, interactions
  kDriverDim = 2u,            // d
  kDriverBatch = 4u,          // B
  kDriverNegatives = 8u,      // negatives per positive
  kDriverLayers = 16u,        // LightGCN K
  kDriverEvalDepth = 32u,     // largest evaluation cut-off
  kDriverRecommendK = 64u,    // recommendations per user
  kDriverThreads = 128u,      // OpenMP threads (per-thread tiles)
  kDriverMicroBatches = 256u  // micro-batches per update
};

struct MemoryItem {
  std::string what;      // e.g. "B x B filter Gram"
  unsigned drivers = 0;  // MemoryDriver bits
  double bytes = 0;
  /// Transient terms live only during one phase (an evaluation, the spectrum, writing
  /// recommendations); phases do not overlap, so only the largest counts towards the peak.
  bool transient = false;
};

struct MemoryEstimate {
  std::vector<MemoryItem> items;

  /// Persistent terms plus the largest transient one.
  double PeakBytes() const {
    double persistent = 0, transient = 0;
    for (const auto& item : items) {
      if (item.transient)
        transient = std::max(transient, item.bytes);
      else
        persistent += item.bytes;
    }
    return persistent + transient;
  }

  /// The largest single term (the one to name when the run does not fit).
  const MemoryItem& Largest() const {
    return *std::max_element(
        items.begin(), items.end(),
        [](const MemoryItem& a, const MemoryItem& b) { return a.bytes < b.bytes; });
  }
};

/// Estimates the peak heap memory of a run of this shape, in bytes (doubles, so absurd settings
/// such as B = 2^31 give a number instead of an overflow).
inline MemoryEstimate EstimateMemory(const RunShape& r) {
  auto D = [](Index v) { return static_cast<double>(std::max<Index>(v, 0)); };
  const double s = D(r.scalar_bytes), d = D(r.dim), n = D(r.users), m = D(r.items);
  const double nodes = n + m, nnz = D(r.train_nnz), threads = std::max(1.0, D(r.threads));
  const double b_users = D(r.batch), b_items = D(r.batch) * (1.0 + D(r.negatives));
  const bool lightgcn = r.encoder == EncoderKind::kLightGCN;
  const unsigned batch = kDriverBatch | (r.negatives > 0 ? kDriverNegatives : 0u);
  const unsigned table = kDriverData | kDriverDim;
  MemoryEstimate e;
  auto add = [&](std::string what, unsigned drivers, double bytes, bool transient = false) {
    e.items.push_back({std::move(what), drivers, bytes, transient});
  };
  auto csr = [](double rows, double entries) { return 8.0 * (rows + 1.0) + 4.0 * entries; };

  // Tables (models/mf.hpp, models/lightgcn.hpp: one (n + m) x d table either way), the copies
  // InferenceEmbeddings hands to the reports and outputs, and the optimizer's moments
  // (optim/adam.hpp: two tables and a step count per row).
  add("embedding tables", table, nodes * d * s);
  add("inference copies of the tables", table, nodes * d * s);
  if (r.optimizer == OptimizerKind::kAdam)
    add("Adam moments", table, 2.0 * nodes * d * s + 8.0 * nodes);

  // The item -> users transpose of train, built at the start of training (data/interactions.hpp)
  // and the sampler's per-entry and per-user lists (samplers/batch_sampler.hpp).
  add("train transpose and sampler lists", kDriverData, csr(m, nnz) + 4.0 * (nnz + n));

  // Per-step workspaces on each side, rows x d each (train/trainer.hpp): the encoder's rows x,
  // the filter output y, the loss gradient and the filter's input gradient; with the normaliser
  // x̂, its copy and its input gradient; with a filter its copy of x̂; with shrink o, its copy of
  // y and its input gradient; LightGCN's propagated rows and their gradient.
  const double stages = 4.0 + (r.normalize_rows ? 3.0 : 0.0) +
                        (r.filter != FilterKind::kNone ? 1.0 : 0.0) + (r.shrink ? 3.0 : 0.0) +
                        (lightgcn ? 2.0 : 0.0);
  add("batch workspaces (B x d per stage)", batch | kDriverDim,
      stages * (b_users + b_items) * d * s);

  // Filters (filters/): the softmax kernel keeps P and W, two R x R matrices per side; linear
  // DirectSpec keeps three Grams of the smaller of R x R and d x d; the adaptive filter's share
  // mask is R x R bits plus one R-bit set per column shared by two batch rows.
  auto gram = [&](double rows) {
    switch (r.filter) {
      case FilterKind::kDirectSpecPlus:
      case FilterKind::kAdaptive:
        return 2.0 * rows * rows * s;
      case FilterKind::kDirectSpec: {
        const double k = std::min(rows, d);
        return 3.0 * k * k * s;
      }
      case FilterKind::kNone:
        break;
    }
    return 0.0;
  };
  if (r.filter != FilterKind::kNone) {
    add(r.filter == FilterKind::kDirectSpec ? "filter Gram (B x B or d x d)" : "B x B filter Gram",
        batch | (r.filter == FilterKind::kDirectSpec ? kDriverDim : 0u),
        gram(b_users) + gram(b_items));
  }
  if (r.filter == FilterKind::kAdaptive) {
    auto mask = [&](double rows, Index max_degree, double columns) {
      const double entries = rows * D(max_degree);
      return rows * rows / 8.0 + entries * rows / 16.0 + 8.0 * entries + 4.0 * columns;
    };
    add("adaptive share masks", batch | kDriverData,
        mask(b_users, r.max_user_degree, m) + mask(b_items, r.max_item_degree, n));
  }

  // LightGCN (graph/normalized_adjacency.hpp, models/propagation.hpp): Â with both directions
  // of every edge, two (n + m) x d level buffers, the gradient over the K-hop neighbourhood (at
  // most every node), one frontier per layer (at most every node), markers and positions; and
  // the whole-graph propagation of InferenceEmbeddings (three (n + m) x d buffers, transient).
  // Micro-batches (train/trainer.hpp): the encoder rows and their gradients for all M batches
  // of an update, two M x rows x d matrices per side.
  const double micro = std::max(1.0, D(r.micro_batches));
  if (micro > 1)
    add("micro-batch group rows (M x B x d)", batch | kDriverDim | kDriverMicroBatches,
        2.0 * micro * (b_users + b_items) * d * s);
  if (lightgcn) {
    add("LightGCN adjacency", kDriverData, 8.0 * (nodes + 1.0) + 2.0 * nnz * (4.0 + s));
    add("LightGCN level buffers and gradient", table, 3.0 * nodes * d * s);
    add("LightGCN frontiers", kDriverLayers | kDriverData,
        D(r.layers) * (4.0 * nodes + 24.0) + 14.0 * nodes + s * D(r.layers + 1));
    add("LightGCN full propagation", table, 3.0 * nodes * d * s, true);
  } else {
    add("gradient rows", batch | kDriverDim | (micro > 1 ? kDriverMicroBatches : 0u),
        micro * (b_users + b_items) * (d * s + 4.0) + 4.0 * nodes);
  }

  // Evaluation (eval/evaluator.hpp): copies of train and test, the top lists of every test user
  // (depth capped at the catalogue) and per thread the selectors and the score tile. A second
  // evaluator on the validation set and a snapshot of the best tables for early stopping.
  const double depth = std::min(D(r.eval_depth), m);
  const double evaluator = csr(n, nnz) + csr(n, D(r.test_nnz)) + 12.0 * n;
  add("evaluator copies of the data", kDriverData, evaluator);
  // Per-thread tiles name --threads too when they are most of a phase.
  auto per_thread = [](double shared, double tiles) {
    return tiles > shared ? kDriverThreads : 0u;
  };
  const double eval_lists = n * (4.0 * depth + 8.0) + 8.0 * m;
  const double eval_tiles = threads * D(r.eval_user_batch) *
                            (8.0 * depth + 24.0 + (d + std::min(D(r.eval_item_tile), m)) * s);
  add("evaluation lists and tiles",
      kDriverEvalDepth | kDriverData | per_thread(eval_lists, eval_tiles), eval_lists + eval_tiles,
      true);
  if (r.early_stopping) {
    add("early stopping evaluator and best tables", table,
        csr(n, nnz) + csr(n, D(r.valid_nnz)) + 12.0 * n + nodes * d * s);
  }

  // The effective rank of every report (eval/spectrum.hpp: a Gram of the smaller side).
  if (r.spectrum)
    add("spectrum Gram", table, SpectrumWorkspaceBytes(r.users + r.items, r.dim), true);

  // Recommendations (serve/recommend.hpp): k (at most the catalogue) scored items per user, and
  // per thread a user batch's rows and its scores against every item.
  if (r.recommend_k > 0) {
    const double k = std::min(D(r.recommend_k), m), batch = D(r.recommend_user_batch);
    const double lists = n * (k * 8.0 + 24.0) + (1 << 20);  // and the CSV writer's buffer
    const double tiles = threads * (batch * (m + d) * s + k * 8.0);
    add("recommendation lists and score rows",
        kDriverRecommendK | kDriverData | per_thread(lists, tiles), lists + tiles, true);
  }
  if (r.save_model) add("serialised model", table, nodes * d * s + 64.0 * nodes, true);
  // A checkpoint holds the tables, Adam's two moments (and step counts), early stopping's best
  // tables and the learning-signal rows; SaveCheckpoint keeps them twice while it writes (the
  // state archive and its serialised bytes), LoadCheckpoint likewise while it reads.
  if (r.checkpoint) {
    const double copies =
        1.0 + (r.optimizer == OptimizerKind::kAdam ? 2.0 : 0.0) + (r.early_stopping ? 1.0 : 0.0);
    const double adam_steps = r.optimizer == OptimizerKind::kAdam ? 8.0 * nodes : 0.0;
    add("checkpoint state and bytes", table, 2.0 * (copies * nodes * d * s + adam_steps), true);
  }
  if (r.sampled_rows > 0) {
    const double tables = lightgcn ? 1.0 : 2.0;
    add("learning-signal rows", kDriverDim,
        tables * std::min(D(r.sampled_rows), lightgcn ? nodes : std::max(n, m)) * d * 4.0);
  }

  // What no term above lists: allocator rounding and fragmentation, Eigen's GEMM blocking
  // buffers, the OpenMP runtime. Measured below 5 % plus a few MiB (tests/test_resources.cpp).
  add("allocator and runtime slack", kDriverData, 0.05 * e.PeakBytes() + 16.0 * (1 << 20));
  return e;
}

/// "512 B", "3.1 MiB", "1.2 TiB": binary units, two or three significant digits.
inline std::string FormatBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 6) {
    bytes /= 1024.0;
    ++u;
  }
  char buffer[32];
  if (u == 0)
    std::snprintf(buffer, sizeof buffer, "%.0f B", bytes);
  else
    std::snprintf(buffer, sizeof buffer, bytes < 10 ? "%.1f %s" : "%.0f %s", bytes, units[u]);
  return buffer;
}

}  // namespace directspec
