// Named configurations: the paper's trainers (DirectSpec / DirectSpec+ / adaptive DirectSpec+ on
// MF and LightGCN) and the usual baselines (BPR, DirectAU, sampled softmax, the collapsing
// positive-only log loss) as one-line Trainer aliases (train/trainer.hpp), plus factories that
// set the reference recipe (docs/method.md#reference-recipe).
//
//   auto recipe = ReferenceRecipe(ReferenceDataset::kCiteULike, ReferenceModel::kMF);
//   recipe.epochs = 50;                                   // any field can be changed first
//   auto trainer = MakeDirectSpecPlusMF<float>(recipe);   // lr 180, α 1, τ 3, s 0.03, B 256
//   trainer.Train(train, ProgressBar());
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "directspec/filters/adaptive_direct_spec_plus.hpp"
#include "directspec/filters/direct_spec.hpp"
#include "directspec/filters/direct_spec_plus.hpp"
#include "directspec/filters/no_filter.hpp"
#include "directspec/losses/bpr_loss.hpp"
#include "directspec/losses/directau_loss.hpp"
#include "directspec/losses/log_loss.hpp"
#include "directspec/losses/output_l2.hpp"
#include "directspec/losses/sampled_softmax_loss.hpp"
#include "directspec/models/lightgcn.hpp"
#include "directspec/models/mf.hpp"
#include "directspec/optim/adam.hpp"
#include "directspec/optim/decay.hpp"
#include "directspec/optim/sgd.hpp"
#include "directspec/samplers/batch_sampler.hpp"
#include "directspec/samplers/negatives.hpp"
#include "directspec/train/trainer.hpp"

