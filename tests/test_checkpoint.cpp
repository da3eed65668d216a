// Checkpoints (io/checkpoint.hpp, core/state_archive.hpp): a run of 2E epochs and a run of E
// epochs resumed from its checkpoint for E more give bit-identical tables, losses, early-stopping
// state and metrics (MF and LightGCN, SGD and Adam, micro-batches, 1 and 2 threads); a checkpoint
// of other data, another model or other settings is refused with a message naming the
// difference; every truncation and byte flip of a small checkpoint is refused; the file is
// written all-or-nothing.

// GCC 12 reports a false -Wmaybe-uninitialized inside its own AVX-512 intrinsics when Eigen's
// reductions are inlined with -march=native (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <unistd.h>
#include <catch2/catch.hpp>

#include <cerrno>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "directspec/eval/evaluation_callbacks.hpp"
#include "directspec/eval/evaluator.hpp"
#include "directspec/filters.hpp"
#include "directspec/io/checkpoint.hpp"
#include "directspec/losses.hpp"
#include "directspec/models.hpp"
#include "directspec/optim.hpp"
#include "directspec/samplers.hpp"
#include "directspec/train/learning_signals.hpp"
#include "directspec/train/trainer.hpp"
#include "directspec/train/training_callbacks.hpp"
#include "support/random_train.hpp"
#include "support/temp_dir.hpp"

using namespace directspec;
namespace fs = std::filesystem;
using directspec::testing::TempDir;

