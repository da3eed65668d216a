// Spectrum diagnostics (Gram-matrix singular values against JacobiSVD, effective rank on
// rank-deficient and perfectly flat matrices, energy shares) and the SVG plots (well-formed XML
// checked by a small parser below, one <path> per series, escaping, log axis ticks).

#include <Eigen/QR>
#include <Eigen/SVD>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "directspec/eval/spectrum.hpp"
#include "directspec/eval/svg_plot.hpp"

using namespace directspec;

namespace {

template <class S>
RowMatrix<S> Gaussian(Index rows, Index cols, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g;
  RowMatrix<S> X(rows, cols);
  for (Index k = 0; k < X.size(); ++k) X.data()[k] = static_cast<S>(g(rng));
  return X;
}

}  // namespace

TEMPLATE_TEST_CASE("Gram singular values match JacobiSVD", "[spectrum]", float, double) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const auto U = Gaussian<TestType>(40 + static_cast<Index>(seed), 8, seed);
    const auto I = Gaussian<TestType>(25, 8, seed + 10);
    RowMatrix<double> stacked(U.rows() + I.rows(), 8);
    stacked << U.template cast<double>(), I.template cast<double>();
    const Eigen::VectorXd want = Eigen::JacobiSVD<Eigen::MatrixXd>(stacked).singularValues();
    const Eigen::VectorXd got = StackedSingularValues(U, I);
    REQUIRE(got.size() == 8);
    for (Index k = 0; k < 8; ++k) CHECK(got(k) == Approx(want(k)).epsilon(1e-9));
    for (Index k = 1; k < 8; ++k) CHECK(got(k) <= got(k - 1));
    const Eigen::VectorXd single = SingularValues(stacked);
    CHECK((single - got).norm() < 1e-9 * got(0));
  }
}

TEMPLATE_TEST_CASE("Wide tables go through the row Gram and match JacobiSVD", "[spectrum]", float,
                   double) {
  // Fewer rows than columns: the r x r Gram X X^T replaces the d x d one (the CLI's erank at
  // --dim 5000 on a 30-node data set solves a 30 x 30 problem, not a 5000 x 5000 one).
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const Index d = 300;
    const auto U = Gaussian<TestType>(20 + static_cast<Index>(seed), d, seed);
    const auto I = Gaussian<TestType>(15, d, seed + 10);
    const Index rows = U.rows() + I.rows();
    RowMatrix<double> stacked(rows, d);
    stacked << U.template cast<double>(), I.template cast<double>();
    const Eigen::VectorXd want = Eigen::JacobiSVD<Eigen::MatrixXd>(stacked).singularValues();
    const Eigen::VectorXd got = StackedSingularValues(U, I);
    REQUIRE(got.size() == d);
    for (Index k = 0; k < rows; ++k) CHECK(got(k) == Approx(want(k)).epsilon(1e-9));
    for (Index k = rows; k < d; ++k) CHECK(got(k) == 0.0);
    // The d x d route gives the same spectrum (its rounding-level eigenvalues become zeros).
    Eigen::MatrixXd G;
    G.setZero(d, d);
    AccumulateGram(stacked, G);
    const Eigen::VectorXd via_columns = SingularValuesFromGram(G);
    CHECK((via_columns - got).norm() < 1e-9 * got(0));
    CHECK(EffectiveRank(got) == Approx(EffectiveRank(via_columns)).epsilon(1e-9));
    CHECK((SingularValues(stacked) - got).norm() < 1e-9 * got(0));
  }
  // Empty tables: d zeros.
  const RowMatrix<float> none(0, 7);
  CHECK(StackedSingularValues(none, none).isZero());
  CHECK(StackedSingularValues(none, none).size() == 7);
}

TEST_CASE("rank-deficient matrices", "[spectrum]") {
  // Rank 1: outer product a v^T.
  const auto a = Gaussian<double>(500, 1, 3), v = Gaussian<double>(1, 16, 4);
  const RowMatrix<double> rank1 = a * v;
  const Eigen::VectorXd s1 = SingularValues(rank1);
  CHECK(s1(0) == Approx(a.norm() * v.norm()));
  for (Index k = 1; k < 16; ++k) CHECK(s1(k) == 0.0);
  CHECK(EffectiveRank(s1) == Approx(1.0));
  CHECK(EnergyShare(s1, 1) == Approx(1.0));

  // Rank 3 of 16, from a float table.
  const RowMatrix<float> rank3 =
      (Gaussian<double>(300, 3, 5) * Gaussian<double>(3, 16, 6)).cast<float>();
  const Eigen::VectorXd s3 = SingularValues(rank3);
  const Eigen::VectorXd want3 =
      Eigen::JacobiSVD<Eigen::MatrixXd>(rank3.cast<double>()).singularValues();
  for (Index k = 0; k < 3; ++k) CHECK(s3(k) == Approx(want3(k)).epsilon(1e-6));
  for (Index k = 3; k < 16; ++k) CHECK(s3(k) < 1e-5 * s3(0));
  CHECK(EffectiveRank(s3) <= 3.0 + 1e-3);

  // Zero matrix: no direction.
  const RowMatrix<double> zero = RowMatrix<double>::Zero(10, 4);
  CHECK(SingularValues(zero).isZero());
  CHECK(EffectiveRank(SingularValues(zero)) == 0.0);
  CHECK(EnergyShare(SingularValues(zero), 1) == 0.0);
}

