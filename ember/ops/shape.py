"""Shape ops: reshape/view, expand, transpose/permute, squeeze/unsqueeze, flatten/unflatten,
repeat/tile, cat/stack/split/chunk, flip, roll, pad. Gradients move values back to where they
came from; nothing here does arithmetic."""

from __future__ import annotations

import numpy as np

from ember.ops.common import Tensor, attach, record


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def reshape(x: Tensor, *shape) -> Tensor:
    """Same values in a new shape (one dimension may be -1)."""
    shape = _shape_arg(shape)
    src = x._data.shape
    try:
        out = x._data.reshape(shape)
    except ValueError:
        raise RuntimeError(
            f"reshape: shape {list(shape)} is invalid for input of size {x._data.size} "
            f"(input shape {tuple(src)})"
        ) from None
    return record("Reshape", out, (x,), lambda g: (g.reshape(src),))


def expand(x: Tensor, *shape) -> Tensor:
    """Broadcast to ``shape`` without copying (-1 keeps a dimension)."""
    from ember.backend import get_array_module
    from ember.ops.common import unbroadcast

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
    return record("Expand", out, (x,), lambda g: (unbroadcast(g, src),))


__all__ = ["reshape"]

attach(reshape=reshape, view=reshape, expand=expand)
