"""Reductions: sum, mean, prod, max/min (with indices), amax/amin, argmax/argmin, var/std,
logsumexp, norm, all/any, count_nonzero, cumsum/cumprod. Each reduces over ``dim`` (an int, a
tuple, or all dims when ``None``) and keeps the reduced dims as size 1 when ``keepdim``.

Gradients are written with ember ops on Tensors. Where a gradient depends on the input only
through a piecewise-constant choice (which element was the maximum, the sign of an element) that
choice is computed on raw arrays and enters as a constant, exactly as PyTorch treats it.
"""

from __future__ import annotations

import builtins
import collections
import math
import operator

import numpy as np

from ember import backend
from ember.backend import get_array_module
from ember.ops.dims import numpy_names
from ember.ops.common import write_out, Tensor, attach, inplace_method, record
from ember.ops.compare import maximum, minimum, where
from ember.ops.elementwise import sub, where_grad
from ember.ops.indexing import scatter_add

# ------------------------------------------------------------------------------------ helpers


def _axes(dim, ndim):
    """Normalise ``dim`` to a sorted tuple of non-negative axes (``None`` or ``()``: every axis).

    A 0-d tensor accepts ``dim`` 0 or -1 (as in PyTorch) and has no axis to reduce.
    """
    if dim is None:
        return tuple(range(ndim))
    if not isinstance(dim, (tuple, list)):
        dim = (dim,)  # an int, a NumPy integer or a one-element integer tensor
    if not dim:
        return tuple(range(ndim))
    n = builtins.max(ndim, 1)
    out = []
    for d in dim:
        d = operator.index(d)
        if not -n <= d < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
            )
        d = d % n
        if d in out:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        out.append(d)
    if ndim == 0:
        return ()
    return tuple(sorted(out))


def _one_axis(name, dim, ndim):
    """A single reduction axis for ops that take an int ``dim`` only (None on a 0-d tensor)."""
    try:
        dim = operator.index(dim)
    except TypeError:
        raise TypeError(f"{name}(): argument 'dim' must be an int, not {type(dim).__name__}") from None
    axes = _axes(dim, ndim)
    return axes[0] if axes else None


def _kept_shape(shape, axes):
    """``shape`` with the reduced ``axes`` set to 1 (the ``keepdim=True`` result shape)."""
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _as_kept(g: Tensor, shape: tuple, axes: tuple, keepdim: bool) -> Tensor:
    """Reshape a reduced gradient (or result) to the ``keepdim=True`` form, so that it broadcasts
    against the input of shape ``shape``."""
    if keepdim or not axes:
        return g
    return g.reshape(_kept_shape(shape, axes))


def _expand_back(g: Tensor, shape: tuple, axes: tuple, keepdim: bool) -> Tensor:
    """Broadcast a reduced gradient back over the reduced axes to ``shape``."""
    return _as_kept(g, shape, axes, keepdim).expand(shape)


def _numel(shape, axes):
    return math.prod(shape[a] for a in axes)


def _const(array) -> Tensor:
    """A tensor that enters a gradient formula as a constant (it records no history)."""
    return Tensor._wrap(array)


def _float_input(name: str, x: Tensor, dtype=None):
    """The array to reduce, cast to ``dtype``; reject integer input like PyTorch does."""
    data = x._data
    if dtype is not None:
        data = data.astype(backend.to_dtype(dtype).np, copy=False)
    if data.dtype.kind not in "fc":
        raise RuntimeError(
            f"{name}(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {backend.dtype_of(data)}. Convert first, e.g. x.float()."
        )
    return data


def _int_accumulate(data, dtype):
    """PyTorch accumulates bools and integers in int64 unless a ``dtype`` is given."""
    if dtype is not None:
        return data.astype(backend.to_dtype(dtype).np, copy=False)
    if data.dtype.kind in "bu" or (data.dtype.kind == "i" and data.dtype.itemsize < 8):
        return data.astype("int64")
    return data


# ------------------------------------------------------------------------------- sum, mean


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out: Tensor | None = None,
        axis=None, keepdims=None) -> Tensor:
    """Sum over ``dim`` (all dims when ``None``); integers and bools sum as int64."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("sum", out, sum(input, dim, keepdim, dtype=dtype))
    x = input
    data = _int_accumulate(x._data, dtype)
    axes = _axes(dim, data.ndim)
    out = data.sum(axis=axes, keepdims=keepdim)
    shape = x.shape

    def backward(g, needs):
        return (_expand_back(g, shape, axes, keepdim),)

    return record("Sum", out, (x,), backward)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out: Tensor | None = None,
         axis=None, keepdims=None) -> Tensor:
    """Arithmetic mean over ``dim``; integer tensors raise, as in PyTorch (pass ``dtype=``)."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("mean", out, mean(input, dim, keepdim, dtype=dtype))
    x = input
    data = _float_input("mean", x, dtype)
    axes = _axes(dim, data.ndim)
    out = data.mean(axis=axes, keepdims=keepdim)
    shape = x.shape
    n = _numel(shape, axes)
    return record("Mean", out, (x,), lambda g, needs: (_expand_back(g / n, shape, axes, keepdim),))


