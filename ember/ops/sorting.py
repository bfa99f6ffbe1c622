"""Sorting and selection: sort/argsort/msort, topk, kthvalue, median/nanmedian, mode,
quantile/nanquantile, nansum/nanmean, and the ops that return only indices or counts: unique,
unique_consecutive, searchsorted, bucketize, bincount, histc.

Every selecting op decides *which* elements it picks on raw arrays, with a stable argsort that
orders NaN above every number (PyTorch's order), and then takes those elements with one recorded
op whose gradient scatters back to the picked positions. That gradient is a ``scatter_add``, whose
own gradient is a ``gather``, so second derivatives need nothing more. Ops that return indices,
counts or bins have no gradient, as in PyTorch.

Where PyTorch leaves the order of ties unspecified (``sort`` without ``stable``, ``topk``,
``unique(sorted=False)``) ember gives the stable order; that is one of the orders PyTorch allows.
"""

from __future__ import annotations

import collections
import math
import operator

from ember import backend
from ember.backend import get_array_module
from ember.ops.common import write_out, Tensor, attach, check_same_device, record
from ember.ops.dims import numpy_names, const, normalize_dim
from ember.ops.indexing import gather, scatter_add
from ember.ops.reduce import _axes, _expand_back
from ember.ops.reduce import sum as _sum

_SortResult = collections.namedtuple("sort", ["values", "indices"])
_TopkResult = collections.namedtuple("topk", ["values", "indices"])
_KthvalueResult = collections.namedtuple("kthvalue", ["values", "indices"])
_MedianResult = collections.namedtuple("median", ["values", "indices"])
_NanmedianResult = collections.namedtuple("nanmedian", ["values", "indices"])
_ModeResult = collections.namedtuple("mode", ["values", "indices"])

# ------------------------------------------------------------------------------------ helpers


def _int_k(name: str, k) -> int:
    try:
        return operator.index(k)
    except TypeError:
        raise TypeError(f"{name}(): argument 'k' (position 2) must be int, not "
                        f"{type(k).__name__}") from None


def _nonempty(name: str, shape: tuple, axis: int) -> None:
    if shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size (input "
                         f"shape {tuple(shape)}).")


def _argsort(a, axis: int, descending: bool):
    """Stable int64 argsort along ``axis``, NaN ordered as the largest value.

    Descending order sorts the reversed array ascending and reverses the answer: ties then keep
    their original order (a stable descending sort) and NaN comes first, both as in PyTorch, and
    it works for every dtype (negating would not, for bools, unsigned integers or NaN).
    """
    xp = get_array_module(a)
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable").astype(xp.int64, copy=False)
    n = a.shape[axis]
    idx = xp.argsort(xp.flip(a, axis), axis=axis, kind="stable").astype(xp.int64, copy=False)
    return (n - 1) - xp.flip(idx, axis)


def _leading(a, axis: int, k: int):
    """The first ``k`` entries of ``a`` along ``axis``."""
    key = [slice(None)] * a.ndim
    key[axis] = slice(0, k)
    return a[tuple(key)]


def _take(name: str, x: Tensor, axis: int, idx, keepdim: bool = True) -> Tensor:
    """``x``'s elements at ``idx`` along ``axis`` (``take_along_axis``), recorded as op ``name``.

    With ``keepdim=False`` the size-1 ``axis`` of the result is dropped. The gradient adds each
    output gradient back at the position it was taken from.
    """
    a = x._data
    out = get_array_module(a).take_along_axis(a, idx, axis=axis)
    kept = out.shape
    if not keepdim:
        out = out.reshape(kept[:axis] + kept[axis + 1:])
    shape = a.shape
    index = Tensor._wrap(idx)

    def backward(g, needs):
        if not keepdim:
            g = g.reshape(kept)
        zeros = const(get_array_module(g._data).zeros(shape, dtype=g._data.dtype))
        return (scatter_add(zeros, axis, index, g),)

    return record(name, out, (x,), backward)


