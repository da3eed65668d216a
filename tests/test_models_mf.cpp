// Tests of models/mf.hpp: seeded Xavier initialisation (replayed from the documented draw
// order), gathers, finite-difference gradients with repeated ids, the weight decay, and
// explicit tables.

#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/models.hpp"
#include "directspec/train/concepts.hpp"
#include "support/encoder_checks.hpp"

using namespace directspec;
using namespace directspec::testing;

namespace {

Interactions SmallInteractions() {
  // 5 users, 6 items; user 4 and item 5 have no interaction.
  const std::vector<std::pair<Id, Id>> pairs{{0, 0}, {0, 2}, {1, 1}, {1, 2}, {2, 3},
                                             {2, 4}, {3, 0}, {3, 4}, {0, 0}};
  return Interactions::FromPairs(5, 6, pairs);
}

}  // namespace

TEST_CASE("MF initialisation replays the documented draw order", "[models][mf]") {
  const auto train = SmallInteractions();
  MF<double> mf({.dim = 3});
  mf.Initialize(train, 42);
  std::mt19937_64 engine = MakeStream(42, kInitStream);
  const double au = std::sqrt(6.0 / (5 + 3)), ai = std::sqrt(6.0 / (6 + 3));
  for (Index r = 0; r < 5; ++r)
    for (Index c = 0; c < 3; ++c) CHECK(mf.UserTable()(r, c) == au * (2 * UniformUnit(engine) - 1));
  for (Index r = 0; r < 6; ++r)
    for (Index c = 0; c < 3; ++c) CHECK(mf.ItemTable()(r, c) == ai * (2 * UniformUnit(engine) - 1));

  MF<float> mf_float({.dim = 3});
  mf_float.Initialize(train, 42);
  CHECK(mf_float.UserTable() == mf.UserTable().cast<float>());
  CHECK(mf_float.ItemTable() == mf.ItemTable().cast<float>());
}

TEMPLATE_TEST_CASE("MF initialisation is reproducible by seed and Xavier-uniform", "[models][mf]",
                   float, double) {
  using S = TestType;
  std::vector<std::pair<Id, Id>> pairs;
  for (Id u = 0; u < 2000; ++u) pairs.emplace_back(u, u % 500);
  const auto train = Interactions::FromPairs(2000, 500, pairs);
  MF<S> a, b, c;
  a.Initialize(train, 7);
  b.Initialize(train, 7);
  c.Initialize(train, 8);
  CHECK(a.Dim() == 64);
  CHECK(a.UserTable() == b.UserTable());
  CHECK(a.ItemTable() == b.ItemTable());
  CHECK(a.UserTable() != c.UserTable());
  CHECK(a.ItemTable() != c.ItemTable());
  const double au = std::sqrt(6.0 / (2000 + 64));
  const auto& U = a.UserTable();
  CHECK(U.cwiseAbs().maxCoeff() <= au);
  const double mean = U.template cast<double>().mean();
  const double var = U.template cast<double>().array().square().mean() - mean * mean;
  CHECK(std::abs(mean) < 0.01 * au);
  CHECK(var == Approx(au * au / 3).epsilon(0.02));
  // Item table uses its own row count.
  const double ai = std::sqrt(6.0 / (500 + 64));
  CHECK(a.ItemTable().cwiseAbs().maxCoeff() <= ai);
  CHECK(a.ItemTable().cwiseAbs().maxCoeff() > 0.9 * ai);
}

TEMPLATE_TEST_CASE("MF gathers rows and scatter-adds repeated ids", "[models][mf]", float, double) {
  using S = TestType;
  const auto train = SmallInteractions();
  MF<S> mf({.dim = 4});
  mf.Initialize(train, 1);
  const std::vector<Id> users{3, 1, 3, 4};
  const std::vector<Id> items{5, 0, 0, 2, 0, 1, 5, 3};
  RowMatrix<S> XU, XI;
  mf.Encode(users, items, XU, XI);
  REQUIRE(XU.rows() == 4);
  REQUIRE(XI.rows() == 8);
  for (std::size_t b = 0; b < users.size(); ++b)
    CHECK(XU.row(static_cast<Index>(b)) == mf.UserTable().row(users[b]));
  for (std::size_t b = 0; b < items.size(); ++b)
    CHECK(XI.row(static_cast<Index>(b)) == mf.ItemTable().row(items[b]));

  const RowMatrix<S> GU = RandomRows<S>(4, 4, 5), GI = RandomRows<S>(8, 4, 6);
  std::vector<RowGradient<S>> grads;
  mf.Backward(GU, GI, grads);
  REQUIRE(grads.size() == 2);
  CHECK(grads[0].rows == std::vector<Id>{3, 1, 4});  // first appearance order
  CHECK(grads[1].rows == std::vector<Id>{5, 0, 2, 1, 3});
  CHECK(grads[0].values.row(0) == (GU.row(0) + GU.row(2)).eval());
  CHECK(grads[1].values.row(1) == (GI.row(1) + GI.row(2) + GI.row(4)).eval());
  CHECK(mf.TableNames() == std::vector<std::string>{"user", "item"});
  CHECK(std::string(MF<S>::kName) == "mf");

  RowMatrix<S> U, I;
  mf.InferenceEmbeddings(U, I);
  CHECK(U == mf.UserTable());
  CHECK(I == mf.ItemTable());
}

