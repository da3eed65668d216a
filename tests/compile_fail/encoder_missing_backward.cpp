// Compile-fail case (tests/compile_fail.cmake): an encoder without Backward must not compile
// into a Trainer; the note names the missing expression. -DDIRECTSPEC_CONTROL adds it back.
#include "directspec/filters/no_filter.hpp"
#include "directspec/losses/log_loss.hpp"
#include "directspec/models/mf.hpp"
#include "directspec/optim/sgd.hpp"
#include "directspec/samplers/batch_sampler.hpp"
#include "directspec/train/trainer.hpp"

namespace {

using directspec::Id;
using directspec::RowMatrix;

// MF with Backward hidden.
class EncoderWithoutBackward {
 public:
  using Scalar = float;
  void Initialize(const directspec::Interactions& train, std::uint64_t seed) {
    mf_.Initialize(train, seed);
  }
  void Encode(std::span<const Id> users, std::span<const Id> items, RowMatrix<float>& xu,
              RowMatrix<float>& xi) {
    mf_.Encode(users, items, xu, xi);
  }
#ifdef DIRECTSPEC_CONTROL
  void Backward(const RowMatrix<float>& gu, const RowMatrix<float>& gi,
                std::vector<directspec::RowGradient<float>>& grads) {
    mf_.Backward(gu, gi, grads);
  }
#endif
  std::vector<RowMatrix<float>*> Tables() { return mf_.Tables(); }
  std::vector<std::string> TableNames() const { return mf_.TableNames(); }

 private:
  directspec::MF<float> mf_;
};

}  // namespace

int main() {
  using namespace directspec;
  Trainer<EncoderWithoutBackward, NoFilter<float>, LogLoss<float>, UserThenPositive<>, Sgd<float>>
      trainer;
  return static_cast<int>(trainer.GetOptions().epochs) - 1;
}
