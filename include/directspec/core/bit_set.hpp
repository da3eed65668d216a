// The one bit-set layout of the library: a set over indices [0, n) is an array of BitSetWords(n)
// 64-bit words, index i being bit i % 64 of word i / 64. Graph masks (graph/spmm.hpp ColumnMask,
// models/propagation.hpp) and the shared-neighbour mask of the filters use it; kernels that walk
// a set go through ForEachSetBit.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace directspec {

/// Words holding a set over `bits` indices.
constexpr std::size_t BitSetWords(std::size_t bits) { return (bits + 63) / 64; }

/// The word holding index i, and i's bit inside it.
constexpr std::size_t BitWord(std::size_t i) { return i >> 6; }
constexpr std::uint64_t BitMask(std::size_t i) { return std::uint64_t{1} << (i & 63u); }

inline void SetBit(std::uint64_t* words, std::size_t i) { words[BitWord(i)] |= BitMask(i); }
inline bool TestBit(const std::uint64_t* words, std::size_t i) {
  return (words[BitWord(i)] & BitMask(i)) != 0;
}

/// Calls f(i) for every index i in the set of `words` words, in increasing order.
template <class F>
void ForEachSetBit(const std::uint64_t* words, std::size_t word_count, F&& f) {
  for (std::size_t w = 0; w < word_count; ++w)
    for (std::uint64_t word = words[w]; word != 0; word &= word - 1)
      f(w * 64 + static_cast<std::size_t>(std::countr_zero(word)));
}

}  // namespace directspec
