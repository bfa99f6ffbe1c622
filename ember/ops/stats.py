"""Statistics and numerical helpers: ``cov``, ``corrcoef``, ``histogram``, ``trapezoid`` and
``cumulative_trapezoid``, ``vander``, ``diagflat``, ``isin``, ``unravel_index``.

The differentiable ones are compositions of ember ops, so their gradients (and gradients of
gradients) come from those ops; ``histogram``, ``isin`` and ``unravel_index`` have none, as in
PyTorch.
"""

from __future__ import annotations

import builtins
import collections
import operator

import numpy as np

from ember import backend
from ember.backend import get_array_module
from ember.ops.common import Tensor, attach
from ember.ops.dims import normalize_dim

HistogramResult = collections.namedtuple("histogram", ["hist", "bin_edges"])


def _tensor(x, name: str, arg: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(x).__name__}")
    return x


def _as_float(x: Tensor) -> Tensor:
    return x if x.dtype.is_floating_point else x.to(backend.get_default_dtype())


# ------------------------------------------------------------------------ cov, corrcoef


def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of the variables in the rows of ``input`` (observations in the
    columns; a 1-D input is one variable). ``correction`` is subtracted from the number of
    observations (1: Bessel's correction); ``fweights`` (integer frequencies) and ``aweights``
    (observation weights) weight the observations as ``torch.cov`` does. A 1x1 result is 0-d."""
    _tensor(input, "cov")
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions")
    x = _as_float(input if input.ndim == 2 else input.reshape(1, -1))
    n_obs = x.shape[1]
    w = None
    for name, weights in (("fweights", fweights), ("aweights", aweights)):
        if weights is None:
            continue
        _tensor(weights, "cov", name)
        if weights.ndim > 1:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                               f"{name} with {weights.ndim} dimensions")
        if weights.numel() != n_obs:
            raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                               f"observations in the input but got {weights.numel()} != {n_obs}")
        if name == "fweights" and weights.dtype.is_floating_point:
            raise RuntimeError("cov(): expected fweights to have integral dtype but got "
                               f"fweights with {weights.dtype} dtype")
        if bool((weights._data < 0).any()):
            raise RuntimeError(f"cov(): {name} cannot be negative")
        weights = weights.to(x.dtype)
        w = weights if w is None else w * weights
    if w is None:
        avg = x.mean(1)
        w_sum = float(n_obs)
        norm = w_sum - correction
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if correction == 0:
            norm = w_sum
        elif aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * (w * aweights.to(x.dtype)).sum() / w_sum
    if isinstance(norm, Tensor):
        norm = norm.clamp(min=0)
    else:
        norm = max(norm, 0.0)
    centred = x - avg.unsqueeze(1)
    weighted = centred if w is None else centred * w
    return (weighted.matmul(centred.mT) / norm).squeeze()


def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in the rows of ``input``: the
    covariance divided by the product of the standard deviations, clipped to ``[-1, 1]``."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    std = c.diagonal().sqrt()
    c = c / std.unsqueeze(1) / std.unsqueeze(0)
    return c.clamp(-1, 1)


# ------------------------------------------------------------------------------- histogram


def histogram(input: Tensor, bins=100, *, range=None, weight: Tensor | None = None,
              density: bool = False) -> HistogramResult:
    """``(hist, bin_edges)`` of the values of ``input``: ``bins`` equal-width bins over
    ``range`` (the data's min and max by default), or the edges in a 1-D tensor ``bins``. The
    last bin includes its right edge. ``weight`` weights each element; ``density`` normalises
    to a probability density. No gradient."""
    _tensor(input, "histogram")
    a = input._data
    if a.dtype.kind != "f":
        raise RuntimeError(f"torch.histogram: input tensor and bins tensors should have the same "
                           f"floating-point dtype, but got {a.dtype}")
    xp = get_array_module(a)
    edges = bins._data if isinstance(bins, Tensor) else operator.index(bins)
    if not isinstance(edges, int) and edges.dtype != a.dtype:
        raise RuntimeError("torch.histogram: input tensor and bins tensors should have the same "
                           "dtype")
    if isinstance(edges, int):
        if edges <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {edges} for "
                               "dimension 0")
        if range is None:
            lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
        else:
            lo, hi = float(range[0]), float(range[1])
        if lo > hi:
            raise RuntimeError(f"torch.histogram: max must be larger than min, but got min {lo} "
                               f"max {hi}")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5  # PyTorch widens an empty range by 1
        edges = xp.linspace(lo, hi, edges + 1).astype(a.dtype)
    w = None if weight is None else weight._data.reshape(-1)
    hist, _ = xp.histogram(a.reshape(-1), bins=edges, weights=w, density=density)
    return HistogramResult(Tensor._wrap(hist.astype(a.dtype)), Tensor._wrap(edges.copy()))


# ------------------------------------------------------------------------------- trapezoid


def _trapezoid_parts(y: Tensor, x, dx, dim: int, name: str) -> Tensor:
    """The area of each trapezoid along ``dim``: ``(y[i] + y[i + 1]) / 2 * (x[i + 1] - x[i])``."""
    _tensor(y, name, "y")
    d = normalize_dim(dim, y.ndim, name)
    n = y.shape[d]
    y = _as_float(y)
    if n == 0:
        return y.narrow(d, 0, 0)
    mid = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) * 0.5
    if x is None:
        return mid * (1.0 if dx is None else dx)
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'x' must be Tensor, not {type(x).__name__}")
    if x.ndim == 1:
        if x.shape[0] != n:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        steps = (x[1:] - x[:-1]).reshape((n - 1,) + (1,) * (y.ndim - d - 1))
    else:
        m = x.shape[normalize_dim(dim, x.ndim, name)]
        k = normalize_dim(dim, x.ndim, name)
        steps = x.narrow(k, 1, m - 1) - x.narrow(k, 0, m - 1)
    return mid * steps


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
              dim: int = -1) -> Tensor:
    """The integral of ``y`` along ``dim`` by the trapezoidal rule, at sample points ``x`` (a
    tensor, 1-D or broadcasting with ``y``) or spaced ``dx`` apart (1 by default)."""
    return _trapezoid_parts(y, x, dx, dim, "trapezoid").sum(dim)


def trapz(y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """``torch.trapz``: :func:`trapezoid`."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
                         dim: int = -1) -> Tensor:
    """The running trapezoidal integral of ``y`` along ``dim`` (one element fewer than ``y``
    there)."""
    return _trapezoid_parts(y, x, dx, dim, "cumulative_trapezoid").cumsum(dim)


# --------------------------------------------------------------------------- vander, diagflat


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-D ``x``: column ``j`` is ``x ** (N - 1 - j)`` (``x ** j``
    when ``increasing``); ``N`` defaults to ``len(x)``."""
    _tensor(x, "vander", "x")
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if x.dtype == backend.bool_:
        x = x.to(backend.int64)
    cols = [_ones_like(x)] if n else []
    cols += [x ** k if k > 1 else x for k in range(1, n)]
    if not cols:
        return Tensor._wrap(get_array_module(x._data).zeros((x.shape[0], 0), dtype=x._data.dtype))
    from ember.ops.shape import stack

    out = stack(cols, 1)
    return out if increasing else out.flip(1)


def _ones_like(x: Tensor) -> Tensor:
    return Tensor._wrap(get_array_module(x._data).ones_like(x._data))


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A square matrix with the flattened ``input`` on its ``offset`` diagonal."""
    _tensor(input, "diagflat")
    from ember.ops.shape import diag

    return diag(input.reshape(-1), offset)


# ------------------------------------------------------------------------ isin, unravel_index


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """A bool tensor shaped like ``elements``: whether each element occurs in ``test_elements``
    (``invert``: does not). Either side may be a number."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin(): expected elements or test_elements to be a Tensor")
    like = elements if isinstance(elements, Tensor) else test_elements
    xp = get_array_module(like._data)
    e = elements._data if isinstance(elements, Tensor) else xp.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    return Tensor._wrap(xp.isin(e, t, assume_unique=assume_unique, invert=invert))


def unravel_index(indices, shape) -> tuple:
    """The coordinates in a tensor of ``shape`` of each flat index in ``indices``: a tuple of
    int64 tensors shaped like ``indices``, one per dimension. Negative indices count from the
    end."""
    if isinstance(indices, Tensor):
        idx = indices._data
    else:
        idx = np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected 'indices' to be integer dtype, but got "
                        f"{idx.dtype}")
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError("unravel_index: 'shape' cannot have negative values, but got "
                         f"{tuple(shape)}")
    total = int(np.prod(shape, dtype=np.int64))
    xp = get_array_module(idx)
    if idx.size and (bool((idx >= total).any()) or bool((idx < -total).any())):
        raise ValueError(f"unravel_index: index out of bounds for a tensor of shape {shape}")
    idx = xp.where(idx < 0, idx + total, idx)
    coords = xp.unravel_index(idx, shape) if shape else ()
    return tuple(Tensor._wrap(xp.asarray(c, dtype=np.int64)) for c in coords)


# ----------------------------------------------------------- gradient, combinations, ldexp ...


def gradient(input: Tensor, *, spacing=1, dim=None, edge_order: int = 1) -> tuple:
    """The derivative of ``input`` estimated by central differences inside and one-sided ones
    (of order ``edge_order``, 1 or 2) at the edges, along each dim in ``dim`` (all by default);
    ``spacing`` is the sample distance, one number or one per dim. A tuple of tensors."""
    _tensor(input, "gradient")
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, got "
                           f"{edge_order}")
    dims = list(range(input.ndim)) if dim is None else (
        [dim] if isinstance(dim, int) else list(dim))
    dims = [normalize_dim(d, input.ndim, "gradient") for d in dims]
    if isinstance(spacing, (int, float)):
        steps = [float(spacing)] * len(dims)
    else:
        steps = [float(s.item() if isinstance(s, Tensor) else s) for s in spacing]
        if len(steps) == 1:
            steps = steps * len(dims)
        if len(steps) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                               f"a list of length {len(dims)}, got a list of length "
                               f"{len(steps)}")
    x = _as_float(input)
    from ember.ops.shape import cat

    out = []
    for d, h in zip(dims, steps):
        n = x.shape[d]
        if n < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")

        def part(start, length, d=d):
            return x.narrow(d, start, length)

        inner = (part(2, n - 2) - part(0, n - 2)) / (2 * h)
        if edge_order == 1:
            first = (part(1, 1) - part(0, 1)) / h
            last = (part(n - 1, 1) - part(n - 2, 1)) / h
        else:
            first = (part(0, 1) * -3 + part(1, 1) * 4 - part(2, 1)) / (2 * h)
            last = (part(n - 1, 1) * 3 - part(n - 2, 1) * 4 + part(n - 3, 1)) / (2 * h)
        out.append(cat([first, inner, last], d))
    return tuple(out)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of the elements of a 1-D tensor, one per row (as
    ``itertools.combinations`` orders them); differentiable."""
    import itertools

    _tensor(input, "combinations")
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._wrap(get_array_module(input._data).zeros((0,), dtype=input._data.dtype))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(input.shape[0]), r))
    xp = get_array_module(input._data)
    if not rows:
        return Tensor._wrap(xp.zeros((0, r), dtype=input._data.dtype))
    index = Tensor._wrap(xp.asarray(rows, dtype=np.int64))
    return input[index]


