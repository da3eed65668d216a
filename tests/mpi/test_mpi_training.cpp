// Multi-rank tests of directspec/distributed/ (run by tests/mpi.cmake under mpirun with 2 and 3
// ranks): a trainer whose micro-batch updates are shared over MPI ends with the same tables, bit
// for bit, as the single-process trainer with the same M, which every rank also runs in-process
// here; the shared evaluation ranks and scores like the unshared one; the replica check sees a
// difference; the exchange moves exactly the rows other ranks computed. Comparisons use CHECK, not
// REQUIRE, so that a failure on one rank does not leave the others waiting in a collective.

// GCC 12 false -Wmaybe-uninitialized in Eigen's AVX-512 kernels (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include "directspec/distributed.hpp"
#include "directspec/eval/evaluator.hpp"
#include "directspec/filters.hpp"
#include "directspec/losses.hpp"
#include "directspec/models.hpp"
#include "directspec/optim.hpp"
#include "directspec/samplers.hpp"
#include "directspec/train/trainer.hpp"
#include "directspec/train/training_callbacks.hpp"
#include "support/random_train.hpp"

using namespace directspec;
using directspec::distributed::MpiUpdateSplit;
using directspec::testing::RandomTrain;

namespace {

int Rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int Ranks() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

template <class S>
bool SameBits(const RowMatrix<S>& a, const RowMatrix<S>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.size()) * sizeof(S)) == 0;
}

// Trains the same configuration twice on this rank: once whole (the single-process reference),
// once with its updates shared over MPI; both must give the same tables and losses, bit for bit.
// Returns the number of batches this rank computed in the shared run.
template <class T, class MakeTrainer>
long long CheckSharedEqualsSingle(
    const Interactions& train, MakeTrainer make, Index micro_batches, Index expected_updates,
    distributed::SharePolicy policy = distributed::SharePolicy::kBalanced) {
  T single = make(micro_batches);
  LossLog single_log(true);
  single.Train(train, single_log);

  T shared = make(micro_batches);
  MpiUpdateSplit<typename T::Scalar> split(MPI_COMM_WORLD, policy);
  shared.SetUpdateSplit(&split);
  LossLog shared_log(true);
  shared.Train(train, shared_log);

  const auto a = single.Encoder().Tables();
  const auto b = shared.Encoder().Tables();
  CHECK(a.size() == b.size());
  for (std::size_t t = 0; t < a.size() && t < b.size(); ++t) CHECK(SameBits(*a[t], *b[t]));
  CHECK(single_log.StepLosses() == shared_log.StepLosses());  // per-update losses, exactly
  CHECK(single_log.EpochLosses() == shared_log.EpochLosses());
  // The last update's batches, for callbacks (LastBatch), whichever exchange ran.
  CHECK(single.LastBatch().users == shared.LastBatch().users);
  CHECK(single.LastBatch().positives == shared.LastBatch().positives);
  CHECK(single.LastBatch().negatives == shared.LastBatch().negatives);
  CHECK(single.LastBatch().negatives_per_positive == shared.LastBatch().negatives_per_positive);
  CHECK(split.Statistics().updates == expected_updates);
  std::vector<const RowMatrix<typename T::Scalar>*> tables(b.begin(), b.end());
  CHECK(distributed::ReplicasIdentical(MPI_COMM_WORLD, tables));
  return split.Statistics().own_batches;
}

// A loss that sleeps before each batch on the last rank when asked: a straggler, whose numbers
// are those of the plain loss.
template <class Loss>
struct SlowOnLastRank {
  using Scalar = typename Loss::Scalar;
  bool slow = false;
  Loss inner;
  Scalar Evaluate(const RowMatrix<Scalar>& ou, const RowMatrix<Scalar>& oi, const Batch& batch,
                  RowMatrix<Scalar>& gu, RowMatrix<Scalar>& gi) {
    if (slow && Rank() == Ranks() - 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return inner.Evaluate(ou, oi, batch, gu, gi);
  }
};

}  // namespace

