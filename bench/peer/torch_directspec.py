#!/usr/bin/python3
"""The PyTorch peer of directspec: DirectSpec+ training of MF and LightGCN with autograd, on CPU.

It sits in the directspec repository at bench/peer/ and shares no code with the C++ library, so the
two can be checked against each other: tests/fixtures/peer_one_epoch.py and tests/peer.cmake
(same tables and batches, same losses), bench/compare_peer.sh and bench/peer_steps.py (speed),
scripts/reproduce/09_peer_citeulike_mf.sh and scripts/reproduce/peer_replay.py (whole runs).
It needs torch and numpy only: Debian's python3-torch, which brings python3-numpy.

Usage
  /usr/bin/python3 bench/peer/torch_directspec.py --data DIR [--model mf|lightgcn] [--dim 64]
      [--batch 256] [--lr 180] [--lr-decay 0.9995] [--alpha 1.0] [--tau 3.0 | --tau0 T0 --tau1 T1]
      [--shrink 0.03] [--output-l2 0] [--epochs 300] [--eval-every 10] [--layers 3] [--seed 0]
      [--threads 1] [--spmm bag|sparse]
  /usr/bin/python3 bench/peer/torch_directspec.py --selftest     # correctness checks, seconds
The defaults are the CiteULike MF + DirectSpec+ reference settings, e.g.
  /usr/bin/python3 bench/peer/torch_directspec.py --data datasets/citeulike --epochs 2

Data: DIR/train.csv and DIR/test.csv, header naming `user` and `item` columns, 0-based ids. The
number of users (items) is one more than the largest id in the two files. R keeps one entry per
distinct train pair, but an epoch has floor(train rows / batch) steps counting duplicate rows.

A training step on a batch of B (user, positive item) pairs:
  batch     users drawn uniformly with replacement among those with a train item, then one of
            the user's train items uniformly; a whole epoch's batches are drawn up front.
  rows      mf: X_U = E_U[u], X_I = E_I[i], each table initialised U(-b, b), b = sqrt(6/(rows+d)).
            lightgcn: one (n+m) x d table E, H = sum_{k=0..layers} A^k E with the normalised
            bipartite adjacency A = D^-1/2 [[0, R], [R^T, 0]] D^-1/2 (degree-0 nodes get 0),
            recomputed every step; X_U = H[u], X_I = H[n + i].
  filter    on each side separately: Xn = X with unit rows, P = row softmax of T * Xn Xn^T (B x B,
            the diagonal included), X~ = Xn - alpha P Xn. T is --tau, or with --tau0/--tau1
            (adaptive) tau0 where two batch users share a train item (two items share a train
            user) and tau1 elsewhere; the B x B pattern comes from the batch's CSR rows.
  shrink    shrink s > 0: o = s ||X~|| X~ row by row; s = 0: o = X~.
  loss      -mean_b log sigmoid(o_U . o_I) + (reg / B) sum_b (||o_U||^2 + ||o_I||^2).
  update    SGD, E <- E - lr dLoss/dE; lr is multiplied by --lr-decay after each epoch.
            mf: the gradient of the 2B gathered rows is added back with index_add_, so a row
            drawn twice gets both contributions. lightgcn: dLoss/dE = sum_k A^k G, G being the
            row gradients scattered into a zero table (A is symmetric).
--spmm picks how A @ X is computed: `bag` (default) runs the CSR row sums through
F.embedding_bag with per-sample weights, `sparse` uses torch.sparse.mm on a COO tensor. The
numbers are the same; `bag` is about 5x faster per LightGCN epoch with torch 1.13.

Evaluation (every --eval-every epochs and after the last one): scores U I^T of the raw tables
(lightgcn: of H; no normalisation, no filter), train items masked to -inf, top 20 per user. Over
the users with test items T_u: Recall@K = hits / |T_u|, NDCG@K with the ideal DCG of min(K, |T_u|)
hits, K in {10, 20}; erank = exp(entropy of the singular values of [U; I] divided by their sum).

Output, parsed by the scripts above: one `data ...` line, one `epoch E loss L time Ts lr X` line
per epoch (seconds of training including batch drawing), an `eval key value ...` line per
evaluation, and a final `SUMMARY {json}` line (settings, per-epoch and median seconds, metrics,
peak RSS). With a seed, torch.manual_seed(seed) draws the initial tables and
numpy.random.default_rng(seed) the batches, in a fixed order.
"""
import argparse
import ctypes
import json
import math
import os
import resource
import sys
import time


