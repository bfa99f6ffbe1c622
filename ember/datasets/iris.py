"""Fisher's Iris data (150 flowers, 4 measurements in cm, 3 species), shipped with ember.

The CSV in ``ember/datasets/data/iris.csv`` holds the classic table as published by R. A. Fisher
(1936) from E. Anderson's measurements (public domain), with the two values of sample 35 and 38
as in Fisher's paper. ``Iris(split="train" | "test")`` gives a stratified, seeded hold-out split,
so every run and every user sees the same test flowers.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ember.tensor import Tensor
from ember.utils.data.dataset import Dataset

_CSV = Path(__file__).resolve().parent / "data" / "iris.csv"


def iris_split_indices(labels: np.ndarray, test_size: float = 0.2,
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/test indices: each class contributes ``round(test_size * count)``
    samples to the test part. Both index arrays come in a seeded random order (classes mixed),
    so a Keras-style ``validation_split`` taken from the end is not a single class."""
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be a fraction strictly between 0 and 1, got {test_size}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        members = members[rng.permutation(len(members))]
        k = int(round(test_size * len(members)))
        test.append(members[:k])
        train.append(members[k:])
    train_idx = np.concatenate(train)
    test_idx = np.concatenate(test)
    return train_idx[rng.permutation(len(train_idx))], test_idx[rng.permutation(len(test_idx))]


def _read_csv(path: Path, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        raise FileNotFoundError(f"cannot read the Iris CSV {path}: {e}") from None
    if not rows or len(rows[0]) != 5:
        raise ValueError(f"{path}: expected a header with 4 feature columns and a species column")
    features, labels = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        try:
            features.append([float(v) for v in row[:4]])
            labels.append(classes.index(row[4].strip()))
        except (ValueError, IndexError):
            raise ValueError(f"{path}, line {line}: expected 4 numbers and one of {classes}, got "
                             f"{row}") from None
    return np.asarray(features, dtype=np.float32), np.asarray(labels, dtype=np.int64)


class Iris(Dataset):
    """The Iris flowers: ``data`` float32 (N, 4), ``targets`` int64 (N,), N = 150 in full.

    Args:
        root: a folder holding another ``iris.csv`` in the same layout (default: the copy shipped
            in the package; no download, no argument needed).
        train: ``True`` for the training part of the split, ``False`` for the held-out part
            (the same as ``split="train"`` / ``"test"``).
        split: ``"train"``, ``"test"`` or ``None`` (all 150 samples, in file order).
        test_size: the held-out fraction of each class (0.2 gives 120 train / 30 test).
        seed: the split's seed; the same seed always gives the same split.
        transform, target_transform: applied to each sample's features / label by ``__getitem__``.
    """

    feature_names = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)",
                     "petal width (cm)"]
    classes = ["setosa", "versicolor", "virginica"]

    def __init__(self, root: str | os.PathLike | None = None, train: bool | None = None,
                 split: str | None = None, test_size: float = 0.2, seed: int = 0,
                 transform: Callable | None = None, target_transform: Callable | None = None):
        if train is not None:
            wanted = "train" if train else "test"
            if split is not None and split != wanted:
                raise ValueError(f"train={train} contradicts split={split!r}; give one of them")
            split = wanted
        if split not in (None, "train", "test"):
            raise ValueError(f"split must be 'train', 'test' or None, got {split!r}")
        path = Path(root) / "iris.csv" if root is not None else _CSV
        x, y = _read_csv(path, self.classes)
        if split is not None:
            train_idx, test_idx = iris_split_indices(y, test_size, seed)
            idx = train_idx if split == "train" else test_idx
            x, y = x[idx], y[idx]
        self.split = split
        self.transform = transform
        self.target_transform = target_transform
        self.data = Tensor._wrap(np.ascontiguousarray(x))
        self.targets = Tensor._wrap(np.ascontiguousarray(y))

    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        x = Tensor._wrap(self.data._data[index].copy())
        y = int(self.targets._data[index])
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y

    def _get_batch(self, indices: np.ndarray):
        if self.transform is not None or self.target_transform is not None:
            return None
        return [Tensor._wrap(self.data._data[indices]), Tensor._wrap(self.targets._data[indices])]

    def tensors(self) -> tuple[Tensor, Tensor]:
        """All features (float32, N x 4) and labels (int64) at once, for ``fit(x, y)``."""
        return (Tensor._wrap(self.data._data.copy()), Tensor._wrap(self.targets._data.copy()))

    def __repr__(self) -> str:
        split = "all" if self.split is None else self.split
        return f"Iris(split={split}, samples={len(self)})"
