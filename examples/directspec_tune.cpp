// directspec-tune: searches directspec-train's settings on validation data. Loads the train
// part once (and valid.csv, or carves a validation part out of train), draws settings from a
// search space (cli/search_space.hpp), trains each in process with the CLI's own trainer
// construction (cli/trainer_factory.hpp), stops weak trials early by successive halving over
// epochs (cli/tuner.hpp), and writes the best setting as a preset file for
// `directspec-train --preset-file`. The test set is read only by --refit, after the search.
// `--help` lists every flag; docs/tuning.md is the manual.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "cli/json_line.hpp"
#include "cli/outputs.hpp"
#include "cli/phase.hpp"
#include "cli/preset_file.hpp"
#include "cli/resource_check.hpp"
#include "cli/search_space.hpp"
#include "cli/settings.hpp"
#include "cli/trainer_factory.hpp"
#include "cli/tune_objective.hpp"
#include "cli/tuner.hpp"
#include "directspec/directspec.hpp"

namespace ds = directspec;
namespace cli = directspec_cli;
using cli::JsonLine;
using cli::Settings;
using cli::UsageError;

namespace {

constexpr const char* kHelp =
    R"(directspec-tune: search directspec-train's settings on validation data

usage: directspec-tune [--data DIR | --train FILE --test FILE [--valid FILE]] [directspec-train flags]
                       [tune flags]       (the test file is read by --refit only)
       (no --data: the synthetic data set of directspec-train)

The directspec-train flags (--preset, --preset-file, --model, --filter, --loss, --optimizer,
--dim, --batch, --threads, --seed, --ids, ...) set the base setting; the search varies the
space's flags on top of it.

search     --space name=spec,...  (override or add to the default space of the base setting)
           --space-file FILE      (the same entries, one or more per line, # comments)
           --show-space           (print the space and exit)
           spec: lo:hi (uniform) | lo:hi:log | lo:hi:int | lo:hi:log-int | a|b|c | value (fixed)
           epochs=MIN:MAX is the fidelity: trials are evaluated and halved at MIN, MIN*eta, ...
budget     --trials N | --budget-minutes M (no trial starts after M minutes; both: first wins)
           --eta E (halving rate, default 3)  --eval-every N (default: the first rung)
validation --metric ndcg@20 (any metric of --topk)  --valid-fraction F (default 0.1, carved per
           user from train with --seed when the data has no valid.csv)
output     --json FILE (one line per trial)  --out FILE (best setting as a preset file)
           --top N (leaderboard rows, default 10)  --quiet (no progress lines)
refit      --refit: train the best setting on train + validation for its best epoch count and
           report its TEST metrics once (the only time the test file is read)
           --save-model FILE (with --refit: the refit model, with id maps and seen sets)
)";

/// Flags of directspec-tune itself (the rest go to directspec-train's parser).
struct TuneFlags {
  std::string space, space_file, json, out, metric = "ndcg@20", save_model;
  int trials = 0, eta = 3, eval_every = 0, top = 10;
  double budget_minutes = 0, valid_fraction = 0.1;
  bool valid_fraction_given = false, refit = false, quiet = false, show_space = false;
};

/// directspec-train flags that make no sense for a search (it writes no model per trial).
bool RefusedTrainFlag(const std::string& flag) {
  return flag == "--export-npy" || flag == "--spectrum-svg" || flag == "--recommend-out" ||
         flag == "--early-stop" || flag == "--patience" || flag == "--epochs" ||
         flag == "--eval-every" || flag == "--subsample" || flag == "--k";
}

std::pair<TuneFlags, Settings> ParseArgs(const std::vector<std::string>& args) {
  namespace d = cli::detail;
  TuneFlags t;
  std::vector<std::string> rest;
  for (std::size_t a = 0; a < args.size(); ++a) {
    std::string flag = args[a], value;
    std::optional<std::string> inline_value;
    if (const auto eq = flag.find('='); eq != std::string::npos && flag.rfind("--", 0) == 0) {
      inline_value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    const bool is_switch = flag == "--refit" || flag == "--quiet" || flag == "--show-space";
    auto take = [&] {
      if (inline_value) return *inline_value;
      if (a + 1 >= args.size()) throw UsageError("flag " + flag + " needs a value");
      return args[++a];
    };
    if (flag == "--space") {
      t.space = take();
    } else if (flag == "--space-file") {
      t.space_file = take();
    } else if (flag == "--json") {
      t.json = take();
    } else if (flag == "--out") {
      t.out = take();
    } else if (flag == "--save-model") {
      t.save_model = take();
    } else if (flag == "--metric") {
      t.metric = take();
    } else if (flag == "--trials") {
      value = take();
      t.trials = d::ParseNumber<int>(flag, value);
      if (t.trials <= 0)
        throw UsageError("bad value for --trials: '" + value + "' must be positive");
    } else if (flag == "--eta") {
      value = take();
      t.eta = d::ParseNumber<int>(flag, value);
      if (t.eta < 2) throw UsageError("bad value for --eta: '" + value + "' must be >= 2");
    } else if (flag == "--eval-every") {
      value = take();
      t.eval_every = d::ParseNumber<int>(flag, value);
      if (t.eval_every < 0) throw UsageError("bad value for --eval-every: must be >= 0");
    } else if (flag == "--top") {
      value = take();
      t.top = d::ParseNumber<int>(flag, value);
      if (t.top < 0) throw UsageError("bad value for --top: must be >= 0");
    } else if (flag == "--budget-minutes") {
      t.budget_minutes = d::Real(flag, take(), d::Range::kPositive);
    } else if (flag == "--valid-fraction") {
      value = take();
      t.valid_fraction = d::Real(flag, value, d::Range::kUnit);
      if (t.valid_fraction >= 1)
        throw UsageError("bad value for --valid-fraction: '" + value + "' must be below 1");
      t.valid_fraction_given = true;
    } else if (is_switch) {
      if (inline_value) throw UsageError("flag " + flag + " takes no value");
      (flag == "--refit" ? t.refit : flag == "--quiet" ? t.quiet : t.show_space) = true;
    } else if (RefusedTrainFlag(flag)) {
      throw UsageError(flag + " is a directspec-train flag that directspec-tune does not take" +
                       (flag == "--epochs" ? " (the space's epochs=MIN:MAX sets the epochs)"
                                           : std::string(" (train the best setting with "
                                                         "directspec-train --preset-file)")));
    } else {
      rest.push_back(args[a]);
      if (!inline_value && !cli::IsSwitch(flag) && flag.rfind("--", 0) == 0 && a + 1 < args.size())
        rest.push_back(args[++a]);
    }
  }
  if (t.trials == 0 && t.budget_minutes == 0) t.trials = 20;
  if (!t.save_model.empty() && !t.refit)
    throw UsageError("--save-model needs --refit (the search itself keeps no model)");
  Settings s = cli::ParseSettings(rest);
  if (s.distributed)
    throw UsageError(
        "--distributed is directspec-train's (under mpirun); directspec-tune runs "
        "its trials in one process");
  cli::CheckMetricName(s, t.metric);
  return {t, s};
}

/// A dataset folder's train and optional valid file; test is looked up only for --refit.
std::optional<std::filesystem::path> FindPart(const std::filesystem::path& dir, const char* stem) {
  std::error_code ec;
  for (const char* ext : {".csv", ".tsv", ".txt"}) {
    const auto p = dir / (std::string(stem) + ext);
    if (std::filesystem::is_regular_file(p, ec)) return p;
  }
  return std::nullopt;
}

ds::DatasetOptions LoadOptions(const Settings& s) {
  ds::DatasetOptions options;
  if (s.ids == "remap") options.parse.ids = ds::IdPolicy::kRemap;
  options.sparse_ids_advice = "add --ids remap to map the raw ids to dense ones";
  return options;
}

/// The data the search sees: train and validation, never test. `how` says where validation
/// came from.
ds::Dataset LoadTuningData(const Settings& s, const TuneFlags& t, std::string& how) {
  const cli::Phase phase("loading the tuning data");
  ds::Dataset d;
  if (!s.data.empty() || !s.train.empty()) {
    ds::DatasetFiles files;  // files.test stays empty: not read
    if (!s.data.empty()) {
      std::error_code ec;
      if (!std::filesystem::is_directory(s.data, ec))
        throw ds::DataError(s.data, 0, "", "cannot open dataset: not a directory");
      const auto train = FindPart(s.data, "train");
      if (!train)
        throw ds::DataError((std::filesystem::path(s.data) / "train.csv").string(), 0, "",
                            "cannot open: no such file (also looked for train.tsv, train.txt)");
      files.train = *train;
      files.valid = FindPart(s.data, "valid");
    } else {
      files.train = s.train;
    }
    if (!s.valid.empty()) files.valid = s.valid;
    d = ds::LoadDataset(files, LoadOptions(s));
    d.report.source = s.data.empty() ? s.train : s.data;
  } else {
    ds::SyntheticOptions synthetic;
    synthetic.seed = 1;
    d = ds::MakeSyntheticDataset(synthetic);
    d.report.source = "synthetic";
    // The search must not see test interactions, even generated ones.
    d.test = ds::Interactions::FromPairs(d.Users(), d.Items(), {});
    d.test_pairs.clear();
  }
  if (d.valid && !d.valid_pairs.empty()) {
    how = "validation from " + d.report.valid->file;
    if (t.valid_fraction_given)
      std::cerr << "directspec-tune: note: the data has a validation file; --valid-fraction is "
                   "not used\n";
  } else {
    ds::CarveValidation(d, t.valid_fraction, s.seed);
    std::ostringstream m;
    m << "validation carved from train: " << t.valid_fraction << " of each user's items (seed "
      << s.seed << ")";
    how = m.str();
  }
  return d;
}

/// The data of --refit: train plus validation as one train part, and the test set.
ds::Dataset LoadRefitData(const Settings& s) {
  const cli::Phase phase("loading the data for --refit");
  ds::Dataset d;
  if (!s.data.empty()) {
    auto files = ds::FindDatasetFiles(s.data);
    if (!s.valid.empty()) files.valid = s.valid;
    d = ds::LoadDataset(files, LoadOptions(s));
  } else if (!s.train.empty()) {
    ds::DatasetFiles files{s.train, s.test, std::nullopt};
    if (!s.valid.empty()) files.valid = s.valid;
    d = ds::LoadDataset(files, LoadOptions(s));
  } else {
    ds::SyntheticOptions synthetic;
    synthetic.seed = 1;
    d = ds::MakeSyntheticDataset(synthetic);
  }
  if (d.valid) {  // a carved validation part is already inside train.csv
    auto pairs = d.train.Pairs();
    pairs.insert(pairs.end(), d.valid_pairs.begin(), d.valid_pairs.end());
    ds::Dataset merged = ds::AssembleDataset(d.Users(), d.Items(), pairs, std::move(d.test_pairs));
    merged.ids = std::move(d.ids);
    d = std::move(merged);
  }
  if (d.test_pairs.empty()) throw std::runtime_error("--refit: the test set is empty");
  return d;
}

std::string ParamsText(const cli::Assignment& a) {
  std::string out;
  for (const auto& [name, value] : a) out += (out.empty() ? "" : " ") + name + "=" + value;
  return out;
}

std::string ParamsJson(const cli::Assignment& a) {
  JsonLine j;
  for (const auto& [name, value] : a) j.Add(name, value);
  return j.Str();
}

std::string TrialJson(const cli::TrialRecord& r, const std::string& metric) {
  JsonLine j;
  j.Add("trial", r.index).Add("origin", r.origin).Add("status", cli::StatusName(r.status));
  j.AddRaw("params", ParamsJson(r.assignment));
  j.Add("epochs_trained", r.epochs_trained).Add("best_epoch", r.best_epoch);
  j.Add("valid_" + metric, r.best_value);
  std::string curve;
  for (const auto& [e, v] : r.curve) {
    JsonLine point;
    point.Add("epoch", e).Add("value", v);
    curve += (curve.empty() ? "" : ",") + point.Str();
  }
  j.AddRaw("curve", "[" + curve + "]");
  j.Add("seconds", r.seconds);
  if (!r.message.empty()) j.Add("message", r.message);
  return j.Str();
}

std::string Fixed(double v, int digits = 4) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << v;
  return o.str();
}

void PrintTrial(const cli::TrialRecord& r, const std::string& metric, int total) {
  std::cout << "trial " << r.index;
  if (total > 0) std::cout << "/" << total;
  std::cout << "  [" << r.origin << "]  " << ParamsText(r.assignment) << "\n    -> "
            << cli::StatusName(r.status) << " after " << r.epochs_trained << " epochs  valid "
            << metric << " " << (std::isfinite(r.best_value) ? Fixed(r.best_value) : "-")
            << (r.best_epoch > 0 ? " (epoch " + std::to_string(r.best_epoch) + ")" : "") << "  "
            << Fixed(r.seconds, 1) << " s";
  if (!r.message.empty()) std::cout << "  (" << r.message << ")";
  std::cout << std::endl;
}

void PrintLeaderboard(const std::vector<cli::TrialRecord>& trials, const std::string& metric,
                      int rows) {
  std::cout << "\nleaderboard (validation " << metric << ", best epoch of each trial):\n";
  std::cout << "rank  trial  " << std::setw(8) << metric << "  epoch  status     settings\n";
  int rank = 0;
  for (const auto* r : cli::Leaderboard(trials)) {
    if (++rank > rows) break;
    std::cout << std::setw(4) << rank << "  " << std::setw(5) << r->index << "  " << std::setw(8)
              << (std::isfinite(r->best_value) ? Fixed(r->best_value) : "-") << "  " << std::setw(5)
              << r->best_epoch << "  " << std::setw(9) << std::left << cli::StatusName(r->status)
              << std::right << "  " << ParamsText(r->assignment) << "\n";
  }
}

int Run(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      return 0;
    }
  const auto start = std::chrono::steady_clock::now();
  auto [t, base] = ParseArgs(args);

