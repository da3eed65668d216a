// Umbrella header of the serving layer: top-K recommendations from embedding tables
// (Recommend, RecommendMany, WriteRecommendationsCsv) and from a saved model in the user's own
// ids (Recommender).
#pragma once

#include "directspec/serve/recommend.hpp"
#include "directspec/serve/recommender.hpp"
