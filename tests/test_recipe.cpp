// The reference recipe against the PyTorch peer (bench/peer/torch_directspec.py): one CiteULike
// epoch of MF + DirectSpec+ (lr 180, α 1, τ 3, shrink 0.03, B 256, d 64, float) from the same
// initial tables and the same 648 batches must give the same mean loss to 1e-4 relative.
//
// The peer's answer is committed (tests/fixtures/peer_citeulike_mf_epoch1.json), so "[recipe]"
// runs without torch. How the fixture is made:
//   1. build/tests/test_recipe "[.generate]"   writes the initial tables and every batch of the
//      epoch (as .npy) plus their checksums to $DIRECTSPEC_PEER_DIR (default
//      /tmp/directspec_peer);
//   2. /usr/bin/python3 tests/fixtures/peer_one_epoch.py /tmp/directspec_peer
//      > tests/fixtures/peer_citeulike_mf_epoch1.json   runs the peer's Model.step on them.
// The test recomputes the checksums, so a change of initialisation or sampling that makes the
// fixture stale fails with a message saying so instead of a puzzling loss difference.
// $DIRECTSPEC_PEER_FIXTURE replaces the committed fixture: the ctest entry peer:citeulike_mf_epoch
// (tests/peer.cmake, skipped when python3-torch is not installed) runs steps 1 and 2 into the
// build tree and then "[recipe]" against that fresh output, i.e. against the peer as it is.
// "[.replay]" (also by hand) writes a whole 300-epoch run's tables and batches for
// scripts/reproduce/peer_replay.py, the long-run version of the same comparison
// (docs/reproduction.md, section 1).
// Every case here needs datasets/citeulike, which ships in the repository: without it they fail
// and name the missing path.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "directspec/data/dataset.hpp"
#include "directspec/train.hpp"

using namespace directspec;

namespace {

constexpr std::uint64_t kSeed = 2024;

// The peer's numbers: $DIRECTSPEC_PEER_FIXTURE when set (a fresh peer run), else the committed
// fixture.
std::string FixturePath() {
  const char* env = std::getenv("DIRECTSPEC_PEER_FIXTURE");
  return env && *env ? env : DIRECTSPEC_FIXTURE_DIR "/peer_citeulike_mf_epoch1.json";
}

std::filesystem::path CiteULike() {
  return std::filesystem::path(DIRECTSPEC_DATASETS_DIR) / "citeulike";
}

// The in-repository CiteULike split, or a failed test naming the missing file.
Dataset LoadCiteULike() {
  const std::filesystem::path train = CiteULike() / "train.csv";
  if (!std::filesystem::exists(train))
    FAIL(train.string() << " is missing: the data sets ship in the repository (datasets/)");
  return LoadDataset(CiteULike());
}

// Records every batch of the run (users, positives).
struct BatchRecorder {
  std::vector<std::vector<Id>> users, items;
  template <class T>
  void OnStepEnd(T& trainer, const TrainingState&) {
    users.push_back(trainer.LastBatch().users);
    items.push_back(trainer.LastBatch().positives);
  }
};

// Order-dependent checksums, recomputed identically at generation and at test time.
template <class S>
std::uint64_t TableChecksum(const RowMatrix<S>& t) {
  std::uint64_t h = 1469598103934665603ull;
  for (Index k = 0; k < t.size(); ++k) {
    const auto v = static_cast<double>(t.data()[k]);
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    h = (h ^ bits) * 1099511628211ull;
  }
  return h;
}

// Statistics of the epoch's update E_end - E_0 of a table: its squared norm and a linear probe
// sum_k delta_k cos(k) over the row-major entries (sensitive to direction, not only size).
struct DeltaStats {
  double squared = 0, probe = 0;
};
template <class S>
DeltaStats Delta(const RowMatrix<S>& start, const RowMatrix<S>& end) {
  DeltaStats d;
  for (Index k = 0; k < start.size(); ++k) {
    const double delta = static_cast<double>(end.data()[k]) - static_cast<double>(start.data()[k]);
    d.squared += delta * delta;
    d.probe += delta * std::cos(static_cast<double>(k));
  }
  return d;
}
std::uint64_t BatchChecksum(const BatchRecorder& r) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t s = 0; s < r.users.size(); ++s)
    for (std::size_t b = 0; b < r.users[s].size(); ++b) {
      h = (h ^ static_cast<std::uint64_t>(r.users[s][b])) * 1099511628211ull;
      h = (h ^ static_cast<std::uint64_t>(r.items[s][b])) * 1099511628211ull;
    }
  return h;
}

