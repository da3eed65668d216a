// Model files: trained embeddings (inference tables U: n x d, I: m x d) with their metadata —
// encoder kind, hyperparameters, raw id maps and, optionally, each user's seen (train) items — in
// one little-endian binary file with a CRC-32, written atomically. This is how a trained model
// leaves the trainer and comes back for evaluation or serving. Byte layout, versioning and error
// handling: docs/model-files.md.
//
// Parsing treats the bytes as hostile (the loader is fuzzed): every length is checked against the
// bytes that remain before anything is allocated, and sizes are multiplied with overflow checks.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "directspec/core/types.hpp"
#include "directspec/io/file_io.hpp"

namespace directspec {

/// Format constants of model files.
struct ModelFormat {
  /// "\x89DSPM\r\n\x1a": a non-ASCII first byte and CR LF / EOF bytes reveal text-mode mangling.
  static constexpr std::array<std::uint8_t, 8> kMagic{0x89, 'D', 'S', 'P', 'M', '\r', '\n', 0x1A};
  /// Version 1: tables and metadata. Version 2 adds the seen sets; a file without them is still
  /// written as version 1, byte for byte as before, so older readers keep reading it.
  static constexpr std::uint32_t kVersion = 1;
  static constexpr std::uint32_t kSeenVersion = 2;
  static constexpr std::uint32_t kNewestVersion = 2;
  static constexpr std::size_t kHeaderBytes = 48;
  static constexpr std::size_t kTrailerBytes = 4;  // CRC-32
  static constexpr std::uint32_t kFloat32 = 1;
  static constexpr std::uint32_t kFloat64 = 2;
};

/// Each user's seen (train) items in CSR form, so a served model can exclude them without the
/// training file: offsets has n + 1 entries (0 first, non-decreasing), items[offsets[u] ..
/// offsets[u+1]) are user u's items, strictly increasing. Costs 8 (n + 1) + 4 nnz bytes.
struct SeenSets {
  std::vector<std::uint64_t> offsets;
  std::vector<Id> items;

  /// The rows of a user-by-item CSR (e.g. Interactions::View() of the train set).
  static SeenSets FromCsr(std::span<const std::int64_t> offsets, std::span<const Id> columns) {
    SeenSets s;
    s.offsets.assign(offsets.begin(), offsets.end());
    s.items.assign(columns.begin(), columns.end());
    return s;
  }
  Index Users() const { return offsets.empty() ? 0 : static_cast<Index>(offsets.size()) - 1; }
  std::span<const Id> Of(Index user) const {
    return std::span<const Id>(items).subspan(
        static_cast<std::size_t>(offsets[static_cast<std::size_t>(user)]),
        static_cast<std::size_t>(offsets[static_cast<std::size_t>(user) + 1] -
                                 offsets[static_cast<std::size_t>(user)]));
  }
  /// Bytes the section takes in a model file.
  std::uint64_t FileBytes() const { return 8 + 8 * offsets.size() + 4 * items.size(); }

  bool operator==(const SeenSets&) const = default;
};

/// Everything stored besides the tables.
struct ModelMetadata {
  std::string encoder;                                 // e.g. "mf", "lightgcn"
  std::map<std::string, std::string> hyperparameters;  // e.g. {"lr", "180"}, {"tau", "3"}
  std::vector<std::string> user_ids;                   // raw id of dense user u, or empty
  std::vector<std::string> item_ids;                   // raw id of dense item i, or empty
  std::optional<SeenSets> seen = std::nullopt;         // n rows of seen items, or none

  bool operator==(const ModelMetadata&) const = default;
};

/// A loaded model.
template <class S>
struct Model {
  RowMatrix<S> users;  // n x d
  RowMatrix<S> items;  // m x d
  ModelMetadata metadata;
};

/// Header and metadata of a model file, without the tables (ParseModelInfo).
struct ModelInfo {
  std::uint32_t version = 0;
  std::uint32_t scalar = 0;  // ModelFormat::kFloat32 or kFloat64
  std::uint64_t users = 0, items = 0, dim = 0;
  ModelMetadata metadata;
  std::size_t table_offset = 0;  // where U starts

