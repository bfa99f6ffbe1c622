"""Indexing ops: ``x[key]``, ``x[key] = v``, gather/scatter, index_select/index_add, masked ops,
take, nonzero, one_hot.

Every gradient here is the adjoint of a gather: values are read from some positions, so their
gradient is summed back into those positions. Integer index arrays may repeat a position, so those
gradients accumulate (``np.add.at``, or ``cupyx.scatter_add`` on the GPU); keys made only of ints,
slices and bool masks touch each position at most once and use plain assignment, which is faster.
"""

from __future__ import annotations

import numpy as np

from ember import backend
from ember.backend import get_array_module
from ember.ops.common import (
    write_out,
    Tensor,
    attach,
    check_same_device,
    commit_inplace,
    inplace_method,
    mark_view,
    prepare_inplace,
    record,
)
from ember.ops.dims import normalize_dim

# ---------------------------------------------------------------------------------- helpers


def _add_at(xp, target, key, values) -> None:
    """``target[key] += values`` where repeated positions in ``key`` all count."""
    if xp is np:
        np.add.at(target, key, values)
        return
    # CuPy accumulates with CUDA's atomicAdd, which has no float16, int64 or small-int version
    name = target.dtype.name
    if name == "int64":  # two's-complement sums are the same bits as unsigned ones
        _scatter_add(target.view(xp.uint64), key,
                     xp.asarray(values).astype(xp.int64).view(xp.uint64))
        return
    wide = {"float16": "float32", "int16": "int32", "int8": "int32", "uint8": "int32",
            "bool": "int32"}.get(name)  # bool: the cast back makes any nonzero count True
    if wide is None:
        _scatter_add(target, key, values)
    else:
        acc = target.astype(wide)
        _scatter_add(acc, key, xp.asarray(values).astype(wide))
        target[...] = acc.astype(target.dtype)


def _scatter_add(target, key, values) -> None:
    """CuPy's ``np.add.at`` (``cupyx.scatter_add``, documented for every CuPy since v8)."""
    import cupyx

    cupyx.scatter_add(target, key, values)


def _on_device(arr, like):
    """An index array made on the host (lists, NumPy) moved next to ``like``'s data."""
    if type(like) is np.ndarray:
        if type(arr) is not np.ndarray:
            raise RuntimeError("indices are on a GPU but the indexed tensor is on the CPU; move "
                               "them with .to(device) first")
        return arr
    return backend.move_array(arr, backend.device_of(like))


def _index_array(k, like):
    """Turn one advanced-index entry (Tensor, list, array) into an int or bool array."""
    arr = k._data if isinstance(k, Tensor) else k
    if not hasattr(arr, "dtype"):
        arr = np.asarray(arr)
        if arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype(np.int64)  # x[[]] selects nothing, as in PyTorch
    kind = arr.dtype.kind
    if arr.dtype == np.uint8:
        arr = arr.astype(bool)  # PyTorch's legacy byte masks
    elif kind not in "biu":
        raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, "
                         f"got an index of dtype {arr.dtype}")
    return _on_device(arr, like)


def _list_as_tuple(key) -> bool:
    """PyTorch (like old NumPy) reads ``x[[i, j]]`` as ``x[i, j]`` when the list holds a
    sequence, tensor, slice, ``None`` or ``...``; a list of plain ints stays one index."""
    if type(key) is not list or len(key) >= 32:
        return False
    return any(k is None or k is Ellipsis or isinstance(k, (slice, list, tuple, Tensor))
               for k in key)


def _normalize_key(x: Tensor, key):
    """PyTorch's indexing rules turned into a NumPy key; also whether it can repeat positions.

    Returns ``(key, accumulate)``: ``accumulate`` is True when the key holds an integer array
    (the only kind of index that can select a position twice).
    """
    if type(key) is not tuple:
        key = (key,) if not _list_as_tuple(key) else tuple(key)
    out = []
    accumulate = False
    data = x._data
    for k in key:
        if k is None or k is Ellipsis or type(k) is int:
            out.append(k)
        elif type(k) is slice:
            if k.step is not None and k.step.__index__() <= 0:
                raise ValueError("step must be greater than zero")
            out.append(k)
        elif isinstance(k, bool):
            out.append(k)
        elif isinstance(k, (int, np.integer)):
            out.append(int(k))
        elif isinstance(k, Tensor) and k._data.ndim == 0 and k._data.dtype.kind in "iu":
            out.append(int(k._data))  # a 0-d integer tensor selects like an int (a view)
        else:
            arr = _index_array(k, data)
            if arr.dtype.kind != "b":
                accumulate = True
            out.append(arr)
    return tuple(out), accumulate


