"""Array helpers shared by the optimizers' update rules (raw NumPy/CuPy arrays, no autograd)."""

from __future__ import annotations

import numpy as np

# Fused updates walk the parameters in blocks of this many elements, so that the several passes
# of an update rule over one block hit the cache instead of memory (a NumPy stand-in for a fused
# kernel). 64K float32 values: 256 KiB per operand.
BLOCK = 1 << 16


def blocks(n: int, xp) -> list:
    """Slices covering ``range(n)`` in blocks of :data:`BLOCK` (one slice off the CPU, where
    NumPy's cache blocking buys nothing)."""
    if xp is not np or n <= BLOCK:
        return [slice(0, n)]
    return [slice(start, min(start + BLOCK, n)) for start in range(0, n, BLOCK)]


class Scratch:
    """Reusable temporary arrays of up to one block, per dtype, so a fused update allocates
    nothing per parameter (``get(xp, dtype, n, k)`` -> the k-th scratch vector of length n)."""

    def __init__(self):
        self._arrays: dict = {}

    def get(self, xp, dtype, n: int, k: int):
        if xp is not np:
            return xp.empty(n, dtype=dtype)
        key = (np.dtype(dtype), k)
        a = self._arrays.get(key)
        if a is None or a.size < n:
            a = self._arrays[key] = np.empty(max(n, min(BLOCK, 1 << 20)), dtype=dtype)
        return a[:n]


def effective_grad(g, x, weight_decay: float, maximize: bool):
    """The gradient the update uses: negated when maximizing, plus ``weight_decay * x`` (L2).

    The result may be ``g`` itself (when nothing changes): callers must never write into it.
    """
    if maximize:
        g = -g
    if weight_decay != 0:
        d = x * weight_decay
        d += g
        g = d
    return g


def decayed_grad(g, x, lr: float, weight_decay: float, decoupled: bool, maximize: bool):
    """The gradient an Adam-family rule uses, with weight decay applied either way: decoupled
    (AdamW's ``x *= 1 - lr * weight_decay``, done here in place on ``x``) or as L2 on the
    gradient (:func:`effective_grad`)."""
    if decoupled:
        if weight_decay != 0:
            x *= 1.0 - lr * weight_decay
        return effective_grad(g, x, 0.0, maximize)
    return effective_grad(g, x, weight_decay, maximize)


def lerp_(a, b, weight: float, xp) -> None:
    """``a += weight * (b - a)`` in place, with PyTorch's two-sided formula for accuracy."""
    t = b - a
    if weight < 0.5:
        t *= weight
        a += t
    else:
        t *= 1.0 - weight
        xp.subtract(b, t, out=a)


def add_scaled_square_(a, g, value: float) -> None:
    """``a += value * g * g`` in place (PyTorch's ``addcmul_(g, g, value=value)``)."""
    t = g * value
    t *= g
    a += t


def scratch_of(optimizer) -> Scratch:
    """The optimizer's own :class:`Scratch` (made on first use; not part of its state)."""
    scratch = optimizer.__dict__.get("_scratch")
    if scratch is None:
        scratch = optimizer._scratch = Scratch()
    return scratch


def fusable(x, g) -> bool:
    """Whether a parameter's update may run over flat blocks: both arrays C-contiguous, of one
    shape and dtype (anything else takes the per-parameter path)."""
    return (x.flags.c_contiguous and g.flags.c_contiguous and g.shape == x.shape
            and g.dtype == x.dtype)


def effective_grad_into(g, x, weight_decay: float, maximize: bool, out, xp):
    """:func:`effective_grad` with the same arithmetic, written into the scratch ``out`` (``g``
    itself is returned when nothing changes; callers must never write into the result then)."""
    if weight_decay != 0:
        d = xp.multiply(x, weight_decay, out=out)
        if maximize:
            d -= g  # x * wd + (-g), exactly
        else:
            d += g
        return d
    if maximize:
        return xp.negative(g, out=out)
    return g


def lerp_with_(a, b, weight: float, tmp, xp) -> None:
    """:func:`lerp_` with the temporary in ``tmp`` (same arithmetic)."""
    t = xp.subtract(b, a, out=tmp)
    if weight < 0.5:
        t *= weight
        a += t
    else:
        t *= 1.0 - weight
        xp.subtract(b, t, out=a)


def add_scaled_square_with_(a, g, value: float, tmp, xp) -> None:
    """:func:`add_scaled_square_` with the temporary in ``tmp`` (same arithmetic)."""
    t = xp.multiply(g, value, out=tmp)
    t *= g
    a += t