template <class S>
struct Run {
  RowMatrix<S> user0, item0;  // initial tables
  BatchRecorder batches;
  std::vector<double> step_losses;
  double mean_loss = 0;
  DeltaStats user_delta, item_delta;
};

template <class S>
Run<S> RunOneEpoch(const Dataset& data) {
  auto recipe = ReferenceRecipe(ReferenceDataset::kCiteULike, ReferenceModel::kMF);
  recipe.epochs = 1;
  recipe.seed = kSeed;
  recipe.threads = 1;
  auto trainer = MakeDirectSpecPlusMF<S>(recipe);
  trainer.Initialize(data.train);
  Run<S> run;
  run.user0 = trainer.Encoder().UserTable();
  run.item0 = trainer.Encoder().ItemTable();
  LossLog log(true);
  trainer.Train(data.train, run.batches, log);  // re-initialises to the same tables
  run.step_losses = log.StepLosses();
  run.mean_loss = log.EpochLosses().at(0);
  run.user_delta = Delta(run.user0, trainer.Encoder().UserTable());
  run.item_delta = Delta(run.item0, trainer.Encoder().ItemTable());
  return run;
}

void WriteNpy(const std::filesystem::path& path, const char* descr, const std::string& shape,
              const void* data, std::size_t bytes) {
  std::string header =
      std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + shape + "), }";
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const auto length = static_cast<std::uint16_t>(header.size());
  const char le[2] = {static_cast<char>(length & 0xff), static_cast<char>(length >> 8)};
  out.write(le, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The value of "key": <number or "string"> in the flat fixture JSON.
std::string JsonField(const std::string& json, const std::string& key) {
  const std::regex re("\"" + key + "\"\\s*:\\s*\"?([^,\"}\\]]+)\"?");
  std::smatch m;
  if (!std::regex_search(json, m, re)) throw std::runtime_error("fixture lacks \"" + key + "\"");
  return m[1].str();
}

std::vector<double> JsonArray(const std::string& json, const std::string& key) {
  const auto start = json.find("\"" + key + "\"");
  if (start == std::string::npos) throw std::runtime_error("fixture lacks \"" + key + "\"");
  const auto open = json.find('[', start), close = json.find(']', open);
  std::vector<double> values;
  std::stringstream s(json.substr(open + 1, close - open - 1));
  for (std::string item; std::getline(s, item, ',');) values.push_back(std::stod(item));
  return values;
}

// Where the hand-run cases write for the peer: $DIRECTSPEC_PEER_DIR, else /tmp/directspec_peer.
std::filesystem::path PeerDir() {
  const char* env = std::getenv("DIRECTSPEC_PEER_DIR");
  return env ? env : "/tmp/directspec_peer";
}

template <class S>
void WriteTableNpy(const std::filesystem::path& path, const RowMatrix<S>& table) {
  WriteNpy(path, sizeof(S) == 4 ? "<f4" : "<f8",
           std::to_string(table.rows()) + ", " + std::to_string(table.cols()), table.data(),
           sizeof(S) * static_cast<std::size_t>(table.size()));
}

template <class S>
void WriteRun(const std::filesystem::path& dir, const char* prefix, const Run<S>& run,
              std::ostream& meta) {
  const std::string p(prefix);
  WriteTableNpy(dir / (p + "_user_table.npy"), run.user0);
  WriteTableNpy(dir / (p + "_item_table.npy"), run.item0);
  meta << "\"" << p << "_user_table_checksum\": \"" << TableChecksum(run.user0) << "\", \"" << p
       << "_item_table_checksum\": \"" << TableChecksum(run.item0) << "\", \"" << p
       << "_cpp_mean_loss\": " << run.mean_loss << ", ";
}

}  // namespace

TEST_CASE("Write the initial tables and batches for the peer (run by hand)", "[.generate]") {
  const Dataset data = LoadCiteULike();
  const Run<float> f4 = RunOneEpoch<float>(data);
  const Run<double> f8 = RunOneEpoch<double>(data);
  REQUIRE(BatchChecksum(f4.batches) == BatchChecksum(f8.batches));  // sampling ignores Scalar
  const std::filesystem::path dir = PeerDir();
  std::filesystem::create_directories(dir);
  std::ofstream meta(dir / "meta.json");
  meta << std::setprecision(17) << "{\"dataset\": \"" << CiteULike().string()
       << "\", \"seed\": " << kSeed << ", \"lr\": 180, \"alpha\": 1.0, \"tau\": 3.0, "
       << "\"shrink\": 0.03, ";
  WriteRun(dir, "f4", f4, meta);
  WriteRun(dir, "f8", f8, meta);
  const std::size_t steps = f4.batches.users.size(), B = f4.batches.users.front().size();
  std::vector<std::int64_t> batches;
  for (std::size_t s = 0; s < steps; ++s) {
    for (Id u : f4.batches.users[s]) batches.push_back(u);
    for (Id i : f4.batches.items[s]) batches.push_back(i);
  }
  WriteNpy(dir / "batches.npy", "<i8", std::to_string(steps) + ", 2, " + std::to_string(B),
           batches.data(), sizeof(std::int64_t) * batches.size());
  meta << "\"batch\": " << B << ", \"dim\": " << f4.user0.cols() << ", \"steps\": " << steps
       << ", \"batch_checksum\": \"" << BatchChecksum(f4.batches) << "\"}\n";
  WARN("wrote " << dir.string() << "; now run tests/fixtures/peer_one_epoch.py on it");
}

TEST_CASE("Write the initial tables and a whole run's batches for a peer replay (run by hand)",
          "[.replay]") {
  // scripts/reproduce/peer_replay.py: the peer trains from these instead of its own streams,
  // so a long run of the two differs only in arithmetic. Epochs from DIRECTSPEC_REPLAY_EPOCHS
  // (default: the preset's 300); ids as int32 to halve the file (about 400 MB for 300 epochs).
  const Dataset data = LoadCiteULike();
  auto recipe = ReferenceRecipe(ReferenceDataset::kCiteULike, ReferenceModel::kMF);
  if (const char* epochs = std::getenv("DIRECTSPEC_REPLAY_EPOCHS"))
    recipe.epochs = std::stoi(epochs);
  recipe.seed = kSeed;
  recipe.threads = 1;
  auto trainer = MakeDirectSpecPlusMF<float>(recipe);
  trainer.Initialize(data.train);
  const RowMatrix<float> user0 = trainer.Encoder().UserTable();
  const RowMatrix<float> item0 = trainer.Encoder().ItemTable();
  BatchRecorder batches;
  trainer.Train(data.train, batches);
  const std::filesystem::path dir = PeerDir();
  std::filesystem::create_directories(dir);
  WriteTableNpy(dir / "replay_user_table.npy", user0);
  WriteTableNpy(dir / "replay_item_table.npy", item0);
  const std::size_t steps = batches.users.size(), B = batches.users.front().size();
  std::vector<std::int32_t> ids;
  ids.reserve(2 * steps * B);
  for (std::size_t s = 0; s < steps; ++s) {
    for (Id u : batches.users[s]) ids.push_back(static_cast<std::int32_t>(u));
    for (Id i : batches.items[s]) ids.push_back(static_cast<std::int32_t>(i));
  }
  WriteNpy(dir / "replay_batches.npy", "<i4", std::to_string(steps) + ", 2, " + std::to_string(B),
           ids.data(), sizeof(std::int32_t) * ids.size());
  std::ofstream meta(dir / "replay_meta.json");
  meta << std::setprecision(17) << "{\"dataset\": \"" << CiteULike().string()
       << "\", \"seed\": " << kSeed << ", \"epochs\": " << recipe.epochs
       << ", \"steps_per_epoch\": " << steps / static_cast<std::size_t>(recipe.epochs)
       << ", \"lr\": " << recipe.learning_rate << ", \"lr_decay\": " << recipe.decay << "}\n";
  WARN("wrote " << dir.string() << "/replay_*; now run scripts/reproduce/peer_replay.py on it");
}

namespace {

template <class S>
void CompareWithPeer(const Dataset& data, const std::string& fixture, const std::string& p,
                     double mean_tol, double excess_tol, double step_tol, double delta_tol) {
  const Run<S> run = RunOneEpoch<S>(data);
  INFO("fixture " << FixturePath() << ", " << (sizeof(S) == 4 ? "float" : "double"));
  // Same inputs as the peer saw (else the fixture is stale: regenerate it, see the file header).
  REQUIRE(JsonField(fixture, p + "_user_table_checksum") ==
          std::to_string(TableChecksum(run.user0)));
  REQUIRE(JsonField(fixture, p + "_item_table_checksum") ==
          std::to_string(TableChecksum(run.item0)));
  REQUIRE(JsonField(fixture, "batch_checksum") == std::to_string(BatchChecksum(run.batches)));
  REQUIRE(run.step_losses.size() == 648);  // floor(166,025 source rows / 256)

  const double peer_mean = std::stod(JsonField(fixture, p + "_peer_mean_loss"));
  const std::vector<double> peer_steps = JsonArray(fixture, p + "_peer_step_losses");
  REQUIRE(peer_steps.size() == run.step_losses.size());
  double worst = 0;
  std::size_t worst_step = 0;
  for (std::size_t s = 0; s < peer_steps.size(); ++s) {
    const double diff = std::abs(run.step_losses[s] - peer_steps[s]);
    if (diff > worst) worst = diff, worst_step = s + 1;
  }
  const double log2 = std::log(2.0);
  INFO("C++ mean loss " << std::setprecision(12) << run.mean_loss << ", peer " << peer_mean
                        << "; largest per-step difference " << worst << " at step " << worst_step);
  // The brief's criterion: the epoch's mean loss to 1e-4 relative.
  CHECK(std::abs(run.mean_loss - peer_mean) <= mean_tol * std::abs(peer_mean));
  // With shrink 0.03 every loss sits within ~1e-5 of log 2 in this first epoch, so the criterion
  // above is weak on its own; the departure from log 2 (the learning signal) must match too ...
  CHECK(std::abs((run.mean_loss - log2) - (peer_mean - log2)) <=
        excess_tol * std::abs(peer_mean - log2));
  CHECK(worst <= step_tol);
  // ... and so must the epoch's update of each table (squared size and a direction probe).
  for (const char* table : {"user", "item"}) {
    const DeltaStats& mine = std::string(table) == "user" ? run.user_delta : run.item_delta;
    const double squared = std::stod(JsonField(fixture, p + "_peer_" + table + "_delta_squared"));
    const double probe = std::stod(JsonField(fixture, p + "_peer_" + table + "_delta_probe"));
    INFO(table << " table update: squared norm " << mine.squared << " vs " << squared << ", probe "
               << mine.probe << " vs " << probe);
    CHECK(squared > 0);
    CHECK(std::abs(mine.squared - squared) <= delta_tol * squared);
    CHECK(std::abs(mine.probe - probe) <= delta_tol * std::sqrt(squared));
  }
}

}  // namespace

TEST_CASE("One CiteULike epoch matches the PyTorch peer (same tables, same batches)", "[recipe]") {
  const std::string fixture = ReadFile(FixturePath());
  const Dataset data = LoadCiteULike();
  SECTION("float, the reference precision") {
    CompareWithPeer<float>(data, fixture, "f4", 1e-4, 5e-3, 5e-6, 1e-5);
  }
  SECTION("double: the two implementations agree to rounding") {
    CompareWithPeer<double>(data, fixture, "f8", 1e-12, 1e-8, 1e-12, 1e-8);
  }
}