  cli::SearchSpace space = cli::ParseSpace(cli::DefaultSpaceText(base), "the default space");
  if (!t.space_file.empty()) space.Override(cli::ParseSpaceFile(t.space_file));
  if (!t.space.empty()) space.Override(cli::ParseSpace(t.space, "--space"));
  if (t.show_space) {
    std::cout << space.Describe() << "\n";
    return 0;
  }
  for (const auto& [flag, path] : {std::pair<const char*, const std::string*>{"--json", &t.json},
                                   {"--out", &t.out},
                                   {"--save-model", &t.save_model}}) {
    if (path->empty()) continue;
    try {
      ds::CheckOutputFile(*path);
    } catch (const ds::IoError& e) {
      throw UsageError(std::string("bad value for ") + flag + ": " + e.what());
    }
  }
#if defined(_OPENMP)
  if (base.threads > 0) omp_set_num_threads(base.threads);
  const int threads = base.threads > 0 ? base.threads : omp_get_max_threads();
#else
  const int threads = 1;
#endif

  std::string validation;
  ds::Dataset data = LoadTuningData(base, t, validation);
  const std::string clamped = cli::ClampBatch(base, data);
  if (!clamped.empty()) std::cerr << "directspec-tune: note: " << clamped << "\n";
  if (data.valid_pairs.empty())
    throw std::runtime_error("the validation part is empty: nothing to score the search on");
  std::unique_ptr<cli::RunLog> json;
  if (!t.json.empty()) json = std::make_unique<cli::RunLog>(t.json, "directspec-tune");

