// directspec-train: the command-line trainer. Loads a dataset (or builds the synthetic one),
// assembles a Trainer from the flags (model x loss as templates, filter and optimizer chosen at
// run time), trains with a progress bar, evaluates every N epochs, and writes the JSON log,
// model, .npy tables, spectrum SVG and recommendations on request. `--help` lists every flag.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <new>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "cli/checkpointing.hpp"
#include "cli/distributed.hpp"
#include "cli/json_line.hpp"
#include "cli/learning_warnings.hpp"
#include "cli/load_data.hpp"
#include "cli/outputs.hpp"
#include "cli/phase.hpp"
#include "cli/resource_check.hpp"
#include "cli/runtime_policies.hpp"
#include "cli/settings.hpp"
#include "cli/trainer_factory.hpp"
#include "directspec/directspec.hpp"

namespace ds = directspec;
namespace cli = directspec_cli;
using cli::JsonLine;
using cli::Settings;
using ds::Index;
using Scalar = float;

namespace {

constexpr const char* kHelp = R"(directspec-train: train spectrum-balanced recommender embeddings

usage: directspec-train [--preset NAME] [flags]       (no flags: DirectSpec+ MF on synthetic data)

data       --data DIR (train.csv, test.csv, optional valid.csv) | --train FILE --test FILE [--valid FILE]
           --ids asis|remap (remap: ids may be any token; outputs keep the raw ids)
           --valid-fraction F (carve a validation set from train: F of each user's items)
prepare    --input FILE (one raw log: CSV/TSV/whitespace/MovieLens '::', header or not, .gz)
           --columns user=C,item=C[,rating=C][,time=C] (C: header name or 0-based position)
           --min-rating R  --duplicates merge|keep|first|last  --kcore K|U,I (applied in this order)
           --split ratio:F|temporal:F|leave-last:N|global-time:T (default ratio:0.2; --seed)
           --write-split DIR (write train/valid/test.csv + report.txt and stop; then --data DIR)
model      --model mf|lightgcn  --layers K  --layer-weights sum|mean  --dim D
filter     --filter none|directspec|directspec+|adaptive  --alpha A  --tau T  --tau0 T0  --tau1 T1
           --shrink S  (o = y * s||y||; 0 = off)   --no-normalize (skip row normalisation)
loss       --loss log|bpr|directau|ssm  --negatives K (bpr)  --gamma G (directau)
           --temperature T (ssm)  --output-l2 R (output L2, reference LightGCN)  --weight-decay W (weight decay)
optimise   --optimizer sgd|adam  --lr LR  --lr-decay F (per epoch)  --batch B  --epochs E
           --steps-per-epoch N (0: train rows / B)  --seed N  --threads N (0 = OpenMP default)
           --micro-batches M (one encoder pass and update per M batches, summed gradients)
           --subsample F (train on a random fraction F of the train interactions)
evaluate   --eval-every N (0: only at the end)  --topk 10,20  --metrics standard|paper|both
           --early-stop METRIC --patience P (on the validation set, which it requires)
output     --json FILE (one JSON object per line)  --save-model FILE  --export-npy DIR
           --spectrum-svg FILE  --recommend-out FILE --k K  --quiet
           --no-save-seen (--save-model without the train items; serving then needs them given)
checkpoint --checkpoint FILE --checkpoint-every N (epochs; default 1; always after the last)
           --resume FILE (continue that run: same flags, --epochs may be larger)
distribute --distributed (under mpirun -np R: the ranks share each update's --micro-batches
           batches and the evaluation; same result as one process; rank 0 prints and writes)
           --share balanced|equal (batches per rank: by measured speed, the default, or equal)
resources  --max-memory SIZE (e.g. 4G; default: the memory available) refuses larger runs
presets    --preset NAME, --preset-file FILE (key = value lines, e.g. from directspec-tune --out;
           applied after --preset; explicit flags override both), --list-presets
)";

double PeakResidentMegabytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports kilobytes
}

