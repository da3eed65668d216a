// The one way the small examples (quickstart, custom_filter, lightgcn_directspec,
// regularizer_cost) read their positional arguments and report errors: `--help`, too many
// arguments and a bad number exit 2 with the usage line; any other error exits 1 with
// "NAME: error: ...". (directspec-train and directspec-tune parse flags in examples/cli/.)
#pragma once

#include <cstdlib>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>

namespace examples {

/// A bad argument: reported with the usage line, exit code 2.
struct UsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// The positional arguments after the program name.
class Arguments {
 public:
  Arguments(int argc, char** argv) : argc_(argc), argv_(argv) {}

  int Count() const { return argc_ - 1; }
  bool Has(int index) const { return index < Count(); }
  /// Argument `index` (0-based), or `fallback` when absent.
  std::string Text(int index, const std::string& fallback) const {
    return Has(index) ? std::string(argv_[index + 1]) : fallback;
  }
  /// Argument `index` as a positive integer, or `fallback` when absent; "abc", "0", "-3" and
  /// "12x" are UsageErrors naming `what` and the text.
  long Positive(int index, const char* what, long fallback) const {
    return Has(index) ? ParsePositive(argv_[index + 1], what) : fallback;
  }
  bool WantsHelp() const {
    const std::string first = Text(0, "");
    return first == "--help" || first == "-h";
  }

  static long ParsePositive(const char* text, const char* what) {
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < 1)
      throw UsageError(std::string(what) + " must be a positive integer, got '" + text + "'");
    return value;
  }

 private:
  int argc_;
  char** argv_;
};

/// Runs `body(args)` with the examples' conventions: `--help` prints `usage` (exit 0), more than
/// `max_arguments` arguments or a UsageError print it to stderr (exit 2), another exception
/// prints "NAME: error: what" (exit 1).
template <class Body>
int RunExample(int argc, char** argv, const char* name, const char* usage, int max_arguments,
               Body body) {
  const Arguments args(argc, argv);
  if (args.WantsHelp()) {
    std::cout << usage << "\n";
    return 0;
  }
  try {
    if (args.Count() > max_arguments)
      throw UsageError("too many arguments (" + std::to_string(args.Count()) + ", at most " +
                       std::to_string(max_arguments) + ")");
    return body(args);
  } catch (const UsageError& e) {
    std::cerr << name << ": " << e.what() << "\n" << usage << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << name << ": error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace examples
