// directspec-tune: preset files (round trip, corrupt input, precedence in directspec-train's
// parser), search-space parsing and sampling, the successive-halving bookkeeping and divergence
// handling of the search loop (fake objectives and a real diverging trainer), and the program
// end to end: a tiny tune on generated data, determinism, and that nothing reads the test file
// without --refit (tests/examples.cmake passes the programs' paths).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "../examples/cli/preset_file.hpp"
#include "../examples/cli/search_space.hpp"
#include "../examples/cli/settings.hpp"
#include "../examples/cli/tune_objective.hpp"
#include "../examples/cli/tuner.hpp"
#include "directspec/directspec.hpp"
#include "support/child_process.hpp"
#include "support/error_of.hpp"
#include "support/temp_dir.hpp"

using namespace directspec;
using namespace directspec_cli;
using namespace directspec::test;
namespace fs = std::filesystem;
using directspec::testing::MessageOf;
using directspec::testing::TempDir;

namespace {}  // namespace

// ------------------------------------------------------------------------------- preset files

TEST_CASE("preset file: the text of a setting reads back to the same setting", "[tune]") {
  for (const std::string kind : {"directspec+", "adaptive", "bpr", "lightgcn-ssm", "directau"}) {
    Settings s;
    if (kind == "directspec+") {
      s.alpha = 0.6123456789;  // shortest round-trip text, not rounded
      s.tau = 4.75;
      s.shrink = 0.0125;
      s.lr = 12.3;
      s.lr_decay = 0.9995;
      s.epochs = 61;
    } else if (kind == "adaptive") {
      s.filter = "adaptive";
      s.tau0 = 2.25;
      s.tau1 = 3.5;
      s.steps_per_epoch = 17;
    } else if (kind == "bpr") {
      s.filter = "none";
      s.loss = "bpr";
      s.normalize = false;
      s.negatives = 4;
      s.optimizer = "adam";
      s.lr = 1e-3;
      s.weight_decay = 3.5e-5;
      s.batch = 2048;
      s.seed = 99;
    } else if (kind == "lightgcn-ssm") {
      s.model = "lightgcn";
      s.layers = 2;
      s.layer_weights = "mean";
      s.loss = "ssm";
      s.temperature = 0.07;
      s.output_l2 = 0.01;
      s.dim = 32;
    } else {
      s.filter = "directspec";
      s.loss = "directau";
      s.gamma = 1.7;
    }
    const std::string text = PresetFileText(s, {"a comment", "another"});
    Settings back;
    ApplyPresetEntries(back, ParsePresetText(text, "p.preset"), "p.preset");
    INFO(kind << "\n" << text);
    CHECK(back == s);
  }
}

TEST_CASE("preset file: comments, blanks, trailing comments and --key are accepted", "[tune]") {
  const std::string text =
      "# header\n\n  alpha = 0.5   # trailing\n--tau=7\nnormalize = false\r\nlr =\t3\n";
  Settings s;
  ApplyPresetEntries(s, ParsePresetText(text, "f"), "f");
  CHECK(s.alpha == 0.5);
  CHECK(s.tau == 7);
  CHECK_FALSE(s.normalize);
  CHECK(s.lr == 3);
}

