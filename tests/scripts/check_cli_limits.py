"""Checks of directspec-train's limits and warnings that need more than an exit code and a
message (run by ctest, see tests/examples_limits.cmake).

Usage:
  check_cli_limits.py warnings CLI WORKDIR
      A run that learns nothing (--tau 1e6 on the synthetic data) writes a non-empty "warnings"
      list in the final JSON line, each naming a likely cause; a healthy run writes "warnings": [].
  check_cli_limits.py remap CLI DATA_DIR WORKDIR
      --ids remap on a train file with the id 2147483646: the run succeeds and --recommend-out
      names that user by its raw id.
Exit code 0 on success, 1 with a message naming the problem otherwise.
"""
import csv
import json
import os
import shutil
import subprocess
import sys


class CheckError(Exception):
    pass


def require(condition, message):
    if not condition:
        raise CheckError(message)


def run_cli(cli, args, workdir):
    command = [cli] + args
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    print("$", " ".join(command))
    print(result.stdout[-2000:], end="")
    print(result.stderr[-2000:], end="", file=sys.stderr)
    require(result.returncode == 0, f"'{' '.join(command)}' exited with {result.returncode}")
    return result


def final_line(path):
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    require(lines and lines[-1].get("final") is True, f"{path}: no final line")
    return lines[-1]


def fresh(workdir):
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)


def check_warnings(cli, workdir):
    fresh(workdir)
    stalled = run_cli(cli, ["--epochs", "2", "--tau", "1e6", "--quiet", "--json", "stalled.jsonl"],
                      workdir)
    final = final_line(os.path.join(workdir, "stalled.jsonl"))
    warnings = final.get("warnings")
    require(isinstance(warnings, list) and warnings,
            f"stalled.jsonl: 'warnings' is {warnings!r}, expected a non-empty list")
    for w in warnings:
        require("likely cause: --tau 1e+06 is too large" in w, f"stalled.jsonl: warning {w!r}")
        require(w in stalled.stderr, f"warning {w!r} is in the JSON log but not on stderr")
    require(stalled.returncode == 0, "a run that learns nothing still exits 0")

    healthy = run_cli(cli, ["--epochs", "3", "--quiet", "--json", "healthy.jsonl"], workdir)
    final = final_line(os.path.join(workdir, "healthy.jsonl"))
    require(final.get("warnings") == [],
            f"healthy.jsonl: 'warnings' is {final.get('warnings')!r}, expected []")
    # The start-up warning of a build without AVX2 (sanitizer and portable builds) is about the
    # build, not the run.
    run_warnings = [line for line in healthy.stderr.splitlines()
                    if "warning" in line and "warning: built without AVX2/FMA" not in line]
    require(not run_warnings, f"healthy run warned: {run_warnings!r}")


def check_remap(cli, data, workdir):
    fresh(workdir)
    run_cli(cli, ["--data", data, "--ids", "remap", "--epochs", "1", "--quiet",
                  "--recommend-out", "recs.csv", "--k", "3"], workdir)
    with open(os.path.join(workdir, "recs.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    users = {row["user"] for row in rows}
    require("2147483646" in users, f"recs.csv: no row for raw user 2147483646 (users {sorted(users)})")
    require(all(row["rank"] in ("1", "2", "3") for row in rows), "recs.csv: rank outside 1..3")


def main(argv):
    try:
        if len(argv) == 4 and argv[1] == "warnings":
            check_warnings(argv[2], argv[3])
        elif len(argv) == 5 and argv[1] == "remap":
            check_remap(argv[2], argv[3], argv[4])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except CheckError as e:
        print(f"check_cli_limits.py: {e}", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