std::string SettingsJson(const Settings& s) {
  JsonLine j;
  j.Add("preset", s.preset)
      .Add("preset_file", s.preset_file)
      .Add("data", !s.input.empty() ? s.input
                   : s.data.empty() ? (s.train.empty() ? "synthetic" : s.train)
                                    : s.data)
      .Add("ids", s.input.empty() ? s.ids : "remap");
  if (!s.input.empty()) {
    j.Add("columns", s.columns).Add("duplicates", s.duplicates).Add("split", s.split);
    j.Add("kcore", std::to_string(s.kcore_users) + "," + std::to_string(s.kcore_items));
    if (s.min_rating) j.Add("min_rating", *s.min_rating);
  }
  j.Add("valid_fraction", s.valid_fraction);
  j.Add("model", s.model).Add("layers", s.layers).Add("layer_weights", s.layer_weights);
  j.Add("filter", s.filter)
      .Add("alpha", s.alpha)
      .Add("tau", s.tau)
      .Add("tau0", s.tau0)
      .Add("tau1", s.tau1);
  j.Add("shrink", s.shrink).Add("normalize", s.normalize).Add("loss", s.loss);
  j.Add("negatives", s.negatives).Add("gamma", s.gamma).Add("temperature", s.temperature);
  j.Add("output_l2", s.output_l2).Add("weight_decay", s.weight_decay).Add("optimizer", s.optimizer);
  j.Add("lr", s.lr).Add("lr_decay", s.lr_decay).Add("dim", s.dim).Add("batch", s.batch);
  j.Add("micro_batches", s.micro_batches);
  j.Add("epochs", s.epochs).Add("steps_per_epoch", s.steps_per_epoch).Add("subsample", s.subsample);
  j.Add("seed", static_cast<long long>(s.seed)).Add("threads", s.threads);
  j.Add("eval_every", s.eval_every).Add("metrics", s.metrics);
  if (!s.resume.empty()) j.Add("resume", s.resume);
  return j.Str();
}

/// The CLI's evaluation report: the library's EvaluationCallback (metrics and the effective rank
/// of the same tables every N epochs) and LearningSignals; this class only prints one line per
/// evaluation and appends one JSON object per evaluation to the log.
class Reporter {
 public:
  Reporter(const ds::Evaluator& evaluator, Index every, cli::RunLog* json, bool quiet)
      : json_(json),
        quiet_(quiet),
        evaluation_(evaluator, {.every = every,
                                .at_end = false,
                                .spectrum = true,
                                .on_result = [this](const ds::EvalResult& r,
                                                    const ds::SpectrumRecord* spectrum,
                                                    const ds::TrainingState& s) {
                                  Print(r, spectrum->effective_rank, s);
                                }}) {}
  Reporter(const Reporter&) = delete;  // the evaluation hook points at this object
  Reporter& operator=(const Reporter&) = delete;

  struct Point {
    double erank;
    ds::EvalResult result;
  };

  template <class T>
  void OnTrainBegin(T& trainer, const ds::TrainingState& s) {
    signals_.OnTrainBegin(trainer, s);
    evaluation_.OnTrainBegin(trainer, s);
  }
  template <class T>
  void OnStepEnd(T& trainer, const ds::TrainingState& s) {
    signals_.OnStepEnd(trainer, s);
  }
  template <class T>
  bool OnEpochEnd(T& trainer, const ds::TrainingState& s) {
    signals_.OnEpochEnd(trainer, s);
    if (evaluation_.Due(s.epoch)) {
      const cli::Phase phase("evaluating epoch " + std::to_string(s.epoch));
      evaluation_.OnEpochEnd(trainer, s);
    }
    return false;
  }

  /// Losses and table movement so far (for the learning warnings).
  template <class T>
  ds::LearningMeasurement Learning(T& trainer) const {
    return signals_.Measure(trainer);
  }

  /// Evaluates the final tables (after EarlyStopping restored the best) and prints the "final"
  /// line; the caller writes the final JSON object.
  template <class T>
  Point ReportFinal(T& trainer, const ds::TrainingState& s) {
    const cli::Phase phase("evaluating the final tables");
    final_ = true;
    const ds::EvalResult& r = evaluation_.Evaluate(trainer, s);
    final_ = false;
    return {evaluation_.Spectra().back().effective_rank, r};
  }