# ------------------------------------------------------------------------------------- prod


def _leave_one_out_prod(x: Tensor, axis: int) -> Tensor:
    """Along ``axis``, the product of all the other elements: ``out[i] = prod(x[j], j != i)``.

    Computed in O(n) from exclusive cumulative products, so it is exact when ``x`` holds zeros
    (where ``prod / x`` is not). Its own gradient is the same construction one level down.
    """
    a = x._data
    xp = get_array_module(a)
    n = a.shape[axis]
    one_shape = a.shape[:axis] + (1,) + a.shape[axis + 1:]
    ones = xp.ones(one_shape, dtype=a.dtype)
    before = [slice(None)] * a.ndim
    after = [slice(None)] * a.ndim
    before[axis] = slice(0, n - 1)
    after[axis] = slice(1, n)
    left = xp.concatenate([ones, xp.cumprod(a[tuple(before)], axis=axis)], axis=axis)
    rev = xp.flip(a[tuple(after)], axis=axis)
    right = xp.concatenate([xp.flip(xp.cumprod(rev, axis=axis), axis=axis), ones], axis=axis)
    out = left * right
    pre, post = a.shape[:axis], a.shape[axis + 1:]

    def backward(g, needs):
        # d out[i] / d x[m] = prod(x[j], j not in {i, m}) for m != i: the leave-one-out product of
        # row i of a matrix whose row i is x with x[i] replaced by 1.
        eye = xp.eye(n, dtype=a.dtype).reshape((n, n) + (1,) * len(post))
        rows = x.reshape(pre + (1, n) + post) * _const(1 - eye) + _const(eye)
        pair = _leave_one_out_prod(rows, axis + 1) * _const(1 - eye)
        return ((g.reshape(pre + (n, 1) + post) * pair).sum(axis),)

    return record("LeaveOneOutProd", out, (x,), backward, saved=(x,))


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out: Tensor | None = None,
         axis=None, keepdims=None) -> Tensor:
    """Product over one ``dim`` (an int) or over every element; the gradient is exact at zeros."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("prod", out, prod(input, dim, keepdim, dtype=dtype))
    x = input
    data = _int_accumulate(x._data, dtype)
    if dim is None:
        axis = None
        out = data.prod()
    else:
        axis = _one_axis("prod", dim, data.ndim)
        out = data.prod(axis=axis, keepdims=keepdim) if axis is not None else data.copy()
    shape = x.shape
    axes = tuple(range(len(shape))) if axis is None else (axis,)
    kd = keepdim and dim is not None

    def backward(g, needs):
        gk = _as_kept(g, shape, axes, kd)
        if not axes:
            return (gk,)
        if get_array_module(x._data).all(x._data):
            return (gk * _as_kept(result, shape, axes, kd) / x,)
        if axis is None:
            loo = _leave_one_out_prod(x.reshape(-1), 0).reshape(shape)
        else:
            loo = _leave_one_out_prod(x, axis)
        return (gk * loo,)

    result = Tensor._wrap(out)  # what the closure reads (no cycle)
    return record("Prod", result, (x,), backward, saved=(x,))


# ---------------------------------------------------------------------------- max, min, ...


_MaxResult = collections.namedtuple("max", ["values", "indices"])
_MinResult = collections.namedtuple("min", ["values", "indices"])


def _full_extreme(name: str, x: Tensor, fn) -> Tensor:
    """max/min of every element; the gradient is split evenly over ties, as in PyTorch."""
    a = x._data
    if a.size == 0:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument."
        )
    return _amax_like(name, x, fn, tuple(range(a.ndim)), False, masked=True)


def _amax_like(name: str, x: Tensor, fn, axes: tuple, keepdim: bool, masked: bool = False) -> Tensor:
    """amax/amin (and max/min of every element, ``masked``): PyTorch multiplies amax's gradient
    by the tie mask, so a nan gradient spreads, but fills max()'s into zeros, so it does not."""
    a = x._data
    out = fn(a, axis=axes, keepdims=keepdim)
    shape = a.shape

    def backward(g, needs):
        xp = get_array_module(a)
        r = result._data if keepdim else result._data.reshape(_kept_shape(shape, axes))
        hit = (a == r).astype(a.dtype)
        with _quiet(xp):
            share = hit / hit.sum(axis=axes, keepdims=True)
        gk = _as_kept(g, shape, axes, keepdim)
        if masked:
            gk = where_grad(gk, hit.astype(bool))
        return (gk * _const(share),)

    result = Tensor._wrap(out)  # what the closure reads (no cycle)
    return record(name.capitalize(), result, (x,), backward, saved=(x,))