namespace {

// A fresh directory under the system temp dir, removed at scope exit.
using directspec::testing::RandomTrain;

std::vector<std::pair<Id, Id>> HeldOut(Index users, Index items, std::uint64_t seed) {
  std::mt19937_64 engine = MakeStream(seed, 78);
  std::vector<std::pair<Id, Id>> p;
  for (Index u = 0; u < users; ++u)
    p.emplace_back(static_cast<Id>(u),
                   static_cast<Id>(UniformIndex(engine, static_cast<std::uint64_t>(items))));
  return p;
}

// Writes a checkpoint at the end of epoch `at` (after the callbacks before it in the list).
template <class... Parts>
struct SaveAt {
  fs::path path;
  Index at;
  CheckpointFingerprint fingerprint;
  std::tuple<Parts&...> parts;
  template <class T>
  void OnEpochEnd(T& trainer, const TrainingState& s) {
    if (s.epoch != at) return;
    std::apply([&](auto&... p) { SaveCheckpoint(path, trainer, fingerprint, p...); }, parts);
  }
};
template <class... Parts>
SaveAt<Parts...> MakeSaveAt(fs::path path, Index at, CheckpointFingerprint fp, Parts&... parts) {
  return SaveAt<Parts...>{std::move(path), at, std::move(fp), std::tuple<Parts&...>(parts...)};
}

// Calls SaveState from OnStepEnd (inside an epoch), which must throw.
struct SaveMidEpoch {
  template <class T>
  bool OnStepEnd(T& t, const TrainingState&) {
    StateArchive a;
    t.SaveState(a);
    return false;
  }
};

struct RunResult {
  std::vector<RowMatrix<float>> tables;
  std::vector<double> epoch_losses;
  Index best_epoch = -1;
  double best_value = 0;
  double ndcg = 0, recall = 0;
  double learning_rate = 0;
  std::uint64_t batches = 0;
};

template <class T>
RunResult Collect(T& trainer, const LossLog& log, const EarlyStopping& stop,
                  const Evaluator& test) {
  RunResult r;
  for (const auto* t : trainer.Encoder().Tables()) r.tables.push_back(*t);
  r.epoch_losses = log.EpochLosses();
  r.best_epoch = stop.BestEpoch();
  r.best_value = stop.BestValue();
  RowMatrix<float> U, I;
  trainer.Encoder().InferenceEmbeddings(U, I);
  const EvalResult e = test.Evaluate(U, I);
  r.ndcg = e.Get("ndcg@10");
  r.recall = e.Get("recall@10");
  r.learning_rate = static_cast<double>(trainer.Optimizer().LearningRate());
  r.batches = trainer.BatchesDrawn();
  return r;
}

// 2E epochs in one go against E epochs, a checkpoint, and E more in a new trainer object.
template <class T>
void CheckResumeIsBitIdentical(const std::function<T()>& make, Index half, int threads) {
  const Interactions train = RandomTrain(60, 45, 420, 11);
  const auto valid = HeldOut(60, 45, 1), test = HeldOut(60, 45, 2);
  EvalOptions eo;
  eo.ks = {10};
  const Evaluator valid_eval(train, valid, eo), test_eval(train, test, eo);
  const EarlyStoppingOptions so{.metric = "ndcg@10", .patience = 100, .restore_best = true};
  TempDir dir("checkpoint");
  const fs::path path = dir.path / "run.dspc";

  T full = make();
  auto options = full.GetOptions();
  REQUIRE(options.epochs == 2 * half);
  (void)threads;
  LossLog full_log;
  EarlyStopping full_stop(valid_eval, so);
  LearningSignals full_signals;
  full.Train(train, full_stop, full_signals, full_log);
  const RunResult want = Collect(full, full_log, full_stop, test_eval);

  // First half: a trainer asked for E epochs writes its checkpoint at the end of epoch E.
  T first = make();
  auto first_options = first.GetOptions();
  first_options.epochs = half;
  T first_half(first_options, first.Encoder(), first.Loss(), first.Sampler(), first.Optimizer());
  const CheckpointFingerprint fp = MakeCheckpointFingerprint(first_half, train, "test run");
  EarlyStopping first_stop(valid_eval, so);
  LearningSignals first_signals;
  auto saver = MakeSaveAt(path, half, fp, first_stop, first_signals);
  first_half.Train(train, first_stop, first_signals, saver);
  REQUIRE(fs::exists(path));

  // Second half: a fresh trainer for 2E epochs loads it and continues.
  T resumed = make();
  EarlyStopping resumed_stop(valid_eval, so);
  LearningSignals resumed_signals;
  LoadCheckpoint(path, resumed, train, MakeCheckpointFingerprint(resumed, train, "test run"),
                 resumed_stop, resumed_signals);
  CHECK(resumed.EpochsDone() == half);
  LossLog resumed_log;
  const TrainingState end = resumed.Train(train, resumed_stop, resumed_signals, resumed_log);
  CHECK(end.epoch == 2 * half);
  const RunResult got = Collect(resumed, resumed_log, resumed_stop, test_eval);

  REQUIRE(got.tables.size() == want.tables.size());
  for (std::size_t t = 0; t < want.tables.size(); ++t) CHECK(got.tables[t] == want.tables[t]);
  REQUIRE(got.epoch_losses.size() == static_cast<std::size_t>(half));
  for (Index e = 0; e < half; ++e)
    CHECK(got.epoch_losses[static_cast<std::size_t>(e)] ==
          want.epoch_losses[static_cast<std::size_t>(half + e)]);
  CHECK(got.best_epoch == want.best_epoch);
  CHECK(got.best_value == want.best_value);
  CHECK(got.ndcg == want.ndcg);
  CHECK(got.recall == want.recall);
  CHECK(got.learning_rate == want.learning_rate);
  CHECK(got.batches == want.batches);
  // The learning signals continue the run: same epochs and steps, same starting tables.
  const auto a = full_signals.Measure(full), b = resumed_signals.Measure(resumed);
  CHECK(a.epochs == b.epochs);
  CHECK(a.steps == b.steps);
  CHECK(a.first_epoch_loss == b.first_epoch_loss);
  CHECK(a.relative_change == b.relative_change);
  // The comparison is not vacuous: the second half moved the tables.
  T mid = make();
  auto mid_options = mid.GetOptions();
  mid_options.epochs = half;
  T mid_run(mid_options, mid.Encoder(), mid.Loss(), mid.Sampler(), mid.Optimizer());
  mid_run.Train(train);
  CHECK(*mid_run.Encoder().Tables()[0] != want.tables[0]);
}

template <class S>
using PlusMF =
    Trainer<MF<S>, DirectSpecPlus<S>, LogLoss<S>, UserThenPositive<>, Sgd<S, ExponentialDecay>>;
template <class S>
using PlusGCN = Trainer<LightGCN<S>, DirectSpecPlus<S>, WithOutputL2<LogLoss<S>>,
                        UserThenPositive<>, Sgd<S, ExponentialDecay>>;
using BprMFAdam = Trainer<MF<float>, NoFilter<float>, BprLoss<float>,
                          UserThenPositive<UniformNegatives>, Adam<float, ExponentialDecay>>;

template <class T>
typename T::Options BaseOptions(int threads, Index micro_batches) {
  typename T::Options o;
  o.epochs = 6;
  o.batch_size = 24;
  o.steps_per_epoch = 5;
  o.seed = 17;
  o.threads = threads;
  o.micro_batches = micro_batches;
  return o;
}

PlusMF<float> MakeMF(int threads) {
  auto o = BaseOptions<PlusMF<float>>(threads, 1);
  o.shrink = 0.03;
  o.user_filter = o.item_filter = {.alpha = 1.0f, .tau = 3.0f};
  return PlusMF<float>(o, MF<float>({.dim = 8}), LogLoss<float>(), UserThenPositive<>(),
                       Sgd<float, ExponentialDecay>(40.0, {0.95}));
}

PlusGCN<float> MakeGCN(int threads, Index micro_batches) {
  auto o = BaseOptions<PlusGCN<float>>(threads, micro_batches);
  o.shrink = 0.02;
  o.user_filter = o.item_filter = {.alpha = 0.7f, .tau = 4.0f};
  return PlusGCN<float>(o, LightGCN<float>({.dim = 8, .layers = 3}),
                        WithOutputL2<LogLoss<float>>({.output_l2 = 0.01f}), UserThenPositive<>(),
                        Sgd<float, ExponentialDecay>(40.0, {0.95}));
}

BprMFAdam MakeBpr(int threads) {
  auto o = BaseOptions<BprMFAdam>(threads, 2);
  o.normalize_rows = false;
  o.weight_decay = 1e-3;
  return BprMFAdam(o, MF<float>({.dim = 8}), BprLoss<float>(),
                   UserThenPositive<UniformNegatives>(UniformNegatives({.per_positive = 1})),
                   Adam<float, ExponentialDecay>({.learning_rate = 0.01}, {0.9}));
}

// A small checkpoint for the corruption tests.
std::vector<std::byte> SmallCheckpoint() {
  const Interactions train = RandomTrain(5, 8, 6, 3);
  auto o = BaseOptions<BprMFAdam>(1, 1);
  o.batch_size = 3;
  o.epochs = 1;
  o.steps_per_epoch = 2;
  o.normalize_rows = false;
  BprMFAdam t(o, MF<float>({.dim = 2}), BprLoss<float>(),
              UserThenPositive<UniformNegatives>(UniformNegatives({.per_positive = 1})),
              Adam<float, ExponentialDecay>({.learning_rate = 0.01}, {0.9}));
  t.Train(train);
  Checkpoint c;
  c.fingerprint = MakeCheckpointFingerprint(t, train);
  t.SaveState(c.state);
  return SerializeCheckpoint(c);
}

}  // namespace

