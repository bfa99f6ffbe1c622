"""Adam and AdamW (Kingma & Ba; Loshchilov & Hutter), with AMSGrad and maximize."""

from __future__ import annotations

from typing import Any, Iterable

from ember.backend import get_array_module
from ember.optim._functional import add_scaled_square_, effective_grad, lerp_
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor


class Adam(Optimizer):
    """Adam, with PyTorch's update rule (``t`` counts the steps from 1)::

        g = grad (+ weight_decay * p, or p *= 1 - lr * weight_decay when decoupled)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g          # v_max = max(v_max, v) with amsgrad
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    ``decoupled_weight_decay=True`` gives AdamW.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False, decoupled_weight_decay: bool = False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr} (must be >= 0)")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps} (must be >= 0)")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"Invalid betas {betas}: each must be in [0, 1)")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} (must be >= 0)")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        lr, wd = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        amsgrad = group["amsgrad"]
        x = p._data
        xp = get_array_module(x)
        st = self._state_for(p)
        if not st:
            st["step"] = 0
            st["exp_avg"] = Tensor._wrap(xp.zeros_like(x))
            st["exp_avg_sq"] = Tensor._wrap(xp.zeros_like(x))
            if amsgrad:
                st["max_exp_avg_sq"] = Tensor._wrap(xp.zeros_like(x))
        st["step"] += 1
        t = st["step"]
        if group["decoupled_weight_decay"]:
            if wd != 0:
                x *= 1.0 - lr * wd
            g = effective_grad(p.grad._data, x, 0.0, group["maximize"])
        else:
            g = effective_grad(p.grad._data, x, wd, group["maximize"])
        m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
        lerp_(m, g, 1.0 - beta1, xp)
        v *= beta2
        add_scaled_square_(v, g, 1.0 - beta2)
        bias_correction1 = 1.0 - beta1 ** t
        bias_correction2_sqrt = (1.0 - beta2 ** t) ** 0.5
        step_size = lr / bias_correction1
        if amsgrad:
            vmax = st["max_exp_avg_sq"]._data
            xp.maximum(vmax, v, out=vmax)
            denom = xp.sqrt(vmax)
        else:
            denom = xp.sqrt(v)
        denom /= bias_correction2_sqrt
        denom += group["eps"]
        xp.divide(m, denom, out=denom)
        denom *= -step_size
        x += denom


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step."""

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)