def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """``input * 2 ** other`` (a float result, as PyTorch's)."""
    return _as_float(input) * (2.0 ** _as_float(other))


def frexp(input: Tensor) -> tuple:
    """``(mantissa, exponent)`` with ``input = mantissa * 2 ** exponent`` and
    ``0.5 <= |mantissa| < 1``; the exponent is int32. No gradient."""
    a = _tensor(input, "frexp")._data
    if a.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    mantissa, exponent = get_array_module(a).frexp(a)
    FrexpResult = collections.namedtuple("frexp", ["mantissa", "exponent"])
    return FrexpResult(Tensor._wrap(mantissa), Tensor._wrap(exponent.astype(np.int32)))


def nextafter(input: Tensor, other) -> Tensor:
    """The next representable value after ``input`` towards ``other``. No gradient."""
    a = _tensor(input, "nextafter")._data
    b = other._data if isinstance(other, Tensor) else other
    return Tensor._wrap(get_array_module(a).nextafter(a, b).astype(a.dtype, copy=False))


def histogramdd(input: Tensor, bins=10, *, range=None, weight: Tensor | None = None,
                density: bool = False):
    """The histogram of the points in the rows of ``input`` (``(N, D)``): ``(hist,
    bin_edges)`` with one list of edges per dim. ``bins`` is an int, one int per dim, or a
    sequence of 1-D edge tensors; ``range`` is ``[lo_0, hi_0, lo_1, hi_1, ...]``."""
    a = _tensor(input, "histogramdd")._data
    xp = get_array_module(a)
    points = a.reshape(-1, a.shape[-1])
    d = points.shape[1]
    if isinstance(bins, int):
        bins = [bins] * d
    if range is not None:
        ranges = [(float(range[2 * i]), float(range[2 * i + 1])) for i in builtins.range(d)]
    else:
        ranges = [(float(points[:, i].min()), float(points[:, i].max())) if points.size
                  else (0.0, 0.0) for i in builtins.range(d)]
    edges = []
    for i, b in enumerate(bins):
        if isinstance(b, Tensor):
            edges.append(b._data)
        else:
            lo, hi = ranges[i]
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
            edges.append(xp.linspace(lo, hi, int(b) + 1).astype(a.dtype))
    w = None if weight is None else weight._data.reshape(-1)
    hist, _ = xp.histogramdd(points, bins=edges, weights=w, density=density)
    HistogramddResult = collections.namedtuple("histogramdd", ["hist", "bin_edges"])
    return HistogramddResult(Tensor._wrap(hist.astype(a.dtype)),
                             [Tensor._wrap(e.copy()) for e in edges])


__all__ = ["cov", "corrcoef", "histogram", "trapezoid", "trapz", "cumulative_trapezoid",
           "vander", "diagflat", "isin", "unravel_index", "gradient", "combinations", "ldexp",
           "frexp", "nextafter", "histogramdd"]

def _cov_method(self: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
                aweights: Tensor | None = None) -> Tensor:
    """:func:`cov` of this tensor."""
    return cov(self, correction=correction, fweights=fweights, aweights=aweights)


attach(cov=_cov_method, corrcoef=corrcoef, histogram=histogram, diagflat=diagflat, ldexp=ldexp, frexp=frexp,
       nextafter=nextafter)
