"""The stateful :class:`Metric` base class, :class:`Mean`, and the array helpers metrics share.

A metric accumulates counts over many batches (``update``) and reports the value over everything
it has seen (``result``), so an epoch's accuracy or F1 is exact rather than an average of
per-batch values. Metrics work on the raw NumPy/CuPy arrays behind tensors: no graph is recorded
and only a few scalars cross from the GPU per batch.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ember.backend import get_array_module
from ember.tensor import Tensor


def to_array(x: Any):
    """The NumPy/CuPy array behind ``x`` (a Tensor, an array, or Python numbers), without a copy."""
    if isinstance(x, Tensor):
        return x._data
    if hasattr(x, "__cuda_array_interface__") or isinstance(x, np.ndarray):
        return x
    return np.asarray(x)


def labels_from(y_true, num_columns: int | None = None):
    """Integer class labels from ``y_true``: sparse labels as given, one-hot rows by argmax.

    ``num_columns`` is the width of the predictions; a 2-d ``y_true`` of that width is one-hot.
    """
    xp = get_array_module(y_true)
    if y_true.ndim == 2 and y_true.shape[1] > 1 and (num_columns is None or y_true.shape[1] == num_columns):
        return xp.argmax(y_true, axis=1)
    y = y_true.reshape(-1)
    if y.dtype.kind == "f":
        y = xp.rint(y)
    return y.astype(np.int64, copy=False)


class Metric:
    """Base class of stateful metrics, with Keras' and torchmetrics' method names.

    Subclasses implement ``_update(y_pred, y_true)`` on raw arrays, ``result()`` and ``reset()``.
    Feed each batch with either

    * ``update_state(y_true, y_pred, sample_weight=None)``: **Keras' order**, targets first;
    * ``update(y_pred, y_true)``: torchmetrics' order (``update(preds, target)``), predictions
      first, as in PyTorch losses (``Model.fit`` calls this one);

    then ``result()`` gives the value over all batches so far; ``reset()`` (Keras:
    ``reset_state()``) starts over (``fit`` resets every compiled metric at the start of each
    epoch). Calling the metric, ``metric(y_pred, y_true)``, updates it (torchmetrics' order) and
    returns the running result.

    Args:
        name: the key under which ``fit`` logs the metric (``val_`` is prefixed for validation).
    """

    default_name = "metric"
    # The attributes that make up the metric's running state (counters that add up across
    # processes); ``state()``/``merge()`` read and write them. A subclass names its own, or
    # overrides ``state``/``load_state`` for state of another shape.
    state_names: tuple[str, ...] = ()

    def __init__(self, name: str | None = None):
        self.name = name or self.default_name
        self.reset()

    def update(self, y_pred, y_true) -> None:
        """Accumulate one batch: ``y_pred`` are the model's outputs, ``y_true`` the targets
        (torchmetrics' order)."""
        self._update(to_array(y_pred), to_array(y_true))

    def _update_weighted(self, y_pred, y_true, sample_weight) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not take sample_weight")

    def _update(self, y_pred, y_true) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update(y_pred, y_true)")

    def result(self):
        """The metric over every batch seen since the last reset."""
        raise NotImplementedError(f"{type(self).__name__} must implement result()")

    def reset(self) -> None:
        """Forget everything seen so far."""
        raise NotImplementedError(f"{type(self).__name__} must implement reset()")

    # The state protocol: what a distributed ``fit`` exchanges between processes.
    def state(self) -> dict[str, Any]:
        """The running state as host values (numbers and NumPy arrays), by attribute name.

        Two metrics of the same configuration that saw different batches combine exactly with
        :meth:`merge`; a custom metric lists its counters in ``state_names`` (or the older
        ``dist_counters``); a metric named there contributes its own state.
        """
        names = tuple(self.state_names) + tuple(getattr(self, "dist_counters", ()))
        state = {}
        for k in names:
            if hasattr(self, k):
                v = getattr(self, k)
                state[k] = v.state() if isinstance(v, Metric) else _host(v)
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        """Set the running state from a dict as :meth:`state` returns."""
        for k, v in state.items():
            inner = getattr(self, k, None)
            if isinstance(inner, Metric):  # a metric kept inside this one (e.g. a Mean)
                inner.load_state(v)
            else:
                setattr(self, k, v)

    def merge(self, states: list[dict[str, Any]]) -> None:
        """Take the combined state of ``states`` (e.g. every process's :meth:`state`): counters
        are added, count arrays of different sizes added in their common corner."""
        self.load_state(merge_states(states))

    # Keras' names for the same operations.
    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Accumulate one batch in Keras' order: targets first, then predictions; optional
        per-sample weights where the metric supports them."""
        if sample_weight is None:
            self.update(y_pred, y_true)
        else:
            self._update_weighted(to_array(y_pred), to_array(y_true), to_array(sample_weight))

    def reset_state(self) -> None:
        """Alias of :meth:`reset` (Keras' name)."""
        self.reset()

    def __call__(self, y_pred, y_true):
        """Update with one batch and return the running result (as Keras metrics do)."""
        self.update(y_pred, y_true)
        return self.result()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _host(value: Any) -> Any:
    """``value`` with a CuPy array copied to host memory (other values unchanged)."""
    return value.get() if hasattr(value, "get") and not isinstance(value, dict) else value


def merge_states(states: list[Any]) -> Any:
    """The sum of several metric states (dicts as :meth:`Metric.state` gives, nested or not).

    Arrays of counts may differ in size (a confusion matrix grows with the classes one process
    saw); they are added into an array as large as the largest, each in its leading corner.
    """
    first = states[0]
    if isinstance(first, dict):
        return {k: merge_states([s[k] for s in states]) for k in first}
    if isinstance(first, np.ndarray) and first.ndim:
        shape = tuple(max(s.shape[d] for s in states) for d in range(first.ndim))
        total = np.zeros(shape, dtype=first.dtype)
        for s in states:
            total[tuple(slice(0, n) for n in s.shape)] += s
        return total
    return sum(states[1:], first)


class Mean(Metric):
    """The running (optionally weighted) mean of the values given to ``update(value, weight=1)``."""

    default_name = "mean"
    state_names = ("total", "count")

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update(self, value, weight: float = 1.0) -> None:  # type: ignore[override]
        """Add ``value`` (a number, or an array whose mean is taken) with ``weight``."""
        arr = to_array(value)
        v = float(arr.mean()) if getattr(arr, "size", 1) != 1 else float(arr.reshape(()))
        self.total += v * float(weight)
        self.count += float(weight)

    def update_state(self, values, sample_weight=None) -> None:  # type: ignore[override]
        """Keras' form: ``values`` (any shape) with optional weights of the same shape (or
        broadcastable to it); each element counts once, times its weight."""
        arr = to_array(values).astype(np.float64)
        if sample_weight is None:
            self.total += float(arr.sum())
            self.count += float(arr.size)
            return
        arr = np.asarray(_host(arr))
        w = np.broadcast_to(np.asarray(_host(to_array(sample_weight)), np.float64), arr.shape)
        self.total += float((arr * w).sum())
        self.count += float(np.sum(w))

    def __call__(self, value, weight: float = 1.0):  # type: ignore[override]
        self.update(value, weight)
        return self.result()

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class Sum(Metric):
    """The running sum of every value given (Keras' ``Sum``)."""

    default_name = "sum"
    state_names = ("total",)

    def reset(self) -> None:
        self.total = 0.0

    def update(self, values, sample_weight=None) -> None:  # type: ignore[override]
        """Add the sum of ``values`` (times ``sample_weight`` when given)."""
        arr = np.asarray(_host(to_array(values)), np.float64)
        if sample_weight is not None:
            arr = arr * np.asarray(_host(to_array(sample_weight)), np.float64)
        self.total += float(arr.sum())

    def update_state(self, values, sample_weight=None) -> None:  # type: ignore[override]
        self.update(values, sample_weight)

    def __call__(self, values, sample_weight=None):  # type: ignore[override]
        self.update(values, sample_weight)
        return self.result()

    def result(self) -> float:
        return self.total


class MeanMetricWrapper(Metric):
    """A metric from a function ``fn(y_pred, y_true) -> number``: its mean over samples.

    Each batch's value is weighted by the batch's number of samples, so the result is the mean
    over samples, not over batches.
    """

    def __init__(self, fn: Callable, name: str | None = None):
        self.fn = fn
        super().__init__(name or getattr(fn, "__name__", "metric"))

    state_names = ("_mean",)

    def reset(self) -> None:
        self._mean = Mean()

    def update(self, y_pred, y_true) -> None:
        value = self.fn(y_pred, y_true)
        n = len(y_pred) if hasattr(y_pred, "__len__") and getattr(y_pred, "ndim", 1) > 0 else 1
        self._mean.update(value.detach() if isinstance(value, Tensor) else value, weight=n)

    def result(self) -> float:
        return self._mean.result()
