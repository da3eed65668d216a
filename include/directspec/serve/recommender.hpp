// Recommender: a saved model served in the user's own ids. It wraps a loaded Model (tables, id
// maps, optional seen sets) and answers top-k queries that take and return raw ids, excluding
// each user's seen items from the sets the model file carries (or ones given separately), without
// the training file. Models saved without id maps use the decimal dense ids as their raw ids.
// This is the serving end of the pipeline: SaveModel -> LoadRecommender -> Recommend.
#pragma once

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "directspec/core/types.hpp"
#include "directspec/data/id_map.hpp"
#include "directspec/data/interactions.hpp"
#include "directspec/io/model_file.hpp"
#include "directspec/serve/recommend.hpp"

namespace directspec {

/// A recommendation in raw ids.
template <class S>
struct RawScoredItem {
  std::string item;
  S score = 0;
};

/// Query options of Recommender (raw ids throughout).
struct ServeOptions {
  /// Drop each user's seen items. Needs seen sets: from the model file or SetSeen().
  bool exclude_seen = true;
  std::vector<std::string> exclude;  // items never recommended
  std::vector<std::string> allowed;  // when non-empty, only these items are candidates
  Index user_batch = 256;            // users scored per GEMM in RecommendMany
};

/// An id the model does not know (a std::out_of_range, so callers may catch either).
struct UnknownIdError : std::out_of_range {
  using std::out_of_range::out_of_range;
};

/// Serves a model in raw ids.
///
///   Recommender<float> r = LoadRecommender<float>("ml-100k.dspm");
///   for (const auto& rec : r.Recommend("196", 10))        // raw user id in, raw item ids out
///     std::cout << rec.item << " " << rec.score << "\n";
///   r.Recommend("196", 10, {.exclude_seen = false});      // needs no seen sets at all
template <class S>
class Recommender {
 public:
  /// Throws std::invalid_argument when the stored id maps hold a duplicate raw id.
  explicit Recommender(Model<S> model) : model_(std::move(model)) {
    const auto& meta = model_.metadata;
    if (!meta.user_ids.empty()) users_ = IdMap::FromRawIds(meta.user_ids);
    if (!meta.item_ids.empty()) items_ = IdMap::FromRawIds(meta.item_ids);
    if (meta.seen) seen_ = ToInteractions(*meta.seen);
    none_ = Interactions::FromPairs(Users(), Items(), {});
  }

  Index Users() const { return model_.users.rows(); }
  Index Items() const { return model_.items.rows(); }
  bool HasIdMaps() const { return users_.has_value() || items_.has_value(); }
  bool HasSeen() const { return seen_.has_value(); }
  const Model<S>& GetModel() const { return model_; }

  /// Supplies the seen sets separately (dense ids, Users() x Items()), e.g. a train file loaded
  /// with the model's id maps; replaces the model's own.
  void SetSeen(Interactions seen) {
    if (seen.Users() != Users() || seen.Items() != Items())
      throw std::invalid_argument("Recommender::SetSeen: seen sets are " +
                                  std::to_string(seen.Users()) + " x " +
                                  std::to_string(seen.Items()) + " but the model is " +
                                  std::to_string(Users()) + " x " + std::to_string(Items()));
    seen_ = std::move(seen);
  }

  /// The dense id of a raw user id, or nullopt when the model does not know it.
  std::optional<Id> FindUser(std::string_view raw) const { return Find(users_, raw, Users()); }
  std::optional<Id> FindItem(std::string_view raw) const { return Find(items_, raw, Items()); }

  /// The dense id of a raw user id; throws UnknownIdError naming it.
  Id UserIndex(std::string_view raw) const { return Require(FindUser(raw), raw, "user", Users()); }
  Id ItemIndex(std::string_view raw) const { return Require(FindItem(raw), raw, "item", Items()); }

  std::string UserRaw(Id u) const { return users_ ? users_->Raw(u) : std::to_string(u); }
  std::string ItemRaw(Id i) const { return items_ ? items_->Raw(i) : std::to_string(i); }

  /// The k best items of a raw user id, best first, in raw ids.
  std::vector<RawScoredItem<S>> Recommend(std::string_view user, Index k,
                                          const ServeOptions& options = {}) const {
    const Id u = UserIndex(user);
    const auto lists = RecommendMany(std::span<const Id>(&u, 1), k, options);
    std::vector<RawScoredItem<S>> out;
    out.reserve(lists.front().size());
    for (const auto& r : lists.front()) out.push_back({ItemRaw(r.item), r.score});
    return out;
  }

  /// Top-k lists of dense users (all when `users` is empty), in dense ids, one GEMM per batch.
  std::vector<std::vector<ScoredItem<S>>> RecommendMany(std::span<const Id> users, Index k,
                                                        const ServeOptions& options = {}) const {
    RecommendOptions o;
    o.user_batch = options.user_batch;
    o.exclude_seen = options.exclude_seen;
    for (const auto& raw : options.exclude) o.exclude.push_back(ItemIndex(raw));
    for (const auto& raw : options.allowed) o.allowed.push_back(ItemIndex(raw));
    if (options.exclude_seen && !seen_)
      throw std::logic_error(
          "Recommender: excluding seen items needs the seen sets, and this model carries none "
          "(save it with its seen sets, call SetSeen(train), or set exclude_seen = false)");
    return directspec::RecommendMany(model_.users, model_.items, seen_ ? *seen_ : none_, users, k,
                                     o);
  }

  /// Writes `user,item,rank,score` rows in raw ids, atomically (WriteRecommendationsCsv).
  void WriteCsv(const std::string& path, std::span<const Id> users,
                const std::vector<std::vector<ScoredItem<S>>>& lists) const {
    static const std::vector<std::string> none;
    WriteRecommendationsCsv(path, users, lists, users_ ? users_->RawIds() : none,
                            items_ ? items_->RawIds() : none);
  }

 private:
  Interactions ToInteractions(const SeenSets& s) const {
    std::vector<std::pair<Id, Id>> pairs;
    pairs.reserve(s.items.size());
    for (Index u = 0; u < s.Users(); ++u)
      for (Id i : s.Of(u)) pairs.emplace_back(static_cast<Id>(u), i);
    return Interactions::FromPairs(Users(), Items(), pairs);
  }

  static std::optional<Id> Find(const std::optional<IdMap>& map, std::string_view raw, Index n) {
    if (map) return map->Find(raw);
    Id id = -1;  // no map: raw ids are the decimal dense ids
    const auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), id);
    if (ec != std::errc() || ptr != raw.data() + raw.size() || raw.empty() || id < 0 || id >= n)
      return std::nullopt;
    return id;
  }

  static Id Require(std::optional<Id> id, std::string_view raw, const char* what, Index n) {
    if (!id)
      throw UnknownIdError(std::string("unknown ") + what + " id '" + std::string(raw) +
                           "' (the model knows " + std::to_string(n) + " " + what + "s)");
    return *id;
  }

  Model<S> model_;
  std::optional<IdMap> users_, items_;
  std::optional<Interactions> seen_;
  Interactions none_;  // no seen items: what exclude_seen = false scores against
};

/// Loads a model file for serving (LoadModel + Recommender).
template <class S>
Recommender<S> LoadRecommender(const std::filesystem::path& path) {
  return Recommender<S>(LoadModel<S>(path));
}

}  // namespace directspec
