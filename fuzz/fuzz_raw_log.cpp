// libFuzzer target: the raw-log reader (data/raw_log.hpp) and the preparation pipeline after it
// (filters, log splits, PrepareDataset). Every input is read with column options derived from
// its hash (names or positions, delimiter, header mode); a read either succeeds with rows whose
// ids, lines, ratings and times are consistent, or throws a DataError naming the source and a
// line of the text. A successful read then goes through PrepareDataset with hash-derived
// filters and split: it either throws DataError / std::invalid_argument, or returns parts that
// partition the filtered rows, keep every per-user time order, and a Dataset whose pairs are
// the parts' rows. Any other exception, crash or sanitizer report is a bug.
//
//   fuzz/run_fuzzers.sh --seconds 60 --only fuzz_raw_log
//   build-fuzz/libfuzzer/fuzz_raw_log --make-seed=fuzz/corpus/fuzz_raw_log
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "directspec/data/prepare.hpp"
#include "directspec/data/raw_log.hpp"
#include "parse_checks.hpp"

namespace {

using namespace directspec;
using directspec_fuzz::CountLines;
using directspec_fuzz::WithoutBom;

constexpr std::string_view kSource = "fuzz.log";

RawLogOptions Variant(std::uint64_t h) {
  static const char* kSpecs[] = {"user=0,item=1", "user=0,item=1,rating=2,time=3",
                                 "user=user,item=item,rating=rating,time=time",
                                 "user=1,item=0,time=2", "user=u,item=i"};
  static const char* kDelims[] = {"", ",", "\t", " ", "::", ";"};
  RawLogOptions o;
  o.columns = ParseColumnSpec(kSpecs[h % 5]);
  o.delimiter = kDelims[(h >> 4) % 6];
  o.header = static_cast<HeaderMode>((h >> 8) % 3);
  return o;
}

void CheckLog(std::string_view text, const RawLog& log) {
  const std::int64_t lines = CountLines(WithoutBom(text));
  FUZZ_CHECK(log.lines == lines, "physical line count");
  FUZZ_CHECK(!log.rows.empty(), "a successful read has rows");
  std::int64_t previous = 0;
  for (const LogRow& r : log.rows) {
    FUZZ_CHECK(r.user >= 0 && r.user < log.ids.users.Size(), "user id out of its map");
    FUZZ_CHECK(r.item >= 0 && r.item < log.ids.items.Size(), "item id out of its map");
    FUZZ_CHECK(r.line > previous && r.line <= lines, "rows in increasing line order");
    FUZZ_CHECK(std::isfinite(r.rating) && std::isfinite(r.time), "finite rating and time");
    previous = r.line;
  }
  for (const auto& raw : log.ids.users.RawIds()) FUZZ_CHECK(!raw.empty(), "empty raw user id");
  for (const auto& raw : log.ids.items.RawIds()) FUZZ_CHECK(!raw.empty(), "empty raw item id");
}

void CheckPrepared(const RawLog& log, const PreparedData& p) {
  const auto& parts = p.parts;
  const Index rows =
      static_cast<Index>(parts.train.size() + parts.valid.size() + parts.test.size());
  const Index left = p.filters.empty() ? p.read.rows : p.filters.back().rows_left;
  FUZZ_CHECK(rows == left, "the parts partition the filtered rows");
  FUZZ_CHECK(!parts.train.empty() && !parts.test.empty(), "train and test are not empty");
  FUZZ_CHECK(p.read.rows == static_cast<Index>(log.rows.size()), "rows read");
  const Dataset& d = p.dataset;
  FUZZ_CHECK(d.ids && d.ids->users.Size() == d.Users(), "dense users");
  FUZZ_CHECK(static_cast<std::size_t>(d.train.SourceRows()) == parts.train.size(), "train rows");
  FUZZ_CHECK(d.test_pairs.size() == parts.test.size(), "test rows");
  FUZZ_CHECK(d.valid_pairs.size() == parts.valid.size(), "validation rows");
  for (std::size_t k = 0; k < parts.test.size(); ++k)
    FUZZ_CHECK(
        d.test_pairs[k].first == parts.test[k].user && d.test_pairs[k].second == parts.test[k].item,
        "test pairs are the test rows");
}

void Prepare(const RawLog& log, std::uint64_t h) {
  static const char* kSplits[] = {"ratio:0.3", "temporal:0.5", "leave-last:1", "global-time:3"};
  PrepareOptions o;
  if ((h >> 12) & 1) o.min_rating = static_cast<double>((h >> 13) % 4);
  o.duplicates = static_cast<DuplicatePolicy>((h >> 16) % 4);
  if ((h >> 18) & 1) {
    o.kcore_users = static_cast<Index>((h >> 19) % 3);
    o.kcore_items = static_cast<Index>((h >> 21) % 3);
  }
  o.split = ParseLogSplitSpec(kSplits[(h >> 23) % 4]);
  o.valid_fraction = ((h >> 25) & 1) ? 0.3 : 0.0;
  o.seed = h >> 32;
  PreparedData p;
  try {
    p = PrepareDataset(log, o);
  } catch (const DataError& e) {
    FUZZ_CHECK(e.File() == kSource, "a preparation error names the log");
    return;
  }
  CheckPrepared(log, p);
  // Temporal splits: within a user, no test row is earlier than a train row (time, then line).
  if (o.split.kind == LogSplitKind::kTemporal || o.split.kind == LogSplitKind::kLeaveLast) {
    std::map<Id, std::pair<double, std::int64_t>> train_max;
    for (const LogRow& r : p.parts.train) {
      auto& m = train_max.try_emplace(r.user, r.time, r.line).first->second;
      if (std::make_pair(r.time, r.line) > m) m = {r.time, r.line};
    }
    for (const LogRow& r : p.parts.test) {
      const auto it = train_max.find(r.user);
      FUZZ_CHECK(it != train_max.end(), "a per-user split keeps a train row");
      FUZZ_CHECK(std::make_pair(r.time, r.line) > it->second, "test after train");
    }
  }
}

void WriteSeeds(const std::filesystem::path& dir) {
  using directspec_fuzz::WriteSeed;
  WriteSeed(dir / "named.csv", "user,item,rating,time\na,x,5,1\na,y,4,2\nb,x,3,2\nb,y,5,3\n");
  WriteSeed(dir / "movielens.dat", "1::10::5::100\n1::11::4::101\n2::10::3::100\n2::12::5::104\n");
  WriteSeed(dir / "quoted.csv", "u,i\n\"a,b\",x\n\"q\"\"q\",y\n\"unterminated,z\n");
  WriteSeed(dir / "iso.tsv",
            "user\titem\trating\ttime\na\tx\t5\t2021-03-04\nb\tx\t4\t2021-03-04T10:20:30Z\n");
  WriteSeed(dir / "spaces.txt", "a x 5 1\na y 4 1\nb x 2 7\n");
  WriteSeed(dir / "bad_rating.csv", "user,item,rating,time\na,x,five,1\n");
  WriteSeed(dir / "missing_column.csv", "usr,itm\na,x\n");
  WriteSeed(dir / "duplicates.csv", "u,i\na,x\na,x\na,y\nb,x\nb,x\n");
  WriteSeed(dir / "empty.csv", "");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  directspec_fuzz::MaybeMakeSeeds(argc, argv, WriteSeeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::uint64_t h = directspec_fuzz::Hash(data, size);
  RawLog log;
  try {
    log = ParseRawLog(text, kSource, Variant(h));
  } catch (const DataError& e) {
    FUZZ_CHECK(e.File() == kSource, "a read error names the log");
    FUZZ_CHECK(e.Line() >= 0 && e.Line() <= CountLines(WithoutBom(text)), "error line in text");
    return 0;
  }
  CheckLog(text, log);
  Prepare(log, h);
  return 0;
}
