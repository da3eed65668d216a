#!/usr/bin/env python3
"""ctest driver of the entries that run the PyTorch peer, bench/peer/torch_directspec.py
(registered by tests/peer.cmake).

  peer_check.py selftest                      the peer's --selftest
  peer_check.py epoch TEST_RECIPE WORK_DIR    test_recipe's "[recipe]" against a fresh peer run

epoch: `TEST_RECIPE "[.generate]"` writes the C++ initial tables and the batches of one CiteULike
epoch to WORK_DIR, tests/fixtures/peer_one_epoch.py runs the peer on them (WORK_DIR/peer.json),
and `TEST_RECIPE "[recipe]"` checks the C++ epoch against that output instead of the committed
fixture (DIRECTSPEC_PEER_FIXTURE). The distance between the fresh peer numbers and the committed
fixture is printed for information only: another BLAS may round differently.

Without torch (and numpy) for this interpreter both modes print "python3-torch not installed:
skipping ..." and exit with status 77, which ctest reports as skipped. Standard library only up
to that check.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PEER = os.path.join(ROOT, "bench", "peer", "torch_directspec.py")
ONE_EPOCH = os.path.join(ROOT, "tests", "fixtures", "peer_one_epoch.py")
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "peer_citeulike_mf_epoch1.json")
SKIP = 77


def require_torch(what):
    try:
        import numpy  # noqa: F401
        import torch  # noqa: F401
    except ImportError as missing:
        print(f"python3-torch not installed: skipping {what} ({sys.executable}: {missing})")
        sys.exit(SKIP)


def run(command, **kwargs):
    """Run a step, echoing its command line; a failing step fails the entry with its status."""
    print("+ " + " ".join(command), flush=True)
    done = subprocess.run(command, **kwargs)
    if done.returncode != 0:
        print(f"peer_check.py: status {done.returncode} from: {' '.join(command)}", flush=True)
        # torch was found above, so a step's 77 is a failure here, not a reason to skip.
        sys.exit(1 if done.returncode == SKIP else done.returncode)


def report_against_committed(fresh_path):
    with open(fresh_path) as f:
        fresh = json.load(f)
    with open(FIXTURE) as f:
        committed = json.load(f)
    for prefix in ("f4", "f8"):
        worst, where = 0.0, "none"
        for key, value in fresh.items():
            if not key.startswith(f"{prefix}_peer_") or key not in committed:
                continue
            values = value if isinstance(value, list) else [value]
            others = committed[key] if isinstance(value, list) else [committed[key]]
            for a, b in zip(values, others):
                if abs(a - b) > worst:
                    worst, where = abs(a - b), key
        print(f"fresh peer vs committed fixture, {prefix}: largest difference {worst:.3g} ({where})")


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("selftest", "epoch"):
        sys.exit(__doc__)
    if sys.argv[1] == "selftest":
        require_torch("the self-test of the PyTorch peer")
        run([sys.executable, PEER, "--selftest"])
        return
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    require_torch("the CiteULike epoch against the PyTorch peer")
    test_recipe, work = sys.argv[2], os.path.abspath(sys.argv[3])
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, DIRECTSPEC_PEER_DIR=work)
    run([test_recipe, "[.generate]"], env=env)
    fresh = os.path.join(work, "peer.json")
    with open(fresh, "w") as out:
        run([sys.executable, ONE_EPOCH, work], stdout=out)
    report_against_committed(fresh)
    run([test_recipe, "[recipe]"], env=dict(env, DIRECTSPEC_PEER_FIXTURE=fresh))


if __name__ == "__main__":
    main()
