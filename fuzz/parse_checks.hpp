// Invariants of data/parse.hpp shared by the two parser fuzz targets (fuzz_parse_pairs.cpp,
// fuzz_parse_lightgcn.cpp): what a successful parse must satisfy (ids within the reported and
// declared bounds, counts consistent with the text, remapped ids dense), what a DataError must
// carry (the source name, a line inside the text), and the CSR built from the pairs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "directspec/data/data_error.hpp"
#include "directspec/data/id_map.hpp"
#include "directspec/data/interactions.hpp"
#include "directspec/data/parse.hpp"
#include "fuzz_common.hpp"

namespace directspec_fuzz {

using directspec::Id;
using directspec::Index;

/// The text the parser sees after it drops a UTF-8 byte-order mark.
inline std::string_view WithoutBom(std::string_view text) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  return text;
}

/// Physical lines of `text` as the parser counts them (a final line without '\n' counts).
inline std::int64_t CountLines(std::string_view text) {
  const auto newlines = static_cast<std::int64_t>(std::count(text.begin(), text.end(), '\n'));
  return newlines + (!text.empty() && text.back() != '\n' ? 1 : 0);
}

/// Whether an n x m CSR is cheap enough to build inside a fuzz iteration.
inline bool SmallIndexSpace(Index n, Index m) {
  return n <= (Index{1} << 16) && m <= (Index{1} << 16);
}