def _pin_thread_pools():
    """Export --threads (default 1; 0 leaves the defaults) to the OpenMP and BLAS pools.

    They read these variables once, when numpy and torch load, so this runs before those imports,
    on the command line of whatever script runs (an importer's command line when imported)."""
    early = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    early.add_argument("--threads", default="1")
    threads = early.parse_known_args()[0].threads
    if threads != "0":
        for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[variable] = threads


_pin_thread_pools()

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as missing:
    if __name__ == "__main__":
        sys.exit(f"torch_directspec.py: python3-torch not installed "
                 f"({sys.executable}: {missing}); apt-get install python3-torch")
    raise


# ------------------------------------------------------------------------------------ data
def read_pairs(path):
    """The (user, item) columns of a CSV with a header row, as an (N, 2) int64 array."""
    with open(path) as f:
        names = [name.strip() for name in f.readline().split(",")]
    if "user" not in names or "item" not in names:
        sys.exit(f"{path}: the header {names} lacks a `user` or an `item` column")
    columns = (names.index("user"), names.index("item"))
    return np.loadtxt(path, dtype=np.int64, delimiter=",", skiprows=1, usecols=columns, ndmin=2)


def to_csr(rows, cols, n_rows):
    """CSR arrays (indptr, indices) of the 0/1 matrix with ones at (rows, cols); the columns of a
    row ascend, which fixes the summation order of every row product below."""
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n_rows + 1, np.int64)
    indptr[1:] = np.cumsum(np.bincount(rows, minlength=n_rows))
    return indptr, cols[order].astype(np.int64)


def csr_entries(indptr, indices, rows):
    """The entries of CSR rows `rows`, row after row: (position in `rows`, column index)."""
    begin = indptr[rows]
    count = indptr[rows + 1] - begin
    owner = np.repeat(np.arange(len(rows)), count)
    # Entry j of the output is entry (j - first output index of its row) of its CSR row.
    shift = np.repeat(begin - (np.cumsum(count) - count), count)
    return owner, indices[np.arange(count.sum()) + shift]