  /// The learning-warning measurements (saved in checkpoints).
  ds::LearningSignals& Signals() { return signals_; }

 private:
  void Print(const ds::EvalResult& r, double erank, const ds::TrainingState& s) const {
    if (json_ && !final_) {
      JsonLine j;
      j.Add("epoch", static_cast<long long>(s.epoch)).Add("loss", s.epoch_loss);
      j.Add("train_seconds", s.train_seconds).Add("erank", erank);
      for (const auto& [name, value] : r.metrics) j.Add(name, value);
      j.Add("eval_seconds", r.seconds);
      json_->WriteLine(j.Str());
    }
    if (!quiet_) {
      std::cout << (final_ ? "final" : "epoch " + std::to_string(s.epoch)) << "  loss "
                << std::setprecision(5) << s.epoch_loss << "  erank " << std::setprecision(4)
                << erank;
      for (const auto& [name, value] : r.metrics)
        if (name.find("@") != std::string::npos && name.rfind("coverage", 0) != 0)
          std::cout << "  " << name << " " << std::fixed << std::setprecision(4) << value
                    << std::defaultfloat;
      std::cout << "  (train " << std::setprecision(3) << s.train_seconds << " s)" << std::endl;
    }
  }

  cli::RunLog* json_;
  bool quiet_;
  bool final_ = false;  // ReportFinal is evaluating: print "final", no JSON line
  ds::EvaluationCallback evaluation_;
  ds::LearningSignals signals_;
};

ds::EvalMode ModeOf(const std::string& metrics) {
  if (metrics == "paper") return ds::EvalMode::kPaper;
  if (metrics == "both") return ds::EvalMode::kBoth;
  return ds::EvalMode::kStandard;
}

std::vector<Index> Cutoffs(const Settings& s) {
  return std::vector<Index>(s.topk.begin(), s.topk.end());
}

std::map<std::string, std::string> Hyperparameters(const Settings& s) {
  std::map<std::string, std::string> h;
  h["settings_json"] = SettingsJson(s);
  h["filter"] = s.filter;
  h["loss"] = s.loss;
  h["layers"] = std::to_string(s.layers);
  h["layer_weights"] = s.layer_weights;
  return h;
}