/// Checks a successful parse of `text` (maps: the IdMaps used for IdPolicy::kRemap).
inline void CheckParsed(std::string_view text, const directspec::ParseOptions& o,
                        const directspec::ParsedFile& p, const directspec::IdMaps* maps) {
  using directspec::FileFormat;
  const std::string_view body = WithoutBom(text);
  FUZZ_CHECK(p.lines == CountLines(body),
             "line count " + std::to_string(p.lines) + " != " + std::to_string(CountLines(body)));
  FUZZ_CHECK(p.data_lines >= 0 && p.data_lines <= p.lines, "data_lines out of [0, lines]");
  FUZZ_CHECK(!p.pairs.empty() || o.allow_empty, "empty result without allow_empty");
  if (p.format == FileFormat::kPairs)
    FUZZ_CHECK(static_cast<std::size_t>(p.data_lines) == p.pairs.size(),
               "Pairs format: one pair per data line");
  else if (p.data_lines > 0 || p.header)  // the delimiter is only decided by a non-blank line
    FUZZ_CHECK(p.delimiter == ' ', "LightGCN lines are whitespace separated");

  Id max_u = -1, max_i = -1;
  for (const auto& [u, i] : p.pairs) {
    FUZZ_CHECK(u >= 0 && i >= 0, "negative dense id");
    FUZZ_CHECK(u <= p.max_user && i <= p.max_item, "id above the reported maximum");
    if (o.declared_users) FUZZ_CHECK(u < *o.declared_users, "user id not below the declared count");
    if (o.declared_items) FUZZ_CHECK(i < *o.declared_items, "item id not below the declared count");
    max_u = std::max(max_u, u);
    max_i = std::max(max_i, i);
  }
  FUZZ_CHECK(max_i == p.max_item, "max_item is not the largest item id");
  // LightGCN lines may name users without items, which still count toward max_user.
  if (p.format == FileFormat::kPairs)
    FUZZ_CHECK(max_u == p.max_user, "max_user is not the largest user id");
  else
    FUZZ_CHECK(max_u <= p.max_user, "a pair's user is above max_user");
  if (o.declared_users) FUZZ_CHECK(p.max_user < *o.declared_users, "max_user above declared");
  if (p.max_user >= 0)
    FUZZ_CHECK(p.max_user_line >= 1 && p.max_user_line <= p.lines, "max_user_line outside text");
  if (p.max_item >= 0)
    FUZZ_CHECK(p.max_item_line >= 1 && p.max_item_line <= p.lines, "max_item_line outside text");

  if (o.ids == directspec::IdPolicy::kRemap) {
    FUZZ_CHECK(maps != nullptr, "remap without maps");
    // Dense ids are exactly 0..Size()-1 and every one was produced by this file.
    FUZZ_CHECK(maps->users.Size() == static_cast<Index>(p.max_user) + 1,
               "remapped users are not dense: " + std::to_string(maps->users.Size()) +
                   " tokens, max id " + std::to_string(p.max_user));
    FUZZ_CHECK(maps->items.Size() == static_cast<Index>(p.max_item) + 1,
               "remapped items are not dense");
    for (Index k = 0; k < maps->users.Size(); ++k) {
      const std::string& raw = maps->users.Raw(static_cast<Id>(k));
      FUZZ_CHECK(!raw.empty(), "empty raw user token");
      FUZZ_CHECK(raw.find('\n') == std::string::npos, "raw user token holds a newline");
      FUZZ_CHECK(body.find(raw) != std::string_view::npos, "raw user token not in the text");
    }
    for (Index k = 0; k < maps->items.Size(); ++k) {
      const std::string& raw = maps->items.Raw(static_cast<Id>(k));
      FUZZ_CHECK(!raw.empty(), "empty raw item token");
      FUZZ_CHECK(body.find(raw) != std::string_view::npos, "raw item token not in the text");
    }
  }

  // The CSR built from the pairs: sorted unique rows, every pair present, transpose consistent.
  // (Skipped for ids near 2^31: the CSR is O(ids) and the dataset layer refuses such spaces.)
  const Index n = static_cast<Index>(p.max_user) + 1, m = static_cast<Index>(p.max_item) + 1;
  if (!SmallIndexSpace(n, m)) return;
  const auto x = directspec::Interactions::FromPairs(n, m, p.pairs);
  FUZZ_CHECK(static_cast<std::size_t>(x.Nnz() + x.DuplicatesMerged()) == p.pairs.size(),
             "Nnz + duplicates != pairs");
  for (Index u = 0; u < n; ++u) {
    const auto row = x.ItemsOf(u);
    for (std::size_t k = 1; k < row.size(); ++k)
      FUZZ_CHECK(row[k - 1] < row[k], "CSR row not strictly increasing");
  }
  for (const auto& [u, i] : p.pairs) FUZZ_CHECK(x.Contains(u, i), "pair missing from the CSR");
  const auto t = x.Transposed();
  FUZZ_CHECK(static_cast<Index>(t.columns.size()) == x.Nnz(), "transpose nnz differs");
  Index degree_sum = 0;
  for (Index i = 0; i < m; ++i) degree_sum += t.Degree(i);
  FUZZ_CHECK(degree_sum == x.Nnz(), "item degrees do not sum to nnz");
}

/// Checks a DataError thrown while parsing `text` from `source`.
inline void CheckError(std::string_view text, std::string_view source,
                       const directspec::DataError& e) {
  FUZZ_CHECK(e.File() == source, "DataError names '" + e.File() + "', not the source");
  const std::string what = e.what();
  FUZZ_CHECK(what.rfind(std::string(source), 0) == 0, "message does not start with the source");
  const std::int64_t lines = std::max<std::int64_t>(1, CountLines(WithoutBom(text)));
  FUZZ_CHECK(e.Line() >= 0 && e.Line() <= lines,
             "DataError line " + std::to_string(e.Line()) + " outside 0.." + std::to_string(lines));
  FUZZ_CHECK(what.size() < 4096, "runaway error message");
}

/// A raw token survives a CSV round trip: no separator, blank, newline or BOM-like start.
inline bool CsvSafe(const std::string& raw) {
  if (raw.empty() || raw.rfind("\xEF\xBB\xBF", 0) == 0) return false;
  for (char c : raw)
    if (c == ',' || c == '\n' || directspec::IsBlank(c)) return false;
  return true;
}

inline bool AllCsvSafe(const directspec::IdMap& map) {
  for (const auto& raw : map.RawIds())
    if (!CsvSafe(raw)) return false;
  return true;
}

}  // namespace directspec_fuzz