def _quiet(xp):
    """Silence NumPy's divide warnings where a NaN/inf result is the intended answer."""
    import contextlib

    return xp.errstate(divide="ignore", invalid="ignore") if hasattr(xp, "errstate") \
        else contextlib.nullcontext()


def _extreme_with_indices(name: str, x: Tensor, axis, keepdim: bool, pick_arg, result_type):
    a = x._data
    xp = get_array_module(a)
    if axis is None:  # a 0-d tensor: its value, at index 0
        idx = xp.zeros((), dtype=xp.int64)
        values = record(name.capitalize(), a.copy(), (x,), lambda g, needs: (g,))
        return result_type(values, Tensor._wrap(idx))
    if a.shape[axis] == 0:
        raise IndexError(
            f"{name}(): Expected reduction dim {axis} to have non-zero size (input shape "
            f"{tuple(a.shape)})."
        )
    idx = xp.expand_dims(pick_arg(a, axis=axis), axis).astype(xp.int64, copy=False)
    vals = xp.take_along_axis(a, idx, axis=axis)
    shape = a.shape
    if not keepdim:
        vals = vals.squeeze(axis)
        out_idx = idx.squeeze(axis)
    else:
        out_idx = idx

    def backward(g, needs):
        # the gradient goes only to the element whose index was returned
        pos = xp.arange(shape[axis]).reshape((-1,) + (1,) * (len(shape) - axis - 1))
        hit = pos == idx
        # a mask, not a product: the other elements get exactly 0 even where g is nan (PyTorch
        # scatters g into zeros)
        return (where_grad(_as_kept(g, shape, (axis,), keepdim), hit),)

    values = record(name.capitalize(), vals, (x,), backward)
    return result_type(values, Tensor._wrap(out_idx))


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None, out: Tensor | None = None,
        axis=None, keepdims=None):
    """The largest element; with ``dim``, ``(values, indices)`` along it; with a tensor second
    argument, the elementwise maximum (as ``ember.maximum``)."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("max", out, max(input, dim, keepdim, other=other))
    x = input
    if isinstance(dim, Tensor) or other is not None:
        return maximum(x, other if other is not None else dim)
    if dim is None:
        return _full_extreme("max", x, get_array_module(x._data).amax)
    axis = _one_axis("max", dim, x._data.ndim)
    xp = get_array_module(x._data)
    return _extreme_with_indices("max", x, axis, keepdim, xp.argmax, _MaxResult)


def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None, out: Tensor | None = None,
        axis=None, keepdims=None):
    """The smallest element; with ``dim``, ``(values, indices)`` along it; with a tensor second
    argument, the elementwise minimum (as ``ember.minimum``)."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("min", out, min(input, dim, keepdim, other=other))
    x = input
    if isinstance(dim, Tensor) or other is not None:
        return minimum(x, other if other is not None else dim)
    if dim is None:
        return _full_extreme("min", x, get_array_module(x._data).amin)
    axis = _one_axis("min", dim, x._data.ndim)
    xp = get_array_module(x._data)
    return _extreme_with_indices("min", x, axis, keepdim, xp.argmin, _MinResult)


def _check_empty_reduction(name: str, a, dim, axes: tuple) -> None:
    """PyTorch's refusals for a reduction with no identity over a zero-size tensor: with no dim
    given there is nothing to return; over an empty dim neither. Over non-empty dims of a
    zero-size tensor the result is simply empty. (PyTorch's own wording differs between amax,
    which names the dim as written, and argmax, which names it normalised and raises an
    IndexError without a dim; both are kept.)"""
    if a.size:
        return
    arg = name.startswith("arg")
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        if arg:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                             "input.numel() == 0.")
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument."
        )
    given = dim if isinstance(dim, (tuple, list)) else (dim,)
    for d in given:
        if a.shape[operator.index(d) % a.ndim] == 0:
            d = operator.index(d) % a.ndim if arg else d
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size "
                             f"(input shape {tuple(a.shape)}).")


def amax(input: Tensor, dim=(), keepdim: bool = False, *, out: Tensor | None = None, axis=None,
         keepdims=None) -> Tensor:
    """Maximum over ``dim`` (int or tuple; all dims by default); ties share the gradient evenly."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("amax", out, amax(input, dim, keepdim))
    x = input
    axes = _axes(dim, x._data.ndim)
    _check_empty_reduction("amax", x._data, dim, axes)
    return _amax_like("amax", x, get_array_module(x._data).amax, axes, keepdim)


def amin(input: Tensor, dim=(), keepdim: bool = False, *, out: Tensor | None = None, axis=None,
         keepdims=None) -> Tensor:
    """Minimum over ``dim`` (int or tuple; all dims by default); ties share the gradient evenly."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("amin", out, amin(input, dim, keepdim))
    x = input
    axes = _axes(dim, x._data.ndim)
    _check_empty_reduction("amin", x._data, dim, axes)
    return _amax_like("amin", x, get_array_module(x._data).amin, axes, keepdim)


