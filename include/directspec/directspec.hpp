// directspec umbrella header: everything the library offers, from data loading to evaluation.
// Include the folder headers (directspec/data.hpp, directspec/filters.hpp, ...) for less.
#pragma once

#include "directspec/core/batch.hpp"
#include "directspec/core/rng.hpp"
#include "directspec/core/row_gradient.hpp"
#include "directspec/core/types.hpp"
#include "directspec/data/interactions.hpp"
