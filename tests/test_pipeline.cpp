// Tests of whole per-side pipelines, normalise -> filter -> shrink -> loss on both sides:
// (1) agreement with PyTorch autograd (tests/fixtures/torch_reference.txt, written by
// tests/fixtures/torch_reference.py) to 1e-10 relative error in double, stage by stage and end to
// end; (2) finite-difference checks of the composed gradient w.r.t. gathered embedding tables,
// with duplicate ids, B = 1, zero rows, tau = 20 and adaptive temperatures.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/filters.hpp"
#include "directspec/losses.hpp"
#include "support/dense_checks.hpp"

namespace ds = directspec;
using ds::Index;
using Mat = ds::RowMatrix<double>;
using directspec::testing::MaxAbs;

namespace {

void RequireRelClose(const Mat& actual, const Mat& expected, double tol) {
  REQUIRE(actual.rows() == expected.rows());
  REQUIRE(actual.cols() == expected.cols());
  REQUIRE(actual.allFinite());
  const double scale = std::max(MaxAbs(expected), 1e-300);
  INFO("max |difference| / max |expected| = " << MaxAbs(actual - expected) / scale);
  REQUIRE(MaxAbs(actual - expected) <= tol * scale);
}

// The fixture: named matrices, integer lists and scalars (see torch_reference.py).
struct Fixture {
  std::map<std::string, Mat> matrices;
  std::map<std::string, std::vector<std::int64_t>> ints;
  std::map<std::string, double> scalars;

  static Fixture Load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot open");
    Fixture f;
    std::string line;
    int line_no = 0;
    auto fail = [&](const std::string& why) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": " + why + ": '" + line +
                               "'");
    };
    auto next = [&]() {
      if (!std::getline(in, line)) fail("unexpected end of file");
      ++line_no;
      return std::istringstream(line);
    };
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty() || line[0] == '#') continue;
      std::istringstream head(line);
      std::string kind, name;
      head >> kind >> name;
      if (kind == "scalar") {
        double v;
        if (!(head >> v)) fail("bad scalar");
        f.scalars[name] = v;
      } else if (kind == "ints") {
        std::size_t count;
        if (!(head >> count)) fail("bad count");
        auto row = next();
        std::vector<std::int64_t> values(count);
        for (auto& v : values)
          if (!(row >> v)) fail("short int list");
        f.ints[name] = values;
      } else if (kind == "matrix") {
        Index rows, cols;
        if (!(head >> rows >> cols)) fail("bad shape");
        Mat m(rows, cols);
        for (Index r = 0; r < rows; ++r) {
          auto row = next();
          for (Index c = 0; c < cols; ++c)
            if (!(row >> m(r, c))) fail("short matrix row");
        }
        f.matrices[name] = m;
      } else {
        fail("unknown record");
      }
    }
    return f;
  }
  const Mat& M(const std::string& name) const {
    const auto it = matrices.find(name);
    if (it == matrices.end()) throw std::runtime_error("fixture has no matrix " + name);
    return it->second;
  }
  double S(const std::string& name) const { return scalars.at(name); }
};

std::vector<ds::Id> ToIds(const std::vector<std::int64_t>& v) {
  return std::vector<ds::Id>(v.begin(), v.end());
}

// Two-side pipeline over gathered tables: X = E[ids] -> RowNormalizer -> Filter -> NormShrink,
// then a loss; Backward scatters the row gradients back into dense table gradients.
template <class FilterU, class FilterI, class Loss>
struct Pipeline {
  FilterU filter_u;
  FilterI filter_i;
  Loss loss;
  ds::NormShrink<double> shrink_u, shrink_i;
  ds::RowNormalizer<double> norm_u, norm_i;

  std::vector<ds::Id> users, items;
  ds::CsrView user_items, item_users;

