"""Moving tensors between devices and dtypes, differentiably: the gradient goes back to where
the input was (``Tensor.to`` and ``Tensor.type`` are bound here)."""

from __future__ import annotations

from ember import backend
from ember.ops.common import Tensor, attach, record
from ember.ops.elementwise import cast


def to_device(x: Tensor, device) -> Tensor:
    """Copy ``x`` to ``device``; its gradient is copied back to ``x``'s device.

    ``x`` itself is returned when it already lives there (``"cuda"`` names the current GPU).
    """
    src = x.device
    dev = backend.as_device(device)
    if dev.type == src.type == "cpu":
        return x
    dev = backend.resolve_device(dev)  # raises the install hint when there is no GPU
    if dev == src:
        return x
    out = backend.move_array(x._data, dev)
    return record("ToCopy", out, (x,), lambda g, needs: (to_device(g, src),))


def to(self: Tensor, *args, **kwargs) -> Tensor:
    """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``."""
    dev, dt = Tensor._parse_to_args(args, kwargs)
    out = self
    if dt is not None and backend.to_dtype(dt).np != self._data.dtype:
        out = out.type(dt)
    if dev is not None and backend.as_device(dev) != out.device:
        out = to_device(out, backend.as_device(dev))
    return out


def type_(self: Tensor, dtype=None):
    """Cast to ``dtype`` (differentiable between floating types); without it, the type name."""
    if dtype is None:
        return f"ember.{self.dtype.name}"
    return cast(self, dtype)


attach(to=to, type=type_)

__all__ = []
