// Temporary files of the atomic writers (io/atomic_file.hpp, io/atomic_dir.hpp): how they are
// named, how a signal handler removes them (a fixed lock-free registry, because a handler may only
// call async-signal-safe functions), and how the temporaries of killed processes are recognised
// and removed. Every output of the library and the CLI passes through here.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace directspec {

/// A fresh temporary name for `target`: ".<name>.tmp-<pid>-<k>" in the target's own directory
/// (same file system, so the final rename is atomic). Hidden from `ls`; the PID tells whether the
/// writer still lives.
inline std::filesystem::path TempPathFor(const std::filesystem::path& target) {
  static std::atomic<unsigned long> counter{0};
  const auto dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  // Appended piecewise: GCC 12 warns falsely on "." + string (-Wrestrict, GCC bug 105329).
  std::string name(1, '.');
  name.append(target.filename().string()).append(".tmp-").append(std::to_string(::getpid()));
  name.append("-").append(std::to_string(counter++));
  return dir / name;
}

/// The PID in `entry` when it names a temporary of `name` (".<name>.tmp-<pid>-<k>"), else 0.
inline pid_t TempOwner(std::string_view entry, std::string_view name) {
  std::string prefix(1, '.');  // piecewise, as above (GCC bug 105329)
  prefix.append(name).append(".tmp-");
  if (entry.substr(0, prefix.size()) != prefix) return 0;
  entry.remove_prefix(prefix.size());
  long long pid = 0;
  std::size_t k = 0;
  for (; k < entry.size() && entry[k] >= '0' && entry[k] <= '9' && pid < (1LL << 31); ++k)
    pid = pid * 10 + (entry[k] - '0');
  if (k == 0 || k >= entry.size() || entry[k] != '-' || k + 1 == entry.size()) return 0;
  for (std::size_t j = k + 1; j < entry.size(); ++j)
    if (entry[j] < '0' || entry[j] > '9') return 0;
  return pid < (1LL << 31) ? static_cast<pid_t>(pid) : 0;
}

/// Live temporaries of this process, so that a signal handler (io/signal_cleanup.hpp) can remove
/// them: fixed slots of fixed-size paths claimed with atomics, no allocation, no locks. A writer
/// whose temporary does not fit (all slots taken, path too long) still works; only a signal then
/// leaves its temporary behind, for RemoveStaleTemps to find later.
class TempRegistry {
 public:
  static constexpr int kSlots = 32;
  static constexpr std::size_t kMaxPath = 1024;

  /// Registers `temp` (a file, or an empty-at-exit directory); `keep_as` non-empty: a signal
  /// renames a non-empty temporary file there instead of deleting it. Returns the slot or -1.
  static int Add(const std::filesystem::path& temp, const std::filesystem::path& keep_as = {},
                 bool directory = false) {
    std::error_code ec;
    const std::string path = std::filesystem::absolute(temp, ec).string();
    const std::string keep = keep_as.empty() ? "" : std::filesystem::absolute(keep_as, ec).string();
    if (ec || path.size() >= kMaxPath || keep.size() >= kMaxPath) return -1;
    for (int k = 0; k < kSlots; ++k) {
      Slot& s = Slots()[k];
      int expected = kFree;
      if (!s.state.compare_exchange_strong(expected, kBusy, std::memory_order_acquire)) continue;
      std::memcpy(s.path, path.c_str(), path.size() + 1);
      std::memcpy(s.keep_as, keep.c_str(), keep.size() + 1);
      s.directory = directory;
      s.owner = ::getpid();
      s.state.store(kLive, std::memory_order_release);
      return k;
    }
    return -1;
  }

  /// Forgets a slot (after the temporary was committed or removed); -1 is ignored.
  static void Remove(int slot) {
    if (slot < 0 || slot >= kSlots) return;
    Slots()[slot].state.store(kBusy, std::memory_order_release);  // a handler skips it from now
    Slots()[slot].state.store(kFree, std::memory_order_release);
  }

