// In-memory parsers: formats, delimiters, header detection, id policies, error messages, and a
// randomised robustness check (every input either parses or throws DataError).
#include <catch2/catch.hpp>

#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "directspec/data/parse.hpp"
#include "support/error_of.hpp"

using namespace directspec;
using directspec::testing::ErrorOf;
using Pairs = std::vector<std::pair<Id, Id>>;

namespace {

ParseOptions Remap() {
  ParseOptions o;
  o.ids = IdPolicy::kRemap;
  return o;
}

}  // namespace

TEST_CASE("Pairs: CSV with and without header, extra columns ignored", "[data][parse]") {
  const auto with = ParseInteractions("user,item\n0,3\n2,1\n0,3\n", "a.csv");
  CHECK(with.header);
  CHECK(with.delimiter == ',');
  CHECK(with.format == FileFormat::kPairs);
  CHECK(with.pairs == Pairs{{0, 3}, {2, 1}, {0, 3}});  // duplicates kept at this level
  CHECK(with.max_user == 2);
  CHECK(with.max_item == 3);
  CHECK(with.max_user_line == 3);
  CHECK(with.max_item_line == 2);
  CHECK(with.lines == 4);
  CHECK(with.data_lines == 3);

  const auto without = ParseInteractions("0,3\n2,1,4.5,1999-01-01\n", "b.csv");
  CHECK_FALSE(without.header);
  CHECK(without.pairs == Pairs{{0, 3}, {2, 1}});

  const auto rating_header = ParseInteractions("userId,movieId,rating\n5,6,4.0\n", "c.csv");
  CHECK(rating_header.header);
  CHECK(rating_header.pairs == Pairs{{5, 6}});

  // Last line without a newline, spaces around fields, a trailing comma (empty third field).
  CHECK(ParseInteractions(" 1 , 2 ,\n3,4", "d.csv").pairs == Pairs{{1, 2}, {3, 4}});
}

TEST_CASE("Pairs: CRLF, BOM, blank lines, tabs and spaces", "[data][parse]") {
  const Pairs expect{{0, 1}, {2, 3}, {4, 5}};
  CHECK(ParseInteractions("user,item\r\n0,1\r\n2,3\r\n4,5\r\n").pairs == expect);
  CHECK(ParseInteractions("\xEF\xBB\xBFuser,item\n0,1\n2,3\n4,5\n").pairs == expect);
  CHECK(ParseInteractions("\xEF\xBB\xBF"
                          "0,1\n2,3\n4,5")
            .pairs == expect);
  CHECK(ParseInteractions("\n\n0,1\n   \n2,3\r\n\t\n4,5\n\n").pairs == expect);
  const auto tsv = ParseInteractions("user\titem\n0\t1\n2 \t 3\n  4   5  \n", "x.tsv");
  CHECK(tsv.delimiter == ' ');
  CHECK(tsv.header);
  CHECK(tsv.pairs == expect);
  // An explicit delimiter: ';' separated with blanks trimmed.
  ParseOptions semi;
  semi.delimiter = ';';
  CHECK(ParseInteractions("0 ; 1\n2;3\n4;5", "s.csv", semi).pairs == expect);
  // An explicit tab delimiter keeps spaces inside fields as errors rather than separators.
  ParseOptions tab;
  tab.delimiter = '\t';
  CHECK(ParseInteractions("0\t1\n2\t3\n4\t5\n", "t.tsv", tab).pairs == expect);
}

TEST_CASE("LightGCN format: user then items, users without items allowed", "[data][parse]") {
  const auto p = ParseInteractions("0 5 7 9\n1\n2\t3  4\r\n\n3 1\n", "train.txt");
  CHECK(p.format == FileFormat::kLightGcn);
  CHECK(p.pairs == Pairs{{0, 5}, {0, 7}, {0, 9}, {2, 3}, {2, 4}, {3, 1}});
  CHECK(p.data_lines == 4);
  CHECK(p.max_user == 3);
  CHECK(p.max_item == 9);
  // A user line with no items still defines the index space.
  const auto tail = ParseInteractions("0 1\n6\n", "t.txt");
  CHECK(tail.max_user == 6);
  // Explicit format overrides the extension.
  ParseOptions as_pairs;
  as_pairs.format = FileFormat::kPairs;
  CHECK(ParseInteractions("0 5 7\n", "t.txt", as_pairs).pairs == Pairs{{0, 5}});
  ParseOptions as_lightgcn;
  as_lightgcn.format = FileFormat::kLightGcn;
  CHECK(ParseInteractions("0 5 7\n", "t.csv", as_lightgcn).pairs == Pairs{{0, 5}, {0, 7}});
  const auto e = ErrorOf<DataError>([] { ParseInteractions("0 1 2\n1 3 x4\n", "lg.txt"); });
  REQUIRE(e);
  CHECK(e->Line() == 2);
  CHECK(e->Text() == "x4");
  CHECK(std::string(e->what()) == "lg.txt:2: non-numeric item id 'x4' in line '1 3 x4'");
}

