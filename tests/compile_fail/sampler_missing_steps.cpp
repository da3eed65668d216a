// Compile-fail case (tests/compile_fail.cmake): a sampler without StepsPerEpoch must not compile
// into a Trainer; the note names the missing expression. -DDIRECTSPEC_CONTROL adds it back.
#include "directspec/filters/no_filter.hpp"
#include "directspec/losses/log_loss.hpp"
#include "directspec/models/mf.hpp"
#include "directspec/optim/sgd.hpp"
#include "directspec/samplers/batch_sampler.hpp"
#include "directspec/train/trainer.hpp"

namespace {

class SamplerWithoutSteps {
 public:
  void Reset(const directspec::Interactions& train, std::uint64_t seed) {
    inner_.Reset(train, seed);
  }
  void Sample(directspec::Index batch_size, directspec::Batch& batch) {
    inner_.Sample(batch_size, batch);
  }
#ifdef DIRECTSPEC_CONTROL
  directspec::Index StepsPerEpoch(directspec::Index batch_size) const {
    return inner_.StepsPerEpoch(batch_size);
  }
#endif

 private:
  directspec::UserThenPositive<> inner_;
};

}  // namespace

int main() {
  using namespace directspec;
  Trainer<MF<float>, NoFilter<float>, LogLoss<float>, SamplerWithoutSteps, Sgd<float>> trainer;
  return static_cast<int>(trainer.GetOptions().epochs) - 1;
}
