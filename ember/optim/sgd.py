"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any, Iterable

from ember.backend import get_array_module
from ember.optim._functional import effective_grad
from ember.optim.optimizer import Optimizer, required
from ember.tensor import Tensor


class SGD(Optimizer):
    """Stochastic gradient descent, with PyTorch's update rule::

        g = grad (+ weight_decay * p)         # -grad when maximize
        b = g (first step) or momentum * b + (1 - dampening) * g
        g = g + momentum * b (nesterov) or b  # when momentum != 0
        p = p - lr * g
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False):
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr} (must be >= 0)")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum} (must be >= 0)")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} (must be >= 0)")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        x = p._data
        g = effective_grad(p.grad._data, x, group["weight_decay"], group["maximize"])
        momentum = group["momentum"]
        if momentum != 0:
            st = self._state_for(p)
            buf = st.get("momentum_buffer")
            if buf is None:
                # a copy: g may be the gradient itself, which the buffer must not alias
                buf = st["momentum_buffer"] = Tensor._wrap(get_array_module(x).array(g, copy=True))
                b = buf._data
            else:
                b = buf._data
                b *= momentum
                dampening = group["dampening"]
                if dampening == 0:
                    b += g
                else:
                    b += g * (1.0 - dampening)
            if group["nesterov"]:
                g = g + b * momentum
            else:
                g = b
        x += g * (-group["lr"])
