// Spectrum diagnostics: the singular values of embedding tables and the paper's collapse
// measure, the effective rank. Used after training (reports, SVG plots) and during training by
// SpectrumCallback. Singular values come from the smaller Gram matrix accumulated in double
// (eigenvalues are sigma^2): X^T X (d x d) for a tall table, X X^T (rows x rows) for a wide one.
// An r x d table costs O(r d k) + O(k^3) time and O(k^2) memory with k = min(r, d), never more
// than O(r d^2), and no SVD of the table itself.
#pragma once

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "directspec/core/types.hpp"

namespace directspec {

/// Accumulates G += X^T X in double, converting X in row blocks (no full double copy of X).
template <class Derived>
void AccumulateGram(const Eigen::MatrixBase<Derived>& X, Eigen::MatrixXd& G) {
  const Index d = X.cols();
  if (G.rows() != d || G.cols() != d) G.setZero(d, d);
  constexpr Index kBlock = 2048;
  Eigen::MatrixXd block;
  for (Index r0 = 0; r0 < X.rows(); r0 += kBlock) {
    const Index len = std::min(kBlock, X.rows() - r0);
    block = X.middleRows(r0, len).template cast<double>();
    G.selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
  }
  G.template triangularView<Eigen::StrictlyUpper>() = G.transpose();
}

/// Singular values (descending, length d) of a matrix with Gram matrix G = X^T X.
inline Eigen::VectorXd SingularValuesFromGram(const Eigen::MatrixXd& G) {
  if (G.rows() != G.cols())
    throw std::invalid_argument("SingularValuesFromGram: Gram matrix is " +
                                std::to_string(G.rows()) + "x" + std::to_string(G.cols()));
  Eigen::VectorXd s(G.rows());
  if (G.rows() == 0) return s;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(G, Eigen::EigenvaluesOnly);
  // Eigenvalues come ascending. Those below d * eps * lambda_max are rounding noise of the Gram
  // matrix (they would read as sigma ~ 1e-8 sigma_max) and become exact zeros, so a rank-r
  // matrix has exactly r non-zero singular values (erank of a rank-1 matrix is 1).
  const auto& ev = eig.eigenvalues();
  const double floor =
      ev(ev.size() - 1) * static_cast<double>(G.rows()) * std::numeric_limits<double>::epsilon();
  for (Index k = 0; k < ev.size(); ++k) {
    const double lambda = ev(ev.size() - 1 - k);
    s(k) = lambda > floor ? std::sqrt(lambda) : 0.0;
  }
  return s;
}

namespace detail {

/// Singular values (descending, length d) of the row stack of `parts` (each with d columns),
/// through the smaller Gram matrix. With at least d rows: G = X^T X (d x d), accumulated part by
/// part without forming the stack. With fewer rows r: K = X X^T (r x r), whose eigenvalues are
/// the r largest of X^T X (the other d - r are zero), accumulated over blocks of 2,048 columns
/// converted to double. So d = 5000 on a 100-row table solves a 100 x 100 problem, not a
/// 5000 x 5000 one, and no double copy of a wide table is made.
template <class... Parts>
Eigen::VectorXd StackSingularValues(Index d, const Parts&... parts) {
  const Index rows = (Index{0} + ... + parts.rows());
  // No rows: all d singular values are zero (and Eigen's rank update of an empty block would
  // bind a reference to a null pointer).
  if (rows == 0) return Eigen::VectorXd::Zero(d);
  if (rows >= d) {
    Eigen::MatrixXd G;
    G.setZero(d, d);
    (AccumulateGram(parts, G), ...);
    return SingularValuesFromGram(G);
  }
  constexpr Index kBlock = 2048;
  Eigen::MatrixXd K, block;
  K.setZero(rows, rows);
  for (Index c0 = 0; c0 < d; c0 += kBlock) {
    const Index len = std::min(kBlock, d - c0);
    block.resize(rows, len);
    Index r0 = 0;
    ((block.middleRows(r0, parts.rows()) = parts.middleCols(c0, len).template cast<double>(),
      r0 += parts.rows()),
     ...);
    K.selfadjointView<Eigen::Lower>().rankUpdate(block);
  }
  K.template triangularView<Eigen::StrictlyUpper>() = K.transpose();
  Eigen::VectorXd s = Eigen::VectorXd::Zero(d);
  s.head(rows) = SingularValuesFromGram(K);
  return s;
}

}  // namespace detail

/// Singular values of X (descending, length X.cols()).
///
///   Eigen::VectorXd s = SingularValues(U);
template <class Derived>
Eigen::VectorXd SingularValues(const Eigen::MatrixBase<Derived>& X) {
  return detail::StackSingularValues(X.cols(), X);
}

/// Singular values of the stacked [U; I] without forming the stack
/// (docs/method.md#effective-rank).
template <class DU, class DI>
Eigen::VectorXd StackedSingularValues(const Eigen::MatrixBase<DU>& U,
                                      const Eigen::MatrixBase<DI>& I) {
  if (U.cols() != I.cols())
    throw std::invalid_argument("StackedSingularValues: U has " + std::to_string(U.cols()) +
                                " columns, I has " + std::to_string(I.cols()));
  return detail::StackSingularValues(U.cols(), U, I);
}

/// Bytes of double workspace StackedSingularValues needs for an r x d stack: the k x k Gram
/// (k = min(r, d)), the eigen solver's copy of it and its vectors of length k, and one block of
/// 2,048 rows (tall) or columns (wide) converted to double. For memory budgets
/// (resources/memory_estimate.hpp).
inline double SpectrumWorkspaceBytes(Index rows, Index d) {
  const double k = static_cast<double>(std::min(rows, d));
  return 8.0 * (2.0 * k * k + 4.0 * k + 2048.0 * k);
}

/// Effective rank exp(-sum p log p), p = sigma / sum sigma: 1 for a rank-1 matrix, d for a flat
/// spectrum. 0 for an all-zero matrix (no direction at all).
inline double EffectiveRank(const Eigen::VectorXd& sigma) {
  double total = 0;
  for (Index k = 0; k < sigma.size(); ++k) total += std::max(sigma(k), 0.0);
  if (!(total > 0)) return 0.0;
  double entropy = 0;
  for (Index k = 0; k < sigma.size(); ++k) {
    const double p = std::max(sigma(k), 0.0) / total;
    if (p > 0) entropy -= p * std::log(p);
  }
  return std::exp(entropy);
}

/// Share of the energy sum sigma^2 carried by the `top` largest singular values (sigma sorted
/// descending, as returned above). 0 for an all-zero spectrum.
inline double EnergyShare(const Eigen::VectorXd& sigma, Index top) {
  double all = 0, head = 0;
  for (Index k = 0; k < sigma.size(); ++k) {
    const double e = sigma(k) * sigma(k);
    all += e;
    if (k < top) head += e;
  }
  return all > 0 ? head / all : 0.0;
}

/// Everything the diagnostics report about one spectrum.
struct SpectrumSummary {
  Eigen::VectorXd singular_values;  // descending
  double effective_rank = 0;
  double top1_energy = 0;   // EnergyShare(sigma, 1)
  double top10_energy = 0;  // EnergyShare(sigma, 10)
  double condition = 0;     // sigma_max / sigma_min (infinity when sigma_min = 0)
};

inline SpectrumSummary Summarize(Eigen::VectorXd sigma) {
  SpectrumSummary s;
  s.effective_rank = EffectiveRank(sigma);
  s.top1_energy = EnergyShare(sigma, 1);
  s.top10_energy = EnergyShare(sigma, 10);
  if (sigma.size() > 0) {
    const double lo = sigma(sigma.size() - 1), hi = sigma(0);
    s.condition = lo > 0 ? hi / lo : std::numeric_limits<double>::infinity();
  }
  s.singular_values = std::move(sigma);
  return s;
}

/// Spectrum summary of the stacked [U; I].
///
///   SpectrumSummary s = StackedSpectrum(U, I);
///   std::cout << "erank " << s.effective_rank << " of " << U.cols() << "\n";
template <class DU, class DI>
SpectrumSummary StackedSpectrum(const Eigen::MatrixBase<DU>& U, const Eigen::MatrixBase<DI>& I) {
  return Summarize(StackedSingularValues(U, I));
}

}  // namespace directspec
