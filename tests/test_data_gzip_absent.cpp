// A build without zlib: gzip input is refused with a message naming the file and saying how to
// enable it, while plain input still reads. This file undefines DIRECTSPEC_WITH_ZLIB before the
// headers, so the check runs in every build (each test file is its own program).
#undef DIRECTSPEC_WITH_ZLIB
#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "directspec/data.hpp"

using namespace directspec;

TEST_CASE("ReadRawLog without zlib: gzip input names the file and the remedy", "[data][gzip]") {
  STATIC_REQUIRE_FALSE(GzipSupported());
  const auto path = std::filesystem::temp_directory_path() /
                    ("directspec_nozlib_" + std::to_string(::getpid()) + ".csv.gz");
  // Any bytes with the gzip magic number (1f 8b) are taken for gzip data.
  std::ofstream(path, std::ios::binary) << std::string("\x1f\x8b\x08\x00rest", 8);
  try {
    ReadRawLog(path);
    FAIL("gzip data read without zlib");
  } catch (const DataError& e) {
    CHECK(e.File() == path.string());
    CHECK_THAT(e.what(), Catch::Contains("this build has no zlib") &&
                             Catch::Contains("zlib1g-dev") && Catch::Contains("gunzip"));
  }
  std::ofstream(path, std::ios::binary) << "a,b\nc,d\n";  // plain text, whatever the name
  CHECK(ReadRawLog(path).rows.size() == 2);
  std::filesystem::remove(path);
}
