"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any, Callable, Iterable

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

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one update; returns ``closure()``'s loss when a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            dampening, nesterov = group["dampening"], group["nesterov"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                x = p._data
                xp = get_array_module(x)
                g = effective_grad(p.grad._data, x, group["weight_decay"], group["maximize"])
                if momentum != 0:
                    st = self._state_for(p)
                    buf = st.get("momentum_buffer")
                    if buf is None:
                        buf = st["momentum_buffer"] = Tensor._wrap(xp.array(g, copy=True))
                        b = buf._data
                    else:
                        b = buf._data
                        b *= momentum
                        if dampening == 0:
                            b += g
                        else:
                            b += g * (1.0 - dampening)
                    if nesterov:
                        g = g + b * momentum
                    else:
                        g = b
                x += g * (-lr)
                p._version += 1
        return loss