TEST_CASE("Remap policy: any token, first appearance, shared maps", "[data][parse]") {
  IdMaps maps;
  const auto a =
      ParseInteractions("user,item\nalice,i9\nbob,i2\nalice,i2\n", "a.csv", Remap(), &maps);
  CHECK(a.pairs == Pairs{{0, 0}, {1, 1}, {0, 1}});
  const auto b = ParseInteractions("carol,i2\nbob,i5\n", "b.csv", Remap(), &maps);
  CHECK(b.pairs == Pairs{{2, 1}, {1, 2}});
  CHECK(maps.users.RawIds() == std::vector<std::string>{"alice", "bob", "carol"});
  CHECK(maps.items.RawIds() == std::vector<std::string>{"i9", "i2", "i5"});
  // Numeric tokens are tokens too: "100" becomes dense 0.
  const auto c = ParseInteractions("100,7\n5,7\n", "c.csv", Remap());
  CHECK(c.pairs == Pairs{{0, 0}, {1, 0}});
  // Header auto-detection needs a digit in remapped ids; say Absent for purely alphabetic ids.
  ParseOptions no_header = Remap();
  no_header.header = HeaderMode::kAbsent;
  CHECK(ParseInteractions("alice,bob\n", "n.csv", no_header).pairs == Pairs{{0, 0}});
  ParseOptions forced = Remap();
  forced.header = HeaderMode::kPresent;
  CHECK(ParseInteractions("u1,i1\nu2,i2\n", "f.csv", forced).pairs == Pairs{{0, 0}});
  // Declared counts bound the number of distinct ids.
  ParseOptions limited = Remap();
  limited.declared_users = 2;
  const auto e =
      ErrorOf<DataError>([&] { ParseInteractions("a1,x\nb1,x\nc1,x\n", "l.csv", limited); });
  REQUIRE(e);
  CHECK(e->Line() == 3);
  CHECK(std::string(e->what()) ==
        "l.csv:3: new user id 'c1' makes 3 distinct users, above the declared count 2 in line "
        "'c1,x'");
}

