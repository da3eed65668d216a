// Preset files: a setting saved as readable, editable `key = value` lines, one flag of
// directspec-train per line (the flag without its dashes). directspec-tune writes the best setting
// it found in this form (--out), and `directspec-train --preset-file FILE` reads it back. The
// parser sits between the named presets and the explicit flags (settings.hpp: preset, then preset
// file, then flags, so explicit flags still win). Errors name the file, the line and the value.
//
//   # a comment
//   model = mf
//   filter = directspec+
//   alpha = 0.6          # a trailing comment after " #"
//   normalize = true     # switches take true or false
#pragma once

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "directspec/core/text.hpp"
#include "settings.hpp"

namespace directspec_cli {

// The CLI is a client of the library, written in its vocabulary; it adds nothing to it.
using namespace directspec;

/// One `key = value` line of a preset file.
struct PresetEntry {
  std::string key;    // flag name without "--", e.g. "alpha"
  std::string value;  // as written, surrounding blanks removed
  int line = 0;       // 1-based
};

namespace detail {

inline std::string Where(const std::string& source, int line) {
  return source + ":" + std::to_string(line) + ": ";
}

/// Keys a preset file may not set: they choose other files or presets, not a setting.
inline bool Forbidden(const std::string& key) { return key == "preset" || key == "preset-file"; }

}  // namespace detail

/// Splits preset text into entries; throws UsageError "SOURCE:LINE: ..." on a line that is not a
/// comment, blank or `key = value`.
inline std::vector<PresetEntry> ParsePresetText(std::string_view text, const std::string& source) {
  std::vector<PresetEntry> entries;
  int line_no = 0;
  std::size_t at = 0;
  while (at <= text.size()) {
    const auto end = std::min(text.find('\n', at), text.size());
    std::string line(text.substr(at, end - at));
    at = end + 1;
    ++line_no;
    if (const auto hash = line.find(" #"); hash != std::string::npos) line.resize(hash);
    if (const auto hash = line.find("\t#"); hash != std::string::npos) line.resize(hash);
    line = std::string(TrimBlanks(line));
    if (line.empty() || line[0] == '#') {
      if (end == text.size()) break;
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos)
      throw UsageError(detail::Where(source, line_no) + "expected 'key = value', found '" + line +
                       "'");
    PresetEntry e{std::string(TrimBlanks(std::string_view(line).substr(0, eq))),
                  std::string(TrimBlanks(std::string_view(line).substr(eq + 1))), line_no};
    if (e.key.rfind("--", 0) == 0) e.key = e.key.substr(2);  // "--alpha = 1" is forgiven
    if (e.key.empty())
      throw UsageError(detail::Where(source, line_no) + "missing key before '=' in '" + line + "'");
    if (detail::Forbidden(e.key))
      throw UsageError(detail::Where(source, line_no) + "'" + e.key +
                       "' cannot be set inside a preset file");
    for (const auto& previous : entries)
      if (previous.key == e.key)
        throw UsageError(detail::Where(source, line_no) + "'" + e.key +
                         "' is set twice (first on line " + std::to_string(previous.line) + ")");
    entries.push_back(std::move(e));
    if (end == text.size()) break;
  }
  return entries;
}

/// Applies entries as if they were flags (ApplyFlag checks every value). A switch takes `true`
/// or `false` (`normalize = false` is --no-normalize). Errors carry "SOURCE:LINE: ".
inline void ApplyPresetEntries(Settings& s, const std::vector<PresetEntry>& entries,
                               const std::string& source) {
  for (const auto& e : entries) {
    const std::string flag = "--" + e.key;
    try {
      if (IsSwitch(flag) || e.key == "normalize") {
        if (e.value != "true" && e.value != "false")
          throw UsageError("bad value for " + flag + ": '" + e.value + "' (expected true|false)");
        if (e.key == "help" || e.key == "list-presets")
          throw UsageError("unknown flag '" + flag + "' (see --help)");
        const bool on = e.value == "true";
        if (e.key == "normalize" || e.key == "no-normalize")
          ApplyFlag(s, (on == (e.key == "normalize")) ? "--normalize" : "--no-normalize", "");
        else if (on)
          ApplyFlag(s, flag, "");
      } else {
        ApplyFlag(s, flag, e.value);
      }
    } catch (const UsageError& error) {
      throw UsageError(detail::Where(source, e.line) + error.what());
    }
  }
}

/// Reads `path` and applies it to `s`.
inline void ApplyPresetFile(Settings& s, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const std::error_code ec(errno, std::generic_category());
    throw UsageError("bad value for --preset-file: '" + path + "': cannot open (" + ec.message() +
                     ")");
  }
  std::ostringstream text;
  text << in.rdbuf();
  ApplyPresetEntries(s, ParsePresetText(text.str(), path), path);
}

/// The preset-file text of `s`: every setting that shapes the model and its training (the
/// filter's and the loss's own knobs only when that filter or loss is chosen), preceded by
/// `comments` as '#' lines. Numbers are written in the shortest form that reads back exactly.
inline std::string PresetFileText(const Settings& s, const std::vector<std::string>& comments) {
  std::string out;
  for (const auto& c : comments) out += "# " + c + "\n";
  auto put = [&](const char* key, const std::string& value) {
    out += std::string(key) + " = " + value + "\n";
  };
  put("model", s.model);
  if (s.model == "lightgcn") {
    put("layers", std::to_string(s.layers));
    put("layer-weights", s.layer_weights);
  }
  put("dim", std::to_string(s.dim));
  put("filter", s.filter);
  if (s.filter == "directspec" || s.filter == "directspec+" || s.filter == "adaptive")
    put("alpha", FormatValue(s.alpha));
  if (s.filter == "directspec+") put("tau", FormatValue(s.tau));
  if (s.filter == "adaptive") {
    put("tau0", FormatValue(s.tau0));
    put("tau1", FormatValue(s.tau1));
  }
  put("shrink", FormatValue(s.shrink));
  put("normalize", s.normalize ? "true" : "false");
  put("loss", s.loss);
  if (s.loss == "bpr") put("negatives", std::to_string(s.negatives));
  if (s.loss == "directau") put("gamma", FormatValue(s.gamma));
  if (s.loss == "ssm") put("temperature", FormatValue(s.temperature));
  put("output-l2", FormatValue(s.output_l2));
  put("weight-decay", FormatValue(s.weight_decay));
  put("optimizer", s.optimizer);
  put("lr", FormatValue(s.lr));
  put("lr-decay", FormatValue(s.lr_decay));
  put("batch", std::to_string(s.batch));
  put("epochs", std::to_string(s.epochs));
  if (s.steps_per_epoch > 0) put("steps-per-epoch", std::to_string(s.steps_per_epoch));
  put("seed", std::to_string(s.seed));
  return out;
}

}  // namespace directspec_cli
