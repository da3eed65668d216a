// directspec-recommend: serves a saved model (directspec-train --save-model, directspec-tune
// --refit --save-model) without retraining: reads raw user ids, writes each user's top-k items
// in raw ids as `user,item,rank,score` CSV, excluding the items the user has already seen (the
// seen sets stored in the model file). Output is written atomically. docs/cli.md#serving.
#include <charconv>
#include <fstream>
#include <iostream>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "cli/settings.hpp"
#include "directspec/directspec.hpp"

namespace ds = directspec;
namespace cli = directspec_cli;
using cli::UsageError;

namespace {

constexpr const char* kHelp = R"(directspec-recommend: top-k recommendations from a saved model

usage: directspec-recommend --model FILE --users FILE|all --k K [--out FILE]
                            [--include-seen] [--unknown error|skip] [--threads N]

  --model FILE     a model file (directspec-train --save-model); its raw ids are used throughout
  --users FILE     raw user ids, one per line (blank lines and lines starting with # skipped);
                   all: every user of the model, in model order
  --k K            list length (at most the number of items)
  --out FILE       CSV output user,item,rank,score (written atomically); default: standard output
  --include-seen   do not exclude the users' seen items (needed when the model carries no seen sets)
  --unknown MODE   a user id the model does not know: error (default: exit 1 naming file and line)
                   or skip (reported on standard error)
  --threads N      OpenMP threads (0 = default)
)";

struct Flags {
  std::string model, users, out, unknown = "error";
  int k = 0, threads = 0;
  bool include_seen = false;
};

Flags Parse(const std::vector<std::string>& args) {
  namespace d = cli::detail;
  Flags f;
  for (std::size_t a = 0; a < args.size(); ++a) {
    std::string flag = args[a];
    std::optional<std::string> inline_value;
    if (const auto eq = flag.find('='); eq != std::string::npos && flag.rfind("--", 0) == 0) {
      inline_value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    auto take = [&] {
      if (inline_value) return *inline_value;
      if (a + 1 >= args.size()) throw UsageError("flag " + flag + " needs a value");
      return args[++a];
    };
    if (flag == "--model") {
      f.model = take();
    } else if (flag == "--users") {
      f.users = take();
    } else if (flag == "--out") {
      f.out = take();
    } else if (flag == "--k") {
      const std::string v = take();
      f.k = d::ParseNumber<int>(flag, v);
      if (f.k <= 0) throw UsageError("bad value for --k: '" + v + "' must be positive");
    } else if (flag == "--threads") {
      const std::string v = take();
      f.threads = d::ParseNumber<int>(flag, v);
      if (f.threads < 0) throw UsageError("bad value for --threads: must be >= 0");
    } else if (flag == "--unknown") {
      f.unknown = d::Choice(flag, take(), {"error", "skip"});
    } else if (flag == "--include-seen") {
      f.include_seen = true;
    } else {
      throw UsageError("unknown flag '" + flag + "' (see --help)");
    }
  }
  if (f.model.empty()) throw UsageError("--model FILE is required");
  if (f.users.empty()) throw UsageError("--users FILE|all is required");
  if (f.k == 0) throw UsageError("--k K is required");
  if (!f.out.empty()) {
    try {
      ds::CheckOutputFile(f.out);
    } catch (const ds::IoError& e) {
      throw UsageError(std::string("bad value for --out: ") + e.what());
    }
  }
  return f;
}

template <class S>
int Serve(const Flags& f) {
  const ds::Recommender<S> r = ds::LoadRecommender<S>(f.model);
  if (!f.include_seen && !r.HasSeen())
    throw std::runtime_error(f.model +
                             ": the model carries no seen sets (saved with --no-save-seen or "
                             "by an older version), so seen items cannot be excluded; add "
                             "--include-seen to recommend them too");
  std::vector<ds::Id> users;
  if (f.users == "all") {
    users.resize(static_cast<std::size_t>(r.Users()));
    std::iota(users.begin(), users.end(), 0);
  } else {
    std::ifstream in(f.users, std::ios::binary);
    if (!in) throw std::runtime_error(f.users + ": cannot open for reading");
    std::size_t skipped = 0;
    std::string line;
    for (int line_no = 1; std::getline(in, line); ++line_no) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
        line.pop_back();
      const auto first = line.find_first_not_of(" \t");
      if (first == std::string::npos || line[first] == '#') continue;
      line = line.substr(first);
      const auto u = r.FindUser(line);
      if (u) {
        users.push_back(*u);
      } else if (f.unknown == "skip") {
        ++skipped;
      } else {
        throw std::runtime_error(f.users + ":" + std::to_string(line_no) + ": unknown user id '" +
                                 line + "' (the model knows " + std::to_string(r.Users()) +
                                 " users; --unknown skip leaves such ids out)");
      }
    }
    if (skipped > 0)
      std::cerr << "directspec-recommend: skipped " << skipped << " unknown user id"
                << (skipped == 1 ? "" : "s") << " of " << f.users << "\n";
  }
  ds::ServeOptions options;
  options.exclude_seen = !f.include_seen;
  const auto lists = r.RecommendMany(users, f.k, options);
  if (!f.out.empty()) {
    r.WriteCsv(f.out, users, lists);
    std::cerr << "directspec-recommend: wrote top-" << f.k << " lists of " << users.size()
              << " users to " << f.out << "\n";
    return 0;
  }
  // Standard output gets the same CSV as --out: raw ids quoted when they need it, shortest
  // round-trip scores.
  auto field = [](const std::string& raw) {
    if (raw.find_first_of(",\"\r\n") == std::string::npos) return raw;
    std::string q = "\"";
    for (char c : raw) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::cout << "user,item,rank,score\n";
  char buf[64];
  for (std::size_t u = 0; u < users.size(); ++u)
    for (std::size_t q = 0; q < lists[u].size(); ++q) {
      const auto end = std::to_chars(buf, buf + sizeof(buf), lists[u][q].score).ptr;
      std::cout << field(r.UserRaw(users[u])) << "," << field(r.ItemRaw(lists[u][q].item)) << ","
                << q + 1 << "," << std::string_view(buf, static_cast<std::size_t>(end - buf))
                << "\n";
    }
  return 0;
}

int Run(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      return 0;
    }
  const Flags f = Parse(args);
#if defined(_OPENMP)
  if (f.threads > 0) omp_set_num_threads(f.threads);
#endif
  const ds::ModelInfo info = ds::LoadModelInfo(f.model);
  return info.scalar == ds::ModelFormat::kFloat32 ? Serve<float>(f) : Serve<double>(f);
}

}  // namespace

int main(int argc, char** argv) {
  ds::InstallSignalCleanup("directspec-recommend");
  try {
    return Run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const UsageError& e) {
    std::cerr << "directspec-recommend: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "directspec-recommend: error: " << e.what() << "\n";
    return 1;
  }
}
