// Umbrella header for the training loop: the Trainer, its callbacks (including LearningSignals),
// the training state and the paper's named configurations.
#pragma once

#include "directspec/train/configurations.hpp"
#include "directspec/train/learning_signals.hpp"
#include "directspec/train/trainer.hpp"
#include "directspec/train/training_callbacks.hpp"
#include "directspec/train/training_state.hpp"
#include "directspec/train/update_split.hpp"
