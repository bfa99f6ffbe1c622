"""Turning what ``fit``/``evaluate``/``predict`` accept into batches, with the input checks.

Accepted: NumPy arrays or ember Tensors ``x`` (and ``y``, and optionally per-sample weights), a
``Dataset`` yielding ``(x, y)`` pairs or ``(x, y, sample_weight)`` triples, or a ``DataLoader``.
In-memory arrays are batched here directly (no per-sample Python work): the whole array is moved
to the training device once and each batch is a slice or a fancy-index of it. Shuffling draws
its permutation from ember's global generator, so ``ember.manual_seed`` makes runs repeatable.
"""

from __future__ import annotations

import collections.abc
import math
from typing import Any, Iterator

import numpy as np

from ember import backend
from ember.random import get_rng
from ember.tensor import Tensor


def is_dataset(obj: Any) -> bool:
    """A map-style dataset: indexable and sized, but not an array or Tensor."""
    return (hasattr(obj, "__getitem__") and hasattr(obj, "__len__")
            and not isinstance(obj, (Tensor, np.ndarray, list, tuple))
            and not hasattr(obj, "__cuda_array_interface__"))


def is_loader(obj: Any) -> bool:
    """A ``DataLoader`` (anything iterable over batches with ``batch_size``/``dataset``)."""
    from ember.utils.data import DataLoader

    return isinstance(obj, DataLoader)


def is_batch_iterator(obj: Any) -> bool:
    """A Python generator (or any other one-shot iterator) of batches, as Keras accepts: it
    yields ``(x, y)`` or ``(x, y, sample_weight)`` tuples (``x`` alone for ``predict``)."""
    return (isinstance(obj, collections.abc.Iterator)
            and not isinstance(obj, (Tensor, np.ndarray)) and not is_loader(obj))


def check_batch_size(batch_size: Any, what: str) -> int:
    """``batch_size`` as an int >= 1 (``None`` means 32, as in Keras), or a ``ValueError``
    saying what to pass."""
    if batch_size is None:
        return 32
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)):
        hint = (f"; a fraction is not rounded: pass {int(batch_size)} or {int(batch_size) + 1}"
                if isinstance(batch_size, (float, np.floating)) and batch_size > 1 else "")
        raise ValueError(f"{what}: batch_size must be a whole number >= 1 (samples per batch, e.g. "
                         f"batch_size=32), got {batch_size!r} of type "
                         f"{type(batch_size).__name__}{hint}")
    if batch_size < 1:
        raise ValueError(f"{what}: batch_size must be a whole number >= 1 (samples per batch, e.g. "
                         f"batch_size=32), got {int(batch_size)}")
    return int(batch_size)


def check_validation_split(validation_split: Any) -> float:
    """``validation_split`` as a float in [0, 1), or a ``ValueError`` saying what to pass."""
    if isinstance(validation_split, (bool, np.bool_)) or not isinstance(
            validation_split, (int, float, np.integer, np.floating)):
        raise ValueError(f"validation_split must be a number in [0, 1) (the fraction of the samples "
                         f"held out, e.g. 0.2), got {validation_split!r}")
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1) (the fraction of the samples held "
                         f"out, e.g. 0.2), got {validation_split}")
    return float(validation_split)


def as_array(value: Any, name: str, features: bool):
    """The backend array for ``x`` (``features=True``) or ``y``.

    NumPy float64 input (NumPy's default) becomes ember's default float dtype, as Keras casts to
    ``floatx``; Python lists of ints become int64. Tensors keep their dtype.
    """
    if isinstance(value, Tensor):
        return value.detach()._data
    if hasattr(value, "__cuda_array_interface__"):
        return value
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], Tensor):
        raise TypeError(f"{name} is a list of Tensors; stack them first (ember.stack({name}))")
    if callable(value):
        fn = getattr(value, "__name__", type(value).__name__)
        raise TypeError(f"{name} is a function ({fn}); pass the data itself, or for a generator "
                        f"function the generator it makes: {fn}()")
    if isinstance(value, list) and value and isinstance(value[0], tuple) and len(value[0]) in (
            2, 3) and hasattr(value[0][0], "shape"):
        raise TypeError(f"{name} is a list of (x, y) batches; pass iter({name}) (batches are "
                        "then read once, as from a generator) or the whole arrays x and y")
    arr = np.asarray(value)
    if arr.dtype == object or arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold numbers, got an array of dtype {arr.dtype}")
    if arr.dtype.kind == "f" and arr.dtype != backend.get_default_dtype().np and arr.dtype == np.float64:
        arr = arr.astype(backend.get_default_dtype().np)
    elif arr.dtype.kind in "iu" and not isinstance(value, np.ndarray):
        arr = arr.astype(np.int64)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have a first (sample) dimension, got a scalar")
    return arr


