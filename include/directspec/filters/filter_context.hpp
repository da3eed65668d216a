// FilterContext: what a side filter may know about its batch besides the rows themselves — the
// batch's ids on that side and that side's adjacency (users -> items for the user side, items ->
// users for the item side). Only AdaptiveDirectSpecPlus reads it; the trainer builds one per side
// per step (two spans, no allocation).
#pragma once

#include <span>

#include "directspec/core/types.hpp"
#include "directspec/data/interactions.hpp"

namespace directspec {

/// Per-side, per-step context handed to a filter's Forward.
///
///   FilterContext users{batch.users, train.View()};          // user rows, users -> items
///   FilterContext items{item_rows, train.Transposed()};      // item rows, items -> users
struct FilterContext {
  std::span<const Id> ids;  // the batch's ids on this side, one per batch row
  CsrView neighbours;       // this side's adjacency (sorted unique columns per row)
};

}  // namespace directspec
