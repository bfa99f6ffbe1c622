"""Resampling: ``interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic, trilinear,
area) and pixel (un)shuffling, as ``torch.nn.functional``.

Every interpolation mode PyTorch offers here is separable: the output along each spatial axis is
a fixed linear map of the input along that axis. So each axis is resampled by a small
``(in, out)`` matrix built on the host (or, for nearest, an index gather), and the result is made
of differentiable ember ops: gradients, double backward and both devices come for free.
"""

from __future__ import annotations

import math

import numpy as np

from ember import backend
from ember.ops.indexing import index_select
from ember.tensor import Tensor

_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
_SPATIAL = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_CUBIC_A = -0.75  # the cubic convolution constant PyTorch (and OpenCV) use


def _output_sizes(input: Tensor, size, scale_factor, recompute_scale_factor):
    """The output spatial sizes and, per axis, the scale mapping output to input coordinates."""
    spatial = tuple(input.shape[2:])
    dims = len(spatial)
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dims:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(spatial)} and output size of "
                    f"{size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format.")
            out = tuple(int(s) for s in size)
        else:
            out = (int(size),) * dims
        return out, tuple(i / o if o else 0.0 for i, o in zip(spatial, out))
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != dims:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but got "
                f"input with spatial dimensions of {list(spatial)} and scale_factor of shape "
                f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                "and scale_factor in (s1, s2, ...,sK) format.")
        factors = tuple(float(f) for f in scale_factor)
    else:
        factors = (float(scale_factor),) * dims
    out = tuple(int(math.floor(i * f)) for i, f in zip(spatial, factors))
    if recompute_scale_factor:
        return out, tuple(i / o if o else 0.0 for i, o in zip(spatial, out))
    return out, tuple(1.0 / f for f in factors)


def _source(out_len: int, in_len: int, scale: float, align_corners: bool) -> np.ndarray:
    """Input coordinates of the output positions (float64)."""
    dst = np.arange(out_len, dtype=np.float64)
    if align_corners:
        return dst * ((in_len - 1) / (out_len - 1) if out_len > 1 else 0.0)
    return (dst + 0.5) * scale - 0.5


def _linear_matrix(out_len, in_len, scale, align_corners) -> np.ndarray:
    src = _source(out_len, in_len, scale, align_corners)
    src = np.maximum(src, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), in_len - 1)
    hi = np.minimum(lo + 1, in_len - 1)
    frac = src - lo
    m = np.zeros((out_len, in_len))
    rows = np.arange(out_len)
    np.add.at(m, (rows, lo), 1.0 - frac)
    np.add.at(m, (rows, hi), frac)
    return m


def _cubic_matrix(out_len, in_len, scale, align_corners) -> np.ndarray:
    src = _source(out_len, in_len, scale, align_corners)
    base = np.floor(src)
    t = src - base
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weights = (far(t + 1), near(t), near(1 - t), far(2 - t))
    m = np.zeros((out_len, in_len))
    rows = np.arange(out_len)
    for k, w in enumerate(weights):
        idx = np.clip(base.astype(np.int64) - 1 + k, 0, in_len - 1)
        np.add.at(m, (rows, idx), w)
    return m


def _antialias_matrix(out_len, in_len, scale, align_corners, cubic: bool) -> np.ndarray:
    """PyTorch's anti-aliased resampling: when shrinking, the triangle (bilinear) or Keys cubic
    (a = -0.5) filter is stretched by the scale and each output's weights are normalised."""
    if align_corners:
        scale = (in_len - 1) / (out_len - 1) if out_len > 1 else 0.0
    a = -0.5

    def kernel(x):
        x = np.abs(x)
        if not cubic:
            return np.where(x < 1.0, 1.0 - x, 0.0)
        near = ((a + 2) * x - (a + 3)) * x * x + 1
        far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))

    interp = 4 if cubic else 2
    support = interp * 0.5 * scale if scale >= 1.0 else interp * 0.5
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    m = np.zeros((out_len, in_len))
    for i in range(out_len):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), in_len)
        j = np.arange(lo, hi)
        w = kernel((j - center + 0.5) * invscale)
        total = w.sum()
        m[i, lo:hi] = w / total if total != 0 else w
    return m