  double Run(const Mat& EU, const Mat& EI, Mat* GEU = nullptr, Mat* GEI = nullptr) {
    Mat XU(static_cast<Index>(users.size()), EU.cols()),
        XI(static_cast<Index>(items.size()), EI.cols());
    for (std::size_t b = 0; b < users.size(); ++b) XU.row(static_cast<Index>(b)) = EU.row(users[b]);
    for (std::size_t b = 0; b < items.size(); ++b) XI.row(static_cast<Index>(b)) = EI.row(items[b]);
    Mat XUh, XIh, YU, YI, OU, OI, GU, GI;
    norm_u.Forward(XU, XUh);
    norm_i.Forward(XI, XIh);
    filter_u.Forward(XUh, ds::FilterContext{users, user_items}, YU);
    filter_i.Forward(XIh, ds::FilterContext{items, item_users}, YI);
    shrink_u.Forward(YU, OU);
    shrink_i.Forward(YI, OI);
    ds::Batch batch;
    batch.users = users;
    batch.positives = items;
    const double value = loss.Evaluate(OU, OI, batch, GU, GI);
    if (GEU != nullptr) {
      shrink_u.Backward(GU, GU);  // in place on purpose
      shrink_i.Backward(GI, GI);
      filter_u.Backward(GU, GU);
      filter_i.Backward(GI, GI);
      norm_u.Backward(GU, GU);
      norm_i.Backward(GI, GI);
      GEU->setZero(EU.rows(), EU.cols());
      GEI->setZero(EI.rows(), EI.cols());
      for (std::size_t b = 0; b < users.size(); ++b)
        GEU->row(users[b]) += GU.row(static_cast<Index>(b));
      for (std::size_t b = 0; b < items.size(); ++b)
        GEI->row(items[b]) += GI.row(static_cast<Index>(b));
    }
    return value;
  }
};

Mat RandomMatrix(Index rows, Index cols, std::uint64_t seed) {
  auto engine = ds::MakeStream(seed);
  Mat m(rows, cols);
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c) m(r, c) = 2.0 * ds::UniformUnit(engine) - 1.0;
  return m;
}

// Central differences w.r.t. every entry of both tables, skipping rows listed in `skip_*`
// (zero rows, where the normaliser's x / epsilon branch is narrower than any usable step).
template <class P>
void CheckPipelineGradient(P& p, const Mat& EU, const Mat& EI, double tol,
                           const std::vector<Index>& skip_u = {},
                           const std::vector<Index>& skip_i = {}) {
  Mat GEU, GEI;
  const double value = p.Run(EU, EI, &GEU, &GEI);
  REQUIRE(std::isfinite(value));
  REQUIRE(GEU.allFinite());
  REQUIRE(GEI.allFinite());
  const double h = 1e-6;
  auto check = [&](const Mat& base, const Mat& grad, bool user_side, const auto& skip) {
    Mat Z = base;
    double worst = 0, scale = 1;
    for (Index r = 0; r < base.rows(); ++r) {
      if (std::find(skip.begin(), skip.end(), r) != skip.end()) continue;
      for (Index c = 0; c < base.cols(); ++c) {
        Z(r, c) = base(r, c) + h;
        const double plus = user_side ? p.Run(Z, EI) : p.Run(EU, Z);
        Z(r, c) = base(r, c) - h;
        const double minus = user_side ? p.Run(Z, EI) : p.Run(EU, Z);
        Z(r, c) = base(r, c);
        const double numeric = (plus - minus) / (2 * h);
        worst = std::max(worst, std::abs(numeric - grad(r, c)));
        scale = std::max(scale, std::abs(numeric));
      }
    }
    INFO((user_side ? "user" : "item") << " table: max |analytic − numeric| = " << worst);
    REQUIRE(worst <= tol * scale);
  };
  check(EU, GEU, true, skip_u);
  check(EI, GEI, false, skip_i);
}

using PenalisedLog = ds::WithOutputL2<ds::LogLoss<double>>;