class Data:
    """Train and test interactions, kept as CSR arrays only (never a dense n x m matrix)."""

    def __init__(self, train, test, n=None, m=None):
        self.n = int(n if n is not None else max(train[:, 0].max(), test[:, 0].max()) + 1)
        self.m = int(m if m is not None else max(train[:, 1].max(), test[:, 1].max()) + 1)
        self.n_train_rows = len(train)  # duplicates included: they count toward steps per epoch
        train_keys = np.unique(train[:, 0] * self.m + train[:, 1])  # sorted, duplicates merged
        test_keys = np.unique(test[:, 0] * self.m + test[:, 1])
        self.tu, self.ti = train_keys // self.m, train_keys % self.m
        self.ui_ptr, self.ui_idx = to_csr(self.tu, self.ti, self.n)
        self.iu_ptr, self.iu_idx = to_csr(self.ti, self.tu, self.m)
        self.te_ptr, self.te_idx = to_csr(test_keys // self.m, test_keys % self.m, self.n)
        self.deg_u = np.diff(self.ui_ptr)
        self.active = np.flatnonzero(self.deg_u > 0)

    @staticmethod
    def load(folder):
        return Data(read_pairs(os.path.join(folder, "train.csv")),
                    read_pairs(os.path.join(folder, "test.csv")))

    def sample(self, rng, count):
        """`count` (user, positive) pairs. Two generator calls, integers then random: the seed's
        stream of batches depends on this order."""
        users = self.active[rng.integers(0, len(self.active), count)]
        pick = (rng.random(count) * self.deg_u[users]).astype(np.int64)
        return users, self.ui_idx[self.ui_ptr[users] + pick]


def co_occurrence(indptr, indices, rows):
    """B x B bool tensor, true where batch rows a and b of a CSR 0/1 matrix R have a column in
    common: the pattern of R[rows] R[rows]^T without the product. The batch's entries are sorted
    by column, and each entry is paired with every entry of its column's run; the cost is the
    batch's non-zeros plus the sum of squared run lengths."""
    owner, column = csr_entries(indptr, indices, rows)
    order = np.argsort(column)
    owner, column = owner[order], column[order]
    opens_run = np.ones(len(column), bool)
    opens_run[1:] = column[1:] != column[:-1]
    # The runs, seen as a CSR matrix over the owners: run r holds owner[run_ptr[r]:run_ptr[r+1]].
    run_ptr = np.append(np.flatnonzero(opens_run), len(column))
    run_of_entry = np.cumsum(opens_run) - 1
    entry, partner = csr_entries(run_ptr, owner, run_of_entry)
    mask = np.zeros((len(rows), len(rows)), bool)
    mask[owner[entry], partner] = True
    return torch.from_numpy(mask)


class Graph:
    """LightGCN propagation over the normalised bipartite adjacency A of n + m nodes."""

    def __init__(self, data, layers, spmm, dtype=torch.float32):
        n_nodes = data.n + data.m
        src = np.concatenate([data.tu, data.ti + data.n])
        dst = np.concatenate([data.ti + data.n, data.tu])
        degree = np.bincount(src, minlength=n_nodes).astype(np.float64)
        scale = np.where(degree > 0, 1.0 / np.sqrt(np.maximum(degree, 1.0)), 0.0)
        indptr, dst = to_csr(src, dst, n_nodes)
        src = np.repeat(np.arange(n_nodes), np.diff(indptr))
        weight = torch.from_numpy(scale[src] * scale[dst]).to(dtype)  # in double, then rounded
        self.layers, self.spmm = layers, spmm
        self.coo = torch.sparse_coo_tensor(torch.from_numpy(np.stack([src, dst])), weight,
                                           (n_nodes, n_nodes)).coalesce()
        # embedding_bag view of the same CSR: bag v sums weight * x[dst] over node v's edges.
        self.bag_index, self.bag_offsets, self.bag_weight = (
            torch.from_numpy(dst), torch.from_numpy(indptr[:-1]), weight)

    def apply(self, x):
        """A @ x."""
        if self.spmm == "sparse":
            return torch.sparse.mm(self.coo, x)
        return F.embedding_bag(self.bag_index, x, self.bag_offsets, mode="sum",
                               per_sample_weights=self.bag_weight)

    def propagate(self, x):
        """sum_{k=0..layers} A^k x, by Horner's rule x + A(x + A(... x)): `layers` products."""
        y = x
        for _ in range(self.layers):
            y = self.apply(y).add_(x)
        return y


# ----------------------------------------------------------------------------------- model
def objective(x, temp, alpha, shrink, reg):
    """Loss of one batch. x: (2, B, d), the users' rows over the items' rows; temp: a number, or
    a (2, B, B) tensor of per-pair temperatures."""
    unit = F.normalize(x, dim=2)
    attention = torch.softmax(temp * torch.bmm(unit, unit.transpose(1, 2)), dim=2)
    filtered = unit - alpha * torch.bmm(attention, unit)
    out = filtered * (shrink * filtered.norm(dim=2, keepdim=True)) if shrink > 0 else filtered
    loss = -F.logsigmoid((out[0] * out[1]).sum(1)).mean()
    if reg > 0:
        loss = loss + reg / x.shape[1] * out.pow(2).sum()
    return loss


def glorot_table(rows, dim, dtype):
    bound = math.sqrt(6.0 / (rows + dim))
    return torch.empty(rows, dim, dtype=dtype).uniform_(-bound, bound)


class Model:
    """The trainable tables and one SGD step. mf: EU (n x d) and EI (m x d), drawn in that order;
    lightgcn: E ((n + m) x d) and its Graph."""

    def __init__(self, data, args, dtype=torch.float32):
        self.data, self.a = data, args
        if args.model == "mf":
            self.EU = glorot_table(data.n, args.dim, dtype)
            self.EI = glorot_table(data.m, args.dim, dtype)
        else:
            self.E = glorot_table(data.n + data.m, args.dim, dtype)
            self.graph = Graph(data, args.layers, args.spmm, dtype)
        self.adaptive = args.tau0 is not None

    def temperature(self, u, i):
        if not self.adaptive:
            return self.a.tau
        d = self.data
        shared = torch.stack([co_occurrence(d.ui_ptr, d.ui_idx, u),
                              co_occurrence(d.iu_ptr, d.iu_idx, i)])
        return torch.where(shared, self.a.tau0, self.a.tau1)

    def step(self, u, i, lr):
        """One SGD step on the pairs (u[b], i[b]) (int64 numpy arrays); returns the batch loss."""
        a, B = self.a, len(u)
        temp = self.temperature(u, i)
        users, items = torch.from_numpy(u), torch.from_numpy(i)
        if a.model == "mf":
            x = torch.stack([self.EU.index_select(0, users), self.EI.index_select(0, items)])
        else:
            rows = torch.cat([users, items + self.data.n])
            x = self.graph.propagate(self.E).index_select(0, rows).view(2, B, -1)
        # Autograd stops at the gathered rows: the table gradient is assembled by hand below.
        x.requires_grad_()
        loss = objective(x, temp, a.alpha, a.shrink, a.reg)
        (grad,) = torch.autograd.grad(loss, (x,))
        if a.model == "mf":
            self.EU.index_add_(0, users, grad[0], alpha=-lr)
            self.EI.index_add_(0, items, grad[1], alpha=-lr)
        else:
            scattered = torch.zeros_like(self.E).index_add_(0, rows, grad.reshape(2 * B, -1))
            self.E.add_(self.graph.propagate(scattered), alpha=-lr)
        return loss.item()

    def embeddings(self):
        """The (users, items) tables that evaluation scores."""
        if self.a.model == "mf":
            return self.EU, self.EI
        h = self.graph.propagate(self.E)
        return h[: self.data.n], h[self.data.n:]


# ------------------------------------------------------------------------------ evaluation
def evaluate(U, I, data, ks=(10, 20), chunk_entries=1 << 24):
    """Recall@K and NDCG@K averaged over users with test items, and the effective rank of [U; I].
    Users are scored in chunks of about `chunk_entries` scores to bound memory."""
    users = np.flatnonzero(np.diff(data.te_ptr) > 0)
    kmax = max(ks)
    totals = {f"{metric}@{k}": 0.0 for metric in ("recall", "ndcg") for k in ks}
    discount = 1.0 / torch.log2(torch.arange(2, kmax + 2, dtype=torch.float64))
    ideal_dcg = torch.cumsum(discount, 0)  # ideal_dcg[j - 1]: j hits at the top
    chunk = max(1, chunk_entries // data.m)
    for start in range(0, len(users), chunk):
        block = users[start: start + chunk]
        scores = U[torch.from_numpy(block)] @ I.t()
        r, c = csr_entries(data.ui_ptr, data.ui_idx, block)
        scores[torch.from_numpy(r), torch.from_numpy(c)] = -math.inf
        top = scores.topk(kmax, dim=1).indices
        relevant = torch.zeros(len(block), data.m, dtype=torch.bool)
        r, c = csr_entries(data.te_ptr, data.te_idx, block)
        relevant[torch.from_numpy(r), torch.from_numpy(c)] = True
        hits = relevant.gather(1, top).double()
        n_test = torch.from_numpy(np.diff(data.te_ptr)[block]).double()
        for k in ks:
            totals[f"recall@{k}"] += (hits[:, :k].sum(1) / n_test).sum().item()
            ideal = ideal_dcg[(n_test.clamp(max=k) - 1).long()]
            totals[f"ndcg@{k}"] += ((hits[:, :k] * discount[:k]).sum(1) / ideal).sum().item()
    metrics = {key: value / len(users) for key, value in totals.items()}
    singular = torch.linalg.svdvals(torch.cat([U, I]).double())
    p = singular / singular.sum()
    p = p[p > 0]
    metrics["erank"] = math.exp(-(p * p.log()).sum().item())
    return metrics


# -------------------------------------------------------------------------- command line
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="folder with train.csv and test.csv")
    ap.add_argument("--model", choices=["mf", "lightgcn"], default="mf")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=180.0)
    ap.add_argument("--lr-decay", type=float, default=0.9995)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--tau", type=float, default=3.0)
    ap.add_argument("--tau0", type=float, default=None,
                    help="adaptive: tau for co-interacting pairs")
    ap.add_argument("--tau1", type=float, default=None, help="adaptive: tau for all other pairs")
    ap.add_argument("--shrink", type=float, default=0.03)
    # --output-l2 as directspec-train names it; --reg as the authors' script does.
    ap.add_argument("--output-l2", "--reg", dest="reg", type=float, default=0.0)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--eval-every", type=int, default=10, help="0: evaluate only at the end")
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="0: library defaults")
    ap.add_argument("--spmm", choices=["sparse", "bag"], default="bag")
    ap.add_argument("--selftest", action="store_true", help="run the correctness checks and exit")
    args = ap.parse_args(argv)
    if (args.tau0 is None) != (args.tau1 is None):
        ap.error("--tau0 and --tau1 go together")
    if not args.selftest and not args.data:
        ap.error("--data is required")
    return args


