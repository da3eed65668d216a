// directspec-train settings: every flag of the CLI as one struct, the reference presets
// (docs/method.md#reference-recipe) and the flag parser that fills it (explicit flags override a
// preset). Every value is checked here, before any data is read: a bad one is a UsageError (exit 2)
// that names the flag and the value, never a library option or a source file.
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "directspec/core/argument_check.hpp"
#include "directspec/data/log_split.hpp"
#include "directspec/data/raw_log.hpp"
#include "directspec/losses/sampled_softmax_loss.hpp"
#include "directspec/train/configurations.hpp"

namespace directspec_cli {

// The CLI is a client of the library, written in its vocabulary; it adds nothing to it.
using namespace directspec;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Largest --layers accepted.
inline constexpr int kMaxLayers = 256;

struct Settings {
  // data
  std::string data, train, test, valid;
  std::string ids = "asis";   // asis | remap (any token -> dense ids, raw ids kept for outputs)
  double valid_fraction = 0;  // > 0: validation carved from train (--data, --train, --input)
  // data preparation from one raw log (--input); checked here, applied by PrepareDataset
  std::string input, columns = "user=0,item=1", duplicates = "merge", split = "ratio:0.2";
  std::optional<double> min_rating;
  int kcore_users = 0, kcore_items = 0;
  std::string write_split;  // a split directory to write; then the run stops (no training)
  // model and method
  std::string model = "mf";  // mf | lightgcn
  int layers = 3;
  std::string layer_weights = "sum";   // sum | mean
  std::string filter = "directspec+";  // none | directspec | directspec+ | adaptive
  double alpha = 1.0, tau = 3.0, tau0 = 2.5, tau1 = 3.0, shrink = 0.0;
  std::string loss = "log";  // log | bpr | directau | ssm
  int negatives = 1;
  double gamma = 1.0, output_l2 = 0.0, weight_decay = 0.0;
  // The library's default, so the two cannot drift apart.
  double temperature = directspec::SampledSoftmaxLoss<double>::Options{}.temperature;
  std::string optimizer = "sgd";  // sgd | adam
  double lr = 10.0, lr_decay = 1.0;
  int dim = 64, batch = 256, epochs = 30;
  int micro_batches = 1;          // M filter batches per encoder pass and update
  long long steps_per_epoch = 0;  // 0: floor(train rows / batch), as the reference
  double subsample = 1.0;         // fraction of train interactions kept (scaling runs)
  std::uint64_t seed = 0;
  int threads = 0;  // 0: OpenMP default
  bool normalize = true;
  // evaluation
  int eval_every = 0;  // 0: only at the end
  std::vector<int> topk{10, 20};
  std::string metrics = "standard";  // standard | paper | both
  std::string early_stop;
  int patience = 5;
  // output
  std::string json, save_model, export_npy, spectrum_svg, recommend_out;
  // checkpoints: write the whole training state every N epochs (and after the last); continue one
  std::string checkpoint, resume;
  int checkpoint_every = 1;
  int k = 20;
  bool save_seen = true;  // --save-model stores each user's train items (serving excludes them)
  bool quiet = false;
  std::string preset, preset_file;
  int batch_given = 0;  // the --batch value when it was clamped to the train rows (0: not)
  // distributed (--distributed under mpirun, docs/distributed.md): rank and ranks are set by the
  // program from the MPI job, not by flags; rank 0 alone prints and writes files.
  bool distributed = false;
  std::string share = "balanced";  // how an update's batches are divided: equal | balanced
  int rank = 0, ranks = 1;
  // resources
  double max_memory = 0;  // bytes; 0: what the machine has available (MemAvailable / cgroup)

