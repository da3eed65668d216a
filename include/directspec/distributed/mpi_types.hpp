// MpiType<T>(): the MPI datatype of a C++ arithmetic type, for the distributed layer's
// collectives (gradient rows, losses, ranked lists, table hashes). Chosen by size and kind so
// Eigen::Index (std::ptrdiff_t) and directspec::Id map without platform #ifs.
#pragma once

#include <cstdint>
#include <type_traits>

#include <mpi.h>

namespace directspec::distributed {

template <class T>
MPI_Datatype MpiType() {
  static_assert(std::is_arithmetic_v<T>, "MpiType: arithmetic types only");
  if constexpr (std::is_same_v<T, float>) {
    return MPI_FLOAT;
  } else if constexpr (std::is_same_v<T, double>) {
    return MPI_DOUBLE;
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T> && sizeof(T) == 4) {
    return MPI_INT32_T;
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T> && sizeof(T) == 8) {
    return MPI_INT64_T;
  } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T> && sizeof(T) == 8) {
    return MPI_UINT64_T;
  } else {
    static_assert(sizeof(T) == 0, "MpiType: no MPI datatype mapped for this type");
  }
}

}  // namespace directspec::distributed
