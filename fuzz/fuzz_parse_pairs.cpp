// libFuzzer target: the `user<delim>item` pair parser (CSV / TSV / whitespace) of
// data/parse.hpp. Every input is parsed three ways (defaults; remapped ids; options derived from
// the input's hash: delimiter, header mode, id policy, declared counts, allow_empty). A parse
// either succeeds and satisfies parse_checks.hpp's invariants plus a write-and-reparse round
// trip (io/interaction_writers.hpp), or throws a DataError naming the source and a line of the
// text; any other exception, crash or sanitizer report is a bug.
//
//   fuzz/run_fuzzers.sh --seconds 60          # builds and runs every target
//   build/fuzz_parse_pairs --make-seed=DIR    # writes the seed corpus
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "directspec/io/interaction_writers.hpp"
#include "parse_checks.hpp"

namespace {

using namespace directspec;
using directspec_fuzz::AllCsvSafe;
using directspec_fuzz::CheckError;
using directspec_fuzz::CheckParsed;

constexpr std::string_view kSource = "fuzz.csv";

// Writes the pairs back as CSV and parses them again: the same dense pairs (and, remapped, the
// same token maps) must come back.
void RoundTrip(const ParsedFile& p, const ParseOptions& o, const IdMaps& maps) {
  if (p.pairs.empty()) return;
  ParseOptions again;
  again.format = FileFormat::kPairs;
  again.delimiter = ',';
  again.header = HeaderMode::kAbsent;
  again.ids = o.ids;
  if (o.ids == IdPolicy::kAsIs) {
    const auto back =
        ParseInteractions(FormatPairsCsv(p.pairs, nullptr, false), "again.csv", again);
    FUZZ_CHECK(back.pairs == p.pairs, "as-is CSV round trip changed the pairs");
    // With the header line the auto-detection must skip exactly that line.
    const auto headed = ParseInteractions(FormatPairsCsv(p.pairs), "headed.csv");
    FUZZ_CHECK(headed.header && headed.pairs == p.pairs, "CSV with header round trip differs");
    return;
  }
  if (!AllCsvSafe(maps.users) || !AllCsvSafe(maps.items)) return;  // tokens with ',' or blanks
  IdMaps fresh;
  const auto back =
      ParseInteractions(FormatPairsCsv(p.pairs, &maps, false), "again.csv", again, &fresh);
  FUZZ_CHECK(back.pairs == p.pairs, "remapped CSV round trip changed the dense pairs");
  FUZZ_CHECK(fresh == maps, "remapped CSV round trip changed the token maps");
}

void ParseOnce(std::string_view text, const ParseOptions& o) {
  IdMaps maps;
  ParsedFile p;
  try {
    p = ParseInteractions(text, kSource, o, &maps);
  } catch (const DataError& e) {
    CheckError(text, kSource, e);
    return;
  }
  FUZZ_CHECK(p.format == FileFormat::kPairs, ".csv must parse as pairs");
  if (o.delimiter != 0 && (p.data_lines > 0 || p.header))  // decided by the first non-blank line
    FUZZ_CHECK(p.delimiter == o.delimiter, "requested delimiter not used");
  CheckParsed(text, o, p, &maps);
  RoundTrip(p, o, maps);
}

ParseOptions Variant(std::uint64_t h) {
  static constexpr char kDelims[] = {0, ',', '\t', ' ', ';', '|'};
  ParseOptions o;
  o.delimiter = kDelims[h % 6];
  o.header = static_cast<HeaderMode>((h >> 4) % 3);
  o.ids = ((h >> 8) & 1) ? IdPolicy::kRemap : IdPolicy::kAsIs;
  o.allow_empty = ((h >> 9) & 1) != 0;
  if (((h >> 10) & 3) == 0) {
    o.declared_users = static_cast<Index>((h >> 12) % 16);
    o.declared_items = static_cast<Index>((h >> 16) % 16);
  }
  return o;
}

void WriteSeeds(const std::filesystem::path& dir) {
  using directspec_fuzz::WriteSeed;
  WriteSeed(dir / "header.csv", "user,item\n0,3\n1,2\n0,3\n2,0\n");
  WriteSeed(dir / "no_header.csv", "0,1\n1,0\n3,7\n");
  WriteSeed(dir / "bom_crlf.csv", "\xEF\xBB\xBFuser,item\r\n0,1\r\n2,2\r\n");
  WriteSeed(dir / "tabs.tsv", "user\titem\n5\t6\n7\t8\n");
  WriteSeed(dir / "spaces.txt", "1 2 extra\n  3   4\n\n5 6 7 8\n");
  WriteSeed(dir / "extra_columns.csv", "user,item,rating,ts\n1,2,5,99\n3,4,1,100\n");
  WriteSeed(dir / "raw_tokens.csv", "user,item\nu1,i9\nu2,i9\nalice,book\nu1,book\n");
  WriteSeed(dir / "semicolon.csv", "a ; b\n1;2\n 3 ; 4 \n");
  WriteSeed(dir / "blank_lines.csv", "\n\n0,0\n\n1,1\n\n");
  WriteSeed(dir / "no_final_newline.csv", "0,1\n2,3");
  WriteSeed(dir / "header_only.csv", "user,item\n");
  WriteSeed(dir / "empty.csv", "");
  WriteSeed(dir / "negative.csv", "0,1\n-3,2\n");
  WriteSeed(dir / "overflow.csv", "0,1\n2147483648,2\n99999999999999999999999,1\n");
  WriteSeed(dir / "non_numeric.csv", "0,1\n1,x7\n");
  WriteSeed(dir / "trailing_garbage.csv", "0,1\n1,7z\n");
  WriteSeed(dir / "one_field.csv", "0,1\n5\n");
  WriteSeed(dir / "empty_field.csv", "0,1\n,3\n");
  WriteSeed(std::filesystem::path(dir) / "nul_byte.csv", std::string_view("0,1\n1,\0\n", 8));
  WriteSeed(dir / "plus_sign.csv", "+1,2\n");
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
