"""Sample transforms for datasets, with torchvision's names: ``Compose``, ``ToTensor``,
``Normalize``, ``Lambda``, ``Flatten``.

Transforms work on one sample (or a batch, for ``Normalize``) and return a new tensor; they record
no graph, since data preparation is never differentiated.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ember import backend
from ember.tensor import Tensor

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda", "Flatten"]


def _array(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


class Compose:
    """Apply several transforms one after the other."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class ToTensor:
    """An image as a float tensor in channels-first layout.

    ``H x W`` becomes ``1 x H x W`` and ``H x W x C`` becomes ``C x H x W``. uint8 pixels are
    scaled to float32 in [0, 1]; floating images keep their values and dtype; other integer images
    become float32 unscaled. Accepts NumPy arrays, tensors, and anything ``numpy.asarray`` takes
    (such as a PIL image).
    """

    def __call__(self, pic) -> Tensor:
        arr = _array(pic)
        if arr.ndim == 2:
            arr = arr[None]
        elif arr.ndim == 3:
            arr = arr.transpose(2, 0, 1)
        else:
            raise ValueError(f"ToTensor expects an image of shape HxW or HxWxC, got shape "
                             f"{tuple(arr.shape)}")
        xp = backend.get_array_module(arr)
        if arr.dtype == np.uint8:
            out = arr.astype(np.float32) / np.float32(255)
        elif arr.dtype.kind == "f":
            out = xp.ascontiguousarray(arr)
        else:
            out = arr.astype(np.float32)
        return Tensor._wrap(xp.ascontiguousarray(out))

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """``(x - mean) / std`` per channel.

    For a tensor with 3 or more dimensions (``C x H x W`` or ``N x C x H x W``) the channel is
    dimension -3, as in torchvision; for 1-D and 2-D tensors (feature vectors, batches of them)
    ``mean`` and ``std`` apply along the last dimension. Each may be one number or one per channel.
    """

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float],
                 inplace: bool = False):
        self.mean = mean
        self.std = std
        self.inplace = inplace
        if np.any(np.asarray(std, dtype=np.float64) == 0):
            raise ValueError(f"std evaluated to zero after conversion to float, leading to division "
                             f"by zero (std={std})")

    def __call__(self, x) -> Tensor:
        arr = _array(x)
        if arr.dtype.kind != "f":
            raise TypeError(f"Normalize expects a floating tensor, got {arr.dtype}; apply "
                            "ToTensor() first")
        xp = backend.get_array_module(arr)
        mean = xp.asarray(self.mean, dtype=arr.dtype)
        std = xp.asarray(self.std, dtype=arr.dtype)
        if arr.ndim >= 3:
            # one value per channel, broadcast over height and width
            if mean.ndim == 1:
                mean = mean[:, None, None]
            if std.ndim == 1:
                std = std[:, None, None]
        try:
            out = xp.subtract(arr, mean, out=arr) if self.inplace else arr - mean
        except ValueError:
            raise ValueError(f"Normalize: mean {self.mean} does not match a tensor of shape "
                             f"{tuple(arr.shape)} (one value per channel expected)") from None
        out /= std
        if self.inplace and isinstance(x, Tensor):
            x._version += 1
            return x
        return Tensor._wrap(out)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Lambda:
    """Wrap any function as a transform."""

    def __init__(self, lambd: Callable[[Any], Any]):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)

    def __repr__(self) -> str:
        return "Lambda()"


class Flatten:
    """Flatten a sample to one dimension (for fully-connected networks)."""

    def __call__(self, x) -> Tensor:
        arr = _array(x)
        return Tensor._wrap(arr.reshape(-1))

    def __repr__(self) -> str:
        return "Flatten()"
