// The io layer's exception: every failure to read, parse, check or write a file ends here, naming
// the file, the byte offset when there is one, and the problem (with the operating system's
// reason, e.g. "No space left on device", whenever a system call failed).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace directspec {

/// A file (or in-memory source) could not be read, parsed or written. what() reads
/// "<file>: byte <offset>: <problem>" (the offset part only when the problem has a position).
class IoError : public std::runtime_error {
 public:
  IoError(std::string file, std::int64_t offset, const std::string& problem)
      : std::runtime_error(file + (offset >= 0 ? ": byte " + std::to_string(offset) : "") + ": " +
                           problem),
        file_(std::move(file)),
        offset_(offset) {}
  const std::string& File() const { return file_; }
  /// Byte offset of the problem, -1 when it concerns the whole file.
  std::int64_t Offset() const { return offset_; }

 private:
  std::string file_;
  std::int64_t offset_;
};

/// " (<strerror(err)>)", the suffix every message about a failed system call carries.
inline std::string ErrnoReason(int err) { return std::string(" (") + std::strerror(err) + ")"; }

/// What a file system entry is, for messages: "a directory", "a FIFO", ...
inline const char* FileKindName(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "an unknown kind of file";
}

}  // namespace directspec
