"""NAdam (Dozat): Adam with Nesterov momentum and a momentum-decay schedule."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ember.backend import get_array_module
from ember.optim._functional import add_scaled_square_, decayed_grad, lerp_
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor


def _check_adam_args(lr: float, betas, eps: float, weight_decay: float) -> None:
    if lr < 0.0:
        raise ValueError(f"Invalid learning rate: {lr} (must be >= 0)")
    if eps < 0.0:
        raise ValueError(f"Invalid epsilon value: {eps} (must be >= 0)")
    if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
        raise ValueError(f"Invalid betas {tuple(betas)}: each must be in [0, 1)")
    if weight_decay < 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay} (must be >= 0)")


class NAdam(Optimizer):
    """NAdam, with PyTorch's update rule (``t`` counts the steps from 1)::

        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay));  prod_t = mu_1 * ... * mu_t
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2**t)) + eps
        p -= lr * (1 - mu_t) / (1 - prod_t) * g / denom + lr * mu_{t+1} / (1 - prod_{t+1}) * m / denom

    ``decoupled_weight_decay=True`` shrinks ``p`` by ``1 - lr * weight_decay`` instead of adding
    ``weight_decay * p`` to the gradient (NAdamW).
    """

    def __init__(self, params: Iterable, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False):
        _check_adam_args(lr, betas, eps, weight_decay)
        if momentum_decay < 0.0:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay} (must be >= 0)")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        lr, wd = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        x = p._data
        xp = get_array_module(x)
        st = self._state_for(p)
        if not st:
            st["step"] = 0
            st["mu_product"] = 1.0
            st["exp_avg"] = Tensor._wrap(xp.zeros_like(x))
            st["exp_avg_sq"] = Tensor._wrap(xp.zeros_like(x))
        st["step"] += 1
        t = st["step"]
        g = decayed_grad(p.grad._data, x, lr, wd, group["decoupled_weight_decay"],
                         group["maximize"])
        decay = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * decay))
        # PyTorch keeps the running product in a float32 scalar tensor; rounding it the same way
        # keeps the trajectories equal to float32 precision
        mu_product = float(np.float32(st["mu_product"]) * np.float32(mu))
        st["mu_product"] = mu_product
        mu_product_next = mu_product * mu_next
        m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
        lerp_(m, g, 1.0 - beta1, xp)
        v *= beta2
        add_scaled_square_(v, g, 1.0 - beta2)
        denom = v / (1.0 - beta2 ** t)
        xp.sqrt(denom, out=denom)
        denom += group["eps"]
        x += (g / denom) * (-lr * (1.0 - mu) / (1.0 - mu_product))
        x += (m / denom) * (-lr * mu_next / (1.0 - mu_product_next))
