// io/: model files (round trips, every single-byte corruption, truncation at every length, wrong
// version / scalar type, hostile sizes, hostile file types, atomic writes that fail midway) and
// .npy files. Crash and signal safety of the writers: test_io_atomic.cpp.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "directspec/io.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace directspec;
namespace fs = std::filesystem;
using directspec::testing::TempDir;

namespace {

// A fresh directory under the system temp dir, removed at scope exit.
template <class S>
RowMatrix<S> Table(Index rows, Index cols, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g;
  RowMatrix<S> X(rows, cols);
  for (Index k = 0; k < X.size(); ++k) X.data()[k] = static_cast<S>(g(rng));
  return X;
}

// Raw ids with awkward characters (comma, quote, non-ASCII, empty) for n users and m items.
ModelMetadata Meta(Index n, Index m) {
  ModelMetadata meta;
  meta.encoder = "lightgcn";
  meta.hyperparameters = {{"lr", "180"}, {"tau", "3.0"}, {"alpha", "1"}, {"note", "a,b \"c\"\n"}};
  for (Index u = 0; u < n; ++u)
    meta.user_ids.push_back(u == 1 ? std::string("u,\"1\"")
                                   : std::string("ü").append(std::to_string(u)));
  for (Index i = 0; i < m; ++i)
    meta.item_ids.push_back(i == 1 ? std::string() : std::string("i").append(std::to_string(i)));
  return meta;
}

std::string MessageOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const IoError& e) {
    return e.what();
  }
  return "(no IoError)";
}

std::vector<std::byte> Bytes(std::string_view s) {
  std::vector<std::byte> out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

}  // namespace

TEMPLATE_TEST_CASE("model files round-trip tables and metadata", "[io]", float, double) {
  TempDir dir("io");
  const auto U = Table<TestType>(3, 5, 1), I = Table<TestType>(4, 5, 2);
  const auto path = dir.path / "m.dspm";
  SaveModel(path, U, I, Meta(3, 4));
  const Model<TestType> back = LoadModel<TestType>(path);
  CHECK(back.users == U);  // bit-exact
  CHECK(back.items == I);
  CHECK(back.metadata == Meta(3, 4));
  CHECK(ReadFileBytes(path) == SerializeModel(U, I, Meta(3, 4)));
  const ModelInfo info = LoadModelInfo(path);
  CHECK(info.users == 3);
  CHECK(info.items == 4);
  CHECK(info.dim == 5);
  CHECK(info.ScalarName() == (sizeof(TestType) == 4 ? "float32" : "float64"));
  CHECK(info.table_offset % 8 == 0);

  // No metadata, empty tables.
  const RowMatrix<TestType> empty(0, 7);
  const auto bytes = SerializeModel(empty, empty);
  const Model<TestType> e = ParseModel<TestType>(bytes);
  CHECK(e.users.rows() == 0);
  CHECK(e.users.cols() == 7);
  CHECK(e.metadata == ModelMetadata{});
}

TEST_CASE("the checksum matches zlib's CRC-32", "[io]") {
  CHECK(Crc32(Bytes("123456789")) == 0xCBF43926u);  // the standard check value
  CHECK(Crc32(Bytes("")) == 0u);
  CHECK(Crc32(Bytes("6789"), Crc32(Bytes("12345"))) == 0xCBF43926u);
}

TEST_CASE("every flipped byte and every truncation is detected", "[io]") {
  const auto U = Table<float>(2, 3, 3), I = Table<float>(3, 3, 4);
  const auto good = SerializeModel(U, I, Meta(2, 3));
  REQUIRE_NOTHROW(ParseModel<float>(good));
  for (std::size_t k = 0; k < good.size(); ++k) {
    auto bad = good;
    bad[k] ^= std::byte{0x5A};
    INFO("flipped byte " << k);
    CHECK_THROWS_AS(ParseModel<float>(bad, "flip.dspm"), IoError);
  }
  for (std::size_t len = 0; len < good.size(); ++len) {
    INFO("truncated to " << len);
    CHECK_THROWS_AS(ParseModel<float>(std::span(good).first(len), "cut.dspm"), IoError);
  }
}

