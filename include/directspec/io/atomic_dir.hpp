// Atomic directory writes: files that only make sense together (the .npy pair user.npy +
// item.npy) are written into a directory aside, which then replaces the target directory in one
// renameat2(RENAME_EXCHANGE). A reader of the target sees the previous set of files or the new
// set, never one file of each, whatever happens to the writing process.
#pragma once

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE, RENAME_NOREPLACE (glibc >= 2.28)
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "directspec/io/atomic_file.hpp"
#include "directspec/io/io_error.hpp"
#include "directspec/io/output_path.hpp"
#include "directspec/io/temp_files.hpp"

namespace directspec {

namespace detail {

#if defined(RENAME_EXCHANGE)
inline constexpr unsigned kExchange = RENAME_EXCHANGE, kNoReplace = RENAME_NOREPLACE;
inline int Rename2(const char* from, const char* to, unsigned flags) {
  return ::renameat2(AT_FDCWD, from, AT_FDCWD, to, flags);
}
#else  // no renameat2: every call takes the fallback
inline constexpr unsigned kExchange = 2, kNoReplace = 1;
inline int Rename2(const char*, const char*, unsigned) {
  errno = ENOSYS;
  return -1;
}
#endif

// Errors that mean "this file system or kernel does not offer the flag".
inline bool Unsupported(int err) { return err == EINVAL || err == ENOSYS || err == ENOTSUP; }

}  // namespace detail

/// Writes a directory atomically: WriteFile() puts each file (fsynced) into
/// ".<name>.tmp-<pid>-<k>/" next to the target; Commit() swaps that directory with the target
/// (renameat2 RENAME_EXCHANGE; a plain rename when the target does not exist), then deletes the
/// previous directory, now under the temporary name. The target must be absent or hold only files
/// this writer writes (CheckOutputDirectory): it is replaced as a whole. Failures throw IoError
/// with the operating system's reason and leave the previous directory untouched; an uncommitted
/// writer removes its temporary directory when destroyed.
///
/// Where RENAME_EXCHANGE is not supported (e.g. NFS) Commit() falls back to two renames (target
/// aside, new one in); a process killed between them leaves no target directory and the previous
/// one under a temporary name (removed by the next write to the same target): an absent set, still
/// never a mixed one. `exchange = false` forces that path (for tests).
///
///   AtomicDirectoryWriter w("out/npy");
///   w.WriteFile("user.npy", user_bytes);
///   w.WriteFile("item.npy", item_bytes);
///   w.Commit();
class AtomicDirectoryWriter {
 public:
  explicit AtomicDirectoryWriter(const std::filesystem::path& dir, AtomicWriteOptions options = {},
                                 bool exchange = true)
      : shown_(dir.string()), options_(std::move(options)), exchange_(exchange) {
    const auto given = WithoutTrailingSlashes(dir);
    const auto last = given.filename().string();
    if (last.empty() || last == "." || last == "..")
      throw IoError(shown_, -1, "an atomic output directory must be a directory of its own");
    target_ = ResolveOutputPath(given);
    struct stat st {};
    if (::stat(target_.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
      throw IoError(shown_, -1, std::string("exists and is ") + FileKindName(st.st_mode));
    if (options_.remove_stale) RemoveStaleTemps(target_);
    stage_ = TempPathFor(target_);
    stage_slot_ = TempRegistry::Add(stage_, {}, true);
    if (::mkdir(stage_.c_str(), 0755) != 0) {
      const int err = errno;
      TempRegistry::Remove(stage_slot_);
      throw IoError(shown_, -1,
                    "cannot create the temporary directory " + stage_.string() + ErrnoReason(err));
    }
    stage_fd_ = ::open(stage_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (stage_fd_ >= 0) ::flock(stage_fd_, LOCK_EX | LOCK_NB);  // alive, for RemoveStaleTemps
  }

  AtomicDirectoryWriter(const AtomicDirectoryWriter&) = delete;
  AtomicDirectoryWriter& operator=(const AtomicDirectoryWriter&) = delete;

  ~AtomicDirectoryWriter() {
    if (!committed_) RemoveStage();
  }

  /// Writes the file `name` (no '/') of the new directory, complete and fsynced.
  void WriteFile(const std::string& name, std::span<const std::byte> bytes) {
    if (committed_ || failed_) throw IoError(shown_, -1, "write after commit or failure");
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
      throw IoError(shown_, -1, "'" + name + "' is not a plain file name");
    if (std::find(names_.begin(), names_.end(), name) != names_.end())
      throw IoError(shown_, -1, "'" + name + "' written twice");
    const auto path = stage_ / name;
    names_.push_back(name);
    file_slots_.push_back(TempRegistry::Add(path));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) Fail(name, "cannot create " + path.string(), errno);
    std::uint64_t written = 0;
    int err = 0;
    try {
      err = detail::WriteAll(fd, bytes, options_, written);
    } catch (...) {
      ::close(fd);
      RemoveStage();
      throw;
    }
    if (err == 0 && options_.sync && ::fsync(fd) != 0) err = errno;
    if (::close(fd) != 0 && err == 0) err = errno;
    if (err != 0) Fail(name, "write failed after " + std::to_string(written) + " bytes", err);
  }

  /// Names the target may hold from an earlier write that this one does not write (an optional
  /// file such as a split's valid.csv): they go with the previous directory instead of making
  /// Commit() refuse the target.
  void AlsoReplaces(std::vector<std::string> names) { replaceable_ = std::move(names); }

  /// Swaps the new directory in and deletes the previous one.
  void Commit() {
    if (committed_ || failed_) throw IoError(shown_, -1, "commit after commit or failure");
    if (options_.sync && stage_fd_ >= 0) ::fsync(stage_fd_);
    std::filesystem::path previous;  // where the previous directory ended up, if there was one
    std::vector<std::string> allowed = names_;  // what the previous directory may hold
    allowed.insert(allowed.end(), replaceable_.begin(), replaceable_.end());
    for (int attempt = 0;; ++attempt) {
      if (attempt == 16) Fail("", "the target keeps changing under concurrent writers", EAGAIN);
      struct stat st {};
      if (::lstat(target_.c_str(), &st) != 0) {
        if (errno != ENOENT) Fail("", "cannot inspect the target", errno);
        if (RenameNoReplace()) break;
        continue;  // someone created it meanwhile: swap with theirs
      }
      if (!S_ISDIR(st.st_mode))
        Fail("", std::string("the target became ") + FileKindName(st.st_mode), ENOTDIR);
      int list_error = 0;
      const auto foreign = detail::ForeignEntries(target_, allowed, &list_error);
      if (list_error == ENOENT) continue;  // another writer moved it away meanwhile
      if (!foreign.empty()) Fail("", foreign, 0);
      if (exchange_ && detail::Rename2(stage_.c_str(), target_.c_str(), detail::kExchange) == 0) {
        previous = stage_;
        break;
      }
      if (exchange_ && errno == ENOENT) continue;
      if (exchange_ && !detail::Unsupported(errno))
        Fail("", "cannot exchange " + stage_.string() + " with the target", errno);
      // No RENAME_EXCHANGE here: the previous directory steps aside, then the new one moves in.
      // It is not registered for signal cleanup: interrupted in between, it stays recoverable.
      const auto aside = TempPathFor(target_);
      if (::rename(target_.c_str(), aside.c_str()) != 0) {
        if (errno == ENOENT) continue;
        Fail("", "cannot move the previous directory aside", errno);
      }
      if (::rename(stage_.c_str(), target_.c_str()) != 0) {
        const int err = errno;
        const bool restored = ::rename(aside.c_str(), target_.c_str()) == 0;
        if (err == EEXIST || err == ENOTEMPTY) {  // another writer moved its directory in
          if (!restored) {  // theirs stays; the one set aside is older than both
            for (const auto& n : allowed) ::unlink((aside / n).c_str());
            ::rmdir(aside.c_str());
          }
          continue;  // ours replaces whatever is there next round
        }
        Fail("", "cannot rename " + stage_.string() + " to the target", err);
      }
      previous = aside;
      break;
    }
    committed_ = true;
    if (stage_fd_ >= 0) ::close(stage_fd_);  // it now refers to the committed directory
    stage_fd_ = -1;
    if (!previous.empty()) {
      for (const auto& n : allowed) ::unlink((previous / n).c_str());
      ::rmdir(previous.c_str());
    }
    for (const int s : file_slots_) TempRegistry::Remove(s);
    TempRegistry::Remove(stage_slot_);
    if (options_.sync) detail::SyncDirectory(target_.parent_path());
  }

  const std::filesystem::path& TempPath() const { return stage_; }

 private:
  // Target absent: rename, refusing to replace a directory another writer just created.
  bool RenameNoReplace() {
    if (detail::Rename2(stage_.c_str(), target_.c_str(), detail::kNoReplace) == 0) return true;
    if (errno == EEXIST || errno == ENOTEMPTY) return false;
    if (!detail::Unsupported(errno))
      Fail("", "cannot rename " + stage_.string() + " to the target", errno);
    if (::rename(stage_.c_str(), target_.c_str()) == 0) return true;  // no RENAME_NOREPLACE
    if (errno == EEXIST || errno == ENOTEMPTY) return false;
    Fail("", "cannot rename " + stage_.string() + " to the target", errno);
  }

  void RemoveStage() noexcept {
    if (stage_fd_ >= 0) ::close(stage_fd_);
    stage_fd_ = -1;
    for (const auto& n : names_) ::unlink((stage_ / n).c_str());
    ::rmdir(stage_.c_str());
    for (const int s : file_slots_) TempRegistry::Remove(s);
    file_slots_.clear();
    TempRegistry::Remove(stage_slot_);
    stage_slot_ = -1;
  }

  [[noreturn]] void Fail(const std::string& file, const std::string& problem, int err) {
    failed_ = true;
    RemoveStage();
    throw IoError(
        file.empty() ? shown_ : (std::filesystem::path(shown_) / file).string(), -1,
        problem + (err ? ErrnoReason(err) : "") + "; the previous directory, if any, is unchanged");
  }

  std::string shown_;             // as given, for messages
  std::filesystem::path target_;  // what is replaced (links followed)
  std::filesystem::path stage_;   // the new directory until Commit
  AtomicWriteOptions options_;
  bool exchange_ = true;
  int stage_fd_ = -1;
  int stage_slot_ = -1;
  std::vector<int> file_slots_;
  std::vector<std::string> names_;
  std::vector<std::string> replaceable_;
  bool committed_ = false;
  bool failed_ = false;
};

}  // namespace directspec
