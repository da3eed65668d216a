// directspec._core: the compiled half of the Python package (python/directspec/ is the other):
// datasets, models (the CLI's trainers), the tuner (directspec-tune's search) and the exception
// mapping. Thin by design: every setting, preset, check and training step is the C++ library's
// or the command-line programs'.
#include <pybind11/pybind11.h>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "dataset_binding.hpp"
#include "directspec/core/build_info.hpp"
#include "errors.hpp"
#include "model_binding.hpp"
#include "tune_binding.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "directspec's C++ core (use the directspec package, not this module)";
  directspec::python::RegisterErrorTranslation(m);
  directspec::python::BindDataset(m);
  directspec::python::BindModel(m);
  directspec::python::BindTune(m);
  m.def("build_info", [] { return directspec::CompiledBuildInfo().Summary(); });
  // OpenMP's thread count on the calling thread (the tests check that threads= is honoured).
  m.def("openmp_threads", [] {
#if defined(_OPENMP)
    return omp_get_max_threads();
#else
    return 1;
#endif
  });
}