  bool operator==(const Settings&) const = default;
};

/// One named configuration: a description and the flag values it sets.
struct Preset {
  std::string description;
  std::vector<std::pair<std::string, std::string>> flags;
};

/// The reference settings (docs/method.md#reference-recipe; d = 64, B = 256 everywhere) plus
/// baselines.
inline const std::map<std::string, Preset>& Presets() {
  static const std::map<std::string, Preset> presets = [] {
    std::map<std::string, Preset> p;
    // The reference presets are the library's recipes (train/configurations.hpp), written as
    // flags: one source for every published number.
    const std::pair<directspec::ReferenceDataset, const char*> datasets[] = {
        {directspec::ReferenceDataset::kCiteULike, "citeulike"},
        {directspec::ReferenceDataset::kGowalla, "gowalla"},
        {directspec::ReferenceDataset::kYelp, "yelp"}};
    struct Variant {
      directspec::ReferenceModel model;
      const char* suffix;
      const char* encoder;
      const char* filter;
      const char* what;
    };
    const Variant variants[] = {
        {directspec::ReferenceModel::kMF, "-mf", "mf", "directspec+",
         "MF + DirectSpec+ (reference MF script)"},
        {directspec::ReferenceModel::kAdaptiveMF, "-mf-adaptive", "mf", "adaptive",
         "MF + adaptive DirectSpec+ (reference script)"},
        {directspec::ReferenceModel::kLightGCN, "-lightgcn", "lightgcn", "directspec+",
         "LightGCN + DirectSpec+ (reference LightGCN script)"},
        {directspec::ReferenceModel::kAdaptiveLightGCN, "-lightgcn-adaptive", "lightgcn",
         "adaptive", "LightGCN + adaptive DirectSpec+ (reference script)"}};
    auto number = [](double v) { return directspec::FormatValue(v); };
    for (const auto& [dataset, name] : datasets) {
      for (const Variant& v : variants) {
        const directspec::RecipeSettings r = directspec::ReferenceRecipe(dataset, v.model);
        const bool lightgcn = std::string(v.encoder) == "lightgcn";
        Preset preset{std::string(name) + ": " + v.what,
                      {{"--loss", "log"},
                       {"--optimizer", "sgd"},
                       {"--lr", number(r.learning_rate)},
                       {"--alpha", number(r.alpha)},
                       {"--tau", number(r.tau)},
                       {"--tau0", number(r.tau0)},
                       {"--tau1", number(r.tau1)},
                       {"--shrink", number(r.shrink)},
                       {"--dim", std::to_string(r.dim)},
                       {"--batch", std::to_string(r.batch_size)},
                       {"--model", v.encoder},
                       {"--filter", v.filter},
                       {"--epochs", std::to_string(r.epochs)},
                       {"--lr-decay", number(r.decay)},
                       // The output L2 belongs to the reference LightGCN scripts only.
                       {"--output-l2", lightgcn ? number(r.output_l2) : "0"}}};
        if (lightgcn) preset.flags.push_back({"--layers", std::to_string(r.layers)});
        p[std::string(name) + v.suffix] = preset;
      }
    }
    // Linear DirectSpec has no published settings: α 2 won a validation grid carved from
    // CiteULike's train set, and it peaks near epoch 40 (docs/reproduction.md).
    p["citeulike-mf-linear"] = p["citeulike-mf"];
    p["citeulike-mf-linear"].description =
        "citeulike: MF + linear DirectSpec (alpha tuned on validation)";
    for (auto& [flag, value] : p["citeulike-mf-linear"].flags) {
      if (flag == "--alpha") value = "2";
      if (flag == "--filter") value = "directspec";
      if (flag == "--epochs") value = "40";
    }
    // Baselines with the customary LightGCN-PyTorch settings: Adam 1e-3, batch 2048, L2 1e-4.
    const std::vector<std::pair<std::string, std::string>> bpr{
        {"--loss", "bpr"},    {"--filter", "none"},       {"--no-normalize", ""},
        {"--negatives", "1"}, {"--optimizer", "adam"},    {"--lr", "0.001"},
        {"--lr-decay", "1"},  {"--weight-decay", "1e-4"}, {"--dim", "64"},
        {"--batch", "2048"},  {"--shrink", "0"},          {"--output-l2", "0"}};
    p["bpr-mf"] = {"MF trained with BPR (1 uniform negative), Adam, weight decay", bpr};
    p["bpr-mf"].flags.insert(p["bpr-mf"].flags.end(), {{"--model", "mf"}, {"--epochs", "300"}});
    p["lightgcn-bpr"] = {"LightGCN (3 layers, mean weights) with BPR, Adam, weight decay", bpr};
    p["lightgcn-bpr"].flags.insert(p["lightgcn-bpr"].flags.end(), {{"--model", "lightgcn"},
                                                                   {"--layers", "3"},
                                                                   {"--layer-weights", "mean"},
                                                                   {"--epochs", "300"}});
    return p;
  }();
  return presets;
}

namespace detail {

template <class T>
T ParseNumber(const std::string& flag, const std::string& text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc::result_out_of_range)
    throw UsageError("bad value for " + flag + ": '" + text + "' is out of range");
  if (ec != std::errc() || ptr != end || text.empty())
    throw UsageError("bad value for " + flag + ": '" + text + "' is not a valid number");
  return value;
}

/// What a real-valued flag must satisfy besides being a finite number.
enum class Range { kAny, kNonNegative, kPositive, kUnit };  // kUnit: (0, 1]

/// A real-valued flag: a finite number in `range`, that stays finite (and non-zero when it must
/// be positive) as the float the trainer computes in, so no library check can refuse it later.
inline double Real(const std::string& flag, const std::string& text, Range range) {
  const double v = ParseNumber<double>(flag, text);
  const float as_float = static_cast<float>(v);
  auto fail = [&](const std::string& rule) {
    throw UsageError("bad value for " + flag + ": '" + text + "' " + rule);
  };
  if (!std::isfinite(v) || !std::isfinite(as_float))
    fail("must be a finite number (at most 3.4e38 in magnitude)");
  if (range == Range::kNonNegative && !(v >= 0)) fail("must be >= 0");
  if ((range == Range::kPositive || range == Range::kUnit) && !(as_float > 0))
    fail(v > 0 ? "is too small (below 1.4e-45, the smallest positive float)" : "must be > 0");
  if (range == Range::kUnit && !(v <= 1)) fail("must be in (0, 1]");
  return v;
}

/// A memory size: bytes, or a number with K, M, G or T (powers of 1024; "4G", "512M", "1.5T";
/// an optional trailing "B" or "iB" is accepted).
inline double MemorySize(const std::string& flag, const std::string& text) {
  std::string number = text;
  double unit = 1;
  for (const char* suffix : {"iB", "B", "ib", "b"})
    if (number.size() > std::string(suffix).size() &&
        number.compare(number.size() - std::string(suffix).size(), std::string::npos, suffix) ==
            0) {
      number.resize(number.size() - std::string(suffix).size());
      break;
    }
  if (!number.empty()) {
    const std::string units = "KMGT";
    const auto at =
        units.find(static_cast<char>(std::toupper(static_cast<unsigned char>(number.back()))));
    if (at != std::string::npos) {
      unit = std::pow(1024.0, static_cast<double>(at + 1));
      number.pop_back();
    }
  }
  double v = 0;
  const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
  if (ec != std::errc() || ptr != number.data() + number.size() || number.empty() ||
      !std::isfinite(v) || !(v > 0))
    throw UsageError("bad value for " + flag + ": '" + text +
                     "' is not a memory size (e.g. 4G, 512M, 1.5T or a byte count)");
  return v * unit;
}

inline std::string Choice(const std::string& flag, const std::string& text,
                          std::initializer_list<const char*> allowed) {
  std::string list;
  for (const char* a : allowed) {
    if (text == a) return text;
    if (!list.empty()) list += '|';
    list += a;
  }
  throw UsageError("bad value for " + flag + ": '" + text + "' (expected " + list + ")");
}

}  // namespace detail