# ------------------------------------------------------------------------------- selftest
def dense_gradients(tables, R, args, u, i):
    """The same loss written plainly on dense float64 matrices (dense A^k, dense R R^T, exp and
    sum for the softmax, log of sigmoid), differentiated with respect to the full tables.
    Returns (tables as float64, their gradients)."""
    n, m = R.shape
    leaves = [t.detach().double().clone().requires_grad_() for t in tables]
    if args.model == "mf":
        rows = [leaves[0][u], leaves[1][i]]
    else:
        A = torch.zeros(n + m, n + m, dtype=torch.float64)
        A[:n, n:], A[n:, :n] = R, R.t()
        degree = A.sum(1)
        s = torch.where(degree > 0, degree.clamp(min=1).rsqrt(), torch.zeros_like(degree))
        A = s[:, None] * A * s[None, :]
        H, power = leaves[0], leaves[0]
        for _ in range(args.layers):
            power = A @ power
            H = H + power
        rows = [H[u], H[n + i]]
    outs = []
    for x, cooccur, ids in ((rows[0], R @ R.t(), u), (rows[1], R.t() @ R, i)):
        if args.tau0 is not None:
            T = torch.where(cooccur[ids][:, ids] > 0, args.tau0, args.tau1).double()
        else:
            T = args.tau
        xn = x / x.norm(dim=1, keepdim=True)
        w = torch.exp(T * (xn @ xn.t()))
        xt = xn - args.alpha * (w / w.sum(1, keepdim=True)) @ xn
        outs.append(args.shrink * xt.norm(dim=1, keepdim=True) * xt if args.shrink > 0 else xt)
    loss = -torch.log(torch.sigmoid((outs[0] * outs[1]).sum(1))).mean()
    loss = loss + args.reg / len(u) * sum(o.pow(2).sum() for o in outs)
    loss.backward()
    return [t.detach() for t in leaves], [t.grad for t in leaves]


