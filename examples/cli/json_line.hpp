// A one-line JSON object writer for directspec-train's --json output (one object per line, so a
// run can be followed with `tail -f` and parsed line by line).
#pragma once

#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

namespace directspec_cli {

class JsonLine {
 public:
  JsonLine& Add(const std::string& key, double value) {
    Key(key);
    if (std::isfinite(value)) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.17g", value);
      out_ << buffer;
    } else {
      out_ << "null";  // JSON has no NaN/Inf
    }
    return *this;
  }
  JsonLine& Add(const std::string& key, long long value) {
    Key(key);
    out_ << value;
    return *this;
  }
  JsonLine& Add(const std::string& key, int value) {
    return Add(key, static_cast<long long>(value));
  }
  JsonLine& Add(const std::string& key, bool value) {
    Key(key);
    out_ << (value ? "true" : "false");
    return *this;
  }
  JsonLine& Add(const std::string& key, const std::string& value) {
    Key(key);
    out_ << Quote(value);
    return *this;
  }
  JsonLine& Add(const std::string& key, const char* value) { return Add(key, std::string(value)); }
  /// Adds a value that is already JSON (an object or array).
  JsonLine& AddRaw(const std::string& key, const std::string& json) {
    Key(key);
    out_ << json;
    return *this;
  }
  std::string Str() const { return "{" + out_.str() + "}"; }

  static std::string Quote(const std::string& text) {
    std::string q = "\"";
    for (const unsigned char c : text) {
      if (c == '"' || c == '\\') {
        q += '\\';
        q += static_cast<char>(c);
      } else if (c < 0x20) {
        char buffer[8];
        std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
        q += buffer;
      } else {
        q += static_cast<char>(c);
      }
    }
    return q + "\"";
  }

 private:
  void Key(const std::string& key) {
    if (!first_) out_ << ",";
    first_ = false;
    out_ << Quote(key) << ":";
  }
  std::ostringstream out_;
  bool first_ = true;
};

}  // namespace directspec_cli