  std::string ScalarName() const { return scalar == ModelFormat::kFloat32 ? "float32" : "float64"; }
};

struct ModelParseOptions {
  /// Verify the CRC-32 before parsing. Only a fuzzer that wants to reach the structural checks
  /// with random bytes turns it off.
  bool verify_checksum = true;
};

namespace detail {

template <class S>
constexpr std::uint32_t ScalarCode() {
  static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>,
                "model files store float or double tables");
  return std::is_same_v<S, float> ? ModelFormat::kFloat32 : ModelFormat::kFloat64;
}

inline const char* ScalarName(std::uint32_t code) {
  return code == ModelFormat::kFloat32   ? "float32"
         : code == ModelFormat::kFloat64 ? "float64"
                                         : "?";
}

// Header + metadata (+ zero padding to 8 bytes), given the total file size.
template <class S>
std::vector<std::byte> HeaderAndMetadata(Index n, Index m, Index d, const ModelMetadata& meta,
                                         std::uint64_t& total_size) {
  std::vector<std::byte> meta_bytes;
  PutString(meta_bytes, meta.encoder, "SaveModel: encoder name");
  PutLE<std::uint32_t>(meta_bytes, static_cast<std::uint32_t>(meta.hyperparameters.size()));
  for (const auto& [k, v] : meta.hyperparameters) {
    PutString(meta_bytes, k, "SaveModel: hyperparameter name");
    PutString(meta_bytes, v, "SaveModel: hyperparameter value");
  }
  PutLE<std::uint64_t>(meta_bytes, meta.user_ids.size());
  for (const auto& s : meta.user_ids) PutString(meta_bytes, s, "SaveModel: user id");
  PutLE<std::uint64_t>(meta_bytes, meta.item_ids.size());
  for (const auto& s : meta.item_ids) PutString(meta_bytes, s, "SaveModel: item id");
  if (meta.seen) {  // version 2 only
    PutLE<std::uint64_t>(meta_bytes, static_cast<std::uint64_t>(meta.seen->Users()));
    for (std::uint64_t o : meta.seen->offsets) PutLE<std::uint64_t>(meta_bytes, o);
    for (Id i : meta.seen->items) PutLE<std::uint32_t>(meta_bytes, static_cast<std::uint32_t>(i));
  }
  while ((ModelFormat::kHeaderBytes + meta_bytes.size()) % 8 != 0)
    meta_bytes.push_back(std::byte{0});

  total_size = ModelFormat::kHeaderBytes + meta_bytes.size() +
               (static_cast<std::uint64_t>(n) + static_cast<std::uint64_t>(m)) *
                   static_cast<std::uint64_t>(d) * sizeof(S) +
               ModelFormat::kTrailerBytes;
  std::vector<std::byte> out;
  out.reserve(ModelFormat::kHeaderBytes + meta_bytes.size());
  for (auto b : ModelFormat::kMagic) out.push_back(static_cast<std::byte>(b));
  PutLE<std::uint32_t>(out, meta.seen ? ModelFormat::kSeenVersion : ModelFormat::kVersion);
  PutLE<std::uint32_t>(out, ScalarCode<S>());
  PutLE<std::uint64_t>(out, total_size);
  PutLE<std::uint64_t>(out, static_cast<std::uint64_t>(n));
  PutLE<std::uint64_t>(out, static_cast<std::uint64_t>(m));
  PutLE<std::uint64_t>(out, static_cast<std::uint64_t>(d));
  out.insert(out.end(), meta_bytes.begin(), meta_bytes.end());
  return out;
}

template <class S>
void CheckTables(const RowMatrix<S>& U, const RowMatrix<S>& I, const ModelMetadata& meta,
                 const std::string& where) {
  if (U.cols() != I.cols())
    throw std::invalid_argument(where + ": U has " + std::to_string(U.cols()) +
                                " columns but I has " + std::to_string(I.cols()));
  if (U.rows() > std::numeric_limits<Index>::max() - I.rows())
    throw std::invalid_argument(where + ": " + std::to_string(U.rows()) + " users + " +
                                std::to_string(I.rows()) + " items overflow the index type");
  if (!meta.user_ids.empty() && static_cast<Index>(meta.user_ids.size()) != U.rows())
    throw std::invalid_argument(where + ": " + std::to_string(meta.user_ids.size()) +
                                " user ids for " + std::to_string(U.rows()) + " users");
  if (!meta.item_ids.empty() && static_cast<Index>(meta.item_ids.size()) != I.rows())
    throw std::invalid_argument(where + ": " + std::to_string(meta.item_ids.size()) +
                                " item ids for " + std::to_string(I.rows()) + " items");
  if (meta.seen) {
    const SeenSets& s = *meta.seen;
    if (s.Users() != U.rows())
      throw std::invalid_argument(where + ": seen sets for " + std::to_string(s.Users()) +
                                  " users but " + std::to_string(U.rows()) + " user rows");
    if (s.offsets.empty() || s.offsets.front() != 0 || s.offsets.back() != s.items.size())
      throw std::invalid_argument(where + ": seen set offsets do not span the item list");
    for (Index u = 0; u < s.Users(); ++u) {
      const auto lo = s.offsets[static_cast<std::size_t>(u)],
                 hi = s.offsets[static_cast<std::size_t>(u) + 1];
      if (hi < lo) throw std::invalid_argument(where + ": seen set offsets decrease");
      for (auto k = lo; k < hi; ++k) {
        const Id i = s.items[k];
        if (i < 0 || i >= I.rows() || (k > lo && s.items[k - 1] >= i))
          throw std::invalid_argument(where + ": seen items of user " + std::to_string(u) +
                                      " are not increasing ids below " + std::to_string(I.rows()));
      }
    }
  }
}

// Streams the whole file into `sink(std::span<const std::byte>)`, CRC last.
template <class S, class Sink>
void WriteModel(const RowMatrix<S>& U, const RowMatrix<S>& I, const ModelMetadata& meta,
                Sink&& sink) {
  std::uint64_t total = 0;
  const auto head = HeaderAndMetadata<S>(U.rows(), I.rows(), U.cols(), meta, total);
  std::uint32_t crc = Crc32(head);
  sink(std::span<const std::byte>(head));
  std::vector<std::byte> chunk;
  for (const RowMatrix<S>* table : {&U, &I}) {
    const std::size_t count = static_cast<std::size_t>(table->size());
    constexpr std::size_t kChunk = (std::size_t{1} << 20) / sizeof(S);
    for (std::size_t k = 0; k < count; k += kChunk) {
      const std::size_t len = std::min(kChunk, count - k);
      chunk.resize(len * sizeof(S));
      ScalarsToLE(table->data() + k, len, chunk.data());
      crc = Crc32(chunk, crc);
      sink(std::span<const std::byte>(chunk));
    }
  }
  std::vector<std::byte> trailer;
  PutLE<std::uint32_t>(trailer, crc);
  sink(std::span<const std::byte>(trailer));
}

// The checks that need only the first 24 bytes and the file size (empty, too short, magic,
// version, declared size), so a file can be refused before it is read: ParseModelInfo runs them
// on the bytes, LoadModel on the first bytes and fstat's size. Returns {version, scalar code}.
inline std::pair<std::uint32_t, std::uint32_t> CheckEnvelope(std::span<const std::byte> head,
                                                             std::uint64_t size,
                                                             const std::string& source) {
  ByteReader r(head, source);
  if (size == 0) r.Fail("empty file (0 bytes), not a directspec model file");
  if (size < ModelFormat::kHeaderBytes + ModelFormat::kTrailerBytes)
    r.Fail("truncated: " + std::to_string(size) + " bytes is shorter than the " +
           std::to_string(ModelFormat::kHeaderBytes + ModelFormat::kTrailerBytes) +
           "-byte minimum of a directspec model file");
  const auto magic = r.Take(8, "magic");
  for (std::size_t k = 0; k < 8; ++k)
    if (magic[k] != static_cast<std::byte>(ModelFormat::kMagic[k]))
      throw IoError(source, static_cast<std::int64_t>(k),
                    "not a directspec model file (bad magic number)");
  const auto version = r.ReadLE<std::uint32_t>("format version");
  if (version < ModelFormat::kVersion || version > ModelFormat::kNewestVersion)
    throw IoError(source, 8,
                  "unsupported format version " + std::to_string(version) +
                      " (this library reads versions " + std::to_string(ModelFormat::kVersion) +
                      " to " + std::to_string(ModelFormat::kNewestVersion) + ")");
  const auto scalar = r.ReadLE<std::uint32_t>("scalar type");
  const auto declared = r.ReadLE<std::uint64_t>("file size");
  if (declared != size)
    throw IoError(
        source, 16,
        (declared > size ? "truncated: header declares " : "trailing data: header declares ") +
            std::to_string(declared) + " bytes but the file has " + std::to_string(size));
  return {version, scalar};
}

// Opens a model file and reads it whole, but only after its first 24 bytes and its size (fstat)
// passed CheckEnvelope: a directory or FIFO is refused before reading, and a file whose size
// differs from what its header declares (e.g. followed by gigabytes of junk) is refused after
// reading 24 bytes.
inline std::vector<std::byte> ReadModelBytes(const std::filesystem::path& path) {
  const ReadOnlyFile f(path);
  const std::uint64_t minimum = ModelFormat::kHeaderBytes + ModelFormat::kTrailerBytes;
  if (f.Size() >= minimum) CheckEnvelope(f.Read(0, 24), f.Size(), f.Name());
  return f.Read(0, f.Size());  // a short file is read (< 52 bytes) and refused by the parser
}

inline std::uint64_t CheckedMul(std::uint64_t a, std::uint64_t b, ByteReader& r, const char* what) {
  std::uint64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out))
    r.Fail(std::string("implausible size: ") + what + " overflows 64 bits (" + std::to_string(a) +
           " x " + std::to_string(b) + ")");
  return out;
}

}  // namespace detail

