// directspec-tune's search loop, independent of what a trial trains: it draws settings from a
// SearchSpace (search_space.hpp), hands each to an objective that trains and reports its
// validation metric at chosen epochs, and stops trials early by successive halving over epochs
// (the stopping form of asynchronous successive halving: at each rung a trial continues only
// while it is in the top 1/eta of every trial that reached that rung before it). Diverged and
// failed trials are recorded and never end the search. The real objective (training on the
// validation split) is in tune_objective.hpp; tests drive this loop with fake ones.
//
// Determinism: trial k's setting depends only on the seed and trials 0..k-1, and the halving
// decisions only on earlier trials, so --trials N gives the same trials for a seed and thread
// count. A time budget only decides how many trials start (checked between trials).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "directspec/core/rng.hpp"
#include "search_space.hpp"

namespace directspec_cli {

// The CLI is a client of the library, written in its vocabulary; it adds nothing to it.
using namespace directspec;

/// Epochs at which trials face a halving decision: min, min*eta, min*eta^2, ... below max, then
/// max. `eta` >= 2.
inline std::vector<int> Rungs(int min_epochs, int max_epochs, int eta) {
  std::vector<int> rungs;
  for (long long r = min_epochs; r < max_epochs; r *= eta) rungs.push_back(static_cast<int>(r));
  rungs.push_back(max_epochs);
  return rungs;
}

/// Epochs at which a trial is evaluated: every rung and every multiple of `every` up to max.
inline std::vector<int> EvalEpochs(const std::vector<int>& rungs, int every) {
  std::vector<int> epochs = rungs;
  if (every > 0)
    for (int e = every; e < rungs.back(); e += every) epochs.push_back(e);
  std::sort(epochs.begin(), epochs.end());
  epochs.erase(std::unique(epochs.begin(), epochs.end()), epochs.end());
  return epochs;
}

/// The results every trial reported at each rung, and the halving rule over them.
class HalvingBoard {
 public:
  explicit HalvingBoard(int eta) : eta_(eta) {}

  /// Records `value` at `rung` and says whether the trial continues: its value must rank within
  /// the best max(1, floor(n / eta)) of the n values recorded at that rung (earlier ones win
  /// ties), so the first trial at a rung always continues.
  bool Promote(int rung, double value) {
    auto& values = values_[rung];
    values.push_back(value);
    const auto better =
        std::count_if(values.begin(), values.end() - 1, [&](double v) { return v >= value; });
    const auto keep =
        std::max<std::ptrdiff_t>(1, static_cast<std::ptrdiff_t>(values.size()) / eta_);
    return better < keep;
  }

  std::size_t Count(int rung) const {
    const auto it = values_.find(rung);
    return it == values_.end() ? 0 : it->second.size();
  }

 private:
  int eta_;
  std::map<int, std::vector<double>> values_;
};

enum class TrialStatus { kCompleted, kStopped, kDiverged, kFailed };

inline const char* StatusName(TrialStatus s) {
  switch (s) {
    case TrialStatus::kCompleted:
      return "completed";
    case TrialStatus::kStopped:
      return "stopped";
    case TrialStatus::kDiverged:
      return "diverged";
    case TrialStatus::kFailed:
      return "failed";
  }
  return "?";
}

/// What the objective says about one trial besides the values it reported.
struct TrialOutcome {
  bool diverged = false;
  std::string message;  // why it diverged
  int epochs_trained = 0;
};

/// One trial of the search.
struct TrialRecord {
  int index = 0;  // 1-based
  Assignment assignment;
  std::string origin;  // "random" or "near trial K"
  TrialStatus status = TrialStatus::kCompleted;
  std::string message;  // divergence or failure reason
  int epochs_trained = 0;
  std::vector<std::pair<int, double>> curve;  // (epoch, validation metric)
  double best_value = -std::numeric_limits<double>::infinity();
  int best_epoch = 0;
  double seconds = 0;

  /// Ranked trials: finite best value, not diverged or failed.
  bool Ranked() const {
    return std::isfinite(best_value) && status != TrialStatus::kDiverged &&
           status != TrialStatus::kFailed;
  }
};

struct TunerOptions {
  int trials = 0;             // most trials; 0: no limit (then a budget is needed)
  double budget_seconds = 0;  // no trial starts after this; 0: no limit
  int eta = 3;                // halving rate
  int eval_every = 0;         // evaluate every N epochs too; 0: the first rung
  std::uint64_t seed = 0;
  int random_trials = 8;  // the first trials are uniform draws; then every other trial
  int parents = 3;        // perturbs one of the best `parents` trials so far
  double perturb_scale = 0.1;
};

/// Best first: higher value, then earlier trial. Unranked trials last, in trial order.
inline std::vector<const TrialRecord*> Leaderboard(const std::vector<TrialRecord>& trials) {
  std::vector<const TrialRecord*> order;
  for (const auto& t : trials) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const TrialRecord* a, const TrialRecord* b) {
    if (a->Ranked() != b->Ranked()) return a->Ranked();
    if (!a->Ranked()) return false;
    return a->best_value > b->best_value;
  });
  return order;
}

