"""Checks directspec's .npy export with numpy (run by the ctest entry in tests/npy_check.cmake).

Usage: npy_check.py <test_io executable>
It runs the hidden test case that writes .npy files, loads them with numpy.load and compares
dtype, shape, order and values; then it saves arrays with numpy.save and runs the hidden test
case that reads them back with directspec::ReadNpy. Exit code 77 (ctest SKIP_RETURN_CODE) when
numpy is missing.
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("numpy is not available for", sys.executable, "- skipping")
    sys.exit(77)


def expected(rows, cols, dtype):
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    return (r - 0.25 * c + 0.5).astype(dtype)


def run(exe, name, directory):
    env = dict(os.environ, DIRECTSPEC_NPY_DIR=directory)
    result = subprocess.run([exe, name], env=env)
    if result.returncode != 0:
        sys.exit(f"{exe} '{name}' failed with exit code {result.returncode}")


def main():
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        for sub in ("f4", "f8", "np"):
            os.makedirs(os.path.join(d, sub))
        run(exe, "write npy files for the numpy check", d)
        checked = 0
        for sub, dtype in (("f4", np.float32), ("f8", np.float64)):
            for name, rows in (("user", 5), ("item", 7)):
                path = os.path.join(d, sub, f"{name}.npy")
                a = np.load(path)
                if a.dtype != dtype or a.shape != (rows, 3) or not a.flags.c_contiguous:
                    sys.exit(f"{path}: dtype {a.dtype}, shape {a.shape}, C order {a.flags.c_contiguous}")
                if not np.array_equal(a, expected(rows, 3, dtype)):
                    sys.exit(f"{path}: values differ:\n{a}")
                checked += 1
        # The other direction: numpy writes, directspec reads.
        np.save(os.path.join(d, "np", "a_f4.npy"), expected(4, 6, np.float32))
        np.save(os.path.join(d, "np", "a_f8.npy"), expected(4, 6, np.float64))
        run(exe, "read npy files saved by numpy", d)
        print(f"npy check passed: {checked} files loaded by numpy {np.__version__}, 2 read back")


if __name__ == "__main__":
    main()
