"""Padding layers: zero, constant, reflection, replication and circular, for 1-3 spatial
dimensions, as ``torch.nn``'s (``padding`` an int or a ``2·d``-tuple ``(left, right, top, bottom,
front, back)``)."""

from __future__ import annotations

import ember.nn.functional as F
from ember.nn.modules.module import Module
from ember.tensor import Tensor


def _padding_tuple(padding, dims: int, name: str) -> tuple:
    if isinstance(padding, int):
        return (padding,) * (2 * dims)
    padding = tuple(int(p) for p in padding)
    if len(padding) != 2 * dims:
        raise ValueError(f"{name}: padding must be an int or a tuple of {2 * dims} ints, got "
                         f"{padding}")
    return padding


class _PadNd(Module):
    """Shared body: ``mode`` for ``F.pad``, ``dims`` padded trailing dimensions, and the input
    ranks accepted (unbatched or batched)."""

    mode = "constant"
    dims = 1

    def __init__(self, padding, value: float = 0.0) -> None:
        super().__init__()
        self.padding = _padding_tuple(padding, self.dims, type(self).__name__)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        allowed = (self.dims + 1, self.dims + 2)
        if input.ndim not in allowed:
            raise ValueError(f"{type(self).__name__}: expected {allowed[0]}D or {allowed[1]}D "
                             f"input, got {input.ndim}D input of shape {tuple(input.shape)}")
        if self.mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        if self.mode == "constant" and not isinstance(self, _ZeroPad):
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


class _ZeroPad(_PadNd):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)


class _ConstantPad(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding, value)


class _OtherPad(_PadNd):
    def __init__(self, padding) -> None:
        super().__init__(padding)


def _make(name: str, base, mode: str, dims: int, doc: str):
    return type(name, (base,), {"mode": mode, "dims": dims, "__doc__": doc,
                                "__module__": __name__})


_DOCS = {
    "constant": "Pad the last {d} dimension(s) with a constant ``value``.",
    "zero": "Pad the last {d} dimension(s) with zeros.",
    "reflect": "Pad the last {d} dimension(s) with their mirror image (the edge not repeated).",
    "replicate": "Pad the last {d} dimension(s) by repeating the edge values.",
    "circular": "Pad the last {d} dimension(s) by wrapping around (periodic boundary).",
}

ZeroPad1d = _make("ZeroPad1d", _ZeroPad, "constant", 1, _DOCS["zero"].format(d=1))
ZeroPad2d = _make("ZeroPad2d", _ZeroPad, "constant", 2, _DOCS["zero"].format(d=2))
ZeroPad3d = _make("ZeroPad3d", _ZeroPad, "constant", 3, _DOCS["zero"].format(d=3))
ConstantPad1d = _make("ConstantPad1d", _ConstantPad, "constant", 1, _DOCS["constant"].format(d=1))
ConstantPad2d = _make("ConstantPad2d", _ConstantPad, "constant", 2, _DOCS["constant"].format(d=2))
ConstantPad3d = _make("ConstantPad3d", _ConstantPad, "constant", 3, _DOCS["constant"].format(d=3))
ReflectionPad1d = _make("ReflectionPad1d", _OtherPad, "reflect", 1, _DOCS["reflect"].format(d=1))
ReflectionPad2d = _make("ReflectionPad2d", _OtherPad, "reflect", 2, _DOCS["reflect"].format(d=2))
ReflectionPad3d = _make("ReflectionPad3d", _OtherPad, "reflect", 3, _DOCS["reflect"].format(d=3))
ReplicationPad1d = _make("ReplicationPad1d", _OtherPad, "replicate", 1,
                         _DOCS["replicate"].format(d=1))
ReplicationPad2d = _make("ReplicationPad2d", _OtherPad, "replicate", 2,
                         _DOCS["replicate"].format(d=2))
ReplicationPad3d = _make("ReplicationPad3d", _OtherPad, "replicate", 3,
                         _DOCS["replicate"].format(d=3))
CircularPad1d = _make("CircularPad1d", _OtherPad, "circular", 1, _DOCS["circular"].format(d=1))
CircularPad2d = _make("CircularPad2d", _OtherPad, "circular", 2, _DOCS["circular"].format(d=2))
CircularPad3d = _make("CircularPad3d", _OtherPad, "circular", 3, _DOCS["circular"].format(d=3))

__all__ = [f"{kind}Pad{d}d" for kind in ("Zero", "Constant", "Reflection", "Replication",
                                         "Circular") for d in (1, 2, 3)]
