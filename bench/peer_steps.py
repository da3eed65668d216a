#!/usr/bin/python3
"""Times N training steps of the PyTorch peer (bench/peer/torch_directspec.py) without a
whole epoch: a Gowalla LightGCN epoch is 3,164 steps, too long to repeat for a speed ratio.

  /usr/bin/python3 bench/peer_steps.py --steps 30 --warmup 3 -- --data DIR --model lightgcn ...

Everything after `--` goes to the peer's own argument parser (same flags as its CLI). Prints one
JSON line: median and mean seconds per step over the timed steps. Run it with
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset, as bench/compare_peer.sh does (docs/performance.md).
Needs Debian's python3-torch; without it, it says so and exits with status 77 (skipped).
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer"))


def main():
    argv = sys.argv[1:]
    peer_argv = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args(own)
    try:
        import numpy as np
        import torch
    except ImportError as missing:
        print(f"peer_steps.py: python3-torch not installed: skipping the peer timing "
              f"({sys.executable}: {missing})", file=sys.stderr)
        sys.exit(77)
    import torch_directspec as peer
    args = peer.parse_args(peer_argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    data = peer.Data.load(args.data)
    net = peer.Model(data, args)
    users, items = data.sample(rng, (a.warmup + a.steps) * args.batch)
    times = []
    for s in range(a.warmup + a.steps):
        sl = slice(s * args.batch, (s + 1) * args.batch)
        t = time.perf_counter()
        net.step(users[sl], items[sl], args.lr)
        if s >= a.warmup:
            times.append(time.perf_counter() - t)
    print(json.dumps({"peer_steps": a.steps, "median_step_s": statistics.median(times),
                      "mean_step_s": statistics.mean(times), "model": args.model,
                      "threads": args.threads}))


if __name__ == "__main__":
    main()
