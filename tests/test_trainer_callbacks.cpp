// Trainer callbacks (ProgressBar, LossLog, TimeLimit, DivergenceGuard); the named configurations
// are tested in test_configurations.cpp.

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "directspec/filters.hpp"
#include "directspec/losses.hpp"
#include "directspec/models/mf.hpp"
#include "directspec/optim.hpp"
#include "directspec/samplers.hpp"
#include "directspec/train.hpp"
#include "support/random_train.hpp"

using namespace directspec;

namespace {

Interactions SmallTrain() { return directspec::testing::RandomTrain(40, 30, 300, 12, 0); }

// A loss that turns NaN from its `nan_from`-th call on (1-based).
template <class S>
class NanFromCall {
 public:
  using Scalar = S;
  explicit NanFromCall(int nan_from = 1000000) : nan_from_(nan_from) {}
  S Evaluate(const RowMatrix<S>& OU, const RowMatrix<S>& OI, const Batch& batch, RowMatrix<S>& GU,
             RowMatrix<S>& GI) {
    const S value = inner_.Evaluate(OU, OI, batch, GU, GI);
    return ++calls_ >= nan_from_ ? std::numeric_limits<S>::quiet_NaN() : value;
  }

 private:
  LogLoss<S> inner_;
  int nan_from_;
  int calls_ = 0;
};

// SGD that writes +Inf into one table row after its `at`-th update.
template <class S>
class PoisoningSgd {
 public:
  using Scalar = S;
  PoisoningSgd() = default;
  PoisoningSgd(int at, std::size_t table, bool touched_row)
      : at_(at), table_(table), touched_row_(touched_row) {}
  void Update(const std::vector<RowMatrix<S>*>& tables, const std::vector<RowGradient<S>>& grads) {
    sgd_.Update(tables, grads);
    if (++updates_ != at_) return;
    // A touched row (found by the per-step check) or the last row, untouched in these tests.
    const Id row =
        touched_row_ ? grads[table_].rows.front() : static_cast<Id>(tables[table_]->rows() - 1);
    poisoned_row_ = row;
    (*tables[table_])(row, 0) = std::numeric_limits<S>::infinity();
  }
  void EndEpoch(Index epoch) { sgd_.EndEpoch(epoch); }
  S LearningRate() const { return sgd_.LearningRate(); }
  Id PoisonedRow() const { return poisoned_row_; }

