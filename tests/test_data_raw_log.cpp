// The raw-log reader: columns by name and by position, every delimiter, quoted CSV fields, ISO
// times, gzip input (with zlib), and a clear DataError (file, line, value) for each kind of bad
// input.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "directspec/data.hpp"

#if defined(DIRECTSPEC_WITH_ZLIB)
#include <zlib.h>
#endif

using namespace directspec;

namespace {

RawLogOptions Columns(const std::string& spec) {
  RawLogOptions o;
  o.columns = ParseColumnSpec(spec);
  return o;
}

/// The DataError ParseRawLog throws for `text`, or a failed check.
DataError ErrorOf(const std::string& text, const RawLogOptions& o) {
  try {
    ParseRawLog(text, "log.csv", o);
  } catch (const DataError& e) {
    return e;
  }
  FAIL("no DataError for:\n" << text);
  throw;
}

std::filesystem::path TempPath(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("directspec_raw_log_" + std::to_string(::getpid()) + "_" + name);
}

}  // namespace

TEST_CASE("ParseColumnSpec: roles by name or position, errors name the problem", "[data][rawlog]") {
  const ColumnSpec s = ParseColumnSpec("user=userId, item=3,time=ts");
  CHECK(s.user == "userId");
  CHECK(s.item == "3");
  CHECK(s.rating.empty());
  CHECK(s.time == "ts");
  CHECK_THROWS_WITH(ParseColumnSpec("user=a,itm=b"), Catch::Contains("unknown column role 'itm'"));
  CHECK_THROWS_WITH(ParseColumnSpec("user=a"), Catch::Contains("must name both user= and item="));
  CHECK_THROWS_WITH(ParseColumnSpec("user=a,item=b,user=c"), Catch::Contains("'user' given twice"));
  CHECK_THROWS_WITH(ParseColumnSpec("user,item=b"), Catch::Contains("is not ROLE=COLUMN"));
  CHECK_THROWS_WITH(ParseColumnSpec("user=,item=b"), Catch::Contains("no column given for 'user'"));
}

TEST_CASE("ParseRawLog: columns by header name, quoted fields, string ids", "[data][rawlog]") {
  const std::string text =
      "\xEF\xBB\xBFuserId,title,movieId,rating,timestamp\r\n"
      "alice,\"Heat, 1995\",m1,4.5,100\r\n"
      "bob,\"Say \"\"hi\"\"\",m2,3,200\r\n"
      "\r\n"
      "alice,Up,m2,5,150\r\n";
  const RawLog log = ParseRawLog(text, "log.csv",
                                 Columns("user=userId,item=movieId,rating=rating,time=timestamp"));
  CHECK(log.header);
  CHECK(log.delimiter == ",");
  CHECK(log.has_rating);
  CHECK(log.has_time);
  CHECK(log.lines == 5);
  REQUIRE(log.rows.size() == 3);
  CHECK(log.ids.users.RawIds() == std::vector<std::string>{"alice", "bob"});
  CHECK(log.ids.items.RawIds() == std::vector<std::string>{"m1", "m2"});
  CHECK(log.rows[0].user == 0);
  CHECK(log.rows[0].item == 0);
  CHECK(log.rows[0].rating == 4.5f);
  CHECK(log.rows[0].time == 100);
  CHECK(log.rows[0].line == 2);
  CHECK(log.rows[1].user == 1);
  CHECK(log.rows[2].line == 5);  // the blank line counts
  CHECK(log.columns.find("item=movieId (column 2)") != std::string::npos);
}

