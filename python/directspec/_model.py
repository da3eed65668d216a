"""MF and LightGCN: the library's trainers with directspec-train's settings as keyword
arguments, fitted without the GIL, served by the library's Recommender and saved as its model
files."""

import os
import warnings

import numpy as np

from . import _core
from ._data import Dataset, as_dataset, raw_array
from ._flags import flags_of
from ._progress import progress_of

# Settings that belong elsewhere in Python: the data (load_dataset / fit) and the outputs
# (the model's methods).
_NOT_MODEL_SETTINGS = {
    "data": "pass the data to fit()", "train": "pass the data to fit()",
    "test": "pass test data to evaluate()", "valid": "pass valid= to fit()",
    "input": "load it with directspec.load_dataset()",
    "valid_fraction": "use directspec.load_dataset(..., valid_fraction=)",
    "subsample": "use directspec.load_dataset(..., subsample=)",
    "ids": "use directspec.load_dataset(..., ids=)", "save_model": "use save()",
    "json": "use the dicts fit() and evaluate() return", "export_npy": "use user_factors",
    "recommend_out": "use recommend()", "spectrum_svg": "not available from Python",
    "write_split": "use directspec.load_dataset(..., write_split=)",
    "max_memory": "not available from Python", "quiet": "use fit(progress=False)",
}


class _Model:
    _encoder = None

    def __init__(self, *, preset=None, preset_file=None, **settings):
        for key in settings:
            if key in _NOT_MODEL_SETTINGS or key in ("model",):
                raise TypeError(f"{type(self).__name__}() takes no {key}=: "
                                f"{_NOT_MODEL_SETTINGS.get(key, 'the class chooses the model')}")
        flags = []
        if preset is not None:
            flags += ["--preset", preset]
        if preset_file is not None:
            flags += ["--preset-file", os.fspath(preset_file)]
        if preset is None and preset_file is None:
            flags += ["--model", self._encoder]
        flags += flags_of(settings)
        core = _core.Model(flags)
        if core.model != self._encoder:
            cls = "LightGCN" if core.model == "lightgcn" else "MF"
            raise ValueError(f"preset {preset or preset_file!r} trains {core.model}: "
                             f"use directspec.{cls}")
        self._core = core
        self._params = dict(settings)
        if preset is not None:
            self._params["preset"] = preset
        if preset_file is not None:
            self._params["preset_file"] = preset_file

    @property
    def _id_kind(self):
        """"int" or "str" when the model has raw ids (how they came in), else None."""
        if not self._core.fitted or self._core.raw_ids(True) is None:
            return None
        return self._core.hyperparameters().get("python_id_kind", "str")

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ training
    def fit(self, train, epochs=None, valid=None, callbacks=None, progress=True):
        """Trains a fresh model on ``train`` and returns self.

        train: a Dataset (its train part; its validation part, if any, for early_stop= and the
        callbacks' metrics), (users, items) id arrays or a scipy.sparse matrix.
        epochs: overrides the epochs setting for this fit. valid: validation interactions (ids
        as in train), replacing the dataset's own. callbacks: callables called after each
        epoch with a dict (epoch, loss, learning_rate, train_seconds and, with validation data,
        the validation metrics every eval_every epochs); one returning True stops training.
        progress: True (tqdm when installed, else the library's bar on stderr), False,
        "tqdm" or "library".

        The GIL is released while training. Ctrl-C (KeyboardInterrupt), or an exception from a
        callback, stops training after the current step: the model keeps the tables reached
        (usable: factors, recommend, evaluate, save) and the exception is raised.
        """
        data = as_dataset(train)
        if valid is not None:
            data = data.with_validation(valid)
        on_step, library_bar = progress_of(progress)
        on_epoch = None
        if callbacks:
            callbacks = list(callbacks)

            def on_epoch(logs):
                stop = False
                for callback in callbacks:
                    stop = bool(callback(logs)) or stop
                return stop

        # How raw ids came in ("int" or "str") is kept with the model, so they go out alike.
        extra = {"python_id_kind": data._id_kind} if data._id_kind else {}
        try:
            result = self._core.fit(data._core, epochs, on_step, on_epoch, library_bar,
                                    bool(callbacks), extra)
        finally:
            if on_step is not None:
                on_step.close()
        if result["note"]:
            warnings.warn(result["note"], stacklevel=2)
        self.fit_result_ = result
        return self

    # ------------------------------------------------------------------ the model
    @property
    def user_factors(self):
        """The user table as served (LightGCN: propagated), n_users x dim float32, read-only."""
        return self._core.table(True)

    @property
    def item_factors(self):
        return self._core.table(False)

    @property
    def user_ids(self):
        """Raw id of each row of user_factors, or None when the ids are the row numbers."""
        return raw_array(self._core.raw_ids(True), self._id_kind)

    @property
    def item_ids(self):
        return raw_array(self._core.raw_ids(False), self._id_kind)

    def recommend(self, users, k=10, filter_already_liked=True):
        """The k best items of each user, best first: (ids, scores).

        users: one id or an array of ids (raw ids when the model has them). With an array,
        ids and scores are len(users) x k; a row with fewer than k candidates is padded with
        -1 (None for string ids) and -inf. filter_already_liked drops the train items.
        """
        single = np.ndim(users) == 0
        dense = self._dense(np.atleast_1d(np.asarray(users)), True)
        items, scores = self._core.recommend(dense, int(k), bool(filter_already_liked))
        raw = self.item_ids
        if raw is not None:
            missing = items < 0
            items = raw[np.where(missing, 0, items)]
            if missing.any():
                items = items.astype(object) if self._id_kind != "int" else items
                items[missing] = None if self._id_kind != "int" else -1
        return (items[0], scores[0]) if single else (items, scores)

    def evaluate(self, test, k=(10, 20), metrics=None):
        """Full-ranking metrics on held-out data, keyed as in directspec-train's JSON
        ("recall@20", "ndcg@20", ..., "erank", "eval_seconds").

        test: a Dataset (its test part, ranked with its train and validation items excluded:
        directspec-train's final evaluation), or (users, items) / a scipy.sparse matrix in the
        model's ids (ranked with the train items excluded). metrics: "standard", "paper" or
        "both" (default: the model's setting).
        """
        ks = [int(k)] if np.ndim(k) == 0 else [int(v) for v in k]
        metrics = metrics or self._core.metrics
        if isinstance(test, Dataset):
            return self._core.evaluate_dataset(test._core, ks, metrics)
        from ._data import _pair

        users, items = _pair(test, "test")
        return self._core.evaluate_pairs(self._dense(users, True), self._dense(items, False),
                                         ks, metrics)

    def save(self, path):
        """Writes the library's model file (atomically): tables, raw ids, train items, settings.
        directspec-recommend serves it; directspec.load() reads it back."""
        self._core.save(os.fspath(path))

    def _dense(self, ids, users):
        if self._core.raw_ids(users) is None:
            if ids.dtype.kind not in "iu":
                raise ValueError(f"ids must be integers (the model has no raw ids), got "
                                 f"{ids.dtype}")
            return ids.astype(np.int64)
        return self._core.index(ids.astype(str).tolist(), users)


