// NumPy .npy export and import of embedding tables (format version 1.0, '<f4' or '<f8', C order),
// so trained U and I can be opened with numpy.load for analysis or serving elsewhere. Writes are
// atomic, the pair as one unit (io/atomic_file.hpp, io/atomic_dir.hpp); the reader checks every
// length and accepts only what it can represent exactly (2-D or 1-D, little-endian float32 /
// float64, C order).
#pragma once

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "directspec/core/text.hpp"
#include "directspec/core/types.hpp"
#include "directspec/io/atomic_dir.hpp"
#include "directspec/io/atomic_file.hpp"
#include "directspec/io/file_io.hpp"

namespace directspec {

namespace detail {

template <class S>
constexpr const char* Descr() {
  static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>,
                ".npy export supports float and double tables");
  return std::is_same_v<S, float> ? "<f4" : "<f8";
}

// Value text after 'key': up to the next top-level ',' (a tuple's commas are inside parentheses).
inline std::string_view ValueOf(std::string_view dict, std::string_view key, ByteReader& r) {
  const std::string quoted = "'" + std::string(key) + "'";
  const auto at = dict.find(quoted);
  if (at == std::string_view::npos) r.Fail("header has no " + quoted + " entry");
  auto rest = TrimBlanks(dict.substr(at + quoted.size()));
  if (rest.empty() || rest.front() != ':') r.Fail("header entry " + quoted + " has no ':'");
  rest = TrimBlanks(rest.substr(1));
  std::size_t end = 0;
  int depth = 0;
  for (; end < rest.size(); ++end) {
    if (rest[end] == '(') ++depth;
    if (rest[end] == ')') --depth;
    if ((rest[end] == ',' || rest[end] == '}') && depth == 0) break;
  }
  return TrimBlanks(rest.substr(0, end));
}

}  // namespace detail

/// The .npy bytes of a table (version 1.0 header padded to a multiple of 64 bytes).
template <class S>
std::vector<std::byte> SerializeNpy(const RowMatrix<S>& X) {
  std::string dict = std::string("{'descr': '") + detail::Descr<S>() +
                     "', 'fortran_order': False, 'shape': (" + std::to_string(X.rows()) + ", " +
                     std::to_string(X.cols()) + "), }";
  const std::size_t unpadded = 10 + dict.size() + 1;  // magic(6) version(2) length(2) + '\n'
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  if (dict.size() > 0xFFFF) throw std::length_error("SerializeNpy: header too long");
  std::vector<std::byte> out;
  const std::size_t data_bytes = static_cast<std::size_t>(X.size()) * sizeof(S);
  out.reserve(10 + dict.size() + data_bytes);
  const unsigned char magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  for (const unsigned char c : magic) out.push_back(std::byte{c});
  out.push_back(std::byte{1});
  out.push_back(std::byte{0});
  PutLE<std::uint16_t>(out, static_cast<std::uint16_t>(dict.size()));
  for (const char c : dict) out.push_back(static_cast<std::byte>(c));
  const std::size_t at = out.size();
  out.resize(at + data_bytes);
  ScalarsToLE(X.data(), static_cast<std::size_t>(X.size()), out.data() + at);
  return out;
}

/// Writes X as a .npy file (atomically).
///
///   WriteNpy("user.npy", U);   // numpy.load(...) gives an (n, d) float32 array
template <class S>
void WriteNpy(const std::filesystem::path& path, const RowMatrix<S>& X,
              const AtomicWriteOptions& options = {}) {
  AtomicWriteFile(path, SerializeNpy(X), options);
}

/// The files ExportNpy writes, and all that its directory may hold (CheckOutputDirectory).
inline const std::vector<std::string>& NpyPairNames() {
  static const std::vector<std::string> names{"user.npy", "item.npy"};
  return names;
}

/// Writes `dir`/user.npy and `dir`/item.npy as one unit (AtomicDirectoryWriter): a reader of
/// `dir` finds both tables of the previous export or both of this one, never one of each. `dir`
/// must be absent or hold nothing but these two files; its parent must exist.
template <class S>
void ExportNpy(const std::filesystem::path& dir, const RowMatrix<S>& U, const RowMatrix<S>& I,
               const AtomicWriteOptions& options = {}) {
  AtomicDirectoryWriter w(dir, options);
  w.WriteFile(NpyPairNames()[0], SerializeNpy(U));
  w.WriteFile(NpyPairNames()[1], SerializeNpy(I));
  w.Commit();
}