class ArrayBatches:
    """Mini-batches over in-memory arrays ``x`` (and optional ``y`` and sample weights ``w``),
    optionally shuffled.

    Yields ``(x, y)`` tuples of Tensors (``(x, y, w)`` with weights, ``(x,)`` without ``y``).
    """

    def __init__(self, x, y, batch_size: int, shuffle: bool, device=None, w=None):
        if device is not None:
            x = backend.move_array(x, device)
            y = backend.move_array(y, device) if y is not None else None
            w = backend.move_array(w, device) if w is not None else None
        self.x, self.y, self.w = x, y, w
        self.n = int(x.shape[0])
        self.batch_size = int(batch_size)
        self.shuffle = shuffle

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size) if self.n else 0

    def _order(self):
        """This epoch's sample indices, or ``None`` for ``0 .. n-1`` (batches are then slices,
        which are views: no copy)."""
        return get_rng().permutation(self.n) if self.shuffle else None

    def __iter__(self) -> Iterator[tuple]:
        bs = self.batch_size
        order = self._order()
        if order is None:
            n = self.n
        else:
            n = len(order)
            xp = backend.get_array_module(self.x)
            if xp is not np:
                order = xp.asarray(order)
        for start in range(0, n, bs):
            sl = slice(start, min(start + bs, n)) if order is None else order[start:start + bs]
            xb = Tensor._wrap(self.x[sl])
            if self.y is None:
                yield (xb,)
            elif self.w is None:
                yield xb, Tensor._wrap(self.y[sl])
            else:
                yield xb, Tensor._wrap(self.y[sl]), Tensor._wrap(self.w[sl])


class LoaderBatches:
    """Batches from a ``DataLoader``, each moved to ``device`` when it is not there yet."""

    def __init__(self, loader, device=None):
        self.loader = loader
        self.device = device

    def __len__(self) -> int:
        try:
            return len(self.loader)
        except TypeError:
            return 0

    def __iter__(self):
        for batch in self.loader:
            if isinstance(batch, Tensor):
                batch = (batch,)
            batch = tuple(_to_tensor(b, self.device) for b in batch)
            yield batch


class GeneratorBatches:
    """Batches from a Python generator or iterator, read once: as in Keras, without
    ``steps_per_epoch`` the first epoch runs until the generator is exhausted; a later epoch
    that finds it exhausted ends the training with a warning.

    Each batch is checked as it comes: ``(x, y)`` or ``(x, y, sample_weight)`` (``x`` alone is
    accepted where no targets are needed), numbers only, the same number of samples in each part.
    """

    one_shot = True

    def __init__(self, source, device=None, what: str = "fit", requires_y: bool = True):
        self.source = source
        self.device = device
        self.what = what
        self.requires_y = requires_y
        self.count = 0

    def __iter__(self):
        for batch in self.source:
            self.count += 1
            yield self._checked(batch, self.count)

    def _checked(self, batch, number: int) -> tuple:
        where = f"{self.what}: batch {number} from the generator"
        if isinstance(batch, dict):
            raise ValueError(f"{where} is a dict; yield (x, y) or (x, y, sample_weight) tuples")
        parts = tuple(batch) if isinstance(batch, (tuple, list)) else (batch,)
        if not 1 <= len(parts) <= 3:
            raise ValueError(f"{where} has {len(parts)} parts; yield (x, y) or "
                             "(x, y, sample_weight) tuples")
        if self.requires_y and len(parts) == 1:
            raise ValueError(f"{where} holds x only; for training and evaluation yield (x, y) or "
                             "(x, y, sample_weight) tuples")
        names = ("x", "y", "sample_weight")
        tensors = []
        for name, part in zip(names, parts):
            tensors.append(_to_tensor(part, self.device, f"{where}: {name}"))
        lengths = [int(t.shape[0]) if t.ndim else None for t in tensors]
        if None in lengths or len(set(lengths)) > 1:
            shapes = ", ".join(f"{n} {tuple(t.shape)}" for n, t in zip(names, tensors))
            raise ValueError(f"{where} does not have one sample per row in each part ({shapes}); "
                             "x, y and sample_weight must have the same first dimension")
        return tuple(tensors)


