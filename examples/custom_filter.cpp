// custom_filter: write your own spectrum filter and plug it into the stock Trainer, without
// touching the library. The filter here is a "spectral power" filter,
//
//     Y = X̂ − α X̂ Mᵖ,   M = X̂ᵀX̂ / B   (d x d),
//
// which maps each singular value of the batch as σ → σ(1 − α (σ²/B)ᵖ) and keeps the singular
// vectors. Since the rows of X̂ are unit vectors, σ²/B ≤ 1: raising it to a power p leaves the
// small singular values almost untouched and shrinks only the dominant ones, the directions a
// collapsing model piles into. p = 1 is exactly the library's DirectSpec.
//
// The program (1) checks the hand-written Backward against central finite differences in double
// and prints the largest error, (2) checks p = 1 against DirectSpec, (3) trains MF with the filter
// and, for contrast, without any filter, and prints recall and the effective rank of each.
// It exits with status 1 if a check fails, so use the same pattern to test your own filter.
//
//   build/examples/custom_filter [epochs]      (default 10)
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <random>
#include <vector>

#include "directspec/directspec.hpp"
#include "directspec/testing/gradient_check.hpp"
#include "example_args.hpp"

using namespace directspec;

// -------------------------------------------------------------------------- the user's filter
/// Spectral power filter. Satisfies FilterPolicy (train/concepts.hpp): Scalar, Forward, Backward.
/// Workspaces are members, so steady-state steps do not allocate; Backward refers to the last
/// Forward (the Trainer guarantees this order).
template <class S>
class SpectralPowerFilter {
 public:
  using Scalar = S;
  struct Options {  // the Trainer passes Options::user_filter / item_filter to this constructor
    S alpha = S(1);
    int power = 2;
  };

  SpectralPowerFilter() = default;
  explicit SpectralPowerFilter(const Options& options) : options_(options) {
    if (options_.power < 1 || !std::isfinite(options_.alpha))
      throw std::invalid_argument("SpectralPowerFilter: power must be >= 1 and alpha finite");
  }

  // Y = X̂ − α X̂ Mᵖ. Keeps X̂ and the powers M⁰..Mᵖ for Backward.
  void Forward(const RowMatrix<S>& Xhat, const FilterContext& /*ctx*/, RowMatrix<S>& Y) {
    x_ = Xhat;  // copy first: Y may alias Xhat
    const Index d = x_.cols(), B = x_.rows();
    powers_.resize(static_cast<std::size_t>(options_.power) + 1);
    powers_[0].setIdentity(d, d);
    powers_[1].noalias() = x_.transpose() * x_;
    if (B > 0) powers_[1] /= static_cast<S>(B);
    for (int k = 2; k <= options_.power; ++k) powers_[k].noalias() = powers_[k - 1] * powers_[1];
    Y = x_;
    Y.noalias() -= options_.alpha * (x_ * powers_[options_.power]);
  }

  // dL/dX̂ = G − α G Mᵖ − (α/B) X̂ (R + Rᵀ),  R = Σ_{j=0}^{p-1} Mʲ H M^{p-1-j},  H = X̂ᵀG.
  // (From dMᵖ = Σ_j Mʲ dM M^{p-1-j}, dM = (dX̂ᵀX̂ + X̂ᵀdX̂)/B and the symmetry of M.)
  void Backward(const RowMatrix<S>& GY, RowMatrix<S>& GXhat) {
    g_ = GY;  // copy first: GXhat may alias GY
    const Index B = x_.rows();
    const int p = options_.power;
    h_.noalias() = x_.transpose() * g_;
    r_.setZero(h_.rows(), h_.cols());
    for (int j = 0; j < p; ++j) {
      tmp_.noalias() = powers_[j] * h_;
      r_.noalias() += tmp_ * powers_[p - 1 - j];
    }
    GXhat = g_;
    GXhat.noalias() -= options_.alpha * (g_ * powers_[p]);
    if (B > 0) {
      tmp_ = r_ + r_.transpose();
      GXhat.noalias() -= (options_.alpha / static_cast<S>(B)) * (x_ * tmp_);
    }
  }

 private:
  using Square = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  Options options_;
  RowMatrix<S> x_, g_;
  std::vector<Square> powers_;
  Square h_, r_, tmp_;
};

// ------------------------------------------------------------------------- verification
RowMatrix<double> RandomUnitRows(Index rows, Index cols, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  RowMatrix<double> X(rows, cols);
  for (Index i = 0; i < X.size(); ++i) X.data()[i] = normal(rng);
  X.rowwise().normalize();
  return X;
}

