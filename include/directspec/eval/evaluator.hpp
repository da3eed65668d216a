// Evaluator: full-ranking evaluation of a trained model, the last stage of the pipeline and the
// one the training callbacks call every few epochs. Every user with at least one test item is
// ranked against the whole catalogue (her train items excluded), many cut-offs K in one pass:
// Recall, NDCG, Precision, HitRate, MRR, catalogue coverage, and optionally the authors'
// paper-compatible counting (docs/evaluation.md; docs/method.md#evaluation).
//
// Speed: users are taken in batches; each batch is scored against item tiles with one GEMM per
// (batch, tile), and a bounded heap per user keeps the best items while the tile is still in
// cache. Memory is O(user_batch x item_tile) per thread. OpenMP runs batches in parallel; the
// batch and tile partition does not depend on the thread count, so results are bitwise identical
// for any number of threads.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "directspec/core/first_exception.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/interactions.hpp"
#include "directspec/eval/eval_result.hpp"
#include "directspec/eval/topk.hpp"

namespace directspec {

/// Which counting the evaluator reports.
enum class EvalMode {
  kStandard,  // LightGCN / RecBole definitions, averaged over users with >= 1 test item
  kPaper,     // the DirectSpec authors' script: "@K" counts K+1 ranks, recall = hits/min(K,|T|)
  kBoth,      // both sets of names in one pass (one ranking, two countings)
};

/// One user's ranking, handed to custom metrics.
struct UserRanking {
  Id user = 0;
  std::span<const Id> ranked;  // best first, train items excluded, at most Evaluator::Depth()
  std::span<const Id> test;    // the user's test items, sorted and unique
  Index raw_test_count = 0;    // test rows of the user including duplicate rows
};

/// A user-defined metric, reported as "<name>@K" for every K and averaged like the standard
/// metrics (over users with >= 1 test item). See docs/evaluation.md "Write your own metric".
struct CustomMetric {
  std::string name;
  std::function<double(const UserRanking&, Index k)> value;
};

struct EvalOptions {
  std::vector<Index> ks{10, 20};  // cut-offs, all computed from one ranking
  EvalMode mode = EvalMode::kStandard;
  /// Paper mode: ranks the authors' script retrieves (its topk(20)); "@K" counts ranks
  /// 1..min(K + 1, depth). 0 means max(ks), which reproduces the script for ks = {10, 20}.
  Index paper_depth = 0;
  Index user_batch = 128;  // users scored per GEMM
  Index item_tile = 1024;  // items per GEMM tile (the score tile stays in L2)
  bool keep_per_user = false;
  std::vector<CustomMetric> custom;
};

/// Top lists of the evaluated users: items[r * depth + k] is the (k+1)-th item of users[r]
/// (lengths[r] valid entries, the rest -1).
struct RankedLists {
  std::vector<Id> users;
  Index depth = 0;
  std::vector<Id> items;
  std::vector<Index> lengths;

  std::span<const Id> Of(Index r) const {
    return {items.data() + r * depth,
            static_cast<std::size_t>(lengths[static_cast<std::size_t>(r)])};
  }
};

/// How the ranking is shared among cooperating processes (Evaluator::SetRankingSplit): part
/// `part` of `parts` ranks a contiguous block of the user batches, then `gather` fills in the
/// other parts' rows. Part p holds rows [row_bounds[p], row_bounds[p + 1]) of the lists
/// (row_bounds has parts + 1 entries). The batches are those of the single-process ranking, so
/// every user's list is computed exactly as there; directspec/distributed/ gathers over MPI.
struct RankingSplit {
  int part = 0;
  int parts = 1;
  std::function<void(RankedLists& lists, std::span<const Index> row_bounds)> gather;
};

/// Full-ranking evaluator over fixed train / test interactions.
///
///   Evaluator eval(train, test);                           // recall, ndcg, ... @10 and @20
///   EvalResult r = eval.Evaluate(U, I);                    // U: n x d, I: m x d, scores U I^T
///   EvalOptions o; o.mode = EvalMode::kPaper;
///   Evaluator paper(train, raw_test_pairs, o);             // duplicates count in |T_u|
///   double pr = paper.Evaluate(U, I).Get("paper_recall@20");
class Evaluator {
 public:
  using Options = EvalOptions;