def _to_tensor(b, device, name: str = "batch"):
    if not isinstance(b, Tensor):
        b = Tensor._wrap(as_array(b, name, True))
    if device is not None and b.device != device:
        b = b.to(device)
    return b


def batch_length(batch) -> int:
    """The number of samples in a batch (the first dimension of its first tensor)."""
    first = batch[0] if isinstance(batch, (tuple, list)) else batch
    while isinstance(first, (tuple, list)):
        first = first[0]
    shape = getattr(first, "shape", None)
    return int(shape[0]) if shape else 1


def dataset_arrays(dataset):
    """``(x, y, w)`` arrays when a dataset is a ``TensorDataset`` of two tensors (``w`` is then
    ``None``) or three (the third holds the sample weights), else ``None``."""
    tensors = getattr(dataset, "tensors", None)
    if isinstance(tensors, (tuple, list)) and len(tensors) in (2, 3) and all(
            isinstance(t, Tensor) for t in tensors):
        w = tensors[2]._data if len(tensors) == 3 else None
        return tensors[0]._data, tensors[1]._data, w
    return None


class _SliceDataset:
    """A contiguous range of another dataset (for ``validation_split`` on a Dataset)."""

    def __init__(self, dataset, start: int, stop: int):
        self.dataset, self.start, self.stop = dataset, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, i: int):
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.dataset[self.start + i]


def check_same_length(xa, ya, what: str | None = None) -> None:
    """Raise a ``ValueError`` naming both shapes when ``x`` and ``y`` differ in sample count
    (``what``, e.g. ``"evaluate"``, prefixes the message)."""
    if xa.shape[0] != ya.shape[0]:
        prefix = f"{what}: " if what else ""
        raise ValueError(
            f"{prefix}x and y must have the same number of samples: x has {xa.shape[0]} (shape "
            f"{tuple(xa.shape)}) but y has {ya.shape[0]} (shape {tuple(ya.shape)})"
        )


def as_sample_weight(value: Any, n: int, where: str = "sample_weight"):
    """``sample_weight`` as a float array of shape ``(n,)``, on the array library it came in.

    Raises:
        ValueError: not one finite, non-negative number per sample (the message names both
            lengths when they differ).
    """
    w = as_array(value, where, False)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.ndim != 1:
        raise ValueError(f"{where} must be 1-D, one weight per sample, but has shape "
                         f"{tuple(w.shape)}; for per-element weights override compute_loss")
    if w.shape[0] != n:
        raise ValueError(f"{where} has {w.shape[0]} weights but x has {n} samples; give exactly "
                         "one weight per sample")
    xp = backend.get_array_module(w)
    w = w.astype(backend.get_default_dtype().np, copy=False)
    if w.size and not bool(xp.all(xp.isfinite(w) & (w >= 0))):
        bad = w[~(xp.isfinite(w) & (w >= 0))][0]
        raise ValueError(f"{where} must hold finite, non-negative numbers; found {float(bad)}")
    return w


