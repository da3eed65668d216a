"""Datasets from numpy arrays, scipy.sparse matrices and files (load_dataset: the CLI's loaders
and data preparation), raw ids that round-trip, and the errors bad data gives."""

import numpy as np
import pytest
import scipy.sparse

import directspec
from conftest import quick


def test_arrays_as_is(tiny_pairs):
    (tu, ti), (su, si) = tiny_pairs
    data = directspec.Dataset.from_arrays((np.r_[tu, tu[:3]], np.r_[ti, ti[:3]]), (su, si))
    assert (data.n_users, data.n_items) <= (30, 40)
    assert data.user_ids is None and data.item_ids is None
    train = data.train
    assert train.nnz == len(tu)  # the three repeated rows merged
    assert all(train[u, i] == 1 for u, i in zip(tu, ti))
    assert data.test.nnz == len(su)
    assert not data.has_valid and data.valid is None


def test_declared_shape_and_out_of_range(tiny_pairs):
    train, test = tiny_pairs
    data = directspec.Dataset.from_arrays(train, test, n_users=50, n_items=60)
    assert (data.n_users, data.n_items) == (50, 60)
    with pytest.raises(ValueError, match="outside"):
        directspec.Dataset.from_arrays(train, test, n_users=5)
    with pytest.raises(ValueError, match=r"row 1 holds \(-1, 2\)"):
        directspec.Dataset.from_arrays(([0, -1], [1, 2]))
    with pytest.raises(ValueError, match="2 users but 3 items"):
        directspec.Dataset.from_arrays(([0, 1], [1, 2, 3]))
    with pytest.raises(ValueError, match="floating-point"):
        directspec.Dataset.from_arrays(([0.5, 1.0], [1, 2]), ids="remap")


def test_string_ids_round_trip(tiny_pairs):
    (tu, ti), (su, si) = tiny_pairs
    name = lambda prefix, ids: np.array([f"{prefix}{v}" for v in ids], dtype=object)  # noqa
    data = directspec.Dataset.from_arrays((name("u", tu), name("i", ti)),
                                          (name("u", su), name("i", si)))
    assert data.user_ids[0] == "u0"
    assert set(data.item_ids) <= {f"i{v}" for v in range(40)}
    model = quick().fit(data, progress=False)
    ids, scores = model.recommend(["u3", "u7"], k=5)
    assert ids.shape == (2, 5) and all(str(v).startswith("i") for v in ids.ravel())
    one, _ = model.recommend("u3", k=5)
    assert list(one) == list(ids[0])
    seen = {f"i{i}" for u, i in zip(tu, ti) if u == 3}
    assert not seen & set(one)
    with pytest.raises(ValueError, match="u999"):
        model.recommend("u999")


def test_sparse_integer_ids_round_trip_as_integers(tiny_pairs):
    (tu, ti), (su, si) = tiny_pairs
    big = 10**12
    data = directspec.Dataset.from_arrays((tu + big, ti * 1000), (su + big, si * 1000),
                                          ids="remap")
    assert data.user_ids.dtype == np.int64 and data.user_ids.min() >= big
    model = quick().fit(data, progress=False)
    ids, _ = model.recommend(np.array([big + 1]), k=3)
    assert ids.dtype == np.int64 and all(v % 1000 == 0 for v in ids.ravel())
    assert model.evaluate(data)["recall@10"] >= 0


def test_scipy_sparse(tiny_pairs):
    (tu, ti), (su, si) = tiny_pairs
    train = scipy.sparse.coo_matrix((np.ones(len(tu)), (tu, ti)), shape=(30, 40))
    test = scipy.sparse.csr_matrix((np.ones(len(su)), (su, si)), shape=(30, 40))
    data = directspec.Dataset.from_sparse(train.tocsr(), test)
    assert (data.n_users, data.n_items) == (30, 40)
    assert (data.train != train.tocsr()).nnz == 0
    with pytest.raises(ValueError, match="test is 30 x 41 but train is 30 x 40"):
        directspec.Dataset.from_sparse(train, scipy.sparse.csr_matrix((30, 41)))
    # A sparse matrix straight into fit() and evaluate().
    model = quick().fit(train.tocsr(), progress=False)
    assert model.user_factors.shape == (30, 8)
    assert model.evaluate(test)["recall@20"] == pytest.approx(
        model.evaluate(data)["recall@20"], abs=1e-12)


def write_csv(path, users, items):
    path.write_text("user,item\n" + "".join(f"{u},{i}\n" for u, i in zip(users, items)))


def test_load_dataset_folder_and_validation(tmp_path, tiny_pairs):
    (tu, ti), (su, si) = tiny_pairs
    write_csv(tmp_path / "train.csv", tu, ti)
    write_csv(tmp_path / "test.csv", su, si)
    data = directspec.load_dataset(tmp_path)
    assert data.train.nnz == len(tu) and data.test.nnz == len(su)
    assert str(tmp_path) in data.report
    carved = directspec.load_dataset(tmp_path, valid_fraction=0.25, seed=3)
    assert carved.has_valid and carved.valid.nnz > 0
    assert carved.train.nnz + carved.valid.nnz == len(tu)
    again = directspec.load_dataset(tmp_path, valid_fraction=0.25, seed=3)
    assert (again.valid != carved.valid).nnz == 0  # the seed decides the carving
    with pytest.raises(TypeError, match="unknown keyword"):
        directspec.load_dataset(tmp_path, valid_fractions=0.1)
    with pytest.raises(ValueError, match="--valid-fraction: '1.5' must be below 1"):
        directspec.load_dataset(tmp_path, valid_fraction=1.5)


def test_load_dataset_raw_log(tmp_path):
    rng = np.random.default_rng(2)
    rows = ["who\twhat\tstars"]
    for u in range(40):
        for i in rng.choice(60, size=8, replace=False):
            rows.append(f"user-{u}\titem-{i}\t{rng.integers(1, 6)}")
    log = tmp_path / "log.tsv"
    log.write_text("\n".join(rows) + "\n")
    out = tmp_path / "split"
    data = directspec.load_dataset(log, columns="user=who,item=what,rating=stars",
                                   min_rating=2, kcore=(2, 1), split="ratio:0.25", seed=1,
                                   write_split=out)
    assert data.user_ids[0].startswith("user-") and data.item_ids[0].startswith("item-")
    assert "input:" in data.report and "filter" in data.report
    assert (out / "train.csv").exists() and (out / "test.csv").exists()
    # The written split loads back (remapped, raw ids kept) with the same parts.
    back = directspec.load_dataset(out)
    assert back.train.nnz == data.train.nnz and back.test.nnz == data.test.nnz


def test_file_errors_are_os_errors(tmp_path, tiny_pairs):
    with pytest.raises(OSError, match="no-such-folder"):
        directspec.load_dataset(tmp_path / "no-such-folder", ids="asis")
    (tu, ti), (su, si) = tiny_pairs
    write_csv(tmp_path / "train.csv", tu, ti)
    (tmp_path / "test.csv").write_text("user,item\n0,1\n2,oops\n")
    with pytest.raises(directspec.DataError, match=r"test.csv:3: .*oops") as caught:
        directspec.load_dataset(tmp_path)
    assert isinstance(caught.value, OSError)


def test_synthetic_default():
    data = directspec.load_dataset()
    assert data.n_users > 0 and data.test.nnz > 0
