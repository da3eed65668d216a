// How much memory a run may still take: the kernel's MemAvailable (/proc/meminfo), lowered to the
// room left under the process's cgroup memory limit when there is one (containers, CI runners).
// Read once before training and compared with resources/memory_estimate.hpp. Linux only; on
// other systems, or when nothing is readable, the answer is "unknown" and the caller decides.
// The address-space limit (ulimit -v) is not consulted: it caps virtual memory, which thread
// stacks and allocator arenas reserve far beyond what a run touches.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace directspec {

struct AvailableMemory {
  double bytes = 0;
  std::string source;  // "MemAvailable" or "cgroup limit"
};

namespace detail {

inline std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::optional<double> ParseUnsigned(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr == text.data()) return std::nullopt;
  return static_cast<double>(value);
}

}  // namespace detail

/// MemAvailable from the text of /proc/meminfo, in bytes (the file says kB).
inline std::optional<double> ParseMemAvailable(std::string_view meminfo) {
  constexpr std::string_view kKey = "MemAvailable:";
  const auto at = meminfo.find(kKey);
  if (at == std::string_view::npos) return std::nullopt;
  const auto kb = detail::ParseUnsigned(meminfo.substr(at + kKey.size()));
  if (!kb) return std::nullopt;
  return *kb * 1024.0;
}

/// The room under a cgroup memory limit, from the limit file's and the usage file's text
/// ("max" or a value of 2^60 and more mean no limit).
inline std::optional<double> ParseCgroupRoom(std::string_view limit, std::string_view usage) {
  if (limit.rfind("max", 0) == 0) return std::nullopt;
  const auto cap = detail::ParseUnsigned(limit);
  if (!cap || *cap >= 1152921504606846976.0) return std::nullopt;  // 2^60: unlimited
  const double used = detail::ParseUnsigned(usage).value_or(0.0);
  return std::max(0.0, *cap - used);
}

/// MemAvailable, or less when the process's cgroup (v2, or v1's memory controller) leaves less
/// room; nullopt when neither can be read.
inline std::optional<AvailableMemory> QueryAvailableMemory() {
  using detail::ReadSmallFile;
  std::optional<AvailableMemory> best;
  if (const auto meminfo = ReadSmallFile("/proc/meminfo"))
    if (const auto bytes = ParseMemAvailable(*meminfo))
      best = AvailableMemory{*bytes, "MemAvailable"};
  // /proc/self/cgroup lines: "0::/path" (v2) or "N:memory:/path" (v1). Inside a cgroup namespace
  // the path may not exist under /sys/fs/cgroup, so the hierarchy's root is tried as well.
  std::istringstream lines(ReadSmallFile("/proc/self/cgroup").value_or(""));
  for (std::string line; std::getline(lines, line);) {
    std::string base, limit_file, usage_file;
    if (line.rfind("0::", 0) == 0) {
      base = "/sys/fs/cgroup";
      limit_file = "memory.max";
      usage_file = "memory.current";
    } else if (line.find(":memory:") != std::string::npos) {
      base = "/sys/fs/cgroup/memory";
      limit_file = "memory.limit_in_bytes";
      usage_file = "memory.usage_in_bytes";
    } else {
      continue;
    }
    const std::string path = line.substr(line.find(":/") + 1);
    for (const std::string& dir : {base + path, base}) {
      const auto limit = ReadSmallFile(dir + "/" + limit_file);
      if (!limit) continue;
      const auto room = ParseCgroupRoom(*limit, ReadSmallFile(dir + "/" + usage_file).value_or(""));
      if (room && (!best || *room < best->bytes)) best = AvailableMemory{*room, "cgroup limit"};
      break;
    }
  }
  return best;
}

}  // namespace directspec