def _arg_extreme(name, x: Tensor, dim, keepdim, fn) -> Tensor:
    a = x._data
    xp = get_array_module(a)
    _check_empty_reduction(name, a, dim, () if dim is None else _axes(dim, a.ndim))
    if dim is None:
        idx = xp.asarray(fn(a.reshape(-1)), dtype=xp.int64)
        if keepdim:
            idx = idx.reshape((1,) * a.ndim)
        return Tensor._wrap(idx)
    axis = _one_axis(name, dim, a.ndim)
    if axis is None:
        return Tensor._wrap(xp.zeros((), dtype=xp.int64))
    idx = fn(a, axis=axis).astype(xp.int64, copy=False)
    if keepdim:
        idx = xp.expand_dims(idx, axis)
    return Tensor._wrap(idx)


def argmax(input: Tensor, dim=None, keepdim: bool = False, *, out: Tensor | None = None, axis=None,
           keepdims=None) -> Tensor:
    """Index of the largest element along ``dim`` (of the flattened tensor when ``None``)."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("argmax", out, argmax(input, dim, keepdim))
    x = input
    return _arg_extreme("argmax", x, dim, keepdim, get_array_module(x._data).argmax)


def argmin(input: Tensor, dim=None, keepdim: bool = False, *, out: Tensor | None = None, axis=None,
           keepdims=None) -> Tensor:
    """Index of the smallest element along ``dim`` (of the flattened tensor when ``None``)."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("argmin", out, argmin(input, dim, keepdim))
    x = input
    return _arg_extreme("argmin", x, dim, keepdim, get_array_module(x._data).argmin)


# ------------------------------------------------------------------------------- var, std


def _correction(name, unbiased, correction):
    if correction is not None and unbiased is not None:
        raise RuntimeError(f"{name}(): pass either 'unbiased' or 'correction', not both")
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _var_input(name, x, dim, unbiased, correction):
    if isinstance(dim, bool):  # var(x, False) means var(x, unbiased=False), as in PyTorch
        dim, unbiased = None, dim
    data = x._data
    if data.dtype.kind not in "fc":
        raise RuntimeError(f"{name}(): std and var only support floating point and complex dtypes "
                           f"(got {x.dtype}); convert first, e.g. x.float()")
    axes = _axes(dim, data.ndim)
    c = _correction(name, unbiased, correction)
    return data, axes, c


def var(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction=None, out: Tensor | None = None, axis=None, keepdims=None) -> Tensor:
    """Variance over ``dim``, dividing by ``N - correction`` (``unbiased=True``: correction 1)."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("var", out, var(input, dim, unbiased, keepdim, correction=correction))
    x = input
    data, axes, c = _var_input("var", x, dim, unbiased, correction)
    xp = get_array_module(data)
    with _quiet(xp):
        out = data.var(axis=axes, ddof=c, keepdims=keepdim)
    shape = data.shape
    n = _numel(shape, axes)

    def backward(g, needs):
        centred = x - x.mean(axes, keepdim=True)
        return (_as_kept(g, shape, axes, keepdim) * centred * (2.0 / (n - c) if n > c else math.inf),)

    return record("Var", out, (x,), backward, saved=(x,))


def std(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction=None, out: Tensor | None = None, axis=None, keepdims=None) -> Tensor:
    """Standard deviation over ``dim``, with ``N - correction`` degrees of freedom."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("std", out, std(input, dim, unbiased, keepdim, correction=correction))
    x = input
    data, axes, c = _var_input("std", x, dim, unbiased, correction)
    xp = get_array_module(data)
    with _quiet(xp):
        out = data.std(axis=axes, ddof=c, keepdims=keepdim)
    shape = data.shape
    n = _numel(shape, axes)

    def backward(g, needs):
        centred = x - x.mean(axes, keepdim=True)
        scale = 1.0 / (n - c) if n > c else math.inf
        # where the std is exactly 0 every centred value is 0 too: PyTorch's gradient there is
        # 0 (not 0 / 0), so a constant feature does not turn a loss into nan. As in PyTorch, it
        # is g / std with those places filled with 0 (so a second derivative there is nan, too)
        rk = _as_kept(result, shape, axes, keepdim)
        with _quiet(xp):
            scaled = _as_kept(g, shape, axes, keepdim) / rk
        return (where_grad(scaled, rk._data != 0) * centred * scale,)

    result = Tensor._wrap(out)  # what the closure reads (no cycle)
    return record("Std", result, (x,), backward, saved=(x,))


