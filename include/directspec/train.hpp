// Umbrella header for the training loop: the Trainer, its callbacks (including LearningSignals),
// the training state, the paper's named configurations and the update-sharing hook with its
// batch division (UpdateSplit, BatchShare, ShareBalancer).
#pragma once

#include "directspec/train/configurations.hpp"
#include "directspec/train/learning_signals.hpp"
#include "directspec/train/share_balancer.hpp"
#include "directspec/train/trainer.hpp"
#include "directspec/train/training_callbacks.hpp"
#include "directspec/train/training_state.hpp"
#include "directspec/train/update_split.hpp"
