// Parsers for interaction files, the first stage of the pipeline: text -> (user, item) pairs in
// dense ids. Two formats (`user,item` pairs as CSV / TSV / space-separated, and the LightGCN
// `user item item ...` lines) and two id policies (ids used as-is, or remapped through a shared
// IdMap). The parsers run on an in-memory buffer (fuzzers and tests call them directly) and on
// whole files read in one go; numbers are read with std::from_chars, no iostream per line.
// Dataset loading (dataset.hpp) builds on these.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "directspec/core/text.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/data_error.hpp"
#include "directspec/data/id_map.hpp"

namespace directspec {

/// How raw id tokens become dense ids.
enum class IdPolicy {
  /// Decimal integers used directly as dense ids (the shared datasets' convention). The index
  /// space is max id + 1 over all files of a dataset (or the declared count).
  kAsIs,
  /// Any token; dense ids by first appearance through a shared IdMap (users and items apart).
  kRemap,
};

enum class FileFormat {
  /// By file extension: ".txt" -> kLightGcn, anything else -> Pairs.
  kAuto,
  /// One interaction per line: `user<delim>item[<delim>ignored columns...]`.
  kPairs,
  /// One user per line: `user item item ...` separated by spaces / tabs; no items is allowed.
  kLightGcn,
};

enum class HeaderMode {
  /// A header is present when no field of the first non-blank line looks like an id (as-is:
  /// starts with a digit or sign; remap: contains a digit). Use Present / Absent for remapped
  /// ids without digits ("alice,bob"), which Auto would take for a header.
  kAuto,
  kPresent,
  kAbsent,
};

/// Parser settings; the defaults read the shared datasets.
struct ParseOptions {
  FileFormat format = FileFormat::kAuto;
  /// Pairs only. 0: detect from the first non-blank line (',' if it holds a comma, else
  /// whitespace). ' ': any run of spaces and tabs separates fields. Any other character: that
  /// exact separator, with spaces and tabs trimmed around each field.
  char delimiter = 0;
  HeaderMode header = HeaderMode::kAuto;
  IdPolicy ids = IdPolicy::kAsIs;
  /// Optional declared counts: as-is ids must be below them; remapped maps may not grow past.
  std::optional<Index> declared_users;
  std::optional<Index> declared_items;
  /// Accept a file with no interactions (empty, blank or header only) instead of throwing.
  bool allow_empty = false;
};

/// What one file held.
struct ParsedFile {
  std::string source;                      // file path or in-memory name, for messages
  FileFormat format = FileFormat::kPairs;  // the format actually parsed
  char delimiter = ',';                    // the separator used (' ' = whitespace runs)
  bool header = false;                     // whether a header line was skipped
  std::vector<std::pair<Id, Id>> pairs;    // dense (user, item), file order, duplicates kept
  Id max_user = -1;                        // largest dense user id (incl. LightGCN users w/o items)
  Id max_item = -1;
  std::int64_t max_user_line = 0;  // where max_user / max_item first occurred
  std::int64_t max_item_line = 0;
  std::int64_t lines = 0;       // physical lines
  std::int64_t data_lines = 0;  // lines that carried a pair (Pairs) or a user (LightGcn)
};

/// The format `requested` resolves to for a file called `path`.
inline FileFormat ResolveFormat(FileFormat requested, const std::filesystem::path& path) {
  if (requested != FileFormat::kAuto) return requested;
  return path.extension() == ".txt" ? FileFormat::kLightGcn : FileFormat::kPairs;
}

namespace detail {

/// Splits one line into fields: whitespace runs when delim == ' ', else on `delim` with each
/// field trimmed.
class FieldSplitter {
 public:
  FieldSplitter(std::string_view line, char delim) : line_(line), delim_(delim) {}
  bool Next(std::string_view& field) {
    if (delim_ == ' ') {
      while (pos_ < line_.size() && IsBlank(line_[pos_])) ++pos_;
      if (pos_ >= line_.size()) return false;
      const std::size_t start = pos_;
      while (pos_ < line_.size() && !IsBlank(line_[pos_])) ++pos_;
      field = line_.substr(start, pos_ - start);
      return true;
    }
    if (pos_ > line_.size()) return false;
    std::size_t end = line_.find(delim_, pos_);
    if (end == std::string_view::npos) end = line_.size();
    field = TrimBlanks(line_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return true;
  }

 private:
  std::string_view line_;
  char delim_;
  std::size_t pos_ = 0;
};

inline std::string DelimiterName(char c) {
  if (c == ' ') return "spaces or tabs";
  if (c == ',') return "a comma";
  if (c == '\t') return "a tab";
  std::string quoted(3, '\'');
  quoted[1] = c;
  return quoted;
}

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

inline bool LooksLikeId(std::string_view field, IdPolicy policy) {
  if (field.empty()) return false;
  if (policy == IdPolicy::kAsIs) return IsDigit(field[0]) || field[0] == '-' || field[0] == '+';
  for (char c : field)
    if (IsDigit(c)) return true;
  return false;
}

/// Parsing state shared by both formats: source name, current line, id conversion.
class LineContext {
 public:
  LineContext(std::string_view source, const ParseOptions& options, IdMaps* maps)
      : source_(source), options_(options), maps_(maps) {}

