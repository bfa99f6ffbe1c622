"""``DataLoader``: batches from a dataset, shuffled with a seed, collated into tensors.

Batches are loaded in the main process. When the dataset can hand out a whole batch at once
(``TensorDataset``, a ``Subset`` of one, ember's datasets without transforms) and no custom
``collate_fn`` is given, each batch is one fancy-indexing operation per tensor instead of a
Python loop over samples.
"""

from __future__ import annotations

import collections.abc
import warnings
from typing import Any, Callable, Iterator

import numpy as np

from ember import backend
from ember.random import Generator
from ember.tensor import Tensor
from ember.utils.data.dataset import Dataset, IterableDataset
from ember.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


def _stack(arrays: list, what: str):
    first = arrays[0]
    for i, a in enumerate(arrays):
        if a.shape != first.shape:
            raise RuntimeError(
                f"default_collate: stack expects each {what} to be equal size, but got "
                f"{list(first.shape)} at entry 0 and {list(a.shape)} at entry {i}; pad the samples "
                "to one size or pass a collate_fn"
            )
    return backend.get_array_module(first).stack(arrays)


def default_collate(batch: list) -> Any:
    """Merge a list of samples into a batch, recursively.

    Tensors and NumPy arrays are stacked along a new first dimension (dtype kept); Python ints
    become an int64 tensor, floats a tensor of the default float dtype (float32), bools a bool
    tensor, NumPy scalars keep their dtype; strings stay a list; dicts, tuples and lists are
    collated element by element (a tuple or list sample gives a list, as in PyTorch).
    """
    if len(batch) == 0:
        raise ValueError("default_collate got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return Tensor._wrap(_stack([b._data for b in batch], "tensor"))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "USOV":
            raise TypeError(f"default_collate: batch must contain numbers, not arrays of dtype "
                            f"{elem.dtype}")
        return Tensor._wrap(_stack([np.asarray(b) for b in batch], "array"))
    if isinstance(elem, np.generic):
        return Tensor._wrap(np.array(batch))
    if isinstance(elem, bool):
        return Tensor._wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor._wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor._wrap(np.array(batch, dtype=backend.get_default_dtype().np))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(
        f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(elem).__name__}. Pass a collate_fn that knows how to batch it."
    )


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays (also inside dicts, tuples and lists) into tensors; the rest unchanged."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "USOV":
        return Tensor._wrap(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return Tensor._wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(v) for v in data))
    if isinstance(data, tuple):
        return [default_convert(v) for v in data]
    if isinstance(data, list):
        return [default_convert(v) for v in data]
    return data


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: a map-style :class:`Dataset` (``__getitem__`` and ``__len__``) or an
            :class:`IterableDataset`.
        batch_size: samples per batch; ``None`` yields samples one at a time, uncollated.
        shuffle: visit the samples in a new random order every epoch.
        sampler: a custom order of indices (excludes ``shuffle``).
        batch_sampler: yields whole lists of indices (excludes ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        collate_fn: merges a list of samples into a batch (default :func:`default_collate`).
        generator: the random stream for shuffling; without one, ember's global generator, so
            ``ember.manual_seed`` makes the batches reproducible.
        num_workers, pin_memory, timeout, worker_init_fn, prefetch_factor, persistent_workers:
            accepted for compatibility; batches are always loaded in the main process.
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | None = None, batch_sampler: Sampler | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing")
        if num_workers > 0:
            warnings.warn(f"ember's DataLoader loads batches in the main process; num_workers="
                          f"{num_workers} is ignored", UserWarning, stacklevel=2)
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected no sampler or "
                                 "batch_sampler; the dataset decides its own order")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not self._iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_sampler is not None or (self._iterable and batch_size is not None)
        self._custom_collate = collate_fn is not None and collate_fn is not default_collate
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError when the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def _fetch(self, indices: np.ndarray):
        if not self._custom_collate:
            fast = getattr(self.dataset, "_get_batch", None)
            if fast is not None:
                out = fast(indices)
                if out is not None:
                    return out
        items = indices.tolist()
        getitems = getattr(self.dataset, "__getitems__", None)
        data = getitems(items) if getitems is not None else [self.dataset[i] for i in items]
        return self.collate_fn(data)

    def __iter__(self) -> Iterator:
        if self._iterable:
            yield from self._iter_stream()
            return
        if self.batch_sampler is None:
            for i in self.sampler:
                yield self.collate_fn(self.dataset[i])
            return
        if isinstance(self.batch_sampler, BatchSampler):
            batches = self.batch_sampler._batches()
        else:
            batches = (np.asarray(list(b), dtype=np.int64) for b in self.batch_sampler)
        for idx in batches:
            yield self._fetch(idx)

    def _iter_stream(self) -> Iterator:
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)
