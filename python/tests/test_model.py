"""MF and LightGCN from Python: settings as keywords (the CLI's parser, presets), fit, factors,
recommend, evaluate, save / load, callbacks and early stopping, threads, and the exceptions bad
arguments and files give."""

import numpy as np
import pytest

import directspec
from conftest import quick


def metrics_only(result):
    return {k: v for k, v in result.items() if k != "eval_seconds"}


def test_fit_factors_and_determinism(tiny):
    model = quick()
    assert model.fit(tiny, progress=False) is model
    users, items = model.user_factors, model.item_factors
    assert users.shape == (tiny.n_users, 8) and items.shape == (tiny.n_items, 8)
    assert users.dtype == np.float32 and not users.flags.writeable
    assert np.isfinite(users).all()
    again = quick().fit(tiny, progress=False)
    assert np.array_equal(again.user_factors, users)  # same seed and threads: same tables
    other = quick(seed=2).fit(tiny, progress=False)
    assert not np.array_equal(other.user_factors, users)
    assert model.fit_result_["epochs"] == 2 and not model.fit_result_["stopped"]
    # The views keep the tables alive after a refit replaces them.
    model.fit(tiny, epochs=1, progress=False)
    assert np.array_equal(users, again.user_factors)


def test_threads_are_honoured(tiny):
    seen = []

    def record(logs):  # runs on the training thread, inside the trainer's thread setting
        seen.append(directspec._core.openmp_threads())

    outside = directspec._core.openmp_threads()
    model = quick(threads=2).fit(tiny, callbacks=[record], progress=False)
    assert seen == [2, 2] and directspec._core.openmp_threads() == outside
    quick(threads=1).fit(tiny, callbacks=[record], progress=False)
    assert seen[2:] == [1, 1]
    # Same seed and thread count: the same tables (docs/trainer.md).
    again = quick(threads=2).fit(tiny, progress=False)
    assert np.array_equal(model.user_factors, again.user_factors)


def test_lightgcn(tiny):
    model = quick(directspec.LightGCN, layers=2, layer_weights="mean").fit(tiny, progress=False)
    assert model.user_factors.shape == (tiny.n_users, 8)
    assert model.evaluate(tiny)["ndcg@20"] >= 0


def test_evaluate_keys_and_masks(tiny, tiny_pairs):
    model = quick().fit(tiny, progress=False)
    result = model.evaluate(tiny)
    for key in ("recall@10", "recall@20", "ndcg@10", "ndcg@20", "precision@20", "hit_rate@20",
                "mrr@20", "coverage@20", "erank", "eval_seconds"):
        assert key in result
    assert 0 <= result["recall@20"] <= 1 and 0 < result["erank"] <= 8
    assert set(model.evaluate(tiny, k=5)) >= {"recall@5", "ndcg@5"}
    assert "paper_recall@20" in model.evaluate(tiny, metrics="both")
    # Held-out pairs given directly rank with the train items excluded, as the dataset does.
    _, test = tiny_pairs
    assert metrics_only(model.evaluate(test)) == pytest.approx(metrics_only(result), abs=1e-12)


def test_recommend(tiny, tiny_pairs):
    (tu, ti), _ = tiny_pairs
    model = quick().fit(tiny, progress=False)
    ids, scores = model.recommend(np.arange(5), k=7)
    assert ids.shape == scores.shape == (5, 7)
    assert (np.diff(scores, axis=1) <= 0).all()
    for u in range(5):
        assert not set(ti[tu == u]) & set(ids[u])
    ids_all, _ = model.recommend(np.arange(5), k=7, filter_already_liked=False)
    scores_full = model.user_factors[:5] @ model.item_factors.T
    assert all(ids_all[u, 0] == np.argmax(scores_full[u]) for u in range(5))
    # More than the candidates left: padded.
    padded, pad_scores = model.recommend(0, k=tiny.n_items)
    left = tiny.n_items - len(set(ti[tu == 0]))
    assert (padded[left:] == -1).all() and np.isneginf(pad_scores[left:]).all()
    with pytest.raises(ValueError, match="user 999 is outside"):
        model.recommend(999)
    with pytest.raises(ValueError, match="k must be >= 1"):
        model.recommend(0, k=0)


def test_save_and_load(tmp_path, tiny_pairs):
    (tu, ti), (su, si) = tiny_pairs
    data = directspec.Dataset.from_arrays((tu * 7 + 100, ti), (su * 7 + 100, si), ids="remap")
    model = quick(directspec.LightGCN, layers=1).fit(data, progress=False)
    path = tmp_path / "model.dspm"
    model.save(path)
    back = directspec.load(path)
    assert isinstance(back, directspec.LightGCN)
    assert np.array_equal(back.user_factors, model.user_factors)
    assert np.array_equal(back.user_ids, model.user_ids) and back.user_ids.dtype == np.int64
    users = model.user_ids[:4]
    for a, b in zip(back.recommend(users, k=5), model.recommend(users, k=5)):
        assert np.array_equal(a, b)
    assert metrics_only(back.evaluate(data)) == metrics_only(model.evaluate(data))
    # It refits with the settings it was saved with.
    back.fit(data, progress=False)
    assert np.array_equal(back.user_factors, model.user_factors)


def test_file_errors(tmp_path, tiny):
    model = quick().fit(tiny, progress=False)
    with pytest.raises(OSError, match="no-such-dir"):
        model.save(tmp_path / "no-such-dir" / "m.dspm")
    with pytest.raises(OSError, match="missing.dspm"):
        directspec.load(tmp_path / "missing.dspm")
    bad = tmp_path / "bad.dspm"
    bad.write_bytes(b"not a model file at all, just some bytes" * 4)
    with pytest.raises(OSError, match="bad.dspm"):
        directspec.load(bad)


