// DataError: the one exception type of the data layer. Every loader, parser and writer that
// meets bad input (missing file, malformed line, out-of-range id) throws it with the file, the
// 1-based line number and the offending text, so a user can jump straight to the problem.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace directspec {

/// Bad input at the data boundary. what() reads `file:line: problem` (the line part is omitted
/// when the problem is not tied to a line, e.g. a missing file).
///
///   try { auto d = LoadDataset("data/citeulike"); }
///   catch (const DataError& e) { std::cerr << e.what() << "\n"; /* e.File(), e.Line(), e.Text() */
///   }
class DataError : public std::runtime_error {
 public:
  /// `text` is the offending value (quoted into the message by the caller's `problem`).
  DataError(std::string file, std::int64_t line, std::string text, const std::string& problem)
      : std::runtime_error(Format(file, line, problem)),
        file_(std::move(file)),
        line_(line),
        text_(std::move(text)) {}

  /// The file (or in-memory source name) the problem was found in.
  const std::string& File() const { return file_; }
  /// 1-based line number, 0 when the problem concerns the whole file.
  std::int64_t Line() const { return line_; }
  /// The offending token or value (may be empty).
  const std::string& Text() const { return text_; }

  /// Quotes `text` for a message, cut to a readable length and with control bytes escaped.
  static std::string Quote(std::string_view text, std::size_t max_chars = 80) {
    std::string out = "'";
    for (std::size_t k = 0; k < text.size() && k < max_chars; ++k) {
      const auto c = static_cast<unsigned char>(text[k]);
      if (c < 0x20 || c == 0x7F) {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
    }
    if (text.size() > max_chars) out += "...";
    out += "'";
    return out;
  }

 private:
  static std::string Format(const std::string& file, std::int64_t line,
                            const std::string& problem) {
    // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on chained operator+ here.
    std::string msg;
    msg.reserve(file.size() + problem.size() + 24);
    msg.append(file);
    if (line > 0) {
      msg.push_back(':');
      msg.append(std::to_string(line));
    }
    msg.append(": ");
    msg.append(problem);
    return msg;
  }

  std::string file_;
  std::int64_t line_ = 0;
  std::string text_;
};

}  // namespace directspec
