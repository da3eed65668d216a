// Compile-fail fixture for tests/compile_fail.cmake: a side filter without Backward handed to
// the Trainer must not compile, and the diagnostic must name the missing member. With
// -DDIRECTSPEC_CONTROL the member is present and the file must compile (so the failure is
// due to the missing member, not to a broken include path).
#include "directspec/losses/log_loss.hpp"
#include "directspec/models/mf.hpp"
#include "directspec/optim/sgd.hpp"
#include "directspec/samplers/batch_sampler.hpp"
#include "directspec/train/trainer.hpp"

namespace {

template <class S>
class FilterWithoutBackward {
 public:
  using Scalar = S;
  void Forward(const directspec::RowMatrix<S>& xhat, const directspec::FilterContext& /*ctx*/,
               directspec::RowMatrix<S>& y) {
    y = xhat;
  }
#ifdef DIRECTSPEC_CONTROL
  void Backward(const directspec::RowMatrix<S>& gy, directspec::RowMatrix<S>& gxhat) { gxhat = gy; }
#endif
};

}  // namespace

int main() {
  using namespace directspec;
  Trainer<MF<float>, FilterWithoutBackward<float>, LogLoss<float>, UserThenPositive<>, Sgd<float>>
      trainer;
  return static_cast<int>(trainer.GetOptions().epochs) - 1;
}
