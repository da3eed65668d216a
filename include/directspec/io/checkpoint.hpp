// Checkpoints: the whole state of a training run in one file, so that a long run can stop and
// continue later bit for bit (docs/model-files.md "Checkpoints"). The trainer, its optimizer and
// stateful callbacks (early stopping, learning signals) put their state into a StateArchive
// (core/state_archive.hpp); this header writes it with a fingerprint of the data, the model and
// the settings, atomically (io/atomic_file.hpp) and with a CRC-32, and reads it back, refusing a
// file from other data, another model or other settings, and any corrupt or truncated file.
//
//   const auto fp = MakeCheckpointFingerprint(trainer, data.train, "lr=180; tau=3");
//   SaveCheckpoint("run.dspc", trainer, fp, stopper);        // e.g. from OnEpochEnd
//   ...
//   LoadCheckpoint("run.dspc", trainer, data.train, fp, stopper);
//   trainer.Train(data.train, stopper);                        // continues after the saved epoch
//
// Parsing treats the bytes as hostile, like the model-file loader: lengths are checked against
// what remains before anything is allocated, sizes multiplied with overflow checks.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "directspec/core/state_archive.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/interactions.hpp"
#include "directspec/io/atomic_file.hpp"
#include "directspec/io/file_io.hpp"
#include "directspec/io/io_error.hpp"

namespace directspec {

/// Format constants of checkpoint files.
struct CheckpointFormat {
  /// "\x89DSPC\r\n\x1a": like model files, a non-ASCII first byte and CR LF / EOF bytes.
  static constexpr std::array<std::uint8_t, 8> kMagic{0x89, 'D', 'S', 'P', 'C', '\r', '\n', 0x1A};
  static constexpr std::uint32_t kVersion = 1;
  static constexpr std::size_t kHeaderBytes = 24;  // magic, version, reserved, total size
  static constexpr std::size_t kTrailerBytes = 4;  // CRC-32 of everything before it
};

/// What a checkpoint belongs to. Each part is a readable "key value; key value" string; a
/// checkpoint is loaded only into a run whose three parts are equal to the stored ones.
struct CheckpointFingerprint {
  std::string data;      // the train interactions (shape and a CRC-32 of the CSR)
  std::string model;     // encoder kind, dimension, layers, scalar type, table names
  std::string settings;  // everything else that changes the trajectory (trainer options, policies)

  bool operator==(const CheckpointFingerprint&) const = default;
};

/// A checkpoint file's contents.
struct Checkpoint {
  CheckpointFingerprint fingerprint;
  StateArchive state;
};

/// A number as fingerprints write it: 17 significant digits, so equal fingerprints mean equal
/// doubles (the text stored in checkpoint files; changing it would refuse every earlier one).
inline std::string FingerprintNumber(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

namespace detail {

inline std::uint64_t ElementBytes(StateArchive::Kind kind) {
  switch (kind) {
    case StateArchive::Kind::kFloat32:
      return 4;
    case StateArchive::Kind::kFloat64:
    case StateArchive::Kind::kInt64:
      return 8;
    case StateArchive::Kind::kText:
      return 1;
  }
  return 0;
}

template <class V>
void PutValues(std::vector<std::byte>& out, const V& values) {
  using T = typename V::value_type;
  const std::size_t at = out.size();
  out.resize(at + values.size() * sizeof(T));
  ScalarsToLE(values.data(), values.size(), out.data() + at);
}

/// The first "; "-separated part where two fingerprints differ, for the refusal message.
inline std::string FirstDifference(const std::string& stored, const std::string& current) {
  auto split = [](const std::string& s) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= s.size()) {
      const auto end = s.find("; ", start);
      parts.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
      start = end + 2;
    }
    return parts;
  };
  const auto a = split(stored), b = split(current);
  for (std::size_t k = 0; k < std::max(a.size(), b.size()); ++k) {
    const std::string x = k < a.size() ? a[k] : "(nothing)";
    const std::string y = k < b.size() ? b[k] : "(nothing)";
    if (x != y) return "the checkpoint has '" + x + "', this run '" + y + "'";
  }
  return "the checkpoint has '" + stored + "', this run '" + current + "'";
}

}  // namespace detail

