// io/ atomic writes under failure: write errors with the OS's reason (injected ENOSPC, a real
// `ulimit -f` through RLIMIT_FSIZE), writers killed with SIGKILL at every stage (forked children),
// SIGINT / SIGTERM with the cleanup handler, stale temporaries of dead writers, concurrent writers
// of one path, the .npy pair swapped as one directory, and the output-path checks run before work.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "directspec/io.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace directspec;
using namespace directspec::test;
namespace fs = std::filesystem;
using directspec::testing::TempDir;

namespace {

std::string Bytes(std::size_t n, char c) { return std::string(n, c); }

void Write(const fs::path& p, const std::string& text) {
  AtomicWriteFile(p, std::string_view(text));
}

std::string MessageOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const IoError& e) {
    return e.what();
  }
  return "(no IoError)";
}

// A write(2) stand-in that lets `budget` bytes through, then fails with `err`.
std::function<long(int, const void*, std::size_t)> FailAfter(std::size_t budget, int err) {
  auto left = std::make_shared<std::size_t>(budget);
  return [left, err](int fd, const void* data, std::size_t size) -> long {
    if (*left == 0) {
      errno = err;
      return -1;
    }
    const std::size_t n = std::min(size, *left);
    *left -= n;
    return static_cast<long>(::write(fd, data, n));
  };
}

// A write(2) stand-in that kills the process (SIGKILL, nothing runs after) after `budget` bytes.
std::function<long(int, const void*, std::size_t)> KillAfter(std::size_t budget) {
  auto left = std::make_shared<std::size_t>(budget);
  return [left](int fd, const void* data, std::size_t size) -> long {
    if (*left == 0) ::raise(SIGKILL);
    const std::size_t n = std::min(size, *left);
    *left -= n;
    return static_cast<long>(::write(fd, data, n));
  };
}

RowMatrix<float> Filled(Index rows, Index cols, float value) {
  return RowMatrix<float>::Constant(rows, cols, value);
}

// The generation stored in an exported pair, or -1 when the pair is absent; fails the test when
// the two files disagree or do not parse.
float PairGeneration(const fs::path& dir) {
  if (!fs::exists(dir)) return -1;
  const auto U = ReadNpy<float>(dir / "user.npy");
  const auto I = ReadNpy<float>(dir / "item.npy");
  REQUIRE(U.rows() == 50);
  REQUIRE(I.rows() == 70);
  const float g = U(0, 0);
  REQUIRE((U.array() == g).all());
  INFO("user.npy holds generation " << g << ", item.npy " << I(0, 0));
  REQUIRE((I.array() == g).all());
  return g;
}

}  // namespace

TEST_CASE("AtomicFileWriter: the temporary sits next to the target and goes on every path",
          "[io][atomic]") {
  TempDir dir("atomic");
  const auto target = dir.path / "out.bin";
  const int live = TempRegistry::Live();
  {
    AtomicFileWriter w(target);
    CHECK(w.TempPath().parent_path() == dir.path);
    CHECK(TempOwner(w.TempPath().filename().string(), "out.bin") == ::getpid());
    CHECK(TempRegistry::Live() == live + 1);
    w.Write(std::string_view("abc"));
    CHECK(fs::exists(w.TempPath()));
  }  // destroyed without Commit
  CHECK_FALSE(fs::exists(target));
  CHECK(TempEntries(dir.path).empty());
  CHECK(TempRegistry::Live() == live);

  Write(target, "first");
  Write(target, "second");
  CHECK(ReadText(target) == "second");
  CHECK(TempEntries(dir.path).empty());
  CHECK(TempRegistry::Live() == live);

  // A replaced file keeps its permissions.
  fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  Write(target, "third");
  CHECK((fs::status(target).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));

  // A symbolic link is followed: the file it points to is replaced, the link stays.
  fs::create_symlink("out.bin", dir.path / "link.bin");
  Write(dir.path / "link.bin", "through the link");
  CHECK(fs::is_symlink(dir.path / "link.bin"));
  CHECK(ReadText(target) == "through the link");

  // Directories and FIFOs cannot be replaced by a file: refused before anything is written.
  fs::create_directory(dir.path / "sub");
  CHECK_THAT(MessageOf([&] { Write(dir.path / "sub", "x"); }),
             Catch::Contains("sub") && Catch::Contains("is a directory"));
  REQUIRE(::mkfifo((dir.path / "fifo").c_str(), 0644) == 0);
  CHECK_THAT(MessageOf([&] { Write(dir.path / "fifo", "x"); }), Catch::Contains("is a FIFO"));
  CHECK_THAT(MessageOf([&] { Write(dir.path / "missing" / "x", "x"); }),
             Catch::Contains("cannot create the temporary file") &&
                 Catch::Contains("No such file or directory"));
  CHECK(TempEntries(dir.path).empty());
}

