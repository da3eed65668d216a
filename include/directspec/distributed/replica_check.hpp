// ReplicasIdentical: checks that every rank of a data-parallel job holds the same tables
// (docs/distributed.md), by comparing a 64-bit FNV-1a hash of each table's bytes across ranks.
// The distributed trainer keeps the replicas bitwise identical by construction; this is the
// cheap end-of-run proof (one allgather of one number per table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <mpi.h>

#include "directspec/core/types.hpp"
#include "directspec/distributed/mpi_types.hpp"

namespace directspec::distributed {

/// FNV-1a over the bytes of a table, with its shape mixed in.
template <class Scalar>
std::uint64_t TableHash(const RowMatrix<Scalar>& table) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const unsigned char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 1099511628211ull;
    }
  };
  const std::int64_t shape[2] = {static_cast<std::int64_t>(table.rows()),
                                 static_cast<std::int64_t>(table.cols())};
  mix(reinterpret_cast<const unsigned char*>(shape), sizeof(shape));
  mix(reinterpret_cast<const unsigned char*>(table.data()),
      static_cast<std::size_t>(table.size()) * sizeof(Scalar));
  return h;
}

/// True when every rank of `comm` passes tables with the same bytes (collective: every rank must
/// call it with the same number of tables).
template <class Scalar>
bool ReplicasIdentical(MPI_Comm comm, const std::vector<const RowMatrix<Scalar>*>& tables) {
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  std::vector<std::uint64_t> mine;
  if (tables.empty()) return true;
  for (const auto* t : tables) mine.push_back(TableHash(*t));
  std::vector<std::uint64_t> all(mine.size() * static_cast<std::size_t>(ranks));
  MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MpiType<std::uint64_t>(), all.data(),
                static_cast<int>(mine.size()), MpiType<std::uint64_t>(), comm);
  for (std::size_t i = 0; i < all.size(); ++i)
    if (all[i] != mine[i % mine.size()]) return false;
  return true;
}

}  // namespace directspec::distributed
