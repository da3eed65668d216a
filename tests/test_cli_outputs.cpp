// directspec-train's outputs under attack, driving the real program in child processes: a run
// that fails, is killed (SIGKILL at random moments, 50 times) or interrupted (SIGINT, SIGTERM),
// runs under `ulimit -f` (setrlimit RLIMIT_FSIZE), runs concurrently with another on the same
// paths, or gets unusable output paths. Every earlier output must stay byte-identical or be
// completely replaced, and no temporary may outlive the next run. Built only with the examples
// (tests/examples.cmake passes the program's path as DIRECTSPEC_CLI).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "directspec/io.hpp"
#include "support/child_process.hpp"

using namespace directspec;
using namespace directspec::test;
namespace fs = std::filesystem;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;  // GCC
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;  // clang
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

constexpr int kDim = 8, kK = 5;

// A work directory: outputs go to out/, the program's stdout / stderr to the directory itself.
struct Work {
  fs::path root, out;
  Work() {
    static int counter = 0;
    root = fs::temp_directory_path() /
           ("directspec-cli-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(root);
    out = root / "out";
    fs::create_directories(out);
  }
  ~Work() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  std::string Stderr() const { return ReadText(root / "stderr.txt"); }
};

std::vector<std::string> AllOutputs() {
  return {"--json", "run.jsonl",       "--save-model", "model.dspm",      "--export-npy",
          "npy",    "--spectrum-svg",  "spectrum.svg", "--recommend-out", "recs.csv",
          "--k",    std::to_string(kK)};
}

std::vector<std::string> Args(std::vector<std::string> extra, bool outputs = true) {
  std::vector<std::string> a{DIRECTSPEC_CLI,       "--epochs",  "1", "--dim",
                             std::to_string(kDim), "--threads", "1", "--quiet"};
  if (outputs)
    for (auto& s : AllOutputs()) a.push_back(s);
  for (auto& s : extra) a.push_back(std::move(s));
  return a;
}

ChildSetup Setup(const Work& w, long long file_size_limit = -1) {
  ChildSetup s;
  s.file_size_limit = file_size_limit;
  s.stdout_path = (w.root / "stdout.txt").string();
  s.stderr_path = (w.root / "stderr.txt").string();
  s.env = {"OMP_NUM_THREADS=1", "OMP_WAIT_POLICY=passive"};
  return s;
}

pid_t Start(const Work& w, const std::vector<std::string>& args, long long limit = -1) {
  return StartProgram(args, w.out.string(), Setup(w, limit));
}

ChildStatus Run(const Work& w, const std::vector<std::string>& args, long long limit = -1) {
  return Wait(Start(w, args, limit));
}

const std::vector<std::string> kFiles{"run.jsonl",    "model.dspm",   "npy/user.npy",
                                      "npy/item.npy", "spectrum.svg", "recs.csv"};

using Snapshot = std::map<std::string, std::string>;

Snapshot Take(const Work& w) {
  Snapshot s;
  for (const auto& f : kFiles) s[f] = fs::exists(w.out / f) ? ReadText(w.out / f) : "(absent)";
  return s;
}

// Every line a JSON object, whole lines only, a final line last: a complete log.
void RequireCompleteLog(const std::string& text, long long seed) {
  REQUIRE(!text.empty());
  REQUIRE(text.back() == '\n');
  std::size_t start = 0, lines = 0;
  std::string last;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    last = text.substr(start, end - start);
    REQUIRE(last.size() >= 2);
    REQUIRE(last.front() == '{');
    REQUIRE(last.back() == '}');
    REQUIRE(std::count(last.begin(), last.end(), '"') % 2 == 0);
    ++lines;
    start = end + 1;
  }
  REQUIRE(last.find("\"final\":true") != std::string::npos);
  if (seed >= 0) REQUIRE(last.find("\"seed\":" + std::to_string(seed) + ",") != std::string::npos);
}

