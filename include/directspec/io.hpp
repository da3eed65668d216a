// Umbrella header of the io layer: model files (SaveModel / LoadModel / ParseModel), .npy export
// and import, and the atomic-write and checksum plumbing they share.
#pragma once

#include "directspec/io/file_io.hpp"
#include "directspec/io/model_file.hpp"
#include "directspec/io/npy.hpp"
