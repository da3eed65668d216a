// Downstream smoke test: builds against the umbrella header, runs a tiny computation, and checks
// that BuildInfo reports the SIMD level and OpenMP setting the program was linked for.
#include <directspec/directspec.hpp>

#include <iostream>
#include <utility>
#include <vector>

int main() {
  const std::vector<std::pair<directspec::Id, directspec::Id>> pairs{
      {0, 1}, {0, 2}, {1, 2}, {0, 1}};
  const auto train = directspec::Interactions::FromPairs(2, 3, pairs);
  const directspec::BuildInfo build = directspec::CompiledBuildInfo();
  std::cout << "consumer: " << train.Users() << " users, " << train.Nnz() << " interactions, "
            << train.DuplicatesMerged() << " duplicate merged; build: " << build.Summary() << "\n";
  if (build.avx2_fma != bool(EXPECT_AVX2) || build.openmp != bool(EXPECT_OPENMP)) {
    std::cerr << "consumer: expected AVX2/FMA " << EXPECT_AVX2 << " and OpenMP " << EXPECT_OPENMP
              << "\n";
    return 1;
  }
  return (train.Nnz() == 3 && train.ItemDegrees()[2] == 2) ? 0 : 1;
}
