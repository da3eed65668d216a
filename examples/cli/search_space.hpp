// directspec-tune's search space: which flags of directspec-train it varies and over what range,
// declared as `name=spec` entries on the command line (--space, comma separated) or one per line
// in a small file (--space-file), parsed and checked here before any data is read. Also the
// default space for each (filter, loss, optimizer), and the seeded sampling (uniform, log-uniform,
// integer, choice) and perturbation of settings that the search (tuner.hpp) draws from.
//
//   alpha=0.2:1.5          uniform real in [0.2, 1.5]
//   tau=1:10:log           log-uniform real
//   negatives=1:8:int      uniform integer (1:64:log-int: log-uniform integer)
//   optimizer=sgd|adam     a choice
//   shrink=0               fixed (also how to take a default dimension out of the search)
//   epochs=5:135           the fidelity: first rung and most epochs a trial may train
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/core/text.hpp"
#include "settings.hpp"

namespace directspec_cli {

// The CLI is a client of the library, written in its vocabulary; it adds nothing to it.
using namespace directspec;

/// One searched (or fixed) flag.
struct Dimension {
  enum class Kind { kFixed, kUniform, kLogUniform, kInt, kLogInt, kChoice };
  std::string name;  // the flag without "--", e.g. "alpha"
  Kind kind = Kind::kFixed;
  double lo = 0, hi = 0;             // numeric kinds
  std::vector<std::string> choices;  // kChoice; kFixed holds its one value here

  bool Numeric() const { return kind != Kind::kFixed && kind != Kind::kChoice; }
  bool Log() const { return kind == Kind::kLogUniform || kind == Kind::kLogInt; }
  bool Integer() const { return kind == Kind::kInt || kind == Kind::kLogInt; }
  std::string Spec() const;  // the text that parses back to this dimension
};

/// A setting drawn from a space: (flag name, value) in the space's dimension order.
using Assignment = std::vector<std::pair<std::string, std::string>>;

/// The flags a space may name (epochs is the fidelity, see SearchSpace).
inline const std::vector<std::string>& TunableNames() {
  static const std::vector<std::string> names{
      "alpha",     "tau",           "tau0",      "tau1",      "shrink",      "lr",    "lr-decay",
      "output-l2", "weight-decay",  "negatives", "gamma",     "temperature", "dim",   "batch",
      "layers",    "layer-weights", "filter",    "optimizer", "normalize",   "epochs"};
  return names;
}

namespace detail {

inline std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);) parts.emplace_back(TrimBlanks(part));
  if (!s.empty() && s.back() == sep) parts.emplace_back();
  return parts;
}

/// `v` with 4 significant digits, as the shortest text that reads back (readable presets).
inline std::string Round4(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  double rounded = std::strtod(buf, nullptr);
  const auto r = std::to_chars(buf, buf + sizeof(buf), rounded);
  return std::string(buf, r.ptr);
}

/// Applies one (name, value) to `s` through directspec-train's own checks.
inline void Apply(Settings& s, const std::string& name, const std::string& value) {
  if (name == "normalize") {
    if (value != "true" && value != "false")
      throw UsageError("bad value for normalize: '" + value + "' (expected true|false)");
    ApplyFlag(s, value == "true" ? "--normalize" : "--no-normalize", "");
    return;
  }
  ApplyFlag(s, "--" + name, value);
}

}  // namespace detail

inline std::string Dimension::Spec() const {
  using detail::Round4;
  switch (kind) {
    case Kind::kFixed:
      return choices.front();
    case Kind::kChoice: {
      std::string out;
      for (const auto& c : choices) out += (out.empty() ? "" : "|") + c;
      return out;
    }
    case Kind::kUniform:
      return Round4(lo) + ":" + Round4(hi);
    case Kind::kLogUniform:
      return Round4(lo) + ":" + Round4(hi) + ":log";
    case Kind::kInt:
      return Round4(lo) + ":" + Round4(hi) + ":int";
    case Kind::kLogInt:
      return Round4(lo) + ":" + Round4(hi) + ":log-int";
  }
  return "";
}

