"""Flatten parameters into one vector and back."""

from __future__ import annotations

from typing import Iterable

from ember.tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    import ember.ops as ops

    return ops.cat([p.reshape(-1) for p in parameters], 0)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (in place)."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"expected a 1-D ember Tensor, but got {type(vec).__name__}")
    data = vec._data
    offset = 0
    for p in parameters:
        n = p.numel()
        if offset + n > data.shape[0]:
            raise ValueError(f"vector of length {data.shape[0]} is too short for the parameters")
        p._data[...] = data[offset:offset + n].reshape(p.shape)
        p._version += 1
        offset += n


__all__ = ["parameters_to_vector", "vector_to_parameters"]