def evaluate_by_loop(U, I, train, test, m):
    """evaluate() spelled out user by user, in plain Python and numpy."""
    users = sorted(set(test[:, 0].tolist()))
    out = {}
    for user in users:
        relevant = set(test[test[:, 0] == user, 1].tolist())
        seen = set(train[train[:, 0] == user, 1].tolist())
        score = (U[user] @ I.t()).tolist()
        ranking = sorted((j for j in range(m) if j not in seen), key=lambda j: -score[j])
        for k in (10, 20):
            hit = [j in relevant for j in ranking[:k]]
            dcg = sum(h / math.log2(rank + 2) for rank, h in enumerate(hit))
            idcg = sum(1 / math.log2(rank + 2) for rank in range(min(k, len(relevant))))
            out[f"recall@{k}"] = out.get(f"recall@{k}", 0.0) + sum(hit) / len(relevant) / len(users)
            out[f"ndcg@{k}"] = out.get(f"ndcg@{k}", 0.0) + dcg / idcg / len(users)
    sv = np.linalg.svd(torch.cat([U, I]).numpy(), compute_uv=False)
    p = sv / sv.sum()
    out["erank"] = float(np.exp(-(p * np.log(p)).sum()))
    return out


def selftest():
    """(1) Model.step against an SGD step with dense_gradients, on a tiny problem whose batch
    repeats a (user, item) pair, for every model / precision / product / filter variant. The
    learning rate makes the largest update half the largest table entry, so a wrong gradient
    cannot hide behind a small step. (2) evaluate() against evaluate_by_loop()."""
    rng = np.random.default_rng(1)
    n, m, B = 12, 15, 16
    pairs = np.stack([rng.integers(0, n, 14), rng.integers(0, m, 14)], 1)
    every_user = np.stack([np.arange(n), rng.integers(0, m, n)], 1)  # no user without an item
    train = np.concatenate([pairs, every_user, pairs[:3]])            # and some duplicate rows
    data = Data(train, np.array([[0, 1]]), n, m)
    R = torch.zeros(n, m, dtype=torch.float64)
    R[torch.from_numpy(data.tu), torch.from_numpy(data.ti)] = 1
    variants = (("mf", "sparse", torch.float64), ("mf", "sparse", torch.float32),
                ("lightgcn", "sparse", torch.float64), ("lightgcn", "sparse", torch.float32),
                ("lightgcn", "bag", torch.float32))
    options = ([], ["--shrink", "0.03", "--output-l2", "0.01"],
               ["--shrink", "0.1", "--tau0", "2.5", "--tau1", "3.0"])
    for model, spmm, dtype in variants:
        for extra in options:
            args = parse_args(["--selftest", "--model", model, "--dim", "5", "--spmm", spmm,
                               "--shrink", "0", "--alpha", "0.8"] + extra)
            torch.manual_seed(0)
            net = Model(data, args, dtype)
            u, i = data.sample(rng, B)
            u[1], i[1] = u[0], i[0]
            tables = [net.EU, net.EI] if model == "mf" else [net.E]
            before, grads = dense_gradients(tables, R, args, u, i)
            lr = 0.5 * max(t.abs().max().item() for t in before) / \
                max(g.abs().max().item() for g in grads)
            net.step(u, i, lr)
            diff = max((t.double() - (b - lr * g)).abs().max().item()
                       for t, b, g in zip(tables, before, grads))
            tolerance = 1e-6 if dtype == torch.float32 else 1e-12
            name = " ".join(extra[::2]) or "plain"
            verdict = "OK" if diff < tolerance else "FAIL"
            print(f"selftest step {model:8s} {str(dtype)[6:]:7s} {spmm:6s} {name:23s} "
                  f"max|diff| {diff:.2e} (tolerance {tolerance:.0e}) {verdict}")
            assert diff < tolerance
    n, m = 30, 45
    train, test = (np.stack([rng.integers(0, n, c), rng.integers(0, m, c)], 1) for c in (200, 60))
    U, I = torch.randn(n, 4, dtype=torch.float64), torch.randn(m, 4, dtype=torch.float64)
    got = evaluate(U, I, Data(train, test, n, m))
    want = evaluate_by_loop(U, I, train, test, m)
    diff = max(abs(got[key] - want[key]) for key in want)
    print(f"selftest evaluate {json.dumps({k: round(v, 6) for k, v in got.items()})} "
          f"max|diff| vs loop {diff:.1e} {'OK' if diff < 1e-9 else 'FAIL'}")
    assert diff < 1e-9
    print("selftest passed")