def make_batches(x, y, batch_size: int, shuffle: bool, device, what: str = "x",
                 requires_y: bool = True, sample_weight=None):
    """Batches for ``x``/``y`` (and ``sample_weight``, arrays only) in any accepted form; see
    the module doc."""
    if x is None:
        raise ValueError(f"{what} is required: pass NumPy arrays/Tensors x and y, a Dataset or a "
                         "DataLoader")
    batch_size = check_batch_size(batch_size, what)
    if is_loader(x) or is_dataset(x) or is_batch_iterator(x):
        check_no_sample_weight(x, sample_weight, what)
    if is_batch_iterator(x):
        if y is not None:
            raise ValueError(f"{what}: when x is a generator, y must be None: let it yield (x, y) "
                             "batches")
        return GeneratorBatches(x, device, what, requires_y)
    if is_loader(x):
        if y is not None:
            raise ValueError("when x is a DataLoader, y must be None: the loader yields (x, y)")
        dataset = getattr(x, "dataset", None)
        if _sized(dataset) and len(dataset) == 0:
            raise ValueError(f"{what}: the DataLoader's dataset is empty (len 0); give it samples")
        return LoaderBatches(x, device)
    if is_dataset(x):
        if y is not None:
            raise ValueError("when x is a Dataset, y must be None: the dataset yields (x, y)")
        if len(x) == 0:
            raise ValueError(f"{what}: the Dataset is empty (len 0), so there is nothing to "
                             f"{'train on' if what == 'fit' else 'run'}; give it samples")
        arrays = dataset_arrays(x)
        if arrays is not None:
            return ArrayBatches(arrays[0], arrays[1], batch_size, shuffle, device, arrays[2])
        from ember.utils.data import DataLoader

        return LoaderBatches(DataLoader(x, batch_size=int(batch_size), shuffle=shuffle), device)
    xa = as_array(x, "x", True)
    if y is None:
        if requires_y:
            raise ValueError(f"{what}: y is missing; pass the targets as y (or a Dataset of (x, y))")
        return ArrayBatches(xa, None, batch_size, shuffle, device)
    ya = as_array(y, "y", False)
    check_same_length(xa, ya)
    w = None
    if sample_weight is not None:
        w = as_sample_weight(sample_weight, xa.shape[0], f"{what} sample_weight")
    return ArrayBatches(xa, ya, batch_size, shuffle, device, w)


def _sized(obj) -> bool:
    try:
        len(obj)
    except TypeError:
        return False
    return True


def check_no_sample_weight(x, sample_weight, what: str) -> None:
    """The ``sample_weight`` argument with a Dataset/DataLoader/generator is an error, as in
    Keras: such data carries its weights in its samples."""
    if sample_weight is not None:
        kind = ("DataLoader" if is_loader(x) else "generator" if is_batch_iterator(x)
                else "Dataset")
        raise ValueError(
            f"{what}: sample_weight cannot be given with a {kind}; make the {kind} yield "
            "(x, y, sample_weight) triples instead (e.g. TensorDataset(x, y, w))"
        )


def split_validation(x, y, validation_split: float, sample_weight=None):
    """``(x_train, y_train, w_train), (x_val, y_val, w_val)``: the last ``validation_split``
    of the samples is held out, before any shuffling (as Keras does); the ``w`` parts are
    ``None`` without ``sample_weight``."""
    validation_split = check_validation_split(validation_split)
    if is_batch_iterator(x):
        raise ValueError(
            "validation_split cannot split a generator (its batches are read once, as they "
            "come); pass validation_data=(x_val, y_val) (or a Dataset/DataLoader) instead"
        )
    if is_loader(x):
        raise ValueError(
            "validation_split needs arrays or a Dataset to split; with a DataLoader pass "
            "validation_data=(another loader) instead"
        )
    if is_dataset(x):
        n = len(x)
        cut = _split_point(n, validation_split)
        return (_SliceDataset(x, 0, cut), None, None), (_SliceDataset(x, cut, n), None, None)
    if y is None:
        raise ValueError("fit: y is missing; pass the targets as y (or a Dataset of (x, y))")
    xa, ya = as_array(x, "x", True), as_array(y, "y", False)
    check_same_length(xa, ya)
    cut = _split_point(xa.shape[0], validation_split)
    if sample_weight is None:
        return (xa[:cut], ya[:cut], None), (xa[cut:], ya[cut:], None)
    w = as_sample_weight(sample_weight, xa.shape[0])
    return (xa[:cut], ya[:cut], w[:cut]), (xa[cut:], ya[cut:], w[cut:])


def _split_point(n: int, validation_split: float) -> int:
    """How many of ``n`` samples stay for training; an error when either part would be empty."""
    cut = int(math.floor(n * (1.0 - validation_split)))
    if cut in (0, n):
        raise ValueError(f"validation_split={validation_split} of {n} samples leaves an empty "
                         "training or validation set")
    return cut