def var_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction=None, out: Tensor | None = None, axis=None, keepdims=None):
    """``(var, mean)`` over ``dim``."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("var_mean", out, var_mean(input, dim, unbiased, keepdim, correction=correction))
    x = input
    return (var(x, dim, unbiased, keepdim, correction=correction),
            mean(x, dim if not isinstance(dim, bool) else None, keepdim))


def std_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction=None, out: Tensor | None = None, axis=None, keepdims=None):
    """``(std, mean)`` over ``dim``."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("std_mean", out, std_mean(input, dim, unbiased, keepdim, correction=correction))
    x = input
    return (std(x, dim, unbiased, keepdim, correction=correction),
            mean(x, dim if not isinstance(dim, bool) else None, keepdim))


# -------------------------------------------------------------------------- logsumexp, norm


def logsumexp(input: Tensor, dim=None, keepdim: bool = False, *, out: Tensor | None = None, axis=None,
              keepdims=None) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, computed without overflow (the max is factored out)."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("logsumexp", out, logsumexp(input, dim, keepdim))
    x = input
    data = x._data
    if data.dtype.kind not in "fc":
        data = data.astype(backend.get_default_dtype().np)
    xp = get_array_module(data)
    axes = _axes(dim, data.ndim)
    shape = data.shape
    if data.size == 0:
        out = xp.full(_kept_shape(shape, axes) if keepdim else
                      tuple(s for i, s in enumerate(shape) if i not in axes), -xp.inf, data.dtype)
        return record("LogSumExp", out, (x,), lambda g, needs: (_expand_back(g, shape, axes, keepdim) * 0,))
    m = xp.amax(data, axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)  # slices of -inf (or inf) must not become nan here
    with _quiet(xp):
        out = xp.log(xp.exp(data - m).sum(axis=axes, keepdims=True)) + m
    if not keepdim:
        out = out.reshape(tuple(s for i, s in enumerate(shape) if i not in axes))

    def backward(g, needs):
        # the softmax over the reduced dims
        return (_as_kept(g, shape, axes, keepdim) * (x - _as_kept(result, shape, axes, keepdim)).exp(),)

    result = Tensor._wrap(out)  # what the closure reads (no cycle)
    return record("LogSumExp", result, (x,), backward, saved=(x,))


def _safe_denominator(r: Tensor) -> Tensor:
    """``r`` with exact zeros replaced by one: where a norm is 0 its input slice is all zeros, so
    ``x / r`` then gives PyTorch's zero gradient instead of nan."""
    zero = r._data == 0
    if not zero.any():
        return r
    return r + _const(zero.astype(r._data.dtype))


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None, *, out: Tensor | None = None,
         axis=None, keepdims=None) -> Tensor:
    """The vector p-norm over ``dim`` (all elements by default): ``p`` is 2 (``'fro'``), 1,
    ``inf``, ``-inf``, 0 or any other number. The gradient at a zero norm is 0, as in PyTorch."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("norm", out, norm(input, p, dim, keepdim, dtype))
    x = input
    if isinstance(p, str):
        if p != "fro":
            raise NotImplementedError(f"norm(): p={p!r} is not supported; use p='fro', or a number")
        if dim is not None and not isinstance(dim, int) and len(tuple(dim)) > 2:
            raise RuntimeError(f"norm(): p='fro' takes at most 2 dims, got dim={dim}")
        p = 2
    return vector_norm(x, p, dim, keepdim, dtype=dtype)


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The p-norm (``ord``) of the elements over ``dim``, as ``torch.linalg.vector_norm``."""
    data = x._data
    if dtype is not None:
        data = data.astype(backend.to_dtype(dtype).np, copy=False)
    if data.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {backend.dtype_of(data)}")
    xp = get_array_module(data)
    axes = _axes(dim, data.ndim)
    shape = data.shape
    p = float(ord)
    mag = xp.abs(data)
    if p == 2:
        out = xp.sqrt((data * data).sum(axis=axes, keepdims=keepdim))
    elif p == 1:
        out = mag.sum(axis=axes, keepdims=keepdim)
    elif p == math.inf:
        out = mag.max(axis=axes, keepdims=keepdim)
    elif p == -math.inf:
        out = mag.min(axis=axes, keepdims=keepdim)
    elif p == 0:
        out = (data != 0).sum(axis=axes, keepdims=keepdim).astype(data.dtype)
    else:
        out = (mag ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)

    def backward(g, needs):
        xx = x if x._data.dtype == data.dtype else x.type(backend.dtype_of(data))
        gk = _as_kept(g, shape, axes, keepdim)
        sign = _const(xp.sign(data))
        if p == 2:
            gx = gk * xx / _safe_denominator(_as_kept(result, shape, axes, keepdim))
        elif p == 1:
            gx = gk * sign
        elif p == 0:
            gx = gk * _const(xp.zeros_like(data))
        elif p in (math.inf, -math.inf):
            r = result._data if keepdim else result._data.reshape(_kept_shape(shape, axes))
            hit = (mag == r).astype(data.dtype)
            with _quiet(xp):
                share = xp.sign(data) * hit / hit.sum(axis=axes, keepdims=True)
            gx = gk * _const(share)
        else:
            # |x| with exact zeros moved to 1: there the sign is 0 and so is the gradient (as in
            # PyTorch), instead of 0 * inf for p < 2
            zero = data == 0
            mag_x = xx * sign + _const(zero.astype(data.dtype)) if zero.any() else xx * sign
            r = _safe_denominator(_as_kept(result, shape, axes, keepdim))
            gx = gk * sign * mag_x ** (p - 1) / r ** (p - 1)
        return (gx,)

    result = Tensor._wrap(out)  # what the closure reads (no cycle)
    return record("Norm", result, (x,), backward, saved=(x,))


