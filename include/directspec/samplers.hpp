// Umbrella header for the samplers stage (first stage of a training step): batch samplers and
// negative policies.
#pragma once

#include "directspec/samplers/batch_sampler.hpp"
#include "directspec/samplers/negatives.hpp"