/// Parses .npy bytes holding a 1-D (read as n x 1) or 2-D little-endian float array of type S in
/// C order. Throws IoError naming `source`, the offset and the problem.
template <class S>
RowMatrix<S> ParseNpy(std::span<const std::byte> bytes, std::string source = "<memory>") {
  ByteReader r(bytes, std::move(source));
  if (bytes.empty()) r.Fail("empty file (0 bytes), not a .npy file");
  const auto magic = r.Take(6, "magic");
  const unsigned char expect[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  for (std::size_t k = 0; k < 6; ++k)
    if (magic[k] != std::byte{expect[k]}) r.Fail("not a .npy file (bad magic string)");
  const auto major = r.ReadLE<std::uint8_t>("version");
  r.ReadLE<std::uint8_t>("version");
  std::uint64_t header_len = 0;
  if (major == 1)
    header_len = r.ReadLE<std::uint16_t>("header length");
  else if (major == 2 || major == 3)
    header_len = r.ReadLE<std::uint32_t>("header length");
  else
    r.Fail("unsupported .npy format version " + std::to_string(major));
  const auto header = r.Take(header_len, "header");
  const std::string_view dict(reinterpret_cast<const char*>(header.data()), header.size());

  const auto descr = detail::ValueOf(dict, "descr", r);
  const std::string want = std::string("'") + detail::Descr<S>() + "'";
  if (descr != want)
    r.Fail("dtype " + std::string(descr.substr(0, 16)) + " but " + want + " was requested");
  if (detail::ValueOf(dict, "fortran_order", r) != "False")
    r.Fail("Fortran-order arrays are not supported (expected 'fortran_order': False)");
  auto shape = detail::ValueOf(dict, "shape", r);
  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')')
    r.Fail("malformed shape " + std::string(shape.substr(0, 40)));
  shape = shape.substr(1, shape.size() - 2);
  std::vector<std::uint64_t> dims;
  while (!(shape = TrimBlanks(shape)).empty()) {
    std::uint64_t v = 0;
    const auto res = std::from_chars(shape.data(), shape.data() + shape.size(), v);
    if (res.ec != std::errc())
      r.Fail("malformed shape entry near '" + std::string(shape.substr(0, 20)) + "'");
    dims.push_back(v);
    shape.remove_prefix(static_cast<std::size_t>(res.ptr - shape.data()));
    shape = TrimBlanks(shape);
    if (!shape.empty()) {
      if (shape.front() != ',') r.Fail("malformed shape (expected ',')");
      shape.remove_prefix(1);
    }
  }
  if (dims.empty() || dims.size() > 2)
    r.Fail("expected a 1-D or 2-D array, got " + std::to_string(dims.size()) + " dimensions");
  const std::uint64_t rows = dims[0], cols = dims.size() == 2 ? dims[1] : 1;
  std::uint64_t count = 0, data_bytes = 0;
  if (__builtin_mul_overflow(rows, cols, &count) ||
      __builtin_mul_overflow(count, sizeof(S), &data_bytes) ||
      rows > static_cast<std::uint64_t>(std::numeric_limits<Index>::max()) ||
      cols > static_cast<std::uint64_t>(std::numeric_limits<Index>::max()))
    r.Fail("implausible shape " + std::to_string(rows) + " x " + std::to_string(cols));
  if (data_bytes != r.Remaining())
    r.Fail("data is " + std::to_string(r.Remaining()) + " bytes but shape " + std::to_string(rows) +
           " x " + std::to_string(cols) + " needs " + std::to_string(data_bytes) +
           (data_bytes > r.Remaining() ? " (truncated)" : " (trailing bytes)"));
  RowMatrix<S> X(static_cast<Index>(rows), static_cast<Index>(cols));
  const auto data = r.Take(data_bytes, "array data");
  ScalarsFromLE(data.data(), static_cast<std::size_t>(count), X.data());
  return X;
}

/// Reads a .npy file written by WriteNpy (or numpy.save of a float32 / float64 C-order array).
template <class S>
RowMatrix<S> ReadNpy(const std::filesystem::path& path) {
  const auto bytes = ReadFileBytes(path);
  return ParseNpy<S>(bytes, path.string());
}

}  // namespace directspec