def _area_matrix(out_len, in_len) -> np.ndarray:
    m = np.zeros((out_len, in_len))
    for o in range(out_len):
        start = (o * in_len) // out_len
        end = -((-(o + 1) * in_len) // out_len)
        m[o, start:end] = 1.0 / (end - start)
    return m


def _nearest_index(out_len, in_len, scale, exact: bool) -> np.ndarray:
    # in float32, as PyTorch's kernels compute the nearest source index
    dst = np.arange(out_len, dtype=np.float32)
    s = np.float32(scale)
    src = np.floor((dst + np.float32(0.5)) * s) if exact else np.floor(dst * s)
    return np.minimum(src.astype(np.int64), in_len - 1)


def _apply_matrix(x: Tensor, axis: int, matrix: np.ndarray) -> Tensor:
    """Resample ``x`` along ``axis`` by ``matrix`` ``(out, in)``."""
    m = Tensor._wrap(backend.move_array(np.ascontiguousarray(matrix.T).astype(
        x._data.dtype), x.device))
    return x.movedim(axis, -1).matmul(m).movedim(-1, axis)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dimensions of ``(N, C, d1, ...)`` to ``size`` or by ``scale_factor``.

    ``mode``: ``nearest`` (PyTorch's legacy floor rule), ``nearest-exact`` (pixel centres),
    ``linear`` (3-D input), ``bilinear``/``bicubic`` (4-D), ``trilinear`` (5-D) or ``area``
    (adaptive average). ``align_corners=True`` maps the corner pixels' centres onto each other.
    """
    if mode not in _MODES or input.ndim not in (3, 4, 5):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the "
            "modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
            f"nearest-exact (got {mode})")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if mode in _SPATIAL and input.ndim - 2 != _SPATIAL[mode]:
        raise NotImplementedError(
            f"Got {input.ndim}D input, but {mode} mode needs {_SPATIAL[mode] + 2}D input")
    if antialias and mode not in ("bilinear", "bicubic"):
        raise ValueError(f"Anti-alias option is restricted to bilinear and bicubic modes and "
                         f"requires a 4-D tensor as input, got mode {mode!r}")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if input._data.dtype.kind != "f" and mode not in ("nearest", "nearest-exact"):
        raise RuntimeError(f"interpolate: mode {mode!r} needs a floating point input, got "
                           f"{input.dtype}")
    out_sizes, scales = _output_sizes(input, size, scale_factor, recompute_scale_factor)
    if any(o <= 0 for o in out_sizes):
        raise RuntimeError(f"interpolate: the output size {list(out_sizes)} of input "
                           f"{list(input.shape)} must be greater than 0")
    x = input
    for k, (out_len, scale) in enumerate(zip(out_sizes, scales)):
        axis = 2 + k
        in_len = x.shape[axis]
        if mode in ("nearest", "nearest-exact"):
            if mode == "nearest" and out_len == in_len and scale == 1.0:
                continue
            idx = _nearest_index(out_len, in_len, scale, mode == "nearest-exact")
            x = index_select(x, axis, Tensor._wrap(backend.move_array(idx, x.device)))
        elif mode == "area":
            x = _apply_matrix(x, axis, _area_matrix(out_len, in_len))
        elif antialias:
            x = _apply_matrix(x, axis, _antialias_matrix(out_len, in_len, scale, align_corners,
                                                         mode == "bicubic"))
        elif mode == "bicubic":
            x = _apply_matrix(x, axis, _cubic_matrix(out_len, in_len, scale, align_corners))
        else:
            x = _apply_matrix(x, axis, _linear_matrix(out_len, in_len, scale, align_corners))
    return x


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated PyTorch alias of :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated PyTorch alias of ``interpolate(..., mode='nearest')``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated PyTorch alias of ``interpolate(..., mode='bilinear', align_corners=True)``."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """``(*, C·r², H, W)`` to ``(*, C, H·r, W·r)``: each group of ``r²`` channels becomes an
    ``r × r`` block of pixels."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of :func:`pixel_shuffle`: ``(*, C, H·r, W·r)`` to ``(*, C·r², H, W)``."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, "
                           f"but input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, "
                           f"but input.size(-1)={w} is not divisible by {r}")
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """``(N, g·k, *)`` with channels regrouped ``k × g`` (ShuffleNet's channel shuffle)."""
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    g = int(groups)
    if g <= 0:
        raise ValueError(f"Number of groups to divide channels in must be positive. Value of "
                         f"groups:{g}")
    n, c, *rest = input.shape
    if c % g:
        raise ValueError(f"Number of channels must be divisible by groups. Got {c} channels and "
                         f"{g} groups.")
    return input.reshape(n, g, c // g, *rest).transpose(1, 2).reshape(n, c, *rest)


__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle", "channel_shuffle"]
