"""Gradient clipping, in place on the parameters' ``.grad``, as ``torch.nn.utils``."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from ember import backend
from ember.tensor import Tensor


def _grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _norm_of(array, norm_type: float) -> float:
    xp = backend.get_array_module(array)
    a = xp.abs(array.astype(np.float64) if array.dtype != np.float64 else array)
    if norm_type == math.inf:
        return float(a.max()) if a.size else 0.0
    if norm_type == -math.inf:
        return float(a.min()) if a.size else math.inf
    if norm_type == 2.0:
        return float(xp.sqrt((a * a).sum()))
    if norm_type == 0:
        return float((a != 0).sum())
    return float((a ** norm_type).sum() ** (1.0 / norm_type))


def get_total_norm(tensors: Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` taken together, as a 0-d tensor."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._wrap(np.array(0.0, dtype=np.float32))
    norms = [_norm_of(t._data, norm_type) for t in tensors]
    if norm_type == math.inf:
        total = max(norms)
    elif norm_type == -math.inf:
        total = min(norms)
    elif norm_type == 0:
        total = sum(norms)
    else:
        total = sum(n ** norm_type for n in norms) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    dt = tensors[0]._data.dtype
    out = np.array(total, dtype=dt if dt.kind == "f" else np.float32)
    return Tensor._wrap(backend.move_array(out, tensors[0].device))


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale all gradients together so that their total ``norm_type``-norm is at most
    ``max_norm``; returns the total norm before clipping."""
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if not grads:
        return total
    coef = float(max_norm) / (float(total._data) + 1e-6)
    if coef < 1.0:  # PyTorch multiplies by min(coef, 1); skipping the no-op keeps grads exact
        for g in grads:
            g._data *= g._data.dtype.type(coef)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        xp = backend.get_array_module(g._data)
        xp.clip(g._data, -clip_value, clip_value, out=g._data)


__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm"]