TEST_CASE("write errors carry the OS's reason and leave the previous file", "[io][atomic]") {
  TempDir dir("atomic");
  const auto target = dir.path / "out.bin";
  Write(target, "previous");

  AtomicWriteOptions full;
  full.write = FailAfter(100, ENOSPC);
  CHECK_THAT(MessageOf([&] { AtomicWriteFile(target, std::string_view(Bytes(1000, 'x')), full); }),
             Catch::Contains("out.bin") && Catch::Contains("write failed after 100 bytes") &&
                 Catch::Contains("No space left on device") && Catch::Contains("unchanged"));
  CHECK(ReadText(target) == "previous");
  CHECK(TempEntries(dir.path).empty());

  SECTION("a real file-size limit (ulimit -f): EFBIG when SIGXFSZ is ignored") {
    const auto message = dir.path / "message.txt";
    ChildSetup limited;
    limited.file_size_limit = 64 * 1024;
    limited.ignore_sigxfsz = true;
    const auto status = RunChild(
        [&] {
          try {
            AtomicWriteFile(target, std::string_view(Bytes(200 * 1024, 'y')));
          } catch (const IoError& e) {
            Write(message, e.what());  // tiny: under the limit
            ::_exit(3);
          }
        },
        limited);
    INFO(status.Describe());
    CHECK(status.exited);
    CHECK(status.code == 3);
    CHECK_THAT(ReadText(message), Catch::Contains("out.bin") &&
                                      Catch::Contains("write failed after 65536 bytes") &&
                                      Catch::Contains("File too large"));
    CHECK(ReadText(target) == "previous");
    CHECK(TempEntries(dir.path).empty());
  }
  SECTION("the same limit without ignoring SIGXFSZ kills the writer; its temporary is stale") {
    ChildSetup limited;
    limited.file_size_limit = 64 * 1024;
    pid_t child = 0;
    const auto status = Wait(
        child = StartChild(
            [&] { AtomicWriteFile(target, std::string_view(Bytes(200 * 1024, 'y'))); }, limited));
    CHECK(status.signal == SIGXFSZ);
    CHECK(ReadText(target) == "previous");
    const auto temps = TempEntries(dir.path);
    REQUIRE(temps.size() == 1);
    CHECK(TempOwner(fs::path(temps[0]).filename().string(), "out.bin") == child);
    CHECK(RemoveStaleTemps(target) == 1);
    CHECK(TempEntries(dir.path).empty());
  }
}

