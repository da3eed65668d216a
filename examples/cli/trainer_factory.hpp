// The one place the command-line programs turn Settings into a Trainer: the model (MF or
// LightGCN) and the loss (log, BPR, DirectAU, SSM) are template arguments, the filter and the
// optimizer are chosen at run time (runtime_policies.hpp). directspec-train and directspec-tune
// both call VisitTrainer, so a setting the tuner finds trains the same way in directspec-train.
#pragma once

#include <utility>

#include "directspec/directspec.hpp"
#include "runtime_policies.hpp"
#include "settings.hpp"

namespace directspec_cli {

// The CLI is a client of the library, written in its vocabulary; it adds nothing to it.
using namespace directspec;

using CliScalar = float;

namespace detail {

template <class Encoder, class Loss, class Sampler, class F>
decltype(auto) WithTrainer(Encoder encoder, Loss loss, Sampler sampler, const Settings& s, F&& f) {
  using S = CliScalar;
  using Filter = AnyFilter<S>;
  using Optimizer = AnyOptimizer<S>;
  using T = Trainer<Encoder, Filter, Loss, Sampler, Optimizer>;
  typename T::Options o;
  o.epochs = s.epochs;
  o.batch_size = s.batch;
  o.micro_batches = s.micro_batches;
  o.steps_per_epoch = s.steps_per_epoch;
  o.seed = s.seed;
  o.threads = s.threads;
  o.normalize_rows = s.normalize;
  o.shrink = s.shrink;
  o.weight_decay = s.weight_decay;
  o.user_filter = o.item_filter = {.kind = s.filter,
                                   .alpha = static_cast<S>(s.alpha),
                                   .tau = static_cast<S>(s.tau),
                                   .tau0 = static_cast<S>(s.tau0),
                                   .tau1 = static_cast<S>(s.tau1)};
  auto optimizer =
      s.optimizer == "adam" ? Optimizer::Adam(s.lr, s.lr_decay) : Optimizer::Sgd(s.lr, s.lr_decay);
  T trainer(o, std::move(encoder), std::move(loss), std::move(sampler), std::move(optimizer));
  return f(trainer);
}

template <class Encoder, class F>
decltype(auto) WithLoss(Encoder encoder, const Settings& s, F&& f) {
  using S = CliScalar;
  const auto output_l2 = static_cast<S>(s.output_l2);
  const UserThenPositive<> positives;
  if (s.loss == "bpr") {
    const UserThenPositive<UniformNegatives> sampler(
        UniformNegatives({.per_positive = s.negatives}));
    return WithTrainer(std::move(encoder), WithOutputL2<BprLoss<S>>({.output_l2 = output_l2}),
                       sampler, s, f);
  }
  if (s.loss == "directau") {
    using L = DirectAuLoss<S>;
    return WithTrainer(
        std::move(encoder),
        WithOutputL2<L>({.output_l2 = output_l2}, L({.gamma = static_cast<S>(s.gamma)})), positives,
        s, f);
  }
  if (s.loss == "ssm") {
    using L = SampledSoftmaxLoss<S>;
    return WithTrainer(std::move(encoder),
                       WithOutputL2<L>({.output_l2 = output_l2},
                                       L({.temperature = static_cast<S>(s.temperature)})),
                       positives, s, f);
  }
  return WithTrainer(std::move(encoder), WithOutputL2<LogLoss<S>>({.output_l2 = output_l2}),
                     positives, s, f);
}

}  // namespace detail

/// Builds the trainer `s` describes and returns f(trainer). `f` is instantiated once per
/// (model, loss) pair, so it must be a generic lambda; every instantiation must return the same
/// type.
///
///   int rc = VisitTrainer(settings, [&](auto& trainer) { trainer.Train(data.train); return 0; });
template <class F>
decltype(auto) VisitTrainer(const Settings& s, F&& f) {
  using S = CliScalar;
  if (s.model == "lightgcn")
    return detail::WithLoss(
        LightGCN<S>({.dim = s.dim,
                     .layers = s.layers,
                     .layer_weights =
                         s.layer_weights == "mean" ? LayerWeights::kMean : LayerWeights::kSum}),
        s, f);
  return detail::WithLoss(MF<S>({.dim = s.dim}), s, f);
}

}  // namespace directspec_cli