def _raise_index_error(e: IndexError, shape) -> IndexError:
    msg = str(e).replace("axis", "dimension").replace("array", "tensor")
    return IndexError(f"{msg} (indexing a tensor of shape {tuple(shape)})")


# ------------------------------------------------------------------------- the core gather pair


def _gather_key(x: Tensor, key: tuple, accumulate: bool) -> Tensor:
    """``x[key]`` for an already-normalised key; its gradient is :func:`_scatter_key`."""
    basic = _is_basic(key)
    try:
        # a key of ints only would give a NumPy scalar (a copy); with `...` it is a 0-d view
        out = (x._data[key + (Ellipsis,)] if basic and Ellipsis not in key
               else x._data[key])
    except IndexError as e:
        raise _raise_index_error(e, x._data.shape) from None
    shape = x._data.shape
    result = record("Index", out, (x,), lambda g, needs: (_scatter_key(g, shape, key, accumulate),))
    if basic:
        mark_view(result, x, lambda t: _gather_key(t, key, False))
    return result


def _is_basic(key: tuple) -> bool:
    """Whether ``key`` (normalised) holds only ints, slices, ``None`` and ``...`` (a view)."""
    for k in key:
        if not (k is None or k is Ellipsis or type(k) is int or type(k) is slice):
            return False
    return True


def _scatter_key(g: Tensor, shape: tuple, key: tuple, accumulate: bool) -> Tensor:
    """Zeros of ``shape`` with ``g`` summed in at ``key``: the adjoint of :func:`_gather_key`."""
    gd = g._data
    xp = get_array_module(gd)
    z = xp.zeros(shape, gd.dtype)
    if accumulate:
        _add_at(xp, z, key, gd)
    else:
        z[key] = gd
    return record("IndexBackward", z, (g,), lambda gg, needs: (_gather_key(gg, key, accumulate),))


def getitem(x: Tensor, key) -> Tensor:
    """``x[key]`` with PyTorch's rules: ints, slices (positive steps), ``None``, ``...``, integer
    tensors/lists (advanced indexing, broadcast together) and bool masks. Basic keys give views."""
    if type(key) is int:  # the common x[i] skips key normalisation
        data = x._data
        try:
            out = data[key, ...]  # a view, 0-d included (data[key] would copy a scalar)
        except IndexError as e:
            raise _raise_index_error(e, data.shape) from None
        shape = data.shape
        k = (key,)
        result = record("Select", out, (x,), lambda g, needs: (_scatter_key(g, shape, k, False),))
        return mark_view(result, x, lambda t: getitem(t, key))
    key, accumulate = _normalize_key(x, key)
    return _gather_key(x, key, accumulate)


def _index_put(x: Tensor, key: tuple, value, accumulate: bool = False) -> Tensor:
    """Out of place ``x[key] = value`` (``+=`` when ``accumulate``) on a normalised key."""
    xd = x._data
    out = xd.copy()
    vt = value if isinstance(value, Tensor) else None
    v = vt._data if vt is not None else value
    if vt is not None:
        check_same_device("index_put", xd, v)
    try:
        if accumulate:
            _add_at(get_array_module(xd), out, key, v)
        else:
            out[key] = v
    except IndexError as e:
        raise _raise_index_error(e, xd.shape) from None
    except ValueError:
        target = xd[key].shape
        raise RuntimeError(f"shape mismatch: value tensor of shape {tuple(np.shape(v))} cannot be "
                           f"broadcast to indexing result of shape {tuple(target)}") from None
    if vt is None:
        return record("IndexPut", out, (x,),
                      lambda g, needs: (g if accumulate else _index_put(g, key, 0),))
    vshape = v.shape

    def backward(g, needs):
        gx = (g if accumulate else _index_put(g, key, 0)) if needs[0] else None
        gv = None
        if needs[1]:
            gv = _gather_key(g, key, accumulate)
            if gv._data.ndim < len(vshape):  # the value had extra leading 1-dims
                gv = gv.reshape((1,) * (len(vshape) - gv._data.ndim) + tuple(gv.shape))
        return gx, gv

    return record("IndexPut", out, (x, vt), backward)


