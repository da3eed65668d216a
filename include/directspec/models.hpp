// models/: the encoders that turn parameters into batch rows (MF, LightGCN with its propagation
// policies) and back-propagate batch-row gradients into parameter gradients.
#pragma once

#include "directspec/models/init.hpp"
#include "directspec/models/lightgcn.hpp"
#include "directspec/models/mf.hpp"
#include "directspec/models/propagation.hpp"
#include "directspec/models/weight_decay.hpp"
