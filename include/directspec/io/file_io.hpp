// File plumbing of the io layer: the IoError exception, CRC-32, little-endian byte helpers, a
// bounds-checked reader for parsing untrusted bytes, whole-file reads, and atomic writes (temp
// file in the same directory, fsync, rename, fsync of the directory) so that a failed or
// interrupted save never destroys the previous good file. Model files and .npy exports use it.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

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

/// CRC-32 (IEEE 802.3 polynomial, reflected; identical to zlib.crc32), incremental:
/// crc = Crc32(part2, Crc32(part1)).
inline std::uint32_t Crc32(std::span<const std::byte> data, std::uint32_t crc = 0) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (const std::byte b : data)
    crc = table[(crc ^ static_cast<std::uint32_t>(b)) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

/// Appends the little-endian bytes of an unsigned integer.
template <class U>
void PutLE(std::vector<std::byte>& out, U value) {
  for (std::size_t k = 0; k < sizeof(U); ++k)
    out.push_back(static_cast<std::byte>((static_cast<std::uint64_t>(value) >> (8 * k)) & 0xFF));
}

/// Copies `count` scalars to little-endian bytes at `out` (a no-op conversion on x86 / ARM).
template <class S>
void ScalarsToLE(const S* in, std::size_t count, std::byte* out) {
  if (count == 0) return;  // empty tables have null data(): memcpy(null, ...) is undefined
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out, in, count * sizeof(S));
  } else {
    for (std::size_t k = 0; k < count; ++k) {
      std::byte tmp[sizeof(S)];
      std::memcpy(tmp, in + k, sizeof(S));
      for (std::size_t b = 0; b < sizeof(S); ++b) out[k * sizeof(S) + b] = tmp[sizeof(S) - 1 - b];
    }
  }
}

template <class S>
void ScalarsFromLE(const std::byte* in, std::size_t count, S* out) {
  if (count == 0) return;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out, in, count * sizeof(S));
  } else {
    for (std::size_t k = 0; k < count; ++k) {
      std::byte tmp[sizeof(S)];
      for (std::size_t b = 0; b < sizeof(S); ++b) tmp[b] = in[k * sizeof(S) + sizeof(S) - 1 - b];
      std::memcpy(out + k, tmp, sizeof(S));
    }
  }
}

/// Bounds-checked cursor over untrusted bytes: every read checks the remaining length first and
/// throws an IoError with the source name and offset, so hostile lengths cannot over-read or
/// trigger huge allocations.
class ByteReader {
 public:
  ByteReader(std::span<const std::byte> data, std::string source)
      : data_(data), source_(std::move(source)) {}

  std::size_t Offset() const { return pos_; }
  std::size_t Remaining() const { return data_.size() - pos_; }
  const std::string& Source() const { return source_; }

  [[noreturn]] void Fail(const std::string& problem) const {
    throw IoError(source_, static_cast<std::int64_t>(pos_), problem);
  }

  void Need(std::uint64_t bytes, const char* what) const {
    if (bytes > Remaining())
      Fail(std::string("truncated: ") + what + " needs " + std::to_string(bytes) + " bytes, only " +
           std::to_string(Remaining()) + " left");
  }

  template <class U>
  U ReadLE(const char* what) {
    Need(sizeof(U), what);
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < sizeof(U); ++k)
      v |= static_cast<std::uint64_t>(data_[pos_ + k]) << (8 * k);
    pos_ += sizeof(U);
    return static_cast<U>(v);
  }

  std::span<const std::byte> Take(std::uint64_t bytes, const char* what) {
    Need(bytes, what);
    auto s = data_.subspan(pos_, static_cast<std::size_t>(bytes));
    pos_ += static_cast<std::size_t>(bytes);
    return s;
  }

  /// u32 length + bytes.
  std::string ReadString(const char* what) {
    const auto len = ReadLE<std::uint32_t>(what);
    const auto bytes = Take(len, what);
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }

 private:
  std::span<const std::byte> data_;
  std::string source_;
  std::size_t pos_ = 0;
};

