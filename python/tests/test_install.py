"""`cmake --install` puts the package where the interpreter finds it under the prefix
(DIRECTSPEC_PYTHON_INSTALL_DIR), and it imports and trains from there, away from the build
tree. Needs the build tree (DIRECTSPEC_BUILD_DIR, set by ctest)."""

import os
import pathlib
import subprocess
import sys

import pytest


def test_cmake_install(tmp_path):
    build = os.environ.get("DIRECTSPEC_BUILD_DIR")
    where = os.environ.get("DIRECTSPEC_PYTHON_INSTALL_DIR")
    if not build or not where:
        pytest.skip("DIRECTSPEC_BUILD_DIR / DIRECTSPEC_PYTHON_INSTALL_DIR unset: run via ctest")
    cmake = os.environ.get("CMAKE_COMMAND", "cmake")
    subprocess.run([cmake, "--install", build, "--prefix", str(tmp_path)], check=True,
                   stdout=subprocess.DEVNULL)
    package = tmp_path / where / "directspec"
    assert (package / "__init__.py").exists()
    env = dict(os.environ, PYTHONPATH=str(tmp_path / where))
    code = ("import directspec; print(directspec.__file__); "
            "print(directspec.MF(dim=4, epochs=1).fit(directspec.load_dataset(), "
            "progress=False).user_factors.shape[1])")
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=tmp_path,
                         capture_output=True, text=True).stdout.split()
    assert pathlib.Path(out[0]).is_relative_to(tmp_path) and out[1] == "4"
