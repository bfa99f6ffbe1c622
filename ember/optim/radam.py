"""RAdam (Liu et al.): Adam whose adaptive step is switched on only once the variance of the
adaptive learning rate is tractable, with a rectification factor."""

from __future__ import annotations

from typing import Any, Iterable

from ember.backend import get_array_module
from ember.optim._functional import add_scaled_square_, decayed_grad, lerp_
from ember.optim.nadam import _check_adam_args
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor


class RAdam(Optimizer):
    """RAdam, with PyTorch's update rule (``t`` counts the steps from 1)::

        m, v as Adam;  rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        rho_t > 5:  p -= lr * m / (1 - beta1**t) * r_t * sqrt(1 - beta2**t) / (sqrt(v) + eps)
                    with r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        otherwise:  p -= lr * m / (1 - beta1**t)

    ``decoupled_weight_decay=True`` gives RAdamW.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, decoupled_weight_decay: bool = False,
                 *, maximize: bool = False):
        _check_adam_args(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
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
            st["exp_avg"] = Tensor._wrap(xp.zeros_like(x))
            st["exp_avg_sq"] = Tensor._wrap(xp.zeros_like(x))
        st["step"] += 1
        t = st["step"]
        g = decayed_grad(p.grad._data, x, lr, wd, group["decoupled_weight_decay"],
                         group["maximize"])
        m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
        lerp_(m, g, 1.0 - beta1, xp)
        v *= beta2
        add_scaled_square_(v, g, 1.0 - beta2)
        bias_correction1 = 1.0 - beta1 ** t
        bias_correction2 = 1.0 - beta2 ** t
        corrected = m / bias_correction1
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * t * (beta2 ** t) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = xp.sqrt(v)
            adaptive += group["eps"]
            xp.divide(bias_correction2 ** 0.5, adaptive, out=adaptive)
            corrected *= lr
            corrected *= adaptive
            corrected *= rect
            x -= corrected
        else:
            corrected *= lr
            x -= corrected