def setitem(x: Tensor, key, value) -> None:
    """``x[key] = value``: an in-place write whose gradient reaches both ``x``'s other values and
    ``value`` (broadcast to the indexed shape)."""
    nkey, _ = _normalize_key(x, key)
    vt = value if isinstance(value, Tensor) else None
    if not (x.requires_grad or (vt is not None and vt.requires_grad)):
        # no gradient can flow through the write: straight into memory, no copy (with a
        # gradient, prepare_inplace / commit_inplace decide whether grad mode records it)
        data = x._data
        v = value
        if vt is not None:
            v = vt._data
            check_same_device("index_put_", data, v)
        elif isinstance(value, (list, tuple)):
            v = _on_device(np.asarray(value), data)
        try:
            data[nkey] = v
        except IndexError as e:
            raise _raise_index_error(e, data.shape) from None
        except ValueError as e:
            if not getattr(data.flags, "writeable", True):  # CuPy's flags have no writeable
                raise RuntimeError(
                    "index_put_: this tensor is a broadcast view (from expand/broadcast_to) whose "
                    "elements share memory; clone() it before writing into it") from None
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {tuple(np.shape(v))} cannot be broadcast "
                f"to indexing result of shape {tuple(data[nkey].shape)}") from e
        x._version += 1
        return
    if vt is None and not isinstance(value, (int, float, bool)):
        value = Tensor._wrap(_on_device(np.asarray(value, dtype=x._data.dtype), x._data))
    src = prepare_inplace(x, "index_put_")
    commit_inplace(x, _index_put(src, nkey, value), "index_put_")


def index_put(x: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """Out of place ``x[indices] = values`` (``+=`` with repeated indices summed when
    ``accumulate``); ``indices`` is a tuple of index tensors."""
    key, _ = _normalize_key(x, tuple(indices))
    return _index_put(x, key, values, accumulate)


# ------------------------------------------------------------------------------ gather/scatter


def _check_range(idx, n: int, op: str, dim: int, exc=RuntimeError, allow_negative=False):
    if idx.size == 0:
        return
    lo, hi = int(idx.min()), int(idx.max())
    if hi >= n or lo < (-n if allow_negative else 0):
        bad = hi if hi >= n else lo
        raise exc(f"{op}: index {bad} is out of bounds for dimension {dim} with size {n}")


def _int_index(index, op: str, like) -> np.ndarray:
    arr = index._data if isinstance(index, Tensor) else np.asarray(index)
    if arr.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {arr.dtype}")
    return _on_device(arr, like)


def _along_key(idx, dim: int):
    """A NumPy key addressing ``x[..., idx[i], ...]`` along ``dim`` for every position of ``idx``
    (the element-wise addressing of gather/scatter)."""
    xp = get_array_module(idx)
    nd = idx.ndim
    key = []
    for d in range(nd):
        if d == dim:
            key.append(idx)
        else:
            shp = [1] * nd
            shp[d] = idx.shape[d]
            key.append(xp.arange(idx.shape[d]).reshape(shp))
    return tuple(key)


def _check_gather_shapes(op: str, x_shape, idx_shape, dim: int, other="input"):
    if len(idx_shape) != len(x_shape):
        raise RuntimeError(f"{op}: index {tuple(idx_shape)} and {other} {tuple(x_shape)} must have "
                           "the same number of dimensions")
    for d, (a, b) in enumerate(zip(idx_shape, x_shape)):
        if d != dim and a > b:
            raise RuntimeError(f"{op}: size of index {tuple(idx_shape)} must not exceed the size "
                               f"of {other} {tuple(x_shape)} at dimension {d} (only dimension "
                               f"{dim} may differ)")


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False,
           out: Tensor | None = None) -> Tensor:
    """``out[i][j][k] = x[i][index[i][j][k]][k]`` (for ``dim=1``); its gradient scatter-adds.
    ``sparse_grad`` is accepted for PyTorch's sake: ember's gradients are always dense."""
    if out is not None:
        return write_out("gather", out, gather(input, dim, index))
    x = input
    xd = x._data
    dim = normalize_dim(dim, xd.ndim)
    idx = _int_index(index, "gather", xd)
    if xd.ndim == 0:
        xd, idx = xd.reshape(1), idx.reshape(1)
    _check_gather_shapes("gather", xd.shape, idx.shape, dim)
    _check_range(idx, xd.shape[dim], "gather", dim)
    key = _along_key(idx, dim)
    out = xd[key].reshape(index.shape if isinstance(index, Tensor) else idx.shape)
    shape = x._data.shape

    def backward(g, needs):
        z = Tensor._wrap(get_array_module(g._data).zeros(shape, g._data.dtype))
        return (scatter_add(z, dim, Tensor._wrap(idx), g),)

    return record("Gather", out, (x,), backward)


