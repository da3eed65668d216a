// Argument checks at the library's boundary (options, tables, settings handed in by user code):
// one message shape for every policy, "WHO: WHAT", where WHAT names the value and the rule it
// breaks, e.g. "DirectSpecPlus: tau = inf (must be finite)". Numeric kernels only assert.
#pragma once

#include <charconv>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace directspec {

/// Throws std::invalid_argument("WHO: WHAT").
[[noreturn]] inline void ThrowInvalidArgument(std::string_view who, std::string_view what) {
  std::string message(who);
  message += ": ";
  message += what;
  throw std::invalid_argument(message);
}

/// The shortest text that reads back to `value` in its own type ("0.1" for 0.1f, "inf", "-3").
template <class T>
std::string FormatValue(T value) {
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return error == std::errc{} ? std::string(buffer, end) : std::string("?");
}

/// Unless `ok`: throws std::invalid_argument("WHO: OPTION = VALUE (RULE)").
///
///   CheckOption(std::isfinite(o.tau), "DirectSpecPlus", "tau", o.tau, "must be finite");
template <class T>
void CheckOption(bool ok, std::string_view who, std::string_view option, T value,
                 std::string_view rule) {
  static_assert(std::is_arithmetic_v<T>, "CheckOption formats numbers");
  if (ok) return;
  std::string what(option);
  what += " = " + FormatValue(value) + " (";
  what += rule;
  what += ")";
  ThrowInvalidArgument(who, what);
}

}  // namespace directspec
