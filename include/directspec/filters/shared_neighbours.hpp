// SharedNeighbours: which pairs of batch rows share at least one neighbour (two users with a
// common train item, or two items with a common train user). AdaptiveDirectSpecPlus reads it to
// pick each pair's temperature (docs/method.md#adaptive-directspec-plus).
//
// The reference precomputes dense n x n and m x m masks; here the mask is rebuilt per batch in
// O(nnz of the batch's rows x B/64) time and O(nnz + B²) memory: every neighbour column touched
// by the batch gets a B-bit set of the batch rows holding it, and row a's mask is the OR of the
// sets of its columns, applied column by column so the reads are sequential. A column -> slot
// marker (one entry per column, -1 when unused) finds each column's set in O(1) and is reset
// after every batch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "directspec/core/bit_set.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/interactions.hpp"

namespace directspec {

/// Per-batch share mask: Shares(a, b) is true when batch rows a and b have a common neighbour.
/// The diagonal is whatever the data says (true unless the row has no neighbours); callers that
/// want "a node always shares with itself" set it themselves.
///
///   SharedNeighbours mask;
///   mask.Compute(batch.users, train.View());
///   if (mask.Shares(0, 5)) ...
class SharedNeighbours {
 public:
  /// Rebuilds the mask for `ids` (one per batch row, duplicates allowed). Throws
  /// std::out_of_range if an id is not a row of `neighbours`.
  void Compute(std::span<const Id> ids, const CsrView& neighbours) {
    rows_ = static_cast<Index>(ids.size());
    words_ = static_cast<Index>(BitSetWords(static_cast<std::size_t>(rows_)));
    const std::size_t words = static_cast<std::size_t>(words_);
    // Validate the ids and size the per-column buffers for the worst case (every entry a new
    // column) once, so the hot loop below neither checks capacity nor calls into the allocator.
    std::size_t entries = 0;
    for (Index a = 0; a < rows_; ++a) {
      const Id id = ids[static_cast<std::size_t>(a)];
      if (id < 0 || id >= neighbours.Rows())
        throw std::out_of_range("SharedNeighbours: batch row " + std::to_string(a) + " has id " +
                                std::to_string(id) + " (must lie in [0, " +
                                std::to_string(neighbours.Rows()) + "), the adjacency's rows)");
      entries += static_cast<std::size_t>(neighbours.Degree(id));
    }
    if (touched_.size() < entries) {
      touched_.resize(entries);
      holder_.resize(entries);
    }
    // At most entries / 2 columns have two holders.
    if (column_bits_.size() < entries / 2 * words) column_bits_.resize(entries / 2 * words);
    row_bits_.assign(static_cast<std::size_t>(rows_) * words, 0);
    // Pass 1, row by row. A column's first holder is kept as a row number in a small array (most
    // columns have one); only the second holder gives the column a B-bit set of its holders.
    // holder_[s] >= 0: the single holder row; < 0: ~(index of the column's set).
    // Raw pointers in locals: stores through them cannot alias the vectors' own members, so the
    // compiler keeps everything in registers.
    std::size_t touched = 0, sets = 0;
    Id* slot = slot_.data();
    std::size_t slots = slot_.size();
    Id* const touched_cols = touched_.data();
    Id* const holders = holder_.data();
    std::uint64_t* const set_bits = column_bits_.data();
    for (Index a = 0; a < rows_; ++a) {
      const auto row = neighbours.Row(ids[static_cast<std::size_t>(a)]);
      if (row.empty()) continue;
      const std::size_t word = BitWord(static_cast<std::size_t>(a));
      const std::uint64_t bit = BitMask(static_cast<std::size_t>(a));
      row_bits_[static_cast<std::size_t>(a) * words + word] |= bit;  // shares with itself
      const Id self = static_cast<Id>(a);
      for (const Id c : row) {
        const std::size_t col = static_cast<std::size_t>(c);
        if (col >= slots) [[unlikely]] {
          slot_.resize(col + 1, -1);
          slot = slot_.data();
          slots = slot_.size();
        }
        const Id s = slot[col];
        if (s < 0) {  // first holder
          slot[col] = static_cast<Id>(touched);
          touched_cols[touched] = c;
          holders[touched++] = self;
          continue;
        }
        Id holder = holders[s];
        if (holder == self) continue;  // a repeated column within one row
        if (holder >= 0) {             // second holder: the column gets its set
          std::uint64_t* bits = set_bits + sets * words;
          std::fill_n(bits, words, 0);
          SetBit(bits, static_cast<std::size_t>(holder));
          holder = ~static_cast<Id>(sets++);
          holders[s] = holder;
        }
        set_bits[static_cast<std::size_t>(~holder) * words + word] |= bit;
      }
    }
    for (std::size_t s = 0; s < touched; ++s) slot[touched_[s]] = -1;
    // Pass 2, set by set (sequential reads; the B x B/8-byte mask stays in L1): every holder of
    // a shared column gets the column's set.
    for (std::size_t k = 0; k < sets; ++k) {
      const std::uint64_t* in = set_bits + k * words;
      ForEachSetBit(in, words, [&](std::size_t a) {
        std::uint64_t* out = &row_bits_[a * words];
        for (std::size_t w = 0; w < words; ++w) out[w] |= in[w];
      });
    }
  }

  /// Marks every row as sharing with itself (AdaptiveDirectSpecPlus gives the diagonal τ0).
  void SetDiagonal() {
    for (Index a = 0; a < rows_; ++a)
      SetBit(&row_bits_[static_cast<std::size_t>(a * words_)], static_cast<std::size_t>(a));
  }

  Index Rows() const { return rows_; }
  /// 64-bit words per row of the mask.
  Index Words() const { return words_; }
  /// Row a of the mask: a bit set (core/bit_set.hpp) of Words() words holding b iff Shares(a, b).
  const std::uint64_t* Row(Index a) const {
    return &row_bits_[static_cast<std::size_t>(a * words_)];
  }
  bool Shares(Index a, Index b) const { return TestBit(Row(a), static_cast<std::size_t>(b)); }

 private:
  Index rows_ = 0;
  Index words_ = 0;
  std::vector<Id> slot_;                    // column id -> index into touched_, or -1
  std::vector<Id> touched_;                 // columns seen in this batch (first `count`)
  std::vector<Id> holder_;                  // per touched column: its one holder row, or ~set
  std::vector<std::uint64_t> column_bits_;  // sets x words_: the holders of shared columns
  std::vector<std::uint64_t> row_bits_;     // rows_ x words_: the mask
};

}  // namespace directspec