/// Applies one flag to the settings; `value` is empty for switches.
inline void ApplyFlag(Settings& s, const std::string& flag, const std::string& value) {
  using detail::Choice;
  using detail::ParseNumber;
  using detail::Range;
  auto positive = [&](int v) {
    if (v <= 0) throw UsageError("bad value for " + flag + ": '" + value + "' must be positive");
    return v;
  };
  auto real = [&](Range range) { return detail::Real(flag, value, range); };
  const std::map<std::string, std::function<void()>> setters{
      {"--data", [&] { s.data = value; }},
      {"--train", [&] { s.train = value; }},
      {"--test", [&] { s.test = value; }},
      {"--valid", [&] { s.valid = value; }},
      {"--valid-fraction",
       [&] {
         s.valid_fraction = real(Range::kPositive);
         if (!(s.valid_fraction < 1))
           throw UsageError("bad value for --valid-fraction: '" + value + "' must be below 1");
       }},
      {"--input", [&] { s.input = value; }},
      {"--columns",
       [&] {
         try {
           ParseColumnSpec(value);
         } catch (const std::invalid_argument& e) {
           throw UsageError("bad value for --columns: " + std::string(e.what()));
         }
         s.columns = value;
       }},
      {"--min-rating", [&] { s.min_rating = real(Range::kAny); }},
      {"--duplicates",
       [&] {
         s.duplicates = Choice(flag, value, {"keep", "first", "last", "merge"});
       }},
      {"--kcore",
       [&] {
         // "K" (users and items) or "U,I".
         const auto comma = value.find(',');
         const std::string u = value.substr(0, comma);
         const std::string i = comma == std::string::npos ? u : value.substr(comma + 1);
         s.kcore_users = ParseNumber<int>(flag, u);
         s.kcore_items = ParseNumber<int>(flag, i);
         if (s.kcore_users < 0 || s.kcore_items < 0 || (s.kcore_users == 0 && s.kcore_items == 0))
           throw UsageError("bad value for --kcore: '" + value +
                            "' (expected K or U,I with non-negative counts, not both 0)");
       }},
      {"--split",
       [&] {
         try {
           ParseLogSplitSpec(value);
         } catch (const std::invalid_argument& e) {
           throw UsageError("bad value for --split: " + std::string(e.what()));
         }
         s.split = value;
       }},
      {"--write-split", [&] { s.write_split = value; }},
      {"--ids",
       [&] {
         s.ids = Choice(flag, value, {"asis", "remap"});
       }},
      {"--model",
       [&] {
         s.model = Choice(flag, value, {"mf", "lightgcn"});
       }},
      {"--layers",
       [&] {
         // Every layer is one more sparse product per step and per side: 1e8 layers would run
         // for days on a 50-row file. LightGCN uses 1 to 4.
         s.layers = positive(ParseNumber<int>(flag, value));
         if (s.layers > kMaxLayers)
           throw UsageError("bad value for --layers: '" + value + "' must be at most " +
                            std::to_string(kMaxLayers));
       }},
      {"--layer-weights",
       [&] {
         s.layer_weights = Choice(flag, value, {"sum", "mean"});
       }},
      {"--filter",
       [&] {
         s.filter = Choice(flag, value, {"none", "directspec", "directspec+", "adaptive"});
       }},
      {"--alpha", [&] { s.alpha = real(Range::kNonNegative); }},
      {"--tau", [&] { s.tau = real(Range::kAny); }},
      {"--tau0", [&] { s.tau0 = real(Range::kAny); }},
      {"--tau1", [&] { s.tau1 = real(Range::kAny); }},
      {"--shrink", [&] { s.shrink = real(Range::kNonNegative); }},
      {"--loss",
       [&] {
         s.loss = Choice(flag, value, {"log", "bpr", "directau", "ssm"});
       }},
      {"--negatives", [&] { s.negatives = positive(ParseNumber<int>(flag, value)); }},
      {"--gamma", [&] { s.gamma = real(Range::kNonNegative); }},
      {"--temperature", [&] { s.temperature = real(Range::kPositive); }},
      {"--output-l2", [&] { s.output_l2 = real(Range::kNonNegative); }},
      {"--weight-decay", [&] { s.weight_decay = real(Range::kNonNegative); }},
      {"--optimizer",
       [&] {
         s.optimizer = Choice(flag, value, {"sgd", "adam"});
       }},
      {"--lr", [&] { s.lr = real(Range::kPositive); }},
      {"--lr-decay", [&] { s.lr_decay = real(Range::kUnit); }},
      {"--dim", [&] { s.dim = positive(ParseNumber<int>(flag, value)); }},
      {"--batch", [&] { s.batch = positive(ParseNumber<int>(flag, value)); }},
      {"--epochs", [&] { s.epochs = positive(ParseNumber<int>(flag, value)); }},
      {"--micro-batches", [&] { s.micro_batches = positive(ParseNumber<int>(flag, value)); }},
      {"--steps-per-epoch",
       [&] {
         s.steps_per_epoch = ParseNumber<long long>(flag, value);
         if (s.steps_per_epoch < 0)
           throw UsageError("bad value for --steps-per-epoch: must be >= 0");
       }},
      {"--subsample", [&] { s.subsample = real(Range::kUnit); }},
      {"--seed", [&] { s.seed = ParseNumber<std::uint64_t>(flag, value); }},
      {"--threads",
       [&] {
         s.threads = ParseNumber<int>(flag, value);
         if (s.threads < 0) throw UsageError("bad value for --threads: must be >= 0");
       }},
      {"--no-normalize", [&] { s.normalize = false; }},
      {"--normalize", [&] { s.normalize = true; }},
      {"--eval-every",
       [&] {
         s.eval_every = ParseNumber<int>(flag, value);
         if (s.eval_every < 0) throw UsageError("bad value for --eval-every: must be >= 0");
       }},
      {"--topk",
       [&] {
         s.topk.clear();
         std::stringstream list(value);
         for (std::string item; std::getline(list, item, ',');)
           s.topk.push_back(positive(ParseNumber<int>(flag, item)));
         if (s.topk.empty()) throw UsageError("bad value for --topk: empty list");
       }},
      {"--metrics",
       [&] {
         s.metrics = Choice(flag, value, {"standard", "paper", "both"});
       }},
      {"--early-stop", [&] { s.early_stop = value; }},
      {"--patience", [&] { s.patience = positive(ParseNumber<int>(flag, value)); }},
      {"--json", [&] { s.json = value; }},
      {"--save-model", [&] { s.save_model = value; }},
      {"--export-npy", [&] { s.export_npy = value; }},
      {"--spectrum-svg", [&] { s.spectrum_svg = value; }},
      {"--recommend-out", [&] { s.recommend_out = value; }},
      {"--checkpoint", [&] { s.checkpoint = value; }},
      {"--checkpoint-every", [&] { s.checkpoint_every = positive(ParseNumber<int>(flag, value)); }},
      {"--resume", [&] { s.resume = value; }},
      {"--k", [&] { s.k = positive(ParseNumber<int>(flag, value)); }},
      {"--quiet", [&] { s.quiet = true; }},
      {"--distributed", [&] { s.distributed = true; }},
      {"--share",
       [&] {
         s.share = Choice(flag, value, {"equal", "balanced"});
       }},
      {"--no-save-seen", [&] { s.save_seen = false; }},
      {"--max-memory", [&] { s.max_memory = detail::MemorySize(flag, value); }},
  };
  const auto it = setters.find(flag);
  if (it == setters.end()) throw UsageError("unknown flag '" + flag + "' (see --help)");
  it->second();
}

