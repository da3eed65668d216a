#!/usr/bin/env python3
"""Checks `directspec-train --input ... --write-split DIR` on a realistic raw log (ctest
cli:prepare_ml100k, tests/examples_prepare.cmake).

1. scripts/make_raw_log.py writes a log from datasets/ml-100k: string ids, a quoted title with a
   comma, 1-5 star ratings, Unix times with ties, ~1 % repeated pairs, shuffled rows (and .gz).
2. directspec-train --input log.csv --columns ... --min-rating 4 --kcore 5
   --split temporal:0.2 --valid-fraction 0.1 --write-split DIR
3. The same pipeline is recomputed here, independently, with the documented rules (keep
   rating >= 4; merge each repeated pair into its earliest row by (time, line); 5-core to the
   fixpoint; per user the latest round(0.2 n) rows by (time, line) to test, at least one kept;
   then the latest round(0.1 n) of the remaining rows to validation), and compared with:
   every filter line of report.txt (rows, users, items removed and left), and the exact rows of
   train.csv, valid.csv and test.csv.
4. Every test time of a user is >= each of her train and validation times; validation >= train.
5. directspec-train --data DIR prints the same load report as report.txt (the dataset
   reproduces), and trains one epoch.
6. The .gz log gives byte-identical files (or, in a build without zlib, the error says so).

usage: check_cli_prepare.py CLI DATASETS_DIR GENERATOR WORKDIR
"""
import csv
import filecmp
import os
import re
import shutil
import subprocess
import sys


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def run(args, expect=0):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != expect:
        fail(f"{' '.join(args)} exited {p.returncode}, expected {expect}:\n{p.stdout}{p.stderr}")
    return p.stdout + p.stderr


def read_log(path):
    """Rows (line, user, item, rating, time) of the raw log, line numbers 1-based."""
    rows = []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        col = {name: k for k, name in enumerate(header)}
        for line, fields in enumerate(reader, start=2):
            rows.append((line, fields[col["user_id"]], fields[col["item_id"]],
                         float(fields[col["rating"]]), float(fields[col["timestamp"]])))
    return rows


def counts(rows):
    return len(rows), len({r[1] for r in rows}), len({r[2] for r in rows})


def expected_pipeline(rows):
    filters = []

    def record(name, before, after):
        b, a = counts(before), counts(after)
        filters.append((name, b[0] - a[0], b[1] - a[1], b[2] - a[2], a[0], a[1], a[2]))

    rated = [r for r in rows if r[3] >= 4]
    record("min-rating 4", rows, rated)
    first = {}
    for r in rated:
        key = (r[1], r[2])
        if key not in first or (r[4], r[0]) < (first[key][4], first[key][0]):
            first[key] = r
    merged = [r for r in rated if first[(r[1], r[2])] is r]
    record("duplicates merge", rated, merged)
    core = merged
    while True:
        du, di = {}, {}
        for r in core:
            du[r[1]] = du.get(r[1], 0) + 1
            di[r[2]] = di.get(r[2], 0) + 1
        kept = [r for r in core if du[r[1]] >= 5 and di[r[2]] >= 5]
        if len(kept) == len(core):
            break
        core = kept
    record("k-core 5", merged, core)

    def latest(part_rows, fraction):
        by_user = {}
        for r in part_rows:
            by_user.setdefault(r[1], []).append(r)
        held = set()
        for user_rows in by_user.values():
            user_rows.sort(key=lambda r: (r[4], r[0]))
            n = len(user_rows)
            h = min(int(fraction * n + 0.5), n - 1)
            held.update(r[0] for r in user_rows[n - h:])
        return held

    test_lines = latest(core, 0.2)
    rest = [r for r in core if r[0] not in test_lines]
    valid_lines = latest(rest, 0.1)
    part = {}
    for r in core:
        part[r[0]] = "test" if r[0] in test_lines else "valid" if r[0] in valid_lines else "train"
    return filters, core, part


