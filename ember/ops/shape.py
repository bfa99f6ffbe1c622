"""Shape ops: reshape/view, expand, transpose/permute, squeeze/unsqueeze, flatten, cat/stack,
split/chunk/unbind, narrow, flip, roll, repeat/tile, pad, tril/triu, diagonal. Gradients move
values back to where they came from; nothing here does arithmetic.

Where NumPy gives a view (reshape of contiguous data, transpose, basic slicing, flip) the result
shares memory with the input, as in PyTorch.
"""

from __future__ import annotations

import operator
from functools import reduce as _reduce

import numpy as np

from ember import backend
from ember.backend import get_array_module
from ember.ops.common import (
    write_out,
    Tensor, attach, check_same_device, mark_view, record,
)
from ember.ops.compare import logical_xor
from ember.ops.dims import normalize_dim
from ember.ops.indexing import _check_range, _gather_key, gather, index_select


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _dims_arg(dims):
    """``f(0, 1)``, ``f((0, 1))`` and ``f([0, 1])`` all mean the dims ``(0, 1)``."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        return tuple(dims[0])
    return tuple(dims)


# ------------------------------------------------------------------------------ reshaping


def reshape(input: Tensor, *sizes, shape=None) -> Tensor:
    """Same values in a new shape (one dimension may be -1): ``reshape(x, 2, 3)``,
    ``reshape(x, (2, 3))`` or PyTorch's keyword form ``reshape(x, shape=(2, 3))``."""
    x = input
    shape = _shape_arg(sizes if shape is None else (shape,))
    src = x._data.shape
    try:
        out = x._data.reshape(shape)
    except ValueError:
        raise RuntimeError(
            f"reshape: shape {list(shape)} is invalid for input of size {x._data.size} "
            f"(input shape {tuple(src)})"
        ) from None
    result = record("Reshape", out, (x,), lambda g, needs: (g.reshape(src),))
    if _same_memory(out, x._data):  # a view unless NumPy had to copy, as in PyTorch
        mark_view(result, x, lambda t: reshape(t, shape))
    return result


def _same_memory(out, a) -> bool:
    """Whether array ``out`` is a view of ``a``'s memory (both reduced to their owners)."""
    ob = out.base if out.base is not None else out
    ab = a.base if a.base is not None else a
    return ob is ab


def _reshape_to(x: Tensor, shape: tuple, name: str) -> Tensor:
    """Reshape to a shape already known to be valid, recorded under the caller's op name."""
    src = x._data.shape
    if tuple(shape) == src:
        return x
    out = x._data.reshape(shape)
    result = record(name, out, (x,), lambda g, needs: (g.reshape(src),))
    if _same_memory(out, x._data):
        mark_view(result, x, lambda t: _reshape_to(t, shape, name))
    return result


def view_as(x: Tensor, other: Tensor) -> Tensor:
    """``x`` reshaped to ``other``'s shape."""
    return reshape(x, other.shape)


def squeeze(input: Tensor, dim=None, *, axis=None) -> Tensor:
    """Drop size-1 dimensions: all of them, or those among ``dim`` (an int or a tuple)."""
    if axis is not None:
        dim = axis
    x = input
    shape = x._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        drop = {normalize_dim(d, len(shape)) for d in dims}
        new = tuple(s for i, s in enumerate(shape) if not (i in drop and s == 1))
    return _reshape_to(x, new, "Squeeze")