/// Flags that take no value.
inline bool IsSwitch(const std::string& flag) {
  return flag == "--no-normalize" || flag == "--normalize" || flag == "--quiet" ||
         flag == "--distributed" || flag == "--no-save-seen" || flag == "--help" ||
         flag == "--list-presets";
}

/// Refuses an --early-stop metric the evaluator will not report, before any training is spent.
inline void CheckMetricName(const Settings& s, const std::string& metric) {
  const auto at = metric.find('@');
  const std::string name = metric.substr(0, at);
  int k = 0;
  const bool paper = name.rfind("paper_", 0) == 0;
  const bool known = name == "recall" || name == "ndcg" || name == "precision" ||
                     name == "hit_rate" || name == "mrr" || name == "coverage" ||
                     name == "paper_recall" || name == "paper_ndcg";
  const char* digits = at == std::string::npos ? nullptr : metric.data() + at + 1;
  const bool parsed = digits && std::from_chars(digits, metric.data() + metric.size(), k).ptr ==
                                    metric.data() + metric.size();
  const bool has_k = parsed && std::find(s.topk.begin(), s.topk.end(), k) != s.topk.end();
  const bool mode_ok = paper ? s.metrics != "standard" : s.metrics != "paper";
  if (!known || !has_k || !mode_ok)
    throw UsageError(
        "bad value for --early-stop: '" + metric +
        "' is not reported (metrics are recall|ndcg|precision|hit_rate|mrr|coverage@K, "
        "paper_recall|paper_ndcg@K with --metrics paper or both, K from --topk)");
}

