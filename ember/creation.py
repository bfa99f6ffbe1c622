"""Creating tensors: from data (``tensor``, ``as_tensor``, ``from_numpy``), filled (``zeros``,
``ones``, ``full``, ``empty``, ``eye``, ``*_like``), ranges (``arange``, ``linspace``) and random
(``rand``, ``randn``, ``randint``, ``randperm``, ``normal``).

Random tensors are always drawn from ember's CPU generator and then copied to ``device``: one seed
gives the same values on the CPU and on a GPU, at the price of a host-to-device copy (ops that draw
inside training, such as dropout, draw on the GPU with CuPy's generator instead)."""

from __future__ import annotations

import numpy as np

from ember import backend
from ember.ops.common import check_same_device
from ember.ops.shape import _tensor_list, cat, expand, pad, reshape, stack
from ember.random import get_rng
from ember.tensor import Tensor


def _finish(array, dtype, device, requires_grad) -> Tensor:
    if dtype is not None:
        d = backend.to_dtype(dtype).np
        if array.dtype != d:
            array = array.astype(d)
    if device is not None:  # to the CPU too: ember.tensor(gpu_tensor, device="cpu")
        array = backend.move_array(array, backend.as_device(device))
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_array(data, dtype=None):
    """NumPy array for Python data, with PyTorch's dtype inference (floats -> default float).

    NumPy arrays and NumPy scalars keep their dtype; an explicit ``dtype`` is applied directly,
    so ``tensor(0.9, dtype=float64)`` is exactly 0.9 rather than 0.9 rounded through float32.
    """
    if isinstance(data, Tensor):
        return data._data
    if hasattr(data, "__cuda_array_interface__") and not hasattr(data, "detach"):
        backend.dtype_of(data)  # a CuPy array stays on its GPU; its dtype must be one of ours
        return data
    if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in _flat(data)):
        data = _to_nested(data)
    if dtype is not None:
        return np.asarray(data, dtype=backend.to_dtype(dtype).np)
    typed = isinstance(data, (np.ndarray, np.generic))
    arr = np.asarray(data)
    if arr.dtype == np.float64 and not typed:
        arr = arr.astype(backend.get_default_dtype().np)
    elif arr.dtype.kind in "iu" and not typed:
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "fiub":
        raise TypeError(f"can't convert data of dtype {arr.dtype} to a tensor (numbers and bools only)")
    return arr