  std::int64_t line_number = 0;
  std::string_view line;

  [[noreturn]] void Fail(std::string_view text, const std::string& problem) const {
    std::string msg = problem;
    if (TrimBlanks(line) != text) msg += " in line " + DataError::Quote(line);
    throw DataError(std::string(source_), line_number, std::string(text), msg);
  }

  Id User(std::string_view tok) {
    return Convert(tok, "user", options_.declared_users, maps_ ? &maps_->users : nullptr);
  }
  Id Item(std::string_view tok) {
    return Convert(tok, "item", options_.declared_items, maps_ ? &maps_->items : nullptr);
  }

 private:
  Id Convert(std::string_view tok, const char* side, const std::optional<Index>& declared,
             IdMap* map) {
    if (tok.empty()) Fail(tok, "empty " + std::string(side) + " id");
    if (options_.ids == IdPolicy::kRemap) {
      const Index before = map->Size();
      const Id id = map->Insert(tok);
      if (declared && id >= *declared)
        Fail(tok, "new " + std::string(side) + " id " + DataError::Quote(tok) + " makes " +
                      std::to_string(before + 1) + " distinct " + side +
                      "s, above the declared count " + std::to_string(*declared));
      return id;
    }
    const char* b = tok.data();
    const char* e = b + tok.size();
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(b, e, value);
    // The fast path: a whole-field decimal number in range. Diagnose everything else.
    if (ec == std::errc() && ptr == e && IsDigit(tok[0]) && value <= kMaxId &&
        (!declared || static_cast<Index>(value) < *declared))
      return static_cast<Id>(value);
    const std::string what(side);
    if (tok[0] == '-' && tok.size() > 1 && IsDigit(tok[1]))
      Fail(tok, "negative " + what + " id " + DataError::Quote(tok));
    if (!IsDigit(tok[0])) Fail(tok, "non-numeric " + what + " id " + DataError::Quote(tok));
    if (ec == std::errc::result_out_of_range || (ptr == e && value > kMaxId))
      Fail(tok, what + " id " + DataError::Quote(tok) + " exceeds the largest supported id " +
                    std::to_string(kMaxId) + " (2^31-1)");
    if (ptr != e)
      Fail(tok, "trailing characters after the number in " + what + " id " + DataError::Quote(tok));
    Fail(tok, what + " id " + DataError::Quote(tok) + " is not below the declared " + what +
                  " count " + std::to_string(*declared));
  }

  static constexpr std::uint64_t kMaxId = std::numeric_limits<Id>::max();
  std::string_view source_;
  const ParseOptions& options_;
  IdMaps* maps_;
};

}  // namespace detail

/// Parses interactions held in memory. `source` names the text in error messages (and picks the
/// format when options.format is Auto, by its extension). With IdPolicy::kRemap, tokens go
/// through `maps` (shared across a dataset's files); a null `maps` uses a private pair of maps.
/// Throws DataError (source, 1-based line, offending text) on any malformed line.
///
///   auto parsed = ParseInteractions("user,item\n0,3\n1,2\n", "inline.csv");
///   parsed.pairs;   // {(0,3), (1,2)}
inline ParsedFile ParseInteractions(std::string_view text, std::string_view source = "<memory>",
                                    const ParseOptions& options = {}, IdMaps* maps = nullptr) {
  IdMaps local_maps;
  if (options.ids == IdPolicy::kRemap && maps == nullptr) maps = &local_maps;

  ParsedFile out;
  out.source = std::string(source);
  out.format = ResolveFormat(options.format, std::filesystem::path(source));

  // UTF-8 byte-order mark, written by some spreadsheet exports.
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  // One pass over the bytes to size the output: a row per line is the common case.
  out.pairs.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);

