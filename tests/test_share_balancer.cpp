// ShareBalancer and BatchShare (train/share_balancer.hpp), without MPI: the blocks always cover
// an update's batches once, in order; equal costs give equal blocks; a part that is k times
// slower gets about 1/k of a fast part's batches; the time a part spends outside its share
// counts; every part keeps at least one batch; the model folds measurements as documented.
// tests/mpi/ checks that ranks balanced this way still equal one process bit for bit.
#include <catch2/catch.hpp>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "directspec/train/share_balancer.hpp"

using namespace directspec;

namespace {

// Sizes of the blocks of `bounds`, after checking that they tile [0, count) in order.
std::vector<Index> BlockSizes(const std::vector<Index>& bounds, Index count) {
  REQUIRE(bounds.front() == 0);
  REQUIRE(bounds.back() == count);
  std::vector<Index> sizes;
  for (std::size_t p = 0; p + 1 < bounds.size(); ++p) {
    REQUIRE(bounds[p + 1] >= bounds[p]);
    sizes.push_back(bounds[p + 1] - bounds[p]);
  }
  return sizes;
}

// One observation in which part p took per_batch_ns[p] per batch of its block and outside_ns[p]
// outside it.
std::vector<ShareTiming> Timings(const std::vector<Index>& sizes,
                                 const std::vector<std::int64_t>& per_batch_ns,
                                 const std::vector<std::int64_t>& outside_ns) {
  std::vector<ShareTiming> t;
  for (std::size_t p = 0; p < sizes.size(); ++p)
    t.push_back({outside_ns[p], per_batch_ns[p] * sizes[p], sizes[p]});
  return t;
}

}  // namespace

TEST_CASE("BatchShare tiles the batches in contiguous blocks differing by at most one",
          "[distributed]") {
  for (const Index count : {1, 2, 5, 16, 17}) {
    for (const int parts : {1, 2, 3, 7}) {
      Index next = 0;
      for (int p = 0; p < parts; ++p) {
        const auto [first, last] = BatchShare(count, p, parts);
        CHECK(first == next);
        CHECK(last - first >= count / parts);
        CHECK(last - first <= count / parts + 1);
        next = last;
      }
      CHECK(next == count);
    }
  }
}

TEST_CASE("an unmeasured balancer splits like BatchShare", "[distributed]") {
  const ShareBalancer balancer(3);
  for (const Index count : {1, 2, 3, 8, 16}) {
    const auto bounds = balancer.Split(count);
    for (int p = 0; p < 3; ++p) CHECK(bounds[p + 1] == BatchShare(count, p, 3).second);
  }
}

TEST_CASE("equal costs keep equal blocks", "[distributed]") {
  ShareBalancer balancer(2);
  balancer.Observe(Timings({8, 8}, {1000, 1000}, {500, 500}));
  const auto sizes = BlockSizes(balancer.Split(16), 16);
  CHECK(sizes == std::vector<Index>{8, 8});
  CHECK(BlockSizes(balancer.Split(7), 7) == std::vector<Index>{4, 3});  // ties to the lower part
}

TEST_CASE("a slower part gets fewer batches, in proportion to its speed", "[distributed]") {
  ShareBalancer balancer(2);
  balancer.Observe(Timings({8, 8}, {1000, 2000}, {0, 0}));  // part 1 is twice as slow
  CHECK(BlockSizes(balancer.Split(15), 15) == std::vector<Index>{10, 5});
  CHECK(BlockSizes(balancer.Split(16), 16) == std::vector<Index>{11, 5});  // finish 11 and 10

  ShareBalancer three(3);
  three.Observe(Timings({4, 4, 4}, {1000, 1000, 4000}, {0, 0, 0}));
  CHECK(BlockSizes(three.Split(18), 18) == std::vector<Index>{8, 8, 2});
}

TEST_CASE("time outside the share counts: a part slow at the replicated work gets fewer batches",
          "[distributed]") {
  ShareBalancer balancer(2);
  balancer.Observe(Timings({8, 8}, {1000, 1000}, {0, 4000}));
  // Part 1 arrives 4 batches later for the same block: it gets 4 fewer of 16.
  CHECK(BlockSizes(balancer.Split(16), 16) == std::vector<Index>{10, 6});
}

TEST_CASE("every part keeps at least one batch while there are enough", "[distributed]") {
  ShareBalancer balancer(3);
  balancer.Observe(Timings({2, 2, 2}, {1, 1, 1000000}, {0, 0, 0}));
  CHECK(BlockSizes(balancer.Split(3), 3) == std::vector<Index>{1, 1, 1});
  CHECK(BlockSizes(balancer.Split(40), 40) == std::vector<Index>{20, 19, 1});
  // Fewer batches than parts: BatchShare, some parts idle.
  CHECK(BlockSizes(balancer.Split(2), 2) == std::vector<Index>{0, 1, 1});
}

TEST_CASE("the cost model is a moving average with the outside time's outliers clipped",
          "[distributed]") {
  ShareBalancer balancer(2);
  CHECK(balancer.NsPerBatch(0) == 0);
  balancer.Observe(Timings({4, 4}, {1000, 2000}, {100, 100}));
  CHECK(balancer.NsPerBatch(0) == 1000);  // the first value as it is
  CHECK(balancer.NsPerBatch(1) == 2000);
  CHECK(balancer.OutsideNs(0) == 100);
  balancer.Observe(Timings({4, 4}, {2000, 2000}, {100000, 100}));
  CHECK(balancer.NsPerBatch(0) == 1250);  // 1000 + (2000 - 1000) / 4
  CHECK(balancer.OutsideNs(0) == 175);    // 100000 counts as 4 * 100: 100 + (400 - 100) / 4
  CHECK(balancer.OutsideNs(1) == 100);
  // A part with an empty block keeps its time per batch.
  balancer.Observe({{100, 0, 0}, {100, 4000, 1}});
  CHECK(balancer.NsPerBatch(0) == 1250);
  CHECK(balancer.NsPerBatch(1) == 2500);
}

TEST_CASE("balancers fed the same measurements give the same blocks", "[distributed]") {
  ShareBalancer a(4), b(4);
  std::vector<Index> sizes{4, 4, 4, 4};
  for (int update = 0; update < 50; ++update) {
    const std::vector<std::int64_t> per_batch{1000 + 37 * update % 300, 1500, 900 + update, 1200};
    const auto t = Timings(sizes, per_batch, {update * 11 % 700, 200, 300, 0});
    a.Observe(t);
    b.Observe(t);
    const auto bounds = a.Split(16);
    CHECK(bounds == b.Split(16));
    sizes = BlockSizes(bounds, 16);
  }
}

TEST_CASE("the balancer refuses bad arguments", "[distributed]") {
  CHECK_THROWS_AS(ShareBalancer(0), std::invalid_argument);
  ShareBalancer balancer(2);
  CHECK_THROWS_AS(balancer.Observe({{0, 10, 1}}), std::invalid_argument);
}