/// Trains `trainer` with the CLI's callbacks and writes every requested output.
template <class T>
int TrainAndReport(T& trainer, const Settings& s, const ds::Dataset& data,
                   std::chrono::steady_clock::time_point start) {
  std::unique_ptr<cli::RunLog> json;  // swapped in last, after every other output
  if (!s.json.empty()) json = std::make_unique<cli::RunLog>(s.json);
  ds::EvalOptions eval_options;
  eval_options.ks = Cutoffs(s);
  eval_options.mode = ModeOf(s.metrics);
  // Test ranks exclude train and, when there is one, validation (data.EvaluationMask()).
  const ds::Interactions test_mask = data.EvaluationMask();
  ds::Evaluator evaluator(test_mask, data.test_pairs, eval_options);
  cli::DistributedTraining<Scalar> distributed(s);
  distributed.Attach(trainer);
  distributed.Share(evaluator);
  Reporter reporter(evaluator, s.eval_every, json.get(), s.quiet);

  ds::ProgressBar progress;
  ds::DivergenceGuard guard;
  ds::TrainingState state;
  const ds::CheckpointFingerprint fingerprint = cli::RunFingerprint(trainer, s, data);
  // Trains with the CLI's callbacks; `parts` are the stateful callbacks a checkpoint keeps
  // (besides the reporter's learning signals), which run before the reporter and the writer.
  auto train = [&](auto&... parts) {
    cli::CheckpointWriter writer(s.checkpoint, s.checkpoint_every, fingerprint, s.quiet,
                                 reporter.Signals(), parts...);
    if (!s.resume.empty()) {
      const cli::Phase phase("resuming from --resume " + s.resume);
      ds::LoadCheckpoint(s.resume, trainer, data.train, fingerprint, reporter.Signals(), parts...);
      if (!s.quiet)
        std::cout << "resumed from " << s.resume << " after epoch " << trainer.EpochsDone() << "\n";
    }
    return s.quiet ? trainer.Train(data.train, guard, parts..., reporter, writer)
                   : trainer.Train(data.train, progress, guard, parts..., reporter, writer);
  };
  std::optional<ds::Evaluator> stop_evaluator;
  if (!s.early_stop.empty()) {
    ds::EvalOptions stop_options;
    stop_options.ks = Cutoffs(s);
    stop_options.mode = ModeOf(s.metrics);
    // Never on test: Run() refuses --early-stop without a validation set.
    stop_evaluator.emplace(data.train, data.valid_pairs, stop_options);
    distributed.Share(*stop_evaluator);
    ds::EarlyStopping stopper(
        *stop_evaluator,
        {.metric = s.early_stop, .patience = s.patience, .every = std::max(1, s.eval_every)});
    // Early stopping restores the best tables in OnTrainEnd, before the final report below.
    state = train(stopper);
    if (!s.quiet && stopper.BestEpoch() >= 0)
      std::cout << "early stopping: best " << s.early_stop << " " << stopper.BestValue()
                << " at epoch " << stopper.BestEpoch() << "\n";
  } else {
    state = train();
  }
  distributed.CheckReplicas(trainer);
  if (!s.quiet && distributed.Active()) std::cout << distributed.Summary() << "\n";

  const Reporter::Point final_point = reporter.ReportFinal(trainer, state);
  const auto warnings = cli::LearningWarnings(
      s, reporter.Learning(trainer), final_point.result,
      ds::RandomRankingRecall(test_mask, data.test,
                              *std::max_element(s.topk.begin(), s.topk.end())));
  if (s.rank == 0)
    for (const auto& w : warnings) std::cerr << "directspec-train: warning: " << w << "\n";
  ds::RowMatrix<Scalar> U, I;
  trainer.Encoder().InferenceEmbeddings(U, I);
  if (json) {
    JsonLine j;
    j.Add("final", true).Add("epoch", static_cast<long long>(state.epoch));
    j.Add("loss", state.epoch_loss).Add("train_seconds", state.train_seconds);
    j.Add("steps_per_epoch", static_cast<long long>(state.steps_per_epoch));
    j.Add("erank", final_point.erank);
    for (const auto& [name, value] : final_point.result.metrics) j.Add(name, value);
    j.AddRaw("settings", SettingsJson(s));
    j.Add("users", static_cast<long long>(data.Users()))
        .Add("items", static_cast<long long>(data.Items()));
    j.Add("total_seconds",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    j.Add("peak_memory_mb", PeakResidentMegabytes());
    distributed.AddJson(j);
    std::string list;
    for (const auto& w : warnings) list += (list.empty() ? "" : ",") + ds::JsonString(w);
    j.AddRaw("warnings", "[" + list + "]");
    json->WriteLine(j.Str());
  }
  // The model as it is saved and served: tables, id maps, and the train items as seen sets.
  ds::ModelMetadata meta;
  meta.encoder = s.model;
  meta.hyperparameters = Hyperparameters(s);
  if (data.ids) {
    meta.user_ids = data.ids->users.RawIds();
    meta.item_ids = data.ids->items.RawIds();
  }
  const auto train_rows = data.train.View();
  meta.seen = ds::SeenSets::FromCsr(train_rows.offsets, train_rows.columns);
  if (!s.save_model.empty()) {
    const cli::Phase phase("saving --save-model " + s.save_model);
    ds::ModelMetadata saved = meta;
    if (!s.save_seen) saved.seen.reset();
    ds::SaveModel(s.save_model, U, I, saved);
    if (!s.quiet)
      std::cout << "saved model to " << s.save_model
                << (saved.seen
                        ? " (with the seen sets: " +
                              ds::FormatBytes(static_cast<double>(saved.seen->FileBytes())) + ")"
                        : std::string())
                << "\n";
  }
  if (!s.export_npy.empty()) {
    const cli::Phase phase("writing --export-npy " + s.export_npy);
    ds::ExportNpy(s.export_npy, U, I);  // user.npy and item.npy, swapped in as one directory
    if (!s.quiet) std::cout << "wrote " << s.export_npy << "/user.npy and item.npy\n";
  }
  if (!s.spectrum_svg.empty()) {
    const cli::Phase phase("plotting --spectrum-svg " + s.spectrum_svg);
    const std::vector<ds::NamedSpectrum> spectra{
        {s.model + " + " + s.filter, ds::StackedSingularValues(U, I)}};
    ds::PlotOptions plot;
    plot.title = "Singular values of the stacked embeddings (normalised)";
    plot.x_label = "index";
    plot.y_label = "sigma / sigma_max";
    ds::WriteSvgFile(s.spectrum_svg, ds::SpectrumChartSvg(spectra, plot));
    if (!s.quiet) std::cout << "wrote " << s.spectrum_svg << "\n";
  }
  if (!s.recommend_out.empty()) {
    const cli::Phase phase("computing the top-" + std::to_string(s.k) +
                           " recommendations for --recommend-out " + s.recommend_out);
    // Served as a saved model would be (serve/recommender.hpp): raw ids in the file.
    const ds::Recommender<Scalar> served(ds::Model<Scalar>{U, I, meta});
    std::vector<ds::Id> users(static_cast<std::size_t>(data.Users()));
    std::iota(users.begin(), users.end(), 0);
    served.WriteCsv(s.recommend_out, users, served.RecommendMany(users, s.k));
    if (!s.quiet)
      std::cout << "wrote top-" << s.k << " recommendations to " << s.recommend_out << "\n";
  }
  if (json) json->Commit();
  return 0;
}

/// Runs the program as rank `rank` of `ranks` (0 of 1 without --distributed).
int Run(const std::vector<std::string>& args, int rank, int ranks) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      if (rank == 0) std::cout << kHelp;
      return 0;
    }
    if (a == "--list-presets") {
      if (rank != 0) return 0;
      for (const auto& [name, preset] : cli::Presets()) {
        std::cout << name << "  " << preset.description << "\n   ";
        for (const auto& [flag, value] : preset.flags)
          std::cout << " " << flag << (value.empty() ? "" : " " + value);
        std::cout << "\n";
      }
      return 0;
    }
  }
  const auto start = std::chrono::steady_clock::now();
  Settings s = cli::ParseSettings(args);
  if (s.distributed && !cli::kBuiltWithMpi)
    throw cli::UsageError(
        "--distributed needs a directspec-train built with MPI (install libopenmpi-dev and "
        "reconfigure; docs/distributed.md)");
  cli::CheckOutputPaths(s);  // before any work: a bad output path is a bad flag value
  s.rank = rank;
  s.ranks = ranks;
  cli::KeepOutputsOnRoot(s);  // after the check, so every rank refuses a bad path alike
