"""Datasets: the map-style ``Dataset`` protocol, ``TensorDataset``, ``Subset``, ``ConcatDataset``,
``StackDataset``, the stream ``ChainDataset`` and ``random_split``.

A dataset may offer ``_get_batch(indices)``: given a NumPy array of indices it returns the whole
collated batch at once (a list of tensors), or ``None`` when it cannot. ``DataLoader`` uses it
instead of fetching and stacking samples one by one, which is what makes in-memory training fast.
"""

from __future__ import annotations

import bisect
import math
import warnings
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from ember import backend
from ember.random import Generator, get_rng
from ember.tensor import Tensor


class Dataset:
    """A map-style dataset: ``dataset[i]`` is the i-th sample and ``len(dataset)`` their number."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset read as a stream: implement ``__iter__`` instead of ``__getitem__``."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other):
        raise TypeError("IterableDatasets cannot be concatenated with +")


def _as_tensor(x) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._wrap(x)
    from ember.creation import tensor

    return tensor(x)


def _index_array(indices: np.ndarray, like):
    """``indices`` on the same device as the array ``like`` (CuPy arrays need CuPy indices)."""
    xp = backend.get_array_module(like)
    return indices if xp is np else xp.asarray(indices)


class TensorDataset(Dataset):
    """Samples are the rows of the given tensors: ``dataset[i] == (t[i] for t in tensors)``.

    Every tensor must have the same size in the first dimension. NumPy arrays are accepted and
    wrapped without copying.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(_as_tensor(t) for t in tensors)
        sizes = [t.shape[0] if t.ndim else None for t in self.tensors]
        if None in sizes:
            raise ValueError("TensorDataset needs tensors with at least one dimension (the samples)")
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in self.tensors)
            raise ValueError(
                f"Size mismatch between tensors: their first dimensions are {sizes} (shapes "
                f"{shapes}); every tensor needs one row per sample"
            )

    def __getitem__(self, index):
        return tuple(Tensor._wrap(t._data[index]) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _get_batch(self, indices: np.ndarray) -> list[Tensor]:
        return [Tensor._wrap(t._data[_index_array(indices, t._data)]) for t in self.tensors]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices
        self._array = None

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return [self.dataset[self.indices[i]] for i in idx]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list) -> list:
        """The samples at ``indices``, through the wrapped dataset's ``__getitems__`` if it has
        one (one call for the whole batch)."""
        inner = getattr(self.dataset, "__getitems__", None)
        if callable(inner):
            return inner([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def _get_batch(self, indices: np.ndarray):
        inner = getattr(self.dataset, "_get_batch", None)
        if inner is None:
            return None
        if self._array is None:
            self._array = np.asarray(self.indices, dtype=np.int64)
        return inner(self._array[indices])


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise IndexError(f"index {idx} is out of range for a dataset of {n} samples")
            idx += n
        if idx >= n:
            raise IndexError(f"index {idx} is out of range for a dataset of {n} samples")
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Several :class:`IterableDataset` streams read one after the other, lazily (nothing is
    loaded up front, so chaining large streams costs nothing)."""

    def __init__(self, datasets: Iterable[Dataset]):
        self.datasets = datasets

    @staticmethod
    def _check(dataset) -> None:
        if not isinstance(dataset, IterableDataset):
            raise TypeError(f"ChainDataset only supports IterableDataset, got "
                            f"{type(dataset).__name__}")

    def __iter__(self) -> Iterator:
        for dataset in self.datasets:
            self._check(dataset)
            yield from dataset

    def __len__(self) -> int:
        total = 0
        for dataset in self.datasets:
            self._check(dataset)
            total += len(dataset)  # TypeError for a stream without a length, as in PyTorch
        return total

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


class StackDataset(Dataset):
    """Several datasets of equal length side by side: sample ``i`` is the tuple
    ``(d[i] for d in args)``, or with keyword datasets the dict ``{k: d[i]}``."""

    def __init__(self, *args: Dataset, **kwargs: Dataset):
        if args and kwargs:
            raise ValueError("StackDataset takes its datasets either positionally (samples are "
                             "tuples) or by keyword (samples are dicts), not both")
        if not args and not kwargs:
            raise ValueError("StackDataset needs at least one dataset")
        self.datasets: tuple | dict = args if args else kwargs
        members = args if args else tuple(kwargs.values())
        lengths = [len(d) for d in members]
        if len(set(lengths)) != 1:
            names = ([f"#{i}" for i in range(len(args))] if args else list(kwargs))
            detail = ", ".join(f"{n}: {length}" for n, length in zip(names, lengths))
            raise ValueError(f"Size mismatch between datasets: StackDataset needs datasets of "
                             f"equal length, got {detail}")
        self._length = lengths[0]

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    @staticmethod
    def _column(dataset, indices: list) -> list:
        """``[dataset[i] for i in indices]``, through the dataset's ``__getitems__`` if it has one."""
        getitems = getattr(dataset, "__getitems__", None)
        if not callable(getitems):
            return [dataset[i] for i in indices]
        items = getitems(indices)
        if len(items) != len(indices):
            raise ValueError(f"Nested dataset's output size mismatch: {type(dataset).__name__}."
                             f"__getitems__ returned {len(items)} samples for {len(indices)} "
                             f"indices")
        return list(items)

    def __getitems__(self, indices: list) -> list:
        """The samples at ``indices``, each member dataset asked for all of them at once."""
        if isinstance(self.datasets, dict):
            keys = list(self.datasets)
            columns = [self._column(self.datasets[k], indices) for k in keys]
            return [dict(zip(keys, row)) for row in zip(*columns)]
        columns = [self._column(d, indices) for d in self.datasets]
        return [tuple(row) for row in zip(*columns)]

    def _get_batch(self, indices: np.ndarray):
        # default_collate of tuple samples is the list of each member's collated batch (of dict
        # samples, the dict of them), which is what the members' own fast paths return
        members = self.datasets.values() if isinstance(self.datasets, dict) else self.datasets
        batches = []
        for d in members:
            fast = getattr(d, "_get_batch", None)
            batch = fast(indices) if fast is not None else None
            if batch is None:
                return None
            batches.append(batch)
        if isinstance(self.datasets, dict):
            return dict(zip(self.datasets, batches))
        return batches

    def __len__(self) -> int:
        return self._length


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 generator: Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1 (each
    subset gets ``floor(fraction * n)`` samples and the remainder is handed out one by one from
    the first subset on, as PyTorch does). The same ``generator`` seed (or ``ember.manual_seed``)
    gives the same split.
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1: {frac}")
            counts.append(int(math.floor(n * frac)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty "
                              "dataset.", stacklevel=2)
        lengths = counts
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(f"lengths must be non-negative integers or fractions summing to 1, got "
                         f"{lengths}")
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of the "
                         f"input dataset ({n})!")
    perm = get_rng(generator).permutation(n).tolist()
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[offset:offset + int(length)]))
        offset += int(length)
    return out
