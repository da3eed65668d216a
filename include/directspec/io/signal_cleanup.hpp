// Signals and the atomic writers: a program that writes outputs (the CLI) installs these handlers
// once, so that Ctrl-C, `kill` or a closed terminal leaves no temporary file behind, and a write
// beyond `ulimit -f` fails with "File too large" (reported like any other write error) instead of
// killing the process with SIGXFSZ. The library never changes signal dispositions by itself.
#pragma once

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

#include "directspec/io/temp_files.hpp"

namespace directspec {

namespace detail {

inline char program_name[128] = {};

inline void Say(const char* text) {
  const std::size_t n = ::strlen(text);
  if (::write(STDERR_FILENO, text, n) < 0) return;  // nothing to do about it in a handler
}

// Async-signal-safe: removes the temporaries, says so, then dies of the same signal (the handler
// was installed with SA_RESETHAND, and the signal is blocked until the handler returns).
inline void Handler(int sig) {
  const int saved = errno;
  TempRegistry::CleanUpAfterSignal();
  const char* name = sig == SIGINT    ? "SIGINT"
                     : sig == SIGTERM ? "SIGTERM"
                     : sig == SIGHUP  ? "SIGHUP"
                                      : "a signal";
  Say(program_name);
  Say(": interrupted by ");
  Say(name);
  Say("; unfinished outputs removed, earlier ones unchanged\n");
  errno = saved;
  ::raise(sig);
}

}  // namespace detail

/// Installs the cleanup handler for SIGINT, SIGTERM and SIGHUP (each removes every temporary of a
/// live atomic writer, keeps the ones that asked for it under their keep_partial_as name, prints
/// "<program>: interrupted by SIGINT; ..." and ends the process by that signal) and ignores
/// SIGXFSZ. Call it once, early in main(). SIGKILL cannot be handled: its temporaries are removed
/// by the next write to the same target (RemoveStaleTemps).
inline void InstallSignalCleanup(const char* program) {
  ::strncpy(detail::program_name, program, sizeof(detail::program_name) - 1);
  struct sigaction sa {};
  sa.sa_handler = detail::Handler;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  for (const int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&sa.sa_mask, s);
  for (const int s : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    ::sigaction(s, nullptr, &old);
    if (old.sa_handler == SIG_IGN) continue;  // e.g. started under nohup: stay ignored
    ::sigaction(s, &sa, nullptr);
  }
  ::signal(SIGXFSZ, SIG_IGN);
}

}  // namespace directspec