  /// `test` must have the shape of `train`. Raw test counts default to the unique counts; use
  /// the pairs constructor (or SetRawTestCounts) when duplicate test rows must count (paper mode).
  Evaluator(Interactions train, Interactions test, EvalOptions options = {})
      : train_(std::move(train)), test_(std::move(test)), options_(std::move(options)) {
    if (test_.Users() != train_.Users() || test_.Items() != train_.Items())
      throw std::invalid_argument("Evaluator: test is " + Shape(test_) + " but train is " +
                                  Shape(train_));
    raw_counts_.resize(static_cast<std::size_t>(train_.Users()));
    for (Index u = 0; u < train_.Users(); ++u)
      raw_counts_[static_cast<std::size_t>(u)] = test_.UserDegree(u);
    Prepare();
  }

  /// Test given as raw (user, item) rows: duplicates collapse in the test set but count in the
  /// paper-mode |T_u|.
  Evaluator(Interactions train, std::span<const std::pair<Id, Id>> test_pairs,
            EvalOptions options = {})
      : Evaluator(train, Interactions::FromPairs(train.Users(), train.Items(), test_pairs),
                  std::move(options)) {
    std::vector<Index> counts(static_cast<std::size_t>(train_.Users()), 0);
    for (const auto& p : test_pairs) ++counts[static_cast<std::size_t>(p.first)];
    SetRawTestCounts(std::move(counts));
  }

  /// Per-user number of test rows including duplicates (paper mode's |T_u|).
  void SetRawTestCounts(std::vector<Index> counts) {
    if (static_cast<Index>(counts.size()) != train_.Users())
      throw std::invalid_argument("Evaluator::SetRawTestCounts: " + std::to_string(counts.size()) +
                                  " counts for " + std::to_string(train_.Users()) + " users");
    for (Index u = 0; u < train_.Users(); ++u)
      if (counts[static_cast<std::size_t>(u)] < test_.UserDegree(u))
        throw std::invalid_argument(
            "Evaluator::SetRawTestCounts: user " + std::to_string(u) + " has raw count " +
            std::to_string(counts[static_cast<std::size_t>(u)]) + " below its " +
            std::to_string(test_.UserDegree(u)) + " unique test items");
    raw_counts_ = std::move(counts);
  }

  /// Shares every later ranking with cooperating processes (see RankingSplit); the metrics are
  /// then computed by every process from the gathered lists, identical to an unshared run.
  void SetRankingSplit(RankingSplit split) {
    if (split.parts < 1 || split.part < 0 || split.part >= split.parts)
      throw std::invalid_argument("Evaluator::SetRankingSplit: part " + std::to_string(split.part) +
                                  " of " + std::to_string(split.parts));
    if (split.parts > 1 && !split.gather)
      throw std::invalid_argument("Evaluator::SetRankingSplit: " + std::to_string(split.parts) +
                                  " parts but no gather function");
    split_ = std::move(split);
  }
  const EvalOptions& GetOptions() const { return options_; }
  const Interactions& Train() const { return train_; }
  const Interactions& Test() const { return test_; }
  /// Ranks retrieved per user: max(ks) and, in paper mode, the paper depth; at most the number
  /// of items.
  Index Depth() const { return depth_; }
  /// Users with at least one test item, ascending.
  const std::vector<Id>& EvaluatedUsers() const { return users_; }

  /// Scores U I^T for every evaluated user and reports the metrics.
  template <class S>
  EvalResult Evaluate(const RowMatrix<S>& U, const RowMatrix<S>& I) const {
    const auto start = std::chrono::steady_clock::now();
    EvalResult r = Score(Rank(U, I));
    r.seconds = SecondsSince(start);
    return r;
  }

