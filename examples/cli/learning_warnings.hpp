// directspec-train's check for runs that end without an error but without a model: the loss
// never left its starting value, or the final recall is no better than a random ranking. Each
// becomes a warning (stderr and the JSON log's "warnings") with the likely cause in terms of
// the flags; the exit code stays 0. The measurements come from the library
// (train/learning_signals.hpp, eval/chance_level.hpp); the rules and thresholds are here and in
// docs/cli.md "Warnings".
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "directspec/eval/chance_level.hpp"
#include "directspec/eval/eval_result.hpp"
#include "directspec/train/learning_signals.hpp"
#include "settings.hpp"

namespace directspec_cli {

// The CLI is a client of the library, written in its vocabulary; it adds nothing to it.
using namespace directspec;

namespace detail {

/// "1 epoch", "2 epochs".
inline std::string Count(long long n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

inline std::string Rounded(double v, int digits = 4) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, v);
  return buffer;
}

/// Softmax weight a row keeps on itself in a batch of B unit rows that are about orthogonal to
/// each other: e^τ / (e^τ + B - 1). Near 1 the filter outputs about (1 - α) x̂: nothing.
inline double SelfWeight(double tau, int batch) {
  if (tau > 700) return 1.0;
  return 1.0 / (1.0 + (batch - 1) * std::exp(-tau));
}

/// The likely causes, in terms of the flags: a learning rate that blew the tables up, settings
/// that zero the signal (τ, d), else a rate too small to move the tables, else a run too short.
inline std::string Causes(const Settings& s, const LearningMeasurement& m) {
  std::vector<std::string> causes;
  if (m.norm_growth > 1e3)
    causes.push_back("--lr " + Rounded(s.lr) + " is too large (the tables grew " +
                     Rounded(m.norm_growth) +
                     "-fold, and normalised rows then get vanishing gradients)");
  const bool softmax = s.filter == "directspec+" || s.filter == "adaptive";
  const double tau = s.filter == "adaptive" ? s.tau0 : s.tau;
  if (softmax && SelfWeight(tau, s.batch) > 0.9 && s.alpha > 0.5)
    causes.push_back(std::string(s.filter == "adaptive" ? "--tau0 " : "--tau ") + Rounded(tau) +
                     " is too large (each row's softmax keeps " +
                     Rounded(100 * SelfWeight(tau, s.batch)) +
                     " % of its weight on itself, so the filter outputs almost nothing)");
  if (s.dim <= 2)
    causes.push_back("--dim " + std::to_string(s.dim) + " is too small to tell items apart");
  if (causes.empty() && m.relative_change < 1e-3)
    causes.push_back("--lr " + Rounded(s.lr) + " is too small (the tables moved by " +
                     Rounded(100 * m.relative_change) + " % of their norm)");
  if (causes.empty())
    causes.push_back("the run may be too short: the tables are moving (" +
                     Rounded(100 * m.relative_change) + " % of their norm after " +
                     Count(m.epochs, "epoch") + ", " + Count(m.steps, "step") +
                     "); train for more --epochs");
  std::string out;
  for (const auto& c : causes) out += (out.empty() ? "" : "; ") + c;
  return out;
}

}  // namespace detail

/// Relative distance from ln 2 below which a log or BPR loss counts as "not moved".
inline constexpr double kStalledLoss = 1e-4;

/// The warnings for a finished run (empty when it learned something).
///   result: the final metrics; chance: RandomRankingRecall at the largest --topk.
inline std::vector<std::string> LearningWarnings(const Settings& s, const LearningMeasurement& m,
                                                 const EvalResult& result,
                                                 const ChanceLevel& chance) {
  std::vector<std::string> warnings;
  const std::string causes = detail::Causes(s, m);
  // Scores start near 0, so the log and BPR losses start at ln 2. With --shrink the outputs are
  // scaled by s * ||y|| and the loss stays near ln 2 by design, so only the metrics can tell.
  const double ln2 = std::log(2.0);
  if ((s.loss == "log" || s.loss == "bpr") && s.shrink == 0 && m.epochs > 0 &&
      std::abs(m.last_epoch_loss - ln2) <= kStalledLoss * ln2)
    warnings.push_back("the loss did not move from its starting value ln 2 = 0.693147 (" +
                       detail::Rounded(m.last_epoch_loss, 7) + " after " +
                       detail::Count(m.epochs, "epoch") +
                       "): nothing was learned; likely cause: " + causes);
  // Recall at the largest cut-off against a random ranking of the same candidates; only when
  // chance is well below 1 (a 20-item catalogue at K = 20 is all hits either way).
  const int k = s.topk.empty() ? 0 : *std::max_element(s.topk.begin(), s.topk.end());
  const std::string name = "recall@" + std::to_string(k);
  for (const auto& [metric, value] : result.metrics) {
    if (metric != name || !(chance.mean > 0 && chance.mean < 0.25)) continue;
    const double bar = std::max(2 * chance.mean, chance.mean + 3 * chance.stddev);
    if (value <= bar)
      warnings.push_back(
          name + " " + detail::Rounded(value) + " is at chance level (a random ranking scores " +
          detail::Rounded(chance.mean) + "): nothing was learned; " + "likely cause: " + causes);
  }
  return warnings;
}

}  // namespace directspec_cli
