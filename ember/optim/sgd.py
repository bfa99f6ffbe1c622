"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

import functools
from typing import Any, Iterable

import numpy as np

from ember.backend import get_array_module
from ember.optim._functional import Scratch, blocks, effective_grad
from ember.optim.optimizer import Optimizer, required
from ember.tensor import Tensor


@functools.cache
def _gpu_momentum_step(xp):
    """One CuPy kernel doing a whole momentum step of one parameter in place (weight decay,
    buffer, parameter): on the GPU each array op is a kernel launch, and the general path takes
    four or five of them per parameter. Same arithmetic as the general path, in its order."""
    return xp.ElementwiseKernel(
        "T g, T lr, T momentum, T wd", "T x, T b",
        "T d = wd == 0 ? g : x * wd + g; b = momentum * b + d; x += b * (-lr);",
        "ember_sgd_momentum_step")


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

    def _update_group(self, params: list[Tensor], group: dict[str, Any]) -> None:
        """All of the group's parameters in one pass, block by block, each block's whole update
        done while it is in the cache, with no temporary arrays (same arithmetic as ``_update``)."""
        if type(self)._update is not SGD._update:  # a subclass with its own per-parameter rule
            return super()._update_group(params, group)
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
        scratch = self.__dict__.get("_scratch")
        if scratch is None:
            scratch = self._scratch = Scratch()
        gpu_fused = (momentum != 0 and dampening == 0 and not nesterov and not maximize
                     and isinstance(lr, (int, float)))
        for p in params:
            x = p._data
            if not x.flags.c_contiguous:
                self._update(p, group)
                continue
            xp = get_array_module(x)
            if gpu_fused and xp is not np and p.grad._data.dtype == x.dtype \
                    and x.dtype in (np.float32, np.float64):
                st = self._state_for(p)
                buf = st.get("momentum_buffer")
                if buf is None:  # zeros: the first step's buffer is then the gradient itself
                    buf = st["momentum_buffer"] = Tensor._wrap(xp.zeros_like(x))
                _gpu_momentum_step(xp)(p.grad._data, lr, momentum, wd, x, buf._data)
                continue
            xf = x.reshape(-1)
            gf = p.grad._data.reshape(-1)
            bf = None
            first = False
            if momentum != 0:
                st = self._state_for(p)
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = st["momentum_buffer"] = Tensor._wrap(xp.empty_like(x))
                    first = True
                bf = buf._data.reshape(-1)
            for sl in blocks(xf.size, xp):
                xb, g = xf[sl], gf[sl]
                n = xb.size
                if wd != 0:
                    t = scratch.get(xp, x.dtype, n, 0)
                    xp.multiply(xb, wd, out=t)
                    if maximize:
                        xp.subtract(t, g, out=t)
                    else:
                        t += g
                    g = t
                elif maximize:
                    g = xp.negative(g, out=scratch.get(xp, x.dtype, n, 0))
                if bf is not None:
                    b = bf[sl]
                    if first:
                        b[...] = g
                    else:
                        b *= momentum
                        if dampening == 0:
                            b += g
                        else:
                            t = scratch.get(xp, x.dtype, n, 1)
                            xp.multiply(g, 1.0 - dampening, out=t)
                            b += t
                    if nesterov:
                        t = scratch.get(xp, x.dtype, n, 1)
                        xp.multiply(b, momentum, out=t)
                        t += g
                        g = t
                    else:
                        g = b
                step = scratch.get(xp, x.dtype, n, 2)
                xp.multiply(g, -lr, out=step)
                xb += step

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