# ------------------------------------------------------------------------------ all, any, ...


def all(input: Tensor, dim=None, keepdim: bool = False, *, out: Tensor | None = None, axis=None,
        keepdims=None) -> Tensor:
    """True where every element over ``dim`` is nonzero."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("all", out, all(input, dim, keepdim))
    x = input
    return Tensor._wrap(get_array_module(x._data).asarray(
        x._data.all(axis=_axes(dim, x._data.ndim), keepdims=keepdim)))


def any(input: Tensor, dim=None, keepdim: bool = False, *, out: Tensor | None = None, axis=None,
        keepdims=None) -> Tensor:
    """True where some element over ``dim`` is nonzero."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("any", out, any(input, dim, keepdim))
    x = input
    return Tensor._wrap(get_array_module(x._data).asarray(
        x._data.any(axis=_axes(dim, x._data.ndim), keepdims=keepdim)))


def count_nonzero(input: Tensor, dim=None, *, axis=None) -> Tensor:
    """How many elements over ``dim`` are nonzero (int64)."""
    if axis is not None:
        dim = axis
    x = input
    a = x._data
    xp = get_array_module(a)
    return Tensor._wrap(xp.asarray((a != 0).sum(axis=_axes(dim, a.ndim)), dtype=xp.int64))


# --------------------------------------------------------------------------- cumsum, cumprod


def _reverse_cumsum(x: Tensor, axis: int) -> Tensor:
    """``out[i] = sum(x[j], j >= i)`` along ``axis``: the adjoint of :func:`cumsum`."""
    xp = get_array_module(x._data)
    out = xp.flip(xp.cumsum(xp.flip(x._data, axis), axis=axis), axis)
    return record("ReverseCumsum", out, (x,), lambda g, needs: (cumsum(g, axis),))


def cumsum(input: Tensor, dim=None, *, dtype=None, out: Tensor | None = None, axis=None) -> Tensor:
    """Running sum along ``dim``; integers and bools accumulate as int64."""
    if axis is not None:
        dim = axis
    if dim is None:
        raise TypeError("cumsum() missing required argument 'dim' (or axis=)")
    if out is not None:
        return write_out("cumsum", out, cumsum(input, dim, dtype=dtype))
    x = input
    data = _int_accumulate(x._data, dtype)
    axis = _one_axis("cumsum", dim, x._data.ndim)
    if axis is None:
        return record("Cumsum", data.copy(), (x,), lambda g, needs: (g,))
    out = get_array_module(data).cumsum(data, axis=axis)
    return record("Cumsum", out, (x,), lambda g, needs: (_reverse_cumsum(g, axis),))


def cumprod(input: Tensor, dim=None, *, dtype=None, out: Tensor | None = None, axis=None) -> Tensor:
    """Running product along ``dim``; the gradient is exact when the input holds zeros."""
    if axis is not None:
        dim = axis
    if dim is None:
        raise TypeError("cumprod() missing required argument 'dim' (or axis=)")
    if out is not None:
        return write_out("cumprod", out, cumprod(input, dim, dtype=dtype))
    x = input
    data = _int_accumulate(x._data, dtype)
    axis = _one_axis("cumprod", dim, x._data.ndim)
    if axis is None:
        return record("Cumprod", data.copy(), (x,), lambda g, needs: (g,))
    xp = get_array_module(data)
    out = xp.cumprod(data, axis=axis)
    shape = data.shape

    def backward(g, needs):
        if xp.all(x._data):
            return (_reverse_cumsum(g * result, axis) / x,)
        # with zeros: d out[k] / d x[i] = prod(x[j], j <= k, j != i) for k >= i, the running
        # product of row i of a matrix whose row i is x with x[i] replaced by 1 (O(n^2) memory)
        n = shape[axis]
        pre, post = shape[:axis], shape[axis + 1:]
        a = x._data
        eye = xp.eye(n, dtype=a.dtype).reshape((n, n) + (1,) * len(post))
        upper = xp.triu(xp.ones((n, n), dtype=a.dtype)).reshape((n, n) + (1,) * len(post))
        rows = x.reshape(pre + (1, n) + post) * _const(1 - eye) + _const(eye)
        running = cumprod(rows, axis + 1)
        return ((g.reshape(pre + (1, n) + post) * running * _const(upper)).sum(axis + 1),)

    result = Tensor._wrap(out)  # what the closure reads (no cycle)
    return record("Cumprod", result, (x,), backward, saved=(x,))