TEST_CASE("preset file: corrupt input names the file, the line and the value", "[tune]") {
  auto error = [](const std::string& text) {
    return MessageOf<UsageError>([&] {
      Settings s;
      ApplyPresetEntries(s, ParsePresetText(text, "best.preset"), "best.preset");
    });
  };
  CHECK(error("alpha = 1\nlr 10\n") == "best.preset:2: expected 'key = value', found 'lr 10'");
  CHECK(error("alpha = 1\n\nlr = ten\n") ==
        "best.preset:3: bad value for --lr: 'ten' is not a valid number");
  CHECK(error("colour = blue\n") == "best.preset:1: unknown flag '--colour' (see --help)");
  CHECK(error("= 3\n") == "best.preset:1: missing key before '=' in '= 3'");
  CHECK(error("alpha = 1\nalpha = 2\n") == "best.preset:2: 'alpha' is set twice (first on line 1)");
  CHECK(error("preset = yelp-mf\n") ==
        "best.preset:1: 'preset' cannot be set inside a preset file");
  CHECK(error("normalize = maybe\n") ==
        "best.preset:1: bad value for --normalize: 'maybe' (expected true|false)");
  CHECK(error("filter = directspec++\n")
            .find("best.preset:1: bad value for --filter: "
                  "'directspec++'") == 0);
  CHECK(error("lr = -1\n") == "best.preset:1: bad value for --lr: '-1' must be > 0");
}

TEST_CASE("preset file: directspec-train applies preset, then preset file, then flags", "[tune]") {
  TempDir dir("tune");
  const auto path = dir.Write("p.preset", "lr = 42\nalpha = 0.25\ntau = 6\n");
  const Settings s =
      ParseSettings({"--tau", "8", "--preset-file", path.string(), "--preset", "citeulike-mf"});
  CHECK(s.lr == 42);        // the file over the named preset (180)
  CHECK(s.alpha == 0.25);   // the file over the named preset (1.0)
  CHECK(s.tau == 8);        // the explicit flag over both
  CHECK(s.shrink == 0.03);  // the named preset where the file is silent
  CHECK(s.preset_file == path.string());
  CHECK(MessageOf<UsageError>([&] {
          ParseSettings({"--preset-file", (dir.path / "absent").string()});
        })
            .find("bad value for --preset-file: '" + (dir.path / "absent").string() +
                  "': cannot open") == 0);
  dir.Write("bad.preset", "alpha = 0.5\ndim = -3\n");
  CHECK(MessageOf<UsageError>([&] {
          ParseSettings({"--preset-file", (dir.path / "bad.preset").string()});
        }) ==
        (dir.path / "bad.preset").string() + ":2: bad value for --dim: '-3' must be positive");
}

// ------------------------------------------------------------------------------- search space

TEST_CASE("search space: entries parse to dimensions and print back", "[tune]") {
  const auto space = ParseSpace(
      "alpha=0.2:1.5, tau=1:10:log,negatives=1:8:int,batch=64:4096:log-int,"
      "optimizer=sgd|adam,shrink=0,epochs=4:108",
      "--space");
  REQUIRE(space.dims.size() == 6);
  CHECK(space.dims[0].kind == Dimension::Kind::kUniform);
  CHECK(space.dims[1].kind == Dimension::Kind::kLogUniform);
  CHECK(space.dims[2].kind == Dimension::Kind::kInt);
  CHECK(space.dims[3].kind == Dimension::Kind::kLogInt);
  CHECK(space.dims[4].choices == std::vector<std::string>{"sgd", "adam"});
  CHECK(space.dims[5].kind == Dimension::Kind::kFixed);
  CHECK(space.min_epochs == 4);
  CHECK(space.max_epochs == 108);
  CHECK(space.Describe() ==
        "alpha=0.2:1.5,tau=1:10:log,negatives=1:8:int,batch=64:4096:log-int,optimizer=sgd|adam,"
        "shrink=0,epochs=4:108");
  CHECK(ParseSpace(space.Describe(), "again").Describe() == space.Describe());
}

