// IdMap: the bijection between raw id tokens found in data files (any string: "u123", "42",
// a hash) and the dense 0-based `Id`s every other stage indexes with. One IdMap per side
// (users, items) is shared by the train, test and validation files of a dataset so they land in
// one index space; model files store RawIds() so recommendations can be reported in raw ids.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "directspec/core/types.hpp"

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
    if (const auto it = index_.find(raw); it != index_.end()) return it->second;
    if (raw_.size() >= static_cast<std::size_t>(std::numeric_limits<Id>::max()))
      throw std::length_error("IdMap: more than 2^31-1 distinct ids");
    const auto id = static_cast<Id>(raw_.size());
    raw_.emplace_back(raw);
    index_.emplace(raw_.back(), id);
    return id;
  }

  /// The dense id of `raw`, or nullopt if it was never inserted.
  std::optional<Id> Find(std::string_view raw) const {
    if (const auto it = index_.find(raw); it != index_.end()) return it->second;
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
    if (raw.size() > static_cast<std::size_t>(std::numeric_limits<Id>::max()))
      throw std::length_error("IdMap::FromRawIds: more than 2^31-1 ids");
    IdMap map;
    map.index_.reserve(raw.size());
    for (std::size_t k = 0; k < raw.size(); ++k) {
      const auto [it, inserted] = map.index_.emplace(raw[k], static_cast<Id>(k));
      if (!inserted)
        throw std::invalid_argument("IdMap::FromRawIds: duplicate raw id '" + raw[k] +
                                    "' at positions " + std::to_string(it->second) + " and " +
                                    std::to_string(k));
    }
    map.raw_ = std::move(raw);
    return map;
  }

  friend bool operator==(const IdMap& a, const IdMap& b) { return a.raw_ == b.raw_; }

 private:
  // Transparent hashing lets Find/Insert look up a string_view without building a std::string.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::vector<std::string> raw_;
  // Keys duplicate raw_'s strings: simpler than views into raw_ (which would dangle when a
  // short string moves during growth) and costs only the size of the token text.
  std::unordered_map<std::string, Id, Hash, std::equal_to<>> index_;
};

/// The user and item maps of one dataset (separate index spaces).
struct IdMaps {
  IdMap users;
  IdMap items;
  friend bool operator==(const IdMaps&, const IdMaps&) = default;
};

}  // namespace directspec
