// Gzip input for the raw-log reader (raw_log.hpp), the step before parsing: a `.gz` interaction
// log is inflated in memory. zlib is optional: it is used when DIRECTSPEC_WITH_ZLIB is defined
// (the CMake target directspec::zlib defines it and links zlib; the project's own programs get it
// whenever CMake finds zlib). Without it, gzip input is a DataError that says how to enable it;
// the rest of the library never needs zlib.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "directspec/data/data_error.hpp"

#if defined(DIRECTSPEC_WITH_ZLIB)
#include <zlib.h>
#endif

namespace directspec {

/// Whether this build reads gzip input (compiled with DIRECTSPEC_WITH_ZLIB).
inline constexpr bool GzipSupported() {
#if defined(DIRECTSPEC_WITH_ZLIB)
  return true;
#else
  return false;
#endif
}

/// Whether `bytes` start with the gzip magic number (1f 8b), whatever the file is called.
inline bool LooksGzipped(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

/// Inflates the gzip data `bytes` read from `source` (concatenated members are joined, as gunzip
/// does). Throws DataError naming `source` when the data are corrupt or truncated, or when this
/// build has no zlib.
inline std::string Gunzip(std::string_view bytes, const std::string& source) {
#if defined(DIRECTSPEC_WITH_ZLIB)
  std::string out;
  out.reserve(bytes.size() * 4);
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK)  // 16: expect a gzip wrapper
    throw DataError(source, 0, "", "cannot start gzip decompression (zlib inflateInit2 failed)");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  std::size_t left = bytes.size();
  constexpr std::size_t kMaxIn = 1u << 30;  // avail_in is 32 bits wide
  char chunk[1 << 16];
  int status = Z_OK;
  for (;;) {
    if (z.avail_in == 0 && left > 0) {
      const std::size_t take = left < kMaxIn ? left : kMaxIn;
      z.avail_in = static_cast<uInt>(take);
      left -= take;
    }
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    status = inflate(&z, Z_NO_FLUSH);
    out.append(chunk, sizeof chunk - z.avail_out);
    if (status == Z_STREAM_END) {
      if (z.avail_in == 0 && left == 0) break;
      // Another member follows (files joined with cat): inflate it as well.
      const std::string_view rest(reinterpret_cast<const char*>(z.next_in), z.avail_in);
      if (!LooksGzipped(rest)) break;  // trailing garbage after the last member: ignored, as gzip
      inflateReset(&z);
      continue;
    }
    if (status == Z_OK) continue;
    if (status == Z_BUF_ERROR && z.avail_in == 0 && left == 0) break;  // input ended early
    const std::string reason = z.msg ? z.msg : "error " + std::to_string(status);
    inflateEnd(&z);
    throw DataError(source, 0, "", "corrupt gzip data (" + reason + ")");
  }
  inflateEnd(&z);
  if (status != Z_STREAM_END)
    throw DataError(source, 0, "",
                    "truncated gzip data: the compressed stream ends after " +
                        std::to_string(bytes.size()) + " bytes, before its end marker (" +
                        std::to_string(out.size()) + " bytes inflated)");
  return out;
#else
  (void)bytes;
  throw DataError(source, 0, "",
                  "gzip-compressed input, but this build has no zlib: install zlib (Debian: "
                  "zlib1g-dev) and rebuild (CMake then defines DIRECTSPEC_WITH_ZLIB), or "
                  "decompress the file first (gunzip -k)");
#endif
}

}  // namespace directspec