namespace directspec {

// ------------------------------------------------------------------------------------ aliases
// The paper's method: positive-only log loss, reference sampler, plain SGD with per-epoch decay.
template <class S>
using DirectSpecPlusMF =
    Trainer<MF<S>, DirectSpecPlus<S>, LogLoss<S>, UserThenPositive<>, Sgd<S, ExponentialDecay>>;
template <class S>
using AdaptiveDirectSpecPlusMF = Trainer<MF<S>, AdaptiveDirectSpecPlus<S>, LogLoss<S>,
                                         UserThenPositive<>, Sgd<S, ExponentialDecay>>;
template <class S>
using DirectSpecMF =
    Trainer<MF<S>, DirectSpec<S>, LogLoss<S>, UserThenPositive<>, Sgd<S, ExponentialDecay>>;
// LightGCN variants add the reference script's output L2 (output_l2 / B) Σ ||o||² to the log loss.
template <class S>
using DirectSpecPlusLightGCN = Trainer<LightGCN<S>, DirectSpecPlus<S>, WithOutputL2<LogLoss<S>>,
                                       UserThenPositive<>, Sgd<S, ExponentialDecay>>;
template <class S>
using AdaptiveDirectSpecPlusLightGCN =
    Trainer<LightGCN<S>, AdaptiveDirectSpecPlus<S>, WithOutputL2<LogLoss<S>>, UserThenPositive<>,
            Sgd<S, ExponentialDecay>>;
template <class S>
using DirectSpecLightGCN = Trainer<LightGCN<S>, DirectSpec<S>, WithOutputL2<LogLoss<S>>,
                                   UserThenPositive<>, Sgd<S, ExponentialDecay>>;
/// The collapsing baseline of the paper's analysis: alignment only (no filter, no negatives).
template <class S>
using LogLossMF =
    Trainer<MF<S>, NoFilter<S>, LogLoss<S>, UserThenPositive<>, Sgd<S, ExponentialDecay>>;

// Baselines: BPR with one uniform negative and Adam (LightGCN paper setting), DirectAU and
// in-batch sampled softmax on normalised rows.
template <class S>
using BprMF = Trainer<MF<S>, NoFilter<S>, BprLoss<S>, UserThenPositive<UniformNegatives>, Adam<S>>;
template <class S>
using LightGcnBpr =
    Trainer<LightGCN<S>, NoFilter<S>, BprLoss<S>, UserThenPositive<UniformNegatives>, Adam<S>>;
template <class S>
using DirectAuMF = Trainer<MF<S>, NoFilter<S>, DirectAuLoss<S>, UserThenPositive<>, Adam<S>>;
template <class S>
using SampledSoftmaxMF =
    Trainer<MF<S>, NoFilter<S>, SampledSoftmaxLoss<S>, UserThenPositive<>, Adam<S>>;

// ---------------------------------------------------------------------- reference recipes
enum class ReferenceDataset { kCiteULike, kGowalla, kYelp };
enum class ReferenceModel { kMF, kAdaptiveMF, kLightGCN, kAdaptiveLightGCN };

/// Every number of one reference run (docs/method.md#reference-recipe); edit fields before a
/// factory call.
struct RecipeSettings {
  double learning_rate = 180;
  double decay = 0.9995;  // lr factor after every epoch
  Index epochs = 300;
  Index batch_size = 256;
  Index dim = 64;
  Index layers = 3;  // LightGCN only
  double alpha = 1.0;
  double tau = 3.0;               // DirectSpec+
  double tau0 = 2.5, tau1 = 3.0;  // adaptive DirectSpec+
  double shrink = 0.03;           // NormShrink s
  double output_l2 = 0.01;        // LightGCN scripts only: (output_l2 / B) Σ ||o||²
  std::uint64_t seed = 0;
  int threads = 0;
};

/// The published settings for a dataset and model (d = 64, B = 256 everywhere): CiteULike lr 180,
/// α 1, τ 3 (2.5 / 3), s 0.03; Gowalla lr 200, α 0.7, τ 4 (3.5 / 4), s 0.02; Yelp lr 10, α 0.8,
/// τ 3 (2.5 / 3), s 0. Epochs and decay: MF 300 x 0.9995, adaptive MF 50 x 0.9999, LightGCN
/// 200 x 0.9999, adaptive LightGCN 390 x 0.9999.
inline RecipeSettings ReferenceRecipe(ReferenceDataset dataset, ReferenceModel model) {
  RecipeSettings r;
  switch (dataset) {
    case ReferenceDataset::kCiteULike:
      r.learning_rate = 180, r.alpha = 1.0, r.tau = 3.0, r.tau0 = 2.5, r.tau1 = 3.0;
      r.shrink = 0.03;
      break;
    case ReferenceDataset::kGowalla:
      r.learning_rate = 200, r.alpha = 0.7, r.tau = 4.0, r.tau0 = 3.5, r.tau1 = 4.0;
      r.shrink = 0.02;
      break;
    case ReferenceDataset::kYelp:
      r.learning_rate = 10, r.alpha = 0.8, r.tau = 3.0, r.tau0 = 2.5, r.tau1 = 3.0;
      r.shrink = 0;
      break;
  }
  switch (model) {
    case ReferenceModel::kMF:
      r.epochs = 300, r.decay = 0.9995;
      break;
    case ReferenceModel::kAdaptiveMF:
      r.epochs = 50, r.decay = 0.9999;
      break;
    case ReferenceModel::kLightGCN:
      r.epochs = 200, r.decay = 0.9999;
      break;
    case ReferenceModel::kAdaptiveLightGCN:
      r.epochs = 390, r.decay = 0.9999;
      break;
  }
  return r;
}

/// Settings of the baselines (BPR, DirectAU, sampled softmax). Defaults follow the LightGCN /
/// DirectAU papers: Adam lr 1e-3, weight decay 1e-4 for BPR, one uniform negative.
struct BaselineSettings {
  double learning_rate = 1e-3;
  Index epochs = 100;
  Index batch_size = 2048;
  Index dim = 64;
  Index layers = 3;            // LightGCN only
  double weight_decay = 1e-4;  // BPR only (encoder.AddWeightDecay)
  Index negatives = 1;         // BPR only
  double gamma = 1.0;          // DirectAU uniformity weight
  double temperature = 0.1;    // sampled softmax
  std::uint64_t seed = 0;
  int threads = 0;
};

namespace detail {

template <class T>
typename T::Options CommonOptions(Index epochs, Index batch_size, std::uint64_t seed, int threads) {
  typename T::Options o;
  o.epochs = epochs;
  o.batch_size = batch_size;
  o.seed = seed;
  o.threads = threads;
  return o;
}

template <class T>
T MakeSpectrumTrainer(const RecipeSettings& r, typename T::EncoderType encoder,
                      typename T::LossType loss, const typename T::FilterOptions& filter) {
  using S = typename T::Scalar;
  auto o = CommonOptions<T>(r.epochs, r.batch_size, r.seed, r.threads);
  o.shrink = r.shrink;
  o.user_filter = filter;
  o.item_filter = filter;
  return T(o, std::move(encoder), std::move(loss), UserThenPositive<>(),
           Sgd<S, ExponentialDecay>(r.learning_rate, ExponentialDecay{r.decay}));
}

}  // namespace detail

// ------------------------------------------------------------------------------- factories
template <class S>
DirectSpecPlusMF<S> MakeDirectSpecPlusMF(const RecipeSettings& r) {
  return detail::MakeSpectrumTrainer<DirectSpecPlusMF<S>>(
      r, MF<S>({.dim = r.dim}), LogLoss<S>(),
      {.alpha = static_cast<S>(r.alpha), .tau = static_cast<S>(r.tau)});
}

template <class S>
AdaptiveDirectSpecPlusMF<S> MakeAdaptiveDirectSpecPlusMF(const RecipeSettings& r) {
  return detail::MakeSpectrumTrainer<AdaptiveDirectSpecPlusMF<S>>(r, MF<S>({.dim = r.dim}),
                                                                  LogLoss<S>(),
                                                                  {.alpha = static_cast<S>(r.alpha),
                                                                   .tau0 = static_cast<S>(r.tau0),
                                                                   .tau1 = static_cast<S>(r.tau1)});
}

template <class S>
DirectSpecMF<S> MakeDirectSpecMF(const RecipeSettings& r) {
  return detail::MakeSpectrumTrainer<DirectSpecMF<S>>(r, MF<S>({.dim = r.dim}), LogLoss<S>(),
                                                      {.alpha = static_cast<S>(r.alpha)});
}

template <class S>
LogLossMF<S> MakeLogLossMF(const RecipeSettings& r) {
  return detail::MakeSpectrumTrainer<LogLossMF<S>>(r, MF<S>({.dim = r.dim}), LogLoss<S>(), {});
}

template <class S>
DirectSpecPlusLightGCN<S> MakeDirectSpecPlusLightGCN(const RecipeSettings& r) {
  return detail::MakeSpectrumTrainer<DirectSpecPlusLightGCN<S>>(
      r, LightGCN<S>({.dim = r.dim, .layers = r.layers}),
      WithOutputL2<LogLoss<S>>({.output_l2 = static_cast<S>(r.output_l2)}),
      {.alpha = static_cast<S>(r.alpha), .tau = static_cast<S>(r.tau)});
}

template <class S>
AdaptiveDirectSpecPlusLightGCN<S> MakeAdaptiveDirectSpecPlusLightGCN(const RecipeSettings& r) {
  return detail::MakeSpectrumTrainer<AdaptiveDirectSpecPlusLightGCN<S>>(
      r, LightGCN<S>({.dim = r.dim, .layers = r.layers}),
      WithOutputL2<LogLoss<S>>({.output_l2 = static_cast<S>(r.output_l2)}),
      {.alpha = static_cast<S>(r.alpha),
       .tau0 = static_cast<S>(r.tau0),
       .tau1 = static_cast<S>(r.tau1)});
}

template <class S>
DirectSpecLightGCN<S> MakeDirectSpecLightGCN(const RecipeSettings& r) {
  return detail::MakeSpectrumTrainer<DirectSpecLightGCN<S>>(
      r, LightGCN<S>({.dim = r.dim, .layers = r.layers}),
      WithOutputL2<LogLoss<S>>({.output_l2 = static_cast<S>(r.output_l2)}),
      {.alpha = static_cast<S>(r.alpha)});
}

template <class S>
BprMF<S> MakeBprMF(const BaselineSettings& b = {}) {
  auto o = detail::CommonOptions<BprMF<S>>(b.epochs, b.batch_size, b.seed, b.threads);
  o.normalize_rows = false;
  o.weight_decay = b.weight_decay;
  return BprMF<S>(
      o, MF<S>({.dim = b.dim}), BprLoss<S>(),
      UserThenPositive<UniformNegatives>(UniformNegatives({.per_positive = b.negatives})),
      Adam<S>({.learning_rate = b.learning_rate}));
}

template <class S>
LightGcnBpr<S> MakeLightGcnBpr(const BaselineSettings& b = {}) {
  auto o = detail::CommonOptions<LightGcnBpr<S>>(b.epochs, b.batch_size, b.seed, b.threads);
  o.normalize_rows = false;
  o.weight_decay = b.weight_decay;
  return LightGcnBpr<S>(
      o, LightGCN<S>({.dim = b.dim, .layers = b.layers, .layer_weights = LayerWeights::kMean}),
      BprLoss<S>(),
      UserThenPositive<UniformNegatives>(UniformNegatives({.per_positive = b.negatives})),
      Adam<S>({.learning_rate = b.learning_rate}));
}

template <class S>
DirectAuMF<S> MakeDirectAuMF(const BaselineSettings& b = {}) {
  auto o = detail::CommonOptions<DirectAuMF<S>>(b.epochs, b.batch_size, b.seed, b.threads);
  return DirectAuMF<S>(o, MF<S>({.dim = b.dim}),
                       DirectAuLoss<S>({.gamma = static_cast<S>(b.gamma), .temperature = S(2)}),
                       UserThenPositive<>(), Adam<S>({.learning_rate = b.learning_rate}));
}

template <class S>
SampledSoftmaxMF<S> MakeSampledSoftmaxMF(const BaselineSettings& b = {}) {
  auto o = detail::CommonOptions<SampledSoftmaxMF<S>>(b.epochs, b.batch_size, b.seed, b.threads);
  return SampledSoftmaxMF<S>(o, MF<S>({.dim = b.dim}),
                             SampledSoftmaxLoss<S>({.temperature = static_cast<S>(b.temperature)}),
                             UserThenPositive<>(), Adam<S>({.learning_rate = b.learning_rate}));
}

}  // namespace directspec
