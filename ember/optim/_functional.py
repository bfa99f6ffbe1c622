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
