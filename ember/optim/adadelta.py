"""Adadelta (Zeiler): step sizes from running averages of squared gradients and updates."""

from __future__ import annotations

from typing import Any, Iterable

from ember.backend import get_array_module
from ember.optim._functional import (
    add_scaled_square_,
    add_scaled_square_with_,
    blocks,
    effective_grad,
    effective_grad_into,
    fusable,
    scratch_of,
)
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

    def _init_state(self, p: Tensor) -> dict[str, Any]:
        st = self._state_for(p)
        if not st:
            xp = get_array_module(p._data)
            st["step"] = 0
            st["square_avg"] = Tensor._wrap(xp.zeros_like(p._data))
            st["acc_delta"] = Tensor._wrap(xp.zeros_like(p._data))
        return st

    def _update_group(self, params: list[Tensor], group: dict[str, Any]) -> None:
        """All of the group's parameters in one pass, block by block, with reused temporaries:
        the arithmetic of ``_update`` operation for operation (the same numbers bit for bit)."""
        if type(self)._update is not Adadelta._update:  # a subclass with its own per-parameter rule
            return super()._update_group(params, group)
        rho, eps, lr = group["rho"], group["eps"], group["lr"]
        wd, maximize = group["weight_decay"], group["maximize"]
        scratch = scratch_of(self)
        for p in params:
            x, gd = p._data, p.grad._data
            if not fusable(x, gd):
                self._update(p, group)
                continue
            xp = get_array_module(x)
            st = self._init_state(p)
            st["step"] += 1
            xf, gf = x.reshape(-1), gd.reshape(-1)
            vf, uf = st["square_avg"]._data.reshape(-1), st["acc_delta"]._data.reshape(-1)
            for sl in blocks(xf.size, xp):
                xb, v, u = xf[sl], vf[sl], uf[sl]
                n = xb.size
                tmp = scratch.get(xp, x.dtype, n, 1)
                std = scratch.get(xp, x.dtype, n, 2)
                delta = scratch.get(xp, x.dtype, n, 3)
                g = effective_grad_into(gf[sl], xb, wd, maximize, scratch.get(xp, x.dtype, n, 0), xp)
                v *= rho
                add_scaled_square_with_(v, g, 1.0 - rho, tmp, xp)
                xp.add(v, eps, out=std)
                xp.sqrt(std, out=std)
                xp.add(u, eps, out=delta)
                xp.sqrt(delta, out=delta)
                delta /= std
                delta *= g
                u *= rho
                add_scaled_square_with_(u, delta, 1.0 - rho, tmp, xp)
                delta *= -lr
                xb += delta

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        rho, eps = group["rho"], group["eps"]
        x = p._data
        xp = get_array_module(x)
        st = self._init_state(p)
        st["step"] += 1
        g = effective_grad(p.grad._data, x, group["weight_decay"], group["maximize"])
        v, u = st["square_avg"]._data, st["acc_delta"]._data
        v *= rho
        add_scaled_square_(v, g, 1.0 - rho)
        std = xp.add(v, eps, out=xp.empty_like(v))  # out=: an array even for a 0-d one
        xp.sqrt(std, out=std)
        delta = xp.add(u, eps, out=xp.empty_like(u))
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        u *= rho
        add_scaled_square_(u, delta, 1.0 - rho)
        delta *= -group["lr"]
        x += delta