// Each output of `now` is that of `before` byte for byte, or complete; the .npy pair changes as a
// unit and, when the model changed too, holds the model's tables. Returns how many changed.
int RequireIntactOrComplete(const Work& w, const Snapshot& before, const Snapshot& now,
                            long long seed) {
  int changed = 0;
  std::optional<Model<float>> model;
  for (const auto& f : kFiles) {
    INFO(f);
    if (now.at(f) == before.at(f)) continue;
    ++changed;
    REQUIRE(now.at(f) != "(absent)");
    const auto path = w.out / f;
    if (f == "run.jsonl") RequireCompleteLog(now.at(f), seed);
    if (f == "model.dspm") model = LoadModel<float>(path);
    if (f == "spectrum.svg") {
      const auto& t = now.at(f);
      REQUIRE(t.rfind("<?xml", 0) == 0);
      REQUIRE(t.find("<svg") != std::string::npos);
      REQUIRE(t.size() > 7);
      REQUIRE(t.substr(t.size() - 7) == "</svg>\n");
    }
    if (f == "recs.csv") {
      const auto& t = now.at(f);
      REQUIRE(t.rfind("user,item,rank,score\n", 0) == 0);
      REQUIRE(t.back() == '\n');
      const auto rows = std::count(t.begin(), t.end(), '\n') - 1;
      const auto users = ReadNpy<float>(w.out / "npy" / "user.npy").rows();
      REQUIRE(rows == users * kK);
    }
  }
  const bool user_changed = now.at("npy/user.npy") != before.at("npy/user.npy");
  const bool item_changed = now.at("npy/item.npy") != before.at("npy/item.npy");
  INFO("user.npy changed: " << user_changed << ", item.npy changed: " << item_changed);
  REQUIRE(user_changed == item_changed);  // never a mixed pair
  if (user_changed) {
    const auto U = ReadNpy<float>(w.out / "npy" / "user.npy");
    const auto I = ReadNpy<float>(w.out / "npy" / "item.npy");
    REQUIRE(U.cols() == kDim);
    REQUIRE(I.cols() == kDim);
    if (model) {
      REQUIRE(model->users == U);
      REQUIRE(model->items == I);
    }
  }
  return changed;
}

// No temporary in `dir` belongs to a live process.
void RequireNoLiveTemps(const fs::path& dir) {
  for (const auto& t : TempEntries(dir)) {
    const auto name = fs::path(t).filename().string();
    const auto dot = name.find(".tmp-");
    REQUIRE(dot != std::string::npos);
    const pid_t pid = TempOwner(name, name.substr(1, dot - 1));
    INFO(t);
    REQUIRE(pid > 0);
    REQUIRE(::kill(pid, 0) != 0);
  }
}

