#!/usr/bin/env python3
"""Prints the docs/tuning.md table from directspec-tune --json logs (one row per log)."""
import json
import sys


def row(path):
    lines = [json.loads(line) for line in open(path, encoding="utf-8")]
    head = lines[0]
    trials = [x for x in lines if "trial" in x]
    best = next(x for x in lines if "best_trial" in x)
    refit = next((x for x in lines if x.get("refit")), {})
    metric = head["metric"]
    completed = sum(t["status"] == "completed" for t in trials)
    epochs = sum(t["epochs_trained"] for t in trials)
    params = " ".join(f"{k}={v}" for k, v in best["params"].items())
    test = lambda m: f"{refit['test_' + m]:.4f}" if refit else "-"
    return (f"| {head['data']} | {head['space']} | {len(trials)} ({completed} full, {epochs} epochs) "
            f"| {params}, {best['best_epoch']} epochs | {best['valid_' + metric]:.4f} "
            f"| {test('ndcg@20')} | {test('recall@20')} | {best['search_seconds']:.0f} s |")


print("| data | space | trials | best setting | valid NDCG@20 | TEST NDCG@20 | TEST Recall@20 | search |")
print("|---|---|---|---|---:|---:|---:|---:|")
for p in sys.argv[1:]:
    print(row(p))