def _scalar_pick(name: str, x: Tensor, result_type):
    """A selecting op on a 0-d tensor: the element itself, at index 0."""
    xp = get_array_module(x._data)
    values = record(name, x._data.copy(), (x,), lambda g, needs: (g,))
    return result_type(values, Tensor._wrap(xp.zeros((), dtype=xp.int64)))


def _squeeze_idx(idx, axis: int, keepdim: bool):
    return idx if keepdim else idx.reshape(idx.shape[:axis] + idx.shape[axis + 1:])


# --------------------------------------------------------------------------- sort, argsort


def sort(input: Tensor, dim: int = -1, descending: bool = False, *,
         stable: bool = False, out: Tensor | None = None, axis=None) -> tuple[Tensor, Tensor]:
    """``(values, indices)`` of ``input`` sorted along ``dim``; NaN counts as the largest value.

    The sort is always stable, so ``stable=True`` and ``stable=False`` give the same (allowed)
    answer. The gradient of ``values`` goes back to the position each value came from.
    """
    if axis is not None:
        dim = axis
    if out is not None:
        return write_out("sort", out, sort(input, dim, descending, stable=stable))
    a = input._data
    axis = normalize_dim(dim, a.ndim, "sort", a.shape)
    if a.ndim == 0:
        return _scalar_pick("Sort", input, _SortResult)
    idx = _argsort(a, axis, descending)
    return _SortResult(_take("Sort", input, axis, idx), Tensor._wrap(idx))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *,
            stable: bool = False, axis=None) -> Tensor:
    """The int64 indices that sort ``input`` along ``dim`` (the ``indices`` of :func:`sort`)."""
    if axis is not None:
        dim = axis
    a = input._data
    axis = normalize_dim(dim, a.ndim, "argsort", a.shape)
    if a.ndim == 0:
        return Tensor._wrap(get_array_module(a).zeros((), dtype="int64"))
    return Tensor._wrap(_argsort(a, axis, descending))