TEST_CASE("search space: parsing errors name the entry and the reason", "[tune]") {
  auto error = [](const std::string& text) {
    return MessageOf<UsageError>([&] { ParseSpace(text, "--space"); });
  };
  CHECK(error("colour=1:2").find("--space: 'colour=1:2': 'colour' cannot be tuned (tunable: ") ==
        0);
  CHECK(error("alpha") ==
        "--space: 'alpha': expected name=spec (e.g. alpha=0.2:1.5, tau=1:10:log)");
  CHECK(error("alpha=1.5:0.2") ==
        "--space: 'alpha=1.5:0.2': the lower bound must be below the upper bound");
  CHECK(error("tau=0:10:log") == "--space: 'tau=0:10:log': a log scale needs a lower bound > 0");
  CHECK(error("tau=1:10:cubic") ==
        "--space: 'tau=1:10:cubic': unknown scale 'cubic' (expected log, int or log-int)");
  CHECK(error("tau=1:x") == "--space: 'tau=1:x': the upper bound 'x' is not a number");
  CHECK(error("lr=0:1") == "--space: 'lr=0:1': bad value for --lr: '0' must be > 0");
  CHECK(error("lr-decay=0.5:1.5") ==
        "--space: 'lr-decay=0.5:1.5': bad value for --lr-decay: '1.5' must be in (0, 1]");
  CHECK(error("optimizer=sgd|rmsprop") ==
        "--space: 'optimizer=sgd|rmsprop': bad value for --optimizer: 'rmsprop' (expected "
        "sgd|adam)");
  CHECK(error("negatives=1.2:1.8:int") ==
        "--space: 'negatives=1.2:1.8:int': no integer lies in "
        "the range");
  CHECK(error("alpha=1:2,alpha=3") == "--space: 'alpha=3': 'alpha' appears twice");
  CHECK(error("epochs=5:20:log").find("'epochs=5:20:log': epochs takes E or MIN:MAX") !=
        std::string::npos);
  CHECK(error("epochs=0:20") ==
        "--space: 'epochs=0:20': epochs must be whole numbers in [1, "
        "1000000]");
  CHECK(error("alpha=1:2,,tau=3") == "--space: empty entry in 'alpha=1:2,,tau=3'");
  TempDir dir("tune");
  const auto file = dir.Write("space.txt", "# my space\nalpha=0.2:1.5\n\ntau=1:10:logg\n");
  CHECK(MessageOf<UsageError>([&] { ParseSpaceFile(file.string()); }) ==
        file.string() + ":4: 'tau=1:10:logg': unknown scale 'logg' (expected log, int or log-int)");
}

TEST_CASE("search space: draws stay in range, are deterministic, and apply as flags", "[tune]") {
  const auto space = ParseSpace(
      "alpha=0.2:1.5,tau=1:10:log,negatives=1:8:log-int,optimizer=sgd|adam,shrink=0", "s");
  auto a = MakeStream(7, 1), b = MakeStream(7, 1), c = MakeStream(7, 2);
  std::set<std::string> optimizers;
  for (int k = 0; k < 200; ++k) {
    const Assignment x = space.Sample(a);
    CHECK(x == space.Sample(b));
    const Settings s = ApplyAssignment(Settings{}, x);
    CHECK(s.alpha >= 0.2);
    CHECK(s.alpha <= 1.5);
    CHECK(s.tau >= 1);
    CHECK(s.tau <= 10);
    CHECK(s.negatives >= 1);
    CHECK(s.negatives <= 8);
    CHECK(s.shrink == 0);
    optimizers.insert(s.optimizer);
    const Settings near = ApplyAssignment(Settings{}, space.Perturb(x, 0.5, c));
    CHECK(near.alpha >= 0.2);
    CHECK(near.alpha <= 1.5);
    CHECK(near.tau >= 1);
    CHECK(near.tau <= 10);
  }
  CHECK(optimizers.size() == 2);
  // A space overrides the default by name and adds new names.
  auto base = ParseSpace(DefaultSpaceText(Settings{}), "default");
  base.Override(ParseSpace("alpha=0.5,gamma=1:2,epochs=3:9", "--space"));
  CHECK(base.Describe().find("alpha=0.5,") != std::string::npos);
  CHECK(base.Describe().find("gamma=1:2") != std::string::npos);
  CHECK(base.min_epochs == 3);
  CHECK(base.max_epochs == 9);
}