/// The model file bytes in memory.
template <class S>
std::vector<std::byte> SerializeModel(const RowMatrix<S>& U, const RowMatrix<S>& I,
                                      const ModelMetadata& meta = {}) {
  detail::CheckTables(U, I, meta, "SerializeModel");
  std::vector<std::byte> out;
  detail::WriteModel(
      U, I, meta, [&](std::span<const std::byte> b) { out.insert(out.end(), b.begin(), b.end()); });
  return out;
}

/// Saves U, I and metadata to `path` atomically: a failure leaves any previous file intact.
///
///   ModelMetadata meta{"mf", {{"lr", "180"}, {"epochs", "300"}}, {}, {}};
///   SaveModel("citeulike-mf.dspm", U, I, meta);
///   Model<float> back = LoadModel<float>("citeulike-mf.dspm");
template <class S>
void SaveModel(const std::filesystem::path& path, const RowMatrix<S>& U, const RowMatrix<S>& I,
               const ModelMetadata& meta = {}, const AtomicWriteOptions& options = {}) {
  detail::CheckTables(U, I, meta, path.string());
  AtomicFileWriter w(path, options);
  detail::WriteModel(U, I, meta, [&](std::span<const std::byte> b) { w.Write(b); });
  w.Commit();
}

/// Validates the envelope (size, magic, version, declared size, checksum) and parses header and
/// metadata. `source` names the file in error messages.
inline ModelInfo ParseModelInfo(std::span<const std::byte> bytes, std::string source = "<memory>",
                                const ModelParseOptions& options = {}) {
  ByteReader r(bytes, std::move(source));
  ModelInfo info;
  std::tie(info.version, info.scalar) = detail::CheckEnvelope(bytes, bytes.size(), r.Source());
  r.Take(24, "header");
  static_assert(ModelFormat::kTrailerBytes == 4, "the trailer is one CRC-32");
  if (options.verify_checksum) VerifyCrc32Trailer(bytes, r.Source());
  if (info.scalar != ModelFormat::kFloat32 && info.scalar != ModelFormat::kFloat64)
    throw IoError(
        r.Source(), 12,
        "unknown scalar type code " + std::to_string(info.scalar) + " (1 = float32, 2 = float64)");
  info.users = r.ReadLE<std::uint64_t>("user count");
  info.items = r.ReadLE<std::uint64_t>("item count");
  info.dim = r.ReadLE<std::uint64_t>("dimension");
  constexpr std::uint64_t kMaxIndex = static_cast<std::uint64_t>(std::numeric_limits<Index>::max());
  // Users and items together must fit one Index too: LightGCN stacks them into one table, and
  // with d = 0 no table size bounds the counts.
  if (info.users > kMaxIndex || info.items > kMaxIndex || info.dim > kMaxIndex ||
      info.users + info.items > kMaxIndex)
    throw IoError(r.Source(), 24,
                  "implausible table shape " + std::to_string(info.users) + ", " +
                      std::to_string(info.items) + ", " + std::to_string(info.dim));
  auto& meta = info.metadata;
  meta.encoder = r.ReadString("SaveModel: encoder name");
  const auto hp = r.ReadLE<std::uint32_t>("hyperparameter count");
  if (hp > r.Remaining() / 8) r.Fail("implausible hyperparameter count " + std::to_string(hp));
  for (std::uint32_t k = 0; k < hp; ++k) {
    std::string key = r.ReadString("SaveModel: hyperparameter name");
    std::string value = r.ReadString("SaveModel: hyperparameter value");
    // Keys are stored sorted and unique (std::map order), so the encoding is canonical.
    if (!meta.hyperparameters.empty() && !(meta.hyperparameters.rbegin()->first < key))
      r.Fail(meta.hyperparameters.count(key) ? "duplicate hyperparameter name"
                                             : "hyperparameter names out of order");
    meta.hyperparameters.emplace_hint(meta.hyperparameters.end(), std::move(key), std::move(value));
  }
  auto read_ids = [&](std::vector<std::string>& ids, std::uint64_t expected, const char* what) {
    const auto count = r.ReadLE<std::uint64_t>(what);
    if (count != 0 && count != expected)
      r.Fail(std::string(what) + " " + std::to_string(count) + " is neither 0 nor the table's " +
             std::to_string(expected) + " rows");
    if (count > r.Remaining() / 4)
      r.Fail(std::string("implausible ") + what + " " + std::to_string(count));
    ids.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t k = 0; k < count; ++k) ids.push_back(r.ReadString("raw id"));
  };
  read_ids(meta.user_ids, info.users, "user id count");
  read_ids(meta.item_ids, info.items, "item id count");
  if (info.version >= ModelFormat::kSeenVersion) {
    const auto rows = r.ReadLE<std::uint64_t>("seen set user count");
    if (rows != info.users)
      r.Fail("seen set user count " + std::to_string(rows) + " is not the table's " +
             std::to_string(info.users) + " users");
    if (rows >= r.Remaining() / 8)
      r.Fail("truncated: seen set offsets of " + std::to_string(rows) + " users");
    SeenSets seen;
    seen.offsets.resize(static_cast<std::size_t>(rows) + 1);
    for (auto& o : seen.offsets) o = r.ReadLE<std::uint64_t>("seen set offset");
    if (seen.offsets.front() != 0) r.Fail("the first seen set offset is not 0");
    for (std::size_t u = 0; u < rows; ++u)
      if (seen.offsets[u + 1] < seen.offsets[u])
        r.Fail("seen set offsets decrease at user " + std::to_string(u));
    const std::uint64_t total = seen.offsets.back();
    if (total > r.Remaining() / 4)
      r.Fail("truncated: " + std::to_string(total) + " seen items do not fit in the file");
    seen.items.resize(static_cast<std::size_t>(total));
    for (std::uint64_t k = 0; k < total; ++k) {
      const auto item = r.ReadLE<std::uint32_t>("seen item");
      if (item >= info.items)
        r.Fail("seen item " + std::to_string(item) + " outside the table's " +
               std::to_string(info.items) + " items");
      seen.items[k] = static_cast<Id>(item);
    }
    for (std::size_t u = 0; u < rows; ++u)
      for (auto k = seen.offsets[u] + 1; k < seen.offsets[u + 1]; ++k)
        if (seen.items[k - 1] >= seen.items[k])
          r.Fail("seen items of user " + std::to_string(u) + " are not strictly increasing");
    meta.seen = std::move(seen);
  }
  while (r.Offset() % 8 != 0) {
    if (r.Take(1, "padding")[0] != std::byte{0}) r.Fail("non-zero padding byte");
  }
  info.table_offset = r.Offset();
  const std::uint64_t width = info.scalar == ModelFormat::kFloat32 ? 4 : 8;
  const std::uint64_t rows = info.users + info.items;  // <= Index max, checked above
  const std::uint64_t table_bytes = detail::CheckedMul(
      detail::CheckedMul(rows, info.dim, r, "rows x dimension"), width, r, "table bytes");
  const std::uint64_t left = r.Remaining();  // tables + CRC
  const std::uint64_t room =
      left >= ModelFormat::kTrailerBytes ? left - ModelFormat::kTrailerBytes : 0;
  const std::string shape = std::to_string(info.users) + "+" + std::to_string(info.items) + " x " +
                            std::to_string(info.dim);
  if (table_bytes > room)
    r.Fail("truncated: tables " + shape + " need " + std::to_string(table_bytes) +
           " bytes but only " + std::to_string(room) + " remain");
  if (table_bytes != room)
    r.Fail("size mismatch: tables " + shape + " need " + std::to_string(table_bytes) +
           " bytes but " + std::to_string(room) + " remain");
  return info;
}

