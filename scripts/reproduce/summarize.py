#!/usr/bin/env python3
"""Markdown tables from directspec-train JSON logs (standard library only).

  summarize.py final [--paper] LABEL=RUN.jsonl ...   one row per run: the final line's metrics
  summarize.py curve [--paper] [--epochs 30,60] RUN.jsonl   one row per logged evaluation

--paper reports the paper-compatible keys (paper_recall@K, paper_ndcg@K) instead of the standard
ones. Times are seconds: train = training only, total = loading + training + every evaluation.
"""
import argparse
import json
import sys


def load(path):
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    sys.exit(f"{path}:{n}: not JSON ({e})")
    if not rows:
        sys.exit(f"{path}: empty log")
    return rows


def keys(paper):
    p = "paper_" if paper else ""
    return [f"{p}recall@10", f"{p}recall@20", f"{p}ndcg@10", f"{p}ndcg@20"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["final", "curve"])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--paper", action="store_true")
    ap.add_argument("--epochs", default="")
    a = ap.parse_args()
    ks = keys(a.paper)
    head = ["Recall@10", "Recall@20", "NDCG@10", "NDCG@20", "erank"]
    if a.mode == "final":
        print("| run | " + " | ".join(head) + " | epochs | train s | total s |")
        print("|---|" + "---:|" * (len(head) + 3))
        for r in a.runs:
            label, path = r.rsplit("=", 1)
            f = [d for d in load(path) if d.get("final")]
            if not f:
                sys.exit(f"{path}: no final line (run not finished?)")
            d = f[-1]
            vals = [f"{d[k]:.4f}" for k in ks] + [f"{d['erank']:.2f}"]
            print(f"| {label} | " + " | ".join(vals) +
                  f" | {d['epoch']} | {d['train_seconds']:.1f} | {d['total_seconds']:.1f} |")
    else:
        want = {int(e) for e in a.epochs.split(",") if e}
        print("| epoch | " + " | ".join(head) + " | train s |")
        print("|---:|" + "---:|" * (len(head) + 1))
        for path in a.runs:
            for d in load(path):
                if d.get("final") or (want and d["epoch"] not in want):
                    continue
                vals = [f"{d[k]:.4f}" for k in ks] + [f"{d['erank']:.2f}"]
                print(f"| {d['epoch']} | " + " | ".join(vals) + f" | {d['train_seconds']:.1f} |")


if __name__ == "__main__":
    main()
