// Random streams: every random choice in the library (initialisation, sampling, splits, the
// synthetic generator) draws from std::mt19937_64 engines derived from one run seed here, so
// the same seed (and thread count) reproduces a run bit for bit.
#pragma once

#include <cstdint>
#include <random>

namespace directspec {

/// SplitMix64 finaliser: decorrelates nearby seeds (seed, seed + 1, ...) before they reach an
/// engine.
constexpr std::uint64_t MixSeed(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// The engine for sub-stream `stream` of a run seeded with `seed` (e.g. stream = purpose, thread,
/// or step). Independent of thread scheduling: callers pick streams from a fixed work partition.
inline std::mt19937_64 MakeStream(std::uint64_t seed, std::uint64_t stream = 0) {
  return std::mt19937_64(MixSeed(MixSeed(seed) ^ MixSeed(stream + 0x5851F42D4C957F2Dull)));
}

/// Uniform integer in [0, bound) without the modulo bias of `engine() % bound` (Lemire's method).
inline std::uint64_t UniformIndex(std::mt19937_64& engine, std::uint64_t bound) {
  using U128 = __uint128_t;
  U128 product = static_cast<U128>(engine()) * bound;
  auto low = static_cast<std::uint64_t>(product);
  if (low < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      product = static_cast<U128>(engine()) * bound;
      low = static_cast<std::uint64_t>(product);
    }
  }
  return static_cast<std::uint64_t>(product >> 64);
}

/// Uniform real in [0, 1) with 53 random bits (portable, unlike std::uniform_real_distribution,
/// whose output may differ between standard libraries).
inline double UniformUnit(std::mt19937_64& engine) {
  return static_cast<double>(engine() >> 11) * 0x1.0p-53;
}

}  // namespace directspec
