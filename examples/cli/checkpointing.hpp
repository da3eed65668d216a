// directspec-train checkpoints (--checkpoint FILE --checkpoint-every N, --resume FILE): the run's
// fingerprint (the data, the model and every setting that changes the trajectory) and the
// callback that writes the whole training state with the library's SaveCheckpoint
// (io/checkpoint.hpp), atomically, every N epochs and after the last one.
#pragma once

#include <iostream>
#include <string>
#include <tuple>
#include <utility>

#include "directspec/data/dataset.hpp"
#include "directspec/io/checkpoint.hpp"
#include "directspec/train/training_state.hpp"
#include "phase.hpp"
#include "settings.hpp"

namespace directspec_cli {

// The CLI is a client of the library, written in its vocabulary; it adds nothing to it.
using namespace directspec;

/// The settings a run's trajectory depends on besides the trainer's own options and the model
/// (which the library's fingerprint covers). Not included: --epochs (a resumed run may go
/// further), --threads (results are the same for the same thread count; docs/trainer.md), the
/// evaluation and output flags. The text is stored in checkpoints, so its words stay as earlier
/// builds wrote them ("reg" is --output-l2).
inline std::string PolicySettings(const Settings& s) {
  std::string out = "filter " + s.filter + "; alpha " + FingerprintNumber(s.alpha) + "; tau " +
                    FingerprintNumber(s.tau) + "; tau0 " + FingerprintNumber(s.tau0) + "; tau1 " +
                    FingerprintNumber(s.tau1) + "; loss " + s.loss + "; negatives " +
                    std::to_string(s.negatives) + "; gamma " + FingerprintNumber(s.gamma) +
                    "; temperature " + FingerprintNumber(s.temperature) + "; reg " +
                    FingerprintNumber(s.output_l2) + "; optimizer " + s.optimizer + "; lr " +
                    FingerprintNumber(s.lr) + "; lr decay " + FingerprintNumber(s.lr_decay) +
                    "; subsample " + FingerprintNumber(s.subsample) + "; ids " + s.ids;
  if (!s.early_stop.empty())
    out += "; early stop " + s.early_stop + "; patience " + std::to_string(s.patience) +
           "; eval every " + std::to_string(s.eval_every);
  return out;
}

/// The fingerprint of this run: the library's (train data, model, trainer options) with the
/// policy settings, and the evaluation data (test, and validation when given) added to the data
/// part, since early stopping's best-so-far depends on them.
template <class Trainer>
CheckpointFingerprint RunFingerprint(const Trainer& trainer, const Settings& s,
                                     const Dataset& data) {
  CheckpointFingerprint f = MakeCheckpointFingerprint(trainer, data.train, PolicySettings(s));
  f.data = "train " + f.data + "; test " + DataFingerprint(data.test);
  if (data.valid) f.data += "; validation " + DataFingerprint(*data.valid);
  return f;
}

/// Writes the checkpoint at the end of every `every`-th epoch and of the last epoch. Pass it
/// after the callbacks whose state it saves (so their OnEpochEnd has run).
template <class... Parts>
class CheckpointWriter {
 public:
  CheckpointWriter(std::string path, int every, CheckpointFingerprint fingerprint, bool quiet,
                   Parts&... parts)
      : path_(std::move(path)),
        every_(every),
        fingerprint_(std::move(fingerprint)),
        quiet_(quiet),
        parts_(parts...) {}

  template <class T>
  void OnEpochEnd(T& trainer, const TrainingState& s) {
    if (path_.empty() || (s.epoch % every_ != 0 && s.epoch != s.epochs)) return;
    const Phase phase("writing the checkpoint " + path_ + " (epoch " + std::to_string(s.epoch) +
                      ")");
    std::apply([&](auto&... parts) { SaveCheckpoint(path_, trainer, fingerprint_, parts...); },
               parts_);
    ++written_;
    if (!quiet_) std::cout << "checkpoint: epoch " << s.epoch << " written to " << path_ << "\n";
  }

  int Written() const { return written_; }

 private:
  std::string path_;
  int every_;
  CheckpointFingerprint fingerprint_;
  bool quiet_;
  std::tuple<Parts&...> parts_;
  int written_ = 0;
};

}  // namespace directspec_cli
