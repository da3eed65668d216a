// SVG plots in plain C++ (no plotting dependency): singular-value spectra on a log scale for one
// or several models, and line charts of per-epoch curves (effective rank, recall, loss). They
// turn the diagnostics of spectrum.hpp and the callback histories into pictures for reports.
// Every series is exactly one <path> element (gaps inside a series restart it with "M"); axes,
// grid and legend use <line>, <rect> and <text> only.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "directspec/core/types.hpp"
#include "directspec/io/atomic_file.hpp"

namespace directspec {

/// One curve: y against x (same length). Non-finite points (and y <= 0 on a log axis) leave gaps.
struct PlotSeries {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
};

struct PlotOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_y = false;
  int width = 760;
  int height = 460;
  bool markers = true;  // circles at the points when a series has at most 60 of them
};

/// One model's singular values for SpectrumChartSvg.
struct NamedSpectrum {
  std::string name;
  Eigen::VectorXd singular_values;  // descending
};

namespace detail {

inline std::string Escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters even when escaped.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') out += c;
    }
  }
  return out;
}

inline std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

inline const char* Color(std::size_t k) {
  static const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return palette[k % 10];
}

/// "Nice" tick step (1, 2 or 5 times a power of ten) giving about `target` intervals.
inline double NiceStep(double range, int target) {
  const double raw = range / std::max(target, 1);
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / p;
  return (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * p;
}

inline std::string TickLabel(double v, double step) {
  char buf[32];
  if (std::abs(v) < step * 1e-6) v = 0;
  const double mag = std::max(std::abs(v), step);
  if (mag >= 1e5 || mag < 1e-3) {
    std::snprintf(buf, sizeof(buf), "%.3g", v);
  } else {
    const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
    std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  }
  return buf;
}

inline std::string PowerLabel(int e) {
  if (e >= 0 && e <= 4) return std::to_string(static_cast<long>(std::pow(10.0, e) + 0.5));
  if (e < 0 && e >= -3) {
    std::string s = "0.";
    for (int k = 1; k < -e; ++k) s += '0';
    return s + "1";
  }
  return "1e" + std::to_string(e);
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void Add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool Empty() const { return !(lo <= hi); }
};

}  // namespace detail

