// libFuzzer target: the LightGCN text parser (`user item item ...` per line) of
// data/parse.hpp. Every input is parsed as-is, remapped, and with options derived from its hash
// (header mode, id policy, declared counts, allow_empty). A success must satisfy
// parse_checks.hpp's invariants and survive FormatLightGcn + reparse with the same matrix (as-is)
// or the same raw (user, item) pairs (remapped); a failure must be a DataError naming the source
// and a line of the text.
//
//   build/fuzz_parse_lightgcn --make-seed=DIR    # writes the seed corpus
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "directspec/io/interaction_writers.hpp"
#include "parse_checks.hpp"

namespace {

using namespace directspec;
using directspec_fuzz::CheckError;
using directspec_fuzz::CheckParsed;

constexpr std::string_view kSource = "fuzz.txt";

std::vector<std::pair<std::string, std::string>> RawPairs(const Interactions& x,
                                                          const IdMaps& maps) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [u, i] : x.Pairs()) out.emplace_back(maps.users.Raw(u), maps.items.Raw(i));
  std::sort(out.begin(), out.end());
  return out;
}

void RoundTrip(const ParsedFile& p, const ParseOptions& o, const IdMaps& maps) {
  if (p.pairs.empty()) return;
  const Index n = static_cast<Index>(p.max_user) + 1, m = static_cast<Index>(p.max_item) + 1;
  if (!directspec_fuzz::SmallIndexSpace(n, m)) return;
  const auto x = Interactions::FromPairs(n, m, p.pairs);
  ParseOptions again;
  again.format = FileFormat::kLightGcn;
  again.header = HeaderMode::kAbsent;
  again.ids = o.ids;
  if (o.ids == IdPolicy::kAsIs) {
    const auto back = ParseInteractions(FormatLightGcn(x, nullptr, true), "again.txt", again);
    FUZZ_CHECK(back.max_user == p.max_user, "LightGCN round trip changed the user count");
    const auto y = Interactions::FromPairs(n, m, back.pairs);
    FUZZ_CHECK(y.Pairs() == x.Pairs(), "LightGCN round trip changed the matrix");
    return;
  }
  for (const auto& raw : maps.users.RawIds())
    if (raw.rfind("\xEF\xBB\xBF", 0) == 0) return;  // would be read as a byte-order mark
  IdMaps fresh;
  const auto back = ParseInteractions(FormatLightGcn(x, &maps, true), "again.txt", again, &fresh);
  FUZZ_CHECK(fresh.users.Size() == maps.users.Size(), "remapped round trip lost users");
  const auto y = Interactions::FromPairs(fresh.users.Size(), fresh.items.Size(), back.pairs);
  FUZZ_CHECK(RawPairs(y, fresh) == RawPairs(x, maps), "remapped round trip changed raw pairs");
}

void ParseOnce(std::string_view text, ParseOptions o) {
  o.format = FileFormat::kLightGcn;
  IdMaps maps;
  ParsedFile p;
  try {
    p = ParseInteractions(text, kSource, o, &maps);
  } catch (const DataError& e) {
    CheckError(text, kSource, e);
    return;
  }
  FUZZ_CHECK(p.format == FileFormat::kLightGcn, "LightGcn requested");
  CheckParsed(text, o, p, &maps);
  RoundTrip(p, o, maps);
}

ParseOptions Variant(std::uint64_t h) {
  ParseOptions o;
  o.header = static_cast<HeaderMode>(h % 3);
  o.ids = ((h >> 2) & 1) ? IdPolicy::kRemap : IdPolicy::kAsIs;
  o.allow_empty = ((h >> 3) & 1) != 0;
  if (((h >> 4) & 3) == 0) {
    o.declared_users = static_cast<Index>((h >> 8) % 16);
    o.declared_items = static_cast<Index>((h >> 12) % 16);
  }
  return o;
}

void WriteSeeds(const std::filesystem::path& dir) {
  using directspec_fuzz::WriteSeed;
  WriteSeed(dir / "basic.txt", "0 1 2 3\n1 0\n2 5 5 1\n");
  WriteSeed(dir / "user_without_items.txt", "0 1\n1\n2 0 3\n");
  WriteSeed(dir / "tabs_crlf.txt", "0\t1\t2\r\n1\t3\r\n");
  WriteSeed(dir / "bom.txt",
            "\xEF\xBB\xBF"
            "0 4 2\n3 1\n");
  WriteSeed(dir / "header.txt", "user items\n0 1 2\n");
  WriteSeed(dir / "raw_tokens.txt", "alice book pen\nbob pen\ncarol\n");
  WriteSeed(dir / "repeated_user.txt", "4 1 2\n4 2 3\n\n  4   9\n");
  WriteSeed(dir / "users_only.txt", "0\n1\n2\n");
  WriteSeed(dir / "blank.txt", "\n \n\t\n");
  WriteSeed(dir / "negative.txt", "0 1 -2\n");
  WriteSeed(dir / "huge.txt", "0 4294967296\n");
  WriteSeed(dir / "garbage.txt", "0 1x 2\n");
  WriteSeed(dir / "commas.txt", "0,1 2\n");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  directspec_fuzz::MaybeMakeSeeds(argc, argv, WriteSeeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ParseOnce(text, ParseOptions{});
  ParseOptions remap;
  remap.ids = IdPolicy::kRemap;
  ParseOnce(text, remap);
  ParseOnce(text, Variant(directspec_fuzz::Hash(data, size)));
  return 0;
}
