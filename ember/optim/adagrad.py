"""Adagrad (Duchi et al.): per-coordinate step sizes from the sum of squared gradients."""

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


class Adagrad(Optimizer):
    """Adagrad, with PyTorch's update rule (``t`` counts the steps from 1)::

        g = grad (+ weight_decay * p)
        s = s + g * g                      (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr} (must be >= 0)")
        if lr_decay < 0.0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay} (must be >= 0)")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} (must be >= 0)")
        if initial_accumulator_value < 0.0:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps} (must be >= 0)")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))

    def _init_state(self, p: Tensor, group: dict) -> dict:
        st = self._state_for(p)
        if not st:
            xp = get_array_module(p._data)
            st["step"] = 0
            st["sum"] = Tensor._wrap(xp.full_like(p._data, group["initial_accumulator_value"]))
        return st

    def add_param_group(self, param_group: dict) -> None:
        """Add a group; its accumulators are filled at once, as PyTorch does (so they appear in
        ``state_dict()`` before the first step)."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self._init_state(p, group)

    def _update_group(self, params: list[Tensor], group: dict[str, Any]) -> None:
        """All of the group's parameters in one pass, block by block, with reused temporaries:
        the arithmetic of ``_update`` operation for operation (the same numbers bit for bit)."""
        if type(self)._update is not Adagrad._update:  # a subclass with its own per-parameter rule
            return super()._update_group(params, group)
        wd, maximize, eps = group["weight_decay"], group["maximize"], group["eps"]
        scratch = scratch_of(self)
        for p in params:
            x, gd = p._data, p.grad._data
            if not fusable(x, gd):
                self._update(p, group)
                continue
            xp = get_array_module(x)
            st = self._init_state(p, group)
            st["step"] += 1
            clr = group["lr"] / (1 + (st["step"] - 1) * group["lr_decay"])
            xf, gf, sf = x.reshape(-1), gd.reshape(-1), st["sum"]._data.reshape(-1)
            for sl in blocks(xf.size, xp):
                xb, s = xf[sl], sf[sl]
                n = xb.size
                std = scratch.get(xp, x.dtype, n, 2)
                g = effective_grad_into(gf[sl], xb, wd, maximize, scratch.get(xp, x.dtype, n, 0), xp)
                add_scaled_square_with_(s, g, 1.0, scratch.get(xp, x.dtype, n, 1), xp)
                xp.sqrt(s, out=std)
                std += eps
                xp.divide(g, std, out=std)
                std *= -clr
                xb += std

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        x = p._data
        xp = get_array_module(x)
        st = self._init_state(p, group)
        st["step"] += 1
        g = effective_grad(p.grad._data, x, group["weight_decay"], group["maximize"])
        clr = group["lr"] / (1 + (st["step"] - 1) * group["lr_decay"])
        s = st["sum"]._data
        add_scaled_square_(s, g, 1.0)
        std = xp.sqrt(s, out=xp.empty_like(s))  # out=: an array even for a 0-d one
        std += group["eps"]
        xp.divide(g, std, out=std)
        std *= -clr
        x += std
