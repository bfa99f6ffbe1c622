"""Sample and class weights for ``fit``/``evaluate``, with Keras 3's loss reduction.

A weighted batch loss is Keras' ``"sum_over_batch_size"``: ``sum_i(w_i * l_i) / N`` over the
``N`` samples of the batch, where ``l_i`` is sample ``i``'s loss (the mean over its elements when
the loss is not one number per sample). Dividing by ``N`` and not by ``sum(w)`` is what Keras
does: a weight of 2 counts a sample twice, and the scale of the loss (hence the learning rate
that suits it) does not depend on how the weights are normalised. With unit weights the result is
the loss's own reduction: the weighted element sum is divided by what that reduction divides by
(the summed class weights of the counted targets for cross-entropy/NLL with ``weight`` or
``ignore_index``, ``N`` for ``"batchmean"``, nothing for ``"sum"``).

Per-sample losses come from the compiled loss with ``reduction="none"``: a loss module's
``reduction`` is switched for the call (one with ``reduction="sum"`` keeps summing:
``sum_i(w_i * l_i)``), a function with a ``reduction`` parameter gets ``reduction="none"``, and
any other function must already return one value per sample.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any, Callable

import numpy as np

from ember import backend
from ember.models.data_adapter import as_sample_weight  # noqa: F401  (its older home)
from ember.tensor import Tensor

_NEED_PER_SAMPLE = ("return per-sample losses (reduction='none') to use sample_weight/"
                    "class_weight")


def _loss_name(loss_fn) -> str:
    return getattr(loss_fn, "__name__", None) or type(loss_fn).__name__


def _takes_reduction(fn: Callable) -> bool:
    """Whether calling ``fn`` with ``reduction=...`` is allowed (``F.cross_entropy`` and co.)."""
    target = getattr(fn, "forward", fn)
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False
    return "reduction" in params


def per_sample_loss(loss_fn: Callable, y_pred, y) -> tuple[Tensor, str]:
    """``(values, reduction)``: the unreduced loss, shape ``(N, ...)`` (one value per sample, or
    per element), and the reduction the loss applies itself (``"mean"``, ``"sum"``,
    ``"batchmean"``).

    Raises:
        ValueError: the loss returned something other than one value per sample (a plain
            function that reduces the batch itself).
    """
    from ember.nn import Module

    n = int(y_pred.shape[0]) if getattr(y_pred, "shape", None) else None
    reduction = getattr(loss_fn, "reduction", None)
    mode = "mean"
    if isinstance(loss_fn, Module) and isinstance(reduction, str):
        mode = reduction
        # switched for this call only: the same module keeps serving unweighted batches
        object.__setattr__(loss_fn, "reduction", "none")
        try:
            values = loss_fn(y_pred, y)
        finally:
            object.__setattr__(loss_fn, "reduction", reduction)
    elif _takes_reduction(loss_fn):
        default = _default(loss_fn, "reduction")
        mode = default if isinstance(default, str) else "mean"
        values = loss_fn(y_pred, y, reduction="none")
    else:
        values = loss_fn(y_pred, y)
    shape = tuple(getattr(values, "shape", ()))
    if not isinstance(values, Tensor) or not shape or (n is not None and shape[0] != n):
        got = f"shape {shape}" if isinstance(values, Tensor) else type(values).__name__
        raise ValueError(
            f"the loss {_loss_name(loss_fn)} returned {got} for a batch of {n} samples; it must "
            f"{_NEED_PER_SAMPLE}: return one value per sample, shape (N,), or accept a "
            "`reduction` argument"
        )
    return values, mode


def _default(fn: Callable, name: str) -> Any:
    """The default of ``fn``'s parameter ``name``, or ``None``."""
    try:
        param = inspect.signature(getattr(fn, "forward", fn)).parameters.get(name)
    except (TypeError, ValueError):
        return None
    return None if param is None or param.default is inspect.Parameter.empty else param.default


def _divisor(loss_fn: Callable, mode: str, y, values: Tensor):
    """What the loss's own reduction divides the sum of ``values`` by, so that unit weights
    reproduce it: 1 for ``"sum"``, ``N`` for ``"batchmean"``, else the element count, or for
    class-index targets of a loss with class weights or an ``ignore_index`` (cross-entropy,
    NLL) the summed class weights of the targets that are not ignored, as PyTorch's mean."""
    if mode == "sum":
        return 1
    if mode == "batchmean":
        return int(values.shape[0])
    ignore = getattr(loss_fn, "ignore_index", None)
    weight = getattr(loss_fn, "weight", None)
    if ignore is None and not hasattr(loss_fn, "forward"):
        ignore = _default(loss_fn, "ignore_index")  # F.cross_entropy's -100
    ya = y._data if isinstance(y, Tensor) else None
    if (ignore is None and weight is None) or ya is None or ya.dtype.kind not in "iu" \
            or tuple(ya.shape) != tuple(values.shape):
        return values.numel()
    xp = backend.get_array_module(ya)
    if isinstance(weight, Tensor):
        c = weight._data[xp.clip(ya, 0, weight.shape[0] - 1)].astype(values._data.dtype)
    else:
        c = xp.ones(ya.shape, dtype=values._data.dtype)
    if ignore is not None:
        c = xp.where(ya == ignore, 0, c)
    return Tensor._wrap(c.sum())