// Users -> items of a small train matrix (5 users, 8 items) and its transpose.
struct SmallGraph {
  std::vector<std::int64_t> u_off{0, 2, 3, 5, 7, 10}, i_off{0, 2, 3, 5, 6, 8, 8, 9, 10};
  std::vector<ds::Id> u_col{1, 4, 2, 4, 7, 0, 3, 0, 2, 6}, i_col{3, 4, 0, 1, 4, 3, 0, 2, 4, 2};
  ds::CsrView Users() const { return {u_off, u_col}; }
  ds::CsrView Items() const { return {i_off, i_col}; }
};

template <class P>
void Configure(P& p, const SmallGraph& g, std::vector<ds::Id> users, std::vector<ds::Id> items) {
  p.users = std::move(users);
  p.items = std::move(items);
  p.user_items = g.Users();
  p.item_users = g.Items();
}

}  // namespace

TEST_CASE("Stages agree with PyTorch autograd to 1e-10", "[pipeline][torch]") {
  const Fixture f = Fixture::Load(std::string(DIRECTSPEC_FIXTURE_DIR) + "/torch_reference.txt");
  const double alpha = f.S("alpha"), tau = f.S("tau"), tau0 = f.S("tau0"), tau1 = f.S("tau1");
  const double tol = 1e-10;
  const Mat& XU = f.M("xu");
  const Mat& RU = f.M("ru");

  ds::RowNormalizer<double> norm;
  Mat Xhat, G;
  norm.Forward(XU, Xhat);
  norm.Backward(RU, G);
  RequireRelClose(Xhat, f.M("norm_out"), tol);
  RequireRelClose(G, f.M("norm_grad"), tol);

  const auto ids_u = ToIds(f.ints.at("ids_u"));
  const auto u_off = f.ints.at("csr_u_offsets");
  const auto u_col = ToIds(f.ints.at("csr_u_columns"));
  const ds::FilterContext ctx{ids_u, ds::CsrView{u_off, u_col}};
  auto check_filter = [&](auto& filter, const std::string& name) {
    INFO(name);
    Mat Y, GX;
    filter.Forward(Xhat, ctx, Y);
    filter.Backward(RU, GX);
    RequireRelClose(Y, f.M(name + "_out"), tol);
    RequireRelClose(GX, f.M(name + "_grad"), tol);
  };
  ds::DirectSpec<double> linear({.alpha = alpha});
  check_filter(linear, "directspec");
  ds::DirectSpecPlus<double> plus({.alpha = alpha, .tau = tau});
  check_filter(plus, "dsplus");
  ds::AdaptiveDirectSpecPlus<double> adaptive({.alpha = alpha, .tau0 = tau0, .tau1 = tau1});
  check_filter(adaptive, "adaptive");
  // The mask our sparse intersection found is the one torch used (R[ids] R[ids]^T > 0 | I).
  const Mat& mask = f.M("mask_u");
  for (Index a = 0; a < mask.rows(); ++a)
    for (Index b = 0; b < mask.cols(); ++b)
      REQUIRE((adaptive.Temperatures()(a, b) == tau0) == (mask(a, b) == 1.0));

  ds::NormShrink<double> shrink({.strength = f.S("shrink")});
  Mat O;
  shrink.Forward(f.M("yin"), O);
  shrink.Backward(RU, G);
  RequireRelClose(O, f.M("shrink_out"), tol);
  RequireRelClose(G, f.M("shrink_grad"), tol);

  ds::LogLoss<double> loss;
  Mat GU, GI;
  const double value = loss.Evaluate(f.M("ou_in"), f.M("oi_in"), ds::Batch{}, GU, GI);
  REQUIRE(std::abs(value - f.S("logloss_value")) <= tol * std::abs(f.S("logloss_value")));
  RequireRelClose(GU, f.M("logloss_grad_u"), tol);
  RequireRelClose(GI, f.M("logloss_grad_i"), tol);
}