TEST_CASE("Resuming a checkpoint is bit-identical to an uninterrupted run",
          "[checkpoint][trainer]") {
  for (int threads : {1, 2}) {
    INFO("threads " << threads);
    SECTION("MF + DirectSpec+, SGD with decay, threads " + std::to_string(threads)) {
      CheckResumeIsBitIdentical<PlusMF<float>>([&] { return MakeMF(threads); }, 3, threads);
    }
    SECTION("LightGCN + DirectSpec+, output L2, threads " + std::to_string(threads)) {
      CheckResumeIsBitIdentical<PlusGCN<float>>([&] { return MakeGCN(threads, 1); }, 3, threads);
    }
    SECTION("LightGCN with 2 micro-batches, threads " + std::to_string(threads)) {
      CheckResumeIsBitIdentical<PlusGCN<float>>([&] { return MakeGCN(threads, 2); }, 3, threads);
    }
    SECTION("MF + BPR, Adam moments and weight decay, threads " + std::to_string(threads)) {
      CheckResumeIsBitIdentical<BprMFAdam>([&] { return MakeBpr(threads); }, 3, threads);
    }
  }
}

TEST_CASE("A checkpoint of other data, another model or other settings is refused",
          "[checkpoint]") {
  const Interactions train = RandomTrain(30, 20, 150, 4);
  TempDir dir("checkpoint");
  const fs::path path = dir.path / "run.dspc";
  auto trainer = MakeMF(1);
  trainer.Train(train);
  SaveCheckpoint(path, trainer, MakeCheckpointFingerprint(trainer, train, "lr 40"));

  auto fresh = MakeMF(1);
  auto fp = MakeCheckpointFingerprint(fresh, train, "lr 40");
  SECTION("the same run loads") { CHECK_NOTHROW(LoadCheckpoint(path, fresh, train, fp)); }
  SECTION("other data") {
    const Interactions other = RandomTrain(30, 20, 150, 5);
    CHECK_THROWS_WITH(
        LoadCheckpoint(path, fresh, other, MakeCheckpointFingerprint(fresh, other, "lr 40")),
        Catch::Contains(path.string()) && Catch::Contains("checkpoint of other data") &&
            Catch::Contains("interactions"));
  }
  SECTION("another model") {
    auto o = fresh.GetOptions();
    PlusMF<float> wider(o, MF<float>({.dim = 16}));
    CHECK_THROWS_WITH(
        LoadCheckpoint(path, wider, train, MakeCheckpointFingerprint(wider, train, "lr 40")),
        Catch::Contains("another model") && Catch::Contains("dim 8") && Catch::Contains("dim 16"));
    auto gcn = MakeGCN(1, 1);
    CHECK_THROWS_WITH(
        LoadCheckpoint(path, gcn, train, MakeCheckpointFingerprint(gcn, train, "lr 40")),
        Catch::Contains("another model") && Catch::Contains("lightgcn"));
  }
  SECTION("other settings") {
    auto o = fresh.GetOptions();
    o.micro_batches = 4;
    PlusMF<float> micro(o, MF<float>({.dim = 8}));
    CHECK_THROWS_WITH(
        LoadCheckpoint(path, micro, train, MakeCheckpointFingerprint(micro, train, "lr 40")),
        Catch::Contains("other settings") && Catch::Contains("micro-batches 1") &&
            Catch::Contains("micro-batches 4"));
    CHECK_THROWS_WITH(
        LoadCheckpoint(path, fresh, train, MakeCheckpointFingerprint(fresh, train, "lr 41")),
        Catch::Contains("other settings") && Catch::Contains("'lr 40'"));
  }
  SECTION("another optimizer under an equal fingerprint") {
    auto adam = MakeBpr(1);
    // Same shapes and fingerprint (forced), but the state holds SGD: named, not misread.
    CHECK_THROWS_WITH(LoadCheckpoint(path, adam, train, fp),
                      Catch::Contains("does not fit this run") && Catch::Contains("'sgd'"));
  }
  SECTION("a missing file") {
    CHECK_THROWS_WITH(LoadCheckpoint(dir.path / "none.dspc", fresh, train, fp),
                      Catch::Contains("none.dspc") && Catch::Contains("No such file"));
  }
}