def _src_part(src, idx_shape):
    """The leading ``idx_shape`` block of ``src`` (scatter reads only that much of it)."""
    if tuple(src.shape) == tuple(idx_shape):
        return src, None
    key = tuple(slice(0, n) for n in idx_shape)
    return src[key], key


def _scatter_common(op, x, dim, index, src):
    xd = x._data
    dim = normalize_dim(dim, xd.ndim)
    idx = _int_index(index, op, xd)
    _check_gather_shapes(op, xd.shape, idx.shape, dim, "self")
    _check_range(idx, xd.shape[dim], op, dim)
    if isinstance(src, Tensor):
        _check_gather_shapes(op, src.shape, idx.shape, dim, "src")
        for d in range(idx.ndim):
            if idx.shape[d] > src.shape[d]:
                raise RuntimeError(f"{op}: index {tuple(idx.shape)} is larger than src "
                                   f"{tuple(src.shape)} at dimension {d}")
    return xd, dim, idx, _along_key(idx, dim)


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None,
            axis=None) -> Tensor:
    """``x`` with ``out[i][index[i][j]] = src[i][j]`` (for ``dim=1``); ``src`` may be a number.

    ``reduce="add"`` sums instead (as :func:`scatter_add`). Where an index repeats, which value
    wins is unspecified, as in PyTorch.
    """
    x = input
    if src is None:
        src = value
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"scatter: reduce argument must be either 'add' or 'multiply', "
                               f"got {reduce!r}")
        if not isinstance(src, Tensor):
            src = Tensor._wrap(get_array_module(x._data).full(
                np.shape(index._data if isinstance(index, Tensor) else index), src, x._data.dtype))
        if reduce == "multiply":
            return scatter_reduce(x, dim, index, src, "prod")
        return scatter_add(x, dim, index, src)
    xd, dim, idx, key = _scatter_common("scatter", x, dim, index, src)
    out = xd.copy()
    if isinstance(src, Tensor):
        check_same_device("scatter", xd, src._data)
        part = src._data[tuple(slice(0, n) for n in idx.shape)]
        out[key] = part
        sshape = src.shape

        def backward(g, needs):
            return (scatter(g, dim, Tensor._wrap(idx), 0) if needs[0] else None,
                    _pad_to(gather(g, dim, Tensor._wrap(idx)), sshape) if needs[1] else None)

        return record("Scatter", out, (x, src), backward)
    out[key] = src
    return record("Scatter", out, (x,), lambda g, needs: (scatter(g, dim, Tensor._wrap(idx), 0),))