def msort(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``input`` sorted along its first dim (``sort(input, 0).values``)."""
    if out is not None:
        return write_out("msort", out, msort(input))
    return sort(input, 0).values


# ------------------------------------------------------------------------------ topk, kthvalue


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True, *, out: Tensor | None = None, axis=None) -> tuple[Tensor, Tensor]:
    """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) elements along
    ``dim``, ordered from the most extreme; NaN counts as the largest value.

    With ``sorted=False`` PyTorch leaves the order unspecified; ember returns them sorted.
    """
    if axis is not None:
        dim = axis
    if out is not None:
        return write_out("topk", out, topk(input, k, dim, largest, sorted))
    k = _int_k("topk", k)
    a = input._data
    axis = normalize_dim(dim, a.ndim, "topk", a.shape)
    n = a.shape[axis] if a.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k out of range: k={k}, but dimension {axis} "
                           f"of the input of shape {tuple(a.shape)} has size {n}")
    if a.ndim == 0:
        return _scalar_pick("Topk", input, _TopkResult)
    idx = _leading(_argsort(a, axis, largest), axis, k)
    return _TopkResult(_take("Topk", input, axis, idx), Tensor._wrap(idx))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False, *, out: Tensor | None = None,
             axis=None, keepdims=None) -> tuple[Tensor, Tensor]:
    """``(values, indices)`` of the ``k``-th smallest element (counting from 1) along ``dim``.

    Which index is returned among equal values is unspecified in PyTorch; ember returns the
    ``k``-th in a stable sort.
    """
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("kthvalue", out, kthvalue(input, k, dim, keepdim))
    k = _int_k("kthvalue", k)
    a = input._data
    axis = normalize_dim(dim, a.ndim, "kthvalue", a.shape)
    if a.ndim:
        _nonempty("kthvalue", a.shape, axis)
    n = a.shape[axis] if a.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}: "
                           f"k={k}, but the input of shape {tuple(a.shape)} has {n} elements "
                           "along it")
    if a.ndim == 0:
        return _scalar_pick("Kthvalue", input, _KthvalueResult)
    order = _argsort(a, axis, False)
    key = [slice(None)] * a.ndim
    key[axis] = slice(k - 1, k)
    idx = order[tuple(key)]
    return _KthvalueResult(_take("Kthvalue", input, axis, idx, keepdim),
                           Tensor._wrap(_squeeze_idx(idx, axis, keepdim)))


# ------------------------------------------------------------------------------ median, mode


def _median_index(a, axis: int, ignore_nan: bool):
    """Indices (with ``axis`` kept as size 1) of the lower median along ``axis``.

    ``median`` answers NaN (the first NaN in sorted order) for a slice holding one;
    ``nanmedian`` takes the lower median of the other values, and the first NaN when every
    value is NaN.
    """
    xp = get_array_module(a)
    order = _argsort(a, axis, False)
    n = a.shape[axis]
    if a.dtype.kind in "fc":
        valid = (~xp.isnan(a)).sum(axis=axis, keepdims=True)
    else:
        valid = xp.full(a.shape[:axis] + (1,) + a.shape[axis + 1:], n, dtype=xp.int64)
    if ignore_nan:
        pos = xp.maximum(valid - 1, 0) // 2
    else:
        pos = xp.where(valid == n, (n - 1) // 2, valid)
    return xp.take_along_axis(order, pos.astype(xp.int64, copy=False), axis=axis)


def _global_median(name: str, x: Tensor, ignore_nan: bool) -> Tensor:
    """The median of every element; the gradient is shared evenly by all elements equal to it
    (all NaNs when the answer is NaN), as PyTorch's ``median()`` does."""
    a = x._data
    xp = get_array_module(a)
    flat = a.reshape(-1)
    if flat.size == 0:
        if a.dtype.kind not in "fc":
            raise IndexError(f"{name}(): cannot take the median of an empty {x.dtype} tensor")
        return record(name.capitalize(), xp.full((), math.nan, dtype=a.dtype), (x,),
                      lambda g, needs: (const(xp.zeros(a.shape, dtype=a.dtype)),))
    idx = _median_index(flat, 0, ignore_nan)
    out = flat[idx].reshape(())

    result = Tensor._wrap(out)  # what the closure reads (no reference cycle)

    def backward(g, needs):
        r = result._data
        hit = a == r
        if a.dtype.kind in "fc":
            hit = hit | (xp.isnan(a) & xp.isnan(r))
        hit = hit.astype(g._data.dtype)
        return (g * const(hit / hit.sum()),)

    return record(name.capitalize(), result, (x,), backward, saved=(x,))


def _median_dim(name: str, x: Tensor, dim, keepdim: bool, ignore_nan: bool, result_type):
    a = x._data
    axis = normalize_dim(dim, a.ndim, name, a.shape)
    if a.ndim == 0:
        return _scalar_pick(name.capitalize(), x, result_type)
    _nonempty(name, a.shape, axis)
    idx = _median_index(a, axis, ignore_nan)
    return result_type(_take(name.capitalize(), x, axis, idx, keepdim),
                       Tensor._wrap(_squeeze_idx(idx, axis, keepdim)))


