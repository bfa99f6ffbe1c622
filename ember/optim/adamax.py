"""Adamax (Kingma & Ba): Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from typing import Any, Iterable

from ember.backend import get_array_module
from ember.optim._functional import effective_grad, lerp_
from ember.optim.nadam import _check_adam_args
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor


class Adamax(Optimizer):
    """Adamax, with PyTorch's update rule (``t`` counts the steps from 1)::

        g = grad (+ weight_decay * p)
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        p -= lr / (1 - beta1**t) * m / u
    """

    def __init__(self, params: Iterable, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, *, maximize: bool = False):
        _check_adam_args(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        x = p._data
        xp = get_array_module(x)
        st = self._state_for(p)
        if not st:
            st["step"] = 0
            st["exp_avg"] = Tensor._wrap(xp.zeros_like(x))
            st["exp_inf"] = Tensor._wrap(xp.zeros_like(x))
        st["step"] += 1
        g = effective_grad(p.grad._data, x, group["weight_decay"], group["maximize"])
        m, u = st["exp_avg"]._data, st["exp_inf"]._data
        lerp_(m, g, 1.0 - beta1, xp)
        u *= beta2
        bound = xp.abs(g)
        bound += group["eps"]
        xp.maximum(u, bound, out=u)
        step_size = group["lr"] / (1.0 - beta1 ** st["step"])
        x -= (m / u) * step_size
