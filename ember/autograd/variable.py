"""PyTorch's legacy ``Variable`` wrapper and the autograd multithreading switch, for programs
written against older or broader PyTorch APIs.

Since PyTorch 0.4 every Tensor is a "Variable": ``Variable(t, requires_grad=True)`` returns a leaf
Tensor sharing ``t``'s memory, and ``isinstance(t, Variable)`` is true for every Tensor. ember
behaves the same way.
"""

from __future__ import annotations

import warnings

__all__ = ["Variable", "set_multithreading_enabled", "is_multithreading_enabled"]

_MULTITHREADING = True


class _VariableMeta(type):
    def __instancecheck__(cls, other) -> bool:
        from ember.tensor import Tensor

        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False)``: a leaf Tensor sharing ``data``'s memory (``data``
    may also be anything ``ember.tensor`` accepts). ``volatile`` is accepted and ignored, with
    PyTorch's warning."""

    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        from ember.creation import empty, tensor
        from ember.tensor import Tensor

        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with ember.no_grad():` "
                          "instead.", UserWarning, stacklevel=2)
        if data is None:
            leaf = empty(0)
        elif isinstance(data, Tensor):
            leaf = data.detach()
        else:
            leaf = tensor(data)
        return leaf.requires_grad_(requires_grad)


def is_multithreading_enabled() -> bool:
    """Whether :class:`set_multithreading_enabled` is on (the default)."""
    return _MULTITHREADING


class set_multithreading_enabled:
    """Accepted for PyTorch compatibility: PyTorch may run backward on one thread per device;
    ember's engine always runs on the calling thread, so this only records the setting.
    Works immediately, or for a ``with`` block."""

    def __init__(self, mode: bool):
        global _MULTITHREADING
        self.prev = _MULTITHREADING
        _MULTITHREADING = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        global _MULTITHREADING
        _MULTITHREADING = self.prev
        return False
