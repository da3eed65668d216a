// Umbrella header of the evaluation layer: full-ranking metrics (Evaluator, EvalResult), top-K
// selection, recommendations, spectrum diagnostics, chance levels, SVG plots and the training
// callbacks.
#pragma once

#include "directspec/eval/chance_level.hpp"
#include "directspec/eval/eval_result.hpp"
#include "directspec/eval/evaluation_callbacks.hpp"
#include "directspec/eval/evaluator.hpp"
#include "directspec/eval/spectrum.hpp"
#include "directspec/eval/svg_plot.hpp"
#include "directspec/eval/topk.hpp"
