"""Averaged stochastic gradient descent (Polyak & Juditsky), as PyTorch's ``ASGD``."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ember.backend import get_array_module
from ember.optim._functional import effective_grad
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor


def _f32(v: float) -> float:
    """PyTorch keeps ``eta`` and ``mu`` in float32 scalar tensors; round the same way."""
    return float(np.float32(v))


class ASGD(Optimizer):
    """ASGD, with PyTorch's update rule (``t`` counts the steps from 1)::

        p = p * (1 - lambd * eta) - eta * g
        ax = ax + mu * (p - ax)      (ax = p while mu == 1)
        eta = lr / (1 + lambd * lr * t) ** alpha;  mu = 1 / max(1, t - t0)

    The running average of the parameters is ``optimizer.state[p]["ax"]``.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0.0, *, maximize: bool = False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr} (must be >= 0)")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} (must be >= 0)")
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, maximize=maximize))

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        lr, lambd = group["lr"], group["lambd"]
        x = p._data
        xp = get_array_module(x)
        st = self._state_for(p)
        if not st:
            st["step"] = 0
            st["eta"] = _f32(lr)
            st["mu"] = 1.0
            st["ax"] = Tensor._wrap(xp.zeros_like(x))
        st["step"] += 1
        t = st["step"]
        g = effective_grad(p.grad._data, x, group["weight_decay"], group["maximize"])
        eta = st["eta"]
        x *= 1.0 - lambd * eta
        x -= g * eta
        ax = st["ax"]._data
        if st["mu"] != 1:
            ax += (x - ax) * st["mu"]
        else:
            ax[...] = x
        st["eta"] = _f32(lr / ((1.0 + lambd * lr * t) ** group["alpha"]))
        st["mu"] = _f32(1.0 / max(1.0, t - group["t0"]))
