// The raw interaction log, the input of data preparation (prepare.hpp): one file of
// user / item / optional rating / optional time columns, as exported by a product database or
// published as a public dataset (CSV, TSV, whitespace, MovieLens `::`, optionally gzipped),
// selected by header name or 0-based position. Ids are any token, mapped to dense ids by first
// appearance; each row keeps its line number, which breaks ties in time deterministically.
// Next: log_filters.hpp (min-rating, duplicates, k-core), then log_split.hpp.
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "directspec/core/types.hpp"
#include "directspec/data/data_error.hpp"
#include "directspec/data/gzip.hpp"
#include "directspec/data/id_map.hpp"
#include "directspec/data/parse.hpp"

namespace directspec {

/// Which columns hold what: each entry is a header name or a 0-based position ("0", "3").
/// user and item are required; rating and time are optional (empty = absent).
struct ColumnSpec {
  std::string user = "0";
  std::string item = "1";
  std::string rating;
  std::string time;
};

/// Parses "user=NAME,item=NAME[,rating=NAME][,time=NAME]" (the CLI's --columns). Throws
/// std::invalid_argument naming the problem (unknown role, missing user or item, a role twice).
inline ColumnSpec ParseColumnSpec(std::string_view text) {
  ColumnSpec spec{"", "", "", ""};
  bool seen[4] = {false, false, false, false};
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view entry = TrimBlanks(text.substr(pos, end - pos));
    pos = end + 1;
    if (entry.empty()) {
      if (end == text.size()) break;
      throw std::invalid_argument("empty entry in the column list '" + std::string(text) + "'");
    }
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos)
      throw std::invalid_argument("'" + std::string(entry) +
                                  "' is not ROLE=COLUMN (roles: user, item, rating, time)");
    const std::string role(TrimBlanks(entry.substr(0, eq)));
    const std::string column(TrimBlanks(entry.substr(eq + 1)));
    if (column.empty()) throw std::invalid_argument("no column given for '" + role + "'");
    const char* roles[] = {"user", "item", "rating", "time"};
    std::string* fields[] = {&spec.user, &spec.item, &spec.rating, &spec.time};
    const auto at = std::find(std::begin(roles), std::end(roles), role) - std::begin(roles);
    if (at == 4)
      throw std::invalid_argument("unknown column role '" + role +
                                  "' (expected user, item, rating, time)");
    if (seen[at]) throw std::invalid_argument("column role '" + role + "' given twice");
    seen[at] = true;
    *fields[at] = column;
  }
  if (spec.user.empty() || spec.item.empty())
    throw std::invalid_argument("the column list '" + std::string(text) +
                                "' must name both user= and item=");
  return spec;
}

struct RawLogOptions {
  ColumnSpec columns;
  /// "" detects from the first non-blank line: "::" if present, else a tab, else ',', else ';',
  /// else runs of spaces. " " means runs of spaces and tabs; anything else is that exact text.
  std::string delimiter;
  /// Auto: a header is present when any column is selected by name; with positions only, when
  /// the first line's rating or time field (if selected) is not a number.
  HeaderMode header = HeaderMode::kAuto;
};

/// One interaction of the log, ids dense in RawLog::ids.
struct LogRow {
  Id user = 0;
  Id item = 0;
  float rating = 0;       // 0 when the log has no rating column
  double time = 0;        // seconds (or the log's unit); 0 when the log has no time column
  std::int64_t line = 0;  // 1-based line in the file: the tie-breaker for equal times
};

/// A whole log: rows in file order and the raw tokens of their ids.
struct RawLog {
  std::string source;  // file name, for messages and reports
  IdMaps ids;          // dense id -> raw token, by first appearance in the file
  std::vector<LogRow> rows;
  bool has_rating = false;
  bool has_time = false;
  bool header = false;
  bool gzipped = false;
  std::vector<std::string> header_fields;  // when a header was read
  std::string delimiter;                   // the one used (" " = runs of spaces and tabs)
  std::string columns;                     // "user=userId (0), item=movieId (1), ..."
  std::int64_t lines = 0;                  // physical lines
};

