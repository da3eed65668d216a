// Atomic file writes, the one way every output of the library and the CLI reaches the disk (model
// files, .npy tables, SVG plots, recommendation CSVs, the CLI's JSON log; later checkpoints,
// splits and presets). Bytes go to a temporary next to the target, which replaces the target only
// in Commit() (fsync, close, rename, fsync of the directory): a reader sees the previous file or
// the complete new one, never a mixture, whatever happens to the writing process.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "directspec/io/io_error.hpp"
#include "directspec/io/output_path.hpp"
#include "directspec/io/temp_files.hpp"

namespace directspec {

/// How the atomic writers write.
struct AtomicWriteOptions {
  /// The low-level write, with the contract of POSIX ::write (bytes written, or -1 and errno);
  /// tests replace it to fail or stop midway. Empty: ::write.
  std::function<long(int fd, const void* data, std::size_t size)> write;
  /// fsync the file before the rename and the directory after it.
  bool sync = true;
  /// Where the bytes written so far go when the writer gives up (a failed write, an exception, a
  /// signal handled by io/signal_cleanup.hpp) instead of being deleted, e.g. "run.jsonl.partial"
  /// for a log worth reading after a failed run. Empty: deleted. A partial write is cut back to
  /// the last complete Write() call, so a log keeps whole lines.
  std::filesystem::path keep_partial_as;
  /// Remove the temporaries of the same target left by processes that no longer exist.
  bool remove_stale = true;
};

namespace detail {

// Writes all of `bytes`; returns 0, or the errno of the failed write (EIO for a write of 0).
inline int WriteAll(int fd, std::span<const std::byte> bytes, const AtomicWriteOptions& options,
                    std::uint64_t& written) {
  const std::byte* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const std::size_t chunk = std::min<std::size_t>(left, std::size_t{1} << 26);
    const long n = options.write ? options.write(fd, p, chunk) : ::write(fd, p, chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n == 0 ? EIO : errno;
    p += n;
    left -= static_cast<std::size_t>(n);
    written += static_cast<std::uint64_t>(n);
  }
  return 0;
}

// fsync of a directory makes a rename in it durable; errors here cannot undo the rename.
inline void SyncDirectory(const std::filesystem::path& dir) {
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;
  ::fsync(dfd);
  ::close(dfd);
}

}  // namespace detail

/// Writes a file atomically: bytes go to ".<name>.tmp-<pid>-<k>" next to the target, which
/// replaces the target only in Commit(). Any failure throws an IoError with the operating
/// system's reason ("No space left on device", "File too large"); destroying an uncommitted
/// writer (an exception unwinding) removes the temporary. Either way the previous file is
/// untouched. A symbolic link at the target is followed (the file it points to is replaced).
///
///   AtomicFileWriter w("model.dspm");
///   w.Write(header);
///   w.Write(payload);
///   w.Commit();   // now "model.dspm" is the new file, complete
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::filesystem::path path, AtomicWriteOptions options = {})
      : path_(std::move(path)), options_(std::move(options)) {
    const auto last = path_.filename().string();
    if (last.empty() || last == "." || last == "..")
      throw IoError(path_.string(), -1, "names a directory, not a file");
    target_ = ResolveOutputPath(path_);
    struct stat st {};
    const bool exists = ::stat(target_.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) throw IoError(path_.string(), -1, "is a directory");
    if (exists && !S_ISREG(st.st_mode))
      throw IoError(
          path_.string(), -1,
          std::string("is ") + FileKindName(st.st_mode) + ", which cannot be replaced atomically");
    if (options_.remove_stale) RemoveStaleTemps(target_);
    temp_ = TempPathFor(target_);
    slot_ = TempRegistry::Add(temp_, options_.keep_partial_as);
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      const int err = errno;
      TempRegistry::Remove(slot_);
      throw IoError(path_.string(), -1,
                    "cannot create the temporary file " + temp_.string() + ErrnoReason(err));
    }
    ::flock(fd_, LOCK_EX | LOCK_NB);  // tells RemoveStaleTemps that this temporary is alive
    if (exists) ::fchmod(fd_, st.st_mode & 07777);  // a replaced file keeps its permissions
  }

  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  ~AtomicFileWriter() { GiveUp(written_); }

  /// Appends bytes (unbuffered: each call is one or more write(2) calls, so a log line is on disk
  /// when Write returns). On failure the temporary is removed and an IoError thrown.
  void Write(std::span<const std::byte> bytes) {
    if (fd_ < 0) throw IoError(path_.string(), -1, "write after commit or failure");
    const std::uint64_t before = written_;
    int err = 0;
    try {
      err = detail::WriteAll(fd_, bytes, options_, written_);
    } catch (...) {
      GiveUp(before);
      throw;
    }
    if (err != 0) Fail("write failed after " + std::to_string(written_) + " bytes", err, before);
  }
  void Write(std::string_view text) {
    Write(std::span<const std::byte>(reinterpret_cast<const std::byte*>(text.data()), text.size()));
  }

  std::uint64_t Written() const { return written_; }
  const std::filesystem::path& TempPath() const { return temp_; }

  /// Flushes, closes and renames the temporary over the target.
  void Commit() {
    if (fd_ < 0) throw IoError(path_.string(), -1, "commit after commit or failure");
    if (options_.sync && ::fsync(fd_) != 0) Fail("fsync failed", errno, written_);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) Fail("close failed", errno, written_);
    if (::rename(temp_.c_str(), target_.c_str()) != 0)
      Fail("cannot rename " + temp_.string() + " to " + target_.string(), errno, written_);
    done_ = true;
    TempRegistry::Remove(slot_);
    if (options_.sync) detail::SyncDirectory(target_.parent_path());
  }

  /// Gives up without committing: the temporary is removed, or renamed to keep_partial_as when it
  /// holds bytes. Returns that path when it was kept, else an empty path. Idempotent.
  std::filesystem::path Abandon() { return GiveUp(written_); }

 private:
  std::filesystem::path GiveUp(std::uint64_t keep_bytes) noexcept {
    if (done_) return {};
    done_ = true;
    const bool keep = !options_.keep_partial_as.empty() && keep_bytes > 0;
    if (fd_ >= 0) {
      if (keep && keep_bytes < written_) (void)::ftruncate(fd_, static_cast<off_t>(keep_bytes));
      ::close(fd_);
      fd_ = -1;
    }
    std::filesystem::path kept;
    if (keep && ::rename(temp_.c_str(), options_.keep_partial_as.c_str()) == 0)
      kept = options_.keep_partial_as;
    else
      ::unlink(temp_.c_str());
    TempRegistry::Remove(slot_);
    return kept;
  }

  [[noreturn]] void Fail(const std::string& problem, int err, std::uint64_t keep_bytes) {
    const auto kept = GiveUp(keep_bytes);
    throw IoError(path_.string(), -1,
                  problem + ErrnoReason(err) + "; the previous file, if any, is unchanged" +
                      (kept.empty() ? "" : "; what was written is in " + kept.string()));
  }

  std::filesystem::path path_;    // as given, for messages
  std::filesystem::path target_;  // what is replaced (links followed)
  std::filesystem::path temp_;
  AtomicWriteOptions options_;
  int fd_ = -1;
  int slot_ = -1;
  bool done_ = false;  // committed or given up
  std::uint64_t written_ = 0;
};

/// Writes `bytes` to `path` atomically (see AtomicFileWriter).
inline void AtomicWriteFile(const std::filesystem::path& path, std::span<const std::byte> bytes,
                            const AtomicWriteOptions& options = {}) {
  AtomicFileWriter w(path, options);
  w.Write(bytes);
  w.Commit();
}

/// Writes text to `path` atomically.
inline void AtomicWriteFile(const std::filesystem::path& path, std::string_view text,
                            const AtomicWriteOptions& options = {}) {
  AtomicFileWriter w(path, options);
  w.Write(text);
  w.Commit();
}

}  // namespace directspec
