#!/usr/bin/env python3
"""NDCG@20 per checkpoint epoch for several runs of one configuration, with mean and spread.

  seeds.py [--epochs 30,60,150,300] [--key paper_ndcg@20] NAME=RUN.jsonl ... [NAME=PEER.log ...]

A .jsonl file is a directspec-train log; any other file is a torch_directspec.py console log
(its "eval ... ndcg@20 X ... epoch E" lines, standard metrics). Standard library only.
"""
import argparse
import json
import re
import statistics
import sys


def checkpoints(path, key):
    out = {}
    with open(path) as f:
        if path.endswith(".jsonl"):
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    if key in row and "epoch" in row and not row.get("final"):
                        out[int(row["epoch"])] = float(row[key])
        else:
            plain = key.replace("paper_", "")
            for line in f:
                if line.startswith("eval "):
                    fields = line.split()
                    pairs = dict(zip(fields[1::2], fields[2::2]))
                    out[int(pairs["epoch"])] = float(pairs[plain])
    if not out:
        sys.exit(f"{path}: no {key} values")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--epochs", default="30,60,150,300")
    ap.add_argument("--key", default="paper_ndcg@20")
    a = ap.parse_args()
    epochs = [int(e) for e in a.epochs.split(",")]
    runs = []
    for spec in a.runs:
        name, _, path = spec.partition("=")
        runs.append((name, checkpoints(path, a.key)))
    print("| run | " + " | ".join(f"epoch {e}" for e in epochs) + " |")
    print("|---|" + "---:|" * len(epochs))
    for name, values in runs:
        cells = [f"{values[e]:.4f}" if e in values else "–" for e in epochs]
        print(f"| {name} | " + " | ".join(cells) + " |")
    groups = {}
    for name, values in runs:
        groups.setdefault(name.split(",")[0], []).append(values)
    for group, members in groups.items():
        if len(members) < 2:
            continue
        cells = []
        for e in epochs:
            xs = [m[e] for m in members if e in m]
            cells.append(f"{statistics.mean(xs):.4f} ± {statistics.stdev(xs):.4f}" if len(xs) > 1
                         else "–")
        print(f"| {group}, mean ± sd of {len(members)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