TEST_CASE("search space: every default space parses for every filter, loss and optimizer",
          "[tune]") {
  for (const std::string filter : {"none", "directspec", "directspec+", "adaptive"})
    for (const std::string loss : {"log", "bpr", "directau", "ssm"})
      for (const std::string optimizer : {"sgd", "adam"}) {
        Settings s;
        s.filter = filter;
        s.loss = loss;
        s.optimizer = optimizer;
        INFO(filter << " " << loss << " " << optimizer);
        const auto space = ParseSpace(DefaultSpaceText(s), "default");
        CHECK(space.dims.size() >= 1);
        CHECK(space.min_epochs < space.max_epochs);
      }
}

// ------------------------------------------------------------------------- successive halving

TEST_CASE("halving: rungs, evaluation epochs and the promotion rule", "[tune]") {
  CHECK(Rungs(5, 135, 3) == std::vector<int>{5, 15, 45, 135});
  CHECK(Rungs(5, 100, 3) == std::vector<int>{5, 15, 45, 100});
  CHECK(Rungs(10, 10, 3) == std::vector<int>{10});
  CHECK(EvalEpochs({5, 15, 45}, 10) == std::vector<int>{5, 10, 15, 20, 30, 40, 45});
  HalvingBoard board(3);
  CHECK(board.Promote(5, 0.1));         // first at the rung: continues
  CHECK_FALSE(board.Promote(5, 0.05));  // 2 values, keep 1: the worse one stops
  CHECK(board.Promote(5, 0.2));         // the best continues
  CHECK_FALSE(board.Promote(5, 0.1));   // ties go to the earlier trial
  CHECK(board.Count(5) == 4);
  CHECK(board.Count(15) == 0);
}

namespace {

// A fake objective: value(epoch) = q * (1 - exp(-epoch / 20)) for the quality q of the setting,
// peaking at alpha = 0.7. It records every call, and how far each trial trained.
struct FakeObjective {
  int calls = 0;
  TrialOutcome operator()(const Assignment& a, int max_epochs, const std::vector<int>& epochs,
                          const std::function<bool(int, double)>& observe) {
    ++calls;
    const double alpha = std::stod(a.at(0).second);
    const double q = 1 - std::abs(alpha - 0.7);
    TrialOutcome out;
    for (int e = 1; e <= max_epochs; ++e) {
      out.epochs_trained = e;
      if (std::binary_search(epochs.begin(), epochs.end(), e) &&
          !observe(e, q * (1 - std::exp(-e / 20.0))))
        break;
    }
    return out;
  }
};

}  // namespace

TEST_CASE("halving: a fake objective's search is deterministic and halves at each rung", "[tune]") {
  const auto space = ParseSpace("alpha=0:2,epochs=2:54", "s");
  TunerOptions options;
  options.trials = 40;
  options.eta = 3;
  options.seed = 5;
  FakeObjective f1, f2;
  const auto a = RunSearch(space, options, f1, [](const TrialRecord&) {});
  const auto b = RunSearch(space, options, f2, [](const TrialRecord&) {});
  REQUIRE(a.size() == 40);
  REQUIRE(b.size() == 40);
  // Replaying the halving rule over the recorded trials gives each trial's length.
  HalvingBoard replay(3);
  const auto rungs = Rungs(2, 54, 3);  // 2, 6, 18, 54
  std::map<int, int> reached;
  for (std::size_t k = 0; k < a.size(); ++k) {
    CHECK(a[k].assignment == b[k].assignment);
    CHECK(a[k].best_value == b[k].best_value);
    CHECK(a[k].epochs_trained == b[k].epochs_trained);
    int expected = 54;
    for (int r : rungs) {
      if (r == 54) break;
      const double value = [&] {
        double best = -1;
        for (const auto& [e, v] : a[k].curve)
          if (e <= r) best = std::max(best, v);
        return best;
      }();
      ++reached[r];
      if (!replay.Promote(r, value)) {
        expected = r;
        break;
      }
    }
    CHECK(a[k].epochs_trained == expected);
    CHECK(a[k].status == (expected == 54 ? TrialStatus::kCompleted : TrialStatus::kStopped));
    // The curve holds every evaluation epoch up to where the trial stopped.
    CHECK(a[k].curve.back().first == expected);
  }
  CHECK(reached[2] == 40);
  CHECK(reached[6] < 40);  // halving happened at every rung
  CHECK(reached[18] < reached[6]);
  CHECK(f1.calls == 40);
  // The best trial is near the optimum and ranked first; it trained to the last epoch.
  const auto board = Leaderboard(a);
  const double best_alpha = std::stod(board.front()->assignment.at(0).second);
  CHECK(std::abs(best_alpha - 0.7) < 0.1);
  CHECK(board.front()->best_epoch == 54);
  // Trials after the random start alternate with perturbations of the best ones.
  int near = 0;
  for (const auto& t : a) near += t.origin.rfind("near trial", 0) == 0;
  CHECK(near >= 10);
}

