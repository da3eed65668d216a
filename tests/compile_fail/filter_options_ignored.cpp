// Compile-fail case (tests/compile_fail.cmake): a filter that declares a nested Options but
// cannot be constructed from it must not compile into a Trainer (the trainer would otherwise
// default-construct it and drop Options::user_filter / item_filter without a word).
// -DDIRECTSPEC_CONTROL adds the constructor: then it compiles.
#include "directspec/losses/log_loss.hpp"
#include "directspec/models/mf.hpp"
#include "directspec/optim/sgd.hpp"
#include "directspec/samplers/batch_sampler.hpp"
#include "directspec/train/trainer.hpp"

namespace {

template <class S>
class ScaleFilter {
 public:
  using Scalar = S;
  struct Options {
    S factor = S(1);
  };
  ScaleFilter() = default;
#ifdef DIRECTSPEC_CONTROL
  explicit ScaleFilter(const Options& options) : options_(options) {}
#endif
  void Forward(const directspec::RowMatrix<S>& xhat, const directspec::FilterContext& /*ctx*/,
               directspec::RowMatrix<S>& y) {
    y = options_.factor * xhat;
  }
  void Backward(const directspec::RowMatrix<S>& gy, directspec::RowMatrix<S>& gxhat) {
    gxhat = options_.factor * gy;
  }

 private:
  Options options_;
};

}  // namespace

int main() {
  using namespace directspec;
  using MyTrainer =
      Trainer<MF<float>, ScaleFilter<float>, LogLoss<float>, UserThenPositive<>, Sgd<float>>;
  MyTrainer::Options options;
  options.user_filter.factor = 0.5f;
  MyTrainer trainer(options);
  return static_cast<int>(trainer.GetOptions().epochs) - 1;
}
