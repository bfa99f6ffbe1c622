"""Array helpers shared by the optimizers' update rules (raw NumPy/CuPy arrays, no autograd)."""

from __future__ import annotations


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
