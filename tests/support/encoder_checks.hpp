// Shared by the encoder and graph tests (MF, LightGCN, Â): seeded random rows, a RowGradient
// made dense, and the central-difference check of an encoder's Backward (+ AddWeightDecay)
// against every entry of every table, with loss = sum(GU .* XU) + sum(GI .* XI) (+ penalty).
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/core/row_gradient.hpp"
#include "directspec/core/types.hpp"

namespace directspec::testing {

/// rows x cols entries uniform in [-1, 1), reproducible from `seed`.
template <class S>
RowMatrix<S> RandomRows(Index rows, Index cols, std::uint64_t seed) {
  std::mt19937_64 engine = MakeStream(seed, 3);
  RowMatrix<S> X(rows, cols);
  for (Index k = 0; k < X.size(); ++k) X.data()[k] = static_cast<S>(2 * UniformUnit(engine) - 1);
  return X;
}

/// The gradient as a dense rows x cols matrix (zero on unlisted rows); each row listed once.
template <class S>
RowMatrix<double> Densify(const RowGradient<S>& grad, Index rows, Index cols) {
  RowMatrix<double> out = RowMatrix<double>::Zero(rows, cols);
  REQUIRE(grad.values.rows() >= grad.Size());  // rows past Size() are spare capacity
  std::set<Id> seen;
  for (Index k = 0; k < grad.Size(); ++k) {
    const Id r = grad.rows[static_cast<std::size_t>(k)];
    CHECK(seen.insert(r).second);
    out.row(r) = grad.values.row(k).template cast<double>();
  }
  return out;
}

/// sum(GU .* XU) + sum(GI .* XI) (+ the weight decay when weight_decay > 0) of one Encode.
template <class Encoder>
double EncoderObjective(Encoder& enc, const std::vector<Id>& users, const std::vector<Id>& items,
                        const RowMatrix<double>& GU, const RowMatrix<double>& GI,
                        double weight_decay) {
  RowMatrix<double> XU, XI;
  enc.Encode(users, items, XU, XI);
  double loss = GU.cwiseProduct(XU).sum() + GI.cwiseProduct(XI).sum();
  if (weight_decay > 0) {
    std::vector<RowGradient<double>> scratch;
    loss += enc.AddWeightDecay(weight_decay, scratch);
  }
  return loss;
}

/// Backward (+ AddWeightDecay when weight_decay > 0) against central differences on every table
/// entry.
template <class Encoder>
void CheckEncoderGradient(Encoder& enc, const std::vector<Id>& users, const std::vector<Id>& items,
                          double weight_decay, std::uint64_t seed) {
  const Index d = enc.Dim();
  const RowMatrix<double> GU = RandomRows<double>(static_cast<Index>(users.size()), d, seed);
  const RowMatrix<double> GI = RandomRows<double>(static_cast<Index>(items.size()), d, seed + 1);
  RowMatrix<double> XU, XI;
  enc.Encode(users, items, XU, XI);
  std::vector<RowGradient<double>> grads;
  enc.Backward(GU, GI, grads);
  if (weight_decay > 0) enc.AddWeightDecay(weight_decay, grads);
  auto tables = enc.Tables();
  REQUIRE(grads.size() == tables.size());
  for (std::size_t t = 0; t < tables.size(); ++t) {
    RowMatrix<double>& table = *tables[t];
    const RowMatrix<double> analytic = Densify(grads[t], table.rows(), table.cols());
    const double h = 1e-6;
    for (Index k = 0; k < table.size(); ++k) {
      const double saved = table.data()[k];
      table.data()[k] = saved + h;
      const double up = EncoderObjective(enc, users, items, GU, GI, weight_decay);
      table.data()[k] = saved - h;
      const double down = EncoderObjective(enc, users, items, GU, GI, weight_decay);
      table.data()[k] = saved;
      INFO("table " << t << " entry " << k << " (row " << k / d << ")");
      CHECK((up - down) / (2 * h) == Approx(analytic.data()[k]).margin(1e-7).epsilon(1e-6));
    }
  }
}

}  // namespace directspec::testing
