// graph/: the normalised user-item adjacency Â and its sparse products, used by LightGCN.
#pragma once

#include "directspec/graph/normalized_adjacency.hpp"
#include "directspec/graph/spmm.hpp"