// dL/dX̂ for L = Σ R ⊙ Forward(X̂) against central differences, in double, with the library's
// checker (directspec/testing/gradient_check.hpp): the check the library runs on its own filters.
testing::GradientCheck CheckBackward(const SpectralPowerFilter<double>::Options& options, Index B,
                                     Index d) {
  std::mt19937_64 rng(42);
  RowMatrix<double> X = RandomUnitRows(B, d, rng);
  X.row(B - 1) = X.row(0);  // a duplicate row, as sampled batches have
  SpectralPowerFilter<double> filter(options);
  return testing::CheckFilterGradient(filter, X);
}

// Largest difference between this filter with p = 1 and the library's DirectSpec (forward and
// backward), which must agree to rounding.
double MaxDifferenceFromDirectSpec() {
  std::mt19937_64 rng(7);
  const RowMatrix<double> X = RandomUnitRows(16, 5, rng), G = RandomUnitRows(16, 5, rng);
  SpectralPowerFilter<double> mine({.alpha = 0.8, .power = 1});
  DirectSpec<double> library({.alpha = 0.8});
  RowMatrix<double> y1, y2, g1, g2;
  mine.Forward(X, FilterContext{}, y1);
  library.Forward(X, FilterContext{}, y2);
  mine.Backward(G, g1);
  library.Backward(G, g2);
  return std::max((y1 - y2).cwiseAbs().maxCoeff(), (g1 - g2).cwiseAbs().maxCoeff());
}

// ----------------------------------------------------------------------------- training
template <class Filter>
using MFWith =
    Trainer<MF<float>, Filter, LogLoss<float>, UserThenPositive<>, Sgd<float, ExponentialDecay>>;

// Trains MF with the given filter (same seed, data and optimizer) and prints its results.
template <class Filter>
void TrainAndReport(const char* name, const Dataset& data, Index epochs,
                    const typename MFWith<Filter>::FilterOptions& filter_options) {
  typename MFWith<Filter>::Options o;
  o.epochs = epochs;
  o.seed = 3;
  o.user_filter = o.item_filter = filter_options;
  MFWith<Filter> trainer(o, MF<float>({.dim = 32}), LogLoss<float>(), UserThenPositive<>(),
                         Sgd<float, ExponentialDecay>(10.0, ExponentialDecay{1.0}));
  const TrainingState end = trainer.Train(data.train);
  RowMatrix<float> U, I;
  trainer.Encoder().InferenceEmbeddings(U, I);
  const EvalResult r = Evaluator(data.train, data.test).Evaluate(U, I);
  std::cout << std::left << std::setw(28) << name << std::right << std::fixed
            << std::setprecision(4) << std::setw(10) << end.epoch_loss << std::setw(11)
            << r.Get("recall@20") << std::setw(9) << r.Get("ndcg@20") << std::setprecision(2)
            << std::setw(8) << StackedSpectrum(U, I).effective_rank << "\n";
}

int Run(const examples::Arguments& args) {
  const Index epochs = args.Positive(0, "EPOCHS", 10);

  // 1. Finite-difference check of the hand-written backward (p = 1, 2, 3; d < B and d > B).
  bool backward_ok = true;
  for (int p : {1, 2, 3})
    for (auto [B, d] : {std::pair<Index, Index>{9, 4}, {3, 6}}) {
      const testing::GradientCheck check = CheckBackward({.alpha = 0.7, .power = p}, B, d);
      std::cout << "backward vs central differences, p " << p << ", B " << B << ", d " << d << ": "
                << check.Describe() << "\n";
      backward_ok = backward_ok && check.Passed();
    }
  const double vs_library = MaxDifferenceFromDirectSpec();
  std::cout << "power 1 vs library DirectSpec: max difference " << std::scientific
            << std::setprecision(2) << vs_library << "\n";
  if (!backward_ok || !(vs_library < 1e-12)) {
    std::cerr << "custom_filter: gradient check FAILED\n";
    return 1;
  }

  // 2. Plug the filter into the stock Trainer: MF, log loss on positives only, SGD lr 10.
  const Dataset data = MakeSyntheticDataset(SyntheticOptions{});
  std::cout << "\nMF d 32, " << epochs << " epochs on synthetic data (2,000 x 1,500)\n"
            << "filter                            loss  recall@20  ndcg@20   erank\n";
  TrainAndReport<NoFilter<float>>("none (collapses)", data, epochs, {});
  TrainAndReport<SpectralPowerFilter<float>>("spectral power p = 2", data, epochs,
                                             {.alpha = 1.0f, .power = 2});
  TrainAndReport<DirectSpecPlus<float>>("DirectSpec+ (library)", data, epochs,
                                        {.alpha = 1.0f, .tau = 3.0f});
  return 0;
}

int main(int argc, char** argv) {
  return examples::RunExample(argc, argv, "custom_filter",
                              "usage: custom_filter [EPOCHS]   (default 10)", 1, Run);
}