#if defined(_OPENMP)
  if (s.threads > 0) omp_set_num_threads(s.threads);
#endif
  std::string preparation;  // what --input did, printed before the load report
  ds::Dataset data;
  if (!s.input.empty()) {
    ds::PreparedData prepared = cli::PrepareInput(s);
    if (!s.write_split.empty()) {
      if (rank != 0) return 0;  // rank 0 writes the split
      const cli::Phase writing("writing --write-split " + s.write_split);
      ds::WriteSplitDirectory(s.write_split, prepared);
      if (!s.quiet)
        std::cout << prepared.Report() << "\nwrote " << s.write_split << "/train.csv, "
                  << (prepared.dataset.valid ? "valid.csv, " : "") << "test.csv and report.txt; "
                  << "train on it with: directspec-train --data " << s.write_split << "\n";
      return 0;
    }
    preparation = prepared.Steps();
    data = std::move(prepared.dataset);
  } else {
    data = cli::LoadData(s);
    cli::CarveValidationSet(data, s);
  }
  if (!s.early_stop.empty() && !data.valid)
    throw cli::UsageError(
        "--early-stop needs a validation set (it never watches test): pass --valid FILE, put "
        "valid.csv in the --data folder, or add --valid-fraction F");
  cli::SubsampleTrain(data, s);
  const std::string clamped = cli::ClampBatch(s, data);
  if (!clamped.empty() && rank == 0) std::cerr << "directspec-train: note: " << clamped << "\n";
