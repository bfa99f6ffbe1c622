"""Adam and AdamW (Kingma & Ba; Loshchilov & Hutter), with AMSGrad and maximize."""

from __future__ import annotations

from typing import Any, Iterable

from ember.backend import get_array_module
from ember.optim._functional import (
    add_scaled_square_,
    add_scaled_square_with_,
    blocks,
    decayed_grad,
    effective_grad_into,
    fusable,
    lerp_,
    lerp_with_,
    scratch_of,
)
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

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        st = self._state_for(p)
        if not st:
            xp = get_array_module(p._data)
            st["step"] = 0
            st["exp_avg"] = Tensor._wrap(xp.zeros_like(p._data))
            st["exp_avg_sq"] = Tensor._wrap(xp.zeros_like(p._data))
            if group["amsgrad"]:
                st["max_exp_avg_sq"] = Tensor._wrap(xp.zeros_like(p._data))
        return st

    def _update_group(self, params: list[Tensor], group: dict[str, Any]) -> None:
        """All of the group's parameters in one pass, block by block, so the rule's dozen passes
        over a block run while it is in the cache, with reused temporaries: the arithmetic of
        ``_update`` operation for operation, hence the same numbers bit for bit."""
        if type(self)._update is not Adam._update:  # a subclass with its own per-parameter rule
            return super()._update_group(params, group)
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        amsgrad, maximize = group["amsgrad"], group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        scratch = scratch_of(self)
        for p in params:
            x, gd = p._data, p.grad._data
            if not fusable(x, gd):
                self._update(p, group)
                continue
            xp = get_array_module(x)
            st = self._init_state(p, group)
            st["step"] += 1
            t = st["step"]
            step_size = lr / (1.0 - beta1 ** t)
            bias_correction2_sqrt = (1.0 - beta2 ** t) ** 0.5
            xf, gf = x.reshape(-1), gd.reshape(-1)
            mf, vf = st["exp_avg"]._data.reshape(-1), st["exp_avg_sq"]._data.reshape(-1)
            vmaxf = st["max_exp_avg_sq"]._data.reshape(-1) if amsgrad else None
            for sl in blocks(xf.size, xp):
                xb, m, v = xf[sl], mf[sl], vf[sl]
                n = xb.size
                g_tmp = scratch.get(xp, x.dtype, n, 0)
                tmp = scratch.get(xp, x.dtype, n, 1)
                denom = scratch.get(xp, x.dtype, n, 2)
                if decoupled:
                    if wd != 0:
                        xb *= 1.0 - lr * wd
                    g = effective_grad_into(gf[sl], xb, 0.0, maximize, g_tmp, xp)
                else:
                    g = effective_grad_into(gf[sl], xb, wd, maximize, g_tmp, xp)
                lerp_with_(m, g, 1.0 - beta1, tmp, xp)
                v *= beta2
                add_scaled_square_with_(v, g, 1.0 - beta2, tmp, xp)
                if amsgrad:
                    vmax = vmaxf[sl]
                    xp.maximum(vmax, v, out=vmax)
                    xp.sqrt(vmax, out=denom)
                else:
                    xp.sqrt(v, out=denom)
                denom /= bias_correction2_sqrt
                denom += eps
                xp.divide(m, denom, out=denom)
                denom *= -step_size
                xb += denom

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        lr, wd = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        amsgrad = group["amsgrad"]
        x = p._data
        xp = get_array_module(x)
        st = self._init_state(p, group)
        st["step"] += 1
        t = st["step"]
        g = decayed_grad(p.grad._data, x, lr, wd, group["decoupled_weight_decay"],
                         group["maximize"])
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
            denom = xp.sqrt(vmax, out=xp.empty_like(vmax))  # out=: an array even for a 0-d one
        else:
            denom = xp.sqrt(v, out=xp.empty_like(v))
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
