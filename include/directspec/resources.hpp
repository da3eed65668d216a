// Umbrella header of the resource layer: the memory estimate of a run (tables, workspaces,
// evaluation, outputs) and the memory the machine has left, checked before training starts.
#pragma once

#include "directspec/resources/available_memory.hpp"
#include "directspec/resources/memory_estimate.hpp"
