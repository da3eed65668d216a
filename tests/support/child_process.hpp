// Child processes for the crash-safety tests (test_io_atomic, test_io, test_cli_outputs): run a
// function or a program in a forked child, optionally under a file-size limit (setrlimit
// RLIMIT_FSIZE, like `ulimit -f`), kill it at a chosen moment, and read how it ended. The child
// never returns into Catch: it reports through its exit code and the files it leaves.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace directspec::test {

/// How a child ended.
struct ChildStatus {
  bool exited = false;  // normal exit with `code`
  int code = -1;
  int signal = 0;  // the signal that ended it, 0 when it exited

  std::string Describe() const {
    return exited ? "exit code " + std::to_string(code) : "signal " + std::to_string(signal);
  }
};

inline ChildStatus Wait(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ChildStatus s;
  if (WIFEXITED(status)) {
    s.exited = true;
    s.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
  }
  return s;
}

/// How the child is set up before it runs.
struct ChildSetup {
  long long file_size_limit = -1;        // bytes (RLIMIT_FSIZE), -1: unlimited
  bool ignore_sigxfsz = false;           // a function child only (a program decides itself)
  std::string stdout_path, stderr_path;  // redirect when non-empty
  std::vector<std::string> env;          // extra NAME=value entries (programs only)
};

namespace detail {

inline void Prepare(const ChildSetup& setup) {
  if (setup.file_size_limit >= 0) {
    rlimit limit{};
    limit.rlim_cur = limit.rlim_max = static_cast<rlim_t>(setup.file_size_limit);
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  auto redirect = [](const std::string& path, int fd) {
    if (path.empty()) return;
    const int f = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f >= 0) ::dup2(f, fd);
  };
  redirect(setup.stdout_path, STDOUT_FILENO);
  redirect(setup.stderr_path, STDERR_FILENO);
}

}  // namespace detail

/// Runs `body` in a forked child; the child exits 0 when it returns, 1 when it throws (message on
/// stderr). Returns the child's PID: Wait() for it, or kill it first.
inline pid_t StartChild(const std::function<void()>& body, const ChildSetup& setup = {}) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  detail::Prepare(setup);
  if (setup.ignore_sigxfsz) ::signal(SIGXFSZ, SIG_IGN);
  try {
    body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child: %s\n", e.what());
    std::fflush(stderr);
    ::_exit(1);
  }
  std::fflush(nullptr);
  ::_exit(0);
}

inline ChildStatus RunChild(const std::function<void()>& body, const ChildSetup& setup = {}) {
  return Wait(StartChild(body, setup));
}

/// Starts `argv` (argv[0] a path) in a child with `setup`, in the working directory `cwd`.
inline pid_t StartProgram(const std::vector<std::string>& argv, const std::string& cwd,
                          const ChildSetup& setup = {}) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  detail::Prepare(setup);
  if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
  for (const auto& e : setup.env) ::putenv(const_cast<char*>(e.c_str()));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

/// Sleeps for `seconds` (fractions allowed).
inline void SleepFor(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

/// Entries of `dir` whose name contains ".tmp-" (temporaries of the atomic writers).
inline std::vector<std::string> TempEntries(const std::filesystem::path& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
    if (e.path().filename().string().find(".tmp-") != std::string::npos)
      found.push_back(e.path().string());
  return found;
}

}  // namespace directspec::test