TEST_CASE("keep_partial_as keeps the whole writes of an abandoned log", "[io][atomic]") {
  TempDir dir("atomic");
  const auto target = dir.path / "run.jsonl";
  const auto partial = dir.path / "run.jsonl.partial";
  Write(target, "old log\n");
  AtomicWriteOptions o;
  o.keep_partial_as = partial;

  SECTION("a write that fails midway is cut back to the last whole line") {
    auto budget = std::make_shared<std::size_t>(15);
    o.write = [budget](int fd, const void* data, std::size_t size) -> long {
      if (*budget == 0) {
        errno = EFBIG;
        return -1;
      }
      const std::size_t n = std::min(size, *budget);
      *budget -= n;
      return static_cast<long>(::write(fd, data, n));
    };
    AtomicFileWriter w(target, o);
    w.Write(std::string_view("{\"a\":1}\n"));  // 8 bytes
    w.Write(std::string_view("{\"b\"}\n"));    // 6 bytes; the next Write gets 1 byte through
    CHECK_THAT(MessageOf([&] { w.Write(std::string_view("{\"c\":3}\n")); }),
               Catch::Contains("File too large") && Catch::Contains("run.jsonl.partial"));
    CHECK(ReadText(partial) == "{\"a\":1}\n{\"b\"}\n");
    CHECK(ReadText(target) == "old log\n");
  }
  SECTION("an exception unwinding past the writer keeps what was written") {
    try {
      AtomicFileWriter w(target, o);
      w.Write(std::string_view("line 1\n"));
      throw std::runtime_error("training diverged");
    } catch (const std::runtime_error&) {
    }
    CHECK(ReadText(partial) == "line 1\n");
    CHECK(ReadText(target) == "old log\n");
  }
  SECTION("nothing written: nothing kept") {
    { AtomicFileWriter w(target, o); }
    CHECK_FALSE(fs::exists(partial));
  }
  CHECK(TempEntries(dir.path).empty());
}

TEST_CASE("a writer killed at any byte leaves the previous file and a stale temporary",
          "[io][atomic]") {
  TempDir dir("atomic");
  const auto target = dir.path / "model.dspm";
  const RowMatrix<float> U0 = Filled(40, 8, 1), I0 = Filled(30, 8, 1);
  SaveModel(target, U0, I0);
  const auto before = ReadFileBytes(target);
  const RowMatrix<float> U1 = Filled(40, 8, 2), I1 = Filled(30, 8, 2);
  const std::size_t size = SerializeModel(U1, I1).size();
  for (const std::size_t at : {std::size_t{0}, std::size_t{1}, std::size_t{47}, std::size_t{48},
                               size / 2, size - 4, size - 1, size}) {
    INFO("killed after " << at << " of " << size << " bytes");
    AtomicWriteOptions o;
    o.write = KillAfter(at);
    const pid_t child = StartChild([&] { SaveModel(target, U1, I1, {}, o); });
    const auto status = Wait(child);
    if (at < size) {
      CHECK(status.signal == SIGKILL);
      CHECK(ReadFileBytes(target) == before);
      const auto temps = TempEntries(dir.path);
      REQUIRE(temps.size() == 1);
      CHECK(TempOwner(fs::path(temps[0]).filename().string(), "model.dspm") == child);
      CHECK(RemoveStaleTemps(target) == 1);
    } else {  // the kill point is never reached: the save completes
      CHECK(status.exited);
      CHECK(LoadModel<float>(target).users == U1);
    }
    CHECK(TempEntries(dir.path).empty());
  }
}