def weighted_loss(loss_fn: Callable, y_pred, y, sample_weight) -> Tensor:
    """``sum_i(w_i * l_i) / N`` (Keras' ``"sum_over_batch_size"``); see the module doc."""
    values, mode = per_sample_loss(loss_fn, y_pred, y)
    w = sample_weight._data if isinstance(sample_weight, Tensor) else sample_weight
    w = backend.get_array_module(values._data).asarray(w, dtype=values._data.dtype)
    n = int(values.shape[0])
    # per-element losses (MSE on (N, d) outputs) weigh every element of a sample alike, which
    # divided by the element count is Keras' mean per sample
    w = w.reshape((n,) + (1,) * (values.ndim - 1))
    total = (values * Tensor._wrap(w)).sum()
    return total / _divisor(loss_fn, mode, y, values)


# ------------------------------------------------------------------------------ the arguments


def class_weight_table(class_weight: Any, n_classes: int | None = None,
                       kind: str | None = None) -> np.ndarray:
    """The weight of every class index, from ``{class index: weight}``; classes not named get
    1.0 (as Keras 3 does for array inputs).

    Args:
        class_weight: the dict given to ``fit``.
        n_classes: the number of classes when known (the model's outputs), to reject keys that
            name no class.
        kind: the compiled loss's target kind; ``"regression"`` has no classes.

    Raises:
        TypeError: ``class_weight`` is not a dict.
        ValueError: a key is not a class index, or a weight is not finite and non-negative.
    """
    if not isinstance(class_weight, Mapping):
        raise TypeError("class_weight must be a dict {class index: weight}, e.g. {0: 1.0, 1: 5.0}; "
                        f"got {type(class_weight).__name__}")
    if kind == "regression":
        raise ValueError("class_weight needs class labels, but the compiled loss compares "
                         "regression targets; weight the samples with sample_weight instead")
    if not class_weight:
        raise ValueError("class_weight is empty; pass None for no class weights")
    size = 0
    for k, v in class_weight.items():
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"class_weight keys must be class indices (ints 0, 1, 2, ...), got "
                             f"{k!r} ({type(k).__name__}); map each class index to its weight")
        if n_classes is not None and k >= n_classes:
            raise ValueError(f"class_weight key {int(k)} is not a class index: the model has "
                             f"{n_classes} classes (0..{n_classes - 1})")
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)) \
                or not math.isfinite(float(v)) or v < 0:
            raise ValueError(f"class_weight[{int(k)}] must be a finite, non-negative number, got "
                             f"{v!r}")
        size = max(size, int(k) + 1)
    table = np.ones(max(size, n_classes or 0), dtype=backend.get_default_dtype().np)
    for k, v in class_weight.items():
        table[int(k)] = float(v)
    return table


class ClassWeighter:
    """Turns a batch ``(x, y[, w])`` into ``(x, y, w * class_weight[class of y])``.

    The class of a sample is its integer label, the rounded value of a 0/1 target, or the argmax
    of a one-hot / probability row.
    """

    def __init__(self, table: np.ndarray):
        self.table = table
        self._on_device: dict[Any, Any] = {}

    def __call__(self, batch):
        if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
            raise ValueError("class_weight needs batches of (x, y) or (x, y, sample_weight)")
        x, y = batch[0], batch[1]
        w = batch[2] if len(batch) == 3 else None
        ya = y._data if isinstance(y, Tensor) else np.asarray(y)
        xp = backend.get_array_module(ya)
        if ya.ndim == 2:
            idx = ya.argmax(1) if ya.shape[1] > 1 else ya[:, 0]
        elif ya.ndim == 1:
            idx = ya
        else:
            raise ValueError(
                f"class_weight needs one class per sample, but the targets have shape "
                f"{tuple(ya.shape)}; weight the samples with sample_weight instead"
            )
        if idx.dtype.kind == "f":
            idx = xp.rint(idx)
        idx = idx.astype(np.int64)
        table = self._on_device.get(xp)
        if table is None:
            table = self._on_device[xp] = xp.asarray(self.table)
        inside = (idx >= 0) & (idx < table.shape[0])
        cw = xp.where(inside, table[xp.clip(idx, 0, table.shape[0] - 1)], 1.0).astype(table.dtype)
        if w is not None:
            cw = (w._data if isinstance(w, Tensor) else xp.asarray(w)) * cw
        return (x, y, Tensor._wrap(cw))
