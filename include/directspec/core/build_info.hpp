// What the code including this header was compiled with: the SIMD level Eigen vectorises with,
// OpenMP on or off, the Eigen and compiler versions; and what the running CPU could use instead.
// Header-only, so it describes the caller's translation unit (the consumer's flags, not ours).
// The CLI and the examples print it at start-up and warn when a faster build is possible.
#pragma once

#include <Eigen/Core>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace directspec {

/// The compile-time configuration of the including translation unit.
struct BuildInfo {
  std::string simd;       // widest instruction set Eigen uses: "AVX-512", "AVX2+FMA", ..., "none"
  bool avx2_fma = false;  // the level the library's kernels are tuned for
  bool openmp = false;
  int openmp_version = 0;  // _OPENMP (yyyymm), 0 without OpenMP
  std::string eigen;       // "3.4.0"
  std::string compiler;

  /// One line for logs: "SIMD AVX2+FMA, OpenMP 201511, Eigen 3.4.0, GCC 12.2.0".
  std::string Summary() const {
    std::string s = "SIMD " + simd + ", OpenMP ";
    s += openmp ? std::to_string(openmp_version) : std::string("off");
    return s + ", Eigen " + eigen + ", " + compiler;
  }
};

inline BuildInfo CompiledBuildInfo() {
  BuildInfo info;
#if defined(__AVX512F__)
  info.simd = "AVX-512";
#elif defined(__AVX2__) && defined(__FMA__)
  info.simd = "AVX2+FMA";
#elif defined(__AVX__)
  info.simd = "AVX";
#elif defined(__SSE4_2__)
  info.simd = "SSE4.2";
#elif defined(__SSE2__)
  info.simd = "SSE2";
#elif defined(__ARM_NEON)
  info.simd = "NEON";
#else
  info.simd = "none";
#endif
#if defined(__AVX2__) && defined(__FMA__)
  info.avx2_fma = true;
#endif
#if defined(_OPENMP)
  info.openmp = true;
  info.openmp_version = _OPENMP;
#endif
  info.eigen = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) +
               "." + std::to_string(EIGEN_MINOR_VERSION);
#if defined(__clang__)
  info.compiler = "Clang " __clang_version__;
#elif defined(__GNUC__)
  info.compiler = "GCC " __VERSION__;
#else
  info.compiler = "unknown compiler";
#endif
  return info;
}

/// True when the running CPU has AVX2 and FMA (x86 with GCC or Clang; false elsewhere).
inline bool CpuHasAvx2Fma() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

/// A warning when this code was built without AVX2/FMA on a CPU that has them, else "".
/// Measured on CiteULike MF + DirectSpec+ (docs/performance.md#build-flags): an SSE2 build's
/// epoch takes 2.4x as long as an AVX2+FMA one and 3-3.3x as long as -march=native (AVX-512).
inline std::string SimdWarning(const BuildInfo& info = CompiledBuildInfo()) {
  if (info.avx2_fma || !CpuHasAvx2Fma()) return {};
  return "built without AVX2/FMA (SIMD " + info.simd +
         ") on a CPU that has them: training runs 2-3x slower. Compile with -march=native, or "
         "link directspec::native or directspec::avx2 (docs/performance.md#build-flags)";
}

/// The switch that silences the start-up SIMD warning: the environment variable
/// DIRECTSPEC_NO_SIMD_WARNING set to anything but "" or "0". The test runs set it (the warning is
/// about speed, which no test measures); a user who knowingly runs a portable build may too.
inline constexpr const char* kNoSimdWarningVariable = "DIRECTSPEC_NO_SIMD_WARNING";

/// SimdWarning(info), or "" when the environment silences it (kNoSimdWarningVariable): what the
/// examples and the CLI print at start-up.
inline std::string StartupSimdWarning(const BuildInfo& info = CompiledBuildInfo()) {
  const char* silenced = std::getenv(kNoSimdWarningVariable);
  if (silenced && *silenced && std::string_view(silenced) != "0") return {};
  return SimdWarning(info);
}

/// Prints "build: <summary>" to `info` and the start-up SIMD warning, if any, to `warnings`: the
/// start-up lines of the examples, so every timing they print says what build produced it.
inline void PrintBuildInfo(std::ostream& info = std::cout, std::ostream& warnings = std::cerr) {
  const BuildInfo build = CompiledBuildInfo();
  info << "build: " << build.Summary() << "\n";
  if (const std::string warning = StartupSimdWarning(build); !warning.empty())
    warnings << "warning: " << warning << "\n";
}

}  // namespace directspec
