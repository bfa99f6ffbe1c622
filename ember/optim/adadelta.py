"""Adadelta (Zeiler): step sizes from running averages of squared gradients and updates."""

from __future__ import annotations

from typing import Any, Iterable

from ember.backend import get_array_module
from ember.optim._functional import add_scaled_square_, effective_grad
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor


class Adadelta(Optimizer):
    """Adadelta, with PyTorch's update rule::

        g = grad (+ weight_decay * p)
        v = rho * v + (1 - rho) * g * g
        d = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d
        p = p - lr * d
    """

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr} (must be >= 0)")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho} (must be in [0, 1])")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps} (must be >= 0)")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} (must be >= 0)")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        rho, eps = group["rho"], group["eps"]
        x = p._data
        xp = get_array_module(x)
        st = self._state_for(p)
        if not st:
            st["step"] = 0
            st["square_avg"] = Tensor._wrap(xp.zeros_like(x))
            st["acc_delta"] = Tensor._wrap(xp.zeros_like(x))
        st["step"] += 1
        g = effective_grad(p.grad._data, x, group["weight_decay"], group["maximize"])
        v, u = st["square_avg"]._data, st["acc_delta"]._data
        v *= rho
        add_scaled_square_(v, g, 1.0 - rho)
        std = v + eps
        xp.sqrt(std, out=std)
        delta = u + eps
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        u *= rho
        add_scaled_square_(u, delta, 1.0 - rho)
        delta *= -group["lr"]
        x += delta
