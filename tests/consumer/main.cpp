// Downstream smoke test: builds against the umbrella header and runs a tiny computation.
#include <directspec/directspec.hpp>

#include <iostream>
#include <utility>
#include <vector>

int main() {
  const std::vector<std::pair<directspec::Id, directspec::Id>> pairs{
      {0, 1}, {0, 2}, {1, 2}, {0, 1}};
  const auto train = directspec::Interactions::FromPairs(2, 3, pairs);
  std::cout << "consumer: " << train.Users() << " users, " << train.Nnz() << " interactions, "
            << train.DuplicatesMerged() << " duplicate merged\n";
  return (train.Nnz() == 3 && train.ItemDegrees()[2] == 2) ? 0 : 1;
}
