// Umbrella header for the per-side stages between the encoder and the loss:
// RowNormalizer -> {NoFilter, DirectSpec, DirectSpecPlus, AdaptiveDirectSpecPlus} -> NormShrink.
// See docs/filters.md.
#pragma once

#include "directspec/core/argument_check.hpp"
#include "directspec/filters/adaptive_direct_spec_plus.hpp"
#include "directspec/filters/direct_spec.hpp"
#include "directspec/filters/direct_spec_plus.hpp"
#include "directspec/filters/filter_context.hpp"
#include "directspec/filters/no_filter.hpp"
#include "directspec/filters/norm_shrink.hpp"
#include "directspec/filters/row_normalizer.hpp"
#include "directspec/filters/shared_neighbours.hpp"
