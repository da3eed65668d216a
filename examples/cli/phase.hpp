// What directspec-train is doing, for the one message an allocation failure can give: main()
// catches std::bad_alloc (and std::length_error, a size beyond what a container can hold) and
// reports "out of memory while <phase>" with exit code 1 instead of an abort.
//
//   cli::Phase phase("writing --recommend-out " + path);   // until the end of the scope
//
// A Phase left by an exception keeps its text (the innermost phase is the one that failed); a
// Phase left normally restores the enclosing one.
#pragma once

#include <exception>
#include <string>
#include <utility>

namespace directspec_cli {

class Phase {
 public:
  explicit Phase(std::string what)
      : previous_(std::exchange(Current(), std::move(what))),
        exceptions_(std::uncaught_exceptions()) {}
  ~Phase() {
    if (std::uncaught_exceptions() == exceptions_) Current() = std::move(previous_);
  }
  Phase(const Phase&) = delete;
  Phase& operator=(const Phase&) = delete;

  /// The innermost phase entered and not left normally.
  static std::string& Current() {
    static std::string phase = "starting";
    return phase;
  }

 private:
  std::string previous_;
  int exceptions_;
};

}  // namespace directspec_cli
