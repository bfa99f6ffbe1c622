"""Muon (Jordan et al.): momentum SGD for 2-d weights whose update is orthogonalized by a few
Newton-Schulz iterations, as PyTorch's ``Muon``.

PyTorch runs the Newton-Schulz iteration in bfloat16. NumPy has no bfloat16, so the iteration here
computes in float32 and rounds every intermediate result to bfloat16 (round to nearest even), the
points where PyTorch's bfloat16 tensors are rounded; the updates then agree with PyTorch's to
bfloat16 precision.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

from ember.backend import get_array_module
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor

_DEFAULT_NS = (3.4445, -4.7750, 2.0315)


def _bf16(a, xp):
    """``a`` (float32) rounded to the nearest bfloat16 value, ties to even, kept in float32."""
    bits = xp.ascontiguousarray(a, dtype=xp.float32).view(xp.uint32)
    bits = (bits + (((bits >> 16) & 1) + 0x7FFF)) & 0xFFFF0000
    return bits.astype(xp.uint32).view(xp.float32)


def _orthogonalize(g, coefficients, steps: int, eps: float, xp):
    """The Newton-Schulz iteration towards ``U V^T`` of ``g = U S V^T`` (in bfloat16 precision)."""
    a, b, c = coefficients
    x = _bf16(g.astype(xp.float32), xp)
    tall = g.shape[0] > g.shape[1]
    if tall:
        x = x.T
    norm = _bf16(xp.asarray(xp.linalg.norm(x), dtype=xp.float32), xp)
    x = _bf16(x / xp.maximum(norm, _bf16(xp.asarray(eps, dtype=xp.float32), xp)), xp)
    for _ in range(steps):
        gram = _bf16(x @ x.T, xp)
        gram_update = _bf16(b * gram + c * (gram @ gram), xp)
        x = _bf16(a * x + gram_update @ x, xp)
    return x.T if tall else x


class Muon(Optimizer):
    """Muon, with PyTorch's update rule, for 2-d parameters only::

        b = momentum * b + (1 - momentum) * g
        u = lerp(g, b, momentum) (nesterov) or b
        u = NewtonSchulz(u)                 # ~ the orthogonal factor of u
        p *= 1 - lr * weight_decay;  p -= lr * ratio * u

    ``ratio`` is ``sqrt(max(1, rows / cols))`` (``adjust_lr_fn=None`` or "original"), or
    ``0.2 * sqrt(max(rows, cols))`` ("match_rms_adamw").
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = _DEFAULT_NS, eps: float = 1e-7,
                 ns_steps: int = 5, adjust_lr_fn: str | None = None):
        if lr < 0.0:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if momentum < 0.0:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn not in (None, "original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        if ns_steps >= 100:
            raise ValueError("Number of steps must be less than 100 for computational efficiency")
        if len(ns_coefficients) != 3:
            raise ValueError("Coefficients must be a tuple of exactly 3 values")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                                      nesterov=nesterov, ns_coefficients=tuple(ns_coefficients),
                                      eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {tuple(p.shape)}")

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        lr, momentum = group["lr"], group["momentum"]
        x = p._data
        xp = get_array_module(x)
        g = p.grad._data
        st = self._state_for(p)
        if "momentum_buffer" not in st:
            st["momentum_buffer"] = Tensor._wrap(xp.zeros_like(g))
        buf = st["momentum_buffer"]._data
        buf += (g - buf) * (1.0 - momentum)
        update = g + (buf - g) * momentum if group["nesterov"] else buf
        update = _orthogonalize(update, group["ns_coefficients"], group["ns_steps"], group["eps"],
                                xp)
        rows, cols = x.shape[:2]
        if group["adjust_lr_fn"] == "match_rms_adamw":
            ratio = 0.2 * math.sqrt(max(rows, cols))
        else:
            ratio = math.sqrt(max(1, rows / cols))
        x *= 1.0 - lr * group["weight_decay"]
        x -= (update * (lr * ratio)).astype(x.dtype, copy=False)
