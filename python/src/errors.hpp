// C++ exceptions as Python exceptions, message unchanged: bad arguments (the CLI's UsageError,
// std::invalid_argument, std::out_of_range and the other std::logic_error kinds) become
// ValueError; file problems become OSError (IoError as OSError itself, DataError as
// directspec.DataError, an OSError subclass that names file and line); a diverged run becomes
// FloatingPointError. Anything else keeps pybind11's mapping (RuntimeError, MemoryError).
#pragma once

#include <Python.h>
#include <pybind11/pybind11.h>

#include <exception>
#include <stdexcept>

#include "cli_bridge.hpp"
#include "directspec/data/data_error.hpp"
#include "directspec/io/io_error.hpp"
#include "directspec/train/training_callbacks.hpp"

namespace directspec::python {

inline void RegisterErrorTranslation(pybind11::module_& m) {
  // Created once and owned by the module (a static pybind11 object would outlive the
  // interpreter at exit).
  static PyObject* data_error = PyErr_NewExceptionWithDoc(
      "directspec._core.DataError",
      "Bad input data: what() names the file, the line and the value.", PyExc_OSError, nullptr);
  m.add_object("DataError", pybind11::handle(data_error));
  pybind11::register_exception_translator([](std::exception_ptr error) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const DataError& e) {
      PyErr_SetString(data_error, e.what());
    } catch (const IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const DivergenceError& e) {
      PyErr_SetString(PyExc_FloatingPointError, e.what());
    } catch (const bridge::UsageError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const std::length_error& e) {  // a size no container can hold
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const std::logic_error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
}

}  // namespace directspec::python
