"""Fixtures of the Python module's tests: tiny datasets made here (seconds to train), and the
paths ctest passes (DIRECTSPEC_DATASETS, DIRECTSPEC_TRAIN; python/tests.cmake)."""

import os
import pathlib

import numpy as np
import pytest

import directspec

REPO = pathlib.Path(__file__).resolve().parents[2]


def tiny_arrays(seed=0, users=30, items=40, per_user=10):
    """(train_users, train_items), (test_users, test_items): per_user distinct items per user,
    the last two of each held out."""
    rng = np.random.default_rng(seed)
    train_u, train_i, test_u, test_i = [], [], [], []
    for u in range(users):
        chosen = rng.choice(items, size=per_user, replace=False)
        train_u += [u] * (per_user - 2)
        train_i += chosen[:-2].tolist()
        test_u += [u, u]
        test_i += chosen[-2:].tolist()
    as_array = lambda v: np.array(v, dtype=np.int64)  # noqa: E731
    return (as_array(train_u), as_array(train_i)), (as_array(test_u), as_array(test_i))


@pytest.fixture
def tiny():
    train, test = tiny_arrays()
    return directspec.Dataset.from_arrays(train, test)


@pytest.fixture
def tiny_pairs():
    return tiny_arrays()


@pytest.fixture
def datasets_dir():
    return pathlib.Path(os.environ.get("DIRECTSPEC_DATASETS", REPO / "datasets"))


def quick(cls=directspec.MF, **settings):
    """A model that trains in milliseconds on the tiny data."""
    base = dict(dim=8, batch=32, epochs=2, lr=1.0, seed=1, threads=1)
    base.update(settings)
    return cls(**base)