def median(input: Tensor, dim: int | None = None, keepdim: bool = False, *, out: Tensor | None = None,
           axis=None, keepdims=None):
    """The lower median: of every element (a tensor) without ``dim``, else ``(values, indices)``
    along ``dim``. A slice holding NaN has median NaN.

    Without ``dim`` the gradient is shared evenly by the elements equal to the median (PyTorch's
    rule); with ``dim`` it goes to the returned index.
    """
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("median", out, median(input, dim, keepdim))
    if dim is None:
        if keepdim:
            raise TypeError('median() missing 1 required positional arguments: "dim"')
        return _global_median("median", input, False)
    return _median_dim("median", input, dim, keepdim, False, _MedianResult)


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False, *, out: Tensor | None = None,
              axis=None, keepdims=None):
    """:func:`median` ignoring NaN: the lower median of the other values (NaN when every value in
    the slice is NaN)."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("nanmedian", out, nanmedian(input, dim, keepdim))
    if dim is None:
        if keepdim:
            raise TypeError('nanmedian() missing 1 required positional arguments: "dim"')
        return _global_median("nanmedian", input, True)
    return _median_dim("nanmedian", input, dim, keepdim, True, _NanmedianResult)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False, *, out: Tensor | None = None, axis=None,
         keepdims=None) -> tuple[Tensor, Tensor]:
    """``(values, indices)`` of the most frequent value along ``dim`` (the smallest such value
    on a tie in frequency) and the index of its last occurrence.

    PyTorch's CPU kernel gives the last occurrence for short slices and leaves it unspecified in
    general. The gradient goes to the returned index, as in PyTorch.
    """
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("mode", out, mode(input, dim, keepdim))
    a = input._data
    axis = normalize_dim(dim, a.ndim, "mode", a.shape)
    if a.ndim == 0:
        return _scalar_pick("Mode", input, _ModeResult)
    _nonempty("mode", a.shape, axis)
    xp = get_array_module(a)
    moved = xp.moveaxis(a, axis, -1)
    lead, n = moved.shape[:-1], moved.shape[-1]
    m = math.prod(lead)
    rows = moved.reshape(m, n)
    order = xp.argsort(rows, axis=1, kind="stable").astype(xp.int64, copy=False)
    ranked = xp.take_along_axis(rows, order, axis=1)
    starts = xp.ones((m, n), dtype=bool)
    starts[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
    run = xp.cumsum(starts, axis=1) - 1  # each sorted element's run of equal values, per row
    # run lengths per row, one bincount over all rows (row r's runs occupy bins r*n .. r*n+n-1)
    offsets = (xp.arange(m, dtype=xp.int64) * n)[:, None]
    counts = xp.bincount((run + offsets).reshape(-1), minlength=m * n).reshape(m, n)
    best = xp.argmax(counts, axis=1)[:, None]  # the first longest run: the smallest such value
    last = xp.take_along_axis(xp.cumsum(counts, axis=1), best, axis=1) - 1
    idx = xp.take_along_axis(order, last, axis=1).reshape(lead + (1,))
    idx = xp.moveaxis(idx, -1, axis)
    return _ModeResult(_take("Mode", input, axis, idx, keepdim),
                       Tensor._wrap(_squeeze_idx(idx, axis, keepdim)))


# ------------------------------------------------------------------------------------ quantile


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name: str, x: Tensor, q, dim, keepdim: bool, interpolation: str,
              ignore_nan: bool) -> Tensor:
    a = x._data
    xp = get_array_module(a)
    if a.dtype.kind != "f" or a.dtype.itemsize < 4:
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype (got "
                           f"{x.dtype})")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint "
                           f"or nearest, but got {interpolation}")
    if isinstance(q, Tensor):
        qa = q._data
        if qa.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor (got shape "
                               f"{tuple(qa.shape)})")
        if qa.dtype != a.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor (q is "
                               f"{q.dtype}, input {x.dtype})")
        check_same_device(name, a, qa)
        if qa.size and not bool(((qa >= 0) & (qa <= 1)).all()):
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
        scalar_q = qa.ndim == 0
    else:
        qf = float(q)
        if not 0 <= qf <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {qf}")
        qa = xp.asarray(qf, dtype=a.dtype)
        scalar_q = True
    if a.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")

    if dim is None:
        src, out_shape = x.reshape(-1), (1,) * a.ndim
    else:
        axis = normalize_dim(dim, a.ndim, name, a.shape)
        src = x.movedim(axis, -1) if a.ndim else x.reshape(1)
        out_shape = a.shape[:axis] + (1,) + a.shape[axis + 1:] if a.ndim else ()
    ranked = sort(src, -1).values
    r = ranked._data
    n = r.shape[-1]
    batch = r.shape[:-1]
    qv = qa.reshape(-1)
    if ignore_nan:
        valid = (~xp.isnan(r)).sum(axis=-1, keepdims=True).astype(a.dtype)
        ranks = qv * (valid - 1)
        ranks = xp.where(ranks < 0, xp.zeros((), dtype=a.dtype), ranks)
    else:
        # a slice holding NaN (sorted last) answers NaN: point every rank at the end
        ranks = xp.broadcast_to(qv * (n - 1), batch + qv.shape)
        ranks = xp.where(xp.isnan(r[..., -1:]), xp.asarray(n - 1, dtype=a.dtype), ranks)
    if interpolation == "higher":
        below = xp.ceil(ranks)
    elif interpolation == "nearest":
        below = xp.round(ranks)  # half to even, as PyTorch's round
    else:
        below = xp.floor(ranks)
    out = gather(ranked, -1, Tensor._wrap(below.astype(xp.int64)))
    if interpolation in ("linear", "midpoint"):
        above = gather(ranked, -1, Tensor._wrap(xp.ceil(ranks).astype(xp.int64)))
        weight = ranks - below if interpolation == "linear" else xp.full(ranks.shape, 0.5, a.dtype)
        out = out + const(weight.astype(a.dtype, copy=False)) * (above - out)
    # out is batch + (Q,): move the quantiles to the front, then restore the reduced dims
    if scalar_q:
        out = out.reshape(batch)
    elif batch:
        out = out.movedim(-1, 0)
    if keepdim:
        out = out.reshape(tuple(out.shape[:0 if scalar_q else 1]) + tuple(out_shape))
    return out


def quantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear", out: Tensor | None = None, axis=None, keepdims=None) -> Tensor:
    """The ``q``-th quantiles of ``input`` along ``dim`` (of every element when ``None``).

    ``q`` is a float or a 0-/1-D tensor in [0, 1] of the input's dtype; a 1-D ``q`` adds a
    leading dim. ``interpolation`` between the two neighbouring order statistics is ``linear``,
    ``lower``, ``higher``, ``midpoint`` or ``nearest`` (half to even). A slice holding NaN gives
    NaN. The gradient goes to the one or two order statistics used, weighted as interpolated.
    """
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("quantile", out, quantile(input, q, dim, keepdim, interpolation=interpolation))
    return _quantile("quantile", input, q, dim, keepdim, interpolation, False)


def nanquantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear", out: Tensor | None = None, axis=None, keepdims=None) -> Tensor:
    """:func:`quantile` ignoring NaN (NaN only where a slice is all NaN)."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("nanquantile", out, nanquantile(input, q, dim, keepdim, interpolation=interpolation))
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)