/// "5551 users x 16980 items, 204986 interactions, CSR CRC-32 1a2b3c4d": two data sets with the
/// same fingerprint have the same train matrix (up to a CRC collision).
inline std::string DataFingerprint(const Interactions& train) {
  const CsrView v = train.View();
  std::vector<std::byte> bytes;
  bytes.reserve(static_cast<std::size_t>(8 * (train.Users() + 1) + 4 * train.Nnz()));
  for (Index u = 0; u <= train.Users(); ++u)
    PutLE<std::uint64_t>(bytes, static_cast<std::uint64_t>(v.offsets[u]));
  for (Index e = 0; e < train.Nnz(); ++e)
    PutLE<std::uint32_t>(bytes, static_cast<std::uint32_t>(v.columns[e]));
  const std::uint32_t crc = Crc32(bytes);
  char hex[16];
  std::snprintf(hex, sizeof(hex), "%08x", crc);
  return std::to_string(train.Users()) + " users x " + std::to_string(train.Items()) + " items, " +
         std::to_string(train.Nnz()) + " interactions, CSR CRC-32 " + hex;
}

/// The encoder's kind and shape: "encoder lightgcn; propagation neighbourhood; dim 64; layers 3;
/// layer weights 1,1,1,1; scalar float32; tables node".
template <class Encoder>
std::string ModelFingerprint(const Encoder& encoder) {
  using S = typename Encoder::Scalar;
  std::string out = "encoder ";
  if constexpr (requires { Encoder::kName; })
    out += Encoder::kName;
  else
    out += "?";
  if constexpr (requires { Encoder::PropagationPolicy::kName; })
    out += std::string("; propagation ") + Encoder::PropagationPolicy::kName;
  out += "; dim " + std::to_string(encoder.Dim());
  if constexpr (requires { encoder.Layers(); })
    out += "; layers " + std::to_string(encoder.Layers());
  if constexpr (requires { encoder.LayerWeightValues(); }) {
    out += "; layer weights ";
    bool first = true;
    for (S w : encoder.LayerWeightValues()) {
      out += (first ? "" : ",") + FingerprintNumber(static_cast<double>(w));
      first = false;
    }
  }
  out += std::string("; scalar ") + (std::is_same_v<S, float> ? "float32" : "float64");
  out += "; tables";
  for (const auto& name : encoder.TableNames()) out += " " + name;
  return out;
}

/// The trainer options that change the trajectory ("batch 256; micro-batches 1; seed 0; ..."),
/// then `policy_settings` (what the trainer cannot see: filter, loss, optimizer settings).
/// The text is stored in checkpoints, so its words stay as earlier builds wrote them ("layer-0
/// L2" is Options::weight_decay).
template <class Trainer>
std::string TrainerSettingsFingerprint(const Trainer& trainer,
                                       const std::string& policy_settings = "") {
  const auto& o = trainer.GetOptions();
  std::string out = "batch " + std::to_string(o.batch_size) + "; steps per epoch " +
                    std::to_string(o.steps_per_epoch) + "; micro-batches " +
                    std::to_string(o.micro_batches) + "; seed " + std::to_string(o.seed) +
                    "; normalize rows " + (o.normalize_rows ? "yes" : "no") + "; shrink " +
                    FingerprintNumber(o.shrink) + "; layer-0 L2 " +
                    FingerprintNumber(o.weight_decay);
  if (!policy_settings.empty()) out += "; " + policy_settings;
  return out;
}

/// The fingerprint of a run: DataFingerprint(train), ModelFingerprint(encoder) and
/// TrainerSettingsFingerprint(trainer, policy_settings).
template <class Trainer>
CheckpointFingerprint MakeCheckpointFingerprint(const Trainer& trainer, const Interactions& train,
                                                const std::string& policy_settings = "") {
  return {DataFingerprint(train), ModelFingerprint(trainer.Encoder()),
          TrainerSettingsFingerprint(trainer, policy_settings)};
}

/// The bytes of a checkpoint file (format: docs/model-files.md "Checkpoints").
inline std::vector<std::byte> SerializeCheckpoint(const Checkpoint& c) {
  using namespace detail;
  std::vector<std::byte> out;
  for (auto b : CheckpointFormat::kMagic) out.push_back(static_cast<std::byte>(b));
  PutLE<std::uint32_t>(out, CheckpointFormat::kVersion);
  PutLE<std::uint32_t>(out, 0);  // reserved
  PutLE<std::uint64_t>(out, 0);  // total size, patched below
  PutString(out, c.fingerprint.data, "SaveCheckpoint: data fingerprint");
  PutString(out, c.fingerprint.model, "SaveCheckpoint: model fingerprint");
  PutString(out, c.fingerprint.settings, "SaveCheckpoint: settings fingerprint");
  PutLE<std::uint64_t>(out, c.state.Entries().size());
  for (const auto& [name, e] : c.state.Entries()) {
    PutString(out, name, "SaveCheckpoint: entry name");
    PutLE<std::uint32_t>(out, static_cast<std::uint32_t>(e.kind));
    PutLE<std::uint64_t>(out, e.rows);
    PutLE<std::uint64_t>(out, e.cols);
    switch (e.kind) {
      case StateArchive::Kind::kFloat32:
        PutValues(out, e.f32);
        break;
      case StateArchive::Kind::kFloat64:
        PutValues(out, e.f64);
        break;
      case StateArchive::Kind::kInt64:
        PutValues(out, e.i64);
        break;
      case StateArchive::Kind::kText: {
        const auto* p = reinterpret_cast<const std::byte*>(e.text.data());
        out.insert(out.end(), p, p + e.text.size());
        break;
      }
    }
  }
  const std::uint64_t total = out.size() + CheckpointFormat::kTrailerBytes;
  StoreLE<std::uint64_t>(out.data() + 16, total);
  PutLE<std::uint32_t>(out, Crc32(out));
  return out;
}