  cli::TunerOptions options;
  options.trials = t.trials;
  options.budget_seconds = t.budget_minutes * 60;
  options.eta = t.eta;
  options.eval_every = t.eval_every;
  options.seed = base.seed;
  const auto rungs = cli::Rungs(space.min_epochs, space.max_epochs, t.eta);
  std::string rung_text;
  for (int r : rungs) rung_text += (rung_text.empty() ? "" : ", ") + std::to_string(r);
  const std::string budget =
      (t.trials > 0 ? std::to_string(t.trials) + " trials" : std::string()) +
      (t.trials > 0 && t.budget_minutes > 0 ? " or " : "") +
      (t.budget_minutes > 0 ? Fixed(t.budget_minutes, 1) + " minutes (checked between trials)"
                            : std::string());
  if (!t.quiet) {
    std::cout << "tuning " << base.model << " + " << base.filter << " with the " << base.loss
              << " loss (" << base.optimizer << ") on " << data.report.source << ": "
              << data.Users() << " users x " << data.Items() << " items, " << data.train.Nnz()
              << " train and " << data.valid_pairs.size() << " validation interactions\n"
              << validation << "; the test set is not read" << (t.refit ? " until --refit" : "")
              << "\n"
              << "space: " << space.Describe() << "\n"
              << "budget: " << budget << "; successive halving at epochs " << rung_text << " (eta "
              << t.eta << "); metric: validation " << t.metric << "; seed " << base.seed << ", "
              << threads << " thread" << (threads == 1 ? "" : "s") << "\n";
  }
  if (json) {
    JsonLine j;
    j.Add("tune", true).Add("data", data.report.source).Add("validation", validation);
    j.Add("space", space.Describe()).Add("metric", t.metric).Add("budget", budget);
    j.Add("eta", t.eta).Add("seed", static_cast<long long>(base.seed)).Add("threads", threads);
    j.Add("preset", base.preset).Add("preset_file", base.preset_file);
    json->WriteLine(j.Str());
  }

