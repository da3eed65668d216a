# Finds what the Python module (python/, docs/python.md) needs: a Python 3 interpreter with its
# development files, and pybind11's CMake package (Debian: python3-dev pybind11-dev). Included
# by the top-level CMakeLists.txt; DIRECTSPEC_BUILD_PYTHON defaults to ON when both are found.
#
# The interpreter: Python3_EXECUTABLE when given, else the first python3 (PATH, then
# /usr/bin/python3) that has numpy, which the module's API and tests need. A pyenv or venv
# python3 without numpy ahead of the system one on PATH is thereby skipped.
if(NOT DEFINED Python3_EXECUTABLE)
  find_program(DIRECTSPEC_PATH_PYTHON3 NAMES python3)
  foreach(candidate ${DIRECTSPEC_PATH_PYTHON3} /usr/bin/python3)
    if(NOT DEFINED _directspec_python AND EXISTS "${candidate}")
      execute_process(COMMAND "${candidate}" -c "import numpy"
        RESULT_VARIABLE _numpy_missing OUTPUT_QUIET ERROR_QUIET)
      if(_numpy_missing EQUAL 0)
        set(_directspec_python "${candidate}")
      endif()
    endif()
  endforeach()
  if(DEFINED _directspec_python)
    set(Python3_EXECUTABLE "${_directspec_python}" CACHE FILEPATH "The Python for the module")
  endif()
endif()
find_package(Python3 COMPONENTS Interpreter Development.Module QUIET)
if(Python3_FOUND)
  find_package(pybind11 CONFIG QUIET)
endif()
if(Python3_FOUND AND pybind11_FOUND)
  set(DIRECTSPEC_PYTHON_FOUND ON)
else()
  set(DIRECTSPEC_PYTHON_FOUND OFF)
endif()
