"""Moving tensors between devices, differentiably: the gradient goes back to where the input was."""

from __future__ import annotations

from ember import backend
from ember.ops.common import Tensor, record


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


__all__ = []