def unsqueeze(input: Tensor, dim: int | None = None, *, axis=None) -> Tensor:
    """Insert a size-1 dimension at position ``dim`` (``-1`` appends)."""
    if axis is not None:
        dim = axis
    if dim is None:
        raise TypeError("unsqueeze() missing required argument 'dim' (or axis=)")
    x = input
    shape = x._data.shape
    d = normalize_dim(dim, len(shape) + 1)
    return _reshape_to(x, shape[:d] + (1,) + shape[d:], "Unsqueeze")


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` (inclusive) into one."""
    x = input
    shape = x._data.shape
    if not shape:
        return _reshape_to(x, (1,), "Flatten")
    s, e = normalize_dim(start_dim, len(shape)), normalize_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError(f"flatten() has invalid args: start_dim ({start_dim}) cannot come "
                           f"after end_dim ({end_dim}) for a tensor of shape {tuple(shape)}")
    merged = _reduce(operator.mul, shape[s:e + 1], 1)
    return _reshape_to(x, shape[:s] + (merged,) + shape[e + 1:], "Flatten")


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one of which may be -1)."""
    x = input
    shape = x._data.shape
    d = normalize_dim(dim, len(shape))
    sizes = tuple(sizes)
    known = _reduce(operator.mul, (s for s in sizes if s != -1), 1)
    if sizes.count(-1) > 1 or (sizes.count(-1) == 0 and known != shape[d]) or (
            sizes.count(-1) == 1 and (known == 0 or shape[d] % known)):
        raise RuntimeError(f"unflatten: sizes {list(sizes)} don't multiply up to the size of "
                           f"dimension {d} ({shape[d]}) of the tensor of shape {tuple(shape)}")
    sizes = tuple(shape[d] // known if s == -1 else s for s in sizes)
    return _reshape_to(x, shape[:d] + sizes + shape[d + 1:], "Unflatten")


def expand(x: Tensor, *shape) -> Tensor:
    """Broadcast to ``shape`` without copying (-1 keeps a dimension)."""
    shape = _shape_arg(shape)
    src = x._data.shape
    lead = len(shape) - len(src)
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({len(src)})"
        )
    full = tuple(src[i - lead] if (s == -1 and i >= lead) else s for i, s in enumerate(shape))
    if full == src:
        return x
    try:
        out = get_array_module(x._data).broadcast_to(x._data, full)
    except ValueError:
        raise RuntimeError(
            f"expand: the expanded size of the tensor {full} must match the existing size {src} "
            "at non-singleton dimensions"
        ) from None
    return record("Expand", out, (x,), lambda g, needs: (g,))  # the engine sums g back to src


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    """``x`` broadcast to ``other``'s shape."""
    return expand(x, other.shape)


def broadcast_to(input: Tensor, shape) -> Tensor:
    """``x`` broadcast to ``shape`` (a view, as :meth:`Tensor.expand`)."""
    x = input
    return expand(x, tuple(shape))


def broadcast_shapes(*shapes) -> tuple:
    """The shape that tensors of ``shapes`` broadcast to."""
    try:
        return tuple(np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        raise RuntimeError(f"shapes {[tuple(s) for s in shapes]} cannot be broadcast "
                           "together") from None


def broadcast_tensors(*tensors) -> tuple:
    """The tensors expanded to their common broadcast shape."""
    tensors = _dims_arg(tensors)
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


# -------------------------------------------------------------------------- moving dimensions


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (a view)."""
    x = input
    nd = x._data.ndim
    d0, d1 = normalize_dim(dim0, nd), normalize_dim(dim1, nd)
    if d0 == d1 or nd < 2:
        return x
    out = x._data.swapaxes(d0, d1)
    result = record("Transpose", out, (x,), lambda g, needs: (transpose(g, d0, d1),))
    return mark_view(result, x, lambda t: transpose(t, d0, d1))


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder the dimensions: ``x.permute(2, 0, 1)`` or ``x.permute((2, 0, 1))`` (a view)."""
    x = input
    dims = _dims_arg(dims)
    nd = x._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}"
                           .replace("(sparse_coo)", ""))
    perm = tuple(normalize_dim(d, nd) for d in dims)
    if len(set(perm)) != nd:
        raise RuntimeError(f"permute(): duplicate dims are not allowed (got {dims})")
    if perm == tuple(range(nd)):
        return x
    inv = [0] * nd
    for i, p in enumerate(perm):
        inv[p] = i
    inv = tuple(inv)
    result = record("Permute", x._data.transpose(perm), (x,), lambda g, needs: (permute(g, inv),))
    return mark_view(result, x, lambda t: permute(t, perm))


def t(input: Tensor) -> Tensor:
    """Transpose a matrix (0-d and 1-d tensors are returned as they are)."""
    x = input
    nd = x._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return transpose(x, 0, 1) if nd == 2 else x


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dimension(s) ``source`` to position(s) ``destination``; the rest keep their order."""
    x = input
    nd = x._data.ndim
    src = source if isinstance(source, (tuple, list)) else (source,)
    dst = destination if isinstance(destination, (tuple, list)) else (destination,)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    src = tuple(normalize_dim(d, nd) for d in src)
    dst = tuple(normalize_dim(d, nd) for d in dst)
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in source {src} or destination {dst}")
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(x, tuple(order))


def _T(x: Tensor) -> Tensor:
    nd = x._data.ndim
    return permute(x, tuple(range(nd - 1, -1, -1))) if nd >= 2 else x


def _mT(x: Tensor) -> Tensor:
    if x._data.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {x._data.ndim}-D tensor.")
    return transpose(x, -2, -1)


# ------------------------------------------------------------------------------- copies


def contiguous(x: Tensor, memory_format=None) -> Tensor:
    """``x`` itself when its memory is already row-major, else a row-major copy (so writing into
    the result never reaches ``x``'s memory, as in PyTorch)."""
    xd = x._data
    if xd.flags.c_contiguous:
        return x
    out = get_array_module(xd).ascontiguousarray(xd)
    return record("Contiguous", out, (x,), lambda g, needs: (g,))


def repeat(x: Tensor, *sizes) -> Tensor:
    """Tile ``x`` ``sizes[i]`` times along each dimension (``sizes`` may add leading dims)."""
    sizes = _shape_arg(sizes)
    shape = x._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"Number of dimensions of repeat dims ({len(sizes)}) can not be smaller "
                           f"than number of dimensions of tensor ({len(shape)}, shape "
                           f"{tuple(shape)})")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat: repeat sizes must be non-negative, got {list(sizes)}")
    padded = (1,) * (len(sizes) - len(shape)) + tuple(shape)
    xp = get_array_module(x._data)
    out = xp.tile(x._data.reshape(padded), sizes)

    def backward(g, needs):
        split = []
        for r, s in zip(sizes, padded):
            split += [r, s]
        summed = g.reshape(tuple(split)).sum(tuple(range(0, 2 * len(sizes), 2)))
        return (summed.reshape(shape),)

    return record("Repeat", out, (x,), backward)


def tile(input: Tensor, dims) -> Tensor:
    """Like :func:`repeat`, but ``dims`` shorter than ``x.ndim`` is padded with leading 1s."""
    x = input
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    nd = x._data.ndim
    if len(dims) < nd:
        dims = (1,) * (nd - len(dims)) + dims
    return repeat(x, dims)


# ------------------------------------------------------------------------ joining & splitting


def _slice_key(dim: int, start: int, stop: int) -> tuple:
    return (slice(None),) * dim + (slice(start, stop),)


def cat(tensors, dim: int = 0, *, out: Tensor | None = None, axis=None) -> Tensor:
    """Join tensors along an existing dimension; dtypes promote as in PyTorch.

    All shapes must agree except along ``dim``; 1-D empty tensors are skipped (PyTorch's
    legacy rule).
    """
    if axis is not None:
        dim = axis
    if out is not None:
        return write_out("cat", out, cat(tensors, dim))
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    used = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)]
    if not used:
        return tensors[0].clone()
    ref = used[0]._data
    nd = ref.ndim
    if nd == 1:  # every input is 1-D, so empty ones join like any other
        used = tensors
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated; "
                           "unsqueeze it first")
    d = normalize_dim(dim, nd)
    dt = ref.dtype
    rest = ref.shape[:d] + ref.shape[d + 1:]
    total = 0
    for i, t in enumerate(used):
        a = t._data
        if a.shape[:d] + a.shape[d + 1:] != rest:
            shapes = [tuple(u.shape) for u in used]
            if a.ndim != nd:
                raise RuntimeError(f"cat: tensors must have same number of dimensions: got {nd} "
                                   f"and {a.ndim} (shapes {shapes})")
            k = next(k for k in range(nd) if k != d and a.shape[k] != ref.shape[k])
            raise RuntimeError(
                f"cat: sizes of tensors must match except in dimension {d}. Expected size "
                f"{ref.shape[k]} but got size {a.shape[k]} for tensor number {i} in the list "
                f"(shapes {shapes})")
        total += a.shape[d]
        if a.dtype != dt:
            dt = backend.promote_types(dt, a.dtype)
    arrays = [t._data for t in used]
    if any(type(a) is not np.ndarray for a in arrays):
        check_same_device("cat", *arrays)
    out = get_array_module(ref).concatenate(arrays, axis=d, dtype=dt, casting="unsafe")
    sizes = [a.shape[d] for a in arrays]

    def backward(g, needs):
        grads, start, k = [], 0, 0
        for t, need in zip(tensors, needs):
            if t._data.ndim == 1 and t._data.shape[0] == 0 and nd != 1:  # a skipped empty input
                grads.append(Tensor._wrap(get_array_module(g._data).zeros((0,), g._data.dtype))
                             if need else None)
                continue
            n = sizes[k]
            k += 1
            grads.append(_gather_key(g, _slice_key(d, start, start + n), False) if need else None)
            start += n
        return tuple(grads)

    return record("Cat", out, tuple(tensors), backward)


def stack(tensors, dim: int = 0, *, out: Tensor | None = None, axis=None) -> Tensor:
    """Join equally-shaped tensors along a new dimension ``dim``."""
    if axis is not None:
        dim = axis
    if out is not None:
        return write_out("stack", out, stack(tensors, dim))
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0]._data
    for i, t in enumerate(tensors):
        if t._data.shape != ref.shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(ref.shape)} at entry 0 and {list(t._data.shape)} at "
                               f"entry {i}")
    d = normalize_dim(dim, ref.ndim + 1)
    dt = ref.dtype
    for t in tensors:
        if t._data.dtype != dt:
            dt = backend.promote_types(dt, t._data.dtype)
    arrays = [t._data for t in tensors]
    if any(type(a) is not np.ndarray for a in arrays):
        check_same_device("stack", *arrays)
    out = get_array_module(ref).stack(arrays, axis=d, dtype=dt, casting="unsafe")

    def backward(g, needs):
        lead = (slice(None),) * d
        return tuple(_gather_key(g, lead + (i,), False) if need else None
                     for i, need in enumerate(needs))

    return record("Stack", out, tuple(tensors), backward)


def hstack(tensors, *, out: Tensor | None = None) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    if out is not None:
        return write_out("hstack", out, hstack(tensors))
    tensors = [t if t._data.ndim else reshape(t, 1) for t in tensors]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors, *, out: Tensor | None = None) -> Tensor:
    """Join along dim 0, after making 0-d and 1-d tensors rows."""
    if out is not None:
        return write_out("vstack", out, vstack(tensors))
    return cat([t if t._data.ndim >= 2 else reshape(t, 1, -1) for t in tensors], 0)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Views of ``tensor`` along ``dim``: pieces of an int size (the last may be shorter), or of
    the listed sizes (which must add up to the dimension)."""
    x = tensor
    shape = x._data.shape
    d = normalize_dim(dim, len(shape))
    n = shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
    else:
        step = int(split_size_or_sections)
        if step <= 0 and n:
            raise RuntimeError(f"split expects split_size be positive, but got split_size={step}")
        sizes = [min(step, n - s) for s in range(0, n, step)] if n else [0]
    pieces, start = [], 0
    for s in sizes:
        pieces.append(_gather_key(x, _slice_key(d, start, start + s), False))
        start += s
    return tuple(pieces)


def tensor_split(input: Tensor, indices_or_sections=None, dim: int = 0, *, sections=None,
                 indices=None, axis=None) -> tuple:
    """Views of ``x`` along ``dim``: ``n`` pieces as equal as possible (the first ``size % n``
    one longer), or pieces cut at the listed indices, as ``torch.tensor_split``.
    ``indices_or_sections`` may also be passed by PyTorch's overload names ``sections=`` or
    ``indices=``."""
    if axis is not None:
        dim = axis
    if indices_or_sections is None:
        indices_or_sections = sections if sections is not None else indices
        if indices_or_sections is None:
            raise TypeError("tensor_split() missing argument 'indices_or_sections' (or "
                            "'sections' / 'indices')")
    x = input
    if x._data.ndim == 0:
        raise RuntimeError("tensor_split expects at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = normalize_dim(dim, x._data.ndim)
    n = x._data.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (list, tuple)):
        cuts = [min(max(int(i) + (n if int(i) < 0 else 0), 0), n) for i in indices_or_sections]
        bounds = list(zip([0] + cuts, cuts + [n]))
    else:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        size, extra = divmod(n, sections)
        starts = [i * size + min(i, extra) for i in range(sections + 1)]
        bounds = list(zip(starts[:-1], starts[1:]))
    return tuple(_gather_key(x, _slice_key(d, a, max(a, b)), False) for a, b in bounds)


def _split_along(name: str, x: Tensor, sections, dim: int, min_ndim: int) -> tuple:
    if x._data.ndim < min_ndim:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_ndim} dimension(s), "
                           f"but got a tensor with {x._data.ndim} dimensions!")
    if not isinstance(sections, (list, tuple)) and x._data.shape[dim] % int(sections):
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size "
                           f"of the dimension {x._data.shape[dim]} is not divisible by the split_"
                           f"size {sections}!")
    return tensor_split(x, sections, dim)


def hsplit(input: Tensor, indices_or_sections) -> tuple:
    """Split along the columns (dim 1; dim 0 for a 1-d tensor)."""
    x = input
    return _split_along("hsplit", x, indices_or_sections, 1 if x._data.ndim > 1 else 0, 1)


def vsplit(input: Tensor, indices_or_sections) -> tuple:
    """Split along the rows (dim 0) of a tensor with 2 or more dimensions."""
    x = input
    return _split_along("vsplit", x, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections) -> tuple:
    """Split along the depth (dim 2) of a tensor with 3 or more dimensions."""
    x = input
    return _split_along("dsplit", x, indices_or_sections, 2, 3)


def chunk(input: Tensor, chunks: int, dim: int = 0, *, axis=None) -> tuple:
    """Split into ``chunks`` pieces of equal size (the last smaller; maybe fewer pieces)."""
    if axis is not None:
        dim = axis
    x = input
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = x._data.shape[normalize_dim(dim, x._data.ndim)]
    if n == 0:  # PyTorch: ``chunks`` empty pieces, not one
        return split(x, [0] * chunks, dim)
    return split(x, max(-(-n // chunks), 1), dim)


def unbind(input: Tensor, dim: int = 0, *, axis=None) -> tuple:
    """The slices of ``x`` along ``dim``, with that dimension removed."""
    if axis is not None:
        dim = axis
    x = input
    d = normalize_dim(dim, x._data.ndim)
    lead = (slice(None),) * d
    return tuple(_gather_key(x, lead + (i,), False) for i in range(x._data.shape[d]))


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``length`` entries of ``x`` along ``dim`` from ``start`` (a view)."""
    x = input
    shape = x._data.shape
    d = normalize_dim(dim, len(shape))
    n = shape[d]
    start = int(start)
    if not -n <= start <= n:
        raise IndexError(f"narrow: start ({start}) out of range for dimension {d} of size {n}")
    start %= n if n else 1
    if length < 0 or start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size "
                           f"({n}) of the tensor of shape {tuple(shape)}")
    return _gather_key(x, _slice_key(d, start, start + length), False)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice ``index`` of ``x`` along ``dim``, with that dimension removed."""
    x = input
    shape = x._data.shape
    d = normalize_dim(dim, len(shape))
    if not -shape[d] <= index < shape[d]:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(shape)} at dimension {d}")
    return _gather_key(x, (slice(None),) * d + (int(index),), False)


# ------------------------------------------------------------------------ reordering values


def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of entries along ``dims`` (a copy, as in PyTorch: writing into the
    result must not change ``x``)."""
    x = input
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    nd = x._data.ndim
    axes = tuple(normalize_dim(d, nd) for d in dims)
    if not axes or nd == 0:
        return x
    out = get_array_module(x._data).flip(x._data, axis=axes).copy()
    return record("Flip", out, (x,), lambda g, needs: (flip(g, axes),))


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *,
                      output_size: int | None = None, axis=None) -> Tensor:
    """Repeat each entry ``repeats`` times along ``dim`` (the flattened tensor when ``dim`` is
    None), as ``torch.repeat_interleave``; ``repeats`` is an int or a 1-d tensor with one count
    per entry. ``repeat_interleave(counts)`` alone gives ``0`` repeated ``counts[0]`` times,
    ``1`` repeated ``counts[1]`` times, ...
    """
    if axis is not None:
        dim = axis
    if repeats is None:  # the one-argument form: indices repeated by the counts
        counts = input._data
        if counts.ndim > 1:
            raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim tensor")
        xp = get_array_module(counts)
        return Tensor._wrap(xp.repeat(xp.arange(counts.size, dtype=xp.int64), counts.reshape(-1)))
    x = input if dim is not None else reshape(input, -1)
    xd = x._data
    xp = get_array_module(xd)
    d = 0 if dim is None else normalize_dim(dim, xd.ndim)
    n = xd.shape[d] if xd.ndim else 1
    if isinstance(repeats, Tensor):
        counts = repeats._data.reshape(-1)
        if counts.dtype.kind not in "iu":
            raise RuntimeError(f"repeat_interleave: repeats has to be Long tensor, got "
                               f"{repeats.dtype}")
        if counts.size == 1:
            counts = xp.full(n, int(counts[0]), dtype=xp.int64)
        if counts.size != n:
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as input "
                               f"along dim {d}: {counts.size} repeats for size {n} (input shape "
                               f"{tuple(input.shape)})")
    else:
        counts = xp.full(n, int(repeats), dtype=xp.int64)
    if (counts < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    source = xp.repeat(xp.arange(n, dtype=xp.int64), counts)  # output position -> input entry
    if output_size is not None and output_size != source.size:
        raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match the "
                           f"total repeats {source.size}")
    return index_select(x, d, Tensor._wrap(source))


def flipud(input: Tensor) -> Tensor:
    """Reverse the rows (dim 0)."""
    x = input
    if x._data.ndim < 1:
        raise RuntimeError("flipud: input must be >= 1-d")
    return flip(x, (0,))


def fliplr(input: Tensor) -> Tensor:
    """Reverse the columns (dim 1)."""
    x = input
    if x._data.ndim < 2:
        raise RuntimeError("fliplr: input must be >= 2-d")
    return flip(x, (1,))


def ravel(input: Tensor) -> Tensor:
    """``x`` as a 1-d tensor (a view when the memory allows, as ``reshape(-1)``)."""
    x = input
    return reshape(x, -1)


def narrow_copy(input: Tensor, dim: int, start: int, length: int, *, out: Tensor | None = None,
                axis=None) -> Tensor:
    """:func:`narrow`, as a copy."""
    if out is not None:
        return write_out("narrow_copy", out, narrow_copy(input, dim, start, length))
    x = input
    return narrow(x, dim, start, length).clone()


def unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of ``size`` entries along ``dimension``, ``step`` apart, as a new last
    dimension (``Tensor.unfold``; a view)."""
    xd = x._data
    nd = max(xd.ndim, 1)
    d = normalize_dim(dimension, nd)
    shape = xd.shape or (1,)
    if size < 0 or size > shape[d]:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {shape[d]} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    a = xd.reshape(shape)
    count = (shape[d] - size) // step + 1
    strides = a.strides
    out = get_array_module(xd).lib.stride_tricks.as_strided(
        a, shape[:d] + (count,) + shape[d + 1:] + (size,),
        strides[:d] + (strides[d] * step,) + strides[d + 1:] + (strides[d],))

    def backward(g, needs):
        return (_unfold_backward(g, xd.shape, d, size, step),)

    result = record("Unfold", out, (x,), backward)
    return mark_view(result, x, lambda t: unfold(t, dimension, size, step))


def _unfold_backward(g: Tensor, shape: tuple, d: int, size: int, step: int) -> Tensor:
    """The gradient of :func:`unfold`, a gradient op: each window's gradient added at its place
    (windows overlap when ``step < size``). Its own gradient takes the windows again."""
    gd = g._data
    xp = get_array_module(gd)
    z = xp.zeros(shape or (1,), gd.dtype)
    moved = xp.moveaxis(z, d, -1)
    gm = xp.moveaxis(gd, d, -2)  # (..., count, size)
    for i in range(gd.shape[d]):
        moved[..., i * step:i * step + size] += gm[..., i, :]
    return record("UnfoldBackward", z.reshape(shape), (g,),
                  lambda gg, needs: (unfold(gg, d, size, step),))


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift entries cyclically by ``shifts`` along ``dims`` (the flattened tensor when None)."""
    x = input
    multi = isinstance(shifts, (tuple, list))
    sh = tuple(int(s) for s in shifts) if multi else int(shifts)
    nd = x._data.ndim
    if dims is None:
        if multi and len(sh) != 1:
            raise RuntimeError(f"roll: with dims=None shifts must be a single number, got {sh}")
        axes = None
        sh = sh[0] if multi else sh
    else:
        dl = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        if (len(sh) if multi else 1) != len(dl):
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {sh}, "
                               f"dims: {dl}")
        axes = tuple(normalize_dim(d, nd) for d in dl)
        sh = sh if multi else (sh,)
    out = get_array_module(x._data).roll(x._data, sh, axis=axes)
    back = -sh if isinstance(sh, int) else tuple(-s for s in sh)
    return record("Roll", out, (x,), lambda g, needs: (roll(g, back, axes),))


def tril(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """The lower triangle of the last two dims (entries above ``diagonal`` set to 0)."""
    if out is not None:
        return write_out("tril", out, tril(input, diagonal))
    x = input
    if x._data.ndim < 2:
        raise RuntimeError(f"tril: input tensor must have at least 2 dimensions, got shape "
                           f"{tuple(x.shape)}")
    out = get_array_module(x._data).tril(x._data, diagonal)
    return record("Tril", out, (x,), lambda g, needs: (tril(g, diagonal),))


def triu(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """The upper triangle of the last two dims (entries below ``diagonal`` set to 0)."""
    if out is not None:
        return write_out("triu", out, triu(input, diagonal))
    x = input
    if x._data.ndim < 2:
        raise RuntimeError(f"triu: input tensor must have at least 2 dimensions, got shape "
                           f"{tuple(x.shape)}")
    out = get_array_module(x._data).triu(x._data, diagonal)
    return record("Triu", out, (x,), lambda g, needs: (triu(g, diagonal),))


def _diag_key(shape, offset: int, d1: int, d2: int):
    """A NumPy key on the array moved to ``(..., d1, d2)`` that addresses the diagonal."""
    n1, n2 = shape[d1], shape[d2]
    if offset >= 0:
        length = max(min(n1, n2 - offset), 0)
        r0, c0 = 0, offset
    else:
        length = max(min(n1 + offset, n2), 0)
        r0, c0 = -offset, 0
    ar = np.arange(length)
    return (Ellipsis, ar + r0, ar + c0)


def _moved(a, d1, d2):
    return get_array_module(a).moveaxis(a, (d1, d2), (-2, -1))


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of ``dim1`` and ``dim2`` (shifted by ``offset``) as the last dimension; a
    view, as in PyTorch (writing into it writes into ``x``)."""
    x = input
    xd = x._data
    d1, d2 = normalize_dim(dim1, xd.ndim), normalize_dim(dim2, xd.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    moved = _moved(xd, d1, d2)
    n1, n2 = moved.shape[-2:]
    r0, c0 = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(min(n1 - r0, n2 - c0), 0)
    corner = moved[..., min(r0, n1):, min(c0, n2):]
    # a strided view stepping one row and one column at a time (NumPy's own diagonal() is
    # read-only)
    out = get_array_module(xd).lib.stride_tricks.as_strided(
        corner, corner.shape[:-2] + (length,), corner.strides[:-2] + (sum(corner.strides[-2:]),))
    shape = xd.shape

    def backward(g, needs):
        return (_diagonal_embed(g, shape, offset, d1, d2),)

    result = record("Diagonal", out, (x,), backward)
    return mark_view(result, x, lambda t: diagonal(t, offset, d1, d2))


_diagonal_op = diagonal  # diag() has an argument that shadows the name


def _on(k, like):
    if type(k) is np.ndarray and type(like) is not np.ndarray:
        return backend.move_array(k, backend.device_of(like))
    return k


def _diagonal_embed(g: Tensor, shape, offset, d1, d2) -> Tensor:
    """Zeros of ``shape`` with ``g`` on the diagonal: the adjoint of :func:`diagonal`."""
    gd = g._data
    z = get_array_module(gd).zeros(shape, gd.dtype)
    key = tuple(_on(k, gd) for k in _diag_key(shape, offset, d1, d2))
    _moved(z, d1, d2)[key] = gd
    return record("DiagonalBackward", z, (g,), lambda gg, needs: (diagonal(gg, offset, d1, d2),))


def diag(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """A vector becomes a square matrix with it on the ``diagonal``; a matrix gives a copy of its
    diagonal (``diagonal()`` is the view)."""
    if out is not None:
        return write_out("diag", out, diag(input, diagonal))
    x = input
    nd = x._data.ndim
    if nd == 2:
        return _diagonal_op(x, diagonal, 0, 1).clone()
    if nd != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D (shape "
                           f"{tuple(x.shape)})")
    n = x._data.shape[0] + abs(diagonal)
    return _diagonal_embed(x, (n, n), diagonal, 0, 1)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A tensor one dim larger whose (``dim1``, ``dim2``) matrices have ``input``'s last dim on
    their ``offset`` diagonal and zeros elsewhere (the other dims of ``input`` fill the other
    positions in order); ``diagonal(out, offset, dim1, dim2)`` gives ``input`` back."""
    nd = input._data.ndim + 1
    d1, d2 = normalize_dim(dim1, nd), normalize_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = input._data.shape[-1] + abs(offset)
    rest = iter(input._data.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(rest) for i in range(nd))
    return _diagonal_embed(input, shape, offset, d1, d2)


# ----------------------------------------------------------------------------------- padding


def _pad_index(n: int, left: int, right: int, mode: str):
    """For each output position along a padded dim, the input position it copies."""
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    return np.pad(np.arange(n), (left, right), mode=np_mode)


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dimensions, as ``torch.nn.functional.pad``.

    ``pad = (left_last, right_last, left_second_last, right_second_last, ...)``; ``mode`` is
    ``"constant"`` (fill with ``value``, default 0; negative pads crop), ``"reflect"`` (mirror
    without repeating the edge), ``"replicate"`` (repeat the edge) or ``"circular"`` (wrap).
    """
    x = input
    pad = tuple(int(p) for p in pad)
    nd = x._data.ndim
    if len(pad) % 2:
        raise ValueError(f"Padding length must be divisible by 2, got pad={pad}")
    if len(pad) // 2 > nd:
        raise ValueError(f"Padding length should be less than or equal to two times the input "
                         f"dimension but got padding length {len(pad)} and input of dimension {nd}")
    pairs = {nd - 1 - i: (pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)}
    shape = x._data.shape
    if mode == "constant":
        if any(p < 0 for p in pad):  # negative padding crops first
            key = tuple(slice(max(-pairs[d][0], 0), shape[d] - max(-pairs[d][1], 0))
                        if d in pairs else slice(None) for d in range(nd))
            x = _gather_key(x, key, False)
            pairs = {d: (max(lr[0], 0), max(lr[1], 0)) for d, lr in pairs.items()}
            shape = x._data.shape
        if not any(l or r for l, r in pairs.values()):
            return x
        widths = [pairs.get(d, (0, 0)) for d in range(nd)]
        out = get_array_module(x._data).pad(x._data, widths, mode="constant",
                                            constant_values=0 if value is None else value)
        key = tuple(slice(l, l + shape[d]) for d, (l, _) in enumerate(widths))
        return record("ConstantPad", out, (x,), lambda g, needs: (_gather_key(g, key, False),))
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: mode {mode!r} is not supported (use 'constant', "
                                  "'reflect', 'replicate' or 'circular')")
    if value not in (None, 0):
        raise ValueError(f"Padding mode \"{mode}\" doesn't take in value argument")
    for d, (l, r) in sorted(pairs.items()):
        n = shape[d]
        if l < 0 or r < 0:
            raise RuntimeError(f"pad: negative padding {pad} is only supported in constant mode")
        if mode == "reflect" and (l >= n or r >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({l}, {r}) at dimension {d} "
                               f"of input {list(shape)}")
        if mode == "circular" and (l > n or r > n):
            raise RuntimeError(f"pad: circular padding ({l}, {r}) can be at most the size {n} of "
                               f"dimension {d} of input {list(shape)}")
        if mode == "replicate" and n == 0 and (l or r):
            raise RuntimeError(f"pad: cannot replicate-pad the empty dimension {d} of input "
                               f"{list(shape)}")
        if l or r:
            idx = _on(_pad_index(n, l, r, mode), x._data)
            x = index_select(x, d, Tensor._wrap(idx))
    return x


# ------------------------------------------------------------- differences and rotations


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None, *, axis=None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (``x[i+1] - x[i]``, XOR for bool), after
    joining ``prepend`` and ``append`` on either side along ``dim``."""
    if axis is not None:
        dim = axis
    x = input
    nd = x._data.ndim
    if nd == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional, got a 0-d tensor")
    if n < 0:
        raise RuntimeError(f"diff: order must be non-negative but got {n}")
    d = normalize_dim(dim, nd)
    parts = []
    for name, t in (("prepend", prepend), ("append", append)):
        if t is None:
            continue
        if t._data.ndim != nd:
            raise RuntimeError(f"diff expects prepend or append to be the same dimension as "
                               f"input: input shape {tuple(x.shape)}, {name} shape "
                               f"{tuple(t.shape)}")
        for k in range(nd):
            if k != d and t._data.shape[k] != x._data.shape[k]:
                raise RuntimeError(
                    f"diff expects the shape of tensor to prepend or append to match that of "
                    f"input except along the differencing dimension; input shape "
                    f"{tuple(x.shape)}, {name} shape {tuple(t.shape)} (dim {d})")
        parts.append((name, t))
    if parts:
        x = cat([t for name, t in parts if name == "prepend"] + [x]
                + [t for name, t in parts if name == "append"], d)
    for _ in range(n):
        length = x._data.shape[d]
        if length == 0:
            break
        hi, lo = narrow(x, d, 1, length - 1), narrow(x, d, 0, length - 1)
        if x._data.dtype == np.bool_:
            x = logical_xor(hi, lo)
        else:
            x = hi - lo
    return x


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first dim towards the
    second. A copy, as in PyTorch."""
    dims = tuple(dims)
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {nd} (shape "
                           f"{tuple(input.shape)})")
    d0, d1 = normalize_dim(dims[0], nd), normalize_dim(dims[1], nd)
    if d0 == d1:
        raise RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 = "
                           f"{dims[0]} and dim1 = {dims[1]}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return transpose(flip(input, (d0,)), d0, d1)
    return input.clone()


# ------------------------------------------------------------------ tensor-list arguments


def _tensor_list(name: str, tensors) -> list:
    """``f(a, b)`` and ``f([a, b])`` alike, checked to be Tensors."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): expected a sequence of Tensors, got {type(t).__name__} "
                            f"at position {i}")
    return tensors


# ------------------------------------------------------------------ at-least-n-d, stacking


def _atleast(tensors, lift):
    """Apply ``lift`` to one tensor (returned alone) or to several (returned as a tuple)."""
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return lift(tensors[0])
    return tuple(lift(t) for t in _tensor_list("atleast", tensors))


def _lift_1d(t: Tensor) -> Tensor:
    return reshape(t, 1) if t._data.ndim == 0 else t


def _lift_2d(t: Tensor) -> Tensor:
    nd = t._data.ndim
    return reshape(t, 1, -1) if nd == 1 else reshape(t, 1, 1) if nd == 0 else t


def _lift_3d(t: Tensor) -> Tensor:
    nd = t._data.ndim
    if nd == 0:
        return reshape(t, 1, 1, 1)
    if nd == 1:
        return reshape(t, 1, -1, 1)
    return unsqueeze(t, -1) if nd == 2 else t


def atleast_1d(*tensors):
    """Each input with at least one dimension (0-d becomes shape ``(1,)``); one tensor in, one
    out; several (or a list) in, a tuple out."""
    return _atleast(tensors, _lift_1d)


def atleast_2d(*tensors):
    """Each input with at least two dimensions (``(n,)`` becomes ``(1, n)``)."""
    return _atleast(tensors, _lift_2d)


def atleast_3d(*tensors):
    """Each input with at least three dimensions (``(n,)`` becomes ``(1, n, 1)``, ``(m, n)``
    becomes ``(m, n, 1)``)."""
    return _atleast(tensors, _lift_3d)


def column_stack(tensors, *, out: Tensor | None = None) -> Tensor:
    """Join along dim 1, after making 0-d and 1-d inputs columns."""
    if out is not None:
        return write_out("column_stack", out, column_stack(tensors))
    tensors = _tensor_list("column_stack", (tensors,))
    if not tensors:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    return cat([reshape(t, -1, 1) if t._data.ndim <= 1 else t for t in tensors], 1)


def dstack(tensors, *, out: Tensor | None = None) -> Tensor:
    """Join along dim 2 (depth), after :func:`atleast_3d`."""
    if out is not None:
        return write_out("dstack", out, dstack(tensors))
    tensors = _tensor_list("dstack", (tensors,))
    if not tensors:
        raise RuntimeError("dstack expects a non-empty TensorList")
    return cat([_lift_3d(t) for t in tensors], 2)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None, *, out: Tensor | None = None,
                   axis=None) -> Tensor:
    """The values of ``input`` at ``indices`` along ``dim`` (``gather``, with the other dims
    broadcast and negative indices counted from the end); ``dim=None`` indexes the flattened
    input."""
    if axis is not None:
        dim = axis
    if out is not None:
        return write_out("take_along_dim", out, take_along_dim(input, indices, dim))
    if not isinstance(indices, Tensor) or indices._data.dtype.kind not in "iu":
        got = indices.dtype if isinstance(indices, Tensor) else type(indices).__name__
        raise RuntimeError(f"take_along_dim(): dtype of indices should be int64 but got {got}")
    if dim is None or input._data.ndim == 0:
        if dim is not None:
            normalize_dim(dim, 0)
        flat = take_along_dim(reshape(input, -1), reshape(indices, -1), 0)
        return flat if dim is None else reshape(flat, indices.shape)
    xs, js = input._data.shape, indices._data.shape
    if len(xs) != len(js):
        raise RuntimeError(f"take_along_dim(): input and indices should have the same number of "
                           f"dimensions, but got shapes {tuple(xs)} and {tuple(js)}")
    d = normalize_dim(dim, len(xs))
    try:
        common = list(np.broadcast_shapes(xs[:d] + (1,) + xs[d + 1:], js[:d] + (1,) + js[d + 1:]))
    except ValueError:
        raise RuntimeError(f"take_along_dim(): the shapes of input {tuple(xs)} and indices "
                           f"{tuple(js)} cannot be broadcast together outside dim {d}") from None
    idx = indices._data
    _check_range(idx, xs[d], "take_along_dim", d, allow_negative=True)
    xp = get_array_module(idx)
    if idx.size and (idx < 0).any():
        idx = xp.where(idx < 0, idx + xs[d], idx)
    common[d] = xs[d]
    source = expand(input, tuple(common))
    common[d] = js[d]
    return gather(source, d, Tensor._wrap(xp.broadcast_to(idx, tuple(common))))


# ---------------------------------------------------------------------------------- casting


def type_as(x: Tensor, other: Tensor) -> Tensor:
    """``x`` cast to ``other``'s dtype."""
    return x.type(other.dtype)


concat = cat
swapdims = transpose


def concatenate(tensors, axis: int = 0, out: Tensor | None = None) -> Tensor:
    """NumPy's name for :func:`cat` (``axis`` is ``dim``), as ``torch.concatenate``."""
    return cat(tensors, axis, out=out)


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """NumPy's name for :func:`transpose` (``axis0``/``axis1`` are ``dim0``/``dim1``)."""
    return transpose(input, axis0, axis1)


def _split_method(self: Tensor, split_size, dim: int = 0) -> tuple:
    """``Tensor.split(split_size, dim)``: :func:`split` under the method's argument name."""
    return split(self, split_size, dim)
moveaxis = movedim

__all__ = ["reshape", "broadcast_to", "broadcast_shapes", "broadcast_tensors", "squeeze",
           "unsqueeze", "flatten", "unflatten", "transpose", "swapaxes", "swapdims", "permute",
           "t", "movedim", "moveaxis", "tile", "cat", "concat", "concatenate", "stack",
           "hstack", "vstack", "split", "chunk", "unbind", "narrow", "select", "flip", "roll",
           "tril", "triu", "diagonal", "diag", "diff", "rot90", "atleast_1d", "atleast_2d",
           "atleast_3d", "column_stack", "dstack", "take_along_dim", "tensor_split", "hsplit",
           "vsplit", "dsplit", "flipud", "fliplr", "ravel", "narrow_copy", "repeat_interleave", "diag_embed"]

attach(
    reshape=reshape, view=reshape, view_as=view_as, reshape_as=view_as,
    expand=expand, expand_as=expand_as, broadcast_to=broadcast_to,
    squeeze=squeeze, unsqueeze=unsqueeze, flatten=flatten, unflatten=unflatten,
    transpose=transpose, swapaxes=swapaxes, swapdims=transpose, permute=permute, t=t,
    movedim=movedim, moveaxis=movedim, T=property(_T), mT=property(_mT),
    contiguous=contiguous, repeat=repeat, tile=tile,
    split=_split_method, chunk=chunk, unbind=unbind, narrow=narrow, select=select,
    flip=flip, roll=roll, tril=tril, triu=triu, diagonal=diagonal, diag=diag, type_as=type_as,
    diff=diff, rot90=rot90, take_along_dim=take_along_dim, tensor_split=tensor_split,
    hsplit=hsplit, vsplit=vsplit, dsplit=dsplit, flipud=flipud, fliplr=fliplr, ravel=ravel,
    narrow_copy=narrow_copy, unfold=unfold, repeat_interleave=repeat_interleave, diag_embed=diag_embed,
)