TEST_CASE("stale temporaries: only those of dead, unlocked writers are removed", "[io][atomic]") {
  TempDir dir("atomic");
  const auto target = dir.path / "out.bin";
  // A PID that certainly belongs to no process: a child that has exited and been reaped.
  const pid_t dead = StartChild([] {});
  Wait(dead);
  const std::string d = std::to_string(dead);
  for (const auto& name : {"." + std::string("out.bin.tmp-") + d + "-0",          // stale: removed
                           ".out.bin.tmp-" + d + "-x",                            // not our pattern
                           ".other.bin.tmp-" + d + "-0",                          // another target
                           "out.bin.tmp-" + d + "-0",                             // no leading dot
                           ".out.bin.tmp-" + std::to_string(::getpid()) + "-7"})  // alive
    Write(dir.path / name, "x");
  fs::create_directory(dir.path / (".out.bin.tmp-" + d + "-1"));  // a stale directory
  Write(dir.path / (".out.bin.tmp-" + d + "-1") / "user.npy", "x");

  // A file named after a dead PID but locked by a live process (a recycled PID, another PID
  // namespace) is alive.
  const auto locked = dir.path / (".out.bin.tmp-" + d + "-2");
  Write(locked, "x");
  const int fd = ::open(locked.c_str(), O_RDONLY);
  REQUIRE(::flock(fd, LOCK_EX) == 0);
  const pid_t holder = StartChild([&] { ::pause(); });  // holds the lock too (inherited)
  ::close(fd);

  CHECK(RemoveStaleTemps(target) == 2);
  CHECK_FALSE(fs::exists(dir.path / (".out.bin.tmp-" + d + "-0")));
  CHECK_FALSE(fs::exists(dir.path / (".out.bin.tmp-" + d + "-1")));
  CHECK(fs::exists(locked));
  CHECK(fs::exists(dir.path / (".out.bin.tmp-" + d + "-x")));
  CHECK(fs::exists(dir.path / (".other.bin.tmp-" + d + "-0")));
  CHECK(fs::exists(dir.path / ("out.bin.tmp-" + d + "-0")));
  CHECK(fs::exists(dir.path / (".out.bin.tmp-" + std::to_string(::getpid()) + "-7")));

  ::kill(holder, SIGKILL);
  Wait(holder);
  CHECK(RemoveStaleTemps(target) == 1);  // the lock died with its holder
  CHECK_FALSE(fs::exists(locked));

  // A temporary of a live writer in another process is kept.
  int ready[2], release[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(release) == 0);
  const pid_t writer = StartChild([&] {
    ::close(release[1]);  // else the child's own copy keeps the pipe open forever
    ::close(ready[0]);
    AtomicFileWriter w(target);
    w.Write(std::string_view("partial"));
    char c = 1;
    if (::write(ready[1], &c, 1) != 1) return;
    if (::read(release[0], &c, 1) < 0) return;  // until the parent closes its end
    w.Commit();
  });
  ::close(ready[1]);
  ::close(release[0]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  CHECK(RemoveStaleTemps(target) == 0);
  ::close(release[1]);
  CHECK(Wait(writer).code == 0);
  ::close(ready[0]);
  CHECK(ReadText(target) == "partial");
}

TEST_CASE("SIGINT and SIGTERM: the cleanup handler removes temporaries and dies by the signal",
          "[io][atomic]") {
  const int sig = GENERATE(SIGINT, SIGTERM);
  INFO("signal " << sig);
  TempDir dir("atomic");
  Write(dir.path / "model.bin", "previous model");
  Write(dir.path / "run.jsonl", "previous log\n");
  const auto stderr_path = dir.path / "stderr.txt";
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  ChildSetup setup;
  setup.stderr_path = stderr_path.string();
  const pid_t child = StartChild(
      [&] {
        InstallSignalCleanup("writer");
        AtomicFileWriter model(dir.path / "model.bin");
        model.Write(std::string_view("half a model"));
        AtomicWriteOptions o;
        o.keep_partial_as = dir.path / "run.jsonl.partial";
        AtomicFileWriter log(dir.path / "run.jsonl", o);
        log.Write(std::string_view("{\"epoch\":1}\n"));
        AtomicDirectoryWriter npy(dir.path / "npy");
        npy.WriteFile("user.npy", std::span<const std::byte>());
        char c = 1;
        if (::write(ready[1], &c, 1) != 1) return;
        for (;;) ::pause();
      },
      setup);
  ::close(ready[1]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  ::close(ready[0]);
  ::kill(child, sig);
  const auto status = Wait(child);
  CHECK(status.signal == sig);
  CHECK(ReadText(dir.path / "model.bin") == "previous model");
  CHECK(ReadText(dir.path / "run.jsonl") == "previous log\n");
  CHECK(ReadText(dir.path / "run.jsonl.partial") == "{\"epoch\":1}\n");
  CHECK_FALSE(fs::exists(dir.path / "npy"));
  CHECK(TempEntries(dir.path).empty());
  CHECK_THAT(ReadText(stderr_path), Catch::Contains(std::string("writer: interrupted by ") +
                                                    (sig == SIGINT ? "SIGINT" : "SIGTERM")));
}

TEST_CASE("a forked child's signal leaves the parent's temporaries alone", "[io][atomic]") {
  TempDir dir("atomic");
  AtomicFileWriter w(dir.path / "out.bin");
  w.Write(std::string_view("parent's bytes"));
  ChildSetup quiet;
  quiet.stderr_path = (dir.path / "stderr.txt").string();
  const auto status = RunChild(
      [] {
        InstallSignalCleanup("child");
        ::raise(SIGTERM);
      },
      quiet);
  CHECK(status.signal == SIGTERM);
  CHECK(fs::exists(w.TempPath()));
  w.Commit();
  CHECK(ReadText(dir.path / "out.bin") == "parent's bytes");
}

TEST_CASE("concurrent writers of one path: every state is one complete file, the last wins",
          "[io][atomic]") {
  TempDir dir("atomic");
  const auto target = dir.path / "shared.bin";
  constexpr int kWriters = 4, kRounds = 40;
  constexpr std::size_t kSize = 64 * 1024;
  Write(target, Bytes(kSize, 'a'));
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w)
    children.push_back(StartChild([&, w] {
      for (int r = 0; r < kRounds; ++r) Write(target, Bytes(kSize, static_cast<char>('b' + w)));
    }));
  int reads = 0, bad = 0;
  bool running = true;
  while (running) {  // read while they write: never a mixture, never a short file
    const std::string s = ReadText(target);
    ++reads;
    bad += s.size() != kSize || s.find_first_not_of(s[0]) != std::string::npos;
    running = false;
    for (const pid_t p : children)
      running |= ::kill(p, 0) == 0 && ::waitpid(p, nullptr, WNOHANG) == 0;
  }
  for (const pid_t p : children) ::waitpid(p, nullptr, 0);
  INFO(reads << " reads during the writes");
  CHECK(bad == 0);
  const std::string last = ReadText(target);
  CHECK(last.size() == kSize);
  CHECK(last.find_first_not_of(last[0]) == std::string::npos);
  CHECK(TempEntries(dir.path).empty());
}

TEST_CASE("ExportNpy swaps user.npy and item.npy in as one directory", "[io][atomic]") {
  TempDir dir("atomic");
  const auto out = dir.path / "npy";
  ExportNpy(out, Filled(50, 4, 1), Filled(70, 4, 1));
  CHECK(PairGeneration(out) == 1);
  ExportNpy(out, Filled(50, 4, 2), Filled(70, 4, 2));
  CHECK(PairGeneration(out) == 2);
  CHECK(TempEntries(dir.path).empty());

  SECTION("a directory holding anything else is refused and left alone") {
    Write(out / "notes.txt", "mine");
    CHECK_THAT(MessageOf([&] { ExportNpy(out, Filled(50, 4, 3), Filled(70, 4, 3)); }),
               Catch::Contains("holds other entries (notes.txt)") && Catch::Contains("unchanged"));
    CHECK(PairGeneration(out) == 2);
    CHECK(ReadText(out / "notes.txt") == "mine");
  }
  SECTION("a failed write of the second file leaves the previous pair") {
    AtomicWriteOptions o;
    o.write = FailAfter(SerializeNpy(Filled(50, 4, 3)).size() + 10, ENOSPC);
    CHECK_THAT(MessageOf([&] { ExportNpy(out, Filled(50, 4, 3), Filled(70, 4, 3), o); }),
               Catch::Contains("item.npy") && Catch::Contains("No space left on device"));
    CHECK(PairGeneration(out) == 2);
  }
  SECTION("without RENAME_EXCHANGE (two renames)") {
    AtomicDirectoryWriter w(out, {}, false);
    w.WriteFile("user.npy", SerializeNpy(Filled(50, 4, 4)));
    w.WriteFile("item.npy", SerializeNpy(Filled(70, 4, 4)));
    w.Commit();
    CHECK(PairGeneration(out) == 4);
  }
  SECTION("a path that is a file is refused") {
    Write(dir.path / "file", "x");
    CHECK_THAT(MessageOf([&] { ExportNpy(dir.path / "file", Filled(1, 1, 1), Filled(1, 1, 1)); }),
               Catch::Contains("exists and is a regular file"));
  }
  CHECK(TempEntries(dir.path).empty());
}

TEST_CASE("an exporter killed at random moments never leaves a mixed pair", "[io][atomic]") {
  const bool exchange = GENERATE(true, false);
  INFO((exchange ? "RENAME_EXCHANGE" : "two renames"));
  TempDir dir("atomic");
  const auto out = dir.path / "npy";
  std::mt19937_64 rng(exchange ? 11 : 12);
  AtomicWriteOptions fast;  // fsync guards against power loss, not kills: off, for more rounds
  fast.sync = false;
  ExportNpy(out, Filled(50, 64, 0), Filled(70, 64, 0), fast);
  int generation = 0, changed = 0, absent = 0;
  for (int round = 0; round < 30; ++round) {
    const int first = generation + 1;
    const pid_t child = StartChild([&] {
      for (int g = first;; ++g) {
        AtomicDirectoryWriter w(out, fast, exchange);
        w.WriteFile("user.npy", SerializeNpy(Filled(50, 64, static_cast<float>(g))));
        w.WriteFile("item.npy", SerializeNpy(Filled(70, 64, static_cast<float>(g))));
        w.Commit();
      }
    });
    SleepFor(std::uniform_real_distribution<double>(0.0005, 0.03)(rng));
    ::kill(child, SIGKILL);
    CHECK(Wait(child).signal == SIGKILL);
    const float g = PairGeneration(out);  // fails on a mixed or broken pair
    changed += static_cast<int>(g) != generation;
    absent += g < 0;
    if (g >= 0) generation = static_cast<int>(g);
    if (exchange) CHECK(g >= 0);  // with the exchange the target never disappears once written
  }
  INFO(changed << " rounds changed the pair, " << absent << " left none");
  CHECK(changed > 0);
  RemoveStaleTemps(out);
  CHECK(TempEntries(dir.path).empty());
}

TEST_CASE("concurrent exporters of one directory: every pair read is one export's",
          "[io][atomic]") {
  const bool exchange = GENERATE(true, false);
  INFO((exchange ? "RENAME_EXCHANGE" : "two renames"));
  TempDir dir("atomic");
  const auto out = dir.path / "npy";
  AtomicWriteOptions fast;
  fast.sync = false;
  constexpr int kWriters = 3, kRounds = 30;
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w)
    children.push_back(StartChild([&, w] {
      for (int r = 0; r < kRounds; ++r) {
        const auto g = static_cast<float>(1000 * (w + 1) + r);
        AtomicDirectoryWriter x(out, fast, exchange);
        x.WriteFile("user.npy", SerializeNpy(Filled(50, 4, g)));
        x.WriteFile("item.npy", SerializeNpy(Filled(70, 4, g)));
        x.Commit();
      }
    }));
  int reads = 0;
  std::vector<int> codes(kWriters, -1);
  for (bool running = true; running;) {
    // Both files opened through one descriptor of the directory, so they come from the same
    // directory even while writers swap it (opening both by path could straddle two swaps). A
    // file may be gone when the directory was retired meanwhile: then try again.
    const int dfd = ::open(out.c_str(), O_RDONLY | O_DIRECTORY);
    const int ufd = dfd < 0 ? -1 : ::openat(dfd, "user.npy", O_RDONLY);
    const int ifd = dfd < 0 ? -1 : ::openat(dfd, "item.npy", O_RDONLY);
    if (ufd >= 0 && ifd >= 0) {
      const fs::path fds = "/proc/self/fd";
      const auto U = ReadNpy<float>(fds / std::to_string(ufd));
      const auto I = ReadNpy<float>(fds / std::to_string(ifd));
      INFO("user.npy holds " << U(0, 0) << ", item.npy " << I(0, 0));
      CHECK(U(0, 0) == I(0, 0));
      ++reads;
    }
    for (const int fd : {ufd, ifd, dfd})
      if (fd >= 0) ::close(fd);
    running = false;
    for (int k = 0; k < kWriters; ++k) {
      int status = 0;
      if (codes[k] >= 0) continue;
      if (::waitpid(children[k], &status, WNOHANG) == children[k])
        codes[k] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      else
        running = true;
    }
  }
  for (const int code : codes) CHECK(code == 0);  // no writer failed because of the others
  INFO(reads << " pairs read during the writes");
  CHECK(reads > 0);
  CHECK(PairGeneration(out) >= 1000);
  CHECK(TempEntries(dir.path).empty());
}

