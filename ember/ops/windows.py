"""Signal windows, as ``torch.hann_window`` & co.: 1-D tensors of ``window_length`` weights,
periodic by default (the symmetric window of ``window_length + 1`` points without its last one,
what a spectrogram's frames want)."""

from __future__ import annotations

import math

import numpy as np

from ember import backend
from ember.ops.common import Tensor


def _window(name: str, window_length: int, periodic: bool, dtype, requires_grad: bool, values):
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    dt = (backend.get_default_dtype() if dtype is None else backend.to_dtype(dtype)).np
    if window_length <= 1:
        out = np.ones(window_length, dtype=dt)
    else:
        n = window_length + 1 if periodic else window_length
        out = values(np.arange(n, dtype=np.float64), n)[:window_length].astype(dt)
    t = Tensor._wrap(out)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _cosine_sum(*coefficients):
    def values(k, n):
        return sum(((-1) ** i) * c * np.cos(2 * math.pi * i * k / (n - 1))
                   for i, c in enumerate(coefficients))
    return values


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                device=None, requires_grad: bool = False) -> Tensor:
    """``0.5 - 0.5 cos(2 pi n / (N - 1))``."""
    return _window("hann_window", window_length, periodic, dtype, requires_grad,
                   _cosine_sum(0.5, 0.5))


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype=None, layout=None, device=None,
                   requires_grad: bool = False) -> Tensor:
    """``alpha - beta cos(2 pi n / (N - 1))``."""
    return _window("hamming_window", window_length, periodic, dtype, requires_grad,
                   _cosine_sum(alpha, beta))


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad: bool = False) -> Tensor:
    """``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``."""
    return _window("blackman_window", window_length, periodic, dtype, requires_grad,
                   _cosine_sum(0.42, 0.5, 0.08))


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad: bool = False) -> Tensor:
    """The triangular window ``1 - |2 n / (N - 1) - 1|``."""
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad,
                   lambda k, n: 1 - np.abs(2 * k / (n - 1) - 1))


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype=None,
                  layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """``I0(beta sqrt(1 - (2 n / (N - 1) - 1)^2)) / I0(beta)``."""
    return _window("kaiser_window", window_length, periodic, dtype, requires_grad,
                   lambda k, n: np.i0(beta * np.sqrt(np.clip(1 - (2 * k / (n - 1) - 1) ** 2, 0,
                                                             None))) / np.i0(beta))


__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]