def _flat(data):
    for v in data:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def _to_nested(data):
    if isinstance(data, Tensor):
        return backend.move_array(data._data, backend.CPU)
    if isinstance(data, (list, tuple)):
        return [_to_nested(v) for v in data]
    return data


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested list, array or tensor)."""
    arr = _infer_array(data, None if isinstance(data, Tensor) else dtype)
    if device is None and (isinstance(data, Tensor) or type(arr) is not np.ndarray):
        device = backend.device_of(arr)
    arr = arr.copy()  # NumPy and CuPy arrays alike; the copy stays on the array's device
    return _finish(arr, dtype, device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like :func:`tensor` but shares memory with ``data`` when it can."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    return _finish(_infer_array(data), dtype, device, False)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    backend.dtype_of(array)
    return Tensor._wrap(array)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise RuntimeError(f"sizes must be non-negative integers, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _float(dtype):
    return backend.to_dtype(dtype).np if dtype is not None else backend.get_default_dtype().np


def _xp(device):
    dev = backend.as_device(device)
    if dev.type == "cpu":
        return np, None
    return backend.cupy_module(), backend.resolve_device(dev)  # raises the install hint without a GPU


def _filled(fill, size, dtype, device, requires_grad):
    size = _size(size)
    xp, dev = _xp(device)
    if dev is None:
        arr = np.full(size, fill, dtype=_float(dtype)) if fill is not None else np.empty(size, _float(dtype))
    else:
        with xp.cuda.Device(dev.index):
            arr = (xp.full(size, fill, dtype=_float(dtype)) if fill is not None
                   else xp.empty(size, _float(dtype)))
    return _finish(arr, None, None, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of zeros of the given size."""
    return _filled(0, size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ones of the given size."""
    return _filled(1, size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """An uninitialised tensor of the given size."""
    return _filled(None, size, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype inferred from the value, as in PyTorch)."""
    if dtype is None:
        dtype = (backend.bool_ if isinstance(fill_value, bool) else
                 backend.int64 if isinstance(fill_value, int) else backend.get_default_dtype())
    return _filled(fill_value, (size,) if isinstance(size, int) else tuple(size), dtype, device,
                   requires_grad)


def _like(fn, t, dtype, device, requires_grad, *args):
    return fn(*args, tuple(t.shape), dtype=dtype or t.dtype, device=device or t.device,
              requires_grad=requires_grad)


def zeros_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(zeros, t, dtype, device, requires_grad)


def ones_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(ones, t, dtype, device, requires_grad)


def empty_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(empty, t, dtype, device, requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(tuple(t.shape), fill_value, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; integer if all bounds are."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = (backend.int64 if all(isinstance(v, (int, np.integer)) for v in (start, end, step))
                 else backend.get_default_dtype())
    arr = np.arange(start, end, step, dtype=backend.to_dtype(dtype).np)
    return _finish(arr, None, device, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    arr = np.linspace(start, end, steps, dtype=np.float64).astype(_float(dtype))
    return _finish(arr, None, device, requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` values from ``base ** start`` to ``base ** end`` whose logarithms are evenly
    spaced (computed in float64, then converted to ``dtype``, the default float unless given)."""
    exps = np.linspace(float(start), float(end), int(steps), dtype=np.float64)
    arr = np.power(np.float64(base), exps)
    return _finish(arr.astype(_float(dtype)), None, device, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The identity matrix (``n`` x ``m``)."""
    return _finish(np.eye(n, m, dtype=_float(dtype)), None, device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples in [0, 1)."""
    arr = get_rng(generator).random(_size(size), dtype=np.float64).astype(_float(dtype))
    return _finish(arr, None, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples."""
    arr = get_rng(generator).standard_normal(_size(size)).astype(_float(dtype))
    return _finish(arr, None, device, requires_grad)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None) -> Tensor:
    """Integers uniform in [low, high) (``randint(high, size)`` as in PyTorch too)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() needs a size tuple: randint(low, high, size) or randint(high, size)")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    arr = get_rng(generator).integers(low, high, size=tuple(size), dtype=np.int64)
    return _finish(arr, dtype, device, False)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, generator=None,
                 dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Integers uniform in [low, high) shaped like ``input``, with its dtype and device unless
    given; ``randint_like(x, high)`` means ``low=0``, as in PyTorch."""
    if high is None:
        low, high = 0, low
    arr = get_rng(generator).integers(int(low), int(high), size=tuple(input.shape), dtype=np.int64)
    return _finish(arr, dtype or input.dtype, device or input.device, requires_grad)


def randperm(n: int, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of ``0 .. n-1``."""
    return _finish(get_rng(generator).permutation(n).astype(np.int64), dtype, device, False)


def rand_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return rand(tuple(t.shape), dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def randn_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return randn(tuple(t.shape), dtype=dtype or t.dtype, device=device or t.device,
                 requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, device=None) -> Tensor:
    """Normal samples with the given mean and standard deviation (numbers, with ``size``)."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if device is None and isinstance(mean, Tensor):
        device = mean.device
    # drawn on the CPU generator (a GPU mean/std is copied over): np.asarray refuses CuPy arrays
    m = backend.move_array(m, backend.CPU) if hasattr(m, "__cuda_array_interface__") else np.asarray(m)
    s = backend.move_array(s, backend.CPU) if hasattr(s, "__cuda_array_interface__") else np.asarray(s)
    shape = tuple(size) if size is not None else np.broadcast_shapes(m.shape, s.shape)
    arr = get_rng(generator).normal(m, s, size=shape)
    return _finish(arr.astype(_float(dtype)), None, device, False)


# ------------------------------------------------------------ Tensor.new_*: same dtype and device


def _new_filled(fn):
    def method(self: Tensor, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)

    return method


def _new_full(self: Tensor, size, fill_value, dtype=None, device=None,
              requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``, with this tensor's dtype and device."""
    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                requires_grad=requires_grad)


def _new_tensor(self: Tensor, data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A copy of ``data`` with this tensor's dtype and device (unless given), as PyTorch."""
    if isinstance(data, Tensor):
        data = data.detach()
    return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)


Tensor.new_zeros = _new_filled(zeros)
Tensor.new_zeros.__doc__ = "A tensor of zeros of ``size`` with this tensor's dtype and device."
Tensor.new_ones = _new_filled(ones)
Tensor.new_ones.__doc__ = "A tensor of ones of ``size`` with this tensor's dtype and device."
Tensor.new_empty = _new_filled(empty)
Tensor.new_empty.__doc__ = "An uninitialised tensor of ``size`` with this tensor's dtype and device."
Tensor.new_full = _new_full
Tensor.new_tensor = _new_tensor



# --------------------------------------------- grids, blocks, products, triangle coordinates


def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids from 1-D (or 0-d) tensors: with ``"ij"`` output ``i`` varies along dim
    ``i``; ``"xy"`` swaps the first two dims (Cartesian, as NumPy's default). Each output is a
    broadcast view of its input."""
    tensors = _tensor_list("meshgrid", tensors)
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'meshgrid: indexing must be one of "xy" or "ij", but received: '
                           f'{indexing}')
    for i, t in enumerate(tensors):
        if t._data.ndim > 1:
            raise RuntimeError(f"meshgrid: expected 0D or 1D tensors, but tensor {i} has shape "
                               f"{tuple(t.shape)}")
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError(f"meshgrid expects all tensors to have the same dtype, got "
                               f"{[str(u.dtype) for u in tensors]}")
    if len(tensors) > 1:
        check_same_device("meshgrid", *[t._data for t in tensors])
    sizes = [t._data.size for t in tensors]
    axis = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        axis[0], axis[1] = 1, 0
        sizes[0], sizes[1] = sizes[1], sizes[0]
    shape = tuple(sizes)
    out = []
    for t, a in zip(tensors, axis):
        lined = [1] * len(shape)
        lined[a] = -1
        out.append(expand(reshape(t, tuple(lined)), shape))
    return tuple(out)


def block_diag(*tensors) -> Tensor:
    """A block-diagonal matrix of the inputs (0-d is 1x1, 1-D of length n is 1xn); dtypes
    promote."""
    tensors = _tensor_list("block_diag", tensors)
    if not tensors:
        return Tensor._wrap(np.zeros((1, 0), dtype=backend.get_default_dtype().np))
    blocks = []
    for i, t in enumerate(tensors):
        if t._data.ndim > 2:
            raise RuntimeError(f"block_diag: input tensors must have 2 or fewer dimensions. "
                               f"Input {i} has shape {tuple(t.shape)}")
        blocks.append(t if t._data.ndim == 2 else reshape(t, 1, -1))
    cols = sum(b._data.shape[1] for b in blocks)
    rows, start = [], 0
    for b in blocks:
        c = b._data.shape[1]
        rows.append(pad(b, (start, cols - start - c)))
        start += c
    return cat(rows, 0)


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of one element from each 1-D input, as rows of an ``(N, k)`` tensor
    (the input itself when there is only one)."""
    tensors = _tensor_list("cartesian_prod", tensors)
    for i, t in enumerate(tensors):
        if t._data.ndim != 1:
            raise RuntimeError(f"cartesian_prod: expect a 1D vector, but got shape "
                               f"{list(t.shape)} for tensor {i}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, -1) for g in grids], 1)


def _triangle_indices(name: str, fn: str, row: int, col: int, offset: int, dtype,
                      device) -> Tensor:
    for arg, v in (("row", row), ("col", col)):
        if v < 0:
            raise RuntimeError(f"{name}: {arg} must be non-negative, got {v}")
    dt = backend.to_dtype(dtype).np if dtype is not None else np.dtype(np.int64)
    if dt.kind not in "iu":
        raise NotImplementedError(f"{name}: not implemented for {backend.to_dtype(dt)} "
                                  "(use an integer dtype)")
    rows, cols = getattr(np, fn)(row, offset, col)
    out = np.stack([rows, cols]).astype(dt)
    if device is not None:
        out = backend.move_array(out, backend.as_device(device))
    return Tensor._wrap(out)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """The ``(2, N)`` coordinates of the lower triangle of a ``row x col`` matrix (entries on or
    below the ``offset`` diagonal), row by row."""
    return _triangle_indices("tril_indices", "tril_indices", row, col, offset, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """The ``(2, N)`` coordinates of the upper triangle of a ``row x col`` matrix (entries on or
    above the ``offset`` diagonal), row by row."""
    return _triangle_indices("triu_indices", "triu_indices", row, col, offset, dtype, device)

__all__ = [
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like",
    "ones_like", "empty_like", "full_like", "arange", "linspace", "eye", "rand", "randn",
    "randint", "randperm", "rand_like", "randn_like", "normal", "logspace", "randint_like",
    "meshgrid", "block_diag", "cartesian_prod", "tril_indices", "triu_indices",
]
