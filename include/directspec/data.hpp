// Umbrella header for the data layer: interactions (CSR), id maps, parsers, datasets and their
// load report, splits, the synthetic generator, the writers, and data preparation from a raw log
// (reader, filters, log splits, PrepareDataset).
#pragma once

#include "directspec/data/data_error.hpp"
#include "directspec/data/dataset.hpp"
#include "directspec/data/gzip.hpp"
#include "directspec/data/id_map.hpp"
#include "directspec/data/interactions.hpp"
#include "directspec/data/log_filters.hpp"
#include "directspec/data/log_split.hpp"
#include "directspec/data/parse.hpp"
#include "directspec/data/prepare.hpp"
#include "directspec/data/raw_log.hpp"
#include "directspec/data/split.hpp"
#include "directspec/data/synthetic.hpp"
