// directspec-train settings: every flag of the CLI as one struct, the reference presets
// (docs/method.md#reference-recipe) and the flag parser that fills it (explicit flags override a
// preset).
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace directspec::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Settings {
  // data
  std::string data, train, test, valid;
  // model and method
  std::string model = "mf";  // mf | lightgcn
  int layers = 3;
  std::string layer_weights = "sum";   // sum | mean
  std::string filter = "directspec+";  // none | directspec | directspec+ | adaptive
  double alpha = 1.0, tau = 3.0, tau0 = 2.5, tau1 = 3.0, shrink = 0.0;
  std::string loss = "log";  // log | bpr | directau | ssm
  int negatives = 1;
  double gamma = 1.0, temperature = 0.2, reg = 0.0, weight_decay = 0.0;
  std::string optimizer = "sgd";  // sgd | adam
  double lr = 10.0, lr_decay = 1.0;
  int dim = 64, batch = 256, epochs = 30;
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
  int k = 20;
  bool quiet = false;
  std::string preset;
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
    struct Reference {
      const char* name;
      const char* lr;
      const char* alpha;
      const char* tau;
      const char* tau0;
      const char* tau1;
      const char* shrink;
    };
    const Reference refs[] = {{"citeulike", "180", "1.0", "3.0", "2.5", "3.0", "0.03"},
                              {"gowalla", "200", "0.7", "4.0", "3.5", "4.0", "0.02"},
                              {"yelp", "10", "0.8", "3.0", "2.5", "3.0", "0"}};
    for (const auto& r : refs) {
      const std::vector<std::pair<std::string, std::string>> common{
          {"--loss", "log"}, {"--optimizer", "sgd"}, {"--lr", r.lr},     {"--alpha", r.alpha},
          {"--tau", r.tau},  {"--tau0", r.tau0},     {"--tau1", r.tau1}, {"--shrink", r.shrink},
          {"--dim", "64"},   {"--batch", "256"}};
      auto make = [&](const char* model, const char* filter, const char* epochs, const char* decay,
                      const char* reg, const std::string& what) {
        Preset preset{std::string(r.name) + ": " + what, common};
        preset.flags.insert(preset.flags.end(), {{"--model", model},
                                                 {"--filter", filter},
                                                 {"--epochs", epochs},
                                                 {"--lr-decay", decay},
                                                 {"--reg", reg}});
        return preset;
      };
      const std::string n = r.name;
      p[n + "-mf"] =
          make("mf", "directspec+", "300", "0.9995", "0", "MF + DirectSpec+ (reference MF script)");
      p[n + "-mf-adaptive"] = make("mf", "adaptive", "50", "0.9999", "0",
                                   "MF + adaptive DirectSpec+ (reference script)");
      if (n == "citeulike") {
        // Linear DirectSpec has no published settings: α 2 won a validation grid carved from
        // CiteULike's train set, and it peaks near epoch 40 (docs/reproduction.md).
        p[n + "-mf-linear"] = make("mf", "directspec", "40", "0.9995", "0",
                                   "MF + linear DirectSpec (alpha tuned on validation)");
        for (auto& [flag, value] : p[n + "-mf-linear"].flags)
          if (flag == "--alpha") value = "2";
      }
      p[n + "-lightgcn"] = make("lightgcn", "directspec+", "200", "0.9999", "0.01",
                                "LightGCN + DirectSpec+ (reference LightGCN script)");
      p[n + "-lightgcn-adaptive"] = make("lightgcn", "adaptive", "390", "0.9999", "0.01",
                                         "LightGCN + adaptive DirectSpec+ (reference script)");
    }
    // Baselines with the customary LightGCN-PyTorch settings: Adam 1e-3, batch 2048, L2 1e-4.
    const std::vector<std::pair<std::string, std::string>> bpr{
        {"--loss", "bpr"},    {"--filter", "none"},       {"--no-normalize", ""},
        {"--negatives", "1"}, {"--optimizer", "adam"},    {"--lr", "0.001"},
        {"--lr-decay", "1"},  {"--weight-decay", "1e-4"}, {"--dim", "64"},
        {"--batch", "2048"},  {"--shrink", "0"},          {"--reg", "0"}};
    p["bpr-mf"] = {"MF trained with BPR (1 uniform negative), Adam, layer-0 L2", bpr};
    p["bpr-mf"].flags.insert(p["bpr-mf"].flags.end(), {{"--model", "mf"}, {"--epochs", "300"}});
    p["lightgcn-bpr"] = {"LightGCN (3 layers, mean weights) with BPR, Adam, layer-0 L2", bpr};
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
  auto positive = [&](int v) {
    if (v <= 0) throw UsageError("bad value for " + flag + ": '" + value + "' must be positive");
    return v;
  };
  auto non_negative = [&](double v) {
    if (!(v >= 0)) throw UsageError("bad value for " + flag + ": '" + value + "' must be >= 0");
    return v;
  };
  const std::map<std::string, std::function<void()>> setters{
      {"--data", [&] { s.data = value; }},
      {"--train", [&] { s.train = value; }},
      {"--test", [&] { s.test = value; }},
      {"--valid", [&] { s.valid = value; }},
      {"--model",
       [&] {
         s.model = Choice(flag, value, {"mf", "lightgcn"});
       }},
      {"--layers", [&] { s.layers = positive(ParseNumber<int>(flag, value)); }},
      {"--layer-weights",
       [&] {
         s.layer_weights = Choice(flag, value, {"sum", "mean"});
       }},
      {"--filter",
       [&] {
         s.filter = Choice(flag, value, {"none", "directspec", "directspec+", "adaptive"});
       }},
      {"--alpha", [&] { s.alpha = non_negative(ParseNumber<double>(flag, value)); }},
      {"--tau", [&] { s.tau = ParseNumber<double>(flag, value); }},
      {"--tau0", [&] { s.tau0 = ParseNumber<double>(flag, value); }},
      {"--tau1", [&] { s.tau1 = ParseNumber<double>(flag, value); }},
      {"--shrink", [&] { s.shrink = non_negative(ParseNumber<double>(flag, value)); }},
      {"--loss",
       [&] {
         s.loss = Choice(flag, value, {"log", "bpr", "directau", "ssm"});
       }},
      {"--negatives", [&] { s.negatives = positive(ParseNumber<int>(flag, value)); }},
      {"--gamma", [&] { s.gamma = non_negative(ParseNumber<double>(flag, value)); }},
      {"--temperature",
       [&] {
         s.temperature = ParseNumber<double>(flag, value);
         if (!(s.temperature > 0)) throw UsageError("bad value for --temperature: must be > 0");
       }},
      {"--reg", [&] { s.reg = non_negative(ParseNumber<double>(flag, value)); }},
      {"--weight-decay", [&] { s.weight_decay = non_negative(ParseNumber<double>(flag, value)); }},
      {"--optimizer",
       [&] {
         s.optimizer = Choice(flag, value, {"sgd", "adam"});
       }},
      {"--lr",
       [&] {
         s.lr = ParseNumber<double>(flag, value);
         if (!(s.lr > 0)) throw UsageError("bad value for --lr: '" + value + "' must be > 0");
       }},
      {"--lr-decay",
       [&] {
         s.lr_decay = ParseNumber<double>(flag, value);
         if (!(s.lr_decay > 0 && s.lr_decay <= 1))
           throw UsageError("bad value for --lr-decay: '" + value + "' must be in (0, 1]");
       }},
      {"--dim", [&] { s.dim = positive(ParseNumber<int>(flag, value)); }},
      {"--batch", [&] { s.batch = positive(ParseNumber<int>(flag, value)); }},
      {"--epochs", [&] { s.epochs = positive(ParseNumber<int>(flag, value)); }},
      {"--steps-per-epoch",
       [&] {
         s.steps_per_epoch = ParseNumber<long long>(flag, value);
         if (s.steps_per_epoch < 0)
           throw UsageError("bad value for --steps-per-epoch: must be >= 0");
       }},
      {"--subsample",
       [&] {
         s.subsample = ParseNumber<double>(flag, value);
         if (!(s.subsample > 0 && s.subsample <= 1))
           throw UsageError("bad value for --subsample: '" + value + "' must be in (0, 1]");
       }},
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
      {"--k", [&] { s.k = positive(ParseNumber<int>(flag, value)); }},
      {"--quiet", [&] { s.quiet = true; }},
  };
  const auto it = setters.find(flag);
  if (it == setters.end()) throw UsageError("unknown flag '" + flag + "' (see --help)");
  it->second();
}

/// Flags that take no value.
inline bool IsSwitch(const std::string& flag) {
  return flag == "--no-normalize" || flag == "--normalize" || flag == "--quiet" ||
         flag == "--help" || flag == "--list-presets";
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

/// Parses argv: the preset (if any) first, then the explicit flags over it, so they win.
inline Settings ParseSettings(const std::vector<std::string>& args) {
  std::vector<std::pair<std::string, std::string>> flags;
  std::string preset;
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
  for (const auto& [flag, value] : flags) ApplyFlag(s, flag, value);
  if (!s.train.empty() != !s.test.empty()) throw UsageError("--train and --test go together");
  if (!s.early_stop.empty()) CheckMetricName(s, s.early_stop);
  if (!s.data.empty() && !s.train.empty()) throw UsageError("give either --data or --train/--test");
  return s;
}

}  // namespace directspec::cli