def test_bad_arguments_are_value_errors(tiny):
    with pytest.raises(ValueError, match="--lr: '-1.0' must be > 0"):
        directspec.MF(lr=-1.0)
    with pytest.raises(ValueError, match="--filter: 'bogus'"):
        directspec.MF(filter="bogus")
    with pytest.raises(ValueError, match="unknown flag '--learning-rate'"):
        directspec.MF(learning_rate=0.1)
    with pytest.raises(ValueError, match="unknown preset 'nope'"):
        directspec.MF(preset="nope")
    with pytest.raises(ValueError, match="trains lightgcn: use directspec.LightGCN"):
        directspec.MF(preset="citeulike-lightgcn")
    with pytest.raises(TypeError, match="pass the data to fit"):
        directspec.MF(data="x")
    with pytest.raises(ValueError, match="not fitted"):
        directspec.MF().recommend(0)
    with pytest.raises(ValueError, match="early_stop needs a validation set"):
        quick(early_stop="ndcg@20").fit(tiny, progress=False)
    model = quick().fit(tiny, progress=False)
    with pytest.raises(ValueError, match="EvalOptions::ks: cut-off 0 is not positive"):
        model.evaluate(tiny, k=0)
    with pytest.raises(ValueError, match=r"pair \(0, 99\) outside 30 x 40"):
        model.evaluate((np.array([0]), np.array([99])))


def test_divergence_is_a_floating_point_error(tiny):
    diverging = quick(lr=1e38, normalize=False, filter="none")
    with pytest.raises(FloatingPointError, match="training diverged at epoch 1.*lower the "
                                                 "learning rate"):
        diverging.fit(tiny, progress=False)
    # A fit that fails leaves the model as it was (here: not fitted).
    with pytest.raises(ValueError, match="not fitted"):
        diverging.recommend(0)


def test_presets():
    presets = directspec.presets()
    assert "citeulike-mf" in presets and "citeulike-lightgcn" in presets
    assert "MF" in presets["citeulike-mf"]
    model = directspec.LightGCN(preset="citeulike-lightgcn", epochs=1)
    assert "preset='citeulike-lightgcn'" in repr(model)


def test_callbacks_validation_and_stop(tiny, tiny_pairs):
    _, (su, si) = tiny_pairs
    logs = []
    model = quick(epochs=4, eval_every=2).fit(tiny, valid=(su, si), callbacks=[logs.append],
                                              progress=False)
    assert [l["epoch"] for l in logs] == [1, 2, 3, 4] and not model.fit_result_["stopped"]
    assert "ndcg@20" not in logs[0] and "ndcg@20" in logs[1]  # validation every 2 epochs
    assert all(l["loss"] > 0 and l["learning_rate"] > 0 for l in logs)
    # A callback returning True stops after that epoch; the model is usable.
    stopped = quick(epochs=5).fit(tiny, callbacks=[lambda l: l["epoch"] == 2], progress=False)
    assert stopped.fit_result_["epochs"] == 2 and stopped.fit_result_["stopped"]
    assert stopped.evaluate(tiny)["recall@20"] >= 0


def test_early_stopping_on_validation(tiny, tiny_pairs):
    _, (su, si) = tiny_pairs
    model = quick(epochs=30, early_stop="ndcg@20", patience=1).fit(tiny, valid=(su, si),
                                                                    progress=False)
    assert model.fit_result_["epochs"] <= 30
    assert np.isfinite(model.user_factors).all()


def test_checkpoint_and_resume(tmp_path, tiny):
    path = tmp_path / "run.dspc"
    quick(epochs=2, checkpoint=path).fit(tiny, progress=False)
    assert path.exists()
    resumed = quick(epochs=4, resume=path).fit(tiny, progress=False)
    straight = quick(epochs=4).fit(tiny, progress=False)
    # Continuing a checkpoint reproduces the uninterrupted run exactly.
    assert np.array_equal(resumed.user_factors, straight.user_factors)
    with pytest.raises(OSError, match="missing.dspc"):
        quick(resume=tmp_path / "missing.dspc").fit(tiny, progress=False)


def test_tune_on_validation(tiny, tiny_pairs, capsys):
    _, (su, si) = tiny_pairs
    data = tiny.with_validation((su, si))
    base = quick(epochs=2)
    result = directspec.tune(base, data, space="lr=0.1:10:log,epochs=1:3", trials=3)
    assert len(result["trials"]) == 3
    # lr and epochs as given, the default space's other dimensions (alpha, tau) as they are.
    assert {"lr", "epochs", "alpha", "tau"} <= set(result["best_params"])
    assert 0.1 <= result["best_params"]["lr"] <= 10 and 1 <= result["best_params"]["epochs"] <= 3
    assert "lr=0.1:10:log" in result["space"]
    best = max(t["best_value"] for t in result["trials"] if t["status"] != "failed")
    assert result["best_value"] == best
    assert "trial 1:" in capsys.readouterr().out
    # The same seed gives the same search.
    again = directspec.tune(base, data, space="lr=0.1:10:log,epochs=1:3", trials=3,
                            verbose=False)
    assert [t["params"] for t in again["trials"]] == [t["params"] for t in result["trials"]]
    directspec.MF(**result["best_params"], dim=8, batch=32, seed=1).fit(data, progress=False)
    with pytest.raises(ValueError, match="tune needs a validation set"):
        directspec.tune(base, tiny, trials=1)
