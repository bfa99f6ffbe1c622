"""The argument toolkit every op module shares: dimensions, int tuples and gradient constants.

One definition each, so that every op names a bad ``dim`` with PyTorch's words
("Dimension out of range (expected to be in range of [-2, 1], but got 2)") and reads a
``kernel_size=3`` / ``stride=(1, 2)`` argument the same way.
"""

from __future__ import annotations

import operator

import numpy as np

from ember.tensor import Tensor

__all__ = ["normalize_dim", "normalize_dims", "ntuple", "pair", "const"]


def _dim_error(d: int, n: int, op_name: str | None, shape) -> IndexError:
    prefix = f"{op_name}(): " if op_name else ""
    suffix = f" for input of shape {tuple(shape)}" if shape is not None else ""
    return IndexError(f"{prefix}Dimension out of range (expected to be in range of [{-n}, "
                      f"{n - 1}], but got {d}){suffix}")


def normalize_dim(dim, ndim: int, op_name: str | None = None, shape=None) -> int:
    """``dim`` as a non-negative axis of a tensor with ``ndim`` dimensions.

    A 0-d tensor accepts 0 and -1, as in PyTorch. Out of range: PyTorch's IndexError, prefixed
    with ``op_name`` and followed by ``shape`` when they are given. Not an integer: a TypeError.
    """
    try:
        d = operator.index(dim)
    except TypeError:
        who = f"{op_name}(): " if op_name else ""
        raise TypeError(f"{who}argument 'dim' must be int, not {type(dim).__name__}") from None
    n = ndim if ndim > 0 else 1
    if not -n <= d < n:
        raise _dim_error(d, n, op_name, shape)
    return d % n


def numpy_names(dim, keepdim, axis, keepdims) -> tuple:
    """``(dim, keepdim)``, with NumPy's ``axis``/``keepdims`` (which PyTorch's reductions also
    accept) taking their place when given."""
    return (dim if axis is None else axis), (keepdim if keepdims is None else keepdims)


def normalize_dims(dims, ndim: int, op_name: str | None = None) -> tuple:
    """A sequence of dims as non-negative axes (order kept); a repeated dim is an error."""
    out = []
    for dim in dims:
        d = normalize_dim(dim, ndim, op_name)
        if d in out:
            who = f"{op_name}(): " if op_name else ""
            raise RuntimeError(f"{who}dim {d} appears multiple times in the list of dims")
        out.append(d)
    return tuple(out)


def ntuple(value, n: int, name: str = "argument", op: str = "op") -> tuple:
    """``value`` as an ``n``-tuple of ints: an int (or a 1-tuple) is repeated ``n`` times.

    Anything else must hold exactly ``n`` ints; otherwise an error naming ``op`` and ``name``.
    """
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    try:
        t = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}") from None
    if len(t) == 1:
        return t * n
    if len(t) != n:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return t


def pair(value, name: str = "argument", op: str = "op") -> tuple:
    """``value`` as a 2-tuple of ints (:func:`ntuple` with ``n=2``)."""
    return ntuple(value, 2, name, op)


def const(array) -> Tensor:
    """An array entering a gradient formula as a constant: a Tensor that records no history."""
    return Tensor._wrap(array)
