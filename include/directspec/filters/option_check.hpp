// Option validation shared by the filters and losses: a bad hyperparameter is a boundary error
// (it comes from a user's configuration), so it throws std::invalid_argument naming the source
// file, line, option and offending value. Numeric kernels themselves only assert.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace directspec::detail {

[[noreturn]] inline void ThrowBadOption(const char* file, int line, const char* option,
                                        double value, const char* requirement) {
  std::ostringstream message;
  message.precision(17);
  message << file << ":" << line << ": invalid option " << option << " = " << value << " ("
          << requirement << ")";
  throw std::invalid_argument(message.str());
}

}  // namespace directspec::detail

/// Throws std::invalid_argument unless `condition` holds; `option` names the field.
#define DIRECTSPEC_CHECK_OPTION(condition, option, value, requirement)                             \
  do {                                                                                             \
    if (!(condition))                                                                              \
      ::directspec::detail::ThrowBadOption(__FILE__, __LINE__, option, static_cast<double>(value), \
                                           requirement);                                           \
  } while (0)