TEST_CASE("halving: a space with nothing left to try ends the search", "[tune]") {
  const auto space = ParseSpace("optimizer=sgd|adam,epochs=1:3", "s");
  TunerOptions options;
  options.trials = 10;
  FakeObjective f;
  const auto trials = RunSearch(
      space, options,
      [&](const Assignment&, int max_epochs, const std::vector<int>& epochs,
          const std::function<bool(int, double)>& observe) {
        for (int e : epochs)
          if (!observe(e, 0.5)) return TrialOutcome{false, "", e};
        return TrialOutcome{false, "", max_epochs};
      },
      [](const TrialRecord&) {});
  CHECK(trials.size() == 2);
}

TEST_CASE("divergence: NaN values, diverged runs and exceptions are recorded, not fatal",
          "[tune]") {
  const auto space = ParseSpace("alpha=0:2,epochs=2:18", "s");
  TunerOptions options;
  options.trials = 12;
  const auto trials = RunSearch(
      space, options,
      [](const Assignment& a, int, const std::vector<int>& epochs,
         const std::function<bool(int, double)>& observe) {
        const double alpha = std::stod(a.at(0).second);
        if (alpha > 1.5) throw std::runtime_error("out of memory while training");
        TrialOutcome out;
        for (int e : epochs) {
          out.epochs_trained = e;
          if (alpha < 0.5 && e >= 6) return TrialOutcome{true, "training diverged", e};
          const double v = alpha > 1.2 ? std::nan("") : alpha;
          if (!observe(e, v)) break;
        }
        return out;
      },
      [](const TrialRecord&) {});
  REQUIRE(trials.size() == 12);
  int diverged = 0, failed = 0, ranked = 0;
  for (const auto& t : trials) {
    const double alpha = std::stod(t.assignment.at(0).second);
    INFO("alpha " << alpha << " status " << StatusName(t.status));
    if (alpha > 1.5) {
      CHECK(t.status == TrialStatus::kFailed);
      CHECK(t.message == "out of memory while training");
      ++failed;
    } else if (alpha > 1.2) {
      CHECK(t.status == TrialStatus::kDiverged);
      CHECK(t.message.find("the validation metric is nan at epoch 2") == 0);
      ++diverged;
    } else if (alpha < 0.5 && t.epochs_trained >= 6) {
      CHECK(t.status == TrialStatus::kDiverged);
      CHECK(t.message == "training diverged");
      ++diverged;
    }
    ranked += t.Ranked();
  }
  CHECK(diverged + failed > 0);
  CHECK(ranked > 0);
  for (const auto* t : Leaderboard(trials))
    if (!t->Ranked()) CHECK((t->status != TrialStatus::kCompleted));
  CHECK(Leaderboard(trials).front()->Ranked());
}

