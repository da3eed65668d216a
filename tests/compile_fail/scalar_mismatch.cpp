// Compile-fail case (tests/compile_fail.cmake): an encoder in float with a filter in double must
// not compile into a Trainer, and the message must say that the Scalar types differ.
// -DDIRECTSPEC_CONTROL makes every policy float: then it compiles.
#include "directspec/filters/direct_spec_plus.hpp"
#include "directspec/losses/log_loss.hpp"
#include "directspec/models/mf.hpp"
#include "directspec/optim/sgd.hpp"
#include "directspec/samplers/batch_sampler.hpp"
#include "directspec/train/trainer.hpp"

#ifdef DIRECTSPEC_CONTROL
using FilterScalar = float;
#else
using FilterScalar = double;
#endif

int main() {
  using namespace directspec;
  Trainer<MF<float>, DirectSpecPlus<FilterScalar>, LogLoss<float>, UserThenPositive<>, Sgd<float>>
      trainer;
  return static_cast<int>(trainer.GetOptions().epochs) - 1;
}
