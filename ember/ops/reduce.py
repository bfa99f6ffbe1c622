"""Reductions: sum, mean, prod, max/min (with indices), argmax/argmin, var/std, logsumexp, norm,
all/any, cumsum. Each reduces over ``dim`` (an int, a tuple, or all dims) with ``keepdim``."""

from __future__ import annotations

from ember.ops.common import Tensor, attach, record


def _axes(dim, ndim):
    """Normalise ``dim`` to a tuple of non-negative axes (``None`` means every axis)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    out = []
    for d in dim:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
                f"{max(ndim, 1) - 1}], but got {d})"
            )
        out.append(d % ndim if ndim else 0)
    return tuple(out)


def _expand_back(g: Tensor, shape: tuple, axes: tuple, keepdim: bool) -> Tensor:
    """Broadcast a reduced gradient back over the reduced axes to ``shape``."""
    if not keepdim and axes and len(shape):
        kept = list(g.shape)
        for ax in sorted(axes):
            kept.insert(ax, 1)
        g = g.reshape(tuple(kept))
    return g.expand(shape)


def sum(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over ``dim`` (all dims when ``None``)."""
    data = x._data
    axes = _axes(dim, data.ndim)
    if dtype is not None:
        from ember.backend import to_dtype

        data = data.astype(to_dtype(dtype).np)
    elif data.dtype.kind in "bu" or (data.dtype.kind == "i" and data.dtype.itemsize < 8):
        data = data.astype("int64")  # PyTorch sums integers and bools as int64
    out = data.sum(axis=axes, keepdims=keepdim)
    shape = x.shape
    return record("Sum", out, (x,), lambda g: (_expand_back(g, shape, axes, keepdim),))


__all__ = ["sum"]

attach(sum=sum)
