// IdMap: the bijection between raw id tokens found in data files (any string: "u123", "42",
// a hash) and the dense 0-based `Id`s every other stage indexes with. One IdMap per side
// (users, items) is shared by the train, test and validation files of a dataset so they land in
// one index space; model files store RawIds() so recommendations can be reported in raw ids.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "directspec/core/types.hpp"
#include "directspec/data/data_error.hpp"

namespace directspec {

/// Raw token <-> dense id, dense ids assigned by first appearance.
///
///   IdMap users;
///   Id a = users.Insert("alice");        // 0
///   Id b = users.Insert("bob");          // 1
///   users.Insert("alice");               // 0 again
///   users.Raw(b);                        // "bob"
///   auto restored = IdMap::FromRawIds(users.RawIds());
class IdMap {
 public:
  /// The dense id of `raw`, adding it (as id Size()) if it is new.
  /// Throws std::length_error past 2^31 - 1 distinct ids.
  Id Insert(std::string_view raw) {
    const std::uint64_t h = HashOf(raw);
    std::size_t slot = 0;
    if (const Id found = Lookup(raw, h, slot); found >= 0) return found;
    if (raw_.size() >= static_cast<std::size_t>(std::numeric_limits<Id>::max()))
      throw std::length_error("IdMap: more than 2^31-1 distinct ids");
    const auto id = static_cast<Id>(raw_.size());
    raw_.emplace_back(raw);
    if (2 * raw_.size() > slots_.size()) {
      Rehash(std::max<std::size_t>(16, 4 * raw_.size()));
    } else {
      slots_[slot] = {id, TagOf(h)};
    }
    return id;
  }

  /// The dense id of `raw`, or nullopt if it was never inserted.
  std::optional<Id> Find(std::string_view raw) const {
    std::size_t slot = 0;
    if (const Id found = Lookup(raw, HashOf(raw), slot); found >= 0) return found;
    return std::nullopt;
  }

  /// The raw token of dense id `id`; throws std::out_of_range unless 0 <= id < Size().
  const std::string& Raw(Id id) const { return raw_.at(static_cast<std::size_t>(id)); }

  Index Size() const { return static_cast<Index>(raw_.size()); }

  /// Raw tokens in dense-id order: RawIds()[id] is the token of `id`.
  const std::vector<std::string>& RawIds() const { return raw_; }

  /// Rebuilds a map from RawIds() (e.g. read back from a model file).
  /// Throws std::invalid_argument naming the first duplicated token and both positions.
  static IdMap FromRawIds(std::vector<std::string> raw) {
    IdMap map;
    for (std::size_t k = 0; k < raw.size(); ++k) {
      const Id id = map.Insert(raw[k]);
      if (static_cast<std::size_t>(id) != k)
        throw std::invalid_argument("IdMap::FromRawIds: duplicate raw id " +
                                    DataError::Quote(raw[k]) + " at positions " +
                                    std::to_string(id) + " and " + std::to_string(k));
    }
    return map;
  }

  friend bool operator==(const IdMap& a, const IdMap& b) { return a.raw_ == b.raw_; }

 private:
  static std::uint64_t HashOf(std::string_view s) { return std::hash<std::string_view>{}(s); }

  // Open addressing with linear probing over a power-of-two table at most half full. Each slot
  // carries 32 bits of the hash, so a probe reads one slot and compares a string only on a
  // likely match: two cache lines per lookup, where a node-based std::unordered_map costs
  // several misses (this is the hot loop of remapped loading: two lookups per row).
  struct Slot {
    Id id = -1;  // -1 = empty
    std::uint32_t tag = 0;
  };

  static std::uint32_t TagOf(std::uint64_t h) { return static_cast<std::uint32_t>(h >> 32); }

  Id Lookup(std::string_view raw, std::uint64_t h, std::size_t& slot) const {
    if (slots_.empty()) return -1;
    const std::size_t mask = slots_.size() - 1;
    const std::uint32_t tag = TagOf(h);
    for (slot = static_cast<std::size_t>(h) & mask;; slot = (slot + 1) & mask) {
      const Slot& s = slots_[slot];
      if (s.id < 0) return -1;
      if (s.tag == tag && raw_[static_cast<std::size_t>(s.id)] == raw) return s.id;
    }
  }

  void Rehash(std::size_t capacity) {
    std::size_t size = 16;
    while (size < capacity) size *= 2;
    slots_.assign(size, Slot{});
    const std::size_t mask = size - 1;
    for (std::size_t id = 0; id < raw_.size(); ++id) {
      const std::uint64_t h = HashOf(raw_[id]);
      std::size_t slot = static_cast<std::size_t>(h) & mask;
      while (slots_[slot].id >= 0) slot = (slot + 1) & mask;
      slots_[slot] = {static_cast<Id>(id), TagOf(h)};
    }
  }

  std::vector<std::string> raw_;  // dense id -> token
  std::vector<Slot> slots_;       // the hash table
};

/// The user and item maps of one dataset (separate index spaces).
struct IdMaps {
  IdMap users;
  IdMap items;
  friend bool operator==(const IdMaps&, const IdMaps&) = default;
};

}  // namespace directspec
