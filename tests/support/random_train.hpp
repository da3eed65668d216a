// Shared by the trainer tests (test_trainer, test_trainer_micro_batches, test_checkpoint): a
// seeded random train set where every user has at least one item.
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "directspec/core/rng.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/interactions.hpp"

namespace directspec::testing {

/// users x items with user u holding item u % items, plus `pairs` uniform random pairs drawn
/// from stream `stream` of `seed`.
inline Interactions RandomTrain(Index users, Index items, Index pairs, std::uint64_t seed,
                                std::uint64_t stream = 77) {
  std::mt19937_64 engine = MakeStream(seed, stream);
  std::vector<std::pair<Id, Id>> p;
  for (Index u = 0; u < users; ++u) p.emplace_back(static_cast<Id>(u), static_cast<Id>(u % items));
  for (Index n = 0; n < pairs; ++n)
    p.emplace_back(static_cast<Id>(UniformIndex(engine, static_cast<std::uint64_t>(users))),
                   static_cast<Id>(UniformIndex(engine, static_cast<std::uint64_t>(items))));
  return Interactions::FromPairs(users, items, p);
}

}  // namespace directspec::testing
