#!/usr/bin/env python3
"""Carve a validation split out of a train.csv (header `user,item`), standard library only.

For every user, 20% of the distinct train items (rounded down, at least one item always kept in
train) are moved to valid.csv; the rest stay in train.csv. Deterministic for a given --seed.
The original test.csv is never read, so tuning on valid.csv never sees test data.

usage: make_valid_split.py SRC_TRAIN_CSV OUT_DIR [--fraction 0.2] [--seed 2024]
writes OUT_DIR/train.csv and OUT_DIR/valid.csv; tune with
`directspec-train --train OUT_DIR/train.csv --test OUT_DIR/valid.csv ...`.
"""
import argparse
import os
import random
from collections import OrderedDict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--fraction", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=2024)
    a = ap.parse_args()

    items = OrderedDict()  # user -> distinct items in file order
    with open(a.src) as f:
        header = f.readline().strip()
        if header != "user,item":
            raise SystemExit(f"{a.src}:1: expected header 'user,item', got {header!r}")
        for lineno, line in enumerate(f, start=2):
            parts = line.strip().split(",")
            if len(parts) != 2:
                raise SystemExit(f"{a.src}:{lineno}: expected 'user,item', got {line.strip()!r}")
            u, i = int(parts[0]), int(parts[1])
            lst = items.setdefault(u, [])
            if i not in lst:
                lst.append(i)

    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    n_train = n_valid = 0
    with open(os.path.join(a.out, "train.csv"), "w") as ft, \
            open(os.path.join(a.out, "valid.csv"), "w") as fv:
        ft.write("user,item\n")
        fv.write("user,item\n")
        for u, lst in items.items():
            k = min(int(len(lst) * a.fraction), len(lst) - 1)
            held = set(rng.sample(range(len(lst)), k)) if k > 0 else set()
            for j, i in enumerate(lst):
                if j in held:
                    fv.write(f"{u},{i}\n")
                    n_valid += 1
                else:
                    ft.write(f"{u},{i}\n")
                    n_train += 1
    print(f"{len(items)} users: {n_train} train rows, {n_valid} valid rows -> {a.out}")


if __name__ == "__main__":
    main()
