// Batch: what a sampler hands to the trainer for one step, the (user, positive item[,
// negatives]) ids whose rows the encoder gathers and the loss scores.
#pragma once

#include <span>
#include <vector>

#include "directspec/core/types.hpp"

namespace directspec {

struct Batch {
  std::vector<Id> users;      // B sampled users (with replacement: duplicates are expected)
  std::vector<Id> positives;  // B train items, positives[b] belongs to users[b]
  std::vector<Id> negatives;  // B * negatives_per_positive, row b's negatives at [b*k, (b+1)*k)
  Index negatives_per_positive = 0;

  Index Size() const { return static_cast<Index>(users.size()); }

  /// Appends the item rows in the order the trainer encodes them: positives, then negatives
  /// (into a caller's buffer, so a step reuses its capacity).
  void AppendItemRows(std::vector<Id>& rows) const {
    rows.insert(rows.end(), positives.begin(), positives.end());
    rows.insert(rows.end(), negatives.begin(), negatives.end());
  }

  /// The item rows as a new vector (AppendItemRows).
  std::vector<Id> ItemRows() const {
    std::vector<Id> rows;
    rows.reserve(positives.size() + negatives.size());
    AppendItemRows(rows);
    return rows;
  }
};

}  // namespace directspec