TEST_CASE("Checkpoint archives round-trip every entry kind", "[checkpoint]") {
  Checkpoint c;
  c.fingerprint = {"data x", "model y", "a 1; b 2"};
  RowMatrix<float> f(2, 3);
  f << 1, 2, 3, 4, 5, -6.5f;
  RowMatrix<double> d(1, 2);
  d << 1e-300, -2;
  c.state.PutMatrix("f", f);
  c.state.PutMatrix("d", d);
  c.state.PutMatrix("empty", RowMatrix<float>(0, 4));
  c.state.PutInts("ints",
                  std::vector<std::int64_t>{-1, 0, std::numeric_limits<std::int64_t>::max()});
  c.state.PutText("text", "héllo\n");
  c.state.PutText("empty text", "");
  const auto bytes = SerializeCheckpoint(c);
  const Checkpoint back = ParseCheckpoint(bytes);
  CHECK(back.fingerprint == c.fingerprint);
  CHECK(back.state == c.state);
  RowMatrix<float> f2;
  back.state.GetMatrix("f", f2, 2, 3);
  CHECK(f2 == f);
  CHECK_THROWS_WITH(back.state.GetMatrix("f", f2, 3, 3), Catch::Contains("'f' is 2 x 3"));
  CHECK_THROWS_WITH(back.state.GetInts("f"), Catch::Contains("holds float32, expected int64"));
  CHECK_THROWS_WITH(back.state.GetText("nope"), Catch::Contains("'nope' is missing"));
}

TEST_CASE("Every truncation and byte flip of a checkpoint is refused", "[checkpoint][corrupt]") {
  const auto good = SmallCheckpoint();
  REQUIRE(good.size() < 4000);
  CHECK_NOTHROW(ParseCheckpoint(good));
  for (std::size_t n = 0; n < good.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    CHECK_THROWS_AS(ParseCheckpoint(std::span(good).first(n), "cut.dspc"), IoError);
  }
  for (std::size_t at = 0; at < good.size(); ++at)
    for (std::uint8_t mask : {0x01, 0x80, 0xFF}) {
      auto bad = good;
      bad[at] ^= static_cast<std::byte>(mask);
      INFO("byte " << at << " xor " << int(mask));
      CHECK_THROWS_AS(ParseCheckpoint(bad, "flip.dspc"), IoError);
    }
  auto longer = good;
  longer.push_back(std::byte{0});
  CHECK_THROWS_WITH(ParseCheckpoint(longer, "x.dspc"), Catch::Contains("size mismatch"));
  CHECK_THROWS_WITH(ParseCheckpoint(std::span(good).first(100), "x.dspc"),
                    Catch::Contains("x.dspc") && Catch::Contains("truncated"));
  CHECK_THROWS_WITH(ParseCheckpoint(std::span(good).first(0), "x.dspc"),
                    Catch::Contains("empty file"));
}

