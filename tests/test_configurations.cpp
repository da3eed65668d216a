// The named configurations (train/configurations.hpp): the reference recipes hold the published
// numbers, and every alias and factory trains a few steps in float and double.
#include <catch2/catch.hpp>
#include <cmath>

#include "directspec/train.hpp"
#include "support/random_train.hpp"

using namespace directspec;

namespace {

Interactions SmallTrain() { return directspec::testing::RandomTrain(40, 30, 300, 12, 0); }

}  // namespace

TEST_CASE("Reference recipes hold the published numbers", "[configurations]") {
  const auto cite = ReferenceRecipe(ReferenceDataset::kCiteULike, ReferenceModel::kMF);
  CHECK(cite.learning_rate == 180);
  CHECK(cite.alpha == 1.0);
  CHECK(cite.tau == 3.0);
  CHECK(cite.shrink == 0.03);
  CHECK(cite.epochs == 300);
  CHECK(cite.decay == 0.9995);
  CHECK(cite.batch_size == 256);
  CHECK(cite.dim == 64);
  const auto gow = ReferenceRecipe(ReferenceDataset::kGowalla, ReferenceModel::kAdaptiveLightGCN);
  CHECK(gow.learning_rate == 200);
  CHECK(gow.alpha == 0.7);
  CHECK(gow.tau0 == 3.5);
  CHECK(gow.tau1 == 4.0);
  CHECK(gow.shrink == 0.02);
  CHECK(gow.epochs == 390);
  CHECK(gow.decay == 0.9999);
  const auto yelp = ReferenceRecipe(ReferenceDataset::kYelp, ReferenceModel::kAdaptiveMF);
  CHECK(yelp.learning_rate == 10);
  CHECK(yelp.shrink == 0);
  CHECK(yelp.epochs == 50);

  auto trainer = MakeDirectSpecPlusMF<float>(cite);
  CHECK(trainer.GetOptions().shrink == 0.03);
  CHECK(trainer.GetOptions().batch_size == 256);
  CHECK(trainer.GetOptions().normalize_rows);
  CHECK(trainer.Filter(Side::kItem).GetOptions().tau == 3.0f);
  CHECK(trainer.Optimizer().LearningRate() == 180.0f);
  CHECK(trainer.Optimizer().DecayPolicy().factor == 0.9995);
  auto bpr = MakeBprMF<float>();
  CHECK_FALSE(bpr.GetOptions().normalize_rows);
  CHECK(bpr.GetOptions().weight_decay == 1e-4);
}

TEMPLATE_TEST_CASE("Every named configuration trains a few steps", "[configurations]", float,
                   double) {
  using S = TestType;
  const Interactions train = SmallTrain();
  auto recipe = ReferenceRecipe(ReferenceDataset::kCiteULike, ReferenceModel::kMF);
  recipe.epochs = 2;
  recipe.batch_size = 16;
  recipe.dim = 8;
  recipe.layers = 2;
  recipe.learning_rate = 5;
  BaselineSettings base;
  base.epochs = 2;
  base.batch_size = 16;
  base.dim = 8;
  base.layers = 2;
  base.learning_rate = 0.01;
  auto run = [&](auto trainer, const char* name) {
    INFO(name);
    LossLog log;
    DivergenceGuard guard;
    trainer.Train(train, log, guard);
    REQUIRE(log.EpochLosses().size() == static_cast<std::size_t>(trainer.GetOptions().epochs));
    CHECK(std::isfinite(log.EpochLosses()[1]));
    RowMatrix<S> U, I;
    trainer.Encoder().InferenceEmbeddings(U, I);
    CHECK(U.rows() == 40);
    CHECK(I.rows() == 30);
    return log.EpochLosses();
  };
  run(MakeDirectSpecPlusMF<S>(recipe), "DirectSpecPlusMF");
  run(MakeAdaptiveDirectSpecPlusMF<S>(recipe), "AdaptiveDirectSpecPlusMF");
  run(MakeDirectSpecMF<S>(recipe), "DirectSpecMF");
  run(MakeLogLossMF<S>(recipe), "LogLossMF");
  run(MakeDirectSpecPlusLightGCN<S>(recipe), "DirectSpecPlusLightGCN");
  run(MakeAdaptiveDirectSpecPlusLightGCN<S>(recipe), "AdaptiveDirectSpecPlusLightGCN");
  run(MakeDirectSpecLightGCN<S>(recipe), "DirectSpecLightGCN");
  run(MakeBprMF<S>(base), "BprMF");
  run(MakeLightGcnBpr<S>(base), "LightGcnBpr");
  run(MakeDirectAuMF<S>(base), "DirectAuMF");
  run(MakeSampledSoftmaxMF<S>(base), "SampledSoftmaxMF");
  // BPR: a loss below log 2 after two epochs means the ranking moved the right way.
  base.epochs = 20;
  base.learning_rate = 0.05;
  const auto bpr = run(MakeBprMF<S>(base), "BprMF longer");
  CHECK(bpr.back() < std::log(2.0) - 0.02);
}