TEST_CASE("load errors name the file and the problem", "[io]") {
  TempDir dir("io");
  const auto U = Table<double>(2, 3, 5), I = Table<double>(3, 3, 6);
  const auto path = dir.path / "model.dspm";
  SaveModel(path, U, I, Meta(2, 3));
  const auto good = ReadFileBytes(path);
  auto write = [&](const std::vector<std::byte>& b) {
    const auto p = dir.path / "bad.dspm";
    AtomicWriteFile(p, b);
    return p;
  };

  {  // 0 bytes
    const auto p = write({});
    const auto msg = MessageOf([&] { LoadModel<double>(p); });
    CHECK_THAT(msg, Catch::Contains("bad.dspm") && Catch::Contains("empty file"));
  }
  {  // truncated
    const auto p = write(std::vector<std::byte>(good.begin(), good.begin() + 70));
    CHECK_THAT(MessageOf([&] { LoadModel<double>(p); }),
               Catch::Contains("bad.dspm") && Catch::Contains("truncated"));
  }
  {  // a flipped byte inside U
    auto b = good;
    b[b.size() - 20] ^= std::byte{1};
    const auto p = write(b);
    CHECK_THAT(MessageOf([&] { LoadModel<double>(p); }),
               Catch::Contains("bad.dspm") && Catch::Contains("checksum mismatch"));
  }
  {  // a future version, with a valid checksum
    auto b = good;
    b[8] = std::byte{3};
    const auto crc = Crc32(std::span(b).first(b.size() - 4));
    for (int k = 0; k < 4; ++k)
      b[b.size() - 4 + k] = static_cast<std::byte>((crc >> (8 * k)) & 0xFF);
    const auto p = write(b);
    CHECK_THAT(
        MessageOf([&] { LoadModel<double>(p); }),
        Catch::Contains("bad.dspm") &&
            Catch::Contains("unsupported format version 3 (this library reads versions 1 to 2)"));
  }
  {  // wrong scalar type requested
    CHECK_THAT(MessageOf([&] { LoadModel<float>(path); }),
               Catch::Contains("model.dspm") && Catch::Contains("stores float64") &&
                   Catch::Contains("float32 was requested"));
  }
  {  // not a model file at all
    const auto p = write(Bytes("user,item\n0,1\n2,3\n4,5\n6,7\n8,9\n10,11\n12,13\n14,15\n16,17\n"));
    CHECK_THAT(MessageOf([&] { LoadModel<double>(p); }), Catch::Contains("bad magic"));
  }
  CHECK_THAT(MessageOf([&] { LoadModel<double>(dir.path / "missing.dspm"); }),
             Catch::Contains("missing.dspm") && Catch::Contains("cannot open"));
}

namespace {

// Bytes this process has read through read(2)-like calls so far (Linux /proc/self/io "rchar"),
// or -1 where the kernel does not account them.
long long BytesReadSoFar() {
  std::ifstream io("/proc/self/io");
  std::string key;
  long long value = -1;
  while (io >> key >> value)
    if (key == "rchar:") return value;
  return -1;
}

}  // namespace

