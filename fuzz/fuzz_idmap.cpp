// libFuzzer target: IdMap (data/id_map.hpp), the raw token <-> dense id bijection. The input is a
// program of operations (insert, find, raw lookup, bulk insert to force rehashes, copy,
// FromRawIds round trip, FromRawIds with a planted duplicate) run against IdMap and against a
// std::unordered_map reference model; after every operation and at the end the two must agree
// and the map must stay a bijection onto 0..Size()-1.
//
//   build/fuzz_idmap --make-seed=DIR    # writes the seed corpus
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "directspec/data/id_map.hpp"
#include "fuzz_common.hpp"

namespace {

using directspec::Id;
using directspec::IdMap;
using directspec::Index;

/// Consumes the input byte by byte; past the end it yields zeros.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool Done() const { return pos_ >= size_; }
  std::uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  /// A token: a length byte, then either raw bytes or letters of a 3-letter alphabet (so that
  /// tokens repeat often and lookups hit).
  std::string Token() {
    const std::uint8_t head = Byte();
    const std::size_t len = head % 9;
    std::string out;
    for (std::size_t k = 0; k < len; ++k) {
      const std::uint8_t b = Byte();
      out.push_back((head & 0x80) ? static_cast<char>(b) : static_cast<char>('a' + b % 3));
    }
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// Bounds the work per input (copies and full checks are O(size)) so the fuzzer stays fast.
constexpr Index kMaxSize = 2048;
constexpr int kMaxOps = 256;

struct Model {
  std::unordered_map<std::string, Id> ids;
  std::vector<std::string> raw;
};

void CheckAgree(const IdMap& map, const Model& ref) {
  FUZZ_CHECK(
      map.Size() == static_cast<Index>(ref.raw.size()),
      "size " + std::to_string(map.Size()) + " != reference " + std::to_string(ref.raw.size()));
  FUZZ_CHECK(map.RawIds() == ref.raw, "RawIds differ from the reference");
  for (Index id = 0; id < map.Size(); ++id) {
    const auto found = map.Find(map.Raw(static_cast<Id>(id)));
    FUZZ_CHECK(found && *found == id, "Find(Raw(id)) != id for id " + std::to_string(id));
  }
}

Id Insert(IdMap& map, Model& ref, const std::string& token) {
  const Id id = map.Insert(token);
  const auto [it, added] = ref.ids.emplace(token, static_cast<Id>(ref.raw.size()));
  if (added) ref.raw.push_back(token);
  FUZZ_CHECK(id == it->second,
             "Insert returned " + std::to_string(id) + ", reference " + std::to_string(it->second));
  return id;
}

void WriteSeeds(const std::filesystem::path& dir) {
  using directspec_fuzz::WriteSeed;
  // op codes: 0 insert, 1 find, 2 raw, 3 bulk insert, 4 copy, 5 FromRawIds, 6 duplicate.
  WriteSeed(dir / "insert_find.bin", std::string("\x00\x03\x00\x01\x02\x01\x03\x00\x01\x02", 10));
  WriteSeed(dir / "bulk_rehash.bin", std::string("\x03\x40\x03\x7f\x05\x01\x02\x05", 8));
  WriteSeed(dir / "copy_roundtrip.bin",
            std::string("\x00\x82\xff\x00\x00\x01\x61\x04\x00\x02\x62\x63\x05\x06\x00", 15));
  WriteSeed(dir / "raw_out_of_range.bin", std::string("\x00\x01\x00\x02\x05\x02\xff", 7));
  WriteSeed(dir / "empty_token.bin", std::string("\x00\x00\x01\x00\x05", 5));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  directspec_fuzz::MaybeMakeSeeds(argc, argv, WriteSeeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader in(data, size);
  IdMap map;
  Model ref;
  int ops = 0;
  while (!in.Done() && ops++ < kMaxOps) {
    switch (in.Byte() % 7) {
      case 0: {  // insert
        Insert(map, ref, in.Token());
        break;
      }
      case 1: {  // find
        const std::string token = in.Token();
        const auto found = map.Find(token);
        const auto it = ref.ids.find(token);
        FUZZ_CHECK(found.has_value() == (it != ref.ids.end()), "Find presence differs");
        if (found) FUZZ_CHECK(*found == it->second, "Find id differs");
        break;
      }
      case 2: {  // raw lookup, in range or just outside it
        const Id id = static_cast<Id>(in.Byte()) - 2;
        bool threw = false;
        try {
          FUZZ_CHECK(map.Raw(id) == ref.raw.at(static_cast<std::size_t>(id)), "Raw differs");
        } catch (const std::out_of_range&) {
          threw = true;
        }
        FUZZ_CHECK(threw == (id < 0 || id >= map.Size()), "Raw range check is wrong");
        break;
      }
      case 3: {  // bulk insert: crosses rehash thresholds (the map stays below kMaxSize)
        const int count = in.Byte() % 80;
        const std::string prefix = in.Token();
        for (int k = 0; k < count && map.Size() < kMaxSize; ++k)
          Insert(map, ref, prefix + std::to_string(k));
        break;
      }
      case 4: {  // a copy is independent of the original
        IdMap copy = map;
        Model copy_ref = ref;
        Insert(copy, copy_ref, in.Token());
        CheckAgree(copy, copy_ref);
        CheckAgree(map, ref);
        break;
      }
      case 5: {  // RawIds -> FromRawIds restores an equal, working map
        IdMap back = IdMap::FromRawIds(map.RawIds());
        FUZZ_CHECK(back == map, "FromRawIds(RawIds()) differs");
        CheckAgree(back, ref);
        break;
      }
      case 6: {  // FromRawIds must refuse a duplicated token and name both positions
        if (map.Size() == 0) break;
        std::vector<std::string> raw = map.RawIds();
        const std::size_t first = in.Byte() % raw.size();
        raw.push_back(raw[first]);
        try {
          (void)IdMap::FromRawIds(raw);
          FUZZ_CHECK(false, "FromRawIds accepted a duplicate");
        } catch (const std::invalid_argument& e) {
          const std::string what = e.what();
          FUZZ_CHECK(what.find(std::to_string(first) + " and " + std::to_string(raw.size() - 1)) !=
                         std::string::npos,
                     "duplicate message lacks the positions: " + what);
        }
        break;
      }
    }
  }
  CheckAgree(map, ref);
  return 0;
}
