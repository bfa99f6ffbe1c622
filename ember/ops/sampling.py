"""Random sampling into tensors: the in-place fills PyTorch has (``uniform_``, ``normal_``,
``bernoulli_``, ``exponential_``, ``random_``), ``bernoulli`` / ``multinomial`` and ``poisson``.

Samples come from ember's global generator (or a given :class:`~ember.random.Generator`), drawn on
the CPU and moved to the tensor's device, so one seed gives the same numbers on every device.
None of these is differentiable: a filled tensor has no history, and ``poisson`` records a
zero gradient, as PyTorch does.
"""

from __future__ import annotations

import numpy as np

from ember import backend
from ember.ops.common import Tensor, attach, commit_inplace, prepare_inplace, record, zero_grad_like
from ember.random import get_rng


def _fill(t: Tensor, values: np.ndarray, name: str) -> Tensor:
    values = backend.move_array(values.astype(t._data.dtype, copy=False), t.device)
    if t.requires_grad:
        # recorded like fill_ (the new values do not depend on the old ones: a zero gradient), so
        # a view's base gets the change in its history; with grad mode on, leaves and views of
        # leaves are refused (under no_grad nothing is recorded and the history stays)
        src = prepare_inplace(t, name)
        filled = record(name.rstrip("_").capitalize(), values, (src,), _zero_gradient)
        return commit_inplace(t, filled, name)
    t._data[...] = values
    t._version += 1  # shared with every alias of t's memory
    return t


def _zero_gradient(g, needs):
    return (Tensor._wrap(backend.get_array_module(g._data).zeros_like(g._data)),)


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0, *, generator=None) -> Tensor:
    """Fill with samples uniform in ``[a, b)``."""
    return _fill(t, get_rng(generator).uniform(a, b, t.shape), "uniform_")


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill with normal samples of the given mean and standard deviation."""
    return _fill(t, get_rng(generator).normal(mean, std, t.shape), "normal_")


def bernoulli_(t: Tensor, p: float = 0.5, *, generator=None) -> Tensor:
    """Fill with 1 (probability ``p``) or 0."""
    probs = p._data if isinstance(p, Tensor) else p
    probs = backend.move_array(np.asarray(probs), backend.CPU)
    return _fill(t, get_rng(generator).random(t.shape) < probs, "bernoulli_")


def exponential_(t: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    """Fill with exponential samples of rate ``lambd``."""
    return _fill(t, get_rng(generator).exponential(1.0 / lambd, t.shape), "exponential_")


def random_(t: Tensor, from_: int = 0, to: int | None = None, *, generator=None) -> Tensor:
    """Fill with integers uniform in ``[from_, to)`` (``random_(to)`` means ``[0, to)``)."""
    if to is None:
        from_, to = 0, from_
    return _fill(t, get_rng(generator).integers(from_, to, t.shape), "random_")


def bernoulli(input: Tensor, p: float | None = None, *, generator=None) -> Tensor:
    """0/1 samples, 1 with probability ``input`` (elementwise), or ``p`` when given."""
    probs = backend.move_array(input._data, backend.CPU) if p is None else p
    if p is None and (np.any(probs < 0) or np.any(probs > 1)):
        raise RuntimeError("bernoulli: all probabilities must be in [0, 1]")
    draws = (get_rng(generator).random(input.shape) < probs).astype(input._data.dtype)
    return Tensor._wrap(backend.move_array(draws, input.device))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """Indices drawn from the categories of each row, with probabilities ``input`` (unnormalised).

    ``input`` is (C,) or (N, C); the result is int64 of shape (num_samples,) or (N, num_samples).
    """
    probs = np.asarray(backend.move_array(input._data, backend.CPU), dtype=np.float64)
    if probs.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {tuple(probs.shape)}")
    if np.any(probs < 0) or not np.all(np.isfinite(probs)):
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or element < 0")
    rows = probs.reshape(-1, probs.shape[-1])
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(
            f"multinomial: cannot sample n_sample ({num_samples}) > prob_dist.size(-1) "
            f"({rows.shape[1]}) samples without replacement"
        )
    rng = get_rng(generator)
    out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
    for i, row in enumerate(rows):
        total = row.sum()
        if total <= 0:
            raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
        if not replacement and np.count_nonzero(row) < num_samples:
            raise RuntimeError(
                "multinomial: invalid multinomial distribution (with replacement=False, not enough "
                f"non-zero categories to sample {num_samples})"
            )
        out[i] = rng.choice(row.size, size=num_samples, replace=replacement, p=row / total)
    out = out.reshape(probs.shape[:-1] + (num_samples,))
    return Tensor._wrap(backend.move_array(out, input.device))



def poisson(input: Tensor, generator=None) -> Tensor:
    """A Poisson sample for each rate in ``input`` (a floating tensor of non-negative rates),
    same dtype and device. The gradient is zero, as in PyTorch (it records one, so the result
    requires grad when ``input`` does)."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"poisson: not implemented for {input.dtype} tensors; rates "
                                  "must be floating point (convert with .float())")
    rates = backend.move_array(input._data, backend.CPU)
    if not bool(np.all(rates >= 0)):  # also refuses NaN, as PyTorch does
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    arr = get_rng(generator).poisson(rates.astype(np.float64)).astype(rates.dtype)
    out = backend.move_array(arr, input.device)
    return record("Poisson", out, (input,), lambda g, needs: (zero_grad_like(g),))


__all__ = ["bernoulli", "multinomial", "poisson"]

attach(uniform_=uniform_, normal_=normal_, bernoulli_=bernoulli_, exponential_=exponential_,
       random_=random_, bernoulli=bernoulli, multinomial=multinomial)
