// regularizer_cost: what a spectrum filter costs per training step. Trains the same MF trainer
// (d 64, B 256, log loss, SGD: the reference shapes) with NoFilter, DirectSpec, DirectSpec+ and
// adaptive DirectSpec+ for a fixed number of steps, and prints the wall time per step and the
// overhead relative to NoFilter. Runs are interleaved (filter by filter within each repeat) and
// the median repeat is reported, so a machine whose load changes affects every filter alike.
//
//   build/examples/regularizer_cost [DATA_DIR|synthetic [STEPS [REPEATS [THREADS]]]]
//   build/examples/regularizer_cost datasets/citeulike 300 5
//
// Defaults: synthetic data, 60 timed steps after 10 warm-up steps, 3 repeats, 1 thread (about
// two seconds). With THREADS >= 2 the user and item sides of a step run in parallel; on a busy
// machine also set OMP_WAIT_POLICY=passive, or spinning OpenMP threads dominate the timings.
// DIRECTSPEC_EXAMPLE_STEPS overrides STEPS.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <exception>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "directspec/directspec.hpp"
#include "example_args.hpp"

using namespace directspec;

namespace {

constexpr Index kWarmupSteps = 10;  // first steps allocate workspaces: not timed

/// Records the training clock (callbacks excluded) after the warm-up step and after the last one.
struct StepClock {
  Index warmup;
  double start = 0, end = 0;
  Index timed_steps = 0;
  template <class T>
  void OnStepEnd(T&, const TrainingState& s) {
    if (s.step == warmup) start = s.train_seconds;
    if (s.step > warmup) {
      end = s.train_seconds;
      timed_steps = s.step - warmup;
    }
  }
};

template <class Filter>
using MFWith =
    Trainer<MF<float>, Filter, LogLoss<float>, UserThenPositive<>, Sgd<float, ExponentialDecay>>;

/// Milliseconds per step of one run: one epoch of warm-up + `steps` steps.
template <class Filter>
double MillisecondsPerStep(const Interactions& train, Index steps, int threads,
                           const typename MFWith<Filter>::FilterOptions& filter) {
  typename MFWith<Filter>::Options o;
  o.epochs = 1;
  o.steps_per_epoch = kWarmupSteps + steps;
  o.batch_size = 256;
  o.shrink = 0.03;
  o.seed = 1;
  o.threads = threads;
  o.parallel_sides = threads >= 2;
  o.user_filter = o.item_filter = filter;
  MFWith<Filter> trainer(o, MF<float>({.dim = 64}), LogLoss<float>(), UserThenPositive<>(),
                         Sgd<float, ExponentialDecay>(180.0, ExponentialDecay{0.9995}));
  StepClock clock{kWarmupSteps};
  trainer.Train(train, clock);
  return 1e3 * (clock.end - clock.start) / static_cast<double>(clock.timed_steps);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int Run(const examples::Arguments& args) {
  PrintBuildInfo();
  const std::string source = args.Text(0, "synthetic");
  Index steps = args.Positive(1, "STEPS", 60);
  const Index repeats = args.Positive(2, "REPEATS", 3);
  const int threads = static_cast<int>(args.Positive(3, "THREADS", 1));
  if (const char* env = std::getenv("DIRECTSPEC_EXAMPLE_STEPS"))
    steps = examples::Arguments::ParsePositive(env, "DIRECTSPEC_EXAMPLE_STEPS");

  // Data: only the train interactions matter here (sampling and the adaptive filter's adjacency).
  const Dataset data =
      source == "synthetic" ? MakeSyntheticDataset(SyntheticOptions{}) : LoadDataset(source);
  std::cout << data.report.Summary() << "\n"
            << "MF d 64, batch 256, " << steps << " timed steps after " << kWarmupSteps
            << " warm-up steps, median of " << repeats << " repeats, " << threads
            << (threads > 1 ? " threads (sides in parallel)\n\n" : " thread\n\n");

  // Interleave the four filters in every repeat.
  constexpr std::array<const char*, 4> kNames = {"NoFilter", "DirectSpec", "DirectSpecPlus",
                                                 "AdaptiveDirectSpecPlus"};
  std::array<std::vector<double>, 4> ms;
  for (Index r = 0; r < repeats; ++r) {
    ms[0].push_back(MillisecondsPerStep<NoFilter<float>>(data.train, steps, threads, {}));
    ms[1].push_back(
        MillisecondsPerStep<DirectSpec<float>>(data.train, steps, threads, {.alpha = 1}));
    ms[2].push_back(MillisecondsPerStep<DirectSpecPlus<float>>(data.train, steps, threads,
                                                               {.alpha = 1, .tau = 3}));
    ms[3].push_back(MillisecondsPerStep<AdaptiveDirectSpecPlus<float>>(
        data.train, steps, threads, {.alpha = 1, .tau0 = 2.5f, .tau1 = 3}));
  }

  // Table: median and best ms/step, overhead vs NoFilter (ratio of medians, extra ms).
  const double base = Median(ms[0]);
  std::cout << std::left << std::setw(24) << "filter" << std::right << std::setw(11) << "ms/step"
            << std::setw(9) << "best" << std::setw(13) << "vs NoFilter" << std::setw(12)
            << "extra ms"
            << "\n"
            << std::fixed;
  for (std::size_t f = 0; f < kNames.size(); ++f) {
    const double median = Median(ms[f]);
    std::cout << std::left << std::setw(24) << kNames[f] << std::right << std::setprecision(3)
              << std::setw(11) << median << std::setw(9)
              << *std::min_element(ms[f].begin(), ms[f].end()) << std::setprecision(2)
              << std::setw(12) << median / base << "x" << std::setprecision(3) << std::setw(12)
              << median - base << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return examples::RunExample(
      argc, argv, "regularizer_cost",
      "usage: regularizer_cost [DATA_DIR|synthetic [STEPS [REPEATS [THREADS]]]]", 4, Run);
}
