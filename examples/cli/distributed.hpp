// directspec-train --distributed (docs/distributed.md): what the CLI attaches to a run under
// mpirun. Every rank trains a replica; the trainer's micro-batch updates are shared through
// MpiUpdateSplit, the evaluator's ranking through MpiRankingSplit, the replicas are checked
// identical after training, and the exchange statistics go to the output and the JSON log. Only
// rank 0 prints and writes (KeepOutputsOnRoot). In a build without MPI the same interface does
// nothing, and --distributed is refused with a usage error before any of it is used.
#pragma once

#include <iomanip>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "directspec/directspec.hpp"
#include "json_line.hpp"
#include "settings.hpp"

#if defined(DIRECTSPEC_WITH_MPI)
#include "directspec/distributed.hpp"
#endif

namespace directspec_cli {

using namespace directspec;

/// Whether this build can run --distributed.
inline constexpr bool kBuiltWithMpi =
#if defined(DIRECTSPEC_WITH_MPI)
    true;
#else
    false;
#endif

/// Ranks other than 0 print nothing and write no file (the outputs, checkpoints included, are
/// rank 0's); they still train, evaluate and read --resume like rank 0.
inline void KeepOutputsOnRoot(Settings& s) {
  if (s.rank == 0) return;
  s.quiet = true;
  s.json.clear();
  s.save_model.clear();
  s.export_npy.clear();
  s.spectrum_svg.clear();
  s.recommend_out.clear();
  s.checkpoint.clear();
}

#if defined(DIRECTSPEC_WITH_MPI)

/// The MPI job of a --distributed run.
using MpiJob = distributed::MpiSession;

template <class Scalar>
class DistributedTraining {
 public:
  explicit DistributedTraining(const Settings& s) : active_(s.distributed), ranks_(s.ranks) {
    if (active_)
      split_ = std::make_unique<distributed::MpiUpdateSplit<Scalar>>(
          MPI_COMM_WORLD, s.share == "equal" ? distributed::SharePolicy::kEqual
                                             : distributed::SharePolicy::kBalanced);
  }

  bool Active() const { return active_; }

  /// Shares the trainer's micro-batch updates among the ranks.
  template <class T>
  void Attach(T& trainer) {
    if (active_) trainer.SetUpdateSplit(split_.get());
  }

  /// Shares an evaluator's rankings among the ranks.
  void Share(Evaluator& evaluator) const {
    if (active_) evaluator.SetRankingSplit(distributed::MpiRankingSplit(MPI_COMM_WORLD));
  }

  /// Throws when the ranks' tables differ (they never should: docs/distributed.md).
  template <class T>
  void CheckReplicas(T& trainer) const {
    if (!active_) return;
    std::vector<const RowMatrix<Scalar>*> tables;
    for (auto* t : trainer.Encoder().Tables()) tables.push_back(t);
    if (!distributed::ReplicasIdentical(MPI_COMM_WORLD, tables))
      throw std::runtime_error(
          "--distributed: the ranks' tables differ after training; the ranks did not run the "
          "same program on the same data (same binary, flags and files on every rank?)");
  }

  /// One line on what the shared updates cost on this rank.
  std::string Summary() const {
    if (!active_) return {};
    const auto& st = split_->Statistics();
    std::ostringstream out;
    out << "distributed: " << ranks_ << " ranks, " << st.updates << " shared updates, "
        << FormatBytes(st.BytesReceivedPerUpdate()) << " received per update by rank 0; rank 0 "
        << "computed " << st.own_batches << " of " << st.batches << " batches, " << std::fixed
        << std::setprecision(2) << st.share_seconds << " s on them, " << st.exchange_seconds
        << " s exchanging (waits included), " << st.replicated_seconds << " s on replicated work";
    return out.str();
  }

  void AddJson(JsonLine& j) const {
    if (!active_) return;
    const auto& st = split_->Statistics();
    j.Add("ranks", ranks_).Add("shared_updates", st.updates);
    j.Add("shared_batches", st.batches).Add("own_batches", st.own_batches);
    j.Add("exchange_bytes_per_update", st.BytesReceivedPerUpdate());
    j.Add("share_seconds", st.share_seconds).Add("exchange_seconds", st.exchange_seconds);
    j.Add("replicated_seconds", st.replicated_seconds);
    j.Add("share_cpu_seconds", st.share_cpu_seconds);
    j.Add("exchange_cpu_seconds", st.exchange_cpu_seconds);
    j.Add("replicated_cpu_seconds", st.replicated_cpu_seconds);
  }

 private:
  bool active_;
  int ranks_;
  std::unique_ptr<distributed::MpiUpdateSplit<Scalar>> split_;
};

#else

/// Without MPI there is never a job; the type only keeps the program's signatures the same.
struct MpiJob {
  int Rank() const { return 0; }
  int Size() const { return 1; }
};

template <class Scalar>
class DistributedTraining {
 public:
  explicit DistributedTraining(const Settings&) {}
  bool Active() const { return false; }
  template <class T>
  void Attach(T&) {}
  void Share(Evaluator&) const {}
  template <class T>
  void CheckReplicas(T&) const {}
  std::string Summary() const { return {}; }
  void AddJson(JsonLine&) const {}
};

#endif

}  // namespace directspec_cli
