#!/usr/bin/python3
"""The PyTorch peer trained from the library's random streams: a whole-run replay.

  build/tests/test_recipe "[.replay]"          # writes /tmp/directspec_peer/replay_*
  /usr/bin/python3 scripts/reproduce/peer_replay.py /tmp/directspec_peer [--eval-every 10]

The library's initial tables and its batch of every step of every epoch (users, positives) replace
the peer's own initialisation and sampling, so the peer and `directspec-train --preset
citeulike-mf --seed <the same seed>` differ only in arithmetic. The output is the peer's console
format ("epoch ..." and "eval ..." lines), which scripts/reproduce/seeds.py reads. The peer is the
repository's bench/peer/torch_directspec.py, found relative to this file. It needs Debian's
python3-torch; without it the script says so and exits with status 77 (skipped). One thread.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import numpy as np
    import torch
except ImportError as missing:
    print(f"peer_replay.py: python3-torch not installed: skipping the peer replay "
          f"({sys.executable}: {missing})", file=sys.stderr)
    sys.exit(77)
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench", "peer"))
import torch_directspec as peer  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--eval-every", type=int, default=10)
    args = ap.parse_args()
    with open(os.path.join(args.folder, "replay_meta.json")) as f:
        meta = json.load(f)
    torch.set_num_threads(1)
    batches = np.load(os.path.join(args.folder, "replay_batches.npy"), mmap_mode="r")
    epochs, steps = meta["epochs"], meta["steps_per_epoch"]
    if batches.shape[0] != epochs * steps:
        sys.exit(f"{batches.shape[0]} batches, expected {epochs} epochs x {steps} steps")
    # The peer's defaults are the CiteULike MF + DirectSpec+ settings; lr and decay come from the
    # library's recipe so the two schedules cannot drift apart.
    settings = peer.parse_args(["--data", meta["dataset"], "--model", "mf", "--threads", "1",
                                "--lr", str(meta["lr"]), "--lr-decay", str(meta["lr_decay"]),
                                "--batch", str(batches.shape[2])])
    data = peer.Data.load(meta["dataset"])
    if data.n_train_rows // settings.batch != steps:
        sys.exit(f"the peer's epoch has {data.n_train_rows // settings.batch} steps, the replay {steps}")
    net = peer.Model(data, settings)
    for name in ("user", "item"):
        table = np.load(os.path.join(args.folder, f"replay_{name}_table.npy"))
        mine = net.EU if name == "user" else net.EI
        if table.shape != tuple(mine.shape):
            sys.exit(f"replay_{name}_table.npy is {table.shape}, the peer's {tuple(mine.shape)}")
        setattr(net, "EU" if name == "user" else "EI", torch.from_numpy(table.copy()))
    lr = settings.lr
    for ep in range(1, epochs + 1):
        t = time.perf_counter()
        total = 0.0
        for b in batches[(ep - 1) * steps: ep * steps]:
            total += net.step(b[0].astype(np.int64), b[1].astype(np.int64), lr)
        print(f"epoch {ep} loss {total / steps:.6f} time {time.perf_counter() - t:.3f}s lr {lr:.4f}",
              flush=True)
        lr *= settings.lr_decay
        if ep == epochs or ep % args.eval_every == 0:
            with torch.no_grad():
                metrics = peer.evaluate(*net.embeddings(), data)
            metrics["epoch"] = ep
            print("eval " + " ".join(f"{k} {v:.5f}" if isinstance(v, float) else f"{k} {v}"
                                     for k, v in metrics.items()), flush=True)


if __name__ == "__main__":
    main()
