"""Resilient backpropagation (Riedmiller & Braun): per-weight step sizes driven by gradient signs."""

from __future__ import annotations

from typing import Any, Iterable

from ember.backend import get_array_module
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor


class Rprop(Optimizer):
    """Rprop, with PyTorch's update rule::

        s = sign(g * g_prev):  step *= etaplus where s > 0, etaminus where s < 0;
        step = clamp(step, *step_sizes)
        g = 0 where s < 0 (and that zero becomes g_prev)
        p -= sign(g) * step

    Every step size starts at ``lr``. Only the gradient's sign is used, so Rprop suits full-batch
    training.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, maximize: bool = False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr} (must be >= 0)")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]} (need 0 < etaminus < 1 < "
                             "etaplus)")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                                      maximize=maximize))

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        etaminus, etaplus = group["etas"]
        lo, hi = group["step_sizes"]
        x = p._data
        xp = get_array_module(x)
        st = self._state_for(p)
        if not st:
            st["step"] = 0
            st["prev"] = Tensor._wrap(xp.zeros_like(x))
            st["step_size"] = Tensor._wrap(xp.full_like(x, group["lr"]))
        st["step"] += 1
        g = p.grad._data
        if group["maximize"]:
            g = -g
        prev, step_size = st["prev"]._data, st["step_size"]._data
        direction = xp.sign(g * prev)
        factor = xp.where(direction > 0, etaplus, xp.where(direction < 0, etaminus, 1.0))
        step_size *= factor.astype(x.dtype, copy=False)
        xp.clip(step_size, lo, hi, out=step_size)
        g = xp.where(direction < 0, 0, g).astype(x.dtype, copy=False)
        x -= xp.sign(g) * step_size
        prev[...] = g