class MF(_Model):
    """Matrix factorisation with DirectSpec(+) by default: directspec-train --model mf.

    Keyword arguments are directspec-train's flags (docs/cli.md) with '_' for '-': filter,
    alpha, tau, tau0, tau1, shrink, normalize, loss, negatives, gamma, temperature, output_l2,
    weight_decay, optimizer, lr, lr_decay, dim, batch, epochs, micro_batches, steps_per_epoch,
    seed, threads, eval_every, topk, metrics, early_stop, patience, checkpoint,
    checkpoint_every, resume. preset="citeulike-mf" (directspec.presets()) and
    preset_file= set several at once; explicit keywords override them.
    """

    _encoder = "mf"


class LightGCN(_Model):
    """LightGCN with DirectSpec(+) by default: directspec-train --model lightgcn. Takes MF's
    keyword arguments plus layers and layer_weights ("sum" | "mean")."""

    _encoder = "lightgcn"


def load(path):
    """A model saved by save() or directspec-train --save-model, ready to recommend, evaluate
    and save (and to fit again with the settings it was saved with)."""
    core = _core.Model.load(os.fspath(path))
    model = (LightGCN if core.model == "lightgcn" else MF).__new__(
        LightGCN if core.model == "lightgcn" else MF)
    model._core = core
    model._params = {}
    return model


def presets():
    """The named settings (preset=...): name -> description."""
    return dict(_core.presets())
