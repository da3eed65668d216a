// Umbrella header for the optimizers stage (last stage of a training step): SGD and lazy Adam on
// touched rows, and learning-rate decay policies.
#pragma once

#include "directspec/optim/adam.hpp"
#include "directspec/optim/decay.hpp"
#include "directspec/optim/sgd.hpp"
