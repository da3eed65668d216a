// Shared by the trainer tests (test_trainer, test_trainer_micro_batches): an independent
// re-implementation of one batch's composed loss in plain Eigen and double (normalise ->
// DirectSpec+ or identity -> shrink -> positive-only log loss or BPR), the reference the
// trainer's analytic step is checked against with finite differences.
#pragma once

#include <cmath>
#include <vector>

#include "directspec/core/batch.hpp"
#include "directspec/core/types.hpp"

namespace directspec::testing {

struct Recipe {
  bool normalize = true;
  bool softmax_filter = true;  // DirectSpecPlus, else identity
  double alpha = 0.8, tau = 2.5, shrink = 0;
  bool bpr = false;  // else positive-only log loss
  double l2 = 0;     // weight decay (each test adds it its own way)
};

inline RowMatrix<double> Gather(const RowMatrix<double>& table, const std::vector<Id>& ids) {
  RowMatrix<double> out(static_cast<Index>(ids.size()), table.cols());
  for (std::size_t b = 0; b < ids.size(); ++b) out.row(static_cast<Index>(b)) = table.row(ids[b]);
  return out;
}

/// One side's chain: normalise, filter, shrink.
inline RowMatrix<double> Side(RowMatrix<double> x, const Recipe& r) {
  if (r.normalize)
    for (Index b = 0; b < x.rows(); ++b) x.row(b) /= x.row(b).norm();
  if (r.softmax_filter) {
    RowMatrix<double> p = r.tau * (x * x.transpose());
    for (Index b = 0; b < p.rows(); ++b) {
      p.row(b) = p.row(b).array().exp();
      p.row(b) /= p.row(b).sum();
    }
    x = (x - r.alpha * p * x).eval();
  }
  if (r.shrink > 0)
    for (Index b = 0; b < x.rows(); ++b) x.row(b) *= r.shrink * x.row(b).norm();
  return x;
}

inline double LogSig(double z) { return -std::log1p(std::exp(-z)); }

/// The batch's ranking loss (without weight decay) from the encoder's outputs eu (users) and
/// ei (items): the paper's mean over its B pairs.
inline double RankingLoss(const RowMatrix<double>& eu, const RowMatrix<double>& ei,
                          const Batch& batch, const Recipe& r) {
  const RowMatrix<double> ou = Side(Gather(eu, batch.users), r);
  const RowMatrix<double> oi = Side(Gather(ei, batch.ItemRows()), r);
  const Index B = batch.Size(), k = batch.negatives_per_positive;
  double loss = 0;
  if (r.bpr) {
    for (Index b = 0; b < B; ++b)
      for (Index j = 0; j < k; ++j)
        loss -= LogSig(ou.row(b).dot(oi.row(b)) - ou.row(b).dot(oi.row(B + b * k + j)));
    loss /= static_cast<double>(B * k);
  } else {
    for (Index b = 0; b < B; ++b) loss -= LogSig(ou.row(b).dot(oi.row(b)));
    loss /= static_cast<double>(B);
  }
  return loss;
}

}  // namespace directspec::testing
