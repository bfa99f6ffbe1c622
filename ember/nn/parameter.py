"""``Parameter``: a tensor that a :class:`~ember.nn.Module` registers as one of its weights."""

from __future__ import annotations

from ember.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that is a module's learnable weight (``requires_grad=True`` by default).

    Assigning a ``Parameter`` to a module attribute registers it, so it shows up in
    ``module.parameters()`` and ``state_dict()``. It shares memory with ``data``, as in PyTorch.
    Ops on parameters return plain tensors.
    """

    __slots__ = ()

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            import numpy as np

            from ember.backend import get_default_dtype

            data = np.empty((0,), dtype=get_default_dtype().np)
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (Tensor._wrap(self._data), self.requires_grad))


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a module attribute."""

    __slots__ = ("persistent",)

    def __init__(self, data, *, persistent: bool = True):
        super().__init__(data)
        self.persistent = persistent


__all__ = ["Parameter", "Buffer"]