// Waits (up to 60 s) until the run's log temporary holds its first line.
void WaitForLogLine(const Work& w) {
  for (int k = 0; k < 6000; ++k) {
    for (const auto& t : TempEntries(w.out)) {
      std::error_code ec;
      if (t.find(".run.jsonl.tmp-") != std::string::npos && fs::file_size(t, ec) > 0 && !ec) return;
    }
    SleepFor(0.01);
  }
  FAIL("the run wrote no log line within 60 s");
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

TEST_CASE("a failed run keeps the previous --json and its own log as .partial", "[cli]") {
  Work w;
  REQUIRE(Run(w, Args({"--seed", "1", "--eval-every", "1"})).code == 0);
  const auto before = Take(w);
  RequireCompleteLog(before.at("run.jsonl"), 1);

  SECTION("an output that cannot be written at the end of the run") {
    // 8 KiB: the log fits, the 100 KB model does not.
    const auto status = Run(w, Args({"--seed", "2", "--eval-every", "1", "--epochs", "2"}), 8192);
    INFO(w.Stderr());
    CHECK(status.exited);
    CHECK(status.code == 1);
    CHECK_THAT(w.Stderr(),
               Catch::Contains("model.dspm: write failed after 8192 bytes (File too large)") &&
                   Catch::Contains("the log of the failed run is in run.jsonl.partial"));
    CHECK(Take(w) == before);
    const auto partial = ReadText(w.out / "run.jsonl.partial");
    RequireCompleteLog(partial, 2);  // whole lines, up to the final one, of the failed run
  }
  SECTION("a run that diverges in its first epoch") {
    const auto status = Run(w, Args({"--seed", "2", "--lr", "1e30", "--no-normalize"}));
    INFO(w.Stderr());
    CHECK(status.code == 1);
    CHECK_THAT(w.Stderr(), Catch::Contains("learning rate"));
    CHECK(Take(w) == before);
    CHECK_FALSE(fs::exists(w.out / "run.jsonl.partial"));  // it had written no line
  }
  SECTION("a run killed with SIGKILL in the middle of training") {
    const pid_t pid = Start(w, Args({"--seed", "3", "--eval-every", "1", "--epochs", "400"}));
    WaitForLogLine(w);
    ::kill(pid, SIGKILL);
    CHECK(Wait(pid).signal == SIGKILL);
    CHECK(Take(w) == before);
    RequireNoLiveTemps(w.out);
    CHECK_FALSE(TempEntries(w.out).empty());  // its log, until the next run removes it
    REQUIRE(Run(w, Args({"--seed", "4"})).code == 0);
    CHECK(TempEntries(w.out).empty());
  }
  CHECK(TempEntries(w.out).empty());
}

TEST_CASE("file-size limits end in a message and exit code 1, never in SIGXFSZ", "[cli]") {
  Work w;
  REQUIRE(Run(w, Args({"--seed", "1", "--eval-every", "1"})).code == 0);
  const auto before = Take(w);
  struct Case {
    const char* name;
    long long limit;
    std::vector<std::string> args;
    const char* message;
  };
  const Case cases[] = {
      {"ulimit -f 64 with --recommend-out",
       64 * 1024,
       {"--recommend-out", "recs.csv", "--k", "5"},
       "recs.csv: write failed after 65536 bytes (File too large)"},
      {"ulimit -f 1 with --json",
       1024,
       {"--json", "run.jsonl", "--eval-every", "1", "--epochs", "3"},
       "run.jsonl: write failed after"},
      {"a limit under the model's size",
       16 * 1024,
       {"--save-model", "model.dspm"},
       "model.dspm: write failed after 16384 bytes (File too large)"},
      {"a limit under user.npy's size",
       16 * 1024,
       {"--export-npy", "npy"},
       "npy/user.npy: write failed after 16384 bytes (File too large)"},
      {"a limit under the SVG's size",
       1024,
       {"--spectrum-svg", "spectrum.svg"},
       "spectrum.svg: write failed after 1024 bytes (File too large)"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto args = Args({"--seed", "5"}, false);
    args.insert(args.end(), c.args.begin(), c.args.end());
    const auto status = Run(w, args, c.limit);
    INFO(w.Stderr());
    CHECK(status.exited);  // not ended by SIGXFSZ
    CHECK(status.code == 1);
    CHECK_THAT(w.Stderr(), Catch::Contains(c.message) && Catch::Contains("File too large") &&
                               Catch::Contains("unchanged"));
    CHECK(Take(w) == before);
    CHECK(TempEntries(w.out).empty());
    fs::remove(w.out / "run.jsonl.partial");
  }
}

TEST_CASE("two concurrent runs on the same paths each leave valid outputs, and the last one wins",
          "[cli]") {
  // Reference outputs of each seed, run alone (training with one thread is deterministic).
  Work a, b, both;
  const pid_t pa = Start(a, Args({"--seed", "7"}));
  const pid_t pb = Start(b, Args({"--seed", "8"}));
  REQUIRE(Wait(pa).code == 0);
  REQUIRE(Wait(pb).code == 0);
  const auto ra = Take(a), rb = Take(b);
  REQUIRE(ra.at("model.dspm") != rb.at("model.dspm"));

  for (int round = 0; round < 3; ++round) {
    const pid_t p1 = Start(both, Args({"--seed", "7"}));
    const pid_t p2 = Start(both, Args({"--seed", "8"}));
    CHECK(Wait(p1).code == 0);
    CHECK(Wait(p2).code == 0);
    const auto now = Take(both);
    for (const auto& f : kFiles) {
      INFO(f);
      if (f == "run.jsonl") {  // timings differ: complete, and one of the two runs
        const bool seven = now.at(f).find("\"seed\":7,") != std::string::npos;
        RequireCompleteLog(now.at(f), seven ? 7 : 8);
      } else {
        CHECK((now.at(f) == ra.at(f) || now.at(f) == rb.at(f)));
      }
    }
    // The pair comes from one run.
    CHECK(((now.at("npy/user.npy") == ra.at("npy/user.npy") &&
            now.at("npy/item.npy") == ra.at("npy/item.npy")) ||
           (now.at("npy/user.npy") == rb.at("npy/user.npy") &&
            now.at("npy/item.npy") == rb.at("npy/item.npy"))));
    CHECK(TempEntries(both.out).empty());
  }
}

TEST_CASE("unusable output paths are refused before training, with the reason and exit code 2",
          "[cli]") {
  Work w;
  fs::create_directory(w.out / "taken");
  std::ofstream(w.out / "taken" / "notes.txt") << "mine";
  REQUIRE(::mkfifo((w.out / "fifo").c_str(), 0644) == 0);
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{"--json", "missing/run.jsonl"},
       "bad value for --json: missing/run.jsonl: directory 'missing' does not exist (No such file "
       "or directory)"},
      {{"--recommend-out", "missing/recs.csv"},
       "bad value for --recommend-out: missing/recs.csv: directory 'missing' does not exist"},
      {{"--spectrum-svg", "taken"}, "bad value for --spectrum-svg: taken: is a directory"},
      {{"--save-model", "."}, "bad value for --save-model: .: names a directory, not a file"},
      {{"--save-model", "taken/notes.txt/model.dspm"},
       "'taken/notes.txt' is a regular file, not a directory"},
      {{"--json", "fifo"}, "bad value for --json: fifo: is a FIFO"},
      {{"--export-npy", "taken"},
       "bad value for --export-npy: taken: holds other entries (notes.txt)"},
      {{"--export-npy", "."}, "must be a directory of its own"},
      {{"--json", "same.txt", "--recommend-out", "same.txt"},
       "bad value for --recommend-out: 'same.txt' is also the path of --json"},
  };
  for (const auto& c : cases) {
    auto args = Args({"--epochs", "100000"}, false);  // a run that would train for hours
    args.insert(args.end(), c.args.begin(), c.args.end());
    const auto start = std::chrono::steady_clock::now();
    const auto status = Run(w, args);
    INFO(c.message << "\n" << w.Stderr());
    CHECK(status.code == 2);
    CHECK_THAT(w.Stderr(), Catch::Contains(c.message));
    CHECK(Seconds(start) < (kSanitized ? 60 : 10));
  }
  // Nothing was created, probed files included.
  std::vector<std::string> entries;
  for (const auto& e : fs::recursive_directory_iterator(w.out))
    entries.push_back(e.path().string());
  CHECK(entries.size() == 3);  // taken, taken/notes.txt, fifo
}

