// Recommendation API: the query-time end of the pipeline. Given inference tables U (n x d) and
// I (m x d) — raw scores U I^T — it returns the top-k items of one user or of many users
// (excluding what they already saw by default, with optional extra exclusions or an allowed
// list), writes batched recommendations to CSV with optional raw ids, and finds similar items by
// cosine. Ranking ties follow the library rule of topk.hpp (lower item id first).
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "directspec/core/first_exception.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/interactions.hpp"
#include "directspec/eval/topk.hpp"
#include "directspec/io/atomic_file.hpp"

namespace directspec {

struct RecommendOptions {
  bool exclude_seen = true;  // drop the user's train items
  std::vector<Id> exclude;   // extra items never recommended (any order)
  std::vector<Id> allowed;   // when non-empty, only these items are candidates
  Index user_batch = 256;    // users scored per GEMM in RecommendMany
};

namespace detail {

inline void CheckRecommendShapes(Index un, Index ud, Index im, Index id,
                                 const Interactions* train) {
  if (ud != id)
    throw std::invalid_argument("Recommend: U has " + std::to_string(ud) + " columns, I has " +
                                std::to_string(id));
  if (train && (train->Users() != un || train->Items() != im))
    throw std::invalid_argument("Recommend: tables are " + std::to_string(un) + " users x " +
                                std::to_string(im) + " items but train is " +
                                std::to_string(train->Users()) + " x " +
                                std::to_string(train->Items()));
}

inline std::vector<Id> SortedIds(std::vector<Id> ids, Index items, const char* what) {
  for (Id i : ids)
    if (i < 0 || i >= items)
      throw std::out_of_range(std::string("Recommend: ") + what + " item " + std::to_string(i) +
                              " outside [0, " + std::to_string(items) + ")");
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// Excluded items of one user: train row (if asked) merged with the extra exclusions.
inline std::span<const Id> Excluded(const Interactions* train, Id user, bool exclude_seen,
                                    const std::vector<Id>& extra, std::vector<Id>& buffer) {
  std::span<const Id> seen;
  if (exclude_seen && train) seen = train->ItemsOf(user);
  if (extra.empty()) return seen;
  if (seen.empty()) return extra;
  buffer.clear();
  std::set_union(seen.begin(), seen.end(), extra.begin(), extra.end(), std::back_inserter(buffer));
  return buffer;
}

}  // namespace detail

/// The k best items of one user, best first.
///
///   auto recs = Recommend(U, I, train, /*user=*/7, /*k=*/10);      // seen items excluded
///   for (const auto& r : recs) std::cout << r.item << " " << r.score << "\n";
template <class S>
std::vector<ScoredItem<S>> Recommend(const RowMatrix<S>& U, const RowMatrix<S>& I,
                                     const Interactions& train, Id user, Index k,
                                     const RecommendOptions& options = {}) {
  detail::CheckRecommendShapes(U.rows(), U.cols(), I.rows(), I.cols(), &train);
  if (user < 0 || user >= U.rows())
    throw std::out_of_range("Recommend: user " + std::to_string(user) + " outside [0, " +
                            std::to_string(U.rows()) + ")");
  const auto extra = detail::SortedIds(options.exclude, I.rows(), "excluded");
  std::vector<Id> buffer;
  const auto excluded = detail::Excluded(&train, user, options.exclude_seen, extra, buffer);
  TopKSelector<S> top;
  top.Reset(std::min(k, I.rows()));
  if (options.allowed.empty()) {
    const Vector<S> scores = I * U.row(user).transpose();
    top.OfferRow(scores.data(), 0, I.rows(), excluded);
  } else {
    for (Id i : detail::SortedIds(options.allowed, I.rows(), "allowed"))
      if (!std::binary_search(excluded.begin(), excluded.end(), i))
        top.Offer(i, I.row(i).dot(U.row(user)));
  }
  return top.Sorted();
}

/// Top-k lists for many users (all users when `users` is empty), scored one GEMM per batch.
/// Element r of the result belongs to users[r] (or user r).
template <class S>
std::vector<std::vector<ScoredItem<S>>> RecommendMany(const RowMatrix<S>& U, const RowMatrix<S>& I,
                                                      const Interactions& train,
                                                      std::span<const Id> users, Index k,
                                                      const RecommendOptions& options = {}) {
  detail::CheckRecommendShapes(U.rows(), U.cols(), I.rows(), I.cols(), &train);
  std::vector<Id> all;
  if (users.empty()) {
    all.resize(static_cast<std::size_t>(U.rows()));
    for (std::size_t u = 0; u < all.size(); ++u) all[u] = static_cast<Id>(u);
    users = all;
  }
  for (Id u : users)
    if (u < 0 || u >= U.rows())
      throw std::out_of_range("RecommendMany: user " + std::to_string(u) + " outside [0, " +
                              std::to_string(U.rows()) + ")");
  const auto extra = detail::SortedIds(options.exclude, I.rows(), "excluded");
  const auto allowed = detail::SortedIds(options.allowed, I.rows(), "allowed");
  const Index count = static_cast<Index>(users.size());
  const Index batch = std::max<Index>(options.user_batch, 1);
  const Index batches = (count + batch - 1) / batch;
  k = std::min(k, I.rows());  // a list never holds more than the catalogue
  std::vector<std::vector<ScoredItem<S>>> out(static_cast<std::size_t>(count));
  // Workspaces are sized inside the guarded body: an allocation failure in a thread becomes
  // this call's exception instead of a terminate.
  FirstException errors;
#ifdef _OPENMP
#pragma omp parallel
#endif
  {
    RowMatrix<S> rows, scores;
    std::vector<Id> buffer;
    TopKSelector<S> top;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (Index bi = 0; bi < batches; ++bi)
      errors.Run([&] {
        const Index lo = bi * batch, hi = std::min(count, lo + batch);
        rows.resize(hi - lo, U.cols());
        for (Index r = lo; r < hi; ++r)
          rows.row(r - lo) = U.row(users[static_cast<std::size_t>(r)]);
        if (allowed.empty()) {
          scores.resize(hi - lo, I.rows());
          scores.noalias() = rows * I.transpose();
        }
        for (Index r = lo; r < hi; ++r) {
          const Id u = users[static_cast<std::size_t>(r)];
          const auto excluded = detail::Excluded(&train, u, options.exclude_seen, extra, buffer);
          top.Reset(k);
          if (allowed.empty()) {
            top.OfferRow(scores.row(r - lo).data(), 0, I.rows(), excluded);
          } else {
            for (Id i : allowed)
              if (!std::binary_search(excluded.begin(), excluded.end(), i))
                top.Offer(i, I.row(i).dot(rows.row(r - lo)));
          }
          out[static_cast<std::size_t>(r)] = top.Sorted();
        }
      });
  }
  errors.Rethrow();
  return out;
}

/// The k items most similar to `item` by cosine of their rows of I (the item itself excluded;
/// a zero row has cosine 0 with everything).
///
///   auto like = SimilarItems(I, /*item=*/42, /*k=*/5);
template <class S>
std::vector<ScoredItem<S>> SimilarItems(const RowMatrix<S>& I, Id item, Index k) {
  if (item < 0 || item >= I.rows())
    throw std::out_of_range("SimilarItems: item " + std::to_string(item) + " outside [0, " +
                            std::to_string(I.rows()) + ")");
  const Vector<S> norms = I.rowwise().norm();
  const S self = norms(item);
  const Vector<S> dots = I * I.row(item).transpose();
  Vector<S> cosine(I.rows());
  for (Index j = 0; j < I.rows(); ++j) {
    const S denom = norms(j) * self;
    cosine(j) = denom > 0 ? dots(j) / denom : S(0);
  }
  const Id excluded[] = {item};
  TopKSelector<S> top;
  top.Reset(std::min(k, I.rows()));
  top.OfferRow(cosine.data(), 0, I.rows(), excluded);
  return top.Sorted();
}

/// Writes `user,item,rank,score` rows (rank 1-based) for recommendations from RecommendMany.
/// `users[r]` owns lists[r] (empty `users`: list r belongs to user r). When `user_ids` /
/// `item_ids` are non-empty they map dense ids to raw ids (quoted as CSV needs). The file is
/// written atomically (io/atomic_file.hpp): a failure leaves the previous file as it was.
template <class S>
void WriteRecommendationsCsv(const std::string& path, std::span<const Id> users,
                             const std::vector<std::vector<ScoredItem<S>>>& lists,
                             std::span<const std::string> user_ids = {},
                             std::span<const std::string> item_ids = {}) {
  if (!users.empty() && users.size() != lists.size())
    throw std::invalid_argument(path + ": " + std::to_string(users.size()) + " users for " +
                                std::to_string(lists.size()) + " recommendation lists");
  auto field = [](std::string_view raw) {
    if (raw.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(raw);
    std::string q = "\"";
    for (char c : raw) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  auto name = [&](std::span<const std::string> ids, Id id, const char* what) {
    if (ids.empty()) return std::to_string(id);
    if (id < 0 || static_cast<std::size_t>(id) >= ids.size())
      throw std::out_of_range(path + ": " + what + " " + std::to_string(id) + " has no raw id (" +
                              std::to_string(ids.size()) + " known)");
    return field(ids[static_cast<std::size_t>(id)]);
  };
  AtomicFileWriter f(path);  // the previous file stays until the new one is complete
  std::string out = "user,item,rank,score\n";
  char buf[64];
  for (std::size_t r = 0; r < lists.size(); ++r) {
    const Id u = users.empty() ? static_cast<Id>(r) : users[r];
    const std::string uname = name(user_ids, u, "user");
    for (std::size_t q = 0; q < lists[r].size(); ++q) {
      const auto res = std::to_chars(buf, buf + sizeof(buf), lists[r][q].score);
      out += uname + "," + name(item_ids, lists[r][q].item, "item") + "," + std::to_string(q + 1) +
             "," + std::string(buf, res.ptr) + "\n";
    }
    if (out.size() > (1u << 20)) {
      f.Write(std::string_view(out));
      out.clear();
    }
  }
  f.Write(std::string_view(out));
  f.Commit();
}

}  // namespace directspec