def _pad_to(t: Tensor, shape) -> Tensor:
    """``t`` placed in the leading corner of zeros of ``shape`` (no-op when shapes agree)."""
    if tuple(t.shape) == tuple(shape):
        return t
    return _scatter_key(t, tuple(shape), tuple(slice(0, n) for n in t.shape), False)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``x`` with ``out[i][index[i][j]] += src[i][j]`` (for ``dim=1``); repeated indices add up."""
    x = input
    xd, dim, idx, key = _scatter_common("scatter_add", x, dim, index, src)
    check_same_device("scatter_add", xd, src._data)
    out = xd.copy()
    part = src._data[tuple(slice(0, n) for n in idx.shape)]
    if part.dtype != out.dtype:
        part = part.astype(out.dtype)
    _add_at(get_array_module(xd), out, key, part)
    sshape = src.shape

    def backward(g, needs):
        return g, _pad_to(gather(g, dim, Tensor._wrap(idx)), sshape) if needs[1] else None

    return record("ScatterAdd", out, (x, src), backward)


_SCATTER_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


_UFUNC_OF = {"sum": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def _ufunc_at(xp, name: str):
    """``np.<op>.at(target, key, values)`` for reduction ``name``, on either backend.

    On the GPU, sums use CuPy's scatter-add. CuPy has no ``multiply.at``, and with its float64
    ``scatter_max``/``scatter_min`` the amax/amin gradients (which test equality with the
    result) came out zero on an H100 with CuPy 14.2, as if the result were rounded; so
    prod/amax/amin run ``np.<op>.at`` on host copies: exact, and off every training path.
    """
    if xp is np:
        return _UFUNC_OF[name].at
    if name == "sum":
        return lambda target, key, values: _add_at(xp, target, key, values)

    def on_host(target, key, values):
        host = target.get()
        _UFUNC_OF[name].at(host, backend.to_host(key), backend.to_host(values))
        target[...] = xp.asarray(host)

    return on_host


def _no_double_backward(gg, needs):
    raise NotImplementedError("double backward of scatter_reduce(reduce='prod') is not supported")


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """``x`` with every ``src[i][j]`` (for ``dim=1``) reduced into ``out[i][index[i][j]]`` by
    ``reduce`` (``"sum"``, ``"prod"``, ``"mean"``, ``"amax"``, ``"amin"``), as PyTorch.

    With ``include_self=False`` the positions that receive values start from the reduction's
    identity instead of ``x``. Gradients as PyTorch: ``amax``/``amin`` share it evenly among the
    contributions equal to the result; ``mean`` divides by the count; ``prod`` multiplies the
    other contributions (zeros handled; not differentiable twice).
    """
    x = input
    if reduce not in _SCATTER_REDUCTIONS:
        raise RuntimeError(f"scatter_reduce: reduce argument must be one of "
                           f"{', '.join(_SCATTER_REDUCTIONS)}, got {reduce!r}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce: src must be a Tensor, got {type(src).__name__}")
    xd, dim, idx, key = _scatter_common("scatter_reduce", x, dim, index, src)
    check_same_device("scatter_reduce", xd, src._data)
    if src._data.dtype != xd.dtype:
        raise RuntimeError(f"scatter_reduce: expected self ({xd.dtype}) and src "
                           f"({src._data.dtype}) to have the same dtype")
    xp = get_array_module(xd)
    part = src._data[tuple(slice(0, n) for n in idx.shape)]
    hit = xp.zeros(xd.shape, bool)
    hit[key] = True
    count = xp.zeros(xd.shape, np.int64)  # contributions per position, self included or not
    _add_at(xp, count, key, xp.ones(part.shape, np.int64))
    out = xd.copy()
    if not include_self:
        identity = {"sum": 0, "mean": 0, "prod": 1}.get(reduce)
        if identity is None:  # amax/amin: the dtype's lowest / highest value
            info = xp.finfo(xd.dtype) if xd.dtype.kind == "f" else xp.iinfo(xd.dtype)
            identity = (-xp.inf if xd.dtype.kind == "f" else info.min) if reduce == "amax" \
                else (xp.inf if xd.dtype.kind == "f" else info.max)
        out[hit] = identity
    else:
        count = count + hit
    _ufunc_at(xp, "sum" if reduce == "mean" else reduce)(out, key, part)
    if reduce == "mean":
        n = xp.maximum(count, 1).astype(xd.dtype)
        out = xp.where(hit, out // n if xd.dtype.kind in "iu" else out / n, out)
    sshape = src.shape
    result = Tensor._wrap(out)  # what the closure reads (no reference cycle)

    def backward(g, needs):
        if reduce in ("sum", "mean"):
            scale = 1 if reduce == "sum" else Tensor._wrap(
                xp.where(hit, 1 / xp.maximum(count, 1), 1).astype(g._data.dtype))
            gs = g * scale if reduce == "mean" else g
            gx = gs if include_self else gs * Tensor._wrap((~hit).astype(g._data.dtype))
            return gx, _pad_to(gather(gs, dim, Tensor._wrap(idx)), sshape) if needs[1] else None
        res = result._data
        if reduce in ("amax", "amin"):
            # the coefficients are piecewise constant in x and src: their own gradient is zero
            winners = xp.zeros(xd.shape, np.int64)  # contributions equal to the result
            _add_at(xp, winners, key, (part == res[key]).astype(np.int64))
            self_wins = (xd == res) & (hit if include_self else False) | ~hit
            winners = winners + (self_wins & hit)
            share = 1 / xp.maximum(winners, 1)
            gx_coef = xp.where(hit, self_wins * share, 1).astype(g._data.dtype)
            gs_coef = ((part == res[key]) * share[key]).astype(g._data.dtype)
            gx = g * Tensor._wrap(gx_coef)
            gs = gather(g, dim, Tensor._wrap(idx)) * Tensor._wrap(gs_coef)
            return gx, _pad_to(gs, sshape) if needs[1] else None
        else:  # prod: the product of the other contributions, with zeros counted apart
            nonzero_prod = xp.where(hit & include_self & (xd != 0), xd, 1).astype(xd.dtype)
            _ufunc_at(xp, "prod")(nonzero_prod, key, xp.where(part != 0, part, 1))
            zeros = xp.zeros(xd.shape, np.int64)
            _add_at(xp, zeros, key, (part == 0).astype(np.int64))
            if include_self:
                zeros = zeros + (hit & (xd == 0))

            def others(v, p_nz, z):
                safe = xp.where(v != 0, v, 1)
                return xp.where(v != 0, xp.where(z == 0, p_nz / safe, 0),
                                xp.where(z == 1, p_nz, 0))

            gx_coef = xp.where(hit, others(xd, nonzero_prod, zeros) if include_self else 0, 1)
            gs_coef = others(part, nonzero_prod[key], zeros[key])
            gd = g._data
            gx = gd * gx_coef.astype(gd.dtype)
            gs = xp.zeros(sshape, gd.dtype)
            gs[tuple(slice(0, n) for n in idx.shape)] = gd[key].reshape(idx.shape) * gs_coef
            # gradient ops whose own gradient (which would differentiate the coefficients) is
            # refused rather than silently wrong; x and src are inputs so that it is refused
            # even when g itself needs no gradient
            return (record("ScatterReduceProdBackward", gx, (g, x, src), _no_double_backward),
                    record("ScatterReduceProdBackward", gs, (g, x, src), _no_double_backward))

    return record("ScatterReduce", result, (x, src), backward, saved=(x, src))


# ------------------------------------------------------------------------ index_select & friends


def _vector_index(index, op, like, n, dim):
    idx = _int_index(index, op, like)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got shape {tuple(idx.shape)}")
    idx = idx.reshape(-1)
    _check_range(idx, n, op, dim, IndexError)
    return idx


def index_select(input: Tensor, dim: int, index: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The entries of ``x`` at positions ``index`` (a vector) along ``dim``."""
    if out is not None:
        return write_out("index_select", out, index_select(input, dim, index))
    x = input
    xd = x._data
    dim = normalize_dim(dim, xd.ndim)
    if xd.ndim == 0:
        idx = _vector_index(index, "index_select", xd, 1, dim)
        return getitem(x.reshape(1), Tensor._wrap(idx)).reshape(())
    idx = _vector_index(index, "index_select", xd, xd.shape[dim], dim)
    out = get_array_module(xd).take(xd, idx, axis=dim)
    shape = xd.shape

    def backward(g, needs):
        z = Tensor._wrap(get_array_module(g._data).zeros(shape, g._data.dtype))
        return (index_add(z, dim, Tensor._wrap(idx), g),)

    return record("IndexSelect", out, (x,), backward)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1,
              out: Tensor | None = None) -> Tensor:
    """``x`` with ``alpha * source`` added at positions ``index`` along ``dim`` (repeats add up)."""
    if out is not None:
        return write_out("index_add", out, index_add(input, dim, index, source, alpha=alpha))
    x = input
    xd = x._data
    dim = normalize_dim(dim, xd.ndim)
    idx = _vector_index(index, "index_add", xd, xd.shape[dim] if xd.ndim else 1, dim)
    sd = source._data
    check_same_device("index_add", xd, sd)
    expect = xd.shape[:dim] + (idx.shape[0],) + xd.shape[dim + 1:]
    if xd.ndim and tuple(sd.shape) != tuple(expect):
        raise RuntimeError(f"index_add: source of shape {tuple(sd.shape)} must have shape "
                           f"{tuple(expect)} (self {tuple(xd.shape)}, {idx.shape[0]} indices "
                           f"along dimension {dim})")
    out = xd.copy()
    vals = sd if alpha == 1 else sd * alpha
    if vals.dtype != out.dtype:
        vals = vals.astype(out.dtype)
    if xd.ndim == 0:
        out = out.reshape(1)
        _add_at(get_array_module(xd), out, idx, vals.reshape(-1))
        out = out.reshape(())
    else:
        _add_at(get_array_module(xd), out, (slice(None),) * dim + (idx,), vals)
    def backward(g, needs):
        if not needs[1]:
            return g, None
        gs = index_select(g, dim, Tensor._wrap(idx))
        if xd.ndim == 0:
            gs = gs.reshape(sd.shape)
        return g, gs * alpha if alpha != 1 else gs

    return record("IndexAdd", out, (x, source), backward)


