// IdMap: first-appearance dense ids, lookups, raw-id round trip, duplicate detection.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "directspec/data/id_map.hpp"

using directspec::Id;
using directspec::IdMap;

TEST_CASE("IdMap assigns dense ids by first appearance", "[data][idmap]") {
  IdMap m;
  CHECK(m.Size() == 0);
  CHECK(m.Insert("u42") == 0);
  CHECK(m.Insert("alice") == 1);
  CHECK(m.Insert("u42") == 0);  // existing id returned, nothing added
  CHECK(m.Insert("") == 2);     // the map itself accepts any token; parsers reject empty ones
  CHECK(m.Insert("7") == 3);
  CHECK(m.Size() == 4);
  CHECK(m.Raw(1) == "alice");
  CHECK(m.Raw(3) == "7");
  CHECK(m.RawIds() == std::vector<std::string>{"u42", "alice", "", "7"});
  CHECK(m.Find("alice") == std::optional<Id>(1));
  CHECK_FALSE(m.Find("bob").has_value());
  CHECK_THROWS_AS(m.Raw(4), std::out_of_range);
  CHECK_THROWS_AS(m.Raw(-1), std::out_of_range);
}

TEST_CASE("IdMap survives growth, copies and moves", "[data][idmap]") {
  IdMap m;
  // Enough short and long tokens to force many rehashes and vector reallocations.
  for (int k = 0; k < 5000; ++k)
    m.Insert((k % 2 ? "x" : "a-much-longer-token-") + std::to_string(k));
  for (int k = 0; k < 5000; ++k)
    REQUIRE(m.Find((k % 2 ? "x" : "a-much-longer-token-") + std::to_string(k)) ==
            std::optional<Id>(k));
  IdMap copy = m;
  IdMap moved = std::move(m);
  CHECK(copy == moved);
  CHECK(copy.Find("x4999") == std::optional<Id>(4999));
  CHECK(moved.Insert("new") == 5000);
  CHECK(copy.Size() == 5000);
}

TEST_CASE("IdMap::FromRawIds round-trips RawIds and rejects duplicates", "[data][idmap]") {
  IdMap m;
  for (const char* t : {"b", "a", "c", "z9"}) m.Insert(t);
  const IdMap back = IdMap::FromRawIds(m.RawIds());
  CHECK(back == m);
  CHECK(back.Find("c") == std::optional<Id>(2));
  try {
    IdMap::FromRawIds({"p", "q", "p"});
    FAIL("duplicate raw ids accepted");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()) == "IdMap::FromRawIds: duplicate raw id 'p' at positions 0 and 2");
  }
  CHECK(IdMap::FromRawIds({}).Size() == 0);
}