/// "a comma", "'::'", ... for messages.
inline std::string DescribeDelimiter(const std::string& d) {
  if (d == " ") return "spaces or tabs";
  if (d == ",") return "a comma";
  if (d == "\t") return "a tab";
  return "'" + d + "'";
}

namespace detail {

/// Splits a line into fields. Single-character delimiters other than whitespace honour CSV
/// quotes ("a, b" is one field; "" inside quotes is a quote).
class Fields {
 public:
  void Split(std::string_view line, const std::string& delim) {
    fields_.clear();
    if (delim == " ") {
      std::size_t p = 0;
      for (;;) {
        while (p < line.size() && IsBlank(line[p])) ++p;
        if (p >= line.size()) return;
        const std::size_t s = p;
        while (p < line.size() && !IsBlank(line[p])) ++p;
        fields_.push_back(std::string(line.substr(s, p - s)));
      }
    }
    const bool quotes = delim.size() == 1;
    std::size_t p = 0;
    for (;;) {
      // Leading blanks, then an optional quoted field.
      std::size_t s = p;
      while (s < line.size() && IsBlank(line[s]) && line.substr(s, delim.size()) != delim) ++s;
      std::string field;
      if (quotes && s < line.size() && line[s] == '"') {
        std::size_t q = s + 1;
        for (;;) {
          if (q >= line.size()) throw Unterminated{};
          if (line[q] == '"') {
            if (q + 1 < line.size() && line[q + 1] == '"') {
              field += '"';
              q += 2;
              continue;
            }
            ++q;
            break;
          }
          field += line[q++];
        }
        const std::size_t next = line.find(delim, q);
        if (!TrimBlanks(
                 line.substr(q, next == std::string_view::npos ? std::string_view::npos : next - q))
                 .empty())
          throw Unterminated{};
        fields_.push_back(std::move(field));
        if (next == std::string_view::npos) return;
        p = next + delim.size();
        continue;
      }
      const std::size_t next = line.find(delim, p);
      const std::size_t end = next == std::string_view::npos ? line.size() : next;
      fields_.push_back(std::string(TrimBlanks(line.substr(p, end - p))));
      if (next == std::string_view::npos) return;
      p = next + delim.size();
    }
  }
  struct Unterminated {};
  const std::vector<std::string>& Get() const { return fields_; }