  /// Evaluates an encoder through its InferenceEmbeddings (architecture.md "Encoder").
  template <class Encoder>
  EvalResult EvaluateEncoder(const Encoder& encoder) const {
    using S = typename Encoder::Scalar;
    RowMatrix<S> U, I;
    encoder.InferenceEmbeddings(U, I);
    return Evaluate(U, I);
  }

  /// Evaluates a dense n x m score matrix (e.g. an item-item or popularity model).
  template <class S>
  EvalResult EvaluateScores(const RowMatrix<S>& scores) const {
    const auto start = std::chrono::steady_clock::now();
    EvalResult r = Score(RankScores(scores));
    r.seconds = SecondsSince(start);
    return r;
  }

  /// Evaluates a scorer callback `scorer(std::span<const Id> users, RowMatrix<S>& scores)` that
  /// fills users.size() x m scores. It is called for one batch at a time (never concurrently);
  /// selection runs in parallel.
  template <class S, class Scorer>
  EvalResult EvaluateScorer(Scorer&& scorer) const {
    const auto start = std::chrono::steady_clock::now();
    EvalResult r = Score(RankScorer<S>(scorer));
    r.seconds = SecondsSince(start);
    return r;
  }

  /// The top-Depth() lists of the evaluated users from U I^T.
  template <class S>
  RankedLists Rank(const RowMatrix<S>& U, const RowMatrix<S>& I) const {
    if (U.rows() != train_.Users() || I.rows() != train_.Items() || U.cols() != I.cols())
      throw std::invalid_argument("Evaluator: tables are U " + std::to_string(U.rows()) + "x" +
                                  std::to_string(U.cols()) + ", I " + std::to_string(I.rows()) +
                                  "x" + std::to_string(I.cols()) + " but the data has " +
                                  Shape(train_));
    const Index m = train_.Items(), d = U.cols();
    const Index tile = std::max<Index>(options_.item_tile, 1);
    return RankBatches<S>(
        [&](std::span<const Id> batch, std::vector<TopKSelector<S>>& sel, Workspace<S>& ws) {
          const Index b = static_cast<Index>(batch.size());
          ws.rows.resize(b, d);
          for (Index r = 0; r < b; ++r) ws.rows.row(r) = U.row(batch[static_cast<std::size_t>(r)]);
          for (Index j0 = 0; j0 < m; j0 += tile) {
            const Index len = std::min(tile, m - j0);
            ws.scores.resize(b, len);
            ws.scores.noalias() = ws.rows * I.middleRows(j0, len).transpose();
            for (Index r = 0; r < b; ++r)
              sel[static_cast<std::size_t>(r)].OfferRow(
                  ws.scores.row(r).data(), static_cast<Id>(j0), len, train_.ItemsOf(batch[r]));
          }
        });
  }

  /// The top-Depth() lists from a dense n x m score matrix.
  template <class S>
  RankedLists RankScores(const RowMatrix<S>& scores) const {
    if (scores.rows() != train_.Users() || scores.cols() != train_.Items())
      throw std::invalid_argument("Evaluator: score matrix is " + std::to_string(scores.rows()) +
                                  "x" + std::to_string(scores.cols()) + " but the data has " +
                                  Shape(train_));
    return RankBatches<S>([&](std::span<const Id> batch, std::vector<TopKSelector<S>>& sel,
                              Workspace<S>&) {
      for (std::size_t r = 0; r < batch.size(); ++r)
        sel[r].OfferRow(scores.row(batch[r]).data(), 0, scores.cols(), train_.ItemsOf(batch[r]));
    });
  }

