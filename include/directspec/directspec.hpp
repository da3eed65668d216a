// directspec umbrella header: everything the library offers, from data loading to evaluation.
// Include a folder header (directspec/data.hpp, directspec/filters.hpp, ...) to pull in less.
#pragma once

#include "directspec/core/batch.hpp"
#include "directspec/core/build_info.hpp"
#include "directspec/core/first_exception.hpp"
#include "directspec/core/rng.hpp"
#include "directspec/core/row_gradient.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data.hpp"
#include "directspec/eval.hpp"
#include "directspec/filters.hpp"
#include "directspec/graph.hpp"
#include "directspec/io.hpp"
#include "directspec/losses.hpp"
#include "directspec/models.hpp"
#include "directspec/optim.hpp"
#include "directspec/resources.hpp"
#include "directspec/samplers.hpp"
#include "directspec/serve.hpp"
#include "directspec/train.hpp"
#include "directspec/train/concepts.hpp"