  detail::LineContext ctx(source, options, maps);
  std::int64_t header_line = 0;
  std::string_view header_text;
  bool first = true;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++ctx.line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ctx.line = line;
    if (TrimBlanks(line).empty()) continue;  // blank line
    if (line.find('\0') != std::string_view::npos)
      ctx.Fail(line, "unreadable line " + DataError::Quote(line) + " (NUL byte: binary data?)");

    if (first) {
      first = false;
      if (out.format == FileFormat::kPairs) {
        out.delimiter = options.delimiter != 0                     ? options.delimiter
                        : line.find(',') != std::string_view::npos ? ','
                                                                   : ' ';
      } else {
        out.delimiter = ' ';
      }
      bool header = options.header == HeaderMode::kPresent;
      if (options.header == HeaderMode::kAuto) {
        detail::FieldSplitter split(line, out.delimiter);
        std::string_view field;
        bool any_id = false;
        for (int k = 0; k < 2 && split.Next(field); ++k)
          any_id = any_id || detail::LooksLikeId(field, options.ids);
        header = !any_id;
      }
      if (header) {
        out.header = true;
        header_line = ctx.line_number;
        header_text = line;
        continue;
      }
    }

    detail::FieldSplitter split(line, out.delimiter);
    std::string_view user_tok, item_tok;
    split.Next(user_tok);  // the line is not blank, so a first field exists
    const Id user = ctx.User(user_tok);
    if (user > out.max_user) {
      out.max_user = user;
      out.max_user_line = ctx.line_number;
    }
    ++out.data_lines;
    if (out.format == FileFormat::kPairs) {
      if (!split.Next(item_tok))
        ctx.Fail(line, "expected two fields (user, item) separated by " +
                           detail::DelimiterName(out.delimiter) +
                           ", found one: " + DataError::Quote(line));
      const Id item = ctx.Item(item_tok);
      if (item > out.max_item) {
        out.max_item = item;
        out.max_item_line = ctx.line_number;
      }
      out.pairs.emplace_back(user, item);
    } else {
      while (split.Next(item_tok)) {
        const Id item = ctx.Item(item_tok);
        if (item > out.max_item) {
          out.max_item = item;
          out.max_item_line = ctx.line_number;
        }
        out.pairs.emplace_back(user, item);
      }
    }
  }
  out.lines = ctx.line_number;

  if (out.pairs.empty() && !options.allow_empty) {
    if (text.empty()) throw DataError(out.source, 1, "", "no interactions: empty file");
    if (out.header)
      throw DataError(out.source, header_line, std::string(header_text),
                      "no interactions: only a header line " + DataError::Quote(header_text));
    if (out.data_lines > 0)
      throw DataError(
          out.source, 1, "",
          "no interactions: " + std::to_string(out.data_lines) + " user lines but no items");
    throw DataError(out.source, 1, "",
                    "no interactions: only blank lines (" + std::to_string(out.lines) + ")");
  }
  return out;
}

/// Reads a whole file into memory (one read). Throws DataError naming the file if it is
/// missing, a directory, or unreadable.
inline std::string ReadTextFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw DataError(path.string(), 0, "", "cannot open: no such file");
  if (std::filesystem::is_directory(path, ec))
    throw DataError(path.string(), 0, "", "cannot open: is a directory");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    throw DataError(path.string(), 0, "", "cannot open: permission denied or I/O error");
  std::string bytes;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec) bytes.resize(static_cast<std::size_t>(size));
  std::size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f);
  bytes.resize(got);
  // Keep reading in case the size was unknown (pipes, /proc) or the file grew meanwhile.
  char chunk[4096];
  while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0) bytes.append(chunk, got);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw DataError(path.string(), 0, "", "read error");
  return bytes;
}

/// ParseInteractions on the contents of `path` (format Auto resolves by its extension).
///
///   IdMaps maps;
///   ParseOptions opt; opt.ids = IdPolicy::kRemap;
///   auto train = ReadInteractionsFile("train.csv", opt, &maps);
///   auto test  = ReadInteractionsFile("test.csv", opt, &maps);   // same index space
inline ParsedFile ReadInteractionsFile(const std::filesystem::path& path,
                                       const ParseOptions& options = {}, IdMaps* maps = nullptr) {
  const std::string bytes = ReadTextFile(path);
  return ParseInteractions(bytes, path.string(), options, maps);
}

}  // namespace directspec