  /// The top-Depth() lists from a scorer callback (see EvaluateScorer).
  template <class S, class Scorer>
  RankedLists RankScorer(Scorer& scorer) const {
    const Index m = train_.Items();
    return RankBatches<S>(
        [&](std::span<const Id> batch, std::vector<TopKSelector<S>>& sel, Workspace<S>& ws) {
          // One batch at a time; the exception (if any) leaves the critical section first, so
          // its lock is always released.
          FirstException scorer_error;
#ifdef _OPENMP
#pragma omp critical(directspec_eval_scorer)
#endif
          scorer_error.Run([&] {
            ws.scores.resize(static_cast<Index>(batch.size()), m);
            scorer(batch, ws.scores);
          });
          scorer_error.Rethrow();
          if (ws.scores.rows() != static_cast<Index>(batch.size()) || ws.scores.cols() != m)
            throw std::runtime_error("Evaluator: scorer resized its output to " +
                                     std::to_string(ws.scores.rows()) + "x" +
                                     std::to_string(ws.scores.cols()));
          for (std::size_t r = 0; r < batch.size(); ++r)
            sel[r].OfferRow(ws.scores.row(static_cast<Index>(r)).data(), 0, m,
                            train_.ItemsOf(batch[r]));
        });
  }

  /// Metrics from top lists (as produced by Rank*). Sums run in user order, so the result does
  /// not depend on how the ranking was parallelised.
  EvalResult Score(const RankedLists& lists) const {
    const Index n = train_.Users(), m = train_.Items();
    const bool standard = options_.mode != EvalMode::kPaper;
    const bool paper = options_.mode != EvalMode::kStandard;
    const auto& ks = ks_;
    const std::size_t nk = ks.size();

    std::vector<std::string> names;  // per-user metric names, in column order
    auto add_names = [&](const std::string& metric) {
      for (Index k : ks) names.push_back(metric + "@" + std::to_string(k));
    };
    if (standard)
      for (const char* metric : {"recall", "ndcg", "precision", "hit_rate", "mrr"})
        add_names(metric);
    if (paper)
      for (const char* metric : {"paper_recall", "paper_ndcg"}) add_names(metric);
    for (const auto& c : options_.custom) add_names(c.name);
    const std::size_t cols = names.size();

    const Index rows = static_cast<Index>(lists.users.size());
    std::vector<double> sums(cols, 0.0);
    PerUserMetrics per_user;
    if (options_.keep_per_user) {
      per_user.users = lists.users;
      per_user.names = names;
      per_user.values.setZero(rows, static_cast<Index>(cols));
    }
    // Discounts 1/log2(r+1) for ranks r = 1..depth, and their prefix sums (ideal DCG).
    std::vector<double> disc(static_cast<std::size_t>(lists.depth) + 1, 0.0);
    std::vector<double> idcg(static_cast<std::size_t>(lists.depth) + 1, 0.0);
    for (Index r = 1; r <= lists.depth; ++r) {
      disc[static_cast<std::size_t>(r)] = 1.0 / std::log2(static_cast<double>(r) + 1.0);
      idcg[static_cast<std::size_t>(r)] =
          idcg[static_cast<std::size_t>(r) - 1] + disc[static_cast<std::size_t>(r)];
    }
    std::vector<Index> best_rank(static_cast<std::size_t>(m), std::numeric_limits<Index>::max());
    std::vector<char> hit(static_cast<std::size_t>(lists.depth), 0);
    std::vector<double> row(cols, 0.0);

    for (Index r = 0; r < rows; ++r) {
      const Id u = lists.users[static_cast<std::size_t>(r)];
      const auto top = lists.Of(r);
      const auto test = test_.ItemsOf(u);
      const Index len = static_cast<Index>(top.size());
      for (Index q = 0; q < len; ++q) {
        const Id item = top[static_cast<std::size_t>(q)];
        hit[static_cast<std::size_t>(q)] = std::binary_search(test.begin(), test.end(), item);
        auto& br = best_rank[static_cast<std::size_t>(item)];
        br = std::min(br, q + 1);
      }
      // hits(c), dcg(c): over the first c ranks (c clipped to the list length).
      auto hits_dcg_first = [&](Index c, double& hits, double& dcg, Index& first) {
        hits = 0;
        dcg = 0;
        first = 0;
        for (Index q = 0; q < std::min(c, len); ++q)
          if (hit[static_cast<std::size_t>(q)]) {
            hits += 1;
            dcg += disc[static_cast<std::size_t>(q) + 1];
            if (first == 0) first = q + 1;
          }
      };
      std::size_t col = 0;
      const double t = static_cast<double>(test.size());
      if (standard) {
        for (std::size_t a = 0; a < nk; ++a) {
          double hits, dcg;
          Index first;
          const Index k = ks[a];
          hits_dcg_first(k, hits, dcg, first);
          const double ideal = IdealDcg(std::min<Index>(k, static_cast<Index>(test.size())), idcg);
          row[col + a] = hits / t;                                                     // recall
          row[col + nk + a] = dcg / ideal;                                             // ndcg
          row[col + 2 * nk + a] = hits / static_cast<double>(k);                       // precision
          row[col + 3 * nk + a] = hits > 0 ? 1.0 : 0.0;                                // hit rate
          row[col + 4 * nk + a] = first > 0 ? 1.0 / static_cast<double>(first) : 0.0;  // mrr
        }
        col += 5 * nk;
      }
      if (paper) {
        const Index raw = raw_counts_[static_cast<std::size_t>(u)];
        for (std::size_t a = 0; a < nk; ++a) {
          double hits, dcg;
          Index first;
          const Index k = ks[a];
          hits_dcg_first(std::min(k + 1, paper_depth_), hits, dcg, first);
          const Index denom = std::min(k, raw);
          row[col + a] = hits / static_cast<double>(denom);
          row[col + nk + a] = dcg / IdealDcg(denom, idcg);
        }
        col += 2 * nk;
      }
      if (!options_.custom.empty()) {
        const UserRanking ranking{u, top, test, raw_counts_[static_cast<std::size_t>(u)]};
        for (const auto& c : options_.custom) {
          for (std::size_t a = 0; a < nk; ++a) row[col + a] = c.value(ranking, ks[a]);
          col += nk;
        }
      }
      for (std::size_t c = 0; c < cols; ++c) sums[c] += row[c];
      if (options_.keep_per_user)
        for (std::size_t c = 0; c < cols; ++c) per_user.values(r, static_cast<Index>(c)) = row[c];
    }

    EvalResult result;
    result.users_evaluated = rows;
    result.users_total = n;
    result.items = m;
    // Standard metrics and custom ones average over evaluated users, paper ones over all users.
    std::size_t col = 0;
    auto emit = [&](std::size_t count, double denom) {
      for (std::size_t c = 0; c < count; ++c, ++col)
        result.metrics.emplace_back(names[col], denom > 0 ? sums[col] / denom : 0.0);
    };
    if (standard) {
      emit(5 * nk, static_cast<double>(rows));
      for (Index k : ks) {
        Index covered = 0;
        for (Index br : best_rank) covered += br <= k;
        result.metrics.emplace_back(
            "coverage@" + std::to_string(k),
            m > 0 ? static_cast<double>(covered) / static_cast<double>(m) : 0.0);
      }
    }
    if (paper) emit(2 * nk, static_cast<double>(n));
    emit(options_.custom.size() * nk, static_cast<double>(rows));
    result.per_user = std::move(per_user);
    return result;
  }