# ---------------------------------------------------------------------------- nansum, nanmean


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """Sum over ``dim`` counting NaN as zero; NaN positions get a zero gradient.

    Integer and bool inputs (which hold no NaN) sum as :func:`ember.sum`, to int64.
    """
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    a = input._data
    if dtype is not None:
        a = a.astype(backend.to_dtype(dtype).np, copy=False)
    if a.dtype.kind not in "fc":
        return _sum(input, dim, keepdim, dtype=dtype)
    xp = get_array_module(a)
    axes = _axes(dim, a.ndim)
    out = xp.where(xp.isnan(a), xp.zeros((), dtype=a.dtype), a).sum(axis=axes, keepdims=keepdim)
    shape = input.shape

    def backward(g, needs):
        keep = const((~xp.isnan(a)).astype(g._data.dtype))
        return (_expand_back(g, shape, axes, keepdim) * keep,)

    return record("Nansum", out, (input,), backward, saved=(input,))


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out: Tensor | None = None,
            axis=None, keepdims=None) -> Tensor:
    """Mean over ``dim`` of the values that are not NaN (NaN where a slice is all NaN); NaN
    positions get a zero gradient. Integer input raises, as in PyTorch."""
    dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if out is not None:
        return write_out("nanmean", out, nanmean(input, dim, keepdim, dtype=dtype))
    a = input._data
    if a.dtype.kind not in "fc":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but "
                           f"got {input.dtype}")
    xp = get_array_module(a)
    total = nansum(input, dim, keepdim, dtype=dtype)
    count = (~xp.isnan(a)).sum(axis=_axes(dim, a.ndim), keepdims=keepdim)
    return total / const(xp.asarray(count, dtype=total._data.dtype))


