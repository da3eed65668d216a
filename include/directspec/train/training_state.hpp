// TrainingState: what the trainer tells its callbacks at each hook (epoch, step, losses, learning
// rate, time). Callbacks receive it together with the trainer itself.
#pragma once

#include "directspec/core/types.hpp"

namespace directspec {

struct TrainingState {
  Index epoch = 0;        // 1-based epoch being run (0 before the first)
  Index epochs = 0;       // epochs requested
  Index first_epoch = 1;  // the first epoch this Train() runs (> 1 when it resumed a checkpoint)
  Index step = 0;         // 1-based step within the epoch
  Index steps_per_epoch = 0;
  double step_loss = 0;      // loss of the last step
  double epoch_loss = 0;     // mean step loss over the epoch so far
  double learning_rate = 0;  // the optimizer's current rate
  double train_seconds = 0;  // training time since Train() began, callback time excluded
};

}  // namespace directspec
