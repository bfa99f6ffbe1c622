"""Collectives on CuPy arrays through NCCL (``cupy.cuda.nccl``), for ``backend="nccl"``.

Each call is queued on CuPy's current stream, after the kernels that produced the data and
before those that read the result, so no explicit synchronisation is needed in between. Arrays
NCCL cannot take as they are (non-contiguous, or of a type it lacks, such as bool) go through a
contiguous temporary on the same GPU.

Not exercised by the test suite (it needs two GPUs); see docs/distributed.md for how to test it.
"""

from __future__ import annotations

import numpy as np

from ember.distributed.reduce_op import ReduceOp

_TYPES: dict | None = None


def _nccl():
    from cupy.cuda import nccl

    return nccl


def _types() -> dict:
    global _TYPES
    if _TYPES is None:
        n = _nccl()
        _TYPES = {
            np.dtype(np.float16): n.NCCL_FLOAT16, np.dtype(np.float32): n.NCCL_FLOAT32,
            np.dtype(np.float64): n.NCCL_FLOAT64, np.dtype(np.int8): n.NCCL_INT8,
            np.dtype(np.uint8): n.NCCL_UINT8, np.dtype(np.int32): n.NCCL_INT32,
            np.dtype(np.int64): n.NCCL_INT64,
        }
    return _TYPES


def _ops(op: ReduceOp):
    """NCCL's op for ``op``, and whether the sum must still be divided by the world size
    (CuPy builds that predate ``ncclAvg`` lack ``NCCL_AVG``)."""
    n = _nccl()
    if op is ReduceOp.AVG:
        avg = getattr(n, "NCCL_AVG", None)
        return (n.NCCL_SUM, True) if avg is None else (avg, False)
    return {ReduceOp.SUM: n.NCCL_SUM, ReduceOp.PRODUCT: n.NCCL_PROD, ReduceOp.MIN: n.NCCL_MIN,
            ReduceOp.MAX: n.NCCL_MAX}[op], False


def _buffer(arr):
    """A contiguous array of an NCCL type holding ``arr``'s values (``arr`` itself if it can)."""
    import cupy

    if arr.dtype in _types() and arr.flags.c_contiguous:
        return arr
    wire = arr.dtype if arr.dtype in _types() else np.dtype(np.int32)  # bool -> int32
    return cupy.ascontiguousarray(arr, dtype=wire)


def _check_device(g, arr) -> None:
    if arr.device.id != g.nccl_device:
        raise RuntimeError(
            f"this rank's NCCL communicator drives cuda:{g.nccl_device} but the tensor is on "
            f"cuda:{arr.device.id}; keep each rank's tensors on its own GPU (model.to('cuda') "
            "after init_process_group uses the right one)"
        )


def _stream():
    import cupy

    return cupy.cuda.get_current_stream().ptr


def all_reduce(g, arr, op: ReduceOp) -> None:
    import cupy

    _check_device(g, arr)
    with cupy.cuda.Device(arr.device.id):
        buf = _buffer(arr)
        nccl_op, divide = _ops(op)
        g.nccl.allReduce(buf.data.ptr, buf.data.ptr, buf.size, _types()[buf.dtype], nccl_op,
                         _stream())
        if divide:
            buf /= g.world_size
        if buf is not arr:
            arr[...] = buf.astype(arr.dtype, copy=False)


def broadcast(g, arr, src: int) -> None:
    import cupy

    _check_device(g, arr)
    with cupy.cuda.Device(arr.device.id):
        buf = _buffer(arr)
        g.nccl.bcast(buf.data.ptr, buf.size, _types()[buf.dtype], src, _stream())
        if buf is not arr and g.rank != src:
            arr[...] = buf.astype(arr.dtype, copy=False)


def all_gather(g, arr):
    """A ``(world_size, *arr.shape)`` CuPy array of every rank's ``arr``."""
    import cupy

    _check_device(g, arr)
    with cupy.cuda.Device(arr.device.id):
        send = _buffer(arr)
        out = cupy.empty((g.world_size,) + tuple(arr.shape), dtype=send.dtype)
        g.nccl.allGather(send.data.ptr, out.data.ptr, send.size, _types()[send.dtype], _stream())
        return out
