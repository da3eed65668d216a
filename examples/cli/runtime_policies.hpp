// Policies chosen at run time: directspec-train picks its filter and optimizer from flags, so it
// wraps the shipped policies in a std::variant behind the same contract (docs/architecture.md).
// This keeps the number of Trainer instantiations small (model x loss) and doubles as an example
// of a user-written policy that plugs into the stock Trainer.
#pragma once

#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "directspec/filters.hpp"
#include "directspec/optim.hpp"

namespace directspec_cli {

// The CLI is a client of the library, written in its vocabulary; it adds nothing to it.
using namespace directspec;

/// Any of the four shipped side filters, selected by name.
template <class S>
class AnyFilter {
 public:
  using Scalar = S;
  struct Options {
    std::string kind = "directspec+";  // none | directspec | directspec+ | adaptive
    S alpha = S(1), tau = S(3), tau0 = S(2.5), tau1 = S(3);
  };

  AnyFilter() : AnyFilter(Options{}) {}
  explicit AnyFilter(const Options& o) {
    if (o.kind == "none")
      filter_.template emplace<NoFilter<S>>();
    else if (o.kind == "directspec")
      filter_.template emplace<DirectSpec<S>>(typename DirectSpec<S>::Options{.alpha = o.alpha});
    else if (o.kind == "directspec+")
      filter_.template emplace<DirectSpecPlus<S>>(
          typename DirectSpecPlus<S>::Options{.alpha = o.alpha, .tau = o.tau});
    else if (o.kind == "adaptive")
      filter_.template emplace<AdaptiveDirectSpecPlus<S>>(
          typename AdaptiveDirectSpecPlus<S>::Options{
              .alpha = o.alpha, .tau0 = o.tau0, .tau1 = o.tau1});
    else
      throw std::invalid_argument("AnyFilter: unknown filter '" + o.kind + "'");
  }

  void Forward(const RowMatrix<S>& Xhat, const FilterContext& ctx, RowMatrix<S>& Y) {
    std::visit([&](auto& f) { f.Forward(Xhat, ctx, Y); }, filter_);
  }
  void Backward(const RowMatrix<S>& GY, RowMatrix<S>& GXhat) {
    std::visit([&](auto& f) { f.Backward(GY, GXhat); }, filter_);
  }

 private:
  std::variant<NoFilter<S>, DirectSpec<S>, DirectSpecPlus<S>, AdaptiveDirectSpecPlus<S>> filter_;
};

/// Plain SGD with per-epoch exponential decay (the reference) or Adam with the same decay.
template <class S>
class AnyOptimizer {
 public:
  using Scalar = S;

  static AnyOptimizer Sgd(double lr, double decay) {
    AnyOptimizer o;
    o.optimizer_.template emplace<directspec::Sgd<S, ExponentialDecay>>(lr,
                                                                        ExponentialDecay{decay});
    return o;
  }
  static AnyOptimizer Adam(double lr, double decay) {
    AnyOptimizer o;
    o.optimizer_.template emplace<directspec::Adam<S, ExponentialDecay>>(
        typename directspec::Adam<S, ExponentialDecay>::Options{.learning_rate = lr},
        ExponentialDecay{decay});
    return o;
  }

  void Update(const std::vector<RowMatrix<S>*>& tables, const std::vector<RowGradient<S>>& grads) {
    std::visit([&](auto& o) { o.Update(tables, grads); }, optimizer_);
  }
  void EndEpoch(Index epoch) {
    std::visit([&](auto& o) { o.EndEpoch(epoch); }, optimizer_);
  }
  S LearningRate() const {
    return std::visit([](const auto& o) { return static_cast<S>(o.LearningRate()); }, optimizer_);
  }
  /// Checkpoint state: the chosen optimizer's (its LoadState refuses another kind).
  void SaveState(StateArchive& archive, const std::string& prefix) const {
    std::visit([&](const auto& o) { o.SaveState(archive, prefix); }, optimizer_);
  }
  void LoadState(const StateArchive& archive, const std::string& prefix) {
    std::visit([&](auto& o) { o.LoadState(archive, prefix); }, optimizer_);
  }

  void Reset() {
    std::visit(
        [](auto& o) {
          if constexpr (requires { o.Reset(); }) o.Reset();
        },
        optimizer_);
  }

 private:
  std::variant<directspec::Sgd<S, ExponentialDecay>, directspec::Adam<S, ExponentialDecay>>
      optimizer_;
};

}  // namespace directspec_cli