# ------------------------------------------------------------- cummax, cummin, logcumsumexp


_CummaxResult = collections.namedtuple("cummax", ["values", "indices"])
_CumminResult = collections.namedtuple("cummin", ["values", "indices"])


def _accumulate(xp, ufunc: str, a, axis: int):
    """``xp.<ufunc>.accumulate(a, axis)``, stepping along ``axis`` where the backend's ufunc has
    no ``accumulate`` (some CuPy versions): same values, one elementwise call per step."""
    fn = getattr(xp, ufunc)
    try:
        return fn.accumulate(a, axis=axis)
    except (AttributeError, NotImplementedError):
        pass
    out = a.copy()
    prev = [slice(None)] * a.ndim
    cur = [slice(None)] * a.ndim
    for i in range(1, a.shape[axis]):
        prev[axis], cur[axis] = i - 1, i
        out[tuple(cur)] = fn(out[tuple(prev)], a[tuple(cur)])
    return out


def _cum_extreme(name: str, x: Tensor, dim, ufunc: str, result_type):
    """Running max/min along ``dim`` with the index each value came from: the last of equal
    values, and the latest NaN once one is seen (NaN propagates), as PyTorch's cummax/cummin."""
    a = x._data
    xp = get_array_module(a)
    axis = _one_axis(name, dim, a.ndim)
    if axis is None:  # a 0-d tensor: itself, at index 0
        values = record(name.capitalize(), a.copy(), (x,), lambda g, needs: (g,))
        return result_type(values, Tensor._wrap(xp.zeros((), dtype=xp.int64)))
    vals = _accumulate(xp, ufunc, a, axis)
    # position j is a candidate when x[j] is the running extreme there (or NaN); the answer at i
    # is the last candidate at or before i, since the running value is constant in between
    hit = a == vals
    if a.dtype.kind == "f":
        hit |= xp.isnan(a)
    pos = xp.arange(a.shape[axis], dtype=xp.int64).reshape((-1,) + (1,) * (a.ndim - axis - 1))
    idx = _accumulate(xp, "maximum", xp.where(hit, pos, 0), axis)

    def backward(g, needs):
        # each gradient goes to the element its value came from (PyTorch's scatter_add)
        zeros = Tensor._wrap(xp.zeros(a.shape, dtype=g._data.dtype))
        return (scatter_add(zeros, axis, index, g),)

    index = Tensor._wrap(idx)
    values = record(name.capitalize(), vals, (x,), backward)
    return result_type(values, index)


def cummax(input: Tensor, dim: int | None = None, *, out: Tensor | None = None, axis=None):
    """``(values, indices)``: the running maximum along ``dim`` and where each came from (the
    last of equal values; NaN propagates). The gradient goes to those positions."""
    if axis is not None:
        dim = axis
    if dim is None:
        raise TypeError("cummax() missing required argument 'dim' (or axis=)")
    if out is not None:
        return write_out("cummax", out, cummax(input, dim))
    return _cum_extreme("cummax", input, dim, "maximum", _CummaxResult)


def cummin(input: Tensor, dim: int | None = None, *, out: Tensor | None = None, axis=None):
    """``(values, indices)``: the running minimum along ``dim`` and where each came from (the
    last of equal values; NaN propagates). The gradient goes to those positions."""
    if axis is not None:
        dim = axis
    if dim is None:
        raise TypeError("cummin() missing required argument 'dim' (or axis=)")
    if out is not None:
        return write_out("cummin", out, cummin(input, dim))
    return _cum_extreme("cummin", input, dim, "minimum", _CumminResult)


