// directspec-recommend end to end: a model trained with string ids (directspec-train --ids remap
// --save-model) is served in those ids, seen items excluded from the sets in the model file, the
// same lists as --recommend-out; unknown ids, models without seen sets and bad flags fail clearly
// (tests/examples.cmake passes the programs' paths).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "directspec/core/rng.hpp"
#include "support/child_process.hpp"

using namespace directspec;
using namespace directspec::test;
namespace fs = std::filesystem;

namespace {

struct Work {
  fs::path root;
  Work() {
    root = fs::temp_directory_path() / ("directspec-serve-" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root);
  }
  ~Work() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  ChildStatus Run(const std::string& program, std::vector<std::string> args) const {
    args.insert(args.begin(), program);
    ChildSetup setup;
    setup.stdout_path = (root / "stdout.txt").string();
    setup.stderr_path = (root / "stderr.txt").string();
    setup.env = {"OMP_NUM_THREADS=1", "OMP_WAIT_POLICY=passive"};
    return Wait(StartProgram(args, root.string(), setup));
  }
  std::string Out() const { return ReadText(root / "stdout.txt"); }
  std::string Err() const { return ReadText(root / "stderr.txt"); }
};

std::vector<std::vector<std::string>> Rows(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  std::stringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream cs(line);
    for (std::string c; std::getline(cs, c, ',');) cells.push_back(c);
    rows.push_back(cells);
  }
  return rows;
}

}  // namespace

TEST_CASE("directspec-recommend serves a saved model in its raw ids", "[serving][program]") {
  Work w;
  // 30 users "u<k>" x 20 items "song-<k>", 6 items each; a test file the trainer needs.
  std::string train = "user,item\n";
  std::set<std::pair<int, int>> seen;
  auto engine = MakeStream(4);
  for (int u = 0; u < 30; ++u)
    for (int n = 0; n < 6; ++n) {
      const int i = static_cast<int>((u + UniformIndex(engine, 10)) % 20);
      seen.insert({u, i});
      train += "u" + std::to_string(u) + ",song-" + std::to_string(i) + "\n";
    }
  std::ofstream(w.root / "train.csv") << train;
  std::ofstream(w.root / "test.csv") << "user,item\nu0,song-19\nu1,song-18\n";
  REQUIRE(w.Run(DIRECTSPEC_CLI, {"--data", w.root.string(), "--ids", "remap", "--epochs", "2",
                                 "--dim", "8", "--quiet", "--threads", "1", "--save-model",
                                 "m.dspm", "--recommend-out", "train-recs.csv", "--k", "4"})
              .code == 0);
  // Every user, to a file: the same lists as --recommend-out.
  REQUIRE(w.Run(DIRECTSPEC_RECOMMEND,
                {"--model", "m.dspm", "--users", "all", "--k", "4", "--out", "all.csv"})
              .code == 0);
  CHECK(ReadText(w.root / "all.csv") == ReadText(w.root / "train-recs.csv"));
  // Some users from a file (comments, blanks, CRLF), to standard output.
  std::ofstream(w.root / "users.txt") << "# who\nu3\r\n\nu17\n";
  REQUIRE(
      w.Run(DIRECTSPEC_RECOMMEND, {"--model", "m.dspm", "--users", "users.txt", "--k", "4"}).code ==
      0);
  const auto rows = Rows(w.Out());
  REQUIRE(rows.size() == 8);
  for (const auto& r : rows) {
    REQUIRE(r.size() == 4);
    CHECK((r[0] == "u3" || r[0] == "u17"));
    CHECK(r[1].rfind("song-", 0) == 0);
    const int u = std::stoi(r[0].substr(1)), i = std::stoi(r[1].substr(5));
    CHECK_FALSE(seen.count({u, i}));  // seen items excluded without the training file
  }
  // Unknown ids: an error naming file and line, or skipped when asked.
  std::ofstream(w.root / "some.txt") << "u1\nnobody\n";
  CHECK(
      w.Run(DIRECTSPEC_RECOMMEND, {"--model", "m.dspm", "--users", "some.txt", "--k", "2"}).code ==
      1);
  CHECK(w.Err().find("some.txt:2: unknown user id 'nobody' (the model knows 30 users") !=
        std::string::npos);
  REQUIRE(w.Run(DIRECTSPEC_RECOMMEND,
                {"--model", "m.dspm", "--users", "some.txt", "--k", "2", "--unknown", "skip"})
              .code == 0);
  CHECK(Rows(w.Out()).size() == 2);
  CHECK(w.Err().find("skipped 1 unknown user id of some.txt") != std::string::npos);
  // A model saved without seen sets cannot exclude them unless told to include them.
  REQUIRE(w.Run(DIRECTSPEC_CLI,
                {"--data", w.root.string(), "--ids", "remap", "--epochs", "1", "--dim", "8",
                 "--quiet", "--threads", "1", "--save-model", "bare.dspm", "--no-save-seen"})
              .code == 0);
  CHECK(fs::file_size(w.root / "bare.dspm") < fs::file_size(w.root / "m.dspm"));
  CHECK(w.Run(DIRECTSPEC_RECOMMEND, {"--model", "bare.dspm", "--users", "all", "--k", "2"}).code ==
        1);
  CHECK(w.Err().find("carries no seen sets") != std::string::npos);
  REQUIRE(w.Run(DIRECTSPEC_RECOMMEND,
                {"--model", "bare.dspm", "--users", "all", "--k", "2", "--include-seen"})
              .code == 0);
  CHECK(Rows(w.Out()).size() == 60);
  // Usage errors exit 2; a broken model file exits 1 naming it.
  CHECK(w.Run(DIRECTSPEC_RECOMMEND, {"--model", "m.dspm", "--users", "all"}).code == 2);
  CHECK(w.Err().find("--k K is required") != std::string::npos);
  std::ofstream(w.root / "junk.dspm") << "not a model";
  CHECK(w.Run(DIRECTSPEC_RECOMMEND, {"--model", "junk.dspm", "--users", "all", "--k", "2"}).code ==
        1);
  CHECK(w.Err().find("junk.dspm") != std::string::npos);
}