TEST_CASE("SIGINT and SIGTERM: outputs unchanged, no temporary left, the log kept as .partial",
          "[cli]") {
  const int sig = GENERATE(SIGINT, SIGTERM);
  Work w;
  REQUIRE(Run(w, Args({"--seed", "1"})).code == 0);
  const auto before = Take(w);
  const pid_t pid = Start(w, Args({"--seed", "2", "--eval-every", "1", "--epochs", "400"}));
  WaitForLogLine(w);
  ::kill(pid, sig);
  const auto status = Wait(pid);
  INFO(w.Stderr());
  CHECK(status.signal == sig);
  CHECK_THAT(w.Stderr(), Catch::Contains(std::string("directspec-train: interrupted by ") +
                                         (sig == SIGINT ? "SIGINT" : "SIGTERM")));
  CHECK(Take(w) == before);
  CHECK(TempEntries(w.out).empty());
  const auto partial = ReadText(w.out / "run.jsonl.partial");
  CHECK(partial.rfind("{\"epoch\":1,", 0) == 0);
  CHECK(partial.back() == '\n');
}

TEST_CASE("50 SIGKILLs at random moments: every output intact or complete, no temporary left",
          "[cli][kill]") {
  Work w;
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(Run(w, Args({"--seed", "0"})).code == 0);
  const double full = Seconds(start);  // one whole run, writing every output
  // Sanitizer builds run ~10x slower: fewer rounds; any build stops adding rounds after 40 s.
  const int rounds = kSanitized ? 10 : 50;
  const double budget = kSanitized ? 200 : 40;
  std::mt19937_64 rng(20240601);
  std::uniform_real_distribution<double> anywhere(0.0, 1.1), near_end(0.7, 1.05);
  auto snapshot = Take(w);
  int done = 0, killed_running = 0, some_changed = 0, partly_changed = 0;
  for (int round = 0; round < rounds && Seconds(start) < budget; ++round, ++done) {
    INFO("round " << round);
    const long long seed = 100 + round;
    const pid_t pid = Start(w, Args({"--seed", std::to_string(seed)}));
    // Half the kills anywhere in the run, half near its end, where the outputs are written.
    SleepFor(full * (round % 2 ? near_end(rng) : anywhere(rng)));
    killed_running += ::kill(pid, SIGKILL) == 0 && ::waitpid(pid, nullptr, WNOHANG) == 0;
    Wait(pid);
    const auto now = Take(w);
    const int changed = RequireIntactOrComplete(w, snapshot, now, seed);
    some_changed += changed > 0;
    partly_changed += changed > 0 && changed < static_cast<int>(kFiles.size());
    RequireNoLiveTemps(w.out);
    REQUIRE_FALSE(fs::exists(w.out / "run.jsonl.partial"));
    snapshot = now;
  }
  // One more complete run removes whatever the killed runs left.
  REQUIRE(Run(w, Args({"--seed", "999"})).code == 0);
  RequireIntactOrComplete(w, snapshot, Take(w), 999);
  CHECK(TempEntries(w.out).empty());
  INFO(done << " rounds in " << Seconds(start) << " s (one run " << full
            << " s): " << killed_running << " killed while running, " << some_changed
            << " changed some output, " << partly_changed << " changed some but not all");
  CHECK(done >= (kSanitized ? 5 : 25));
  CHECK(killed_running > 0);
  WARN(done << " rounds in " << Seconds(start) << " s; " << killed_running
            << " killed while running, " << partly_changed
            << " left old and new outputs side by side");
}
