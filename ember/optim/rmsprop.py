"""RMSprop (Hinton), optionally centered and with momentum."""

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
    lerp_,
    lerp_with_,
    scratch_of,
)
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor


class RMSprop(Optimizer):
    """RMSprop, with PyTorch's update rule::

        g = grad (+ weight_decay * p)
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - g_avg**2) + eps   (centered: g_avg = alpha * g_avg + (1 - alpha) * g)
              sqrt(v) + eps              (otherwise)
        b = momentum * b + g / avg; p -= lr * b   (momentum > 0)
        p -= lr * g / avg                         (otherwise)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr} (must be >= 0)")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps} (must be >= 0)")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum} (must be >= 0)")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} (must be >= 0)")
        if alpha < 0.0:
            raise ValueError(f"Invalid alpha value: {alpha} (must be >= 0)")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        st = self._state_for(p)
        if not st:
            xp = get_array_module(p._data)
            st["step"] = 0
            st["square_avg"] = Tensor._wrap(xp.zeros_like(p._data))
            if group["momentum"] > 0:
                st["momentum_buffer"] = Tensor._wrap(xp.zeros_like(p._data))
            if group["centered"]:
                st["grad_avg"] = Tensor._wrap(xp.zeros_like(p._data))
        return st

    def _update_group(self, params: list[Tensor], group: dict[str, Any]) -> None:
        """All of the group's parameters in one pass, block by block, with reused temporaries:
        the arithmetic of ``_update`` operation for operation (the same numbers bit for bit)."""
        if type(self)._update is not RMSprop._update:  # a subclass with its own per-parameter rule
            return super()._update_group(params, group)
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        momentum, centered = group["momentum"], group["centered"]
        wd, maximize = group["weight_decay"], group["maximize"]
        scratch = scratch_of(self)
        for p in params:
            x, gd = p._data, p.grad._data
            if not fusable(x, gd):
                self._update(p, group)
                continue
            xp = get_array_module(x)
            st = self._init_state(p, group)
            st["step"] += 1
            xf, gf = x.reshape(-1), gd.reshape(-1)
            vf = st["square_avg"]._data.reshape(-1)
            gaf = st["grad_avg"]._data.reshape(-1) if centered else None
            bf = st["momentum_buffer"]._data.reshape(-1) if momentum > 0 else None
            for sl in blocks(xf.size, xp):
                xb, v = xf[sl], vf[sl]
                n = xb.size
                tmp = scratch.get(xp, x.dtype, n, 1)
                avg = scratch.get(xp, x.dtype, n, 2)
                g = effective_grad_into(gf[sl], xb, wd, maximize, scratch.get(xp, x.dtype, n, 0), xp)
                v *= alpha
                add_scaled_square_with_(v, g, 1.0 - alpha, tmp, xp)
                if centered:
                    ga = gaf[sl]
                    lerp_with_(ga, g, 1.0 - alpha, tmp, xp)
                    xp.multiply(ga, ga, out=avg)
                    xp.subtract(v, avg, out=avg)
                    xp.sqrt(avg, out=avg)
                else:
                    xp.sqrt(v, out=avg)
                avg += eps
                xp.divide(g, avg, out=avg)
                if bf is not None:
                    b = bf[sl]
                    b *= momentum
                    b += avg
                    xb += xp.multiply(b, -lr, out=avg)
                else:
                    avg *= -lr
                    xb += avg

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        lr, alpha = group["lr"], group["alpha"]
        momentum, centered = group["momentum"], group["centered"]
        x = p._data
        xp = get_array_module(x)
        st = self._init_state(p, group)
        st["step"] += 1
        g = effective_grad(p.grad._data, x, group["weight_decay"], group["maximize"])
        v = st["square_avg"]._data
        v *= alpha
        add_scaled_square_(v, g, 1.0 - alpha)
        if centered:
            ga = st["grad_avg"]._data
            lerp_(ga, g, 1.0 - alpha, xp)
            avg = xp.multiply(ga, ga, out=xp.empty_like(ga))  # out=: an array even for a 0-d one
            xp.subtract(v, avg, out=avg)
            xp.sqrt(avg, out=avg)
        else:
            avg = xp.sqrt(v, out=xp.empty_like(v))
        avg += group["eps"]
        xp.divide(g, avg, out=avg)
        if momentum > 0:
            b = st["momentum_buffer"]._data
            b *= momentum
            b += avg
            x += b * (-lr)
        else:
            avg *= -lr
            x += avg