# ---------------------------------------------------------------------- unique and friends


def _rows(name: str, a, dim):
    """``a`` as a 2-D array of the slices to compare (one per row) and the dim they came from."""
    if dim is None:
        return a.reshape(-1, 1), None
    if a.ndim == 0:
        raise IndexError(f"{name}(): Dimension specified as {dim} but tensor has no dimensions")
    axis = normalize_dim(dim, a.ndim, name, a.shape)
    if a.size == 0 and a.shape[axis] != 0:
        raise RuntimeError(f"{name}(): There are 0 sized dimensions, and they aren't selected, so "
                           f"unique cannot be applied (input shape {tuple(a.shape)}, dim {axis})")
    moved = get_array_module(a).moveaxis(a, axis, 0)
    return moved.reshape(moved.shape[0], math.prod(moved.shape[1:])), axis


def _lex_order(rows):
    """The stable order that sorts ``rows`` lexicographically (first column most significant):
    one stable argsort per column, least significant first, which works on any device and dtype."""
    xp = get_array_module(rows)
    order = xp.arange(rows.shape[0], dtype=xp.int64)
    for j in range(rows.shape[1] - 1, -1, -1):
        order = order[xp.argsort(rows[order, j], kind="stable")]
    return order


def _unique_result(a, rows, axis, order, return_inverse: bool, return_counts: bool):
    xp = get_array_module(a)
    ranked = rows[order]
    n = rows.shape[0]
    first = xp.ones(n, dtype=bool)
    if n > 1:
        first[1:] = (ranked[1:] != ranked[:-1]).any(axis=1)
    kept = ranked[first]
    if axis is None:
        out = kept.reshape(-1)
    else:
        rest = a.shape[:axis] + a.shape[axis + 1:]
        out = xp.moveaxis(kept.reshape((kept.shape[0],) + rest), 0, axis)
    results = [Tensor._wrap(out)]
    if return_inverse:
        inverse = xp.empty(n, dtype=xp.int64)
        inverse[order] = xp.cumsum(first) - 1
        results.append(Tensor._wrap(inverse.reshape(a.shape) if axis is None else inverse))
    if return_counts:
        starts = xp.nonzero(first)[0].astype(xp.int64)
        ends = xp.concatenate([starts[1:], xp.full(1, n, dtype=xp.int64)])
        results.append(Tensor._wrap(ends - starts))
    return results[0] if len(results) == 1 else tuple(results)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None, *, axis=None):
    """The distinct elements of ``input`` (flattened), or its distinct slices along ``dim``, in
    ascending (lexicographic) order; with ``return_inverse`` each element's position in the
    result, with ``return_counts`` how often each occurs. NaNs are all distinct.

    ``sorted=False`` leaves the order to the implementation in PyTorch; ember always sorts.
    """
    if axis is not None:
        dim = axis
    a = input._data
    rows, axis = _rows("unique", a, dim)
    return _unique_result(a, rows, axis, _lex_order(rows), return_inverse, return_counts)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None, *, axis=None):
    """:func:`unique` of each run of equal consecutive elements (or slices along ``dim``),
    keeping the input's order."""
    if axis is not None:
        dim = axis
    a = input._data
    rows, axis = _rows("unique_consecutive", a, dim)
    order = get_array_module(a).arange(rows.shape[0], dtype="int64")
    return _unique_result(a, rows, axis, order, return_inverse, return_counts)


# ------------------------------------------------------------------- searchsorted, bucketize