 private:
  template <class S>
  struct Workspace {
    RowMatrix<S> rows;    // the batch's user rows
    RowMatrix<S> scores;  // batch x tile scores
  };

  static std::string Shape(const Interactions& x) {
    return std::to_string(x.Users()) + " users x " + std::to_string(x.Items()) + " items";
  }

  static double SecondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  static double IdealDcg(Index ranks, const std::vector<double>& idcg) {
    if (ranks <= 0) return 0.0;
    if (ranks < static_cast<Index>(idcg.size())) return idcg[static_cast<std::size_t>(ranks)];
    double v = idcg.back();  // only reached when a K exceeds the retrieved depth
    for (Index r = static_cast<Index>(idcg.size()); r <= ranks; ++r)
      v += 1.0 / std::log2(static_cast<double>(r) + 1.0);
    return v;
  }

  void Prepare() {
    ks_ = options_.ks;
    if (ks_.empty()) throw std::invalid_argument("EvalOptions::ks is empty");
    for (Index k : ks_)
      if (k < 1)
        throw std::invalid_argument("EvalOptions::ks: cut-off " + std::to_string(k) +
                                    " is not positive");
    std::sort(ks_.begin(), ks_.end());
    ks_.erase(std::unique(ks_.begin(), ks_.end()), ks_.end());
    if (options_.paper_depth < 0)
      throw std::invalid_argument("EvalOptions::paper_depth is negative: " +
                                  std::to_string(options_.paper_depth));
    if (options_.user_batch < 1)
      throw std::invalid_argument("EvalOptions::user_batch must be >= 1, got " +
                                  std::to_string(options_.user_batch));
    for (const auto& c : options_.custom)
      if (!c.value)
        throw std::invalid_argument("EvalOptions::custom: metric '" + c.name + "' has no function");
    options_.ks = ks_;
    paper_depth_ = options_.paper_depth > 0 ? options_.paper_depth : ks_.back();
    depth_ = ks_.back();
    if (options_.mode != EvalMode::kStandard) depth_ = std::max(depth_, paper_depth_);
    // A list never holds more than the catalogue: a cut-off beyond it costs no memory.
    depth_ = std::min(depth_, train_.Items());
    users_.clear();
    for (Index u = 0; u < test_.Users(); ++u)
      if (test_.UserDegree(u) > 0) users_.push_back(static_cast<Id>(u));
  }

