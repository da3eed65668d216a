// Serving a saved model in raw ids: model files with seen sets (format version 2) round-trip and
// refuse corrupt seen sections; version 1 is still what a model without seen sets writes, and is
// read; Recommender answers in raw ids, excludes seen items from the file's sets or given ones,
// needs no interactions with exclude_seen = false, and names unknown ids.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593 in AVX-512 intrinsics
#endif

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "directspec/io/model_file.hpp"
#include "directspec/serve/recommend.hpp"
#include "directspec/serve/recommender.hpp"

using namespace directspec;

namespace {

struct Fixture {
  RowMatrix<float> U{4, 3}, I{5, 3};
  Interactions train;
  ModelMetadata meta;
  Fixture() {
    for (Index r = 0; r < U.rows(); ++r)
      for (Index c = 0; c < 3; ++c) U(r, c) = static_cast<float>((r + 1) * (c + 2) % 5) - 1.5f;
    for (Index r = 0; r < I.rows(); ++r)
      for (Index c = 0; c < 3; ++c) I(r, c) = static_cast<float>((r + 2) * (c + 1) % 7) * 0.25f;
    const std::vector<std::pair<Id, Id>> pairs{{0, 1}, {0, 3}, {1, 0}, {2, 4}, {2, 2}, {2, 0}};
    train = Interactions::FromPairs(4, 5, pairs);  // user 3 has seen nothing
    meta.encoder = "mf";
    meta.user_ids = {"alice", "bob", "carol", "dave"};
    meta.item_ids = {"i-a", "i,b", "i-c", "i-d", "i-e"};
    const auto v = train.View();
    meta.seen = SeenSets::FromCsr(v.offsets, v.columns);
  }
  // Offset of the seen section: header, encoder, hyperparameter count, ids (see model-files.md).
  std::size_t SeenOffset() const {
    std::size_t at = ModelFormat::kHeaderBytes + 4 + meta.encoder.size() + 4 + 8 + 8;
    for (const auto& s : meta.user_ids) at += 4 + s.size();
    for (const auto& s : meta.item_ids) at += 4 + s.size();
    return at;
  }
};

std::vector<std::byte> Resealed(std::vector<std::byte> b) {
  const auto crc = Crc32(std::span(b).first(b.size() - 4));
  for (int k = 0; k < 4; ++k) b[b.size() - 4 + k] = static_cast<std::byte>((crc >> (8 * k)) & 0xFF);
  return b;
}

void PutAt(std::vector<std::byte>& b, std::size_t at, std::uint64_t v, int bytes) {
  for (int k = 0; k < bytes; ++k) b[at + k] = static_cast<std::byte>((v >> (8 * k)) & 0xFF);
}

std::string ParseError(const std::vector<std::byte>& b) {
  try {
    ParseModel<float>(b, "m.dspm");
  } catch (const IoError& e) {
    return e.what();
  }
  return "(no error)";
}

ServeOptions Allowed(std::vector<std::string> items) {
  ServeOptions o;
  o.allowed = std::move(items);
  return o;
}
ServeOptions Excluded(std::vector<std::string> items) {
  ServeOptions o;
  o.exclude = std::move(items);
  return o;
}
ServeOptions IncludeSeen() {
  ServeOptions o;
  o.exclude_seen = false;
  return o;
}

}  // namespace

