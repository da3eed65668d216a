// Regression tests for bugs found by the fuzz targets in fuzz/ (docs/reliability.md): each
// reproduces a crash input from fuzz/regressions/<target>/ as a plain unit test, so the fix stays
// covered by ctest (and by the ASan + UBSan run in CI) even without clang and libFuzzer.
// Kept apart from test_reliability.cpp so it includes only the io and id-map headers.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "directspec/data/id_map.hpp"
#include "directspec/io/model_file.hpp"

using namespace directspec;

TEMPLATE_TEST_CASE("Model files with empty tables round-trip (fuzz_model_file regression)",
                   "[reliability][fuzz-regression]", float, double) {
  using S = TestType;
  // fuzz/regressions/fuzz_model_file/empty_tables.dspm: ScalarsToLE / ScalarsFromLE
  // (io/file_io.hpp) call memcpy with the null data() of a 0-row Eigen matrix, undefined
  // behaviour that UBSan (the asan preset in CI) reports as "null pointer passed as argument".
  for (Index rows : {0, 3}) {
    const RowMatrix<S> U = RowMatrix<S>::Zero(rows, rows == 0 ? 4 : 0);
    const RowMatrix<S> I = RowMatrix<S>::Zero(0, U.cols());
    const auto bytes = SerializeModel(U, I);
    const Model<S> back = ParseModel<S>(bytes);
    CHECK(back.users.rows() == U.rows());
    CHECK(back.users.cols() == U.cols());
    CHECK(back.items.rows() == 0);
  }
}

TEST_CASE(
    "IdMap::FromRawIds names both positions for tokens with control bytes (fuzz_idmap "
    "regression)",
    "[reliability][fuzz-regression]") {
  // fuzz/regressions/fuzz_idmap/duplicate_token_with_nul.bin: the token is pasted into the
  // message unescaped, so a NUL byte cuts what() short (the positions are lost) and other
  // control bytes reach the terminal raw.
  const std::string nul_token("a\0b", 3);
  try {
    (void)IdMap::FromRawIds({nul_token, "c", nul_token});
    FAIL("duplicate accepted");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    INFO("what(): " << what);
    CHECK(what.find("positions 0 and 2") != std::string::npos);
  }
  try {
    (void)IdMap::FromRawIds({"x\x1b[2J", "x\x1b[2J"});
    FAIL("duplicate accepted");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find('\x1b') == std::string::npos);
  }
}

TEST_CASE(
    "Model files with hyperparameter names out of order are rejected (fuzz_model_file "
    "regression)",
    "[reliability][fuzz-regression]") {
  // fuzz/regressions/fuzz_model_file/unsorted_hyperparameters.dspm: docs/model-files.md
  // specifies the keys "in ascending byte order, unique" (so the encoding is canonical and a
  // re-save reproduces the file), but ParseModelInfo only rejects duplicates: a file with
  // {"tau", "lr"} in that order loads, and saving it back gives different bytes.
  auto put_string = [](std::vector<std::byte>& out, std::string_view s) {
    PutLE<std::uint32_t>(out, static_cast<std::uint32_t>(s.size()));
    for (char c : s) out.push_back(static_cast<std::byte>(c));
  };
  std::vector<std::byte> meta;
  put_string(meta, "mf");
  PutLE<std::uint32_t>(meta, 2);
  put_string(meta, "tau");
  put_string(meta, "3");
  put_string(meta, "lr");
  put_string(meta, "180");
  PutLE<std::uint64_t>(meta, 0);  // no user ids
  PutLE<std::uint64_t>(meta, 0);  // no item ids
  while ((ModelFormat::kHeaderBytes + meta.size()) % 8 != 0) meta.push_back(std::byte{0});
  const float table[4] = {1, 2, 3, 4};  // U: 1 x 2, I: 1 x 2
  const std::uint64_t total = ModelFormat::kHeaderBytes + meta.size() + sizeof table + 4;
  std::vector<std::byte> bytes;
  for (auto b : ModelFormat::kMagic) bytes.push_back(static_cast<std::byte>(b));
  PutLE<std::uint32_t>(bytes, ModelFormat::kVersion);
  PutLE<std::uint32_t>(bytes, ModelFormat::kFloat32);
  for (std::uint64_t v : {total, std::uint64_t{1}, std::uint64_t{1}, std::uint64_t{2}})
    PutLE<std::uint64_t>(bytes, v);
  bytes.insert(bytes.end(), meta.begin(), meta.end());
  const auto* raw = reinterpret_cast<const std::byte*>(table);
  bytes.insert(bytes.end(), raw, raw + sizeof table);
  PutLE<std::uint32_t>(bytes, Crc32(bytes));
  REQUIRE(bytes.size() == total);

  // The same model with the keys in order is valid, and re-serializes to itself.
  ModelMetadata sorted{"mf", {{"lr", "180"}, {"tau", "3"}}, {}, {}};
  RowMatrix<float> U(1, 2), I(1, 2);
  U << 1, 2;
  I << 3, 4;
  const auto canonical = SerializeModel(U, I, sorted);
  CHECK(ParseModel<float>(canonical).metadata == sorted);
  CHECK(canonical.size() == bytes.size());

  CHECK_THROWS_AS(ParseModel<float>(bytes), IoError);
}