def logcumsumexp(input: Tensor, dim: int | None = None, *, out: Tensor | None = None, axis=None) -> Tensor:
    """``log(cumsum(exp(input)))`` along ``dim``, without overflow or underflow: a running
    ``logaddexp``, so ``[-1000, 0]`` gives ``[-1000, 0]`` (not ``-inf`` first)."""
    if axis is not None:
        dim = axis
    if dim is None:
        raise TypeError("logcumsumexp() missing required argument 'dim' (or axis=)")
    if out is not None:
        return write_out("logcumsumexp", out, logcumsumexp(input, dim))
    x = input
    data = x._data
    if data.dtype.kind != "f":
        raise NotImplementedError(f"logcumsumexp: not implemented for {x.dtype} tensors; "
                                  "convert first, e.g. x.float()")
    axis = _one_axis("logcumsumexp", dim, data.ndim)
    if axis is None:
        return record("LogCumSumExp", data.copy(), (x,), lambda g, needs: (g,))
    xp = get_array_module(data)
    out = _accumulate(xp, "logaddexp", data, axis)

    def backward(g, needs):
        return (_logcumsumexp_grad(x, result, g, axis),)

    result = Tensor._wrap(out)  # what the closure reads (no cycle)
    return record("LogCumSumExp", result, (x,), backward, saved=(x,))


def _logcumsumexp_grad(x: Tensor, out: Tensor, g: Tensor, axis: int) -> Tensor:
    """``gx[i] = sum(g[k] * exp(x[i] - out[k]), k >= i)``, in log space so that it neither
    overflows nor underflows: the positive and negative parts of ``g`` are each a reversed
    logcumsumexp of ``log|g| - out``. Written with ember ops, so it differentiates again."""
    gd = g._data
    # log|g| with exact zeros moved to 1, so no -inf (or nan in its own gradient) appears; those
    # places are then replaced by the lowest float, whose exp is 0
    log_abs = (g.abs() + _const((gd == 0).astype(gd.dtype))).log()
    lowest = float(np.finfo(gd.dtype).min)

    def part(mask):
        shifted = where(_const(mask), log_abs, lowest) - out
        rev = logcumsumexp(shifted.flip(axis), axis).flip(axis)
        return (rev + x).exp()

    return part(gd > 0) - part(gd < 0)


# ---------------------------------------------------------------- aminmax, dist, renorm


_AminmaxResult = collections.namedtuple("aminmax", ["min", "max"])


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False, out: Tensor | None = None,
            axis=None, keepdims=None):
    """``(min, max)`` over ``dim`` (every element when ``None``) in one call; each gradient is
    shared evenly by ties, as ``amin``/``amax``."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("aminmax", out, aminmax(input, dim=dim, keepdim=keepdim))
    a = input._data
    xp = get_array_module(a)
    if dim is None:
        if a.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                               "operation has no identity.")
        axes = tuple(range(a.ndim))
    else:
        axis = _one_axis("aminmax", dim, a.ndim)
        axes = () if axis is None else (axis,)
        if axis is not None and a.shape[axis] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {axis} to have non-zero size "
                             f"(input shape {tuple(a.shape)}).")
    return _AminmaxResult(_amax_like("amin", input, xp.amin, axes, keepdim),
                          _amax_like("amax", input, xp.amax, axes, keepdim))


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm of ``input - other`` (broadcast) over every element, a 0-d tensor."""
    if not isinstance(other, Tensor):
        raise TypeError(f"dist(): argument 'other' must be Tensor, not {type(other).__name__}")
    return vector_norm(sub(input, other), p)


def renorm(input: Tensor, p: float, dim: int, maxnorm: float, *, out: Tensor | None = None,
           axis=None) -> Tensor:
    """Each slice ``input.select(dim, i)`` whose ``p``-norm exceeds ``maxnorm`` scaled down to
    norm ``maxnorm`` (times ``1 / (1 + 1e-7 / norm)``, as PyTorch); the others unchanged."""
    if out is not None:
        return write_out("renorm", out, renorm(input, p, dim, maxnorm))
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {nd} dimensions "
                           f"(shape {tuple(input.shape)})")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported (p={p})")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    axis = _one_axis("renorm", dim, nd)
    norms = vector_norm(input, p, tuple(i for i in range(nd) if i != axis), keepdim=True)
    scale = where(_const(norms._data > maxnorm), maxnorm / (norms + 1e-7), 1.0)
    return input * scale


__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std",
           "var_mean", "std_mean", "logsumexp", "norm", "all", "any",
           "count_nonzero", "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "aminmax",
           "dist", "renorm"]

attach(sum=sum, mean=mean, prod=prod, max=max, min=min, amax=amax, amin=amin, argmax=argmax,
       argmin=argmin, var=var, std=std, logsumexp=logsumexp, norm=norm, all=all, any=any,
       count_nonzero=count_nonzero, cumsum=cumsum, cumprod=cumprod,
       cumsum_=inplace_method(cumsum, "cumsum_"), cumprod_=inplace_method(cumprod, "cumprod_"),
       cummax=cummax, cummin=cummin, logcumsumexp=logcumsumexp, aminmax=aminmax, dist=dist,
       renorm=renorm, renorm_=inplace_method(renorm, "renorm_"))