TEST_CASE("MF + DirectSpec+ over MPI equals one process with the same M, bit for bit", "[mpi]") {
  using S = float;
  using T =
      Trainer<MF<S>, DirectSpecPlus<S>, LogLoss<S>, UserThenPositive<>, Sgd<S, ExponentialDecay>>;
  const Interactions train = RandomTrain(90, 60, 700, 3);
  auto make = [](Index m) {
    T::Options o;
    o.epochs = 3;
    o.batch_size = 24;
    o.steps_per_epoch = 7;  // M = 3: two updates of 3 and a remainder of 1 (computed whole)
    o.seed = 5;
    o.threads = 1;
    o.shrink = 0.03;
    o.weight_decay = 0.01;
    o.micro_batches = m;
    o.user_filter = {.alpha = S(1), .tau = S(3)};
    o.item_filter = {.alpha = S(0.7), .tau = S(2.5)};
    return T(o, MF<S>({.dim = 16}), LogLoss<S>(), UserThenPositive<>(),
             Sgd<S, ExponentialDecay>(20.0, {0.9}));
  };
  SECTION("M = 3 (uneven over 2 ranks)") { CheckSharedEqualsSingle<T>(train, make, 3, 3 * 2); }
  SECTION("M = 7 (one update per epoch)") { CheckSharedEqualsSingle<T>(train, make, 7, 3); }
  SECTION("M = 2 (fewer batches than ranks when run with 3)") {
    CheckSharedEqualsSingle<T>(train, make, 2, 3 * 3);
  }
  SECTION("equal blocks (SharePolicy::kEqual)") {
    CheckSharedEqualsSingle<T>(train, make, 3, 3 * 2, distributed::SharePolicy::kEqual);
  }
}

TEST_CASE("balanced blocks give a straggling rank fewer batches and the same result", "[mpi]") {
  using S = float;
  using T = Trainer<MF<S>, DirectSpecPlus<S>, SlowOnLastRank<LogLoss<S>>, UserThenPositive<>,
                    Sgd<S, ExponentialDecay>>;
  const Interactions train = RandomTrain(90, 60, 700, 3);
  for (const bool slow : {false, true}) {
    // The reference run inside CheckSharedEqualsSingle is slowed too; only the shared one counts.
    auto make = [slow](Index m) {
      T::Options o;
      o.epochs = 3;
      o.batch_size = 24;
      o.steps_per_epoch = 16;
      o.seed = 7;
      o.threads = 1;
      o.micro_batches = m;
      return T(o, MF<S>({.dim = 8}), SlowOnLastRank<LogLoss<S>>{slow, LogLoss<S>()},
               UserThenPositive<>(), Sgd<S, ExponentialDecay>(20.0, {0.9}));
    };
    const long long own = CheckSharedEqualsSingle<T>(train, make, 8, 3 * 2);
    std::vector<long long> per_rank(static_cast<std::size_t>(Ranks()));
    MPI_Allgather(&own, 1, MPI_LONG_LONG, per_rank.data(), 1, MPI_LONG_LONG, MPI_COMM_WORLD);
    long long total = 0;
    for (const long long n : per_rank) total += n;
    CHECK(total == 3 * 16);
    // The straggler (5 ms per batch) gets one batch per update once measured; the first update
    // is split equally.
    if (slow && Ranks() > 1) CHECK(per_rank.back() < per_rank.front());
  }
}

TEST_CASE("LightGCN + DirectSpec+ with BPR negatives and Adam over MPI equals one process",
          "[mpi]") {
  using S = float;
  using Sampler = UserThenPositive<UniformNegatives>;
  using T = Trainer<LightGCN<S>, DirectSpecPlus<S>, BprLoss<S>, Sampler, Adam<S>>;
  const Interactions train = RandomTrain(50, 40, 400, 8);
  auto make = [](Index m) {
    T::Options o;
    o.epochs = 2;
    o.batch_size = 16;
    o.steps_per_epoch = 6;
    o.seed = 11;
    o.threads = 1;
    o.micro_batches = m;
    o.user_filter = o.item_filter = {.alpha = S(1), .tau = S(3)};
    return T(o, LightGCN<S>({.dim = 8, .layers = 2}), BprLoss<S>(),
             Sampler(UniformNegatives({.per_positive = 2})), Adam<S>({.learning_rate = 0.01}));
  };
  CheckSharedEqualsSingle<T>(train, make, 6, 2);
  CheckSharedEqualsSingle<T>(train, make, 4, 2 * 2);  // 4 + a remainder of 2 (shared too)
}

