// Shared by the tests of error messages: the exception a call throws, as a value to inspect.
#pragma once

#include <optional>
#include <string>

namespace directspec::testing {

/// The E that f() throws, or nullopt when it returns (another exception propagates: the test
/// fails on it).
template <class E, class F>
std::optional<E> ErrorOf(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e;
  }
  return std::nullopt;
}

/// The message of the E that f() throws, or "(no error)".
template <class E, class F>
std::string MessageOf(F&& f) {
  const std::optional<E> e = ErrorOf<E>(f);
  return e ? std::string(e->what()) : std::string("(no error)");
}

}  // namespace directspec::testing
