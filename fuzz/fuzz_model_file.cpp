// libFuzzer target: the model-file loader (io/model_file.hpp) fed hostile bytes from memory.
// Each input is parsed as float and as double tables, with the CRC-32 verified (the real path)
// and skipped (so mutated bytes reach the structural checks). A parse either throws IoError
// naming the source and an offset inside the file, or yields a model whose sizes agree with the
// header and the byte count, whose tables are the file's bytes, and which re-serializes to a file
// of the same size that parses back to identical tables and metadata; and since the format is
// canonical (docs/model-files.md), the re-serialized bytes must equal the input's.
//
//   build/fuzz_model_file --make-seed=DIR    # writes valid and broken model files as seeds
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "directspec/io/model_file.hpp"
#include "fuzz_common.hpp"

namespace {

using namespace directspec;

const std::string kSource = "fuzz.dspm";

template <class S>
bool SameBits(const RowMatrix<S>& a, const RowMatrix<S>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         (a.size() == 0 ||
          std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.size()) * sizeof(S)) == 0);
}

void CheckError(std::span<const std::byte> bytes, const IoError& e) {
  FUZZ_CHECK(e.File() == kSource, "IoError names '" + e.File() + "'");
  FUZZ_CHECK(e.Offset() >= -1 && e.Offset() <= static_cast<std::int64_t>(bytes.size()),
             "IoError offset " + std::to_string(e.Offset()) + " outside the file");
  FUZZ_CHECK(std::string(e.what()).rfind(kSource, 0) == 0, "message does not start with file");
}

template <class S>
void ParseAs(std::span<const std::byte> bytes, bool verify) {
  ModelParseOptions options;
  options.verify_checksum = verify;
  Model<S> model;
  try {
    model = ParseModel<S>(bytes, kSource, options);
  } catch (const IoError& e) {
    CheckError(bytes, e);
    return;
  }
  // Parsing succeeded: the header parse agrees, and the other scalar type is refused.
  const ModelInfo info = ParseModelInfo(bytes, kSource, options);
  FUZZ_CHECK(info.scalar == (sizeof(S) == 4 ? ModelFormat::kFloat32 : ModelFormat::kFloat64),
             "parsed with the wrong scalar type");
  FUZZ_CHECK(model.users.rows() == static_cast<Index>(info.users) &&
                 model.items.rows() == static_cast<Index>(info.items) &&
                 model.users.cols() == static_cast<Index>(info.dim) &&
                 model.items.cols() == static_cast<Index>(info.dim),
             "table shapes differ from the header");
  const auto& meta = model.metadata;
  FUZZ_CHECK(meta == info.metadata, "ParseModel and ParseModelInfo metadata differ");
  FUZZ_CHECK(meta.user_ids.empty() || meta.user_ids.size() == info.users, "user id count");
  FUZZ_CHECK(meta.item_ids.empty() || meta.item_ids.size() == info.items, "item id count");
  FUZZ_CHECK(info.table_offset % 8 == 0, "tables not 8-byte aligned");
  const std::size_t table_bytes =
      static_cast<std::size_t>(model.users.size() + model.items.size()) * sizeof(S);
  FUZZ_CHECK(info.table_offset + table_bytes + ModelFormat::kTrailerBytes == bytes.size(),
             "offset + tables + CRC != file size");
  if (model.users.size() > 0)
    FUZZ_CHECK(std::memcmp(model.users.data(), bytes.data() + info.table_offset,
                           static_cast<std::size_t>(model.users.size()) * sizeof(S)) == 0,
               "user table differs from the file bytes");
  using Other = std::conditional_t<sizeof(S) == 4, double, float>;
  bool refused = false;
  try {
    (void)ParseModel<Other>(bytes, kSource, options);
  } catch (const IoError& e) {
    refused = e.Offset() == 12;
  }
  FUZZ_CHECK(refused, "the other scalar type was not refused at byte 12");

  // Re-serialize: same size, parses back (with its checksum) to the same tables and metadata.
  const std::vector<std::byte> again = SerializeModel(model.users, model.items, meta);
  FUZZ_CHECK(again.size() == bytes.size(), "re-serialized size " + std::to_string(again.size()) +
                                               " != " + std::to_string(bytes.size()));
  const Model<S> back = ParseModel<S>(again, "again.dspm");
  FUZZ_CHECK(SameBits(back.users, model.users) && SameBits(back.items, model.items),
             "tables changed in the re-serialize round trip");
  FUZZ_CHECK(back.metadata == meta, "metadata changed in the re-serialize round trip");
  // docs/model-files.md makes the encoding canonical (hyperparameter keys ascending and unique,
  // zero padding, exact sizes), so an accepted file re-serializes to its very bytes (the CRC
  // aside when it was not verified).
  const std::size_t compare = verify ? bytes.size() : bytes.size() - ModelFormat::kTrailerBytes;
  FUZZ_CHECK(std::memcmp(again.data(), bytes.data(), compare) == 0,
             "re-serialized bytes differ from the accepted input");
}

