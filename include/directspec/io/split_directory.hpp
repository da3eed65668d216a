// The split directory: a PreparedData (data/prepare.hpp) on disk, the output of data
// preparation. train.csv, valid.csv (when there is a validation part) and test.csv hold
// `user,item[,rating][,time]` rows with the raw ids, in file order; report.txt holds
// PreparedData::Report() under the kSplitDirectoryMarker line, which tells LoadDataset(dir) to
// remap the ids, so that LoadDataset(dir) returns the same Dataset. The directory is written
// as a whole (io/atomic_dir.hpp): a reader sees the previous split or the new one, never a mix.
// It sits in io/ because data/ does not reach the atomic writers.
#pragma once

#include <charconv>
#include <cmath>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "directspec/core/text.hpp"
#include "directspec/data/data_error.hpp"
#include "directspec/data/dataset.hpp"
#include "directspec/data/prepare.hpp"
#include "directspec/io/atomic_dir.hpp"

namespace directspec {

/// The files a split directory may hold (for CheckOutputDirectory).
inline const std::vector<std::string>& SplitDirectoryNames() {
  static const std::vector<std::string> names{"train.csv", "valid.csv", "test.csv", "report.txt"};
  return names;
}

namespace detail {

/// Throws DataError unless `raw` reads back as the same token from a CSV field.
inline void CheckWritable(const std::string& raw, const char* side, const std::string& source) {
  const bool bad_char =
      raw.find_first_of(",\"\n\r") != std::string::npos || raw.find('\0') != std::string::npos;
  const bool padded = !raw.empty() && (IsBlank(raw.front()) || IsBlank(raw.back()));
  if (raw.empty() || bad_char || padded)
    throw DataError(source, 0, raw,
                    std::string("the raw ") + side + " id " + DataError::Quote(raw) +
                        " cannot be written to a CSV split (it holds a comma, quote or line "
                        "break, or starts or ends with a blank)");
}

inline void AppendNumber(std::string& out, double v) {
  char buf[64];
  const bool fixed = std::abs(v) < 1e15 && v == std::floor(v);
  const auto [end, ec] = fixed ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                               : std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 64 characters hold any double
  out.append(buf, end);
}

inline std::string FormatRows(std::span<const LogRow> rows, const IdMaps& ids, bool rating,
                              bool time) {
  std::string out = "user,item";
  if (rating) out += ",rating";
  if (time) out += ",time";
  out += '\n';
  out.reserve(rows.size() * 32 + out.size());
  for (const LogRow& r : rows) {
    out += ids.users.Raw(r.user);
    out += ',';
    out += ids.items.Raw(r.item);
    if (rating) {
      out += ',';
      AppendNumber(out, static_cast<double>(r.rating));
    }
    if (time) {
      out += ',';
      AppendNumber(out, r.time);
    }
    out += '\n';
  }
  return out;
}

inline std::span<const std::byte> Bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

}  // namespace detail

/// Writes `prepared` to the directory `dir` (absent, or holding only SplitDirectoryNames(): it
/// is replaced as a whole). Throws DataError for a raw id that a CSV field cannot hold, IoError
/// for a directory that cannot be written (the previous one is then unchanged).
///
///   PreparedData p = PrepareDataset(ReadRawLog("ratings.csv", o), prep);
///   WriteSplitDirectory("data/ml-split", p);
///   Dataset again = LoadDataset("data/ml-split");   // == p.dataset (ids, parts, rows)
inline void WriteSplitDirectory(const std::filesystem::path& dir, const PreparedData& prepared) {
  using namespace detail;
  const IdMaps& ids = *prepared.dataset.ids;
  for (const auto& raw : ids.users.RawIds()) CheckWritable(raw, "user", prepared.input);
  for (const auto& raw : ids.items.RawIds()) CheckWritable(raw, "item", prepared.input);
  const bool valid = prepared.dataset.valid.has_value();
  AtomicDirectoryWriter w(dir);
  w.AlsoReplaces(SplitDirectoryNames());
  w.WriteFile("train.csv",
              Bytes(FormatRows(prepared.parts.train, ids, prepared.has_rating, prepared.has_time)));
  if (valid)
    w.WriteFile("valid.csv", Bytes(FormatRows(prepared.parts.valid, ids, prepared.has_rating,
                                              prepared.has_time)));
  w.WriteFile("test.csv",
              Bytes(FormatRows(prepared.parts.test, ids, prepared.has_rating, prepared.has_time)));
  std::string report = std::string(kSplitDirectoryMarker) +
                       " (raw ids: LoadDataset and directspec-train --data remap them)\n" +
                       "files: train.csv" + (valid ? ", valid.csv" : "") + ", test.csv (user,item" +
                       (prepared.has_rating ? ",rating" : "") + (prepared.has_time ? ",time" : "") +
                       "; file order)\n" + prepared.Report();
  w.WriteFile("report.txt", Bytes(report));
  w.Commit();
}

}  // namespace directspec
