// directspec-train's outputs: the check of every output flag before any data is loaded (a bad
// path is a bad flag value: exit code 2, with the operating system's reason), and the JSON log,
// streamed aside during the run and swapped in only when every other output is written. The
// writers themselves are the library's atomic ones (io/atomic_file.hpp, io/atomic_dir.hpp).
#pragma once

#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "directspec/io.hpp"
#include "settings.hpp"

namespace directspec_cli {

// The CLI is a client of the library, written in its vocabulary; it adds nothing to it.
using namespace directspec;

/// Throws UsageError naming the flag, the path and the reason unless every output of `s` can be
/// written: its directory exists and accepts files, it is not a directory (for --export-npy: a
/// directory of its own, see NpyPairNames; for --write-split: SplitDirectoryNames), no two flags
/// share a path.
inline void CheckOutputPaths(const Settings& s) {
  const std::vector<std::pair<const char*, const std::string*>> files{
      {"--json", &s.json},
      {"--save-model", &s.save_model},
      {"--spectrum-svg", &s.spectrum_svg},
      {"--recommend-out", &s.recommend_out},
      {"--checkpoint", &s.checkpoint}};
  std::vector<std::pair<const char*, std::filesystem::path>> seen;
  auto check_unique = [&](const char* flag, const std::filesystem::path& path) {
    std::error_code ec;
    const auto canonical = std::filesystem::weakly_canonical(path, ec);
    for (const auto& [other, other_path] : seen)
      if (!ec && other_path == canonical)
        throw UsageError(std::string("bad value for ") + flag + ": '" + path.string() +
                         "' is also the path of " + other);
    seen.emplace_back(flag, ec ? path : canonical);
  };
  for (const auto& [flag, path] : files) {
    if (path->empty()) continue;
    try {
      CheckOutputFile(*path);
    } catch (const IoError& e) {
      throw UsageError(std::string("bad value for ") + flag + ": " + e.what());
    }
    check_unique(flag, *path);
  }
  if (!s.write_split.empty()) {
    try {
      CheckOutputDirectory(s.write_split, SplitDirectoryNames());
    } catch (const IoError& e) {
      throw UsageError(std::string("bad value for --write-split: ") + e.what());
    }
    check_unique("--write-split", WithoutTrailingSlashes(s.write_split));
  }
  if (!s.export_npy.empty()) {
    try {
      CheckOutputDirectory(s.export_npy, NpyPairNames());
    } catch (const IoError& e) {
      throw UsageError(std::string("bad value for --export-npy: ") + e.what());
    }
    check_unique("--export-npy", WithoutTrailingSlashes(s.export_npy));
  }
}

/// The --json log: one line per Write, each on disk when it returns, in a temporary next to the
/// target ("tail -f" it: `.NAME.tmp-<pid>-<k>`). Commit() swaps it in, so NAME always holds the
/// complete log of a finished run. A run that fails (exception, SIGINT, SIGTERM) leaves NAME as
/// it was and keeps its log so far as NAME.partial (whole lines only), and says so.
class RunLog {
 public:
  explicit RunLog(const std::string& path, std::string program = "directspec-train")
      : program_(std::move(program)), partial_(path + ".partial"), writer_(path, Options()) {}

  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  ~RunLog() {
    if (committed_) return;
    const auto kept = writer_.Abandon();
    if (!kept.empty())
      std::cerr << program_ << ": the log of the failed run is in " << kept.string() << "\n";
  }

  void WriteLine(const std::string& json) { writer_.Write(json + "\n"); }

  void Commit() {
    writer_.Commit();
    committed_ = true;
  }

 private:
  AtomicWriteOptions Options() const {
    AtomicWriteOptions o;
    o.keep_partial_as = partial_;
    return o;
  }

  std::string program_;
  std::filesystem::path partial_;
  AtomicFileWriter writer_;
  bool committed_ = false;
};

}  // namespace directspec_cli
