// Core vocabulary shared by every stage of the pipeline: index and id types, the row-major
// matrix aliases used for embedding tables and batches, and the library version.
#pragma once

#include <Eigen/Core>
#include <cstdint>

#define DIRECTSPEC_VERSION_MAJOR 0
#define DIRECTSPEC_VERSION_MINOR 1
#define DIRECTSPEC_VERSION_PATCH 0

namespace directspec {

/// Signed size type for rows, columns and counts (Eigen's convention).
using Index = Eigen::Index;

/// Dense user or item index after id mapping (0-based, contiguous). 32 bits keeps CSR small.
using Id = std::int32_t;

/// Embedding tables and batches: one entity per row, so gathers and scatters touch contiguous
/// memory.
template <class Scalar>
using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

}  // namespace directspec