/// Parses checkpoint bytes; IoError naming `source`, the byte offset and the problem for
/// anything but a complete, intact checkpoint of a known version.
inline Checkpoint ParseCheckpoint(std::span<const std::byte> bytes,
                                  std::string source = "<memory>") {
  using namespace detail;
  ByteReader r(bytes, std::move(source));
  if (bytes.empty()) r.Fail("empty file, not a checkpoint");
  const auto magic = r.Take(std::min<std::size_t>(8, bytes.size()), "magic");
  for (std::size_t k = 0; k < magic.size(); ++k)
    if (magic[k] != static_cast<std::byte>(CheckpointFormat::kMagic[k]))
      throw IoError(r.Source(), static_cast<std::int64_t>(k),
                    "not a directspec checkpoint (wrong magic bytes)");
  if (magic.size() < 8) r.Fail("truncated: the file ends inside the magic bytes");
  const auto version = r.ReadLE<std::uint32_t>("version");
  if (version != CheckpointFormat::kVersion)
    throw IoError(r.Source(), 8,
                  "checkpoint version " + std::to_string(version) +
                      " is not supported (this build "
                      "reads version " +
                      std::to_string(CheckpointFormat::kVersion) + ")");
  (void)r.ReadLE<std::uint32_t>("reserved");
  const auto total = r.ReadLE<std::uint64_t>("total size");
  if (total != bytes.size())
    throw IoError(r.Source(), 16,
                  (total > bytes.size() ? "truncated: the header declares "
                                        : "size mismatch: the "
                                          "header declares ") +
                      std::to_string(total) + " bytes, the file has " +
                      std::to_string(bytes.size()));
  if (bytes.size() < CheckpointFormat::kHeaderBytes + CheckpointFormat::kTrailerBytes)
    r.Fail("truncated: no room for the checksum");
  static_assert(CheckpointFormat::kTrailerBytes == 4, "the trailer is one CRC-32");
  VerifyCrc32Trailer(bytes, r.Source());
  ByteReader body(bytes.first(bytes.size() - CheckpointFormat::kTrailerBytes), r.Source());
  body.Take(CheckpointFormat::kHeaderBytes, "header");
  Checkpoint c;
  c.fingerprint.data = body.ReadString("data fingerprint");
  c.fingerprint.model = body.ReadString("model fingerprint");
  c.fingerprint.settings = body.ReadString("settings fingerprint");
  const auto count = body.ReadLE<std::uint64_t>("entry count");
  // An entry takes at least 4 + 4 + 8 + 8 bytes.
  if (count > body.Remaining() / 24) body.Fail("implausible entry count " + std::to_string(count));
  std::string previous;
  for (std::uint64_t k = 0; k < count; ++k) {
    std::string name = body.ReadString("entry name");
    if (k > 0 && !(previous < name))
      body.Fail(name == previous ? "duplicate entry '" + name + "'"
                                 : "entry names out of order at '" + name + "'");
    const auto kind = body.ReadLE<std::uint32_t>("entry kind");
    if (kind < 1 || kind > 4)
      body.Fail("entry '" + name + "' has unknown kind " + std::to_string(kind));
    StateArchive::Entry e;
    e.kind = static_cast<StateArchive::Kind>(kind);
    e.rows = body.ReadLE<std::uint64_t>("entry rows");
    e.cols = body.ReadLE<std::uint64_t>("entry columns");
    if (e.kind == StateArchive::Kind::kText && e.cols != 1)
      body.Fail("text entry '" + name + "' has " + std::to_string(e.cols) + " columns");
    const std::uint64_t width = ElementBytes(e.kind);
    if (e.cols != 0 && e.rows > std::numeric_limits<std::uint64_t>::max() / e.cols)
      body.Fail("entry '" + name + "' has an overflowing shape");
    const std::uint64_t elements = e.rows * e.cols;
    if (elements > body.Remaining() / width)
      body.Fail("truncated: entry '" + name + "' (" + std::to_string(e.rows) + " x " +
                std::to_string(e.cols) + ") needs " + std::to_string(elements * width) +
                " bytes, only " + std::to_string(body.Remaining()) + " left");
    if (e.cols > static_cast<std::uint64_t>(std::numeric_limits<Index>::max()) ||
        e.rows > static_cast<std::uint64_t>(std::numeric_limits<Index>::max()))
      body.Fail("entry '" + name + "' has an implausible shape");
    const auto payload = body.Take(elements * width, "entry values");
    const auto n = static_cast<std::size_t>(elements);
    switch (e.kind) {
      case StateArchive::Kind::kFloat32:
        e.f32.resize(n);
        ScalarsFromLE(payload.data(), n, e.f32.data());
        break;
      case StateArchive::Kind::kFloat64:
        e.f64.resize(n);
        ScalarsFromLE(payload.data(), n, e.f64.data());
        break;
      case StateArchive::Kind::kInt64:
        e.i64.resize(n);
        ScalarsFromLE(payload.data(), n, e.i64.data());
        break;
      case StateArchive::Kind::kText:
        e.text.assign(reinterpret_cast<const char*>(payload.data()), n);
        break;
    }
    c.state.Put(name, std::move(e));
    previous = std::move(name);
  }
  if (body.Remaining() != 0)
    body.Fail(std::to_string(body.Remaining()) + " unexpected bytes after the last entry");
  return c;
}