TEST_CASE("loaders refuse directories, FIFOs and oversized files before reading", "[io]") {
  TempDir dir("io");
  const auto U = Table<float>(20, 4, 21), I = Table<float>(30, 4, 22);
  const auto good = dir.path / "good.dspm";
  SaveModel(good, U, I, Meta(20, 30));
  const auto size = fs::file_size(good);

  SECTION("a directory: an IoError naming it, not bad_alloc") {
    const auto sub = dir.path / "model.dspm";
    fs::create_directory(sub);
    for (const auto& msg :
         {MessageOf([&] { LoadModel<float>(sub); }), MessageOf([&] { LoadModelInfo(sub); }),
          MessageOf([&] { ReadNpy<float>(sub); }), MessageOf([&] { ReadFileBytes(sub); })})
      CHECK_THAT(msg, Catch::Contains("model.dspm") &&
                          Catch::Contains("is a directory, not a regular file"));
  }
  SECTION("a FIFO without a writer: refused at once, never blocks") {
    const auto fifo = dir.path / "model.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    const auto message = dir.path / "message.txt";
    // In a child with an alarm: a blocking open would end it by SIGALRM instead of hanging.
    const auto status = directspec::test::RunChild([&] {
      ::alarm(10);
      const auto msg = MessageOf([&] { LoadModel<float>(fifo); }) + "\n" +
                       MessageOf([&] { ReadNpy<float>(fifo); });
      AtomicWriteFile(message, std::string_view(msg));
    });
    INFO(status.Describe());
    CHECK(status.exited);
    const auto text = directspec::test::ReadText(message);
    CHECK_THAT(text, Catch::Contains("model.fifo: is a FIFO, not a regular file"));
    CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  }
  SECTION("a good file followed by 3 GiB of zeros: trailing data, found by size, not reading") {
    const auto padded = dir.path / "padded.dspm";
    fs::copy_file(good, padded);
    fs::resize_file(padded, size + (std::uintmax_t{3} << 30));  // sparse: no disk space used
    const long long before = BytesReadSoFar();
    const auto msg = MessageOf([&] { LoadModel<float>(padded); });
    const long long after = BytesReadSoFar();
    CHECK_THAT(msg, Catch::Contains("padded.dspm: byte 16: trailing data: header declares " +
                                    std::to_string(size) + " bytes but the file has " +
                                    std::to_string(size + (std::uintmax_t{3} << 30))));
    if (before >= 0) CHECK(after - before < 4096);  // the 24-byte header, not 3 GiB
    CHECK_THAT(MessageOf([&] { LoadModelInfo(padded); }), Catch::Contains("trailing data"));
  }
  SECTION("a file shorter than its header declares: truncated, after reading the header") {
    const auto cut = dir.path / "cut.dspm";
    fs::copy_file(good, cut);
    fs::resize_file(cut, size - 100);
    CHECK_THAT(MessageOf([&] { LoadModel<float>(cut); }),
               Catch::Contains("cut.dspm: byte 16: truncated: header declares"));
  }
  SECTION("a good file still loads") { CHECK(LoadModel<float>(good).users == U); }
}

TEST_CASE("hostile sizes are rejected before any allocation", "[io]") {
  const auto U = Table<float>(2, 2, 7), I = Table<float>(2, 2, 8);
  const auto good = SerializeModel(U, I);
  ModelParseOptions raw;
  raw.verify_checksum = false;  // reach the structural checks, as a fuzzer would
  auto patch64 = [](std::vector<std::byte> b, std::size_t at, std::uint64_t v) {
    for (int k = 0; k < 8; ++k) b[at + k] = static_cast<std::byte>((v >> (8 * k)) & 0xFF);
    return b;
  };
  CHECK_THAT(MessageOf([&] { ParseModel<float>(patch64(good, 24, 1ull << 62), "h", raw); }),
             Catch::Contains("implausible") || Catch::Contains("truncated"));
  CHECK_THAT(MessageOf([&] {
               ParseModel<float>(patch64(patch64(good, 24, 1ull << 61), 40, 1ull << 61), "h", raw);
             }),
             Catch::Contains("overflows"));
  CHECK_THAT(MessageOf([&] { ParseModel<float>(patch64(good, 40, 3), "h", raw); }),
             Catch::Contains("truncated"));
  CHECK_THAT(MessageOf([&] { ParseModel<float>(patch64(good, 40, 1), "h", raw); }),
             Catch::Contains("size mismatch"));
  // Encoder name length 0xFFFFFFFF.
  auto b = good;
  for (int k = 0; k < 4; ++k) b[48 + k] = std::byte{0xFF};
  CHECK_THAT(MessageOf([&] { ParseModel<float>(b, "h", raw); }), Catch::Contains("truncated"));
  // Hyperparameter count 0xFFFFFFFF.
  b = good;
  for (int k = 0; k < 4; ++k) b[52 + k] = std::byte{0xFF};
  CHECK_THAT(MessageOf([&] { ParseModel<float>(b, "h", raw); }), Catch::Contains("implausible"));
  // User id count 2^60 (neither 0 nor n).
  CHECK_THAT(MessageOf([&] { ParseModel<float>(patch64(good, 56, 1ull << 60), "h", raw); }),
             Catch::Contains("neither 0 nor"));

  // Random mutations without the checksum: IoError or a valid model, never a crash.
  std::mt19937_64 rng(11);
  const auto rich = SerializeModel(U, I, ModelMetadata{"mf", {{"a", "b"}}, {"x", "y"}, {"p", "q"}});
  int parsed = 0, rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    auto m = rich;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) m[rng() % m.size()] = static_cast<std::byte>(rng() & 0xFF);
    if (rng() % 4 == 0) m.resize(rng() % m.size());
    try {
      ParseModel<float>(m, "fuzz", raw);
      ++parsed;
    } catch (const IoError&) {
      ++rejected;
    }
  }
  CHECK(rejected > 0);
  CHECK(parsed + rejected == 3000);
}