namespace detail {
inline constexpr std::uint64_t kSpaceStream = 0x5455'4E45'0000'0000ull;  // "TUNE"
}

/// Runs the search. `objective(assignment, max_epochs, eval_epochs, observe)` trains one setting,
/// calls `observe(epoch, value)` at each epoch of `eval_epochs` it reaches (stopping when it
/// returns false) and returns a TrialOutcome; an exception it throws fails that trial only.
/// `on_trial(record, total_trials_so_far)` is called after each trial (progress lines).
template <class Objective, class OnTrial>
std::vector<TrialRecord> RunSearch(const SearchSpace& space, const TunerOptions& options,
                                   Objective&& objective, OnTrial&& on_trial) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto rungs = Rungs(space.min_epochs, space.max_epochs, std::max(2, options.eta));
  const auto eval_epochs =
      EvalEpochs(rungs, options.eval_every > 0 ? options.eval_every : space.min_epochs);
  HalvingBoard board(std::max(2, options.eta));
  std::vector<TrialRecord> trials;
  for (int t = 0;; ++t) {
    if (options.trials > 0 && t >= options.trials) break;
    if (options.budget_seconds > 0 &&
        std::chrono::duration<double>(Clock::now() - start).count() >= options.budget_seconds)
      break;
    if (options.trials <= 0 && options.budget_seconds <= 0) break;

    TrialRecord rec;
    rec.index = t + 1;
    auto engine = MakeStream(options.seed, detail::kSpaceStream + static_cast<std::uint64_t>(t));
    bool fresh = false;
    for (int attempt = 0; attempt < 20 && !fresh; ++attempt) {
      const auto ranked = Leaderboard(trials);
      std::vector<const TrialRecord*> parents;
      for (const auto* r : ranked)
        if (r->Ranked() && static_cast<int>(parents.size()) < options.parents) parents.push_back(r);
      if (t >= options.random_trials && t % 2 == 1 && !parents.empty()) {
        const auto* parent = parents[static_cast<std::size_t>(t / 2) % parents.size()];
        rec.assignment = space.Perturb(parent->assignment, options.perturb_scale, engine);
        rec.origin = "near trial " + std::to_string(parent->index);
      } else {
        rec.assignment = space.Sample(engine);
        rec.origin = "random";
      }
      fresh = std::none_of(trials.begin(), trials.end(),
                           [&](const TrialRecord& o) { return o.assignment == rec.assignment; });
    }
    if (!fresh) break;  // the space has no setting left that was not tried

    bool halted = false;
    auto observe = [&](int epoch, double value) {
      rec.curve.emplace_back(epoch, value);
      if (!std::isfinite(value)) {
        rec.status = TrialStatus::kDiverged;
        rec.message = "the validation metric is " + std::to_string(value) + " at epoch " +
                      std::to_string(epoch);
        return false;
      }
      if (value > rec.best_value) {
        rec.best_value = value;
        rec.best_epoch = epoch;
      }
      if (epoch < rungs.back() && std::binary_search(rungs.begin(), rungs.end() - 1, epoch) &&
          !board.Promote(epoch, rec.best_value)) {
        halted = true;
        return false;
      }
      return true;
    };
    const auto trial_start = Clock::now();
    try {
      const TrialOutcome out = objective(rec.assignment, space.max_epochs, eval_epochs, observe);
      rec.epochs_trained = out.epochs_trained;
      if (out.diverged) {
        rec.status = TrialStatus::kDiverged;
        rec.message = out.message;
      } else if (rec.status != TrialStatus::kDiverged) {
        rec.status = halted ? TrialStatus::kStopped : TrialStatus::kCompleted;
      }
    } catch (const std::exception& e) {
      rec.status = TrialStatus::kFailed;
      rec.message = e.what();
    }
    rec.seconds = std::chrono::duration<double>(Clock::now() - trial_start).count();
    trials.push_back(std::move(rec));
    on_trial(trials.back());
  }
  return trials;
}

}  // namespace directspec_cli