TEST_CASE("orthogonal equal-norm columns have erank d", "[spectrum]") {
  const Index n = 200, d = 12;
  const Eigen::MatrixXd q =
      Eigen::HouseholderQR<Eigen::MatrixXd>(Gaussian<double>(n, d, 9)).householderQ() *
      Eigen::MatrixXd::Identity(n, d);
  const RowMatrix<double> X = 2.5 * q;
  const Eigen::VectorXd s = SingularValues(X);
  for (Index k = 0; k < d; ++k) CHECK(s(k) == Approx(2.5));
  CHECK(EffectiveRank(s) == Approx(static_cast<double>(d)));
  CHECK(EnergyShare(s, 3) == Approx(3.0 / 12.0));
  const SpectrumSummary sum = StackedSpectrum(X.topRows(120), X.bottomRows(80));
  CHECK(sum.effective_rank == Approx(12.0));
  CHECK(sum.condition == Approx(1.0));
}

TEST_CASE("effective rank and energy share by hand", "[spectrum]") {
  Eigen::VectorXd s(3);
  s << 3.0, 1.0, 0.0;
  // p = (3/4, 1/4, 0)
  CHECK(EffectiveRank(s) == Approx(std::exp(-(0.75 * std::log(0.75) + 0.25 * std::log(0.25)))));
  CHECK(EnergyShare(s, 1) == Approx(9.0 / 10.0));
  CHECK(EnergyShare(s, 2) == Approx(1.0));
  const SpectrumSummary sum = Summarize(s);
  CHECK(sum.top1_energy == Approx(0.9));
  CHECK(std::isinf(sum.condition));
  CHECK_THROWS_AS(StackedSingularValues(RowMatrix<double>(3, 2), RowMatrix<double>(3, 4)),
                  std::invalid_argument);
}

// ------------------------------------------------------------------------------- SVG checks

namespace {

// A small XML well-formedness checker: one root element, matching and properly nested tags,
// quoted attributes without raw '<', text and attributes whose '&' start a known entity.
// Returns the element names in document order; throws std::runtime_error on malformed input.
struct XmlCheck {
  std::string s;
  std::size_t p = 0;
  std::vector<std::string> elements;

  [[noreturn]] void Fail(const std::string& why) const {
    throw std::runtime_error("XML error at " + std::to_string(p) + ": " + why);
  }
  static bool NameChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' ||
           c == '.';
  }
  void CheckEntity() {
    static const char* entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (const char* e : entities)
      if (s.compare(p, std::strlen(e), e) == 0) {
        p += std::strlen(e);
        return;
      }
    Fail("bare '&'");
  }
  std::string Name() {
    const std::size_t b = p;
    while (p < s.size() && NameChar(s[p])) ++p;
    if (p == b) Fail("expected a name");
    return s.substr(b, p - b);
  }
  void Space() {
    while (p < s.size() && std::isspace(static_cast<unsigned char>(s[p]))) ++p;
  }
  void Element() {
    if (s[p] != '<') Fail("expected '<'");
    ++p;
    const std::string name = Name();
    elements.push_back(name);
    std::vector<std::string> attrs;
    for (;;) {
      const std::size_t before = p;
      Space();
      if (p >= s.size()) Fail("unterminated tag");
      if (s[p] == '/') {
        if (s.compare(p, 2, "/>") != 0) Fail("bad '/'");
        p += 2;
        return;
      }
      if (s[p] == '>') {
        ++p;
        break;
      }
      if (p == before) Fail("attributes need whitespace");
      const std::string attr = Name();
      for (const auto& a : attrs)
        if (a == attr) Fail("duplicate attribute " + attr);
      attrs.push_back(attr);
      Space();
      if (s[p] != '=') Fail("attribute without '='");
      ++p;
      Space();
      const char quote = s[p];
      if (quote != '"' && quote != '\'') Fail("unquoted attribute " + attr);
      ++p;
      while (p < s.size() && s[p] != quote) {
        if (s[p] == '<') Fail("'<' in attribute");
        if (s[p] == '&')
          CheckEntity();
        else
          ++p;
      }
      if (p >= s.size()) Fail("unterminated attribute");
      ++p;
    }
    // Content until the matching end tag.
    for (;;) {
      if (p >= s.size()) Fail("missing </" + name + ">");
      if (s[p] == '&') {
        CheckEntity();
      } else if (s[p] == '>') {
        Fail("raw '>' in text");  // legal XML, but our writer always escapes it
      } else if (s[p] != '<') {
        ++p;
      } else if (s.compare(p, 2, "</") == 0) {
        p += 2;
        if (Name() != name) Fail("mismatched end tag for " + name);
        Space();
        if (s[p] != '>') Fail("bad end tag");
        ++p;
        return;
      } else {
        Element();
      }
    }
  }
  void Document() {
    if (s.compare(0, 5, "<?xml") == 0) {
      p = s.find("?>");
      if (p == std::string::npos) Fail("unterminated prolog");
      p += 2;
    }
    Space();
    Element();
    Space();
    if (p != s.size()) Fail("content after the root element");
  }
};

