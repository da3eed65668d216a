"""The progress bar of fit(): the library's own on stderr when tqdm is absent (or chosen), tqdm
when installed, none with progress=False."""

import pytest

import directspec._progress as progress
from conftest import quick


def test_library_bar(tiny, capfd):
    quick(epochs=2).fit(tiny, progress="library")
    err = capfd.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err and "steps/s" in err


def test_fallback_without_tqdm(tiny, capfd, monkeypatch):
    monkeypatch.setattr(progress, "tqdm_available", lambda: False)
    quick(epochs=2).fit(tiny, progress=True)
    assert "epoch 2/2" in capfd.readouterr().err
    with pytest.raises(ImportError, match="needs tqdm"):
        quick().fit(tiny, progress="tqdm")


def test_no_bar(tiny, capfd):
    quick().fit(tiny, progress=False)
    assert capfd.readouterr().err == ""


def test_tqdm_bar(tiny, capfd):
    pytest.importorskip("tqdm")
    quick(epochs=2).fit(tiny, progress=True)
    err = capfd.readouterr().err
    assert "fit" in err and "epoch 1/2" not in err  # tqdm's bar, not the library's


def test_bad_progress_value(tiny):
    with pytest.raises(ValueError, match="progress must be"):
        quick().fit(tiny, progress="fancy")