TEST_CASE("output paths are checked before any work, with the OS's reason", "[io][atomic]") {
  TempDir dir("atomic");
  auto file_problem = [](const fs::path& p) { return MessageOf([&] { CheckOutputFile(p); }); };
  auto dir_problem = [](const fs::path& p) {
    return MessageOf([&] { CheckOutputDirectory(p, NpyPairNames()); });
  };
  const auto live = TempRegistry::Live();

  CHECK(file_problem(dir.path / "new.json") == "(no IoError)");
  Write(dir.path / "old.json", "x");
  CHECK(file_problem(dir.path / "old.json") == "(no IoError)");
  CHECK_THAT(
      file_problem(dir.path / "missing" / "x.json"),
      Catch::Contains("directory '" + (dir.path / "missing").string() + "' does not exist") &&
          Catch::Contains("No such file or directory"));
  CHECK_THAT(file_problem(dir.path / "old.json" / "x.json"),
             Catch::Contains("is a regular file, not a directory"));
  CHECK_THAT(file_problem(dir.path), Catch::Contains("is a directory"));
  CHECK_THAT(file_problem(dir.path.string() + "/"), Catch::Contains("names a directory"));
  CHECK_THAT(file_problem("."), Catch::Contains("names a directory"));
  CHECK_THAT(file_problem(""), Catch::Contains("empty path"));
  REQUIRE(::mkfifo((dir.path / "fifo").c_str(), 0644) == 0);
  CHECK_THAT(file_problem(dir.path / "fifo"), Catch::Contains("is a FIFO"));
  CHECK_THAT(file_problem(dir.path / std::string(300, 'n')), Catch::Contains("File name too long"));
  fs::create_symlink("old.json", dir.path / "link.json");
  CHECK(file_problem(dir.path / "link.json") == "(no IoError)");
  CHECK(ResolveOutputPath(dir.path / "link.json") == dir.path / "old.json");
  if (::geteuid() != 0) {  // root writes anywhere: the permission check needs a normal user
    fs::create_directory(dir.path / "ro");
    fs::permissions(dir.path / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    CHECK_THAT(file_problem(dir.path / "ro" / "x.json"), Catch::Contains("Permission denied"));
    fs::permissions(dir.path / "ro", fs::perms::owner_all);
  }

  CHECK(dir_problem(dir.path / "npy") == "(no IoError)");
  fs::create_directory(dir.path / "npy");
  Write(dir.path / "npy" / "user.npy", "x");
  CHECK(dir_problem(dir.path / "npy/") == "(no IoError)");
  Write(dir.path / "npy" / "other.txt", "x");
  CHECK_THAT(dir_problem(dir.path / "npy"), Catch::Contains("holds other entries (other.txt)"));
  CHECK_THAT(dir_problem("."), Catch::Contains("directory of its own"));
  CHECK_THAT(dir_problem(".."), Catch::Contains("directory of its own"));
  CHECK_THAT(dir_problem("/"), Catch::Contains("directory of its own"));
  CHECK_THAT(dir_problem(fs::current_path()), Catch::Contains("is the working directory"));
  CHECK_THAT(dir_problem(dir.path / "old.json"), Catch::Contains("exists and is a regular file"));
  CHECK_THAT(dir_problem(dir.path / "missing" / "npy"), Catch::Contains("does not exist"));

  // The probes leave nothing behind.
  CHECK(TempEntries(dir.path).empty());
  CHECK(TempRegistry::Live() == live);
}