TEST_CASE("MF Encode is BindRows then GatherRows, and GatherRows remembers nothing",
          "[models][mf]") {
  static_assert(RowwiseEncoder<MF<float>>);
  static_assert(!RowwiseEncoder<LightGCN<float>>);  // its rows mix neighbours' rows
  const auto train = SmallInteractions();
  MF<double> mf({.dim = 3});
  mf.Initialize(train, 2);
  const std::vector<Id> users{2, 0, 2}, items{1, 4, 1, 3};
  RowMatrix<double> XU, XI, YU, YI;
  mf.Encode(users, items, XU, XI);
  // Gathering other rows (a data-parallel rank's own batches) leaves Backward on the bound ones.
  const std::vector<Id> other_users{4}, other_items{5, 0};
  mf.GatherRows(other_users, other_items, YU, YI);
  CHECK(YU.row(0) == mf.UserTable().row(4));
  CHECK(YI.row(1) == mf.ItemTable().row(0));
  const RowMatrix<double> GU = RandomRows<double>(3, 3, 7), GI = RandomRows<double>(4, 3, 8);
  std::vector<RowGradient<double>> after_encode, after_bind;
  mf.Backward(GU, GI, after_encode);
  CHECK(after_encode[0].rows == std::vector<Id>{2, 0});
  CHECK(after_encode[1].rows == std::vector<Id>{1, 4, 3});
  // BindRows alone (no gather) sets what Backward and AddWeightDecay refer to.
  mf.BindRows(other_users, other_items);
  mf.BindRows(users, items);
  mf.Backward(GU, GI, after_bind);
  for (int t = 0; t < 2; ++t) {
    CHECK(after_bind[t].rows == after_encode[t].rows);
    CHECK(after_bind[t].Values() == after_encode[t].Values());
  }
}

TEST_CASE("MF gradient matches finite differences", "[models][mf][gradient]") {
  const auto train = SmallInteractions();
  MF<double> mf({.dim = 3});
  mf.Initialize(train, 11);
  SECTION("repeated ids, zero-degree user and item") {
    CheckEncoderGradient(mf, {3, 1, 3, 4}, {5, 0, 0, 2, 0, 1, 5, 3}, 0.0, 21);
  }
  SECTION("batch of one") { CheckEncoderGradient(mf, {2}, {4, 1}, 0.0, 22); }
  SECTION("with the weight decay") {
    CheckEncoderGradient(mf, {3, 1, 3, 4}, {5, 0, 0, 2, 0, 1, 5, 3}, 0.3, 23);
    CheckEncoderGradient(mf, {2}, {4}, 0.7, 24);
  }
}

TEST_CASE("MF AddWeightDecay value and appended rows", "[models][mf]") {
  const auto train = SmallInteractions();
  MF<double> mf({.dim = 2});
  RowMatrix<double> U(5, 2), I(6, 2);
  U.setZero();
  I.setZero();
  U.row(1) << 1, 2;  // ||.||^2 = 5
  U.row(3) << 0, 3;  // 9
  I.row(0) << 1, 1;  // 2
  I.row(4) << 2, 0;  // 4
  mf.SetTables(U, I);
  RowMatrix<double> XU, XI;
  const std::vector<Id> users{1, 3, 1}, items{0, 4, 0};
  mf.Encode(users, items, XU, XI);
  // B = 3: penalty = weight_decay/(2*3) * (5 + 9 + 5 + 2 + 4 + 2) = weight_decay * 27 / 6.
  std::vector<RowGradient<double>> grads;  // empty: every row gets appended
  const double penalty = mf.AddWeightDecay(0.6, grads);
  CHECK(penalty == Approx(0.6 * 27 / 6));
  REQUIRE(grads.size() == 2);
  CHECK(grads[0].rows == std::vector<Id>{1, 3});
  CHECK(grads[0].values.row(0).isApprox(Eigen::RowVector2d(0.4, 0.8)));  // 0.6 * 2 / 3 * (1, 2)
  CHECK(grads[0].values.row(1).isApprox(Eigen::RowVector2d(0, 0.6)));
  CHECK(grads[1].rows == std::vector<Id>{0, 4});
  CHECK(grads[1].values.row(0).isApprox(Eigen::RowVector2d(0.4, 0.4)));
  CHECK(mf.AddWeightDecay(0.0, grads) == 0.0);
}

TEST_CASE("MF SetTables and options validate their input", "[models][mf]") {
  MF<float> mf;
  RowMatrix<float> U = RowMatrix<float>::Ones(3, 8), I = RowMatrix<float>::Zero(4, 8);
  mf.SetTables(U, I);
  CHECK(mf.Dim() == 8);
  CHECK(mf.Users() == 3);
  CHECK(mf.ItemTable() == I);
  try {
    mf.SetTables(RowMatrix<float>::Ones(3, 8), RowMatrix<float>::Ones(4, 7));
    FAIL("SetTables accepted tables of different widths");
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Equals("MF::SetTables: user table has 8 columns, item table 7 "
                                      "(must be the same count, > 0)"));
  }
  CHECK_THROWS_WITH(MF<double>({.dim = 0}), Catch::Contains("dim = 0"));
}
