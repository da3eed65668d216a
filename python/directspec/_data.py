"""Datasets: train / test / optional validation interactions in one id space, from files
(load_dataset: the CLI's loaders and data preparation), numpy id arrays or scipy.sparse
matrices. Raw ids (strings, or integers that are not dense) are mapped to dense ids by the
library's IdMap and come back unchanged from recommend() and the id properties."""

import os

import numpy as np

from . import _core
from ._flags import flags_of

_EMPTY = np.zeros(0, dtype=np.int64)


def _ids(values, what):
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{what}: ids must be a 1-d array, got shape {array.shape}")
    return array


def _is_integer(array):
    return array.dtype.kind in "iu" or (array.dtype.kind == "O" and array.size == 0)


def _pair(part, what):
    """(users, items) from a pair of id sequences or a scipy.sparse matrix."""
    if hasattr(part, "tocoo"):
        coo = part.tocsr(copy=True)
        coo.eliminate_zeros()
        coo = coo.tocoo()
        return coo.row.astype(np.int64), coo.col.astype(np.int64)
    try:
        users, items = part
    except (TypeError, ValueError):
        raise ValueError(f"{what}: expected (users, items) id arrays or a scipy.sparse matrix, "
                         f"got {type(part).__name__}") from None
    users, items = _ids(users, f"{what} users"), _ids(items, f"{what} items")
    if len(users) != len(items):
        raise ValueError(f"{what}: {len(users)} users but {len(items)} items")
    return users, items


class Dataset:
    """Train, test and optional validation interactions, as the C++ library holds them.

    Build one with load_dataset(), Dataset.from_arrays() or Dataset.from_sparse(). ``train``,
    ``test`` and ``valid`` are scipy.sparse CSR matrices (users x items); ``user_ids`` and
    ``item_ids`` the raw ids of the dense ids (None when the ids are the dense ids themselves).
    """

    def __init__(self, core, id_kind=None, report=None):
        self._core = core
        self._id_kind = (id_kind or "str") if core.has_ids else None  # raw ids: "int" or "str"
        self._report = report if report is not None else core.report()
        self._lookup = {}

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(cls, train, test=None, valid=None, *, ids=None, n_users=None, n_items=None):
        """A dataset from (users, items) id arrays for each part.

        ids="asis": integer ids are the dense ids (n_users / n_items default to max id + 1);
        ids="remap": any ids (integers or strings) are mapped to dense ids in order of first
        appearance (train, valid, test) and come back as given. Default: "asis" for integer
        arrays, "remap" otherwise.
        """
        parts = {"train": _pair(train, "train")}
        parts["test"] = _pair(test, "test") if test is not None else (_EMPTY, _EMPTY)
        if valid is not None:
            parts["valid"] = _pair(valid, "valid")
        integer = all(_is_integer(a) for pair in parts.values() for a in pair)
        if ids is None:
            ids = "asis" if integer else "remap"
        if ids == "asis":
            if not integer:
                raise ValueError("ids='asis' needs integer ids; pass ids='remap' for other ids")
            v = parts.get("valid", (None, None))
            core = _core.dataset_from_ids(*parts["train"], *parts["test"], v[0], v[1],
                                          -1 if n_users is None else int(n_users),
                                          -1 if n_items is None else int(n_items))
            return cls(core)
        if ids != "remap":
            raise ValueError(f"ids must be 'asis' or 'remap', got {ids!r}")
        for name, pair in parts.items():
            for a in pair:
                if a.dtype.kind == "f":
                    raise ValueError(f"{name}: ids are floating-point ({a.dtype}); give integers "
                                     "or strings")
        tokens = {name: [np.asarray(a).astype(str).tolist() for a in pair]
                  for name, pair in parts.items()}
        core = _core.dataset_from_tokens(tokens["train"], tokens["test"], tokens.get("valid"))
        return cls(core, "int" if integer else "str")

    @classmethod
    def from_sparse(cls, train, test=None, valid=None):
        """A dataset from scipy.sparse matrices (users x items, non-zeros are interactions).

        Every part has the shape of ``train``.
        """
        shape = train.shape
        for name, part in (("test", test), ("valid", valid)):
            if part is not None and part.shape != shape:
                raise ValueError(f"{name} is {part.shape[0]} x {part.shape[1]} but train is "
                                 f"{shape[0]} x {shape[1]}")
        return cls.from_arrays(train, test, valid, ids="asis", n_users=shape[0],
                               n_items=shape[1])

    def with_validation(self, valid):
        """This dataset with ``valid`` (ids as in this dataset) as its validation part."""
        users, items = self.dense_pairs(valid, "valid")
        return Dataset(_core.with_validation(self._core, users, items), self._id_kind,
                       self._report)

    # ------------------------------------------------------------------ contents
    @property
    def n_users(self):
        return self._core.n_users

    @property
    def n_items(self):
        return self._core.n_items

    @property
    def has_valid(self):
        return self._core.has_valid

    @property
    def user_ids(self):
        """Raw id of each dense user id, or None when the ids are dense already."""
        return self._raw_ids("user")

    @property
    def item_ids(self):
        return self._raw_ids("item")

    @property
    def train(self):
        return self._csr("train")

    @property
    def test(self):
        return self._csr("test")

    @property
    def valid(self):
        return self._csr("valid") if self.has_valid else None

    @property
    def report(self):
        """The load report (sizes, overlaps, notes) as directspec-train prints it."""
        return self._report

    def __repr__(self):
        return (f"<directspec.Dataset {self.n_users} users x {self.n_items} items, "
                f"{self.train.nnz} train, {self.test.nnz} test"
                + (f", {self.valid.nnz} valid" if self.has_valid else "") + ">")

    # ------------------------------------------------------------------ ids
    def _raw_ids(self, side):
        raw = self._core.raw_ids(side)
        return raw_array(raw, self._id_kind)

    def dense_pairs(self, part, what):
        """(users, items) int64 arrays in this dataset's dense ids."""
        users, items = _pair(part, what)
        if self._id_kind is None:
            return users.astype(np.int64), items.astype(np.int64)
        return self._dense(users, "user"), self._dense(items, "item")

    def _dense(self, raw, side):
        if side not in self._lookup:
            self._lookup[side] = {r: d for d, r in enumerate(self._core.raw_ids(side))}
        lookup = self._lookup[side]
        out = np.empty(len(raw), dtype=np.int64)
        for k, r in enumerate(np.asarray(raw).astype(str).tolist()):
            if r not in lookup:
                raise ValueError(f"unknown {side} id {r!r}")
            out[k] = lookup[r]
        return out

    def _csr(self, part):
        import scipy.sparse

        indptr, indices = self._core.part_csr(part)
        data = np.ones(len(indices), dtype=np.float32)
        return scipy.sparse.csr_matrix((data, indices, indptr), shape=(self.n_users, self.n_items))


