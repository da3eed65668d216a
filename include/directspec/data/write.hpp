// Writers for interaction pairs, the inverse of parse.hpp: `user,item` CSV (what the shared
// datasets and the loaders read) and the LightGCN `user item item ...` text format. Used to
// export splits and subsamples, and by the round-trip tests. Plain writes: a crash mid-write can
// leave a partial file (io/ holds the atomic writers for model files).
#pragma once

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <utility>

#include "directspec/core/types.hpp"
#include "directspec/data/data_error.hpp"
#include "directspec/data/id_map.hpp"
#include "directspec/data/interactions.hpp"

namespace directspec {

namespace detail {

inline void AppendId(std::string& out, Id id, const IdMap* map) {
  if (map) {
    out += map->Raw(id);
    return;
  }
  char buf[16];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, id);
  (void)ec;  // 16 chars always hold an int32
  out.append(buf, end);
}

inline void WriteBytes(const std::filesystem::path& path, const std::string& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw DataError(path.string(), 0, "", "cannot open for writing");
  const std::size_t wrote = std::fwrite(bytes.data(), 1, bytes.size(), f);
  const bool closed = std::fclose(f) == 0;
  if (wrote != bytes.size() || !closed)
    throw DataError(path.string(), 0, "", "write error (disk full?)");
}

}  // namespace detail

/// `user,item` CSV text of `pairs` (with the header line unless header = false). With `maps`,
/// raw tokens are written instead of dense ids (tokens must not contain ',' or newlines).
inline std::string FormatPairsCsv(std::span<const std::pair<Id, Id>> pairs,
                                  const IdMaps* maps = nullptr, bool header = true) {
  std::string out;
  out.reserve(pairs.size() * 14 + 10);
  if (header) out += "user,item\n";
  for (const auto& [u, i] : pairs) {
    detail::AppendId(out, u, maps ? &maps->users : nullptr);
    out += ',';
    detail::AppendId(out, i, maps ? &maps->items : nullptr);
    out += '\n';
  }
  return out;
}

/// Writes FormatPairsCsv(pairs, maps, header) to `path`. Throws DataError naming the file.
///
///   WritePairsCsv("subsample.csv", Subsample(d.train, 0.1, 7).Pairs());
inline void WritePairsCsv(const std::filesystem::path& path,
                          std::span<const std::pair<Id, Id>> pairs, const IdMaps* maps = nullptr,
                          bool header = true) {
  detail::WriteBytes(path, FormatPairsCsv(pairs, maps, header));
}

/// LightGCN text of `data`: one line `user item item ...` per user with at least one item
/// (users_without_items = true also writes a bare `user` line for the others).
inline std::string FormatLightGcn(const Interactions& data, const IdMaps* maps = nullptr,
                                  bool users_without_items = false) {
  std::string out;
  out.reserve(static_cast<std::size_t>(data.Nnz()) * 7 +
              static_cast<std::size_t>(data.Users()) * 7);
  for (Index u = 0; u < data.Users(); ++u) {
    const auto items = data.ItemsOf(u);
    if (items.empty() && !users_without_items) continue;
    detail::AppendId(out, static_cast<Id>(u), maps ? &maps->users : nullptr);
    for (Id i : items) {
      out += ' ';
      detail::AppendId(out, i, maps ? &maps->items : nullptr);
    }
    out += '\n';
  }
  return out;
}

/// Writes FormatLightGcn(data, maps, users_without_items) to `path` (use a .txt name so
/// FileFormat::Auto reads it back as LightGCN).
inline void WriteLightGcn(const std::filesystem::path& path, const Interactions& data,
                          const IdMaps* maps = nullptr, bool users_without_items = false) {
  detail::WriteBytes(path, FormatLightGcn(data, maps, users_without_items));
}

}  // namespace directspec
