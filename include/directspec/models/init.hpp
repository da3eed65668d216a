// Encoder initialisation shared by the encoders (MF, LightGCN): seeded Xavier-uniform tables
// whose every value can be replicated outside C++ from the seed.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

#include "directspec/core/rng.hpp"
#include "directspec/core/types.hpp"

namespace directspec {

/// The sub-stream of the encoder seed that initialisation draws from: MakeStream(seed,
/// kInitStream). ("init" in the high 32 bits: far from the small stream numbers, e.g. step
/// indices, that other stages use.)
inline constexpr std::uint64_t kInitStream = 0x696E697400000000ull;

/// Fills `table` (resized to rows x d) with Xavier-uniform values U(-a, a), a = sqrt(6 / (rows +
/// d)), in row-major order: table(r, c) = S(a * (2 * UniformUnit(engine) - 1)), computed in
/// double, one engine draw per value. 2u - 1 is exact, so the value is one rounding of a product
/// and cannot change with FMA contraction (-march=native or not, every build draws the same table).
/// Consecutive tables drawn from the same engine continue its sequence, so the whole initialisation
/// is replayable from the seed.
template <class S>
void XavierUniform(RowMatrix<S>& table, Index rows, Index d, std::mt19937_64& engine) {
  table.resize(rows, d);
  const double a = rows + d > 0 ? std::sqrt(6.0 / static_cast<double>(rows + d)) : 0.0;
  S* out = table.data();
  for (Index k = 0; k < rows * d; ++k)
    out[k] = static_cast<S>(a * (2.0 * UniformUnit(engine) - 1.0));
}

}  // namespace directspec