/// The whole file as bytes; IoError naming the file when it cannot be opened or read.
inline std::vector<std::byte> ReadFileBytes(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError(path.string(), -1, "cannot open for reading");
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  if (size < 0) throw IoError(path.string(), -1, "cannot determine the file size");
  f.seekg(0, std::ios::beg);
  std::vector<std::byte> bytes(static_cast<std::size_t>(size));
  if (size > 0 && !f.read(reinterpret_cast<char*>(bytes.data()), size))
    throw IoError(path.string(), -1, "read failed");
  return bytes;
}

/// How AtomicFileWriter writes: `write` has the contract of POSIX ::write (returns bytes written
/// or -1 with errno set) and can be replaced, e.g. by a test that fails midway.
struct AtomicWriteOptions {
  std::function<long(int fd, const void* data, std::size_t size)> write;  // default ::write
  bool sync = true;  // fsync the file before the rename and the directory after it
};

/// Writes a file atomically: bytes go to a temporary file next to the target, which replaces the
/// target only in Commit(). Destroying an uncommitted writer (e.g. after an exception) removes
/// the temporary and leaves any previous file untouched.
///
///   AtomicFileWriter w("model.dspm");
///   w.Write(header);
///   w.Write(payload);
///   w.Commit();   // now "model.dspm" is the new file, complete
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::filesystem::path path, AtomicWriteOptions options = {})
      : path_(std::move(path)), options_(std::move(options)) {
    static std::atomic<unsigned> counter{0};
    const auto dir = path_.has_parent_path() ? path_.parent_path() : std::filesystem::path(".");
    temp_ = dir / ("." + path_.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                   std::to_string(counter++));
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) Throw("cannot create temporary file " + temp_.string());
  }

  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  ~AtomicFileWriter() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
  }

  void Write(std::span<const std::byte> bytes) {
    if (fd_ < 0) throw IoError(path_.string(), -1, "write after commit or failure");
    const std::byte* p = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
      const std::size_t chunk = std::min<std::size_t>(left, std::size_t{1} << 26);
      const long n = options_.write ? options_.write(fd_, p, chunk) : ::write(fd_, p, chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) errno = EIO;
      if (n <= 0) Fail("write failed after " + std::to_string(written_) + " bytes");
      p += n;
      left -= static_cast<std::size_t>(n);
      written_ += static_cast<std::uint64_t>(n);
    }
  }

  std::uint64_t Written() const { return written_; }

  /// Flushes, closes and renames the temporary over the target.
  void Commit() {
    if (fd_ < 0) throw IoError(path_.string(), -1, "commit after failure");
    if (options_.sync && ::fsync(fd_) != 0) Fail("fsync failed");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) Fail("close failed");
    if (::rename(temp_.c_str(), path_.c_str()) != 0) Fail("cannot rename " + temp_.string());
    committed_ = true;
    if (options_.sync) {  // make the rename itself durable
      const auto dir = path_.has_parent_path() ? path_.parent_path() : std::filesystem::path(".");
      const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
      }
    }
  }

 private:
  [[noreturn]] void Throw(const std::string& problem) const {
    throw IoError(path_.string(), -1, problem + " (" + std::strerror(errno) + ")");
  }

  [[noreturn]] void Fail(const std::string& problem) {
    const int saved = errno;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(temp_.c_str());
    errno = saved;
    Throw(problem + "; the previous file, if any, is unchanged");
  }

  std::filesystem::path path_;
  std::filesystem::path temp_;
  AtomicWriteOptions options_;
  int fd_ = -1;
  bool committed_ = false;
  std::uint64_t written_ = 0;
};

/// Writes `bytes` to `path` atomically (see AtomicFileWriter).
inline void AtomicWriteFile(const std::filesystem::path& path, std::span<const std::byte> bytes,
                            const AtomicWriteOptions& options = {}) {
  AtomicFileWriter w(path, options);
  w.Write(bytes);
  w.Commit();
}

}  // namespace directspec
