"""tune(): directspec-tune's search (random and perturbed settings, successive halving over
epochs, scored on the validation part) from Python. docs/tuning.md describes the search and the
space syntax; docs/python.md the Python call."""

from . import _core
from ._data import as_dataset


def _value(text):
    """A setting's text as the Python value a model keyword takes."""
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def tune(model, data, *, space=None, trials=20, budget_minutes=None, metric="ndcg@20", eta=3,
         eval_every=0, verbose=True):
    """Searches settings of ``model`` (an MF or LightGCN whose keywords are the base setting)
    on ``data``'s train part, scored by the validation ``metric``; test is never read.

    space: the --space syntax of directspec-tune, overriding its default space for the base
    ("lr=1:100:log,alpha=0.5:4,epochs=5:45"); trials / budget_minutes: when to stop (the budget
    is checked between trials). The search's seed and threads are the model's.

    Returns a dict: best_params (keywords for the model class, epochs included: the best
    trial's best epoch), best_value, best_trial, trials (one dict per trial: params, status,
    curve of (epoch, value), best_value, ...) and space (the space searched). Ctrl-C ends the
    search after the current trial (KeyboardInterrupt).
    """
    data = as_dataset(data)

    def report(trial):
        if verbose:
            params = " ".join(f"{k}={v}" for k, v in trial["params"].items())
            print(f"trial {trial['index']}: {trial['status']}, best validation {metric} "
                  f"{trial['best_value']:.4f} at epoch {trial['best_epoch']} ({params})",
                  flush=True)

    result = _core.tune(model._core.flags, data._core, space or "", int(trials or 0),
                        60.0 * budget_minutes if budget_minutes else 0.0, int(eta),
                        int(eval_every), metric, report)
    result["best_params"] = {k.replace("-", "_"): _value(v)
                             for k, v in result["best_params"].items()}
    for trial in result["trials"]:
        trial["params"] = {k.replace("-", "_"): _value(v) for k, v in trial["params"].items()}
    return result
