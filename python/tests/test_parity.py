"""Parity with directspec-train: a fit from Python with the same settings and seed gives the
CLI's final metrics to 1e-6 (every metric of its JSON log, the effective rank, the final loss),
for MF (a reference preset) and for LightGCN (validation carved from train, early stopping);
and directspec-train resumes a checkpoint written from Python. Needs the CLI (DIRECTSPEC_TRAIN,
set by ctest) and datasets/ml-100k."""

import json
import os
import pathlib
import subprocess

import pytest

import directspec

TRAIN = os.environ.get("DIRECTSPEC_TRAIN")

CASES = {
    "mf": (directspec.MF, dict(preset="citeulike-mf", epochs=2, seed=7, threads=2)),
    "lightgcn": (directspec.LightGCN,
                 dict(layers=2, lr=5.0, epochs=3, seed=3, threads=1, eval_every=1,
                      early_stop="ndcg@20", patience=2, topk=(5, 20), metrics="both")),
}
DATA = dict(mf={}, lightgcn=dict(valid_fraction=0.1, seed=3))


def cli_flags(settings):
    flags = []
    for key, value in settings.items():
        value = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        flags += ["--" + key.replace("_", "-"), value]
    return flags


@pytest.mark.parametrize("name", sorted(CASES))
def test_python_fit_equals_cli_run(name, tmp_path, datasets_dir):
    if not TRAIN:
        pytest.skip("DIRECTSPEC_TRAIN (the directspec-train binary) is not set: run via ctest")
    data_dir = pathlib.Path(datasets_dir) / "ml-100k"
    if not (data_dir / "train.csv").exists():
        pytest.skip(f"{data_dir} is absent")
    cls, settings = CASES[name]
    log = tmp_path / "run.json"
    flags = ["--data", str(data_dir), "--model", name, "--json", str(log), "--quiet"]
    flags += cli_flags(settings) + cli_flags(DATA[name])
    subprocess.run([TRAIN] + flags, check=True)
    final = [json.loads(line) for line in log.read_text().splitlines()][-1]
    assert final["final"]

    data = directspec.load_dataset(data_dir, **DATA[name])
    model = cls(**settings).fit(data, progress=False)
    result = model.evaluate(data, k=settings.get("topk", (10, 20)))
    metrics = [key for key in final if "@" in key] + ["erank"]
    assert len(metrics) >= 13
    for key in metrics:
        assert result[key] == pytest.approx(final[key], abs=1e-6), key
    assert model.fit_result_["epochs"] == final["epoch"]
    assert model.fit_result_["loss"] == pytest.approx(final["loss"], abs=1e-6)


def test_cli_resumes_a_python_checkpoint(tmp_path, datasets_dir):
    if not TRAIN:
        pytest.skip("DIRECTSPEC_TRAIN (the directspec-train binary) is not set: run via ctest")
    data_dir = pathlib.Path(datasets_dir) / "ml-100k"
    if not (data_dir / "train.csv").exists():
        pytest.skip(f"{data_dir} is absent")
    data = directspec.load_dataset(data_dir)
    checkpoint = tmp_path / "run.dspc"
    directspec.MF(epochs=1, seed=4, threads=1, checkpoint=checkpoint).fit(data, progress=False)
    log = tmp_path / "run.json"
    subprocess.run([TRAIN, "--data", str(data_dir), "--epochs", "2", "--seed", "4", "--threads",
                    "1", "--resume", str(checkpoint), "--json", str(log), "--quiet"], check=True)
    final = [json.loads(line) for line in log.read_text().splitlines()][-1]
    straight = directspec.MF(epochs=2, seed=4, threads=1).fit(data, progress=False)
    assert straight.evaluate(data)["ndcg@20"] == pytest.approx(final["ndcg@20"], abs=1e-6)