TEST_CASE("a failed write leaves the previous file intact", "[io]") {
  TempDir dir("io");
  const auto path = dir.path / "model.dspm";
  const auto U = Table<float>(50, 8, 9), I = Table<float>(60, 8, 10);
  SaveModel(path, U, I, Meta(50, 60));
  const auto before = ReadFileBytes(path);

  // A writer that accepts 100 bytes, then fails like a full disk.
  std::size_t budget = 100;
  AtomicWriteOptions failing;
  failing.write = [&](int fd, const void* data, std::size_t size) -> long {
    if (budget == 0) {
      errno = ENOSPC;
      return -1;
    }
    const std::size_t n = std::min(size, budget);
    budget -= n;
    return static_cast<long>(::write(fd, data, n));
  };
  const auto U2 = Table<float>(50, 8, 19), I2 = Table<float>(60, 8, 20);
  CHECK_THROWS_WITH(SaveModel(path, U2, I2, Meta(50, 60), failing),
                    Catch::Contains("model.dspm") &&
                        Catch::Contains("write failed after 100 bytes") &&
                        Catch::Contains("unchanged"));
  CHECK(ReadFileBytes(path) == before);
  CHECK(LoadModel<float>(path).users == U);
  // No temporary file is left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) {
    ++files;
    CHECK(e.path().filename() == "model.dspm");
  }
  CHECK(files == 1);

  // An exception thrown by the writer itself (not just an error code) is just as safe.
  AtomicWriteOptions throwing;
  throwing.write = [](int, const void*, std::size_t) -> long { throw std::runtime_error("boom"); };
  CHECK_THROWS_WITH(SaveModel(path, U2, I2, Meta(50, 60), throwing), "boom");
  CHECK(ReadFileBytes(path) == before);

  // A successful save replaces the file.
  SaveModel(path, U2, I2, Meta(50, 60));
  CHECK(LoadModel<float>(path).users == U2);
}

TEMPLATE_TEST_CASE(".npy files round-trip", "[io]", float, double) {
  TempDir dir("io");
  const auto U = Table<TestType>(5, 3, 12), I = Table<TestType>(7, 3, 13);
  ExportNpy(dir.path, U, I);
  CHECK(ReadNpy<TestType>(dir.path / "user.npy") == U);
  CHECK(ReadNpy<TestType>(dir.path / "item.npy") == I);
  const auto bytes = SerializeNpy(U);
  // Version 1.0 header, data aligned to 64 bytes, the exact numpy dtype string.
  CHECK(bytes[6] == std::byte{1});
  CHECK(bytes[7] == std::byte{0});
  const std::size_t header =
      static_cast<std::size_t>(bytes[8]) | (static_cast<std::size_t>(bytes[9]) << 8);
  CHECK((10 + header) % 64 == 0);
  CHECK(bytes.size() == 10 + header + static_cast<std::size_t>(U.size()) * sizeof(TestType));
  const std::string dict(reinterpret_cast<const char*>(bytes.data()) + 10, header);
  CHECK_THAT(
      dict, Catch::StartsWith(std::string("{'descr': '") + (sizeof(TestType) == 4 ? "<f4" : "<f8") +
                              "', 'fortran_order': False, 'shape': (5, 3), }"));
  CHECK(dict.back() == '\n');
}