TEST_CASE("Whole two-side pipelines agree with PyTorch autograd to 1e-10", "[pipeline][torch]") {
  const Fixture f = Fixture::Load(std::string(DIRECTSPEC_FIXTURE_DIR) + "/torch_reference.txt");
  const double alpha = f.S("alpha"), tau = f.S("tau"), tau0 = f.S("tau0"), tau1 = f.S("tau1");
  const auto u_off = f.ints.at("csr_u_offsets"), i_off = f.ints.at("csr_i_offsets");
  const auto u_col = ToIds(f.ints.at("csr_u_columns")), i_col = ToIds(f.ints.at("csr_i_columns"));
  const Mat& XU = f.M("xu");
  const Mat& XI = f.M("xi");
  const Index B = XU.rows();

  // The encoder is the identity here: table row b is batch row b (ids only feed the filter).
  auto run = [&](auto& p, const std::string& name) {
    INFO(name);
    p.users = ToIds(f.ints.at("ids_u"));
    p.items = ToIds(f.ints.at("ids_i"));
    p.user_items = ds::CsrView{u_off, u_col};
    p.item_users = ds::CsrView{i_off, i_col};
    p.shrink_u = ds::NormShrink<double>({.strength = f.S("shrink")});
    p.shrink_i = p.shrink_u;
    p.loss = PenalisedLog({.output_l2 = f.S("reg")});
    // Gather through identity ids: rows of XU are already the batch rows.
    std::vector<ds::Id> identity(static_cast<std::size_t>(B));
    for (Index b = 0; b < B; ++b) identity[static_cast<std::size_t>(b)] = static_cast<ds::Id>(b);
    Mat XUh, XIh, YU, YI, OU, OI, GU, GI;
    p.norm_u.Forward(XU, XUh);
    p.norm_i.Forward(XI, XIh);
    p.filter_u.Forward(XUh, ds::FilterContext{p.users, p.user_items}, YU);
    p.filter_i.Forward(XIh, ds::FilterContext{p.items, p.item_users}, YI);
    p.shrink_u.Forward(YU, OU);
    p.shrink_i.Forward(YI, OI);
    ds::Batch batch;
    batch.users = identity;
    batch.positives = identity;
    const double value = p.loss.Evaluate(OU, OI, batch, GU, GI);
    p.shrink_u.Backward(GU, GU);
    p.shrink_i.Backward(GI, GI);
    p.filter_u.Backward(GU, GU);
    p.filter_i.Backward(GI, GI);
    p.norm_u.Backward(GU, GU);
    p.norm_i.Backward(GI, GI);
    const double expected = f.S(name + "_value");
    REQUIRE(std::abs(value - expected) <= 1e-10 * std::abs(expected));
    RequireRelClose(GU, f.M(name + "_grad_u"), 1e-10);
    RequireRelClose(GI, f.M(name + "_grad_i"), 1e-10);
  };
  Pipeline<ds::DirectSpec<double>, ds::DirectSpec<double>, PenalisedLog> linear;
  linear.filter_u = ds::DirectSpec<double>({.alpha = alpha});
  linear.filter_i = linear.filter_u;
  run(linear, "pipe_directspec");
  Pipeline<ds::DirectSpecPlus<double>, ds::DirectSpecPlus<double>, PenalisedLog> plus;
  plus.filter_u = ds::DirectSpecPlus<double>({.alpha = alpha, .tau = tau});
  plus.filter_i = plus.filter_u;
  run(plus, "pipe_dsplus");
  using Adaptive = ds::AdaptiveDirectSpecPlus<double>;
  Pipeline<Adaptive, Adaptive, PenalisedLog> adaptive;
  adaptive.filter_u = Adaptive({.alpha = alpha, .tau0 = tau0, .tau1 = tau1});
  adaptive.filter_i = adaptive.filter_u;
  run(adaptive, "pipe_adaptive");
  const Mat& mask_i = f.M("mask_i");
  for (Index a = 0; a < B; ++a)
    for (Index b = 0; b < B; ++b)
      REQUIRE((adaptive.filter_i.Temperatures()(a, b) == tau0) == (mask_i(a, b) == 1.0));
}