TEST_CASE("MF with BPR negatives, weight decay and Adam over MPI equals one process", "[mpi]") {
  // MF samples and gathers only each rank's own batches (ExchangeBatches): the exchanged ids must
  // carry the negatives, and the weight decay must see every batch's rows.
  using S = float;
  using Sampler = UserThenPositive<UniformNegatives>;
  using T = Trainer<MF<S>, DirectSpecPlus<S>, BprLoss<S>, Sampler, Adam<S>>;
  const Interactions train = RandomTrain(60, 45, 500, 12);
  auto make = [](Index m) {
    T::Options o;
    o.epochs = 2;
    o.batch_size = 12;
    o.steps_per_epoch = 7;
    o.seed = 5;
    o.threads = 1;
    o.micro_batches = m;
    o.weight_decay = 0.01;
    o.user_filter = o.item_filter = {.alpha = S(1), .tau = S(3)};
    return T(o, MF<S>({.dim = 8}), BprLoss<S>(), Sampler(UniformNegatives({.per_positive = 3})),
             Adam<S>({.learning_rate = 0.01}));
  };
  CheckSharedEqualsSingle<T>(train, make, 4, 2 * 2);  // 4 + a remainder of 3 (shared too)
  CheckSharedEqualsSingle<T>(train, make, 7, 2);
}

TEST_CASE("the shared ranking gives every rank the unshared lists and metrics", "[mpi]") {
  const Interactions train = RandomTrain(130, 45, 600, 4);
  const Interactions test = RandomTrain(130, 45, 300, 5);
  RowMatrix<float> U = RowMatrix<float>::Random(130, 6), I = RowMatrix<float>::Random(45, 6);
  EvalOptions o;
  o.ks = {5, 10};
  o.mode = EvalMode::kBoth;
  o.user_batch = 16;  // 9 batches: uneven blocks over 2 and 3 ranks
  const Evaluator whole(train, test, o);
  Evaluator shared(train, test, o);
  shared.SetRankingSplit(distributed::MpiRankingSplit(MPI_COMM_WORLD));
  const RankedLists a = whole.Rank(U, I), b = shared.Rank(U, I);
  CHECK(a.users == b.users);
  CHECK(a.items == b.items);
  CHECK(a.lengths == b.lengths);
  CHECK(whole.Evaluate(U, I).metrics == shared.Evaluate(U, I).metrics);
}

TEST_CASE("the replica check sees one differing number on one rank", "[mpi]") {
  RowMatrix<float> t = RowMatrix<float>::Constant(5, 3, 0.25f);
  std::vector<const RowMatrix<float>*> tables{&t};
  CHECK(distributed::ReplicasIdentical(MPI_COMM_WORLD, tables));
  if (Rank() == Ranks() - 1) t(4, 2) = std::nextafter(0.25f, 1.0f);
  CHECK(distributed::ReplicasIdentical(MPI_COMM_WORLD, tables) == (Ranks() == 1));
}

TEST_CASE("the exchange fills in exactly the rows and losses other ranks computed", "[mpi]") {
  const int rank = Rank(), ranks = Ranks();
  const Index count = 5, d = 3;
  const std::vector<std::size_t> user_offsets{0, 2, 5, 6, 8, 9};  // uneven batch sizes
  const std::vector<std::size_t> item_offsets{0, 4, 10, 12, 16, 18};
  RowMatrix<float> users = RowMatrix<float>::Constant(9, d, -1),
                   items = RowMatrix<float>::Constant(18, d, -1);
  std::vector<double> losses(count, -1);
  MpiUpdateSplit<float> split(MPI_COMM_WORLD);
  const auto [first, last] = split.Share(count);
  CHECK(std::pair<Index, Index>(first, last) == BatchShare(count, rank, ranks));
  // Each batch's rows hold the batch number; each loss is the batch number too.
  for (Index m = first; m < last; ++m) {
    for (std::size_t r = user_offsets[m]; r < user_offsets[m + 1]; ++r)
      users.row(static_cast<Index>(r)).setConstant(static_cast<float>(m));
    for (std::size_t r = item_offsets[m]; r < item_offsets[m + 1]; ++r)
      items.row(static_cast<Index>(r)).setConstant(static_cast<float>(m));
    losses[static_cast<std::size_t>(m)] = static_cast<double>(m);
  }
  split.Exchange(count, user_offsets, item_offsets, users, items, losses);
  bool all_rows = true;
  for (Index m = 0; m < count; ++m) {
    for (std::size_t r = user_offsets[m]; r < user_offsets[m + 1]; ++r)
      all_rows = all_rows && (users.row(static_cast<Index>(r)).array() == float(m)).all();
    for (std::size_t r = item_offsets[m]; r < item_offsets[m + 1]; ++r)
      all_rows = all_rows && (items.row(static_cast<Index>(r)).array() == float(m)).all();
    CHECK(losses[static_cast<std::size_t>(m)] == static_cast<double>(m));
  }
  CHECK(all_rows);
  // Received: everything but this rank's own rows (27 rows of d floats) and losses, and the
  // other ranks' timings for the balancer.
  const double own_rows = static_cast<double>((user_offsets[last] - user_offsets[first]) +
                                              (item_offsets[last] - item_offsets[first]));
  CHECK(split.Statistics().bytes_received ==
        (27 - own_rows) * d * sizeof(float) +
            static_cast<double>(count - (last - first)) * sizeof(double) +
            static_cast<double>((ranks - 1) * sizeof(ShareTiming)));
  CHECK(split.Statistics().own_batches == last - first);
  CHECK(split.Statistics().batches == count);
  CHECK(split.Statistics().updates == 1);
}