#if defined(_OPENMP)
  const int threads = s.threads > 0 ? s.threads : omp_get_max_threads();
#else
  const int threads = 1;
#endif
  const auto estimate =
      cli::CheckMemory(s, cli::ShapeOf(s, data, threads), ds::QueryAvailableMemory());
  const cli::Phase phase("training");
  const ds::BuildInfo build = ds::CompiledBuildInfo();
  if (const std::string warning = ds::StartupSimdWarning(build); !warning.empty() && rank == 0)
    std::cerr << "directspec-train: warning: " << warning << "\n";
  if (!s.quiet) {
    std::cout << "build: " << build.Summary() << "\n";
    std::cout << preparation << data.report.Summary() << "\n";
    std::cout << "training " << s.model << " + " << s.filter << " with the " << s.loss << " loss, "
              << s.optimizer << " lr " << s.lr << ", " << s.epochs << " epochs of batch " << s.batch
              << (s.preset.empty() ? "" : " (preset " + s.preset + ")") << ", about "
              << ds::FormatBytes(estimate.PeakBytes()) << " of memory\n";
    if (s.distributed)
      std::cout << "distributed over " << ranks << (ranks == 1 ? " rank" : " ranks")
                << ": each shares the " << s.micro_batches << " batches of an update"
                << (s.micro_batches < ranks ? " (fewer than the ranks: some ranks idle; raise "
                                              "--micro-batches)"
                                            : "")
                << "\n";
  }
  if (data.test_pairs.empty())
    throw std::runtime_error("the test set is empty: nothing to evaluate");
  return cli::VisitTrainer(s,
                           [&](auto& trainer) { return TrainAndReport(trainer, s, data, start); });
}

/// The program with its error handling; returns the exit code. `session`: the MPI job under
/// --distributed, else null.
int Guarded(const std::vector<std::string>& args, const cli::MpiJob* session) {
  const int rank = session ? session->Rank() : 0;
  const int ranks = session ? session->Size() : 1;
  // Errors name the rank in a job of several; a usage error (the same on every rank) is printed
  // by rank 0 alone.
  const std::string where =
      ranks > 1 ? "rank " + std::to_string(rank) + " of " + std::to_string(ranks) + ": " : "";
  try {
    return Run(args, rank, ranks);
  } catch (const cli::UsageError& e) {
    if (rank == 0) {
      std::cerr << "directspec-train: " << e.what() << "\n";
    } else {
      // Rank 0 normally fails the same way and ends the job first; give it the time to, and
      // speak only when it did not (e.g. a file missing on this rank's machine alone).
      std::this_thread::sleep_for(std::chrono::seconds(2));
      std::cerr << "directspec-train: " << where << e.what() << "\n";
    }
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "directspec-train: " << where << "error: out of memory while "
              << cli::Phase::Current() << "\n";
    return 1;
  } catch (const std::length_error&) {  // a size beyond what a container can hold
    std::cerr << "directspec-train: " << where << "error: out of memory while "
              << cli::Phase::Current() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "directspec-train: " << where << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  ds::InstallSignalCleanup("directspec-train");  // Ctrl-C / kill leave no temporary files
  const std::vector<std::string> args(argv + 1, argv + argc);
#if defined(DIRECTSPEC_WITH_MPI)
  if (std::find(args.begin(), args.end(), "--distributed") != args.end()) {
    // Under mpirun: a failure on any rank ends every rank (MPI_Abort), never a hang.
    ds::distributed::MpiSession session(&argc, &argv);
    const int code = Guarded(args, &session);
    if (code != 0) session.Abort("", code);
    return 0;
  }
#endif
  return Guarded(args, nullptr);
}