 private:
  std::vector<std::string> fields_;
};

inline bool IsPosition(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

inline std::optional<double> ParseNumber(std::string_view s) {
  double v = 0;
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
inline std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// "YYYY-MM-DD", optionally followed by 'T' or ' ' and "HH:MM[:SS[.fff]]", optionally 'Z':
/// seconds since 1970-01-01 UTC. nullopt for anything else (time zone offsets included).
inline std::optional<double> ParseIsoTime(std::string_view s) {
  auto digits = [&](std::size_t at, std::size_t n, int& out) {
    if (at + n > s.size()) return false;
    out = 0;
    for (std::size_t k = at; k < at + n; ++k) {
      if (s[k] < '0' || s[k] > '9') return false;
      out = out * 10 + (s[k] - '0');
    }
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  double sec = 0;
  if (!digits(0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(5, 2, mo) || s[7] != '-' ||
      !digits(8, 2, d) || mo < 1 || mo > 12 || d < 1 || d > 31)
    return std::nullopt;
  std::size_t p = 10;
  if (p < s.size() && (s[p] == 'T' || s[p] == ' ')) {
    if (!digits(p + 1, 2, h) || p + 3 >= s.size() || s[p + 3] != ':' || !digits(p + 4, 2, mi) ||
        h > 23 || mi > 59)
      return std::nullopt;
    p += 6;
    if (p < s.size() && s[p] == ':') {
      std::size_t e = p + 1;
      while (e < s.size() && ((s[e] >= '0' && s[e] <= '9') || s[e] == '.')) ++e;
      const auto v = ParseNumber(s.substr(p + 1, e - p - 1));
      if (!v || *v < 0 || *v >= 61) return std::nullopt;
      sec = *v;
      p = e;
    }
  }
  if (p < s.size() && s[p] == 'Z') ++p;
  if (p != s.size()) return std::nullopt;
  return static_cast<double>(DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) *
                                 86400 +
                             h * 3600 + mi * 60) +
         sec;
}

inline std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace detail

/// Parses a log held in memory; `source` names it in messages. Throws DataError (source, line,
/// value) for a missing column (naming the header found), a line with too few fields, an empty
/// id, a rating or time that is not a number (times may also be ISO dates, "2021-03-04" or
/// "2021-03-04T10:20:30Z", read as seconds since 1970 UTC), and for a log with no rows.
///
///   RawLogOptions o;
///   o.columns = ParseColumnSpec("user=userId,item=movieId,rating=rating,time=timestamp");
///   RawLog log = ParseRawLog(ReadTextFile("ratings.csv"), "ratings.csv", o);
inline RawLog ParseRawLog(std::string_view text, std::string_view source,
                          const RawLogOptions& options = {}) {
  using detail::IsPosition;
  RawLog log;
  log.source = std::string(source);
  const ColumnSpec& spec = options.columns;
  log.has_rating = !spec.rating.empty();
  log.has_time = !spec.time.empty();
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  const std::string* wanted[] = {&spec.user, &spec.item, &spec.rating, &spec.time};
  const char* roles[] = {"user", "item", "rating", "time"};
  bool any_name = false;
  for (const std::string* w : wanted) any_name = any_name || (!w->empty() && !IsPosition(*w));
  if (any_name && options.header == HeaderMode::kAbsent)
    throw DataError(log.source, 0, "",
                    "columns are selected by name but the log is read without a header line; "
                    "select them by 0-based position instead");

  int column[4] = {-1, -1, -1, -1};  // resolved positions of user, item, rating, time
  int needed = 0;                    // fields a data line must have
  detail::Fields fields;
  std::int64_t line_number = 0, header_line = 0;
  bool first = true;
  std::size_t pos = 0;
  log.rows.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);

  auto fail = [&](std::string_view line, std::string_view value, const std::string& problem) {
    std::string msg = problem;
    if (TrimBlanks(line) != value) msg += " in line " + DataError::Quote(line);
    throw DataError(log.source, line_number, std::string(value), msg);
  };
  auto resolve = [&](std::string_view line) {
    std::string found;
    for (std::size_t k = 0; k < log.header_fields.size(); ++k)
      found += (k ? ", " : "") + log.header_fields[k];
    for (int r = 0; r < 4; ++r) {
      const std::string& w = *wanted[r];
      if (w.empty()) continue;
      if (IsPosition(w)) {
        const auto [ptr, ec] = std::from_chars(w.data(), w.data() + w.size(), column[r]);
        if (ec != std::errc() || column[r] > 100000)
          throw DataError(log.source, 0, w, "column position '" + w + "' is too large");
        continue;
      }
      const auto it = std::find(log.header_fields.begin(), log.header_fields.end(), w);
      if (it != log.header_fields.end()) {
        column[r] = static_cast<int>(it - log.header_fields.begin());
        continue;
      }
      std::string hint;
      for (const auto& h : log.header_fields)
        if (detail::Lower(h) == detail::Lower(w)) hint = " (did you mean '" + h + "'?)";
      fail(line, w,
           std::string("no column named ") + DataError::Quote(w) + " for the " + roles[r] +
               "; the header has " + std::to_string(log.header_fields.size()) +
               " columns: " + found + hint);
    }
    for (int r = 0; r < 4; ++r)
      for (int q = 0; q < r; ++q)
        if (column[r] >= 0 && column[r] == column[q])
          throw DataError(log.source, 0, "",
                          std::string("the ") + roles[q] + " and the " + roles[r] +
                              " are the same column (" + std::to_string(column[r]) + ")");
    for (int c : column) needed = std::max(needed, c + 1);
    log.columns.clear();
    for (int r = 0; r < 4; ++r) {
      if (column[r] < 0) continue;
      if (!log.columns.empty()) log.columns += ", ";
      log.columns += std::string(roles[r]) + "=" + *wanted[r];
      if (!IsPosition(*wanted[r])) log.columns += " (column " + std::to_string(column[r]) + ")";
    }
  };

  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (TrimBlanks(line).empty()) continue;
    if (line.find('\0') != std::string_view::npos)
      fail(line, line, "unreadable line " + DataError::Quote(line) + " (NUL byte: binary data?)");
    if (first) {
      log.delimiter = !options.delimiter.empty()                  ? options.delimiter
                      : line.find("::") != std::string_view::npos ? "::"
                      : line.find('\t') != std::string_view::npos ? "\t"
                      : line.find(',') != std::string_view::npos  ? ","
                      : line.find(';') != std::string_view::npos  ? ";"
                                                                  : " ";
    }
    try {
      fields.Split(line, log.delimiter);
    } catch (const detail::Fields::Unterminated&) {
      fail(line, line, "unbalanced quotes in line " + DataError::Quote(line));
    }
    if (first) {
      first = false;
      bool header = options.header == HeaderMode::kPresent || any_name;
      if (options.header == HeaderMode::kAuto && !any_name) {
        // Positions only: the first line is a header when a selected number column is not one.
        for (int r : {2, 3}) {
          const std::string& w = *wanted[r];
          if (w.empty()) continue;
          int c = 0;
          std::from_chars(w.data(), w.data() + w.size(), c);
          if (c < static_cast<int>(fields.Get().size())) {
            const std::string& v = fields.Get()[static_cast<std::size_t>(c)];
            const bool number = detail::ParseNumber(v).has_value() ||
                                (r == 3 && detail::ParseIsoTime(v).has_value());
            header = header || !number;
          }
        }
      }
      if (header) {
        log.header = true;
        header_line = line_number;
        log.header_fields = fields.Get();
        resolve(line);
        continue;
      }
      resolve(line);
    }
    const auto& f = fields.Get();
    if (static_cast<int>(f.size()) < needed)
      fail(line, line,
           "expected at least " + std::to_string(needed) + " fields separated by " +
               DescribeDelimiter(log.delimiter) + ", found " + std::to_string(f.size()));
    LogRow row;
    row.line = line_number;
    for (int r = 0; r < 2; ++r) {
      const std::string& tok = f[static_cast<std::size_t>(column[r])];
      if (tok.empty()) fail(line, tok, std::string("empty ") + roles[r] + " id");
      const Id id = r == 0 ? log.ids.users.Insert(tok) : log.ids.items.Insert(tok);
      (r == 0 ? row.user : row.item) = id;
    }
    if (column[2] >= 0) {
      const std::string& tok = f[static_cast<std::size_t>(column[2])];
      const auto v = detail::ParseNumber(tok);
      if (!v || std::abs(*v) > std::numeric_limits<float>::max())
        fail(line, tok, "rating " + DataError::Quote(tok) + " is not a finite number");
      row.rating = static_cast<float>(*v);
    }
    if (column[3] >= 0) {
      const std::string& tok = f[static_cast<std::size_t>(column[3])];
      auto v = detail::ParseNumber(tok);
      if (!v) v = detail::ParseIsoTime(tok);
      if (!v)
        fail(line, tok,
             "time " + DataError::Quote(tok) +
                 " is neither a number nor an ISO date (YYYY-MM-DD[THH:MM[:SS]][Z])");
      row.time = *v;
    }
    log.rows.push_back(row);
  }
  log.lines = line_number;
  if (log.rows.empty())
    throw DataError(
        log.source, header_line, "",
        log.header ? "no interactions: only a header line" : "no interactions: empty file");
  return log;
}

/// Reads and parses the log at `path`; gzip data (by content, any file name) is inflated first
/// (gzip.hpp). Throws DataError naming the file.
inline RawLog ReadRawLog(const std::filesystem::path& path, const RawLogOptions& options = {}) {
  std::string bytes = ReadTextFile(path);
  const bool gzipped = LooksGzipped(bytes);
  if (gzipped) bytes = Gunzip(bytes, path.string());
  RawLog log = ParseRawLog(bytes, path.string(), options);
  log.gzipped = gzipped;
  return log;
}

}  // namespace directspec
