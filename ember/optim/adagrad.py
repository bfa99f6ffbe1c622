"""Adagrad (Duchi et al.): per-coordinate step sizes from the sum of squared gradients."""

from __future__ import annotations

from typing import Any, Iterable

from ember.backend import get_array_module
from ember.optim._functional import add_scaled_square_, effective_grad
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

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        x = p._data
        xp = get_array_module(x)
        st = self._init_state(p, group)
        st["step"] += 1
        g = effective_grad(p.grad._data, x, group["weight_decay"], group["maximize"])
        clr = group["lr"] / (1 + (st["step"] - 1) * group["lr_decay"])
        s = st["sum"]._data
        add_scaled_square_(s, g, 1.0)
        std = xp.sqrt(s)
        std += group["eps"]
        xp.divide(g, std, out=std)
        std *= -clr
        x += std