# ----------------------------------------------------------------------------------- main
def keep_freed_memory():
    """glibc returns large freed blocks to the OS, and a LightGCN step would then fault its
    (n + m) x d temporaries back in every time (about a fifth of a step). Raising the trim and
    mmap thresholds keeps them in the heap. No effect outside glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 1 << 30)   # M_TRIM_THRESHOLD
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def format_metrics(metrics):
    return " ".join(f"{key} {value:.5f}" if isinstance(value, float) else f"{key} {value}"
                    for key, value in metrics.items())


def main():
    args = parse_args()
    if args.selftest:
        return selftest()
    keep_freed_memory()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    # Both generators are seeded before anything draws: torch for the tables, numpy for batches.
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    data = Data.load(args.data)
    net = Model(data, args)
    steps = data.n_train_rows // args.batch
    print(f"data {args.data}: users {data.n} items {data.m} train rows {data.n_train_rows} "
          f"steps/epoch {steps} setup {time.perf_counter() - started:.2f}s", flush=True)
    lr, epoch_seconds, metrics, evals = args.lr, [], {}, []
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        users, items = data.sample(rng, steps * args.batch)
        total = 0.0
        for s in range(steps):
            batch = slice(s * args.batch, (s + 1) * args.batch)
            total += net.step(users[batch], items[batch], lr)
        epoch_seconds.append(time.perf_counter() - started)
        print(f"epoch {epoch} loss {total / steps:.6f} time {epoch_seconds[-1]:.3f}s lr {lr:.4f}",
              flush=True)
        lr *= args.lr_decay
        if epoch == args.epochs or (args.eval_every > 0 and epoch % args.eval_every == 0):
            started = time.perf_counter()
            with torch.no_grad():
                metrics = evaluate(*net.embeddings(), data)
            metrics["epoch"], metrics["eval_s"] = epoch, round(time.perf_counter() - started, 3)
            evals.append(metrics)
            print("eval " + format_metrics(metrics), flush=True)
    settings = {key: value for key, value in vars(args).items() if key != "selftest"}
    print("SUMMARY " + json.dumps({
        "impl": "torch_directspec.py", "torch": torch.__version__, "settings": settings,
        "adaptive": net.adaptive, "users": data.n, "items": data.m, "steps_per_epoch": steps,
        "epoch_s": [round(s, 4) for s in epoch_seconds],
        "median_epoch_s": float(np.median(epoch_seconds)), "final": metrics, "evals": evals,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}), flush=True)


if __name__ == "__main__":
    main()
