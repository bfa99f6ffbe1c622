"""Writing one tensor into a region of another, out of place: ``slice_scatter``,
``select_scatter``, ``diagonal_scatter``, ``as_strided_scatter``, ``index_copy``,
``index_reduce``; and ``as_strided``.

The region ops share one mechanism: the region is found by applying the same view (a slice, a
select, a diagonal) to an array of flat positions, so each op is one line naming its view. The
gradient of the input is the incoming gradient with the region zeroed; that of the source is the
incoming gradient's region (an ember indexing op, so it is differentiable again).
"""

from __future__ import annotations

import numpy as np

from ember.backend import get_array_module
from ember.ops.common import Tensor, attach, inplace_method, record
from ember.ops.dims import normalize_dim


def _tensor(x, name: str, arg: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(x).__name__}")
    return x


def _scatter_region(name: str, input: Tensor, src: Tensor, region, what: str) -> Tensor:
    """``input`` with ``src`` written into ``region(positions)`` (``region`` maps an array shaped
    like ``input`` to a view of it)."""
    _tensor(input, name, "input")
    _tensor(src, name, "src")
    a = input._data
    xp = get_array_module(a)
    positions = region(xp.arange(a.size, dtype=np.int64).reshape(a.shape))
    if tuple(src.shape) != tuple(positions.shape):
        raise RuntimeError(f"{name}: expected src to have a size equal to the {what} of self. "
                           f"src size = {list(src.shape)}, {what} size = {list(positions.shape)}")
    out = a.copy()
    flat = out.reshape(-1)
    flat[positions.reshape(-1)] = src._data.astype(a.dtype, copy=False).reshape(-1)
    index = Tensor._wrap(xp.ascontiguousarray(positions))

    def backward(g, needs):
        gi = gs = None
        if needs[0]:
            keep = xp.ones(a.size, dtype=g._data.dtype)
            keep[positions.reshape(-1)] = 0
            gi = g * Tensor._wrap(keep.reshape(a.shape))
        if needs[1]:
            gs = g.reshape(-1)[index]
        return gi, gs

    return record(name.title().replace("_", ""), out, (input, src), backward)


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    """``input`` with ``src`` written into ``input[..., start:end:step, ...]`` (along ``dim``)."""
    d = normalize_dim(dim, _tensor(input, "slice_scatter", "input").ndim, "slice_scatter")
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    index = (slice(None),) * d + (slice(start, end, step),)
    return _scatter_region("slice_scatter", input, src, lambda p: p[index], "slice")


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """``input`` with ``src`` written into ``input.select(dim, index)``."""
    t = _tensor(input, "select_scatter", "input")
    d = normalize_dim(dim, t.ndim, "select_scatter")
    size = t.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select_scatter(): index {index} out of range for tensor of size "
                         f"{list(t.shape)} at dimension {d}")
    where = (slice(None),) * d + (index,)
    return _scatter_region("select_scatter", input, src, lambda p: p[where], "slice")


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """``input`` with ``src`` written into ``input.diagonal(offset, dim1, dim2)``."""
    t = _tensor(input, "diagonal_scatter", "input")
    d1 = normalize_dim(dim1, t.ndim, "diagonal_scatter")
    d2 = normalize_dim(dim2, t.ndim, "diagonal_scatter")
    return _scatter_region("diagonal_scatter", input, src,
                           lambda p: p.diagonal(offset, d1, d2), "diagonal")


# --------------------------------------------------------------------- index_copy, index_reduce