/// Parses a model from memory (the fuzzing entry point). Throws IoError naming `source`, the
/// byte offset and the problem; never reads out of bounds or allocates more than the input
/// justifies.
template <class S>
Model<S> ParseModel(std::span<const std::byte> bytes, std::string source = "<memory>",
                    const ModelParseOptions& options = {}) {
  ModelInfo info = ParseModelInfo(bytes, source, options);
  if (info.scalar != detail::ScalarCode<S>())
    throw IoError(source, 12,
                  std::string("stores ") + detail::ScalarName(info.scalar) + " tables but " +
                      detail::ScalarName(detail::ScalarCode<S>()) +
                      " was requested (load it with the matching scalar type)");
  Model<S> model;
  model.metadata = std::move(info.metadata);
  const Index n = static_cast<Index>(info.users), m = static_cast<Index>(info.items),
              d = static_cast<Index>(info.dim);
  model.users.resize(n, d);
  model.items.resize(m, d);
  const std::byte* p = bytes.data() + info.table_offset;
  ScalarsFromLE(p, static_cast<std::size_t>(n * d), model.users.data());
  ScalarsFromLE(p + n * d * static_cast<Index>(sizeof(S)), static_cast<std::size_t>(m * d),
                model.items.data());
  return model;
}

/// Loads a model file; IoError names the file and what is wrong (empty, truncated, corrupted,
/// wrong version, wrong scalar type, ...).
template <class S>
Model<S> LoadModel(const std::filesystem::path& path, const ModelParseOptions& options = {}) {
  const auto bytes = detail::ReadModelBytes(path);
  return ParseModel<S>(bytes, path.string(), options);
}

/// Header and metadata of a model file (e.g. to pick the scalar type before LoadModel).
inline ModelInfo LoadModelInfo(const std::filesystem::path& path) {
  const auto bytes = detail::ReadModelBytes(path);
  return ParseModelInfo(bytes, path.string());
}

}  // namespace directspec