TEST_CASE("model files: seen sets round-trip as version 2, without them version 1", "[serving]") {
  Fixture f;
  const auto bytes = SerializeModel(f.U, f.I, f.meta);
  CHECK(bytes[8] == std::byte{2});
  const auto back = ParseModel<float>(bytes);
  CHECK(back.metadata == f.meta);
  CHECK(back.users == f.U);
  CHECK(back.items == f.I);
  // The seen section costs 8 (n + 1) + 4 nnz bytes plus its 8-byte count (padding aside).
  ModelMetadata without = f.meta;
  without.seen.reset();
  const auto v1 = SerializeModel(f.U, f.I, without);
  CHECK(v1[8] == std::byte{1});
  CHECK(bytes.size() - v1.size() == (f.meta.seen->FileBytes() + 7) / 8 * 8);
  CHECK(f.meta.seen->FileBytes() == 8 + 8 * 5 + 4 * 6);
  CHECK(ParseModel<float>(v1).metadata == without);
  // A save/load through a file, in double too.
  const auto dir =
      std::filesystem::temp_directory_path() / ("directspec-serving-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const RowMatrix<double> Ud = f.U.cast<double>(), Id_ = f.I.cast<double>();
  SaveModel(dir / "m.dspm", Ud, Id_, f.meta);
  CHECK(LoadModel<double>(dir / "m.dspm").metadata == f.meta);
  std::filesystem::remove_all(dir);
}

TEST_CASE("model files: corrupt seen sections are refused with their offset", "[serving]") {
  Fixture f;
  const auto good = SerializeModel(f.U, f.I, f.meta);
  const std::size_t at = f.SeenOffset();  // u64 user count, then 5 u64 offsets, then 6 u32 items
  REQUIRE(ParseError(good) == "(no error)");
  {
    auto b = good;
    PutAt(b, at, 3, 8);
    CHECK_THAT(ParseError(Resealed(b)),
               Catch::Contains("m.dspm: byte") &&
                   Catch::Contains("seen set user count 3 is not the table's 4 users"));
  }
  {
    auto b = good;
    PutAt(b, at + 8, 1, 8);  // first offset 1
    CHECK_THAT(ParseError(Resealed(b)), Catch::Contains("the first seen set offset is not 0"));
  }
  {
    auto b = good;
    PutAt(b, at + 8 + 16, 0, 8);  // offsets 0, 2, 0, ...
    CHECK_THAT(ParseError(Resealed(b)), Catch::Contains("seen set offsets decrease at user 1"));
  }
  {
    auto b = good;
    PutAt(b, at + 8 + 40, 9, 4);  // the first seen item: 9 of 5
    CHECK_THAT(ParseError(Resealed(b)), Catch::Contains("seen item 9 outside the table's 5 items"));
  }
  {
    auto b = good;
    PutAt(b, at + 8 + 40, 3, 4);  // user 0's items 3, 3
    CHECK_THAT(ParseError(Resealed(b)),
               Catch::Contains("seen items of user 0 are not strictly increasing"));
  }
  {
    auto b = good;
    PutAt(b, at + 8 + 32, 1000000, 8);  // last offset: a million items
    CHECK_THAT(ParseError(Resealed(b)), Catch::Contains("truncated: 1000000 seen items"));
  }
  {  // a flipped byte without resealing: the checksum catches it first
    auto b = good;
    b[at + 50] ^= std::byte{0x40};
    CHECK_THAT(ParseError(b), Catch::Contains("checksum mismatch"));
  }
  // SaveModel refuses inconsistent seen sets before writing.
  ModelMetadata bad = f.meta;
  bad.seen->items[0] = 7;
  CHECK_THROWS_WITH(SerializeModel(f.U, f.I, bad),
                    Catch::Contains("seen items of user 0 are not increasing ids below 5"));
  bad = f.meta;
  bad.seen->offsets.pop_back();
  CHECK_THROWS_WITH(SerializeModel(f.U, f.I, bad), Catch::Contains("seen sets for 3 users"));
}

TEST_CASE("Recommender: raw ids in and out, seen items from the model file", "[serving]") {
  Fixture f;
  const Recommender<float> r(ParseModel<float>(SerializeModel(f.U, f.I, f.meta)));
  CHECK(r.HasIdMaps());
  CHECK(r.HasSeen());
  for (Id u = 0; u < 4; ++u) {
    const auto dense = Recommend(f.U, f.I, f.train, u, 3);
    const auto raw = r.Recommend(f.meta.user_ids[static_cast<std::size_t>(u)], 3);
    REQUIRE(raw.size() == dense.size());
    for (std::size_t q = 0; q < raw.size(); ++q) {
      CHECK(raw[q].item == f.meta.item_ids[static_cast<std::size_t>(dense[q].item)]);
      CHECK(raw[q].score == dense[q].score);
      CHECK_FALSE(f.train.Contains(u, r.ItemIndex(raw[q].item)));
    }
  }
  // exclude / allowed in raw ids.
  const auto only = r.Recommend("dave", 5, Allowed({"i-c", "i,b"}));
  REQUIRE(only.size() == 2);
  CHECK(((only[0].item == "i-c" && only[1].item == "i,b") ||
         (only[0].item == "i,b" && only[1].item == "i-c")));
  for (const auto& x : r.Recommend("dave", 5, Excluded({"i-a"}))) CHECK(x.item != "i-a");
  // Unknown ids are named.
  CHECK_THROWS_AS(r.Recommend("mallory", 3), UnknownIdError);
  CHECK_THROWS_WITH(r.Recommend("mallory", 3),
                    "unknown user id 'mallory' (the model knows 4 users)");
  CHECK_THROWS_WITH(r.Recommend("alice", 3, Excluded({"i-z"})),
                    "unknown item id 'i-z' (the model knows 5 items)");
  CHECK_FALSE(r.FindUser("0").has_value());  // with id maps, dense numbers are not ids
}

TEST_CASE("Recommender: without seen sets, exclude_seen needs them given, false needs none",
          "[serving]") {
  Fixture f;
  ModelMetadata meta = f.meta;
  meta.seen.reset();
  meta.user_ids.clear();
  meta.item_ids.clear();
  Recommender<float> r(ParseModel<float>(SerializeModel(f.U, f.I, meta)));
  CHECK_FALSE(r.HasIdMaps());
  CHECK_FALSE(r.HasSeen());
  CHECK_THROWS_WITH(r.Recommend("0", 3), Catch::Contains("this model carries none"));
  // No interactions at all: every item is a candidate; ids are the decimal dense ids.
  const auto all = r.Recommend("2", 5, IncludeSeen());
  const auto dense = Recommend(f.U, f.I, f.train, 2, 5, [] {
    RecommendOptions o;
    o.exclude_seen = false;
    return o;
  }());
  REQUIRE(all.size() == 5);
  for (std::size_t q = 0; q < 5; ++q) CHECK(all[q].item == std::to_string(dense[q].item));
  CHECK_THROWS_WITH(r.Recommend("4", 3, IncludeSeen()),
                    "unknown user id '4' (the model knows 4 users)");
  CHECK_THROWS_AS(r.Recommend("x1", 3, IncludeSeen()), UnknownIdError);
  // Seen sets given separately.
  r.SetSeen(f.train);
  const auto seen_excluded = r.Recommend("2", 5);
  CHECK(seen_excluded.size() == 2);  // user 2 saw 3 of 5
  CHECK_THROWS_AS(r.SetSeen(Interactions::FromPairs(3, 5, {})), std::invalid_argument);
}