  // Runs `offer(batch_users, selectors, workspace)` for every batch of evaluated users, batches
  // in parallel, and collects the sorted top lists.
  template <class S, class Offer>
  RankedLists RankBatches(Offer&& offer) const {
    RankedLists out;
    out.users = users_;
    out.depth = depth_;
    const Index count = static_cast<Index>(users_.size());
    out.items.assign(static_cast<std::size_t>(count * depth_), -1);
    out.lengths.assign(static_cast<std::size_t>(count), 0);
    const Index batch = options_.user_batch;
    const Index batches = (count + batch - 1) / batch;
    // This process's block of batches (all of them unless the ranking is split).
    const Index first_batch = batches * split_.part / split_.parts;
    const Index last_batch = batches * (split_.part + 1) / split_.parts;
    FirstException errors;
#ifdef _OPENMP
#pragma omp parallel
#endif
    {
      // Per-thread workspaces, sized inside the guarded loop body: an allocation failure there
      // becomes the evaluation's exception instead of a terminate.
      std::vector<TopKSelector<S>> sel;
      Workspace<S> ws;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
      for (Index bi = first_batch; bi < last_batch; ++bi) {
        errors.Run([&] {
          const Index lo = bi * batch, hi = std::min(count, lo + batch);
          if (sel.size() < static_cast<std::size_t>(hi - lo))
            sel.resize(static_cast<std::size_t>(hi - lo));
          for (Index r = lo; r < hi; ++r) sel[static_cast<std::size_t>(r - lo)].Reset(depth_);
          offer(std::span<const Id>(users_.data() + lo, static_cast<std::size_t>(hi - lo)), sel,
                ws);
          for (Index r = lo; r < hi; ++r)
            out.lengths[static_cast<std::size_t>(r)] =
                sel[static_cast<std::size_t>(r - lo)].SortedItems(out.items.data() + r * depth_);
        });
      }
    }
    errors.Rethrow();
    if (split_.parts > 1) {
      std::vector<Index> row_bounds(static_cast<std::size_t>(split_.parts) + 1);
      for (int p = 0; p <= split_.parts; ++p)
        row_bounds[static_cast<std::size_t>(p)] =
            std::min(count, batches * p / split_.parts * batch);
      split_.gather(out, row_bounds);
    }
    return out;
  }

  Interactions train_;
  Interactions test_;
  EvalOptions options_;
  std::vector<Index> ks_;
  std::vector<Index> raw_counts_;
  std::vector<Id> users_;
  Index depth_ = 0;
  Index paper_depth_ = 0;
  RankingSplit split_;
};

}  // namespace directspec