/// A line chart of several series with axes, ticks, labels, a title and a legend.
///
///   PlotSeries a{"DirectSpec+", {1, 2, 3}, {20.1, 35.7, 48.2}};
///   std::string svg = LineChartSvg({a}, {.title = "erank", .x_label = "epoch"});
///   WriteSvgFile("erank.svg", svg);
inline std::string LineChartSvg(std::span<const PlotSeries> series, const PlotOptions& o) {
  using namespace detail;
  for (const auto& s : series)
    if (s.x.size() != s.y.size())
      throw std::invalid_argument("LineChartSvg: series '" + s.name + "' has " +
                                  std::to_string(s.x.size()) + " x values and " +
                                  std::to_string(s.y.size()) + " y values");
  auto usable = [&](double x, double y) {
    return std::isfinite(x) && std::isfinite(y) && (!o.log_y || y > 0);
  };
  Range xr, yr;
  for (const auto& s : series)
    for (std::size_t k = 0; k < s.x.size(); ++k)
      if (usable(s.x[k], s.y[k])) {
        xr.Add(s.x[k]);
        yr.Add(o.log_y ? std::log10(s.y[k]) : s.y[k]);
      }
  if (xr.Empty()) xr = {0.0, 1.0};
  if (yr.Empty()) yr = {0.0, 1.0};
  if (xr.hi - xr.lo <= 0) xr = {xr.lo - 1.0, xr.hi + 1.0};
  if (yr.hi - yr.lo <= 0)
    yr = {yr.lo - (o.log_y ? 1.0 : std::max(1.0, std::abs(yr.lo) * 0.1)),
          yr.hi + (o.log_y ? 0.0 : std::max(1.0, std::abs(yr.hi) * 0.1))};

  // Y ticks: decades on a log axis (every few decades if there are many), nice steps otherwise.
  std::vector<std::pair<double, std::string>> yticks, xticks;
  if (o.log_y) {
    const int lo = static_cast<int>(std::floor(yr.lo + 1e-9)),
              hi = static_cast<int>(std::ceil(yr.hi - 1e-9));
    const int stride = std::max(1, (hi - lo + 7) / 8);
    yr = {static_cast<double>(lo), static_cast<double>(std::max(hi, lo + 1))};
    for (int e = hi; e >= lo; e -= stride) yticks.emplace_back(e, PowerLabel(e));
  } else {
    const double step = NiceStep(yr.hi - yr.lo, 5);
    yr = {std::floor(yr.lo / step) * step, std::ceil(yr.hi / step) * step};
    for (double v = yr.lo; v <= yr.hi + step * 1e-6; v += step)
      yticks.emplace_back(v, TickLabel(v, step));
  }
  {
    const double step = NiceStep(xr.hi - xr.lo, 6);
    const double first = std::ceil(xr.lo / step - 1e-9) * step;
    for (double v = first; v <= xr.hi + step * 1e-6; v += step)
      xticks.emplace_back(v, TickLabel(v, step));
  }

  // Layout: the legend sits right of the plot area.
  std::size_t longest = 0;
  for (const auto& s : series) longest = std::max(longest, s.name.size());
  const double legend_w = series.empty() ? 0.0 : 40.0 + 7.0 * static_cast<double>(longest);
  const double left = 78, right = 20 + legend_w, top = o.title.empty() ? 24 : 48, bottom = 58;
  const double W = o.width, H = o.height;
  const double pw = std::max(W - left - right, 40.0), ph = std::max(H - top - bottom, 40.0);
  auto px = [&](double x) { return left + (x - xr.lo) / (xr.hi - xr.lo) * pw; };
  auto py = [&](double y) { return top + ph - (y - yr.lo) / (yr.hi - yr.lo) * ph; };

  std::string out;
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(o.width) +
         "\" height=\"" + std::to_string(o.height) + "\" viewBox=\"0 0 " + std::to_string(o.width) +
         " " + std::to_string(o.height) + "\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n";
  out += "<rect x=\"0\" y=\"0\" width=\"" + Num(W) + "\" height=\"" + Num(H) +
         "\" fill=\"#ffffff\"/>\n";
  if (!o.title.empty())
    out += "<text x=\"" + Num(left + pw / 2) +
           "\" y=\"30\" text-anchor=\"middle\" font-size=\"17\" "
           "font-weight=\"bold\">" +
           Escape(o.title) + "</text>\n";
  // Grid and ticks.
  for (const auto& [v, label] : yticks) {
    const double y = py(v);
    out += "<line x1=\"" + Num(left) + "\" y1=\"" + Num(y) + "\" x2=\"" + Num(left + pw) +
           "\" y2=\"" + Num(y) + "\" stroke=\"#e3e3e3\" stroke-width=\"1\"/>\n";
    out += "<line x1=\"" + Num(left - 5) + "\" y1=\"" + Num(y) + "\" x2=\"" + Num(left) +
           "\" y2=\"" + Num(y) + "\" stroke=\"#333333\" stroke-width=\"1\"/>\n";
    out += "<text x=\"" + Num(left - 8) + "\" y=\"" + Num(y + 4) +
           "\" text-anchor=\"end\" font-size=\"12\">" + Escape(label) + "</text>\n";
  }
  for (const auto& [v, label] : xticks) {
    const double x = px(v);
    out += "<line x1=\"" + Num(x) + "\" y1=\"" + Num(top) + "\" x2=\"" + Num(x) + "\" y2=\"" +
           Num(top + ph) + "\" stroke=\"#eeeeee\" stroke-width=\"1\"/>\n";
    out += "<line x1=\"" + Num(x) + "\" y1=\"" + Num(top + ph) + "\" x2=\"" + Num(x) + "\" y2=\"" +
           Num(top + ph + 5) + "\" stroke=\"#333333\" stroke-width=\"1\"/>\n";
    out += "<text x=\"" + Num(x) + "\" y=\"" + Num(top + ph + 19) +
           "\" text-anchor=\"middle\" font-size=\"12\">" + Escape(label) + "</text>\n";
  }
  out += "<rect x=\"" + Num(left) + "\" y=\"" + Num(top) + "\" width=\"" + Num(pw) +
         "\" height=\"" + Num(ph) + "\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>\n";
  if (!o.x_label.empty())
    out += "<text x=\"" + Num(left + pw / 2) + "\" y=\"" + Num(H - 14) +
           "\" text-anchor=\"middle\" font-size=\"14\">" + Escape(o.x_label) + "</text>\n";
  if (!o.y_label.empty())
    out += "<text x=\"18\" y=\"" + Num(top + ph / 2) +
           "\" text-anchor=\"middle\" font-size=\"14\" "
           "transform=\"rotate(-90 18 " +
           Num(top + ph / 2) + ")\">" + Escape(o.y_label) + "</text>\n";

  // Series: one path each, then markers, then the legend entry.
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    std::string d;
    bool pen_down = false;
    std::size_t points = 0;
    std::string marks;
    for (std::size_t q = 0; q < s.x.size(); ++q) {
      if (!usable(s.x[q], s.y[q])) {
        pen_down = false;
        continue;
      }
      const double x = px(s.x[q]), y = py(o.log_y ? std::log10(s.y[q]) : s.y[q]);
      d += (pen_down ? " L" : (d.empty() ? "M" : " M")) + Num(x) + " " + Num(y);
      pen_down = true;
      ++points;
      marks += "<circle cx=\"" + Num(x) + "\" cy=\"" + Num(y) + "\" r=\"2.6\" fill=\"" + Color(k) +
               "\"/>\n";
    }
    if (d.empty()) d = "M" + Num(left) + " " + Num(top + ph);  // keeps one path per series
    out += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + Color(k) +
           "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n";
    if (o.markers && points <= 60) out += marks;
    const double ly = top + 12 + 20.0 * static_cast<double>(k), lx = left + pw + 14;
    out += "<line x1=\"" + Num(lx) + "\" y1=\"" + Num(ly) + "\" x2=\"" + Num(lx + 24) + "\" y2=\"" +
           Num(ly) + "\" stroke=\"" + Color(k) + "\" stroke-width=\"2.5\"/>\n";
    out += "<text x=\"" + Num(lx + 30) + "\" y=\"" + Num(ly + 4) + "\" font-size=\"12\">" +
           Escape(s.name) + "</text>\n";
  }
  out += "</svg>\n";
  return out;
}

