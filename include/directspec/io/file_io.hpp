// File plumbing of the io layer: CRC-32, the little-endian byte writers (StoreLE, PutLE,
// PutString, ScalarsToLE) and readers (ByteReader, ScalarsFromLE) of every binary format, a
// bounds-checked reader for parsing untrusted bytes, and file reads that check what they open
// (regular files only, size from fstat) before reading. Model files and .npy files use it; it also
// brings in IoError (io/io_error.hpp) and the atomic writers (io/atomic_file.hpp) that every output
// goes through.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "directspec/io/atomic_file.hpp"
#include "directspec/io/io_error.hpp"

namespace directspec {

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

/// Writes the little-endian bytes of an unsigned integer at `at` (a field patched in place).
template <class U>
void StoreLE(std::byte* at, U value) {
  for (std::size_t k = 0; k < sizeof(U); ++k)
    at[k] = static_cast<std::byte>((static_cast<std::uint64_t>(value) >> (8 * k)) & 0xFF);
}

/// Appends the little-endian bytes of an unsigned integer.
template <class U>
void PutLE(std::vector<std::byte>& out, U value) {
  out.resize(out.size() + sizeof(U));
  StoreLE(out.data() + out.size() - sizeof(U), value);
}

/// Appends a u32 length and the bytes of `s` (ByteReader::ReadString reads it back); `what`
/// names the string for the std::length_error of one over 4 GiB, e.g. "SaveModel: user id".
inline void PutString(std::vector<std::byte>& out, std::string_view s, std::string_view what) {
  if (s.size() > 0xFFFFFFFFu) throw std::length_error(std::string(what) + " longer than 4 GiB");
  PutLE<std::uint32_t>(out, static_cast<std::uint32_t>(s.size()));
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  out.insert(out.end(), p, p + s.size());
}

/// Copies `count` scalars (float, double or std::int64_t) to little-endian bytes at `out` (a plain
/// copy on x86 / ARM).
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

/// A file opened for reading after checking what it is: a directory, FIFO, socket or device is
/// refused with an IoError naming the file (opened with O_NONBLOCK first, so a FIFO without a
/// writer cannot block), and the size is taken from fstat, so callers decide how much to read
/// before reading it.
class ReadOnlyFile {
 public:
  explicit ReadOnlyFile(const std::filesystem::path& path) : name_(path.string()) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) throw IoError(name_, -1, "cannot open for reading" + ErrnoReason(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      const int err = errno;
      ::close(fd_);
      throw IoError(name_, -1, "cannot inspect the file" + ErrnoReason(err));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw IoError(name_, -1,
                    std::string("is ") + FileKindName(st.st_mode) + ", not a regular file");
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;
  ~ReadOnlyFile() { ::close(fd_); }

  const std::string& Name() const { return name_; }
  std::uint64_t Size() const { return size_; }

  /// Exactly `count` bytes from `offset`; IoError if the file ends first (it shrank).
  void ReadAt(std::uint64_t offset, std::byte* out, std::uint64_t count) const {
    std::uint64_t done = 0;
    while (done < count) {
      const std::size_t chunk =
          static_cast<std::size_t>(std::min<std::uint64_t>(count - done, 1u << 30));
      const ssize_t n = ::pread(fd_, out + done, chunk, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        throw IoError(name_, static_cast<std::int64_t>(offset + done),
                      "read failed" + ErrnoReason(errno));
      if (n == 0)
        throw IoError(
            name_, static_cast<std::int64_t>(offset + done),
            "the file ended while being read (it shrank from " + std::to_string(size_) + " bytes)");
      done += static_cast<std::uint64_t>(n);
    }
  }

  /// `count` bytes from `offset` as a vector; an allocation failure names the file.
  std::vector<std::byte> Read(std::uint64_t offset, std::uint64_t count) const {
    std::vector<std::byte> bytes;
    try {
      bytes.resize(static_cast<std::size_t>(count));
    } catch (const std::bad_alloc&) {
      throw IoError(name_, -1, "cannot allocate " + std::to_string(count) + " bytes to read it");
    }
    ReadAt(offset, bytes.data(), count);
    return bytes;
  }

 private:
  std::string name_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

/// The whole file as bytes; IoError naming the file when it cannot be opened or read, is not a
/// regular file, or is larger than `max_bytes`.
inline std::vector<std::byte> ReadFileBytes(const std::filesystem::path& path,
                                            std::uint64_t max_bytes = UINT64_MAX) {
  const ReadOnlyFile f(path);
  if (f.Size() > max_bytes)
    throw IoError(f.Name(), -1,
                  "is " + std::to_string(f.Size()) + " bytes, more than the " +
                      std::to_string(max_bytes) + " expected");
  return f.Read(0, f.Size());
}

/// Checks the CRC-32 stored little-endian in the last 4 bytes of `bytes` against the bytes before
/// it (the trailer of model files and checkpoints); throws IoError naming `source` on a mismatch.
inline void VerifyCrc32Trailer(std::span<const std::byte> bytes, const std::string& source) {
  constexpr std::size_t kTrailer = 4;
  const auto payload = bytes.first(bytes.size() - kTrailer);
  ByteReader tail(bytes.last(kTrailer), source);
  const auto stored = tail.ReadLE<std::uint32_t>("checksum");
  const auto computed = Crc32(payload);
  if (stored != computed) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "checksum mismatch (stored %08x, computed %08x): corrupted",
                  stored, computed);
    throw IoError(source, static_cast<std::int64_t>(payload.size()), buf);
  }
}

}  // namespace directspec
