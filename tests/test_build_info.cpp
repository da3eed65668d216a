// BuildInfo (core/build_info.hpp): what the including code was compiled with, and the warning a
// build without AVX2/FMA prints on a CPU that has them. The portable CI build and the native one
// run this with different flags, so each checks its own side of the warning.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <sstream>

#include "directspec/core/build_info.hpp"

namespace ds = directspec;

TEST_CASE("BuildInfo reports this translation unit's flags", "[core][build]") {
  const ds::BuildInfo info = ds::CompiledBuildInfo();
#if defined(__AVX2__) && defined(__FMA__)
  CHECK(info.avx2_fma);
#else
  CHECK_FALSE(info.avx2_fma);
#endif
#if defined(_OPENMP)
  CHECK(info.openmp);
  CHECK(info.openmp_version == _OPENMP);
#else
  CHECK_FALSE(info.openmp);
#endif
  CHECK(info.eigen.rfind("3.4.", 0) == 0);
  const std::string summary = info.Summary();
  CHECK(summary.find("SIMD " + info.simd) == 0);
  CHECK(summary.find("Eigen 3.4.") != std::string::npos);
  CHECK(summary.find(info.openmp ? "OpenMP 20" : "OpenMP off") != std::string::npos);
}

TEST_CASE("The SIMD warning appears exactly when a faster build would run here", "[core][build]") {
  ds::BuildInfo slow = ds::CompiledBuildInfo();
  slow.avx2_fma = false;
  slow.simd = "SSE2";
  ds::BuildInfo fast = slow;
  fast.avx2_fma = true;
  CHECK(ds::SimdWarning(fast).empty());
  if (ds::CpuHasAvx2Fma()) {
    const std::string warning = ds::SimdWarning(slow);
    CHECK(warning.find("SSE2") != std::string::npos);
    CHECK(warning.find("directspec::native") != std::string::npos);
  } else {
    CHECK(ds::SimdWarning(slow).empty());
  }
  // The start-up lines: the summary on one stream, the warning (if any) on the other.
  std::ostringstream info, warnings;
  ds::PrintBuildInfo(info, warnings);
  CHECK(info.str() == "build: " + ds::CompiledBuildInfo().Summary() + "\n");
  CHECK(warnings.str().empty() == ds::StartupSimdWarning().empty());
}

TEST_CASE("DIRECTSPEC_NO_SIMD_WARNING silences the start-up warning and nothing else",
          "[core][build]") {
  ds::BuildInfo slow = ds::CompiledBuildInfo();
  slow.avx2_fma = false;
  slow.simd = "SSE2";
  const char* before = std::getenv(ds::kNoSimdWarningVariable);
  const std::string saved = before ? before : "";
  ::setenv(ds::kNoSimdWarningVariable, "1", 1);
  CHECK(ds::StartupSimdWarning(slow).empty());
  CHECK(ds::SimdWarning(slow).empty() == !ds::CpuHasAvx2Fma());  // the check itself still runs
  ::setenv(ds::kNoSimdWarningVariable, "0", 1);
  CHECK(ds::StartupSimdWarning(slow) == ds::SimdWarning(slow));
  ::unsetenv(ds::kNoSimdWarningVariable);
  CHECK(ds::StartupSimdWarning(slow) == ds::SimdWarning(slow));
  if (before) ::setenv(ds::kNoSimdWarningVariable, saved.c_str(), 1);
}
