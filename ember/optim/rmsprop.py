"""RMSprop (Hinton), optionally centered and with momentum."""

from __future__ import annotations

from typing import Any, Iterable

from ember.backend import get_array_module
from ember.optim._functional import add_scaled_square_, effective_grad, lerp_
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

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        lr, alpha = group["lr"], group["alpha"]
        momentum, centered = group["momentum"], group["centered"]
        x = p._data
        xp = get_array_module(x)
        st = self._state_for(p)
        if not st:
            st["step"] = 0
            st["square_avg"] = Tensor._wrap(xp.zeros_like(x))
            if momentum > 0:
                st["momentum_buffer"] = Tensor._wrap(xp.zeros_like(x))
            if centered:
                st["grad_avg"] = Tensor._wrap(xp.zeros_like(x))
        st["step"] += 1
        g = effective_grad(p.grad._data, x, group["weight_decay"], group["maximize"])
        v = st["square_avg"]._data
        v *= alpha
        add_scaled_square_(v, g, 1.0 - alpha)
        if centered:
            ga = st["grad_avg"]._data
            lerp_(ga, g, 1.0 - alpha, xp)
            avg = ga * ga
            xp.subtract(v, avg, out=avg)
            xp.sqrt(avg, out=avg)
        else:
            avg = xp.sqrt(v)
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