TEST_CASE("Fixture reader rejects a corrupt file", "[pipeline]") {
  const std::string path = "test_pipeline_corrupt_fixture.txt";
  {
    std::ofstream out(path);
    out << "scalar a 1.0\nmatrix m 2 2\n1 2\n3\n";
  }
  REQUIRE_THROWS_WITH(Fixture::Load(path),
                      Catch::Contains(path + ":4") && Catch::Contains("short matrix row"));
  std::remove(path.c_str());
}

TEST_CASE("Composed pipeline gradients match finite differences", "[pipeline][gradient]") {
  const SmallGraph g;
  const Mat EU = RandomMatrix(5, 4, 1), EI = RandomMatrix(8, 4, 2);
  // Duplicates on both sides (users 1 and 3 twice, item 4 twice).
  const std::vector<ds::Id> users = {0, 1, 2, 1, 3, 4, 3}, items = {4, 2, 7, 0, 4, 6, 1};

  SECTION("DirectSpecPlus + shrink + output L2") {
    Pipeline<ds::DirectSpecPlus<double>, ds::DirectSpecPlus<double>, PenalisedLog> p;
    Configure(p, g, users, items);
    p.shrink_u = p.shrink_i = ds::NormShrink<double>({.strength = 0.5});
    p.loss = PenalisedLog({.output_l2 = 0.05});
    CheckPipelineGradient(p, EU, EI, 1e-7);
  }
  SECTION("DirectSpecPlus, tau = 20") {
    Pipeline<ds::DirectSpecPlus<double>, ds::DirectSpecPlus<double>, ds::LogLoss<double>> p;
    Configure(p, g, users, items);
    p.filter_u = p.filter_i = ds::DirectSpecPlus<double>({.alpha = 1.0, .tau = 20.0});
    p.shrink_u = p.shrink_i = ds::NormShrink<double>({.strength = 0.03});
    CheckPipelineGradient(p, EU, EI, 1e-6);
  }
  SECTION("adaptive temperatures on both sides") {
    using A = ds::AdaptiveDirectSpecPlus<double>;
    Pipeline<A, A, PenalisedLog> p;
    Configure(p, g, users, items);
    p.filter_u = p.filter_i = A({.alpha = 0.7, .tau0 = 3.5, .tau1 = 4.0});
    p.shrink_u = p.shrink_i = ds::NormShrink<double>({.strength = 0.2});
    CheckPipelineGradient(p, EU, EI, 1e-7);
  }
  SECTION("DirectSpec on users, NoFilter on items, no shrink") {
    Pipeline<ds::DirectSpec<double>, ds::NoFilter<double>, ds::LogLoss<double>> p;
    Configure(p, g, users, items);
    CheckPipelineGradient(p, EU, EI, 1e-7);
  }
  SECTION("B = 1") {
    Pipeline<ds::DirectSpecPlus<double>, ds::DirectSpec<double>, PenalisedLog> p;
    Configure(p, g, {2}, {7});
    p.filter_u = ds::DirectSpecPlus<double>({.alpha = 0.5, .tau = 3.0});
    p.filter_i = ds::DirectSpec<double>({.alpha = 0.5});
    p.shrink_u = p.shrink_i = ds::NormShrink<double>({.strength = 0.4});
    CheckPipelineGradient(p, EU, EI, 1e-7);
  }
  SECTION("zero table rows give finite values and gradients") {
    Mat EU0 = EU, EI0 = EI;
    EU0.row(1).setZero();  // user 1 appears twice in the batch
    EI0.row(7).setZero();
    using A = ds::AdaptiveDirectSpecPlus<double>;
    Pipeline<A, ds::DirectSpecPlus<double>, PenalisedLog> p;
    Configure(p, g, users, items);
    p.shrink_u = p.shrink_i = ds::NormShrink<double>({.strength = 0.3});
    // The normaliser maps a zero row to zero (x / epsilon): the loss is finite, and every other
    // entry's gradient matches finite differences. The zero rows' own gradients are finite too
    // (checked inside), but the x / epsilon region is far narrower than any usable step.
    CheckPipelineGradient(p, EU0, EI0, 1e-7, {1}, {7});
  }
}