def index_fill(x: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """``x`` with every entry at positions ``index`` along ``dim`` set to ``value``."""
    xd = x._data
    dim = normalize_dim(dim, xd.ndim)
    idx = _vector_index(index, "index_fill", xd, xd.shape[dim] if xd.ndim else 1, dim)
    key = (slice(None),) * dim + (idx,) if xd.ndim else (Ellipsis,)
    return _index_put(x, key, value)


# ------------------------------------------------------------------------------- masked ops


def _mask_array(mask, op: str, like):
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != bool:
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {m.dtype}")
    return _on_device(m, like)


def masked_fill(x: Tensor, mask: Tensor, value) -> Tensor:
    """``x`` with ``value`` (a number or 0-d tensor) wherever ``mask`` (broadcast) is True."""
    xd = x._data
    m = _mask_array(mask, "masked_fill", xd)
    vt = value if isinstance(value, Tensor) else None
    if vt is not None:
        if vt._data.ndim != 0:
            raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, but got "
                               f"tensor with {vt._data.ndim} dimension(s)")
        check_same_device("masked_fill", xd, vt._data)
        v = vt._data
    else:
        v = value
    xp = get_array_module(xd)
    try:
        out = xp.where(m, v, xd)
    except ValueError:
        raise RuntimeError(f"masked_fill: mask of shape {tuple(m.shape)} cannot be broadcast to "
                           f"the tensor's shape {tuple(xd.shape)}") from None
    if out.dtype != xd.dtype:
        out = out.astype(xd.dtype)
    mt = Tensor._wrap(m)
    if vt is None:
        return record("MaskedFill", out, (x,), lambda g, needs: (masked_fill(g, mt, 0),))

    def backward(g, needs):
        return (masked_fill(g, mt, 0) if needs[0] else None,
                masked_fill(g, Tensor._wrap(~m), 0).sum() if needs[1] else None)

    return record("MaskedFill", out, (x, vt), backward)


