// quickstart: the whole library in one screen. Assembles DirectSpec+ on matrix factorisation from
// its five policies, trains it on the built-in synthetic dataset, evaluates full-ranking metrics,
// prints the effective rank of the embeddings and recommends items for one user.
//
//   build/examples/quickstart [epochs]        (default 10 epochs, a few seconds)
#include <iostream>

#include "directspec/directspec.hpp"
#include "example_args.hpp"

using namespace directspec;

int Run(const examples::Arguments& args) {
  // Data: 2,000 users x 1,500 items with planted clusters, already split into train and test.
  const Dataset data = MakeSyntheticDataset(SyntheticOptions{});

  // Trainer: encoder, per-side filter, loss, sampler and optimizer are template policies.
  using DirectSpecPlusTrainer = Trainer<MF<float>, DirectSpecPlus<float>, LogLoss<float>,
                                        UserThenPositive<>, Sgd<float, ExponentialDecay>>;
  DirectSpecPlusTrainer::Options options;
  options.epochs = args.Positive(0, "EPOCHS", 10);
  options.user_filter = options.item_filter = {.alpha = 1, .tau = 3};  // DirectSpec+ α, τ
  // NormShrink stays off: the reference's s = 0.03 keeps the loss near log 2 for many epochs.
  DirectSpecPlusTrainer trainer(options, MF<float>({.dim = 32}), LogLoss<float>(),
                                UserThenPositive<>(),
                                Sgd<float, ExponentialDecay>(/*lr=*/10, ExponentialDecay{1.0}));

  PrintBuildInfo();
  // Train with a progress bar on stderr and a per-epoch loss log.
  LossLog losses;
  trainer.Train(data.train, losses, ProgressBar());

  // Inference tables: scores are U Iᵀ.
  RowMatrix<float> U, I;
  trainer.Encoder().InferenceEmbeddings(U, I);

  // Full-ranking evaluation (train items excluded), and the spectrum's effective rank.
  const EvalResult metrics = Evaluator(data.train, data.test).Evaluate(U, I);
  std::cout << "loss " << losses.EpochLosses().front() << " -> " << losses.EpochLosses().back()
            << "\nrecall@20 " << metrics.Get("recall@20") << "  ndcg@20 " << metrics.Get("ndcg@20")
            << "\neffective rank " << StackedSpectrum(U, I).effective_rank << " of " << U.cols()
            << "\n";

  // Top-5 unseen items for user 0.
  std::cout << "user 0:";
  for (const auto& r : Recommend(U, I, data.train, /*user=*/0, /*k=*/5))
    std::cout << "  item " << r.item << " (" << r.score << ")";
  std::cout << "\n";
  return 0;
}

int main(int argc, char** argv) {
  return examples::RunExample(argc, argv, "quickstart", "usage: quickstart [EPOCHS]   (default 10)",
                              1, Run);
}
