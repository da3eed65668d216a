// Shared helpers of the libFuzzer targets in fuzz/: an invariant check that reports and aborts
// (libFuzzer then saves the input as a crash artifact), an input hash that derives per-input
// parser options, and the --make-seed=DIR mode through which a target writes its seed corpus.
// Targets are built by fuzz/run_fuzzers.sh with clang++ -fsanitize=fuzzer,address,undefined.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>

/// Aborts with a message when an invariant fails: `FUZZ_CHECK(p.max_user >= u, "max_user")`.
#define FUZZ_CHECK(cond, what)                                                  \
  do {                                                                          \
    if (!(cond)) ::directspec_fuzz::Violation(__FILE__, __LINE__, #cond, what); \
  } while (0)

namespace directspec_fuzz {

[[noreturn]] inline void Violation(const char* file, int line, const char* cond,
                                   const std::string& what) {
  std::fprintf(stderr, "\nINVARIANT VIOLATED at %s:%d\n  check: %s\n  %s\n", file, line, cond,
               what.c_str());
  std::fflush(stderr);
  std::abort();
}

/// FNV-1a over the input: a stable per-input choice of options, so a crash input replays with
/// the same options it failed with.
inline std::uint64_t Hash(const std::uint8_t* data, std::size_t size) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t k = 0; k < size; ++k) h = (h ^ data[k]) * 1099511628211ull;
  return h;
}

/// Handles `--make-seed=DIR` in LLVMFuzzerInitialize: calls `write(dir)` and exits. libFuzzer
/// ignores flags that start with "--", so the flag never reaches its own parser.
inline void MaybeMakeSeeds(int* argc, char*** argv,
                           const std::function<void(const std::filesystem::path&)>& write) {
  constexpr std::string_view kFlag = "--make-seed=";
  for (int k = 1; k < *argc; ++k) {
    const std::string_view arg((*argv)[k]);
    if (arg.substr(0, kFlag.size()) != kFlag) continue;
    const std::filesystem::path dir(std::string(arg.substr(kFlag.size())));
    std::filesystem::create_directories(dir);
    write(dir);
    std::exit(0);
  }
}

inline void WriteSeed(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write seed %s\n", path.c_str());
    std::exit(1);
  }
}

}  // namespace directspec_fuzz