def _expanded_index(name: str, input: Tensor, dim: int, index: Tensor, source: Tensor):
    """``index`` (1-D, one entry per slice of ``source`` along ``dim``) spread over ``source``'s
    shape, for ``scatter``-style ops; checks the shapes as PyTorch does."""
    _tensor(input, name, "input")
    _tensor(index, name, "index")
    _tensor(source, name, "source")
    d = normalize_dim(dim, input.ndim, name)
    idx = index._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got {idx.dtype}")
    if idx.ndim > 1:
        raise IndexError(f"{name}(): Index should have dimension 1 or 0 (got {idx.ndim})")
    idx = idx.reshape(-1)
    if source.ndim != input.ndim and not (source.ndim == 0 and input.ndim == 0):
        raise IndexError(f"{name}(): Source/destination tensor must have same number of "
                         f"dimensions, got {source.ndim} and {input.ndim}")
    src_len = source.shape[d] if source.ndim else 1
    if src_len != idx.size:
        raise RuntimeError(f"{name}(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim) ({src_len})")
    for k in range(input.ndim):
        if k != d and source.shape[k] != input.shape[k]:
            raise RuntimeError(f"{name}(): Source/destination tensor must have same slice shapes. "
                               f"Destination slice shape: {list(input.shape)} at dimension {d} "
                               f"and source slice shape: {list(source.shape)} at dimension {d}.")
    size = input.shape[d] if input.ndim else 1
    if idx.size and (bool((idx >= size).any()) or bool((idx < -size).any())):
        raise IndexError(f"{name}(): index out of range in self")
    xp = get_array_module(idx)
    idx = xp.where(idx < 0, idx + size, idx).astype(np.int64)
    shape = [1] * max(input.ndim, 1)
    shape[d] = idx.size
    full = xp.broadcast_to(idx.reshape(shape), source.shape if source.ndim else (1,))
    return d, Tensor._wrap(xp.ascontiguousarray(full))


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``input`` with the slices ``source.select(dim, i)`` copied to ``index[i]`` along ``dim``
    (an index repeated keeps one of its sources, unspecified which, as in PyTorch)."""
    d, full = _expanded_index("index_copy", input, dim, index, source)
    if input.ndim == 0:
        return input.reshape(1).scatter(0, full, source.reshape(1)).reshape(())
    return input.scatter(d, full, source)


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """``input`` with the slices of ``source`` reduced into the slices ``index[i]`` along
    ``dim`` by ``reduce`` (``'prod'``, ``'mean'``, ``'amax'`` or ``'amin'``); with
    ``include_self=False`` the old values of those slices do not take part."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    d, full = _expanded_index("index_reduce", input, dim, index, source)
    if input.ndim == 0:
        return input.reshape(1).scatter_reduce(0, full, source.reshape(1), reduce,
                                               include_self=include_self).reshape(())
    return input.scatter_reduce(d, full, source, reduce, include_self=include_self)


# ---------------------------------------------------------------------------------- as_strided


def _strided_positions(name: str, a, size, stride, storage_offset):
    """The flat positions (in ``a``'s row-major order) that ``as_strided`` reads, or PyTorch's
    error when they run past the end."""
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    offset = 0 if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(stride)} != "
                           f"{len(size)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"{name}: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    needed = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if needed > a.size:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {a.dtype.itemsize} requiring a storage "
                           f"size of {needed * a.dtype.itemsize} are out of bounds for storage of "
                           f"size {a.size * a.dtype.itemsize}")
    xp = get_array_module(a)
    positions = xp.full(size, offset, dtype=np.int64)
    for k, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[k] = n
        positions = positions + (xp.arange(n, dtype=np.int64) * s).reshape(shape)
    return positions


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """The elements of ``input`` (read in its contiguous row-major order, which is its storage
    when it is contiguous) at ``storage_offset + sum(i_k * stride[k])`` for each index of a
    tensor of ``size``.

    ember has no storage shared between tensors, so the result is a copy, not a view: writing
    into it does not change ``input``. The gradient adds each element's gradient back to the
    position it was read from, as PyTorch's.
    """
    _tensor(input, "as_strided", "input")
    a = input._data
    positions = _strided_positions("as_strided", a, size, stride, storage_offset)
    if not a.size:
        return Tensor._wrap(get_array_module(a).zeros(positions.shape, dtype=a.dtype))
    return input.reshape(-1)[Tensor._wrap(positions)]


def as_strided_scatter(input: Tensor, src: Tensor, size, stride,
                       storage_offset: int | None = None) -> Tensor:
    """``input`` with ``src`` written into the elements ``as_strided(input, size, stride,
    storage_offset)`` reads (overlapping positions keep one of their values)."""
    _tensor(input, "as_strided_scatter", "input")

    def region(p):
        flat = p.reshape(-1)
        return flat[_strided_positions("as_strided_scatter", p, size, stride, storage_offset)]

    return _scatter_region("as_strided_scatter", input, src, region, "view")


def _index_copy_method(self: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    return index_copy(self, dim, index, source)


def _index_reduce_method(self: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                         include_self: bool = True) -> Tensor:
    return index_reduce(self, dim, index, source, reduce, include_self=include_self)


__all__ = ["slice_scatter", "select_scatter", "diagonal_scatter", "index_copy", "index_reduce",
           "as_strided", "as_strided_scatter"]

attach(
    slice_scatter=slice_scatter, select_scatter=select_scatter,
    diagonal_scatter=diagonal_scatter, index_copy=_index_copy_method,
    index_reduce=_index_reduce_method, as_strided=as_strided,
    as_strided_scatter=as_strided_scatter,
    index_copy_=inplace_method(_index_copy_method, "index_copy_"),
    index_reduce_=inplace_method(_index_reduce_method, "index_reduce_"),
)