/// Reads a checkpoint file (IoError naming the file when it is missing, unreadable, not a
/// checkpoint, truncated or corrupt).
inline Checkpoint ReadCheckpoint(const std::filesystem::path& path) {
  const auto bytes = ReadFileBytes(path);
  return ParseCheckpoint(bytes, path.string());
}

/// Writes `checkpoint` to `path` atomically: the previous file stays whole until the new one
/// is complete on disk.
inline void WriteCheckpoint(const std::filesystem::path& path, const Checkpoint& checkpoint,
                            const AtomicWriteOptions& options = {}) {
  const auto bytes = SerializeCheckpoint(checkpoint);
  AtomicWriteFile(path, bytes, options);
}

/// Saves the trainer's state (Trainer::SaveState: tables, optimizer, progress) and that of each
/// `part` (callbacks with SaveState(StateArchive&), e.g. EarlyStopping, LearningSignals) under
/// `fingerprint`, atomically. Call it between epochs (OnEpochEnd, or outside Train()).
template <class Trainer, class... Parts>
void SaveCheckpoint(const std::filesystem::path& path, const Trainer& trainer,
                    const CheckpointFingerprint& fingerprint, const Parts&... parts) {
  Checkpoint c;
  c.fingerprint = fingerprint;
  trainer.SaveState(c.state);
  (parts.SaveState(c.state), ...);
  WriteCheckpoint(path, c);
}

/// Loads a checkpoint into `trainer` (for `train`) and `parts`, after checking that it belongs
/// to this run: IoError naming the file and the first difference when its data, model or
/// settings fingerprint differs from `expected`, or when an entry is missing or misshapen. The
/// next trainer.Train(train, ...) continues the saved run (Trainer::LoadState).
template <class Trainer, class... Parts>
void LoadCheckpoint(const std::filesystem::path& path, Trainer& trainer, const Interactions& train,
                    const CheckpointFingerprint& expected, Parts&... parts) {
  const Checkpoint c = ReadCheckpoint(path);
  using detail::FirstDifference;
  const std::string file = path.string();
  if (c.fingerprint.data != expected.data)
    throw IoError(
        file, -1,
        "is a checkpoint of other data: " + FirstDifference(c.fingerprint.data, expected.data));
  if (c.fingerprint.model != expected.model)
    throw IoError(file, -1,
                  "is a checkpoint of another model: " +
                      FirstDifference(c.fingerprint.model, expected.model));
  if (c.fingerprint.settings != expected.settings)
    throw IoError(file, -1,
                  "is a checkpoint of a run with other settings: " +
                      FirstDifference(c.fingerprint.settings, expected.settings));
  try {
    trainer.LoadState(c.state, train);
    (parts.LoadState(c.state), ...);
  } catch (const StateError& e) {
    throw IoError(file, -1, std::string("does not fit this run: ") + e.what());
  }
}

}  // namespace directspec