/// The dimensions and the epoch fidelity of a search.
struct SearchSpace {
  std::vector<Dimension> dims;
  int min_epochs = 5;    // the first rung: every trial trains at least this long
  int max_epochs = 135;  // no trial trains longer
  bool epochs_given = false;

  /// `name=spec` entries, comma separated, as --space takes them.
  std::string Describe() const {
    std::string out;
    for (const auto& d : dims) out += (out.empty() ? "" : ",") + d.name + "=" + d.Spec();
    out += (out.empty() ? "" : ",") + std::string("epochs=") + std::to_string(min_epochs) +
           (max_epochs != min_epochs ? ":" + std::to_string(max_epochs) : "");
    return out;
  }

  /// Replaces the dimensions `other` names (adding new ones) and its epochs when it sets them.
  void Override(const SearchSpace& other) {
    for (const auto& d : other.dims) {
      const auto it = std::find_if(dims.begin(), dims.end(),
                                   [&](const Dimension& mine) { return mine.name == d.name; });
      if (it != dims.end())
        *it = d;
      else
        dims.push_back(d);
    }
    if (other.epochs_given) {
      min_epochs = other.min_epochs;
      max_epochs = other.max_epochs;
      epochs_given = true;
    }
  }

  /// A uniform draw from every dimension (log dimensions uniform in the logarithm).
  Assignment Sample(std::mt19937_64& engine) const {
    Assignment out;
    for (const auto& d : dims) out.emplace_back(d.name, Draw(d, UniformUnit(engine), engine));
    return out;
  }

  /// A neighbour of `parent`: each numeric dimension moves by a normal step of `scale` of its
  /// (log-)range, clipped to the range; a choice changes with probability `scale`.
  Assignment Perturb(const Assignment& parent, double scale, std::mt19937_64& engine) const {
    Assignment out;
    for (std::size_t k = 0; k < dims.size(); ++k) {
      const auto& d = dims[k];
      const std::string& value = k < parent.size() ? parent[k].second : d.choices.front();
      if (d.kind == Dimension::Kind::kFixed) {
        out.emplace_back(d.name, d.choices.front());
      } else if (d.kind == Dimension::Kind::kChoice) {
        const bool change = UniformUnit(engine) < scale;
        out.emplace_back(d.name,
                         change ? d.choices[UniformIndex(engine, d.choices.size())] : value);
      } else {
        const double u = ToUnit(d, std::strtod(value.c_str(), nullptr));
        // Box-Muller from two portable uniforms (std::normal_distribution differs between
        // standard libraries).
        const double a = std::max(UniformUnit(engine), 1e-300), b = UniformUnit(engine);
        const double step = std::sqrt(-2 * std::log(a)) * std::cos(6.283185307179586 * b);
        out.emplace_back(d.name, Draw(d, std::clamp(u + scale * step, 0.0, 1.0), engine));
      }
    }
    return out;
  }

 private:
  static double ToUnit(const Dimension& d, double v) {
    if (d.hi == d.lo) return 0;
    const double u = d.Log() ? (std::log(v) - std::log(d.lo)) / (std::log(d.hi) - std::log(d.lo))
                             : (v - d.lo) / (d.hi - d.lo);
    return std::clamp(u, 0.0, 1.0);
  }

  static std::string Draw(const Dimension& d, double u, std::mt19937_64& engine) {
    switch (d.kind) {
      case Dimension::Kind::kFixed:
        return d.choices.front();
      case Dimension::Kind::kChoice:
        return d.choices[UniformIndex(engine, d.choices.size())];
      default:
        break;
    }
    double v = d.Log() ? std::exp(std::log(d.lo) + u * (std::log(d.hi) - std::log(d.lo)))
                       : d.lo + u * (d.hi - d.lo);
    if (d.Integer()) {
      v = std::clamp(std::floor(v + 0.5), std::ceil(d.lo), std::floor(d.hi));
      return std::to_string(static_cast<long long>(v));
    }
    const std::string text = detail::Round4(v);
    const double rounded = std::strtod(text.c_str(), nullptr);
    if (rounded < d.lo) return detail::Round4(d.lo);  // rounding never leaves the range
    if (rounded > d.hi) return detail::Round4(d.hi);
    return text;
  }
};