def raw_array(raw, id_kind):
    """Raw ids as returned to users: int64 when they came in as integers, else str objects."""
    if raw is None:
        return None
    if id_kind == "int":
        return np.array([int(r) for r in raw], dtype=np.int64)
    return np.array(raw, dtype=object)


def as_dataset(data, what="train"):
    """A Dataset as is; (users, items) arrays or a scipy.sparse matrix as a train-only one."""
    if isinstance(data, Dataset):
        return data
    if hasattr(data, "tocoo"):
        return Dataset.from_sparse(data)
    return Dataset.from_arrays(data)


# Settings of load_dataset: the CLI's data and data-preparation flags (docs/data.md).
_LOAD_KEYS = ("ids", "valid_fraction", "columns", "min_rating", "duplicates", "kcore", "split",
              "seed", "subsample", "write_split")


def load_dataset(path=None, *, train=None, test=None, valid=None, **options):
    """Loads data exactly as directspec-train does.

    path: a folder (train.csv, test.csv, optional valid.csv: ``--data``) or one raw log file
    (``--input``: read, filtered, split); or give train= and test= files (``--train/--test``);
    nothing: the built-in synthetic dataset. valid= names a validation file.
    options: ids ("asis" | "remap"), valid_fraction, and for a raw log columns, min_rating,
    duplicates, kcore (K or (U, I)), split ("ratio:0.2", "temporal:0.2", "leave-last:1",
    "global-time:T"), seed, write_split (a folder to write the split to); subsample.
    """
    unknown = sorted(set(options) - set(_LOAD_KEYS))
    if unknown:
        raise TypeError(f"load_dataset() got unknown keyword(s) {', '.join(unknown)} "
                        f"(known: {', '.join(_LOAD_KEYS)})")
    settings = {}
    if path is not None:
        path = os.fspath(path)
        settings["data" if os.path.isdir(path) else "input"] = path
    settings.update(train=train, test=test, valid=valid, **options)
    core, report = _core.load_dataset_flags(flags_of(settings))
    remapped = settings.get("input") is not None or options.get("ids") == "remap"
    return Dataset(core, "str" if remapped else None, report)
