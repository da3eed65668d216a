"""directspec: spectrum-balanced recommender embeddings (DirectSpec / DirectSpec+ on MF and
LightGCN) from Python. A thin layer over the C++ library and directspec-train: the same
settings, presets, trainers, data loading and model files. docs/python.md is the manual.

    import directspec
    data = directspec.load_dataset("datasets/ml-100k")
    model = directspec.MF(preset="citeulike-mf", epochs=20).fit(data)
    print(model.evaluate(data))                  # {"recall@20": ..., "ndcg@20": ..., ...}
    ids, scores = model.recommend([0, 1, 2], k=10)
"""

from ._core import DataError, build_info
from ._data import Dataset, load_dataset
from ._model import MF, LightGCN, load, presets
from ._tune import tune

__all__ = ["Dataset", "DataError", "LightGCN", "MF", "build_info", "load", "load_dataset",
           "presets", "tune"]
__version__ = "0.1.0"