def masked_select(input: Tensor, mask: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The entries of ``x`` where ``mask`` is True (both broadcast), as a 1-D tensor."""
    if out is not None:
        return write_out("masked_select", out, masked_select(input, mask))
    x = input
    m = _mask_array(mask, "masked_select", x._data)
    try:
        shape = np.broadcast_shapes(x._data.shape, m.shape)
    except ValueError:
        raise RuntimeError(f"masked_select: mask of shape {tuple(m.shape)} and tensor of shape "
                           f"{tuple(x._data.shape)} cannot be broadcast together") from None
    if m.shape != shape:
        m = get_array_module(m).broadcast_to(m, shape)
    xe = x.expand(shape) if x._data.shape != shape else x
    return _gather_key(xe, (m,), False)


def take(input: Tensor, index: Tensor) -> Tensor:
    """``x`` read as a flat vector at positions ``index`` (the result has ``index``'s shape)."""
    x = input
    idx = _int_index(index, "take", x._data)
    return _gather_key(x.reshape(-1), (idx,), True)


def nonzero(input: Tensor, *, as_tuple: bool = False, out: Tensor | None = None):
    """Positions of the non-zero entries: an ``(n, ndim)`` int64 tensor, or one vector per dim."""
    if out is not None:
        return write_out("nonzero", out, nonzero(input, as_tuple=as_tuple))
    x = input
    xd = x._data
    xp = get_array_module(xd)
    if xd.ndim == 0:
        hit = xp.nonzero(xd.reshape(1))[0]
        if as_tuple:
            return (Tensor._wrap(hit.astype(np.int64)),)
        return Tensor._wrap(xp.zeros((hit.shape[0], 0), np.int64))
    parts = [p.astype(np.int64, copy=False) for p in xp.nonzero(xd)]
    if as_tuple:
        return tuple(Tensor._wrap(p) for p in parts)
    return Tensor._wrap(xp.stack(parts, axis=1))


def argwhere(input: Tensor) -> Tensor:
    """Same as ``nonzero(x)``: an ``(n, ndim)`` int64 tensor of positions."""
    x = input
    return nonzero(x)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices to one-hot rows: int64 of shape ``tensor.shape + (num_classes,)``.

    ``num_classes=-1`` takes one more than the largest class present (as
    ``torch.nn.functional.one_hot``).
    """
    idx = tensor._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot is only applicable to index tensor of integer type, got "
                           f"{idx.dtype}; convert with .long()")
    xp = get_array_module(idx)
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(idx.max()) + 1
    if idx.size:
        if int(idx.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(idx.max()) >= num_classes:
            raise RuntimeError(f"Class values must be smaller than num_classes ({num_classes}); "
                               f"got {int(idx.max())}")
    flat = idx.reshape(-1)
    out = xp.zeros((flat.shape[0], num_classes), np.int64)
    out[xp.arange(flat.shape[0]), flat] = 1
    return Tensor._wrap(out.reshape(tuple(idx.shape) + (num_classes,)))


# ---------------------------------------------------------------------------- in-place methods


def masked_fill_(x: Tensor, mask: Tensor, value) -> Tensor:
    """In-place :func:`masked_fill` (the mask must broadcast to ``x``'s shape)."""
    src = prepare_inplace(x, "masked_fill_")
    return commit_inplace(x, masked_fill(src, mask, value), "masked_fill_")


__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add", "index_fill",
           "index_put", "masked_fill", "masked_select", "take", "nonzero", "argwhere"]

attach(
    __getitem__=getitem, __setitem__=setitem,
    gather=gather, scatter=scatter, scatter_add=scatter_add, scatter_reduce=scatter_reduce,
    scatter_reduce_=inplace_method(scatter_reduce, "scatter_reduce_"),
    index_select=index_select,
    index_add=index_add, index_fill=index_fill, index_put=index_put, masked_fill=masked_fill,
    masked_select=masked_select, take=take, nonzero=nonzero, argwhere=argwhere,
    masked_fill_=masked_fill_,
    scatter_=inplace_method(scatter, "scatter_"),
    scatter_add_=inplace_method(scatter_add, "scatter_add_"),
    index_add_=inplace_method(index_add, "index_add_"),
    index_fill_=inplace_method(index_fill, "index_fill_"),
    index_put_=inplace_method(index_put, "index_put_"),
)