TEST_CASE("the batch exchange brings every batch's ids, rows and loss in batch order", "[mpi]") {
  const int rank = Rank(), ranks = Ranks();
  const Index count = 5, d = 3;
  const std::vector<std::size_t> users_per_batch{2, 3, 1, 2, 1};  // uneven batch shapes
  const std::vector<std::size_t> items_per_batch{4, 6, 2, 4, 2};
  MpiUpdateSplit<float> split(MPI_COMM_WORLD);
  const auto [first, last] = split.Share(count);
  CHECK(std::pair<Index, Index>(first, last) == BatchShare(count, rank, ranks));
  // This rank's batches: batch m's ids are 100 m + row, its rows and loss hold m.
  BatchRows<float> own, all;
  own.Clear();
  for (Index m = first; m < last; ++m) {
    Batch b;
    for (std::size_t r = 0; r < users_per_batch[m]; ++r) b.users.push_back(Id(100 * m + r));
    for (std::size_t r = 0; r < items_per_batch[m]; ++r) b.positives.push_back(Id(100 * m + r));
    own.Append(b);
    own.losses.push_back(static_cast<double>(m));
  }
  own.user_grads.resize(static_cast<Index>(own.users.size()), d);
  own.item_grads.resize(static_cast<Index>(own.items.size()), d);
  for (Index k = 0; k < own.Batches(); ++k) {
    const auto u = static_cast<std::size_t>(k);
    const float m = static_cast<float>(first + k);
    own.user_grads.middleRows(Index(own.user_offsets[u]), Index(own.Users(k).size()))
        .setConstant(m);
    own.item_grads.middleRows(Index(own.item_offsets[u]), Index(own.Items(k).size()))
        .setConstant(m);
  }
  split.ExchangeBatches(count, own, all);
  REQUIRE(all.Batches() == count);
  bool ids = true, rows = true;
  for (Index m = 0; m < count; ++m) {
    const auto u = static_cast<std::size_t>(m);
    const auto users = all.Users(m), items = all.Items(m);
    ids = ids && users.size() == users_per_batch[u] && items.size() == items_per_batch[u];
    for (std::size_t r = 0; r < users.size(); ++r) ids = ids && users[r] == Id(100 * m + r);
    for (std::size_t r = 0; r < items.size(); ++r) ids = ids && items[r] == Id(100 * m + r);
    rows = rows &&
           (all.user_grads.middleRows(Index(all.user_offsets[u]), Index(users.size())).array() ==
            float(m))
               .all();
    rows = rows &&
           (all.item_grads.middleRows(Index(all.item_offsets[u]), Index(items.size())).array() ==
            float(m))
               .all();
    CHECK(all.losses[u] == static_cast<double>(m));
  }
  CHECK(ids);
  CHECK(rows);
  CHECK(split.Statistics().updates == 1);
  // A share that does not match the update is refused.
  BatchRows<float> wrong;
  wrong.Clear();
  split.Share(count);
  CHECK_THROWS_AS(split.ExchangeBatches(count, wrong, all), std::logic_error);
}
