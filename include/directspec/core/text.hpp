// Text helpers the parsers and writers of every layer share: which bytes are blanks, trimming
// them, and the JSON text of a string and of a number (evaluation results, the CLI's --json
// lines). One definition each, so every reader trims alike and every JSON writer escapes alike.
#pragma once

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

namespace directspec {

/// Space, tab, CR, LF, vertical tab or form feed.
inline bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/// `s` without leading and trailing blanks (a view into `s`).
inline std::string_view TrimBlanks(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && IsBlank(s[b])) ++b;
  while (e > b && IsBlank(s[e - 1])) --e;
  return s.substr(b, e - b);
}

/// A JSON string literal: quotes, backslash-escaped '"' and '\', control bytes as \u00XX; other
/// bytes (UTF-8 included) as they are.
inline std::string JsonString(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

/// The shortest decimal that reads back to the same double; null for NaN and infinity (JSON has
/// neither).
inline std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

}  // namespace directspec