TEST_CASE("ParseRawLog: delimiters and header detection with positions", "[data][rawlog]") {
  // MovieLens ratings.dat: '::', no header.
  const RawLog ml = ParseRawLog("1::1193::5::978300760\n1::661::3::978302109\n", "ratings.dat",
                                Columns("user=0,item=1,rating=2,time=3"));
  CHECK(ml.delimiter == "::");
  CHECK_FALSE(ml.header);
  REQUIRE(ml.rows.size() == 2);
  CHECK(ml.rows[1].time == 978302109.0);
  CHECK(ml.ids.items.Raw(ml.rows[1].item) == "661");
  // TSV with a header found by its non-numeric rating field.
  const RawLog tsv = ParseRawLog("u\ti\tr\nx\ty\t2\n", "f.tsv", Columns("user=0,item=1,rating=2"));
  CHECK(tsv.delimiter == "\t");
  CHECK(tsv.header);
  CHECK(tsv.rows.size() == 1);
  // Whitespace runs and semicolons.
  const RawLog ws = ParseRawLog("a  b   7\nc d 8\n", "f.txt", Columns("user=0,item=1,time=2"));
  CHECK(ws.delimiter == " ");
  CHECK(ws.rows.size() == 2);
  CHECK(ws.rows[1].time == 8);
  // A tab on the first line means tab-separated; " " asks for any run of spaces and tabs.
  RawLogOptions runs = Columns("user=0,item=1,time=2");
  runs.delimiter = " ";
  CHECK(ParseRawLog("a  b\t 7\n", "f.txt", runs).rows[0].time == 7);
  const RawLog semi = ParseRawLog("a;b\nc;d\n", "f.csv", Columns("user=0,item=1"));
  CHECK(semi.delimiter == ";");
  CHECK(semi.rows.size() == 2);
  // Positions only, no number column: no header unless asked for.
  CHECK(ParseRawLog("user,item\na,b\n", "f.csv", Columns("user=0,item=1")).rows.size() == 2);
  RawLogOptions present = Columns("user=0,item=1");
  present.header = HeaderMode::kPresent;
  CHECK(ParseRawLog("user,item\na,b\n", "f.csv", present).rows.size() == 1);
}

TEST_CASE("ParseRawLog: ISO dates as times", "[data][rawlog]") {
  const RawLog log = ParseRawLog(
      "u,i,t\na,x,1970-01-02\na,y,2021-03-04T10:20:30Z\na,z,2021-03-04 10:20:30.5\nb,x,0\n",
      "f.csv", Columns("user=u,item=i,time=t"));
  REQUIRE(log.rows.size() == 4);
  CHECK(log.rows[0].time == 86400.0);
  CHECK(log.rows[1].time == 1614853230.0);  // date -u -d 2021-03-04T10:20:30Z +%s
  CHECK(log.rows[2].time == 1614853230.5);
}

TEST_CASE("ParseRawLog: bad input names file, line and value", "[data][rawlog]") {
  const auto all = Columns("user=user,item=item,rating=rating,time=time");
  const std::string header = "user,item,rating,time\n";

  SECTION("a misspelled column names the header found and suggests the spelling") {
    const DataError e = ErrorOf(header + "a,b,1,2\n", Columns("user=user,item=Item"));
    CHECK(e.File() == "log.csv");
    CHECK(e.Line() == 1);
    CHECK(e.Text() == "Item");
    CHECK_THAT(e.what(), Catch::Contains("no column named 'Item' for the item") &&
                             Catch::Contains("user, item, rating, time") &&
                             Catch::Contains("did you mean 'item'?"));
  }
  SECTION("a rating that is not a number") {
    const DataError e = ErrorOf(header + "a,b,4,10\na,c,five,11\n", all);
    CHECK(e.Line() == 3);
    CHECK(e.Text() == "five");
    CHECK_THAT(e.what(), Catch::StartsWith("log.csv:3: rating 'five' is not a finite number") &&
                             Catch::Contains("in line 'a,c,five,11'"));
    CHECK(ErrorOf(header + "a,b,nan,1\n", all).Text() == "nan");
    CHECK(ErrorOf(header + "a,b,,1\n", all).Line() == 2);
  }
  SECTION("a time that is neither a number nor a date") {
    const DataError e = ErrorOf(header + "a,b,4,yesterday\n", all);
    CHECK(e.Line() == 2);
    CHECK(e.Text() == "yesterday");
    CHECK_THAT(e.what(), Catch::Contains("time 'yesterday' is neither a number nor an ISO date"));
    CHECK(ErrorOf(header + "a,b,4,2021-13-01\n", all).Text() == "2021-13-01");
    CHECK(ErrorOf(header + "a,b,4,2021-01-01T10:00+02:00\n", all).Line() == 2);
  }
  SECTION("too few fields, empty ids, quotes, NUL bytes") {
    CHECK_THAT(
        ErrorOf(header + "a,b,4\n", all).what(),
        Catch::Contains("log.csv:2: expected at least 4 fields separated by a comma, found 3"));
    CHECK_THAT(ErrorOf(header + ",b,4,1\n", all).what(), Catch::Contains(":2: empty user id"));
    CHECK_THAT(ErrorOf(header + "a,\"b,4,1\n", all).what(),
               Catch::Contains(":2: unbalanced quotes"));
    CHECK_THAT(ErrorOf(header + std::string("a,b\0,4,1\n", 9), all).what(),
               Catch::Contains("NUL byte"));
  }
  SECTION("no rows, names without a header, one column twice") {
    CHECK_THAT(ErrorOf("", all).what(), Catch::Contains("no interactions: empty file"));
    CHECK(ErrorOf("\n" + header, all).Line() == 2);
    CHECK_THAT(ErrorOf("\n" + header, all).what(), Catch::Contains("only a header line"));
    RawLogOptions absent = all;
    absent.header = HeaderMode::kAbsent;
    CHECK_THAT(ErrorOf("a,b,1,2\n", absent).what(),
               Catch::Contains("select them by 0-based position"));
    CHECK_THAT(ErrorOf("a,b\n", Columns("user=0,item=0")).what(),
               Catch::Contains("the user and the item are the same column (0)"));
  }
}

