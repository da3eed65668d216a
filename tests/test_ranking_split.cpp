// Evaluator::SetRankingSplit (eval/evaluator.hpp), without MPI: each part ranks exactly its block
// of user batches (the rows it hands to `gather` outside that block are untouched), the blocks
// cover every evaluated user once, and a gather that fills in the other parts' rows gives the
// unsplit lists and metrics. directspec/distributed/ gathers over MPI (tests/mpi/).
#include <catch2/catch.hpp>
#include <vector>

#include "directspec/eval/evaluator.hpp"
#include "support/random_train.hpp"

using namespace directspec;
using directspec::testing::RandomTrain;

TEST_CASE("a split ranking ranks its block and, gathered, equals the whole ranking", "[eval]") {
  const Interactions train = RandomTrain(100, 40, 500, 1);
  const Interactions test = RandomTrain(100, 40, 200, 2);
  const RowMatrix<float> U = RowMatrix<float>::Random(100, 5), I = RowMatrix<float>::Random(40, 5);
  EvalOptions o;
  o.ks = {5, 10};
  o.user_batch = 9;
  const Evaluator whole(train, test, o);
  const RankedLists reference = whole.Rank(U, I);
  const Index depth = reference.depth;
  for (const int parts : {1, 2, 3, 5, 20}) {
    std::vector<Index> covered(reference.users.size(), 0);
    for (int part = 0; part < parts; ++part) {
      Evaluator split(train, test, o);
      split.SetRankingSplit({part, parts, [&](RankedLists& lists, std::span<const Index> bounds) {
                               REQUIRE(bounds.size() == static_cast<std::size_t>(parts) + 1);
                               REQUIRE(bounds.front() == 0);
                               REQUIRE(bounds.back() == static_cast<Index>(reference.users.size()));
                               for (Index r = 0; r < static_cast<Index>(lists.users.size()); ++r) {
                                 const bool own = r >= bounds[part] && r < bounds[part + 1];
                                 const std::size_t row = static_cast<std::size_t>(r);
                                 if (own) {
                                   ++covered[row];
                                   CHECK(lists.lengths[row] == reference.lengths[row]);
                                 } else {
                                   CHECK(lists.lengths[row] == 0);  // not ranked here
                                   lists.lengths[row] = reference.lengths[row];
                                   for (Index k = 0; k < depth; ++k)
                                     lists.items[row * depth + k] =
                                         reference.items[row * depth + k];
                                 }
                               }
                             }});
      const RankedLists gathered = split.Rank(U, I);
      CHECK(gathered.items == reference.items);
      CHECK(split.Evaluate(U, I).metrics == whole.Evaluate(U, I).metrics);
    }
    // Rank and Evaluate: each user once per call (one part alone ranks all and gathers nothing).
    for (const Index c : covered) CHECK(c == (parts > 1 ? 2 : 0));
  }
}

TEST_CASE("SetRankingSplit refuses a part outside the parts and a missing gather", "[eval]") {
  Evaluator e(RandomTrain(5, 4, 5, 1), RandomTrain(5, 4, 5, 2));
  CHECK_THROWS_WITH(e.SetRankingSplit({2, 2, nullptr}), Catch::Contains("part 2 of 2"));
  CHECK_THROWS_WITH(e.SetRankingSplit({0, 0, nullptr}), Catch::Contains("part 0 of 0"));
  CHECK_THROWS_WITH(e.SetRankingSplit({0, 2, nullptr}), Catch::Contains("no gather function"));
  CHECK_NOTHROW(e.SetRankingSplit({0, 1, nullptr}));
}
