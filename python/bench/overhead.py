"""Seconds per epoch from Python against directspec-train, same settings and data.

Runs the CLI (--json, --quiet, --eval-every 0: no evaluation inside training) and then
directspec.MF / LightGCN.fit() with the same flags, each --repeats times, and prints per epoch:
the CLI's train time, the Python fit's train time (the same measure: the trainer's clock,
callbacks excluded) and the Python fit()'s wall time (callbacks, progress checks and trainer
construction included). The overhead of the module is the difference.

    PYTHONPATH=build/python python3 python/bench/overhead.py \\
        --cli build/examples/directspec-train \\
        --data datasets/citeulike --preset citeulike-mf --epochs 3 --threads 1 --repeats 3
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import directspec


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", required=True, help="the directspec-train binary")
    parser.add_argument("--data", required=True, help="a dataset folder")
    parser.add_argument("--preset", default="citeulike-mf")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    flags = ["--preset", args.preset, "--epochs", str(args.epochs), "--threads",
             str(args.threads), "--eval-every", "0"]
    cli, py_train, py_wall = [], [], []
    data = directspec.load_dataset(args.data)
    model_class = directspec.LightGCN if "lightgcn" in args.preset else directspec.MF
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "run.json")
            subprocess.run([args.cli, "--data", args.data, "--json", log, "--quiet"] + flags,
                           check=True)
            with open(log) as f:
                final = [json.loads(line) for line in f][-1]
        cli.append(final["train_seconds"] / args.epochs)
        model = model_class(preset=args.preset, epochs=args.epochs, threads=args.threads,
                            eval_every=0)
        start = time.perf_counter()
        model.fit(data, progress=False)
        py_wall.append((time.perf_counter() - start) / args.epochs)
        py_train.append(model.fit_result_["train_seconds"] / args.epochs)

    def line(name, values):
        spread = f" (min {min(values):.3f}, max {max(values):.3f})" if len(values) > 1 else ""
        print(f"{name:<28} {statistics.median(values):.3f} s/epoch{spread}")

    print(f"{args.preset} on {args.data}, {args.epochs} epochs, {args.threads} thread(s), "
          f"median of {args.repeats}; load average {os.getloadavg()[0]:.2f}")
    line("directspec-train", cli)
    line("Python fit (train clock)", py_train)
    line("Python fit() wall time", py_wall)


if __name__ == "__main__":
    main()