TEST_CASE("ReadRawLog: missing file names it", "[data][rawlog]") {
  CHECK_THROWS_WITH(ReadRawLog(TempPath("absent.csv")),
                    Catch::Contains("absent.csv: cannot open: no such file"));
}

#if defined(DIRECTSPEC_WITH_ZLIB)
namespace {

std::string GzipBytes(const std::string& text) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(text.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

void WriteBytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

}  // namespace

TEST_CASE("ReadRawLog: gzip input reads like the plain file, truncated or corrupt data fail",
          "[data][rawlog][gzip]") {
  STATIC_REQUIRE(GzipSupported());
  std::string text = "u,i,r,t\n";
  for (int k = 0; k < 5000; ++k)
    text += "user" + std::to_string(k % 97) + ",item" + std::to_string(k % 301) + "," +
            std::to_string(1 + k % 5) + "," + std::to_string(1000 + k) + "\n";
  const auto o = Columns("user=u,item=i,rating=r,time=t");
  const RawLog plain = ParseRawLog(text, "plain", o);
  const std::string gz = GzipBytes(text);
  const auto path = TempPath("log.csv.gz");

  WriteBytes(path, gz);
  const RawLog unzipped = ReadRawLog(path, o);
  CHECK(unzipped.gzipped);
  CHECK(unzipped.ids == plain.ids);
  REQUIRE(unzipped.rows.size() == plain.rows.size());
  CHECK(unzipped.rows.back().time == plain.rows.back().time);

  // Two members joined with cat read as their concatenation.
  const std::string half = "u,i,r,t\na,b,1,2\n";
  WriteBytes(path, GzipBytes(half) + GzipBytes("c,d,3,4\n"));
  CHECK(ReadRawLog(path, o).rows.size() == 2);

  WriteBytes(path, gz.substr(0, gz.size() / 2));
  try {
    ReadRawLog(path, o);
    FAIL("a truncated .gz was read");
  } catch (const DataError& e) {
    CHECK(e.File() == path.string());
    CHECK_THAT(e.what(), Catch::Contains("truncated gzip data"));
  }
  std::string corrupt = gz;
  for (std::size_t k = 20; k < 60; ++k) corrupt[k] = static_cast<char>(corrupt[k] ^ 0x5a);
  WriteBytes(path, corrupt);
  CHECK_THROWS_WITH(ReadRawLog(path, o),
                    Catch::Contains("corrupt gzip data") || Catch::Contains("truncated gzip data"));
  std::filesystem::remove(path);
}
#endif