 private:
  Sgd<S> sgd_{2.5};
  int at_ = -1;
  std::size_t table_ = 0;
  bool touched_row_ = true;
  int updates_ = 0;
  Id poisoned_row_ = -1;
};

template <class S, class Loss = LogLoss<S>, class Opt = Sgd<S>>
using SmallTrainer = Trainer<MF<S>, DirectSpecPlus<S>, Loss, UserThenPositive<>, Opt>;

template <class T>
typename T::Options SmallOptions(Index epochs, Index steps) {
  typename T::Options o;
  o.epochs = epochs;
  o.steps_per_epoch = steps;
  o.batch_size = 16;
  o.seed = 3;
  o.threads = 1;
  return o;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("ProgressBar: one plain line per epoch off a terminal", "[callbacks]") {
  const Interactions train = SmallTrain();
  using T = SmallTrainer<float>;
  T trainer(SmallOptions<T>(3, 4), MF<float>({.dim = 8}));
  std::ostringstream out;
  ProgressBar bar(out, false);
  trainer.Train(train, bar);
  const auto lines = Lines(out.str());
  REQUIRE(lines.size() == 3);
  CHECK(bar.LinesWritten() == 3);
  CHECK(out.str().find('\r') == std::string::npos);
  CHECK_THAT(lines[0], Catch::StartsWith("epoch 1/3  step 4/4"));
  CHECK_THAT(lines[2], Catch::StartsWith("epoch 3/3  step 4/4"));
  for (const auto& line : lines) {
    CHECK_THAT(line, Catch::Contains("steps/s") && Catch::Contains("loss 0.") &&
                         Catch::Contains("lr ") && Catch::Contains("ETA "));
  }
  CHECK_THAT(lines[2], Catch::EndsWith("ETA 00:00"));  // nothing left after the last epoch
}

TEST_CASE("ProgressBar: carriage-return redraws on a terminal, marks an early stop",
          "[callbacks]") {
  const Interactions train = SmallTrain();
  using T = SmallTrainer<float>;
  T trainer(SmallOptions<T>(2, 5), MF<float>({.dim = 8}));
  std::ostringstream out;
  ProgressBar bar(out, true, {.refresh_seconds = 0});
  TimeLimit limit(1e9);
  trainer.Train(train, bar, limit);
  const std::string text = out.str();
  CHECK(std::count(text.begin(), text.end(), '\r') >= 10);  // every step redraws at refresh 0
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  CHECK_FALSE(limit.Expired());

  std::ostringstream stopped;
  ProgressBar bar2(stopped, false);
  TimeLimit now(0.0);
  trainer.Train(train, bar2, now);
  CHECK(now.Expired());
  CHECK(trainer.Stopped());
  const auto lines = Lines(stopped.str());
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::StartsWith("epoch 1/2  step 1/5") && Catch::EndsWith("(stopped)"));
}

TEST_CASE("LossLog: per-epoch means of the step losses, kept after Train", "[callbacks]") {
  const Interactions train = SmallTrain();
  using T = SmallTrainer<double>;
  T trainer(SmallOptions<T>(3, 4), MF<double>({.dim = 8}));
  LossLog log(true);
  trainer.Train(train, log);
  REQUIRE(log.EpochLosses().size() == 3);
  REQUIRE(log.StepLosses().size() == 12);
  for (std::size_t e = 0; e < 3; ++e) {
    double sum = 0;
    for (std::size_t s = 0; s < 4; ++s) sum += log.StepLosses()[e * 4 + s];
    CHECK(log.EpochLosses()[e] == Approx(sum / 4).epsilon(1e-14));
  }
  LossLog epochs_only;
  trainer.Train(train, epochs_only);
  CHECK(epochs_only.StepLosses().empty());
  CHECK(epochs_only.EpochLosses() == log.EpochLosses());  // same seed, same run
}

TEST_CASE("TimeLimit stops after the budget and rejects a negative one", "[callbacks]") {
  const Interactions train = SmallTrain();
  using T = SmallTrainer<float>;
  T trainer(SmallOptions<T>(50, 4), MF<float>({.dim = 8}));
  TimeLimit limit(0.0);
  LossLog log(true);
  const TrainingState s = trainer.Train(train, limit, log);
  CHECK(limit.Expired());
  CHECK(log.StepLosses().size() == 1);
  CHECK(s.epoch == 1);
  CHECK(s.step == 1);
  CHECK_THROWS_AS(TimeLimit(-1.0), std::invalid_argument);
}

TEST_CASE("DivergenceGuard: a NaN loss throws DivergenceError naming the learning rate",
          "[callbacks]") {
  const Interactions train = SmallTrain();
  using T = SmallTrainer<float, NanFromCall<float>>;
  T trainer(SmallOptions<T>(2, 5), MF<float>({.dim = 8}), NanFromCall<float>(3), {},
            Sgd<float>(2.5));
  DivergenceGuard guard;
  // The loss is NaN while every table entry is finite: the guard names the touched row with the
  // largest entry, then the learning rate.
  CHECK_THROWS_WITH(trainer.Train(train, guard),
                    Catch::Matchers::StartsWith(
                        "training diverged at epoch 1 step 3: the batch loss is nan; table '") &&
                        Catch::Matchers::Contains("has the largest entry") &&
                        Catch::Matchers::EndsWith("(learning rate 2.5); lower the learning rate"));
  CHECK_THROWS_AS(trainer.Train(train, guard), DivergenceError);
  CHECK(guard.Diverged());

  SECTION("soft mode records the message and stops") {
    T again(SmallOptions<T>(2, 5), MF<float>({.dim = 8}), NanFromCall<float>(4), {},
            Sgd<float>(2.5));
    DivergenceGuard soft({.throw_on_divergence = false});
    LossLog log(true);
    again.Train(train, soft, log);
    CHECK(again.Stopped());
    CHECK(soft.Diverged());
    CHECK_THAT(soft.Message(), Catch::Contains("step 4"));
    CHECK(log.StepLosses().size() == 4);
  }
}

TEST_CASE("DivergenceGuard names the table and row holding Inf", "[callbacks]") {
  const Interactions train = SmallTrain();
  using T = SmallTrainer<float, LogLoss<float>, PoisoningSgd<float>>;
  SECTION("a touched row, found right after its step") {
    T trainer(SmallOptions<T>(2, 5), MF<float>({.dim = 8}), {}, {},
              PoisoningSgd<float>(2, 1, true));
    DivergenceGuard guard({.throw_on_divergence = false});
    trainer.Train(train, guard);
    CHECK(trainer.Stopped());
    CHECK(guard.Message() ==
          "training diverged after the update (epoch 1, step 2): table 'item' row " +
              std::to_string(trainer.Optimizer().PoisonedRow()) +
              " holds NaN or Inf (learning rate 2.5); lower the learning rate");
  }
  SECTION("an untouched row, found by the end-of-epoch scan") {
    T trainer(SmallOptions<T>(2, 5), MF<float>({.dim = 8}), {}, {},
              PoisoningSgd<float>(2, 0, false));
    REQUIRE(train.UserDegree(39) > 0);
    DivergenceGuard guard({.throw_on_divergence = true});
    try {
      trainer.Train(train, guard);
      FAIL("no DivergenceError");
    } catch (const DivergenceError& e) {
      CHECK_THAT(std::string(e.what()),
                 Catch::Contains("at the end of epoch (epoch 1, step 5): table 'user' row 39"));
    }
  }
  SECTION("no false alarm on a healthy run") {
    T trainer(SmallOptions<T>(2, 5), MF<float>({.dim = 8}), {}, {},
              PoisoningSgd<float>(-1, 0, true));
    DivergenceGuard guard;
    CHECK_NOTHROW(trainer.Train(train, guard));
    CHECK_FALSE(guard.Diverged());
  }
}