TEST_CASE("divergence: a real trainer with an absurd learning rate is cut, not thrown", "[tune]") {
  SyntheticOptions o;
  o.users = 60;
  o.items = 40;
  o.seed = 3;
  Dataset d = MakeSyntheticDataset(o);
  CarveValidation(d, 0.2, 1);
  Settings base;
  base.filter = "none";
  base.normalize = false;
  base.dim = 8;
  base.batch = 32;
  base.threads = 1;
  const TrainingObjective objective(base, d.train, d.valid_pairs, "ndcg@20", EvalOptions{});
  std::vector<std::pair<int, double>> seen;
  const auto observe = [&](int e, double v) {
    seen.emplace_back(e, v);
    return true;
  };
  const auto healthy = objective({{"lr", "0.05"}}, 3, {1, 2, 3}, observe);
  CHECK_FALSE(healthy.diverged);
  CHECK(healthy.epochs_trained == 3);
  CHECK(seen.size() == 3);
  seen.clear();
  const auto wild = objective({{"lr", "1e30"}}, 20, {5, 10, 20}, observe);
  CHECK(wild.diverged);
  CHECK(wild.epochs_trained < 20);
  CHECK((wild.message.find("diverged") != std::string::npos ||
         wild.message.find("exploding") != std::string::npos));
}

// ---------------------------------------------------------------------------- the program

#ifdef DIRECTSPEC_TUNE
namespace {

struct Program {
  TempDir dir{"tune"};
  ChildStatus Run(std::vector<std::string> args, const std::string& program = DIRECTSPEC_TUNE) {
    args.insert(args.begin(), program);
    ChildSetup setup;
    setup.stdout_path = (dir.path / "stdout.txt").string();
    setup.stderr_path = (dir.path / "stderr.txt").string();
    setup.env = {"OMP_NUM_THREADS=1", "OMP_WAIT_POLICY=passive"};
    return Wait(StartProgram(args, dir.path.string(), setup));
  }
  std::string Out() const { return ReadText(dir.path / "stdout.txt"); }
  std::string Err() const { return ReadText(dir.path / "stderr.txt"); }

  // A small dense data set: 80 users x 60 items, ~12 items each, as-is ids.
  fs::path Data(const std::string& name, const std::string& test_text) const {
    const auto folder = dir.path / name;
    fs::create_directories(folder);
    std::string train = "user,item\n";
    auto engine = MakeStream(11);
    for (int u = 0; u < 80; ++u) {
      std::set<int> items;
      while (items.size() < 12)
        items.insert(static_cast<int>((u % 6) * 8 + UniformIndex(engine, 20)) % 60);
      for (int i : items) train += std::to_string(u) + "," + std::to_string(i) + "\n";
    }
    std::ofstream(folder / "train.csv") << train;
    if (!test_text.empty()) std::ofstream(folder / "test.csv") << test_text;
    return folder;
  }
};

std::vector<std::string> TinyTune(const fs::path& data) {
  return {"--data", data.string(), "--trials",  "4", "--space", "epochs=1:3",
          "--dim",  "8",           "--threads", "1", "--seed",  "3"};
}

// The JSON lines without their timings.
std::string WithoutSeconds(std::string text) {
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    const auto key = text.find("seconds\":", at);
    if (key == std::string::npos) {
      out += text.substr(at);
      break;
    }
    const auto end = text.find_first_of(",}", key);
    out += text.substr(at, key - at) + "seconds\":_";
    at = end;
  }
  return out;
}

}  // namespace