std::vector<std::string> ParseXml(const std::string& text) {
  XmlCheck x{text, 0, {}};
  x.Document();
  return x.elements;
}

std::size_t Count(const std::vector<std::string>& v, const std::string& name) {
  return static_cast<std::size_t>(std::count(v.begin(), v.end(), name));
}

}  // namespace

TEST_CASE("the XML checker itself rejects malformed documents", "[svg]") {
  CHECK_NOTHROW(ParseXml("<a x=\"1\"><b/>t &amp; u</a>"));
  CHECK_THROWS(ParseXml("<a><b></a></b>"));
  CHECK_THROWS(ParseXml("<a x=1/>"));
  CHECK_THROWS(ParseXml("<a>x & y</a>"));
  CHECK_THROWS(ParseXml("<a>x < y</a>"));
  CHECK_THROWS(ParseXml("<a/><b/>"));
  CHECK_THROWS(ParseXml("<a>"));
  CHECK_THROWS(ParseXml("<a x=\"1\" x=\"2\"/>"));
}

TEST_CASE("spectrum chart: well-formed, one path per model, log ticks", "[svg]") {
  Eigen::VectorXd a(64), b(64);
  for (Index k = 0; k < 64; ++k) {
    a(k) = 10.0 * std::pow(0.8, static_cast<double>(k));  // collapsed: fast decay
    b(k) = 5.0 * std::pow(0.99, static_cast<double>(k));  // balanced
  }
  b(63) = 0.0;  // a zero singular value is a gap on the log axis, not a crash
  std::vector<NamedSpectrum> spectra{{"MF <BPR> & \"friends\"", a}, {"MF + DirectSpec+", b}};
  const std::string svg = SpectrumChartSvg(spectra);
  std::vector<std::string> elements;
  REQUIRE_NOTHROW(elements = ParseXml(svg));
  CHECK(elements.front() == "svg");
  CHECK(Count(elements, "path") == 2);
  CHECK(svg.find("MF &lt;BPR&gt; &amp; &quot;friends&quot;") != std::string::npos);
  // 0.8^63 ~ 8e-7: the log axis spans 1 down to 1e-7 and labels decades.
  CHECK(svg.find(">1</text>") != std::string::npos);
  CHECK(svg.find(">0.1</text>") != std::string::npos);
  CHECK(svg.find(">1e-7</text>") != std::string::npos);
  CHECK(svg.find("index k") != std::string::npos);

  if (const char* out = std::getenv("DIRECTSPEC_SVG_OUT"))
    WriteSvgFile(std::string(out) + "/spectrum.svg", svg);
}

TEST_CASE("line chart: several series, gaps, labels", "[svg]") {
  PlotSeries erank{"erank MF", {0, 10, 20, 30, 40}, {60, 31, 22, 18, 17}};
  PlotSeries plus{"erank DirectSpec+", {0, 10, 20, 30, 40}, {60, 52, std::nan(""), 55, 56}};
  PlotSeries flat{"constant", {0, 40}, {40, 40}};
  PlotOptions o;
  o.title = "Effective rank during training";
  o.x_label = "epoch";
  o.y_label = "erank";
  const std::vector<PlotSeries> series{erank, plus, flat};
  const std::string svg = LineChartSvg(series, o);
  std::vector<std::string> elements;
  REQUIRE_NOTHROW(elements = ParseXml(svg));
  CHECK(Count(elements, "path") == 3);
  CHECK(Count(elements, "circle") == 5 + 4 + 2);
  // The NaN splits the second series into two sub-paths inside its single <path>.
  const auto second = svg.find("d=\"", svg.find("d=\"") + 1);
  const auto end = svg.find('"', second + 3);
  const std::string d = svg.substr(second + 3, end - second - 3);
  CHECK(std::count(d.begin(), d.end(), 'M') == 2);
  CHECK(svg.find("Effective rank during training") != std::string::npos);
  CHECK(svg.find(">40</text>") != std::string::npos);  // an x tick

  // Empty input still gives a valid chart; mismatched lengths are an error.
  CHECK_NOTHROW(ParseXml(LineChartSvg(std::vector<PlotSeries>{}, o)));
  const std::vector<PlotSeries> bad{{"bad", {1, 2}, {1}}};
  CHECK_THROWS_WITH(LineChartSvg(bad, o), Catch::Contains("'bad'"));

  if (const char* out = std::getenv("DIRECTSPEC_SVG_OUT"))
    WriteSvgFile(std::string(out) + "/erank.svg", svg);
}
