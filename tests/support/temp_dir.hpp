// Shared by the tests that write files: a fresh temporary directory per instance, removed with
// everything in it when the instance goes out of scope.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace directspec::testing {

class TempDir {
 public:
  /// Creates $TMPDIR/directspec-TAG-PID-N (emptied first if a crashed run left it).
  explicit TempDir(const std::string& tag = "test") {
    static int counter = 0;
    path =
        std::filesystem::temp_directory_path() /
        ("directspec-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  /// Writes `bytes` to path / name and returns that path; throws when the file cannot be written.
  std::filesystem::path Write(const std::string& name, const std::string& bytes) const {
    const std::filesystem::path p = path / name;
    std::ofstream out(p, std::ios::binary);
    out << bytes;
    if (!out.flush()) throw std::runtime_error("TempDir: cannot write " + p.string());
    return p;
  }

  std::filesystem::path path;
};

}  // namespace directspec::testing