/// Data preparation flags need --input, and --input replaces the other data flags.
inline void CheckPreparationFlags(const Settings& s,
                                  const std::vector<std::pair<std::string, std::string>>& flags) {
  if (!s.input.empty()) {
    if (!s.data.empty() || !s.train.empty() || !s.valid.empty())
      throw UsageError(
          "--input prepares train, valid and test itself: give either --input or "
          "--data / --train / --valid");
    if (!s.write_split.empty())
      for (const auto& [flag, value] : flags)
        for (const char* later : {"--json", "--save-model", "--export-npy", "--spectrum-svg",
                                  "--recommend-out", "--early-stop"})
          if (flag == later)
            throw UsageError(flag +
                             " has no effect with --write-split, which writes the split "
                             "and stops before training (train with --data DIR)");
    return;
  }
  for (const auto& [flag, value] : flags)
    for (const char* prep :
         {"--columns", "--min-rating", "--duplicates", "--kcore", "--split", "--write-split"})
      if (flag == prep)
        throw UsageError(flag + " prepares a raw log and needs --input FILE (see --help)");
  if (s.valid_fraction > 0 && !s.valid.empty())
    throw UsageError("give either --valid FILE or --valid-fraction F, not both");
}

/// Applies a preset file (preset_file.hpp, included at the end of this header).
inline void ApplyPresetFile(Settings& s, const std::string& path);

