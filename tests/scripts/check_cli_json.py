"""End-to-end checks of the directspec-train CLI outputs (run by ctest, see tests/examples.cmake).

Usage:
  check_cli_json.py outputs CLI WORKDIR
      Synthetic run with every output flag (--json, --save-model, --export-npy, --spectrum-svg,
      --recommend-out, --eval-every, --metrics both); checks every file exists and is well formed
      and that every JSON line parses with the documented keys.
  check_cli_json.py preset CLI DATASET_DIR WORKDIR [EPOCHS]
      Smoke run of the citeulike-mf preset for EPOCHS (default 3) epochs with --eval-every 1
      --metrics both --json; checks every line, the required keys, the final line and that the
      epoch loss decreases from the first to the last epoch. A missing DATASET_DIR is a failure:
      the datasets ship in the repository.
Exit code 0 on success, 1 with a message naming the file and the problem otherwise.
"""
import csv
import json
import math
import os
import shutil
import struct
import subprocess
import sys

EPOCH_KEYS = ["epoch", "loss", "train_seconds", "erank", "eval_seconds",
              "recall@10", "recall@20", "ndcg@10", "ndcg@20",
              "paper_recall@10", "paper_recall@20", "paper_ndcg@10", "paper_ndcg@20"]
FINAL_KEYS = EPOCH_KEYS[:4] + EPOCH_KEYS[5:] + ["final", "settings", "total_seconds",
                                                "peak_memory_mb", "users", "items", "steps_per_epoch"]


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
    print(result.stdout[-3000:], end="")
    print(result.stderr[-3000:], end="", file=sys.stderr)
    require(result.returncode == 0, f"'{' '.join(command)}' exited with {result.returncode}")
    return result


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_json_lines(path):
    """Parses every line of a JSON-lines file; returns the list of objects."""
    require(os.path.isfile(path), f"{path}: not written")
    records = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            require(line.strip() != "", f"{path}:{number}: blank line")
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise CheckError(f"{path}:{number}: not valid JSON ({e}): {line[:200]!r}")
            require(isinstance(record, dict), f"{path}:{number}: not a JSON object")
            records.append(record)
    require(records, f"{path}: empty")
    return records


def check_log(path, epochs, dim, metrics_bounded=True):
    """Checks the per-epoch lines (epochs 1..epochs) and the final line; returns (lines, final)."""
    records = read_json_lines(path)
    *lines, final = records
    require(len(lines) == epochs,
            f"{path}: {len(lines)} evaluation lines for {epochs} epochs with --eval-every 1")
    for number, record in enumerate(lines, 1):
        where = f"{path}:{number}"
        for key in EPOCH_KEYS:
            require(key in record, f"{where}: missing key '{key}' (has {sorted(record)})")
            require(is_number(record[key]), f"{where}: '{key}' is {record[key]!r}, not a finite number")
        require("final" not in record, f"{where}: an evaluation line carries 'final'")
        require(record["epoch"] == number, f"{where}: epoch {record['epoch']}, expected {number}")
        require(0 < record["erank"] <= dim + 1e-9, f"{where}: erank {record['erank']} outside (0, {dim}]")
        require(record["loss"] > 0, f"{where}: loss {record['loss']} not positive")
        for key in ("recall@10", "recall@20", "ndcg@10", "ndcg@20"):
            require(0 <= record[key] <= 1, f"{where}: {key} = {record[key]} outside [0, 1]")
        require(record["recall@10"] <= record["recall@20"] + 1e-12,
                f"{where}: recall@10 {record['recall@10']} > recall@20 {record['recall@20']}")
    where = f"{path}:{len(records)} (final line)"
    for key in FINAL_KEYS:
        require(key in final, f"{where}: missing key '{key}' (has {sorted(final)})")
    require(final["final"] is True, f"{where}: 'final' is {final['final']!r}, expected true")
    require(isinstance(final["settings"], dict), f"{where}: 'settings' is not an object")
    for key in ("total_seconds", "peak_memory_mb", "train_seconds"):
        require(is_number(final[key]) and final[key] > 0, f"{where}: '{key}' = {final[key]!r}")
    require(final["epoch"] == epochs, f"{where}: epoch {final['epoch']}, expected {epochs}")
    require(final["total_seconds"] >= final["train_seconds"],
            f"{where}: total_seconds {final['total_seconds']} < train_seconds {final['train_seconds']}")
    # The last evaluation and the final report evaluate the same tables.
    for key in ("recall@20", "ndcg@20", "paper_recall@20", "erank"):
        require(abs(final[key] - lines[-1][key]) <= 1e-9 * max(1.0, abs(final[key])),
                f"{where}: {key} {final[key]} differs from the last epoch line's {lines[-1][key]}")
    return lines, final


def read_npy_header(path):
    """Returns (dtype descr, fortran_order, shape) from a .npy v1/v2/v3 header."""
    with open(path, "rb") as f:
        data = f.read()
    require(data[:6] == b"\x93NUMPY", f"{path}: missing the .npy magic")
    major = data[6]
    if major == 1:
        (length,) = struct.unpack("<H", data[8:10])
        start = 10
    else:
        (length,) = struct.unpack("<I", data[8:12])
        start = 12
    header = data[start:start + length].decode("latin1")
    import ast
    info = ast.literal_eval(header)
    payload = len(data) - start - length
    return info["descr"], info["fortran_order"], tuple(info["shape"]), payload