  /// Removes every registered temporary: files first (or renamed to their keep_as when non-empty),
  /// then directories, of this process only. Async-signal-safe (getpid, unlink, rename, rmdir,
  /// stat).
  static void CleanUpAfterSignal() {
    for (const bool directories : {false, true})
      for (int k = 0; k < kSlots; ++k) {
        Slot& s = Slots()[k];
        // A forked child inherits the slots but not the writers: it leaves them to their owner.
        if (s.state.load(std::memory_order_acquire) != kLive || s.directory != directories ||
            s.owner != ::getpid())
          continue;
        if (directories) {
          ::rmdir(s.path);
          continue;
        }
        struct stat st {};
        if (s.keep_as[0] != '\0' && ::stat(s.path, &st) == 0 && st.st_size > 0 &&
            ::rename(s.path, s.keep_as) == 0)
          continue;
        ::unlink(s.path);
      }
  }

  /// Number of live slots (for tests).
  static int Live() {
    int n = 0;
    for (int k = 0; k < kSlots; ++k) n += Slots()[k].state.load(std::memory_order_acquire) == kLive;
    return n;
  }

  /// Storage of one registered temporary (state: 0 free, 1 being changed, 2 live).
  struct Slot {
    std::atomic<int> state{0};
    bool directory = false;
    pid_t owner = 0;
    char path[kMaxPath] = {};
    char keep_as[kMaxPath] = {};
  };

 private:
  enum : int { kFree = 0, kBusy = 1, kLive = 2 };
  static_assert(std::atomic<int>::is_always_lock_free, "the registry must be signal-safe");
  // Namespace-scope storage, constant-initialised: a signal handler never meets a guarded static.
  static Slot* Slots();
};

namespace detail {
inline constinit TempRegistry::Slot registry_slots[TempRegistry::kSlots];
}  // namespace detail

inline TempRegistry::Slot* TempRegistry::Slots() { return detail::registry_slots; }

namespace detail {

// A process is presumed alive unless kill(pid, 0) says it does not exist.
inline bool PidAlive(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// True when someone holds the flock writers keep on their temporary while they write (this
// covers a PID recycled by another process, and PID namespaces where the PID means nothing).
inline bool Locked(int fd) {
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return false;
  return errno == EWOULDBLOCK;
}

}  // namespace detail

/// Removes the temporaries of `target` (a file or a directory output) that killed processes left:
/// those whose PID is not a live process and whose lock nobody holds. A temporary directory loses
/// its regular files, then itself (never anything below a subdirectory). Best effort, never
/// throws; returns how many temporaries were removed.
inline std::size_t RemoveStaleTemps(const std::filesystem::path& target) noexcept {
  const std::string dir =
      target.has_parent_path() ? target.parent_path().string() : std::string(".");
  std::string name;
  try {
    name = target.filename().string();
  } catch (...) {
    return 0;
  }
  if (name.empty()) return 0;
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return 0;
  std::vector<std::string> stale;
  if (DIR* d = ::fdopendir(::dup(dfd))) {
    while (const dirent* e = ::readdir(d)) {
      const pid_t pid = TempOwner(e->d_name, name);
      if (pid > 0 && pid != ::getpid() && !detail::PidAlive(pid)) stale.emplace_back(e->d_name);
    }
    ::closedir(d);
  }
  std::size_t removed = 0;
  for (const auto& entry : stale) {
    struct stat st {};
    if (::fstatat(dfd, entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      const int fd = ::openat(dfd, entry.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) continue;
      if (!detail::Locked(fd)) {
        if (DIR* d = ::fdopendir(::dup(fd))) {
          std::vector<std::string> files;
          while (const dirent* e = ::readdir(d)) files.emplace_back(e->d_name);
          ::closedir(d);
          for (const auto& f : files) {
            struct stat fs {};
            if (::fstatat(fd, f.c_str(), &fs, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(fs.st_mode))
              ::unlinkat(fd, f.c_str(), 0);
          }
        }
        removed += ::unlinkat(dfd, entry.c_str(), AT_REMOVEDIR) == 0;
      }
      ::close(fd);
    } else {
      const int fd = ::openat(dfd, entry.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (fd >= 0 && detail::Locked(fd)) {
        ::close(fd);
        continue;
      }
      removed += ::unlinkat(dfd, entry.c_str(), 0) == 0;
      if (fd >= 0) ::close(fd);
    }
  }
  ::close(dfd);
  return removed;
}

}  // namespace directspec
