// Writers for interaction pairs, the inverse of data/parse.hpp: `user,item` CSV (what the shared
// datasets and the loaders read) and the LightGCN `user item item ...` text format. Used to
// export splits and subsamples, and by the round-trip tests. Files are written atomically
// (io/atomic_file.hpp, the writer every output uses): a failed or killed write leaves the previous
// file as it was.
#pragma once

#include <charconv>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "directspec/core/types.hpp"
#include "directspec/data/data_error.hpp"
#include "directspec/data/id_map.hpp"
#include "directspec/data/interactions.hpp"
#include "directspec/io/atomic_file.hpp"

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

// Errors stay DataErrors (the data layer's exception), with the io layer's reason.
inline void WriteBytes(const std::filesystem::path& path, const std::string& bytes) {
  try {
    AtomicWriteFile(path, std::string_view(bytes));
  } catch (const IoError& e) {
    throw DataError(path.string(), 0, "", std::string(e.what()).substr(e.File().size() + 2));
  }
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
/// FileFormat::kAuto reads it back as LightGCN).
inline void WriteLightGcn(const std::filesystem::path& path, const Interactions& data,
                          const IdMaps* maps = nullptr, bool users_without_items = false) {
  detail::WriteBytes(path, FormatLightGcn(data, maps, users_without_items));
}

}  // namespace directspec