def check_outputs(cli, workdir):
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    dim, epochs, k = 16, 2, 5
    run_cli(cli, ["--epochs", str(epochs), "--dim", str(dim), "--lr", "10", "--lr-decay", "1",
                  "--eval-every", "1", "--metrics", "both", "--threads", "1",
                  "--json", "run.jsonl", "--save-model", "model.dsm", "--export-npy", "npy",
                  "--spectrum-svg", "spectrum.svg", "--recommend-out", "recs.csv", "--k", str(k)],
            workdir)
    path = lambda name: os.path.join(workdir, name)

    lines, final = check_log(path("run.jsonl"), epochs, dim)
    settings = final["settings"]
    require(settings.get("epochs") == epochs and settings.get("dim") == dim
            and settings.get("metrics") == "both" and settings.get("data") == "synthetic",
            f"{path('run.jsonl')}: settings do not echo the flags: {settings}")
    users, items = final["users"], final["items"]
    require(users > 0 and items > 0, f"final line: {users} users, {items} items")

    for name, rows in (("user.npy", users), ("item.npy", items)):
        descr, fortran, shape, payload = read_npy_header(path(os.path.join("npy", name)))
        require(descr == "<f4" and not fortran and shape == (rows, dim),
                f"npy/{name}: dtype {descr}, fortran {fortran}, shape {shape}; expected <f4 C ({rows}, {dim})")
        require(payload == rows * dim * 4, f"npy/{name}: {payload} data bytes for {rows} x {dim} float32")
    try:
        import numpy as np
        U = np.load(path("npy/user.npy"))
        I = np.load(path("npy/item.npy"))
        require(np.isfinite(U).all() and np.isfinite(I).all(), "npy: non-finite values")
        require(np.abs(U).sum() > 0 and np.abs(I).sum() > 0, "npy: all-zero tables")
    except ImportError:
        print("numpy not available: checked the .npy headers only")

    model_size = os.path.getsize(path("model.dsm"))
    require(model_size >= (users + items) * dim * 4,
            f"model.dsm: {model_size} bytes, less than the {users + items} x {dim} float tables")

    with open(path("spectrum.svg"), encoding="utf-8") as f:
        svg = f.read()
    require("<svg" in svg[:300] and svg.rstrip().endswith("</svg>"),
            "spectrum.svg: not a complete SVG document")
    require("<polyline" in svg or "<path" in svg or "<circle" in svg,
            "spectrum.svg: no plotted series")

    with open(path("recs.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    require(rows and rows[0] == ["user", "item", "rank", "score"],
            f"recs.csv: header {rows[:1]}, expected user,item,rank,score")
    body = rows[1:]
    require(len(body) == users * k, f"recs.csv: {len(body)} rows, expected {users} users x {k}")
    by_user = {}
    for number, (user, item, rank, score) in enumerate(body, 2):
        require(0 <= int(item) < items, f"recs.csv:{number}: item {item} outside [0, {items})")
        by_user.setdefault(int(user), []).append((int(rank), int(item), float(score)))
    require(len(by_user) == users, f"recs.csv: {len(by_user)} distinct users, expected {users}")
    for user, recs in by_user.items():
        require([r for r, _, _ in recs] == list(range(1, k + 1)), f"recs.csv: user {user} ranks {recs}")
        require(len({i for _, i, _ in recs}) == k, f"recs.csv: user {user} has a repeated item")
        scores = [s for _, _, s in recs]
        require(all(a >= b for a, b in zip(scores, scores[1:])),
                f"recs.csv: user {user} scores not descending: {scores}")
    print(f"outputs ok: {len(lines)} epoch lines + final, npy {users}x{dim} / {items}x{dim}, "
          f"{len(body)} recommendations, model {model_size} bytes")


def check_preset(cli, dataset, workdir, epochs):
    if not os.path.isfile(os.path.join(dataset, "train.csv")):
        print(f"{dataset}/train.csv not found: the datasets ship in the repository (datasets/)")
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    run_cli(cli, ["--preset", "citeulike-mf", "--data", dataset, "--epochs", str(epochs),
                  "--eval-every", "1", "--metrics", "both", "--json", "preset.jsonl",
                  "--threads", "1", "--quiet"], workdir)
    path = os.path.join(workdir, "preset.jsonl")
    lines, final = check_log(path, epochs, 64)
    require(final["settings"].get("preset") == "citeulike-mf",
            f"{path}: settings.preset is {final['settings'].get('preset')!r}")
    require(final["users"] == 5551 and final["items"] == 16980,
            f"{path}: {final['users']} x {final['items']}, CiteULike is 5551 x 16980")
    losses = [record["loss"] for record in lines]
    require(losses[-1] < losses[0],
            f"{path}: epoch loss did not decrease from epoch 1 to {epochs}: {losses}")
    print(f"preset ok: losses {losses}, final recall@20 {final['recall@20']:.4f}, "
          f"erank {final['erank']:.2f}, {final['total_seconds']:.1f} s, {final['peak_memory_mb']:.0f} MB")
    return 0


def main(argv):
    try:
        if len(argv) == 4 and argv[1] == "outputs":
            check_outputs(argv[2], argv[3])
            return 0
        if len(argv) in (5, 6) and argv[1] == "preset":
            return check_preset(argv[2], argv[3], argv[4], int(argv[5]) if len(argv) == 6 else 3)
    except CheckError as e:
        print(f"check_cli_json: FAILED: {e}", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