TEST_CASE("As-is ids: every error names source, line and text", "[data][parse]") {
  struct Case {
    std::string text;
    ParseOptions options;
    std::int64_t line;
    std::string token;
    std::string message;
  };
  ParseOptions declared;
  declared.declared_items = 10;
  ParseOptions lightgcn;
  lightgcn.format = FileFormat::kLightGcn;
  const std::vector<Case> cases = {
      {"0\n1\n", lightgcn, 1, "", "m.csv:1: no interactions: 2 user lines but no items"},
      {"0 1\n-2 3\n", lightgcn, 2, "-2", "m.csv:2: negative user id '-2' in line '-2 3'"},
      {"0,1\n1,12x\n",
       {},
       2,
       "12x",
       "m.csv:2: trailing characters after the number in item id '12x' in line '1,12x'"},
      {"0,1\n\n\nabc,1\n", {}, 4, "abc", "m.csv:4: non-numeric user id 'abc' in line 'abc,1'"},
      {"user,item\n-3,1\n", {}, 2, "-3", "m.csv:2: negative user id '-3' in line '-3,1'"},
      {"0,-1\n", {}, 1, "-1", "m.csv:1: negative item id '-1' in line '0,-1'"},
      {"0,2147483648\n",
       {},
       1,
       "2147483648",
       "m.csv:1: item id '2147483648' exceeds the largest supported id 2147483647 (2^31-1) in "
       "line '0,2147483648'"},
      {"99999999999999999999999,1\n",
       {},
       1,
       "99999999999999999999999",
       "m.csv:1: user id '99999999999999999999999' exceeds the largest supported id 2147483647 "
       "(2^31-1) in line '99999999999999999999999,1'"},
      {"0,1.5\n",
       {},
       1,
       "1.5",
       "m.csv:1: trailing characters after the number in item id '1.5' in line '0,1.5'"},
      {"0,+1\n", {}, 1, "+1", "m.csv:1: non-numeric item id '+1' in line '0,+1'"},
      {"0,1\n5\n",
       {},
       2,
       "5",
       "m.csv:2: expected two fields (user, item) separated by a comma, found one: '5'"},
      {"0,,1\n", {}, 1, "", "m.csv:1: empty item id in line '0,,1'"},
      {"0,9\n1,10\n", declared, 2, "10",
       "m.csv:2: item id '10' is not below the declared item count 10 in line '1,10'"},
      {std::string("0,1\n1,\x01\0"
                   "2\n",
                   10),
       {},
       2,
       std::string("1,\x01\0"
                   "2",
                   5),
       "m.csv:2: unreadable line '1,\\x01\\x002' (NUL byte: binary data?)"},
      {"", {}, 1, "", "m.csv:1: no interactions: empty file"},
      {"\xEF\xBB\xBF", {}, 1, "", "m.csv:1: no interactions: empty file"},
      {"\n\n  \n", {}, 1, "", "m.csv:1: no interactions: only blank lines (3)"},
      {"user,item\n",
       {},
       1,
       "user,item",
       "m.csv:1: no interactions: only a header line 'user,item'"},
      {"\r\nuser,item\r\n\r\n",
       {},
       2,
       "user,item",
       "m.csv:2: no interactions: only a header line 'user,item'"},
  };
  for (const auto& c : cases) {
    INFO("input: " << DataError::Quote(c.text));
    const auto e = ErrorOf<DataError>([&] { ParseInteractions(c.text, "m.csv", c.options); });
    REQUIRE(e);
    CHECK(e->File() == "m.csv");
    CHECK(e->Line() == c.line);
    CHECK(e->Text() == c.token);
    CHECK(std::string(e->what()) == c.message);
  }
}

TEST_CASE("allow_empty accepts files without interactions", "[data][parse]") {
  ParseOptions o;
  o.allow_empty = true;
  const auto p = ParseInteractions("user,item\n", "h.csv", o);
  CHECK(p.header);
  CHECK(p.pairs.empty());
  CHECK(p.max_user == -1);
  CHECK(ParseInteractions("", "e.csv", o).pairs.empty());
}

TEST_CASE("Largest id 2^31-1 is accepted as a value", "[data][parse]") {
  const auto p = ParseInteractions("2147483647,0\n");
  CHECK(p.pairs == Pairs{{2147483647, 0}});
}

TEST_CASE("Random and mutated inputs parse or throw DataError, never anything else",
          "[data][parse][fuzz]") {
  std::mt19937_64 rng(12345);
  const char kAlphabet[] = "0123456789,,,\n\n\t  -x\r+.\xEF\xBB\xBF\0";
  const std::string alphabet(kAlphabet, sizeof kAlphabet - 1);  // keeps the NUL byte
  const std::string valid = "user,item\n0,1\n2,3\n10,20\n";
  int parsed = 0, rejected = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string text;
    if (round % 2 == 0) {
      const std::size_t len = rng() % 60;
      for (std::size_t k = 0; k < len; ++k) text += alphabet[rng() % alphabet.size()];
    } else {
      text = valid;
      for (int m = 0; m < 3; ++m) text[rng() % text.size()] = alphabet[rng() % alphabet.size()];
    }
    for (FileFormat format : {FileFormat::kPairs, FileFormat::kLightGcn}) {
      for (IdPolicy ids : {IdPolicy::kAsIs, IdPolicy::kRemap}) {
        ParseOptions o;
        o.format = format;
        o.ids = ids;
        try {
          IdMaps maps;
          const auto p = ParseInteractions(text, "fuzz", o, &maps);
          ++parsed;
          for (const auto& [u, i] : p.pairs) {
            REQUIRE(u >= 0);
            REQUIRE(u <= p.max_user);
            REQUIRE(i >= 0);
            REQUIRE(i <= p.max_item);
          }
          if (ids == IdPolicy::kRemap) REQUIRE(p.max_user + 1 == maps.users.Size());
        } catch (const DataError& e) {
          ++rejected;
          REQUIRE(e.File() == "fuzz");
          REQUIRE(e.Line() >= 1);
        }
      }
    }
  }
  CHECK(parsed > 100);
  CHECK(rejected > 100);
}