inline std::string LineChartSvg(const std::vector<PlotSeries>& series, const PlotOptions& o) {
  return LineChartSvg(std::span<const PlotSeries>(series), o);
}

/// Singular values of one or several models, each normalised by its largest, on a log axis
/// against the index 1..d (the paper's Figure-1 style view of collapse).
///
///   std::vector<NamedSpectrum> s{{"MF", StackedSingularValues(U0, I0)},
///                                {"MF + DirectSpec+", StackedSingularValues(U1, I1)}};
///   WriteSvgFile("spectrum.svg", SpectrumChartSvg(s));
inline std::string SpectrumChartSvg(std::span<const NamedSpectrum> spectra, PlotOptions o = {}) {
  if (o.title.empty()) o.title = "Singular values (normalised by the largest)";
  if (o.x_label.empty()) o.x_label = "index k";
  if (o.y_label.empty()) o.y_label = "σ_k / σ_1";
  o.log_y = true;
  std::vector<PlotSeries> series;
  for (const auto& s : spectra) {
    PlotSeries p{s.name, {}, {}};
    const double top = s.singular_values.size() > 0 ? s.singular_values.maxCoeff() : 0.0;
    for (Index k = 0; k < s.singular_values.size(); ++k) {
      p.x.push_back(static_cast<double>(k + 1));
      p.y.push_back(top > 0 ? s.singular_values(k) / top : 0.0);
    }
    series.push_back(std::move(p));
  }
  return LineChartSvg(series, o);
}

inline std::string SpectrumChartSvg(const std::vector<NamedSpectrum>& spectra, PlotOptions o = {}) {
  return SpectrumChartSvg(std::span<const NamedSpectrum>(spectra), std::move(o));
}

/// Writes an SVG (or any text) file atomically (io/atomic_file.hpp): the previous file stays until
/// the new one is complete; failures throw IoError naming the file and the reason.
inline void WriteSvgFile(const std::string& path, const std::string& svg) {
  AtomicWriteFile(path, std::string_view(svg));
}

}  // namespace directspec