TEST_CASE("program: a tiny tune writes a preset directspec-train accepts, deterministically",
          "[tune][program]") {
  Program p;
  const auto data = p.Data("tiny", "user,item\n0,1\n1,2\n");
  auto args = TinyTune(data);
  for (const char* a : {"--json", "a.jsonl", "--out", "best.preset"}) args.push_back(a);
  const auto status = p.Run(args);
  INFO(p.Out() << p.Err());
  REQUIRE(status.exited);
  REQUIRE(status.code == 0);
  const std::string out = p.Out();
  CHECK(out.find("trial 4/4") != std::string::npos);
  CHECK(out.find("leaderboard (validation ndcg@20") != std::string::npos);
  CHECK(out.find("the test set is not read") != std::string::npos);
  CHECK(out.find("TEST") == std::string::npos);
  const std::string log = ReadText(p.dir.path / "a.jsonl");
  CHECK(std::count(log.begin(), log.end(), '\n') == 4 + 2);  // header, 4 trials, summary
  Settings preset;
  ApplyPresetFile(preset, (p.dir.path / "best.preset").string());
  CHECK(preset.dim == 8);
  CHECK(preset.epochs >= 1);
  CHECK(preset.epochs <= 3);
  // directspec-train takes the file (one epoch to keep it short: explicit flags win).
  const auto train = p.Run({"--data", data.string(), "--preset-file", "best.preset", "--epochs",
                            "1", "--quiet", "--threads", "1"},
                           DIRECTSPEC_CLI);
  INFO(p.Err());
  CHECK(train.code == 0);
  // Same seed and thread count: the same trials and values.
  auto again = TinyTune(data);
  for (const char* a : {"--json", "b.jsonl"}) again.push_back(a);
  REQUIRE(p.Run(again).code == 0);
  CHECK(WithoutSeconds(ReadText(p.dir.path / "b.jsonl")) == WithoutSeconds(log));
}

TEST_CASE("program: without --refit nothing reads the test file, --refit reads it once",
          "[tune][program]") {
  Program p;
  const auto poisoned = p.Data("poisoned", "user,item\n0,1\nthis line is not an interaction\n");
  REQUIRE(p.Run(TinyTune(poisoned)).code == 0);
  const auto absent = p.Data("absent", "");
  REQUIRE(p.Run(TinyTune(absent)).code == 0);
  // Only --refit touches the test file: the poisoned one now fails, naming file and line.
  auto refit = TinyTune(poisoned);
  refit.push_back("--refit");
  const auto failed = p.Run(refit);
  CHECK(failed.code == 1);
  CHECK(p.Err().find((poisoned / "test.csv").string() + ":3") != std::string::npos);
  CHECK(p.Out().find("leaderboard") != std::string::npos);  // the search ran before
  // A clean test file: the test metrics are printed once and labelled.
  const auto clean = p.Data("clean", "user,item\n0,59\n1,58\n2,57\n3,3\n");
  auto ok = TinyTune(clean);
  ok.push_back("--refit");
  REQUIRE(p.Run(ok).code == 0);
  const std::string out = p.Out();
  CHECK(out.find("TEST (evaluated once, after the search):") != std::string::npos);
  CHECK(out.find("test ndcg@20 ") != std::string::npos);
}

TEST_CASE("program: usage errors exit 2 and name the flag", "[tune][program]") {
  Program p;
  CHECK(p.Run({"--space", "alpha=2:1"}).code == 2);
  CHECK(p.Err().find("'alpha=2:1': the lower bound must be below the upper bound") !=
        std::string::npos);
  CHECK(p.Run({"--epochs", "5"}).code == 2);
  CHECK(p.Err().find("epochs=MIN:MAX") != std::string::npos);
  CHECK(p.Run({"--metric", "ndcg@50"}).code == 2);
  CHECK(p.Run({"--save-model", "m.dspm"}).code == 2);
  CHECK(p.Err().find("--save-model needs --refit") != std::string::npos);
  CHECK(p.Run({"--trials", "0"}).code == 2);
  REQUIRE(p.Run({"--show-space", "--preset", "bpr-mf"}).code == 0);
  CHECK(p.Out().find("weight-decay=1e-06:0.1:log") != std::string::npos);
}
#endif