TEST_CASE("Structural errors behind a valid checksum are named", "[checkpoint][corrupt]") {
  // Rewrites a field and recomputes size and CRC, so the parser's own checks must catch it.
  auto reseal = [](std::vector<std::byte> b) {
    b.resize(b.size() - 4);
    const std::uint64_t total = b.size() + 4;
    for (std::size_t k = 0; k < 8; ++k)
      b[16 + k] = static_cast<std::byte>((total >> (8 * k)) & 0xFF);
    PutLE<std::uint32_t>(b, Crc32(b));
    return b;
  };
  Checkpoint c;
  c.fingerprint = {"d", "m", "s"};
  c.state.PutText("a", "xy");
  c.state.PutInt("b", 7);
  const auto good = SerializeCheckpoint(c);
  CHECK_NOTHROW(ParseCheckpoint(reseal(good)));
  // Layout: header 24, three strings of 4 + 1 bytes (39), entry count (47), entry "a": name
  // 4 + 1 (52), kind at 52, rows at 56, cols at 64, text at 72..73, then entry "b".
  auto kind = good;
  kind[52] = std::byte{9};
  CHECK_THROWS_WITH(ParseCheckpoint(reseal(kind)), Catch::Contains("unknown kind 9"));
  auto cols = good;
  cols[64] = std::byte{2};
  CHECK_THROWS_WITH(ParseCheckpoint(reseal(cols)), Catch::Contains("text entry 'a' has 2 columns"));
  auto rows = good;
  rows[63] = std::byte{0x7F};
  CHECK_THROWS_WITH(ParseCheckpoint(reseal(rows)), Catch::Contains("truncated: entry 'a'"));
  auto order = good;
  order[51] = std::byte{'c'};  // "c" before "b"
  CHECK_THROWS_WITH(ParseCheckpoint(reseal(order)), Catch::Contains("out of order"));
  auto count = good;
  count[39] = std::byte{1};  // one entry declared, two present
  CHECK_THROWS_WITH(ParseCheckpoint(reseal(count)), Catch::Contains("unexpected bytes"));
  auto version = good;
  version[8] = std::byte{2};
  CHECK_THROWS_WITH(ParseCheckpoint(reseal(version)),
                    Catch::Contains("version 2 is not supported"));
  auto magic = good;
  magic[1] = std::byte{'X'};
  CHECK_THROWS_WITH(ParseCheckpoint(magic), Catch::Contains("not a directspec checkpoint"));
}

TEST_CASE("Checkpoints are written all-or-nothing and only between epochs", "[checkpoint]") {
  const Interactions train = RandomTrain(30, 20, 150, 4);
  TempDir dir("checkpoint");
  const fs::path path = dir.path / "run.dspc";
  auto trainer = MakeMF(1);
  trainer.Train(train);
  const auto fp = MakeCheckpointFingerprint(trainer, train);
  SaveCheckpoint(path, trainer, fp);
  const auto before = ReadFileBytes(path);

  Checkpoint c;
  c.fingerprint = fp;
  trainer.SaveState(c.state);
  c.state.PutText("extra", std::string(1000, 'x'));
  AtomicWriteOptions failing;
  long calls = 0;
  failing.write = [&](int fd, const void* data, std::size_t size) -> long {
    if (++calls > 1) {
      errno = ENOSPC;
      return -1;
    }
    return ::write(fd, data, std::min<std::size_t>(size, 64));
  };
  CHECK_THROWS_WITH(WriteCheckpoint(path, c, failing), Catch::Contains("No space left"));
  CHECK(ReadFileBytes(path) == before);  // the previous checkpoint is whole
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);

  // Inside an epoch the tables belong to no epoch: SaveState refuses.
  CHECK_THROWS_WITH(trainer.Train(train, SaveMidEpoch{}), Catch::Contains("inside an epoch"));
}