def written(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        if next(reader) != ["user", "item", "rating", "time"]:
            fail(f"{path}: unexpected header")
        return [(u, i, float(r), float(t)) for u, i, r, t in reader]


def load_report_lines(text):
    """The load report's count lines, without the file paths in brackets."""
    out = []
    for line in text.splitlines():
        if re.match(r"^\S.* users x .* items, ids", line):
            out.append(re.sub(r"^.*?: ", "", line))
        elif re.match(r"^  (train|test|valid)(:| vs train:)", line):
            out.append(re.sub(r"  \[.*\]$", "", line))
    return out


def main():
    if len(sys.argv) != 5:
        fail(__doc__)
    cli, datasets, generator, work = sys.argv[1:]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    log = os.path.join(work, "ratings.csv")
    run([sys.executable, generator, os.path.join(datasets, "ml-100k"), log, "--gzip"])
    flags = ["--columns", "user=user_id,item=item_id,rating=rating,time=timestamp",
             "--min-rating", "4", "--kcore", "5", "--split", "temporal:0.2",
             "--valid-fraction", "0.1"]
    out_dir = os.path.join(work, "split")
    printed = run([cli, "--input", log] + flags + ["--write-split", out_dir])
    report = open(os.path.join(out_dir, "report.txt")).read()
    if not report.startswith("directspec split directory"):
        fail("report.txt lacks its first line")

    rows = read_log(log)
    filters, core, part = expected_pipeline(rows)
    print(f"log: {counts(rows)} rows/users/items; after filters: {counts(core)}")
    for name, rr, ur, ir, rl, ul, il in filters:
        line = (f"filter {name}: removed {rr:,} rows, {ur:,} users, {ir:,} items")
        left = f"left {rl:,} rows, {ul:,} users, {il:,} items"
        found = [l for l in report.splitlines() if l.startswith(f"filter {name}:")]
        if len(found) != 1 or not found[0].startswith(line) or not found[0].endswith(left):
            fail(f"report.txt has {found}, expected '{line} ... {left}'")
        print("ok: " + found[0])
    if "filter k-core 5: removed" not in printed:
        fail("the run did not print the filters")

    # The exact rows of each part, in file order.
    by_line = {r[0]: r for r in core}
    for name in ("train", "valid", "test"):
        want = [(r[1], r[2], r[3], r[4]) for line, r in sorted(by_line.items())
                if part[line] == name]
        got = written(os.path.join(out_dir, name + ".csv"))
        if got != want:
            fail(f"{name}.csv: {len(got)} rows, expected {len(want)}; first difference at row "
                 f"{next((k for k, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))}")
        print(f"ok: {name}.csv holds the expected {len(got):,} rows")

    # Temporal order per user.
    times = {}
    for name in ("train", "valid", "test"):
        for u, _, _, t in written(os.path.join(out_dir, name + ".csv")):
            times.setdefault(u, {"train": [], "valid": [], "test": []})[name].append(t)
    for u, t in times.items():
        train_max = max(t["train"])
        if t["test"] and min(t["test"]) < max(t["train"] + t["valid"]):
            fail(f"user {u}: a test time precedes a train or validation time")
        if t["valid"] and min(t["valid"]) < train_max:
            fail(f"user {u}: a validation time precedes a train time")
    print(f"ok: for all {len(times)} users, test times >= train and validation times >= train")

    # --data DIR reproduces the dataset: the same load report, and it trains.
    trained = run([cli, "--data", out_dir, "--epochs", "1", "--dim", "16", "--threads", "1"])
    want, got = load_report_lines(report), load_report_lines(trained)
    if len(want) < 6 or want != got:
        fail("--data DIR reports\n  " + "\n  ".join(got) + "\nbut report.txt says\n  " +
             "\n  ".join(want))
    if "test evaluation masks train and valid items" not in trained:
        fail("the load report of --data DIR does not say that test masks validation items")
    print("ok: --data DIR loads the same dataset (" + want[0] + ") and trains")

    # The gzipped log: the same split, or a clear message in a build without zlib.
    gz_dir = os.path.join(work, "split-gz")
    p = subprocess.run([cli, "--input", log + ".gz"] + flags + ["--write-split", gz_dir, "--quiet"],
                       capture_output=True, text=True)
    if p.returncode == 0:
        for name in ("train.csv", "valid.csv", "test.csv"):
            if not filecmp.cmp(os.path.join(out_dir, name), os.path.join(gz_dir, name),
                               shallow=False):
                fail(f"{name} differs between the plain and the gzipped log")
        print("ok: the .gz log gives identical files")
    elif "this build has no zlib" in p.stderr and "ratings.csv.gz" in p.stderr:
        print("ok: no zlib in this build, and the message says so")
    else:
        fail(f"the .gz run exited {p.returncode}: {p.stderr}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
