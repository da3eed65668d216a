// The CLI's reference presets (examples/cli/settings.hpp) are the library's recipes
// (train/configurations.hpp): every preset, parsed as a user's command line would be, holds the
// numbers of ReferenceRecipe for the dataset and model it names.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "../examples/cli/settings.hpp"
#include "directspec/train/configurations.hpp"

namespace ds = directspec;
namespace cli = directspec_cli;

TEST_CASE("Every reference preset equals the recipe it names", "[cli][presets]") {
  const std::pair<ds::ReferenceDataset, std::string> datasets[] = {
      {ds::ReferenceDataset::kCiteULike, "citeulike"},
      {ds::ReferenceDataset::kGowalla, "gowalla"},
      {ds::ReferenceDataset::kYelp, "yelp"}};
  const std::pair<ds::ReferenceModel, std::string> models[] = {
      {ds::ReferenceModel::kMF, "-mf"},
      {ds::ReferenceModel::kAdaptiveMF, "-mf-adaptive"},
      {ds::ReferenceModel::kLightGCN, "-lightgcn"},
      {ds::ReferenceModel::kAdaptiveLightGCN, "-lightgcn-adaptive"}};
  int checked = 0;
  for (const auto& [dataset, dname] : datasets)
    for (const auto& [model, suffix] : models) {
      const std::string name = dname + suffix;
      INFO("preset " << name);
      const cli::Settings s = cli::ParseSettings({"--preset", name});
      const ds::RecipeSettings r = ds::ReferenceRecipe(dataset, model);
      const bool lightgcn = suffix.find("lightgcn") != std::string::npos;
      const bool adaptive = suffix.find("adaptive") != std::string::npos;
      CHECK(s.model == (lightgcn ? "lightgcn" : "mf"));
      CHECK(s.filter == (adaptive ? "adaptive" : "directspec+"));
      CHECK(s.loss == "log");
      CHECK(s.optimizer == "sgd");
      CHECK(s.lr == r.learning_rate);
      CHECK(s.lr_decay == r.decay);
      CHECK(s.epochs == r.epochs);
      CHECK(s.batch == r.batch_size);
      CHECK(s.dim == r.dim);
      CHECK(s.alpha == r.alpha);
      CHECK(s.tau == r.tau);
      CHECK(s.tau0 == r.tau0);
      CHECK(s.tau1 == r.tau1);
      CHECK(s.shrink == r.shrink);
      CHECK(s.output_l2 == (lightgcn ? r.output_l2 : 0.0));
      if (lightgcn) CHECK(s.layers == r.layers);
      ++checked;
    }
  CHECK(checked == 12);
}

TEST_CASE("Explicit flags win over a preset", "[cli][presets]") {
  const cli::Settings s = cli::ParseSettings({"--preset", "gowalla-mf", "--lr", "7"});
  CHECK(s.lr == 7.0);
  CHECK(s.alpha ==
        ds::ReferenceRecipe(ds::ReferenceDataset::kGowalla, ds::ReferenceModel::kMF).alpha);
}
