// Compile-fail case (tests/compile_fail.cmake): a loss whose Evaluate returns nothing must not
// compile into a Trainer (the trainer logs and checks the value). -DDIRECTSPEC_CONTROL returns it.
#include "directspec/filters/no_filter.hpp"
#include "directspec/losses/log_loss.hpp"
#include "directspec/models/mf.hpp"
#include "directspec/optim/sgd.hpp"
#include "directspec/samplers/batch_sampler.hpp"
#include "directspec/train/trainer.hpp"

namespace {

using directspec::RowMatrix;

class LossWithoutValue {
 public:
  using Scalar = float;
#ifdef DIRECTSPEC_CONTROL
  float
#else
  void
#endif
  Evaluate(const RowMatrix<float>& ou, const RowMatrix<float>& oi, const directspec::Batch& batch,
           RowMatrix<float>& gu, RowMatrix<float>& gi) {
#ifdef DIRECTSPEC_CONTROL
    return log_.Evaluate(ou, oi, batch, gu, gi);
#else
    log_.Evaluate(ou, oi, batch, gu, gi);
#endif
  }

 private:
  directspec::LogLoss<float> log_;
};

}  // namespace

int main() {
  using namespace directspec;
  Trainer<MF<float>, NoFilter<float>, LossWithoutValue, UserThenPositive<>, Sgd<float>> trainer;
  return static_cast<int>(trainer.GetOptions().epochs) - 1;
}
