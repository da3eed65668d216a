// Output paths, before any work is done: which file or directory an atomic write replaces (links
// followed, trailing slashes dropped), and the checks that its commit would otherwise fail only
// at the end of a long run (missing or unwritable directory, a directory where a file goes, a
// FIFO), made up front with the operating system's own answer: a probe temporary is created and
// removed where the real one will go. The CLI runs them on every output flag before training.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "directspec/io/io_error.hpp"
#include "directspec/io/temp_files.hpp"

namespace directspec {

namespace detail {

inline std::filesystem::path ParentOf(const std::filesystem::path& p) {
  return p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
}

// The directory that will receive the temporary must exist, be a directory, and accept a new
// entry: the probe is the operating system's verdict (permissions, read-only mounts, ACLs, ...).
inline void CheckParent(const std::string& shown, const std::filesystem::path& target,
                        bool directory) {
  const auto parent = ParentOf(target);
  struct stat st {};
  if (::stat(parent.c_str(), &st) != 0) {
    const int err = errno;
    throw IoError(shown, -1,
                  (err == ENOENT ? "directory '" + parent.string() + "' does not exist"
                                 : "cannot reach directory '" + parent.string() + "'") +
                      ErrnoReason(err));
  }
  if (!S_ISDIR(st.st_mode))
    throw IoError(shown, -1,
                  "'" + parent.string() + "' is " + FileKindName(st.st_mode) + ", not a directory");
  const auto probe = TempPathFor(target);
  const int fd = directory ? ::mkdir(probe.c_str(), 0700)
                           : ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    throw IoError(shown, -1,
                  "cannot create files in directory '" + parent.string() + "'" + ErrnoReason(err));
  }
  if (directory) {
    ::rmdir(probe.c_str());
  } else {
    ::close(fd);
    ::unlink(probe.c_str());
  }
}

// "" when `dir` holds nothing but entries named in `names`, else what else it holds (or why it
// cannot be listed; the errno goes to *list_error when given).
inline std::string ForeignEntries(const std::filesystem::path& dir,
                                  std::span<const std::string> names, int* list_error = nullptr) {
  std::vector<std::string> foreign;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto n = it->path().filename().string();
    if (std::find(names.begin(), names.end(), n) == names.end()) foreign.push_back(n);
  }
  if (list_error) *list_error = ec.value();
  if (ec) return "cannot list the directory" + ErrnoReason(ec.value());
  if (foreign.empty()) return "";
  std::sort(foreign.begin(), foreign.end());
  std::string list;
  for (std::size_t k = 0; k < foreign.size() && k < 3; ++k) list += (k ? ", " : "") + foreign[k];
  if (foreign.size() > 3) list += " and " + std::to_string(foreign.size() - 3) + " more";
  return "holds other entries (" + list +
         "); the output directory is replaced as a whole so that its files always come from one "
         "run, so give a new directory or one this program wrote";
}

}  // namespace detail

/// `path` without trailing slashes ("out/" -> "out"; "/" stays).
inline std::filesystem::path WithoutTrailingSlashes(const std::filesystem::path& path) {
  std::string s = path.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

/// The path an atomic write replaces: symbolic links at `path` are followed (up to 40 levels), so
/// writing through a link replaces the file it points to and keeps the link.
inline std::filesystem::path ResolveOutputPath(const std::filesystem::path& path) {
  std::filesystem::path p = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    std::error_code ec;
    const auto link = std::filesystem::read_symlink(p, ec);
    if (ec) return p;
    p = link.is_absolute() ? link : detail::ParentOf(p) / link;
  }
  throw IoError(path.string(), -1, "too many levels of symbolic links");
}

/// Throws IoError (naming `path` and the reason) unless an atomic file write to `path` can
/// succeed: the path names a file (no trailing slash), what is there now is a regular file or
/// nothing, and its directory exists and accepts new files.
inline void CheckOutputFile(const std::filesystem::path& path) {
  const std::string shown = path.string();
  if (shown.empty()) throw IoError("''", -1, "empty path");
  const auto last = path.filename().string();
  if (last.empty() || last == "." || last == "..")
    throw IoError(shown, -1, "names a directory, not a file");
  const auto target = ResolveOutputPath(path);
  detail::CheckParent(shown, target, false);
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw IoError(shown, -1, "is a directory");
    if (!S_ISREG(st.st_mode))
      throw IoError(shown, -1,
                    std::string("is ") + FileKindName(st.st_mode) +
                        ": outputs are written aside and renamed over the target, which needs a "
                        "regular file or a new path");
  }
}

/// Throws IoError unless a directory can be written aside and swapped in at `dir` (see
/// AtomicDirectoryWriter): `dir` is not ".", ".." or "/", not the working directory, and is either
/// absent or a directory holding nothing but entries named in `names` (it is replaced as a whole,
/// so anything else in it would be lost); its parent exists and accepts new entries.
inline void CheckOutputDirectory(const std::filesystem::path& dir,
                                 std::span<const std::string> names) {
  const std::string shown = dir.string();
  if (shown.empty()) throw IoError("''", -1, "empty path");
  const auto given = WithoutTrailingSlashes(dir);
  const auto last = given.filename().string();
  if (last.empty() || last == "." || last == "..")
    throw IoError(shown, -1,
                  "the output directory is replaced as a whole, so it must be a directory of its "
                  "own (e.g. " +
                      (given / "npy").string() + "), not '" + shown + "'");
  const auto target = ResolveOutputPath(given);
  detail::CheckParent(shown, target, true);
  struct stat st {};
  if (::stat(target.c_str(), &st) != 0) return;  // absent: created by the commit
  if (!S_ISDIR(st.st_mode))
    throw IoError(shown, -1, std::string("exists and is ") + FileKindName(st.st_mode));
  struct stat cwd {};
  if (::stat(".", &cwd) == 0 && cwd.st_dev == st.st_dev && cwd.st_ino == st.st_ino)
    throw IoError(shown, -1,
                  "is the working directory; the output directory is replaced as a whole, so "
                  "give a directory of its own");
  const auto problem = detail::ForeignEntries(target, names);
  if (!problem.empty()) throw IoError(shown, -1, problem);
}

}  // namespace directspec
