// Runs one hidden test case of the current test executable in a fresh process (fork, then exec of
// /proc/self/exe), optionally under an address-space limit, and collects its exit status and
// output. A fresh process gives the child its own OpenMP runtime (libgomp does not survive a
// fork after it started threads) and its own peak-RSS counter. Used by tests/test_resources.cpp.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace directspec::testing {

/// True in builds with AddressSanitizer or ThreadSanitizer, which reserve terabytes of virtual
/// memory (an address-space limit kills them at start) and inflate the resident set.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

/// Set in the environment of a child started by RunTestInChild.
inline constexpr const char* kChildVariable = "DIRECTSPEC_TEST_CHILD";

/// The value of DIRECTSPEC_TEST_CHILD: empty when this process is not such a child.
inline std::string ChildRole() {
  const char* role = std::getenv(kChildVariable);
  return role == nullptr ? "" : role;
}

struct ChildRun {
  bool exited = false;  // ended through exit (not a signal)
  int code = -1;        // exit code when exited
  int signal = 0;       // the signal that ended it otherwise (SIGABRT: std::terminate)
  std::string output;   // stdout and stderr
};

/// Runs the test case named `test` of this executable in a child with DIRECTSPEC_TEST_CHILD set
/// to `role` and, when address_space > 0, RLIMIT_AS set to that many bytes.
inline ChildRun RunTestInChild(const std::string& test, const std::string& role,
                               rlim_t address_space = 0) {
  // Everything the child needs is built before fork: between fork and exec only
  // async-signal-safe calls are allowed in a process that may have threads.
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) env_text.emplace_back(*e);
  env_text.push_back(std::string(kChildVariable) + "=" + role);
  env_text.push_back("OMP_WAIT_POLICY=passive");
  std::vector<char*> env;
  for (auto& e : env_text) env.push_back(e.data());
  env.push_back(nullptr);
  std::string self = "/proc/self/exe", name = test, reporter = "--reporter=compact";
  char* argv[] = {self.data(), name.data(), reporter.data(), nullptr};

  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid < 0) return {};
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    if (address_space > 0) {
      const rlimit limit{address_space, address_space};
      if (setrlimit(RLIMIT_AS, &limit) != 0) _exit(126);
    }
    execve(self.c_str(), argv, env.data());
    _exit(127);
  }
  close(fds[1]);
  ChildRun run;
  char buffer[4096];
  for (;;) {
    const ssize_t got = read(fds[0], buffer, sizeof buffer);
    if (got > 0) {
      run.output.append(buffer, static_cast<std::size_t>(got));
    } else if (got < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.exited = WIFEXITED(status);
  run.code = run.exited ? WEXITSTATUS(status) : -1;
  run.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return run;
}

}  // namespace directspec::testing
