"""Adafactor (Shazeer & Stern): Adam-like steps with a factored second moment (one row and one
column statistic per matrix instead of a full buffer), relative step sizes and update clipping,
following PyTorch's ``Adafactor``."""

from __future__ import annotations

from typing import Any, Iterable

from ember.backend import get_array_module
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor


class Adafactor(Optimizer):
    """Adafactor, with PyTorch's update rule (``t`` counts the steps from 1)::

        beta2_t = 1 - t ** beta2_decay;  rho = min(lr, 1 / sqrt(t))
        alpha = max(eps2, rms(p)) * rho
        p *= 1 - lr * weight_decay
        matrices (over the last two dims): R = lerp(R, mean_cols(g^2), 1 - beta2_t),
            C = lerp(C, mean_rows(g^2), 1 - beta2_t), v = R C / mean(R)
        vectors: v = lerp(v, g^2, 1 - beta2_t)
        u = g / sqrt(max(v, eps1^2));  p -= alpha / max(1, rms(u) / d) * u

    ``eps=(None, 1e-3)``: ``eps1`` defaults to the machine epsilon of the parameter's dtype.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, maximize: bool = False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr} (must be >= 0)")
        if beta2_decay > 0.0:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and eps[0] < 0.0:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if eps[1] < 0.0:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if d < 1.0:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} (must be >= 0)")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d,
                                      weight_decay=weight_decay, maximize=maximize))

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        lr, wd = group["lr"], group["weight_decay"]
        eps1, eps2 = group["eps"]
        x = p._data
        xp = get_array_module(x)
        if xp.iscomplexobj(x):
            raise RuntimeError("Adafactor does not support complex parameters")
        g = p.grad._data
        if group["maximize"]:
            g = -g
        st = self._state_for(p)
        factored = g.ndim > 1
        if not st:
            st["step"] = 0
            if factored:
                st["row_var"] = Tensor._wrap(xp.zeros(g.shape[:-1] + (1,), dtype=g.dtype))
                st["col_var"] = Tensor._wrap(xp.zeros(g.shape[:-2] + (1,) + g.shape[-1:],
                                                      dtype=g.dtype))
            else:
                st["variance"] = Tensor._wrap(xp.zeros_like(g))
        if eps1 is None:
            eps1 = float(xp.finfo(x.dtype).eps)
        st["step"] += 1
        t = float(st["step"])
        weight = t ** group["beta2_decay"]  # 1 - beta2_t
        rho = min(lr, 1.0 / t ** 0.5)
        alpha = max(eps2, float(xp.linalg.norm(x.reshape(-1))) / x.size ** 0.5) * rho
        if wd != 0:
            x *= 1.0 - lr * wd
        square = g * g
        if factored:
            row, col = st["row_var"]._data, st["col_var"]._data
            row += (square.sum(axis=-1, keepdims=True) / g.shape[-1] - row) * weight
            col += (square.sum(axis=-2, keepdims=True) / g.shape[-2] - col) * weight
            estimate = row @ col
            estimate /= xp.maximum(row.mean(axis=-2, keepdims=True), eps1)
        else:
            v = st["variance"]._data
            v += (square - v) * weight
            estimate = v.copy()
        xp.maximum(estimate, eps1 * eps1, out=estimate)
        update = 1.0 / xp.sqrt(estimate)
        update *= g
        denom = max(1.0, float(xp.linalg.norm(update.reshape(-1))) / (update.size ** 0.5 * group["d"]))
        x -= update * (alpha / denom)