def _batched_searchsorted(seq, vals, right: bool):
    """Row-wise ``searchsorted`` of ``vals (..., m)`` into ``seq (..., n)``, both batched alike.

    All boundaries and values are sorted together by (row, value, tag), where the tag puts a
    value before boundaries equal to it (``right=False``) or after them; a value's answer is
    then the number of its row's boundaries before it. Three stable argsorts, any device.
    """
    xp = get_array_module(seq)
    n, m = seq.shape[-1], vals.shape[-1]
    b = math.prod(seq.shape[:-1])
    dt = xp.result_type(seq, vals)
    keys = xp.concatenate([seq.reshape(b, n).astype(dt), vals.reshape(b, m).astype(dt)], axis=1)
    keys = keys.reshape(-1)
    is_seq = xp.zeros((b, n + m), dtype=bool)
    is_seq[:, :n] = True
    is_seq = is_seq.reshape(-1)
    tag = (~is_seq if right else is_seq).astype(xp.int8)
    row = xp.repeat(xp.arange(b, dtype=xp.int64), n + m)
    order = xp.argsort(tag, kind="stable")
    order = order[xp.argsort(keys[order], kind="stable")]
    order = order[xp.argsort(row[order], kind="stable")]
    before = xp.cumsum(is_seq[order].astype(xp.int64))
    found = xp.empty(b * (n + m), dtype=xp.int64)
    found[order] = before - row[order] * n
    return found.reshape(b, n + m)[:, n:].reshape(vals.shape)


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None, out: Tensor | None = None) -> Tensor:
    """For each value in ``input``, the index at which it would be inserted into the last dim of
    ``sorted_sequence`` to keep it sorted: before equal entries (``side='left'``) or after them
    (``right=True`` / ``side='right'``).

    ``sorted_sequence`` is 1-D (then ``input`` has any shape, or is a number) or N-D with the
    same leading dims as ``input``. ``sorter`` holds the indices that sort an unsorted sequence.
    """
    if out is not None:
        return write_out("searchsorted", out, searchsorted(sorted_sequence, input, out_int32=out_int32,
                         right=right, side=side, sorter=sorter))
    seq = sorted_sequence._data
    xp = get_array_module(seq)
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("searchsorted(): side and right can't be set to opposites, got side "
                               "of left while right was True")
        right = side == "right"
    if isinstance(input, Tensor):
        vals = input._data
        check_same_device("searchsorted", seq, vals)
    else:
        vals = xp.asarray(input)
    if seq.ndim == 0:
        raise RuntimeError("searchsorted(): boundaries tensor should be 1 dimension or the first "
                           "N-1 dimensions of boundaries tensor and input value tensor must match, "
                           f"but we got boundaries tensor {list(seq.shape)} and input value tensor "
                           f"{list(vals.shape)}")
    if sorter is not None:
        order = sorter._data
        if order.shape != seq.shape or order.dtype.kind not in "iu":
            raise RuntimeError(f"searchsorted(): sorter must be an integer tensor of the boundaries' "
                               f"shape {tuple(seq.shape)}, got {tuple(order.shape)} {sorter.dtype}")
        seq = xp.take_along_axis(seq, order.astype(xp.int64, copy=False), axis=-1)
    if seq.ndim == 1:
        out = xp.asarray(xp.searchsorted(seq, vals, side="right" if right else "left"))
    else:
        if vals.ndim == 0:
            raise RuntimeError("searchsorted(): input value can be a scalar only when boundaries "
                               f"tensor dimension is 1, but we got boundaries tensor "
                               f"dim({seq.ndim}) and input value's dim(0) numel(1)")
        if seq.shape[:-1] != vals.shape[:-1]:
            raise RuntimeError("searchsorted(): boundaries tensor should be 1 dimension or the "
                               "first N-1 dimensions of boundaries tensor and input value tensor "
                               f"must match, but we got boundaries tensor {list(seq.shape)} and "
                               f"input value tensor {list(vals.shape)}")
        out = _batched_searchsorted(seq, vals, right)
    return Tensor._wrap(out.astype(xp.int32 if out_int32 else xp.int64, copy=False))


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False,
              out: Tensor | None = None) -> Tensor:
    """The bucket of each element of ``input`` among the 1-D ascending ``boundaries``:
    ``i`` with ``boundaries[i-1] < x <= boundaries[i]`` (``right=True``:
    ``boundaries[i-1] <= x < boundaries[i]``)."""
    if out is not None:
        return write_out("bucketize", out, bucketize(input, boundaries, out_int32=out_int32, right=right))
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got "
                           f"dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# ---------------------------------------------------------------------------- bincount, histc


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each non-negative integer occurs in the 1-D ``input`` (int64), or the sum of
    ``weights`` at each (float32 weights give float32, other weights float64); the result has
    ``max(input) + 1`` entries, at least ``minlength``."""
    a = input._data
    xp = get_array_module(a)
    if a.dtype.kind not in "iu":
        raise NotImplementedError(f"bincount(): not implemented for {input.dtype} input (it counts "
                                  "non-negative integers)")
    if a.ndim != 1 or (a.size and int(a.min()) < 0):
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs (got shape "
                           f"{tuple(a.shape)}).")
    minlength = operator.index(minlength)
    if minlength < 0:
        raise RuntimeError(f"bincount(): minlength should be >= 0, got {minlength}")
    a = a.astype(xp.int64, copy=False)
    if weights is None:
        return Tensor._wrap(xp.bincount(a, minlength=minlength).astype(xp.int64, copy=False))
    w = weights._data
    check_same_device("bincount", a, w)
    if w.ndim != 1 or w.shape[0] != a.shape[0]:
        raise RuntimeError(f"bincount(): weights should be 1-d and have the same length as input "
                           f"(got weights {tuple(w.shape)}, input {tuple(a.shape)})")
    out_dtype = w.dtype if w.dtype in (xp.float32, xp.float64) else xp.float64
    out = xp.bincount(a, weights=w.astype(xp.float64, copy=False), minlength=minlength)
    return Tensor._wrap(out.astype(out_dtype, copy=False))


def histc(input: Tensor, bins: int = 100, min=0, max=0, *, out: Tensor | None = None) -> Tensor:
    """A histogram of ``input`` with ``bins`` equal-width bins over ``[min, max]`` (the data's
    own range when ``min == max``; widened by 1 each side if that is a single point). Elements
    outside the range, and NaN, are not counted; ``max`` falls in the last bin. Floats only."""
    if out is not None:
        return write_out("histc", out, histc(input, bins, min, max))
    a = input._data
    xp = get_array_module(a)
    if a.dtype.kind != "f":
        raise NotImplementedError(f"histc(): not implemented for {input.dtype} input (use a "
                                  "floating-point tensor)")
    bins = operator.index(bins)
    if bins <= 0:
        raise RuntimeError(f"histc(): bins must be > 0, but got {bins}")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"histc(): range of [{lo}, {hi}] is not finite")
    if lo > hi:
        raise RuntimeError(f"histc(): max must be larger than min (got min={lo}, max={hi})")
    # the bin arithmetic runs in the input's dtype, as PyTorch's does, so that elements close
    # to a bin edge land in the same bin
    lo_a, hi_a = xp.asarray(lo, dtype=a.dtype), xp.asarray(hi, dtype=a.dtype)
    flat = a.reshape(-1)
    inside = flat[(flat >= lo_a) & (flat <= hi_a)]
    pos = ((inside - lo_a) * a.dtype.type(bins) / (hi_a - lo_a)).astype(xp.int64)
    pos = xp.minimum(pos, bins - 1)
    return Tensor._wrap(xp.bincount(pos, minlength=bins).astype(a.dtype))


__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode",
           "quantile", "nanquantile", "nansum", "nanmean", "unique", "unique_consecutive",
           "searchsorted", "bucketize", "bincount", "histc"]

attach(sort=sort, argsort=argsort, msort=msort, topk=topk, kthvalue=kthvalue, median=median,
       nanmedian=nanmedian, mode=mode, quantile=quantile, nanquantile=nanquantile, nansum=nansum,
       nanmean=nanmean, unique=unique, unique_consecutive=unique_consecutive, bincount=bincount,
       histc=histc)
