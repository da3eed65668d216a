// Umbrella header of the optional distributed layer (docs/distributed.md): data-parallel
// training over MPI. Not included by directspec/directspec.hpp: only programs that link MPI
// include it.
#pragma once

#include "directspec/distributed/mpi_ranking_split.hpp"
#include "directspec/distributed/mpi_session.hpp"
#include "directspec/distributed/mpi_types.hpp"
#include "directspec/distributed/mpi_update_split.hpp"
#include "directspec/distributed/replica_check.hpp"