TEST_CASE("Model files whose user + item count overflows are rejected (fuzz_model_file regression)",
          "[reliability][fuzz-regression]") {
  // fuzz/regressions/fuzz_model_file/row_sum_overflow.dspm: with d = 0 the tables are empty, so
  // no size check bounds the counts; 2^62 users + 7.4e18 items passed ParseModelInfo, and saving
  // the loaded model back computed (n + m) in the signed index type: overflow (UBSan).
  const std::uint64_t big = std::uint64_t{1} << 62;
  std::vector<std::byte> meta;
  PutLE<std::uint32_t>(meta, 0);  // encoder name ""
  PutLE<std::uint32_t>(meta, 0);  // no hyperparameters
  PutLE<std::uint64_t>(meta, 0);  // no user ids
  PutLE<std::uint64_t>(meta, 0);  // no item ids
  const std::uint64_t total = ModelFormat::kHeaderBytes + meta.size() + 4;
  std::vector<std::byte> bytes;
  for (auto b : ModelFormat::kMagic) bytes.push_back(static_cast<std::byte>(b));
  PutLE<std::uint32_t>(bytes, ModelFormat::kVersion);
  PutLE<std::uint32_t>(bytes, ModelFormat::kFloat32);
  for (std::uint64_t v : {total, big, big, std::uint64_t{0}}) PutLE<std::uint64_t>(bytes, v);
  bytes.insert(bytes.end(), meta.begin(), meta.end());
  PutLE<std::uint32_t>(bytes, Crc32(bytes));
  REQUIRE(bytes.size() == total);
  try {
    (void)ParseModel<float>(bytes, "huge.dspm");
    FAIL("accepted");
  } catch (const IoError& e) {
    CHECK_THAT(e.what(),
               Catch::Contains("huge.dspm") && Catch::Contains("implausible table shape"));
  }
  // One below the limit still loads (and saves back to the same bytes).
  const std::uint64_t half = static_cast<std::uint64_t>(std::numeric_limits<Index>::max()) / 2;
  std::vector<std::byte> ok(bytes.begin(), bytes.begin() + 24);
  for (std::uint64_t v : {half, half, std::uint64_t{0}}) PutLE<std::uint64_t>(ok, v);
  ok.insert(ok.end(), meta.begin(), meta.end());
  PutLE<std::uint32_t>(ok, Crc32(ok));
  const Model<float> model = ParseModel<float>(ok);
  CHECK(model.users.rows() == static_cast<Index>(half));
  CHECK(SerializeModel(model.users, model.items) == ok);
  // The writer refuses tables the reader would refuse.
  const RowMatrix<float> U(static_cast<Index>(big), 0);  // 2^62 + 2^62 = 2^63 rows
  CHECK_THROWS_AS(SerializeModel(U, U), std::invalid_argument);
}