/// Settings `base` with `assignment` applied (each value through directspec-train's checks).
inline Settings ApplyAssignment(Settings base, const Assignment& assignment) {
  for (const auto& [name, value] : assignment) detail::Apply(base, name, value);
  return base;
}

namespace detail {

inline double Bound(const std::string& entry, const std::string& text, const char* what) {
  double v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty() || !std::isfinite(v))
    throw UsageError("'" + entry + "': the " + what + " bound '" + text + "' is not a number");
  return v;
}

inline Dimension ParseEntry(const std::string& entry) {
  const auto eq = entry.find('=');
  if (eq == std::string::npos)
    throw UsageError("'" + entry + "': expected name=spec (e.g. alpha=0.2:1.5, tau=1:10:log)");
  Dimension d;
  d.name = std::string(TrimBlanks(std::string_view(entry).substr(0, eq)));
  const std::string spec(TrimBlanks(std::string_view(entry).substr(eq + 1)));
  const auto& names = TunableNames();
  if (std::find(names.begin(), names.end(), d.name) == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw UsageError("'" + entry + "': '" + d.name + "' cannot be tuned (tunable: " + list + ")");
  }
  if (spec.empty()) throw UsageError("'" + entry + "': empty spec after '='");
  if (spec.find('|') != std::string::npos) {
    d.kind = Dimension::Kind::kChoice;
    d.choices = Split(spec, '|');
    for (const auto& c : d.choices)
      if (c.empty()) throw UsageError("'" + entry + "': empty choice in '" + spec + "'");
  } else if (spec.find(':') != std::string::npos) {
    const auto parts = Split(spec, ':');
    if (parts.size() < 2 || parts.size() > 3)
      throw UsageError("'" + entry + "': expected lo:hi or lo:hi:log|int|log-int, found '" + spec +
                       "'");
    d.lo = Bound(entry, parts[0], "lower");
    d.hi = Bound(entry, parts[1], "upper");
    const std::string scale = parts.size() == 3 ? parts[2] : "";
    if (scale.empty())
      d.kind = Dimension::Kind::kUniform;
    else if (scale == "log")
      d.kind = Dimension::Kind::kLogUniform;
    else if (scale == "int")
      d.kind = Dimension::Kind::kInt;
    else if (scale == "log-int")
      d.kind = Dimension::Kind::kLogInt;
    else
      throw UsageError("'" + entry + "': unknown scale '" + scale +
                       "' (expected log, int or log-int)");
    if (!(d.lo < d.hi))
      throw UsageError("'" + entry + "': the lower bound must be below the upper bound");
    if (d.Log() && !(d.lo > 0))
      throw UsageError("'" + entry + "': a log scale needs a lower bound > 0");
    if (d.Integer() && std::ceil(d.lo) > std::floor(d.hi))
      throw UsageError("'" + entry + "': no integer lies in the range");
  } else {
    d.kind = Dimension::Kind::kFixed;
    d.choices = {spec};
  }
  // Every value the dimension can produce must be one directspec-train accepts: check the
  // bounds (and each choice) with its own parser now, not after minutes of searching.
  if (d.name != "epochs") {
    Settings scratch;
    try {
      if (d.Numeric()) {
        Apply(scratch, d.name,
              d.Integer() ? std::to_string(static_cast<long long>(std::ceil(d.lo))) : Round4(d.lo));
        Apply(
            scratch, d.name,
            d.Integer() ? std::to_string(static_cast<long long>(std::floor(d.hi))) : Round4(d.hi));
      } else {
        for (const auto& c : d.choices) Apply(scratch, d.name, c);
      }
    } catch (const UsageError& e) {
      throw UsageError("'" + entry + "': " + e.what());
    }
  }
  return d;
}

}  // namespace detail

