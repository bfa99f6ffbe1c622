"""``Flatten`` and ``Unflatten``: reshape layers."""

from __future__ import annotations

from ember.nn.modules.module import Module
from ember.tensor import Tensor


class Flatten(Module):
    """Merge dimensions ``start_dim`` .. ``end_dim`` into one (by default all but the batch)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        n = len(shape)
        if n == 0:
            return input.reshape(1)
        s = self.start_dim % n if -n <= self.start_dim < n else None
        e = self.end_dim % n if -n <= self.end_dim < n else None
        if s is None or e is None:
            raise IndexError(
                f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}): dimension out of "
                f"range for input of shape {tuple(shape)}"
            )
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        merged = 1
        for d in shape[s:e + 1]:
            merged *= d
        return input.reshape(tuple(shape[:s]) + (merged,) + tuple(shape[e + 1:]))

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (one entry may be -1)."""

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        shape = tuple(input.shape)
        d = self.dim % len(shape)
        sizes = list(self.unflattened_size)
        if -1 in sizes:
            known = 1
            for v in sizes:
                if v != -1:
                    known *= v
            sizes[sizes.index(-1)] = shape[d] // known if known else 0
        prod = 1
        for v in sizes:
            prod *= v
        if prod != shape[d]:
            raise RuntimeError(
                f"Unflatten(dim={self.dim}, unflattened_size={self.unflattened_size}): sizes "
                f"multiply to {prod}, but dimension {self.dim} of input shape {shape} is {shape[d]}"
            )
        return input.reshape(shape[:d] + tuple(sizes) + shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


__all__ = ["Flatten", "Unflatten"]
