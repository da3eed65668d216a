// A one-line JSON object writer for directspec-train's --json output (one object per line, so a
// run can be followed with `tail -f` and parsed line by line).
#pragma once

#include <sstream>
#include <string>

#include "directspec/core/text.hpp"

namespace directspec_cli {

// The CLI is a client of the library, written in its vocabulary; it adds nothing to it.
using namespace directspec;

class JsonLine {
 public:
  JsonLine& Add(const std::string& key, double value) {
    Key(key);
    out_ << JsonNumber(value);
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
    out_ << JsonString(value);
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

 private:
  void Key(const std::string& key) {
    if (!first_) out_ << ",";
    first_ = false;
    out_ << JsonString(key) << ":";
  }
  std::ostringstream out_;
  bool first_ = true;
};

}  // namespace directspec_cli
