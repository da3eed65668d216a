// SharedNeighbours: which pairs of batch rows share at least one neighbour (two users with a
// common train item, or two items with a common train user). AdaptiveDirectSpecPlus reads it to
// pick each pair's temperature (method.md section 4).
//
// The reference precomputes dense n x n and m x m masks; here the mask is rebuilt per batch in
// O(nnz of the batch's rows x B/64) time and O(nnz + B²) memory: every neighbour column touched
// by the batch gets a B-bit set of the batch rows holding it, and row a's mask is the OR of the
// sets of its columns. A column -> slot marker (one entry per column id seen so far, -1 when
// unused) finds each column's set in O(1) and is reset after every batch.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

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
    words_ = (rows_ + 63) / 64;
    const std::size_t words = static_cast<std::size_t>(words_);
    touched_.clear();
    column_bits_.clear();
    column_count_.clear();
    entry_slot_.clear();
    for (Index a = 0; a < rows_; ++a) {
      const Id id = ids[static_cast<std::size_t>(a)];
      if (id < 0 || id >= neighbours.Rows())
        throw std::out_of_range(std::string(__FILE__) + ":" + std::to_string(__LINE__) +
                                ": SharedNeighbours: batch row " + std::to_string(a) + " has id " +
                                std::to_string(id) + " outside [0, " +
                                std::to_string(neighbours.Rows()) + ")");
      for (Id c : neighbours.Row(id)) {
        const std::size_t col = static_cast<std::size_t>(c);
        if (col >= slot_.size()) slot_.resize(col + 1, -1);
        Id s = slot_[col];
        if (s < 0) {
          s = static_cast<Id>(touched_.size());
          slot_[col] = s;
          touched_.push_back(c);
          column_count_.push_back(0);
          column_bits_.resize(column_bits_.size() + words, 0);
        }
        ++column_count_[static_cast<std::size_t>(s)];
        entry_slot_.push_back(s);
        column_bits_[static_cast<std::size_t>(s) * words + static_cast<std::size_t>(a / 64)] |=
            std::uint64_t{1} << (a % 64);
      }
    }
    for (Id c : touched_) slot_[static_cast<std::size_t>(c)] = -1;
    // Row masks: OR of the row's columns' sets. A column held by one batch row only adds that
    // row's own bit, so such columns are skipped and the own bit is set once per non-empty row.
    row_bits_.assign(static_cast<std::size_t>(rows_) * words, 0);
    std::size_t entry = 0;
    for (Index a = 0; a < rows_; ++a) {
      std::uint64_t* out = &row_bits_[static_cast<std::size_t>(a) * words];
      const Index degree = neighbours.Degree(ids[static_cast<std::size_t>(a)]);
      if (degree > 0) out[a / 64] |= std::uint64_t{1} << (a % 64);
      for (Index k = 0; k < degree; ++k, ++entry) {
        const auto s = static_cast<std::size_t>(entry_slot_[entry]);
        if (column_count_[s] < 2) continue;
        const std::uint64_t* in = &column_bits_[s * words];
        for (std::size_t w = 0; w < words; ++w) out[w] |= in[w];
      }
    }
  }

  /// Marks every row as sharing with itself (AdaptiveDirectSpecPlus gives the diagonal τ0).
  void SetDiagonal() {
    for (Index a = 0; a < rows_; ++a)
      row_bits_[static_cast<std::size_t>(a * words_ + a / 64)] |= std::uint64_t{1} << (a % 64);
  }

  Index Rows() const { return rows_; }
  /// 64-bit words per row of the mask.
  Index Words() const { return words_; }
  /// Row a of the mask as Words() words; bit b of word b / 64 is Shares(a, b).
  const std::uint64_t* Row(Index a) const {
    return &row_bits_[static_cast<std::size_t>(a * words_)];
  }
  bool Shares(Index a, Index b) const { return (Row(a)[b / 64] >> (b % 64)) & 1u; }

 private:
  Index rows_ = 0;
  Index words_ = 0;
  std::vector<Id> slot_;                    // column id -> index into touched_, or -1
  std::vector<Id> touched_;                 // columns seen in this batch
  std::vector<std::uint64_t> column_bits_;  // touched_.size() x words_: rows holding the column
  std::vector<Index> column_count_;         // batch entries per touched column
  std::vector<Id> entry_slot_;              // slot of every batch entry, in batch order
  std::vector<std::uint64_t> row_bits_;     // rows_ x words_: the mask
};

}  // namespace directspec