  ds::EvalOptions eval_options;
  eval_options.ks = std::vector<ds::Index>(base.topk.begin(), base.topk.end());
  cli::TrainingObjective objective(base, data.train, data.valid_pairs, t.metric, eval_options);
  const auto trials = cli::RunSearch(space, options, objective, [&](const auto& record) {
    if (!t.quiet) PrintTrial(record, t.metric, t.trials);
    if (json) json->WriteLine(TrialJson(record, t.metric));
  });
  const double search_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!t.quiet) PrintLeaderboard(trials, t.metric, t.top);
  const auto board = cli::Leaderboard(trials);
  if (board.empty() || !board.front()->Ranked())
    throw std::runtime_error("no trial produced a finite validation " + t.metric +
                             " (every trial diverged or failed; see the lines above)");
  const auto& best = *board.front();
  const Settings best_settings = objective.TrialSettings(best.assignment, best.best_epoch);
  int stopped = 0, diverged = 0, failed = 0;
  for (const auto& r : trials) {
    stopped += r.status == cli::TrialStatus::kStopped;
    diverged += r.status == cli::TrialStatus::kDiverged;
    failed += r.status == cli::TrialStatus::kFailed;
  }
  std::cout << "\nbest: trial " << best.index << ", validation " << t.metric << " "
            << Fixed(best.best_value) << " at epoch " << best.best_epoch << "  ("
            << ParamsText(best.assignment) << ")\n"
            << trials.size() << " trials (" << stopped << " stopped early, " << diverged
            << " diverged, " << failed << " failed) in " << Fixed(search_seconds, 1) << " s\n";
  if (!t.out.empty()) {
    const cli::Phase phase("writing --out " + t.out);
    std::ostringstream score;
    score << "validation " << t.metric << " " << Fixed(best.best_value) << " at epoch "
          << best.best_epoch << " (trial " << best.index << " of " << trials.size() << ", "
          << validation << ")";
    const std::string text =
        cli::PresetFileText(best_settings, {"directspec preset written by directspec-tune",
                                            "data: " + data.report.source, score.str(),
                                            "search space: " + space.Describe(),
                                            "use: directspec-train --data DIR --preset-file " +
                                                t.out + " (flags given after it win)"});
    ds::AtomicWriteFile(t.out, std::string_view(text));
    std::cout << "wrote the best setting to " << t.out << "\n";
  }
  if (json) {
    JsonLine j;
    j.Add("best_trial", best.index).Add("best_epoch", best.best_epoch);
    j.Add("valid_" + t.metric, best.best_value).AddRaw("params", ParamsJson(best.assignment));
    j.Add("trials", static_cast<long long>(trials.size())).Add("stopped", stopped);
    j.Add("diverged", diverged).Add("failed", failed).Add("search_seconds", search_seconds);
    json->WriteLine(j.Str());
  }

  if (t.refit) {
    const ds::Dataset full = LoadRefitData(base);
    Settings refit = best_settings;
    cli::ClampBatch(refit, full);
    std::cout << "\nrefit: trial " << best.index << "'s setting on train + validation ("
              << full.train.Nnz() << " interactions) for " << refit.epochs << " epochs\n";
    const auto refit_start = std::chrono::steady_clock::now();
    ds::EvalOptions test_options;
    test_options.ks = eval_options.ks;
    const ds::Evaluator test_evaluator(full.train, full.test_pairs, test_options);
    ds::RowMatrix<cli::CliScalar> U, I;
    const ds::EvalResult result = cli::VisitTrainer(refit, [&](auto& trainer) {
      const cli::Phase phase("refitting");
      ds::DivergenceGuard guard;
      trainer.Train(full.train, guard);
      trainer.Encoder().InferenceEmbeddings(U, I);
      return test_evaluator.Evaluate(U, I);
    });
    const double refit_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - refit_start).count();
    std::cout << "TEST (evaluated once, after the search):";
    for (const auto& [name, value] : result.metrics)
      if (name.find('@') != std::string::npos && name.rfind("coverage", 0) != 0)
        std::cout << "  test " << name << " " << Fixed(value);
    std::cout << "  (" << Fixed(refit_seconds, 1) << " s)\n";
    if (json) {
      JsonLine j;
      j.Add("refit", true).Add("epochs", refit.epochs).Add("seconds", refit_seconds);
      for (const auto& [name, value] : result.metrics) j.Add("test_" + name, value);
      json->WriteLine(j.Str());
    }
    if (!t.save_model.empty()) {
      const cli::Phase phase("saving --save-model " + t.save_model);
      ds::ModelMetadata meta;
      meta.encoder = refit.model;
      meta.hyperparameters["preset_text"] = cli::PresetFileText(refit, {});
      if (full.ids) {
        meta.user_ids = full.ids->users.RawIds();
        meta.item_ids = full.ids->items.RawIds();
      }
      ds::SaveModel(t.save_model, U, I, meta);
      std::cout << "saved the refit model to " << t.save_model << "\n";
    }
  }
  if (json) json->Commit();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ds::InstallSignalCleanup("directspec-tune");
  try {
    return Run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const UsageError& e) {
    std::cerr << "directspec-tune: " << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "directspec-tune: error: out of memory while " << cli::Phase::Current() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "directspec-tune: error: " << e.what() << "\n";
    return 1;
  }
}
