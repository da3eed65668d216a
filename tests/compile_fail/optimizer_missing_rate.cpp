// Compile-fail case (tests/compile_fail.cmake): an optimizer without LearningRate must not
// compile into a Trainer; the note names the missing expression. -DDIRECTSPEC_CONTROL adds it.
#include "directspec/filters/no_filter.hpp"
#include "directspec/losses/log_loss.hpp"
#include "directspec/models/mf.hpp"
#include "directspec/optim/sgd.hpp"
#include "directspec/samplers/batch_sampler.hpp"
#include "directspec/train/trainer.hpp"

namespace {

using directspec::RowMatrix;

class OptimizerWithoutRate {
 public:
  using Scalar = float;
  void Update(const std::vector<RowMatrix<float>*>& tables,
              const std::vector<directspec::RowGradient<float>>& grads) {
    sgd_.Update(tables, grads);
  }
  void EndEpoch(directspec::Index epoch) { sgd_.EndEpoch(epoch); }
#ifdef DIRECTSPEC_CONTROL
  float LearningRate() const { return sgd_.LearningRate(); }
#endif

 private:
  directspec::Sgd<float> sgd_{0.1};
};

}  // namespace

int main() {
  using namespace directspec;
  Trainer<MF<float>, NoFilter<float>, LogLoss<float>, UserThenPositive<>, OptimizerWithoutRate>
      trainer;
  return static_cast<int>(trainer.GetOptions().epochs) - 1;
}
