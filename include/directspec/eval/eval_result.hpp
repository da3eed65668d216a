// EvalResult: what one evaluation returns — named metric values in a fixed order ("recall@20",
// "ndcg@20", "paper_recall@20", ...), counts, timing, and optionally the per-user values that
// significance tests need. It serialises to JSON for logs and experiment records.
#pragma once

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "directspec/core/text.hpp"
#include "directspec/core/types.hpp"

namespace directspec {

/// Per-user metric values: values(r, c) is metric names[c] of user users[r].
struct PerUserMetrics {
  std::vector<Id> users;
  std::vector<std::string> names;
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> values;

  /// Column of one metric (throws std::out_of_range when absent).
  Eigen::VectorXd Column(std::string_view name) const {
    for (std::size_t c = 0; c < names.size(); ++c)
      if (names[c] == name) return values.col(static_cast<Index>(c));
    throw std::out_of_range("PerUserMetrics: no metric '" + std::string(name) + "'");
  }
};

/// Summary of one evaluation.
///
///   EvalResult r = evaluator.Evaluate(U, I);
///   double ndcg = r.Get("ndcg@20");
///   std::cout << r.ToJson() << "\n";   // {"epoch":0,"users":5551,...,"recall@20":0.2431,...}
struct EvalResult {
  Index epoch = 0;            // set by callbacks (0 when evaluated outside training)
  Index users_evaluated = 0;  // users with >= 1 test item (the standard-mode denominator)
  Index users_total = 0;      // all users (the paper-mode denominator)
  Index items = 0;            // catalogue size
  double seconds = 0;         // wall time of the evaluation
  std::vector<std::pair<std::string, double>> metrics;  // in report order
  PerUserMetrics per_user;                              // filled when EvalOptions::keep_per_user

  bool Has(std::string_view name) const {
    for (const auto& [n, v] : metrics)
      if (n == name) return true;
    return false;
  }

  /// Value of a metric; throws std::out_of_range naming the metric and the available ones.
  double Get(std::string_view name) const {
    for (const auto& [n, v] : metrics)
      if (n == name) return v;
    std::string known;
    for (const auto& [n, v] : metrics) known += (known.empty() ? "" : ", ") + n;
    throw std::out_of_range("EvalResult: no metric '" + std::string(name) + "' (have: " + known +
                            ")");
  }

  void Set(std::string name, double value) {
    for (auto& [n, v] : metrics)
      if (n == name) {
        v = value;
        return;
      }
    metrics.emplace_back(std::move(name), value);
  }

  /// One JSON object: epoch, counts, seconds, then every metric in order. Non-finite values are
  /// written as null (JSON has no NaN).
  std::string ToJson() const {
    std::string out = "{\"epoch\":" + std::to_string(epoch) +
                      ",\"users\":" + std::to_string(users_evaluated) +
                      ",\"users_total\":" + std::to_string(users_total) +
                      ",\"items\":" + std::to_string(items) + ",\"seconds\":" + JsonNumber(seconds);
    for (const auto& [n, v] : metrics) {
      out += ',';
      out += JsonString(n);
      out += ':';
      out += JsonNumber(v);
    }
    out += '}';
    return out;
  }
};

}  // namespace directspec
