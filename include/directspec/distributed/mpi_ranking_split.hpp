// MpiRankingSplit: shares the evaluator's full ranking among the ranks of an MPI job
// (eval/evaluator.hpp RankingSplit; docs/distributed.md "Evaluation"). Each rank ranks a block of
// the user batches; two MPI_Allgatherv calls give every rank all top lists, and each rank then
// scores them in user order, so every rank reports the single-process metrics (and early
// stopping decides the same on every rank).
#pragma once

#include <span>
#include <vector>

#include <mpi.h>

#include "directspec/core/types.hpp"
#include "directspec/distributed/mpi_types.hpp"
#include "directspec/eval/evaluator.hpp"

namespace directspec::distributed {

inline RankingSplit MpiRankingSplit(MPI_Comm comm) {
  RankingSplit split;
  MPI_Comm_rank(comm, &split.part);
  MPI_Comm_size(comm, &split.parts);
  split.gather = [comm](RankedLists& lists, std::span<const Index> row_bounds) {
    const std::size_t parts = row_bounds.size() - 1;
    std::vector<int> counts(parts), displacements(parts);
    auto blocks = [&](Index per_row) {
      for (std::size_t p = 0; p < parts; ++p) {
        counts[p] = static_cast<int>((row_bounds[p + 1] - row_bounds[p]) * per_row);
        displacements[p] = static_cast<int>(row_bounds[p] * per_row);
      }
    };
    blocks(lists.depth);
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, lists.items.data(), counts.data(),
                   displacements.data(), MpiType<Id>(), comm);
    blocks(1);
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, lists.lengths.data(), counts.data(),
                   displacements.data(), MpiType<Index>(), comm);
  };
  return split;
}

}  // namespace directspec::distributed