/// Parses `name=spec` entries separated by commas or newlines ('#' starts a comment line).
/// Throws UsageError "SOURCE[:LINE]: 'entry': reason".
inline SearchSpace ParseSpace(std::string_view text, const std::string& source) {
  SearchSpace space;
  std::set<std::string> seen;
  int line_no = 0;
  std::stringstream lines{std::string(text)};
  const bool multiline = text.find('\n') != std::string_view::npos;
  for (std::string line; std::getline(lines, line);) {
    ++line_no;
    const std::string trimmed(TrimBlanks(line));
    if (trimmed.empty() || trimmed[0] == '#') continue;
    const std::string where = source + (multiline ? ":" + std::to_string(line_no) : "") + ": ";
    for (const auto& entry : detail::Split(trimmed, ',')) {
      try {
        if (entry.empty()) throw UsageError("empty entry in '" + trimmed + "'");
        Dimension d = detail::ParseEntry(entry);
        if (!seen.insert(d.name).second)
          throw UsageError("'" + entry + "': '" + d.name + "' appears twice");
        if (d.name == "epochs") {
          if (d.kind == Dimension::Kind::kFixed) {
            d.lo = d.hi = detail::Bound(entry, d.choices.front(), "");
          } else if (d.kind != Dimension::Kind::kUniform && d.kind != Dimension::Kind::kInt) {
            throw UsageError("'" + entry +
                             "': epochs takes E or MIN:MAX (the first rung and the "
                             "most epochs of a trial)");
          }
          if (d.lo != std::floor(d.lo) || d.hi != std::floor(d.hi) || d.lo < 1 || d.hi > 1e6)
            throw UsageError("'" + entry + "': epochs must be whole numbers in [1, 1000000]");
          space.min_epochs = static_cast<int>(d.lo);
          space.max_epochs = static_cast<int>(d.hi);
          space.epochs_given = true;
          continue;
        }
        space.dims.push_back(std::move(d));
      } catch (const UsageError& e) {
        throw UsageError(where + e.what());
      }
    }
  }
  return space;
}

/// Reads a space file (one or more entries per line, '#' comments).
inline SearchSpace ParseSpaceFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("bad value for --space-file: '" + path + "': cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  std::string body = text.str();
  if (body.find('\n') == std::string::npos) body += "\n";  // line numbers in errors
  return ParseSpace(body, path);
}

/// The default space of `base` (its model, filter, loss and optimizer), in --space syntax.
/// docs/tuning.md explains each range.
inline std::string DefaultSpaceText(const Settings& base) {
  std::vector<std::string> e;
  const bool adam = base.optimizer == "adam";
  // Learning rates: Adam's customary range; plain SGD on L2-normalised rows needs large rates
  // (the reference uses 10 to 200), on raw rows ordinary ones.
  const std::string lr =
      adam ? "lr=0.0001:0.01:log" : (base.normalize ? "lr=1:300:log" : "lr=0.01:10:log");
  e.push_back(lr);
  if (base.filter == "directspec+") {
    e.push_back("alpha=0.2:1.5");
    e.push_back("tau=1:10:log");
  } else if (base.filter == "adaptive") {
    e.push_back("alpha=0.2:1.5");
    e.push_back("tau0=1:8:log");
    e.push_back("tau1=1:10:log");
  } else if (base.filter == "directspec") {
    e.push_back("alpha=0.25:4:log");
  }
  // shrink and lr-decay are not searched by default (add shrink=0:0.05, lr-decay=0.99:1 to
  // search them): on ml-100k every trial with shrink > 0 stayed at chance level for its first
  // epochs, so they only thinned the search (docs/tuning.md).
  if (base.loss == "bpr") {
    e.push_back("weight-decay=0.000001:0.1:log");
    e.push_back("negatives=1:8:log-int");
  } else if (base.loss == "directau") {
    e.push_back("gamma=0.2:5:log");
    e.push_back("weight-decay=0.000001:0.001:log");
  } else if (base.loss == "ssm") {
    e.push_back("temperature=0.05:1:log");
    e.push_back("weight-decay=0.000001:0.001:log");
  }
  // Sampled-negative losses with Adam's small steps learn more slowly per epoch.
  e.push_back(base.loss == "bpr" || (adam && base.filter == "none") ? "epochs=10:270"
                                                                    : "epochs=5:135");
  std::string out;
  for (const auto& x : e) out += (out.empty() ? "" : ",") + x;
  return out;
}

}  // namespace directspec_cli