TEST_CASE(".npy reader rejects what it cannot represent", "[io]") {
  const RowMatrix<float> X = Table<float>(2, 3, 14);
  const auto good = SerializeNpy(X);
  auto with_header = [](const std::string& dict, std::size_t data_bytes) {
    std::vector<std::byte> b = Bytes(std::string("\x93NUMPY\x01\x00", 8));
    std::string h = dict + "\n";
    PutLE<std::uint16_t>(b, static_cast<std::uint16_t>(h.size()));
    auto hb = Bytes(h);
    b.insert(b.end(), hb.begin(), hb.end());
    b.resize(b.size() + data_bytes);
    return b;
  };
  CHECK_THAT(MessageOf([&] { ParseNpy<float>({}, "e.npy"); }),
             Catch::Contains("e.npy") && Catch::Contains("empty"));
  CHECK_THAT(MessageOf([&] { ParseNpy<double>(good, "x.npy"); }), Catch::Contains("'<f4'"));
  CHECK_THAT(MessageOf([&] { ParseNpy<float>(std::span(good).first(good.size() - 1), "x.npy"); }),
             Catch::Contains("truncated"));
  CHECK_THAT(MessageOf([&] { ParseNpy<float>(Bytes("PK\x03\x04 not npy"), "x.npy"); }),
             Catch::Contains("bad magic"));
  CHECK_THAT(MessageOf([&] {
               ParseNpy<float>(
                   with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24));
             }),
             Catch::Contains("Fortran"));
  CHECK_THAT(
      MessageOf([&] {
        ParseNpy<float>(with_header(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 8), }", 0));
      }),
      Catch::Contains("implausible"));
  CHECK_THAT(MessageOf([&] {
               ParseNpy<float>(with_header(
                   "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }", 96));
             }),
             Catch::Contains("3 dimensions"));
  const auto one_d =
      ParseNpy<float>(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 12));
  CHECK(one_d.rows() == 3);
  CHECK(one_d.cols() == 1);
}

// Hidden (not run by default): writes .npy files for tests/npy_check.cmake, which checks them
// with numpy. The directory comes from DIRECTSPEC_NPY_DIR.
TEST_CASE("write npy files for the numpy check", "[.npy_export]") {
  const char* dir = std::getenv("DIRECTSPEC_NPY_DIR");
  REQUIRE(dir != nullptr);
  // Values v(r, c) = r - 0.25 c + 0.5 are exact in float and double; numpy recomputes them.
  auto make = [](Index rows, Index cols) {
    RowMatrix<double> X(rows, cols);
    for (Index r = 0; r < rows; ++r)
      for (Index c = 0; c < cols; ++c)
        X(r, c) = static_cast<double>(r) - 0.25 * static_cast<double>(c) + 0.5;
    return X;
  };
  const RowMatrix<double> U = make(5, 3), I = make(7, 3);
  ExportNpy(fs::path(dir) / "f8", U, I);  // the directories are made by the script
  const RowMatrix<float> Uf = U.cast<float>(), If = I.cast<float>();
  ExportNpy(fs::path(dir) / "f4", Uf, If);
  CHECK(fs::exists(fs::path(dir) / "f4" / "item.npy"));
}

// Hidden: reads the arrays that tests/npy_check.py saved with numpy.save.
TEST_CASE("read npy files saved by numpy", "[.npy_export]") {
  const char* dir = std::getenv("DIRECTSPEC_NPY_DIR");
  REQUIRE(dir != nullptr);
  const auto f4 = ReadNpy<float>(fs::path(dir) / "np" / "a_f4.npy");
  const auto f8 = ReadNpy<double>(fs::path(dir) / "np" / "a_f8.npy");
  REQUIRE(f4.rows() == 4);
  REQUIRE(f4.cols() == 6);
  REQUIRE(f8.rows() == 4);
  REQUIRE(f8.cols() == 6);
  for (Index r = 0; r < 4; ++r)
    for (Index c = 0; c < 6; ++c) {
      const double v = static_cast<double>(r) - 0.25 * static_cast<double>(c) + 0.5;
      CHECK(f4(r, c) == static_cast<float>(v));
      CHECK(f8(r, c) == v);
    }
}
