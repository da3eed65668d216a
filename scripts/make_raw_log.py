#!/usr/bin/env python3
"""Writes a realistic raw interaction log derived from datasets/ml-100k, for trying and testing
data preparation (directspec-train --input; docs/data.md "Preparing your own data").

The 100,000 (user, item) pairs of ml-100k (train.csv + test.csv) get string ids, a movie title
with a comma (a quoted CSV field), a synthetic 1-5 star rating and a synthetic Unix timestamp:
each user rates in sessions, several rows of a session share one second (ties in time), and
about 1 % of the pairs are rated a second time later (duplicates). Rows are shuffled, so file
order is not time order. Everything is a deterministic function of --seed (SplitMix64, no
library random generator), so the log and every count derived from it are reproducible.

    python3 scripts/make_raw_log.py datasets/ml-100k out/ratings.csv [--seed 1] [--gzip]

Columns: user_id,item_id,title,rating,timestamp (a header line first).
"""
import argparse
import csv
import gzip
import io
import os
import sys

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def unit(self):  # uniform in [0, 1) with 53 bits
        return (self.next() >> 11) / float(1 << 53)

    def below(self, n):  # uniform integer in [0, n) (the tiny modulo bias is irrelevant here)
        return self.next() % n


def read_pairs(folder):
    pairs = []
    for name in ("train.csv", "test.csv"):
        with open(os.path.join(folder, name), newline="") as f:
            rows = csv.reader(f)
            next(rows)  # header
            pairs.extend((int(u), int(i)) for u, i in rows)
    return pairs


def make_log(pairs, seed):
    rng = SplitMix64(seed)
    users = sorted({u for u, _ in pairs})
    items = sorted({i for _, i in pairs})
    user_bias = {u: (rng.unit() - 0.5) * 1.2 for u in users}
    item_bias = {i: (rng.unit() - 0.5) * 1.6 for i in items}
    by_user = {}
    for u, i in pairs:
        by_user.setdefault(u, []).append(i)
    rows = []
    for u in users:
        # Sessions from a start between 1997-09-20 and 1998-03-01, gaps of minutes to weeks.
        t = 874713600 + rng.below(13_000_000)
        for k, i in enumerate(by_user[u]):
            if k > 0 and rng.unit() >= 0.3:  # 30 %: same second as the previous row (a tie)
                t += 1 + rng.below(600) if rng.unit() < 0.9 else 86_400 + rng.below(2_000_000)
            noise = (rng.unit() + rng.unit() + rng.unit() - 1.5) * 1.4
            stars = min(5, max(1, round(3.6 + user_bias[u] + item_bias[i] + noise)))
            rows.append((u, i, stars, t))
            if rng.unit() < 0.01:  # rated again later, maybe differently
                again = min(5, max(1, stars + rng.below(3) - 1))
                rows.append((u, i, again, t + 3_600 + rng.below(5_000_000)))
    # Fisher-Yates with the same generator: file order is not time order.
    for k in range(len(rows) - 1, 0, -1):
        j = rng.below(k + 1)
        rows[k], rows[j] = rows[j], rows[k]
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ml100k", help="the datasets/ml-100k folder (train.csv, test.csv)")
    parser.add_argument("out", help="the log to write (.gz is added with --gzip)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gzip", action="store_true", help="also write OUT.gz (same content)")
    args = parser.parse_args()
    rows = make_log(read_pairs(args.ml100k), args.seed)
    text = io.StringIO()
    text.write("user_id,item_id,title,rating,timestamp\n")
    for u, i, stars, t in rows:
        text.write(f'user{u:04d},tt{1000000 + 37 * i:07d},"Movie {i}, The",{stars},{t}\n')
    data = text.getvalue().encode()
    with open(args.out, "wb") as f:
        f.write(data)
    if args.gzip:
        with open(args.out + ".gz", "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
                f.write(data)
    print(f"wrote {len(rows)} rows to {args.out}" + (" and .gz" if args.gzip else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