/// Parses argv: the preset (if any) first, then the preset file (if any), then the explicit
/// flags over both, so they win.
inline Settings ParseSettings(const std::vector<std::string>& args) {
  std::vector<std::pair<std::string, std::string>> flags;
  std::string preset, preset_file;
  for (std::size_t a = 0; a < args.size(); ++a) {
    std::string flag = args[a], value;
    if (flag.rfind("--", 0) != 0)
      throw UsageError("unexpected argument '" + flag + "' (see --help)");
    if (const auto eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (!IsSwitch(flag)) {
      if (a + 1 >= args.size()) throw UsageError("flag " + flag + " needs a value");
      value = args[++a];
    }
    if (flag == "--preset")
      preset = value;
    else if (flag == "--preset-file")
      preset_file = value;
    else
      flags.emplace_back(flag, value);
  }
  Settings s;
  if (!preset.empty()) {
    const auto it = Presets().find(preset);
    if (it == Presets().end())
      throw UsageError("unknown preset '" + preset + "' (see --list-presets)");
    for (const auto& [flag, value] : it->second.flags) ApplyFlag(s, flag, value);
    s.preset = preset;
  }
  if (!preset_file.empty()) {
    ApplyPresetFile(s, preset_file);
    s.preset_file = preset_file;
  }
  for (const auto& [flag, value] : flags) ApplyFlag(s, flag, value);
  if (!s.train.empty() != !s.test.empty()) throw UsageError("--train and --test go together");
  if (!s.early_stop.empty()) CheckMetricName(s, s.early_stop);
  if (!s.data.empty() && !s.train.empty()) throw UsageError("give either --data or --train/--test");
  CheckPreparationFlags(s, flags);
  const bool every_given = std::any_of(
      flags.begin(), flags.end(), [](const auto& f) { return f.first == "--checkpoint-every"; });
  if (every_given && s.checkpoint.empty())
    throw UsageError("--checkpoint-every needs --checkpoint FILE");
  return s;
}

}  // namespace directspec_cli

#include "preset_file.hpp"  // NOLINT: defines ApplyPresetFile, which needs ApplyFlag above