void WriteModelSeed(const std::filesystem::path& path, const std::vector<std::byte>& bytes) {
  directspec_fuzz::WriteSeed(
      path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

void WriteSeeds(const std::filesystem::path& dir) {
  RowMatrix<float> U(3, 2), I(2, 2);
  U << 0.5f, -1.0f, 2.0f, 0.0f, 1e-3f, 7.0f;
  I << 1.0f, 2.0f, -3.0f, 4.5f;
  ModelMetadata meta{"mf", {{"lr", "180"}, {"tau", "3"}}, {"u0", "u1", "u2"}, {"apple", "pear"}};
  const auto full = SerializeModel(U, I, meta);
  WriteModelSeed(dir / "float_with_ids.dspm", full);
  WriteModelSeed(dir / "float_plain.dspm", SerializeModel(U, I));
  RowMatrix<double> Ud = U.cast<double>(), Id = I.cast<double>();
  WriteModelSeed(dir / "double_lightgcn.dspm",
                 SerializeModel(Ud, Id, ModelMetadata{"lightgcn", {{"layers", "3"}}, {}, {}}));
  WriteModelSeed(dir / "empty_tables.dspm",
                 SerializeModel(RowMatrix<float>(0, 4), RowMatrix<float>(0, 4)));
  WriteModelSeed(dir / "zero_dim.dspm",
                 SerializeModel(RowMatrix<double>(2, 0), RowMatrix<double>(1, 0),
                                ModelMetadata{"", {}, {"a", "b"}, {"c"}}));
  // Version 2: the same model carrying each user's seen items (user 1 has none).
  ModelMetadata with_seen = meta;
  with_seen.seen = SeenSets{{0, 2, 2, 3}, {0, 1, 1}};
  WriteModelSeed(dir / "float_with_seen.dspm", SerializeModel(U, I, with_seen));
  // Broken files: truncated, a flipped table byte (CRC mismatch), bad magic, a version newer than
  // the reader's.
  auto cut = full;
  cut.resize(cut.size() - 9);
  WriteModelSeed(dir / "truncated.dspm", cut);
  auto flipped = full;
  flipped[flipped.size() - 8] ^= std::byte{0x40};
  WriteModelSeed(dir / "bad_crc.dspm", flipped);
  auto magic = full;
  magic[1] = std::byte{'X'};
  WriteModelSeed(dir / "bad_magic.dspm", magic);
  auto version = full;
  version[8] = std::byte{ModelFormat::kNewestVersion + 1};
  WriteModelSeed(dir / "future_version.dspm", version);
  WriteModelSeed(dir / "tiny.dspm", std::vector<std::byte>(full.begin(), full.begin() + 20));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  directspec_fuzz::MaybeMakeSeeds(argc, argv, WriteSeeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  for (bool verify : {true, false}) {
    ParseAs<float>(bytes, verify);
    ParseAs<double>(bytes, verify);
  }
  return 0;
}
