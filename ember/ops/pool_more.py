"""More pooling and sampling of ``torch.nn.functional``: power-average pooling (``lp_pool*``),
max unpooling, the ``*_with_indices`` forms, 3-d max pooling indices, ``gumbel_softmax``,
``affine_grid``/``grid_sample`` and ``linear_cross_entropy``; all written with differentiable
ember ops (index plans and random draws built on the host)."""

from __future__ import annotations

import numpy as np

from ember import backend
from ember.backend import get_array_module
from ember.ops import conv as _conv
from ember.ops import conv3d as _conv3d
from ember.ops import nn_ops
from ember.ops.activation import relu
from ember.ops.compare import where
from ember.ops.indexing import gather, scatter
from ember.ops.unary import sign
from ember.tensor import Tensor


def _const(array, like: Tensor) -> Tensor:
    return Tensor._wrap(backend.move_array(np.asarray(array), like.device))


def _tuple(value, n: int) -> tuple:
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value) if len(value) == n else (int(value[0]),) * n
    return (int(value),) * n


# ------------------------------------------------------------------------------ power pooling


def _lp(avg: Tensor, window: int, norm_type: float) -> Tensor:
    # sign·relu(|x|) as PyTorch writes it, so gradients at 0 agree too
    return (sign(avg) * relu(avg.abs()) * window) ** (1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """``(Σ_window x^p)^(1/p)`` over sliding windows of ``(N, C, L)``."""
    k = _tuple(kernel_size, 1)[0]
    avg = _conv.avg_pool1d(input ** norm_type, k, stride if stride is not None else k, 0,
                           ceil_mode)
    return _lp(avg, k, norm_type)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """``(Σ_window x^p)^(1/p)`` over sliding windows of ``(N, C, H, W)``."""
    kh, kw = _tuple(kernel_size, 2)
    avg = _conv.avg_pool2d(input ** norm_type, (kh, kw), stride if stride is not None else
                           (kh, kw), 0, ceil_mode)
    return _lp(avg, kh * kw, norm_type)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """``(Σ_window x^p)^(1/p)`` over sliding boxes of ``(N, C, D, H, W)``."""
    kd, kh, kw = _tuple(kernel_size, 3)
    avg = _conv3d.avg_pool3d(input ** norm_type, (kd, kh, kw), stride if stride is not None
                             else (kd, kh, kw), 0, ceil_mode)
    return _lp(avg, kd * kh * kw, norm_type)


# --------------------------------------------------------------------------- 3-d max indices


def _pool_len(length, k, s, p, d, ceil_mode):
    eff = d * (k - 1) + 1
    num = length + 2 * p - eff
    out = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (out - 1) * s >= length + p:
        out -= 1
    return out


def _window_argmax(a, starts, lengths, dilation):
    """Flat ``D·H·W`` index of the first maximum (PyTorch's tie rule) in each window of ``a``
    ``(N, C, D, H, W)``; window ``(i, j, l)`` covers, on each axis, ``lengths[axis][i]``
    positions from ``starts[axis][i]`` spaced ``dilation[axis]`` apart (outside: skipped)."""
    xp = get_array_module(a)
    n, c, D, H, W = a.shape
    sizes = (D, H, W)
    out_shape = tuple(len(st) for st in starts)
    best = xp.full((n, c) + out_shape, -xp.inf, dtype=a.dtype)
    idx = xp.zeros((n, c) + out_shape, dtype=np.int64)

    def axis_taps(axis, off):
        pos = starts[axis] + off * dilation[axis]
        ok = (off < lengths[axis]) & (pos >= 0) & (pos < sizes[axis])
        return np.clip(pos, 0, sizes[axis] - 1), ok

    for a_off in range(int(max(lengths[0], default=0))):
        zd, okd = axis_taps(0, a_off)
        for b_off in range(int(max(lengths[1], default=0))):
            zh, okh = axis_taps(1, b_off)
            for c_off in range(int(max(lengths[2], default=0))):
                zw, okw = axis_taps(2, c_off)
                ok = okd[:, None, None] & okh[None, :, None] & okw[None, None, :]
                vals = a[:, :, zd][:, :, :, zh][:, :, :, :, zw]
                flat = (zd[:, None, None] * H + zh[None, :, None]) * W + zw[None, None, :]
                better = xp.asarray(ok) & ((vals > best) | xp.isnan(vals) & ~xp.isnan(best))
                best = xp.where(better, vals, best)
                idx = xp.where(better, xp.asarray(flat), idx)
    return idx


def _max_indices_3d(a, k, s, p, d, out_shape):
    starts = [np.arange(o) * st - pp for o, st, pp in zip(out_shape, s, p)]
    lengths = [np.full(o, kk) for o, kk in zip(out_shape, k)]
    return _window_argmax(a, starts, lengths, d)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size, return_indices: bool = True):
    """``adaptive_max_pool3d`` returning ``(output, indices)``, indices flat into ``D·H·W``."""
    out = _conv3d.adaptive_max_pool3d(input, output_size)
    x = input if input.ndim == 5 else input.unsqueeze(0)
    o = out if out.ndim == 5 else out.unsqueeze(0)
    starts, lengths = [], []
    for length, n_out in zip(x.shape[2:], o.shape[2:]):
        i = np.arange(n_out)
        lo, hi = (i * length) // n_out, -((-(i + 1) * length) // n_out)
        starts.append(lo)
        lengths.append(hi - lo)
    idx = _window_argmax(x._data, starts, lengths, (1, 1, 1))
    return out, Tensor._wrap(idx if input.ndim == 5 else idx[0])


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over PyTorch's adaptive windows to reach ``output_size`` ``(D, H, W)``."""
    if return_indices:
        return adaptive_max_pool3d_with_indices(input, output_size)
    return _conv3d.adaptive_max_pool3d(input, output_size)


def max_pool3d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = True):
    """3-D max pooling returning ``(output, indices)``, each index flat into ``D·H·W``."""
    out = _conv3d.max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode)
    x = input if input.ndim == 5 else input.unsqueeze(0)
    k = _tuple(kernel_size, 3)
    s = k if stride is None or stride == [] or stride == () else _tuple(stride, 3)
    p, d = _tuple(padding, 3), _tuple(dilation, 3)
    o = out if out.ndim == 5 else out.unsqueeze(0)
    idx = _max_indices_3d(x._data, k, s, p, d, tuple(o.shape[2:]))
    idx_t = Tensor._wrap(idx if input.ndim == 5 else idx[0])
    return out, idx_t


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """3-D max pooling, as ``torch.nn.functional.max_pool3d`` (indices flat into ``D·H·W``)."""
    if return_indices:
        return max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return _conv3d.max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = True):
    """``max_pool1d(..., return_indices=True)``."""
    return _conv.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = True):
    """``max_pool2d(..., return_indices=True)``."""
    return _conv.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size, return_indices: bool = True):
    """``adaptive_max_pool1d(..., return_indices=True)``."""
    return _conv.adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size, return_indices: bool = True):
    """``adaptive_max_pool2d(..., return_indices=True)``."""
    return _conv.adaptive_max_pool2d(input, output_size, True)


# ------------------------------------------------------------------------------- unpooling


def _max_unpool(op: str, nd: int, input: Tensor, indices: Tensor, kernel_size, stride, padding,
                output_size) -> Tensor:
    k = _tuple(kernel_size, nd)
    s = k if stride is None else _tuple(stride, nd)
    p = _tuple(padding, nd)
    unbatched = input.ndim == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    idx = indices.unsqueeze(0) if unbatched else indices
    if x.ndim != nd + 2:
        raise RuntimeError(f"{op}: Expected {nd + 1}D or {nd + 2}D input, got input of size "
                           f"{list(input.shape)}")
    if tuple(idx.shape) != tuple(x.shape):
        raise RuntimeError(f"{op}: Expected shape of indices to be same as that of the input "
                           f"tensor ({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    default = tuple((x.shape[2 + i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(nd))
    if output_size is None:
        size = default
    else:
        size = tuple(int(v) for v in output_size)[-nd:]
        for i in range(nd):
            lo, hi = default[i] - s[i], default[i] + s[i]
            if not lo < size[i] < hi:
                raise ValueError(f"invalid output_size \"{list(output_size)}\" (dim {i} must be "
                                 f"between {lo} and {hi})")
    n, c = x.shape[0], x.shape[1]
    total = int(np.prod(size))
    in_count = int(np.prod(x.shape[2:]))
    flat_idx = idx.reshape(n, c, in_count)
    if flat_idx.numel() and (int(flat_idx._data.max()) >= total or int(flat_idx._data.min()) < 0):
        raise RuntimeError(f"{op}: Found an invalid max index: {int(flat_idx._data.max())} "
                           f"(output volumes are of size {'x'.join(map(str, size))})")
    zeros = Tensor._wrap(get_array_module(x._data).zeros((n, c, total), dtype=x._data.dtype))
    out = scatter(zeros, 2, flat_idx, x.reshape(n, c, in_count)).reshape(n, c, *size)
    return out.squeeze(0) if unbatched else out


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The inverse of ``max_pool1d``: each value put back at its index, zeros elsewhere."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The inverse of ``max_pool2d``: each value put back at its index, zeros elsewhere."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The inverse of ``max_pool3d``: each value put back at its index, zeros elsewhere."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)


# ----------------------------------------------------------------------------------- sampling


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A differentiable sample from the categorical distribution of ``logits``:
    ``softmax((logits + Gumbel noise) / tau)``; ``hard=True`` returns one-hot samples whose
    gradient is the soft sample's (straight-through)."""
    rng = nn_ops._random.get_rng(None)
    noise = -np.log(rng.exponential(size=tuple(logits.shape)))
    gumbels = (logits + _const(noise.astype(logits._data.dtype), logits)) / tau
    y = nn_ops.softmax(gumbels, dim)
    if not hard:
        return y
    xp = get_array_module(y._data)
    d = dim % y.ndim
    index = xp.argmax(y._data, axis=d)
    one_hot = xp.zeros_like(y._data)
    xp.put_along_axis(one_hot, xp.expand_dims(index, d), 1.0, axis=d)
    return Tensor._wrap(one_hot) - y.detach() + y


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid ``(N, H, W, 2)`` (or ``(N, D, H, W, 3)``) of the affine maps ``theta``
    ``(N, 2, 3)`` (``(N, 3, 4)``), in the normalised ``[-1, 1]`` coordinates ``grid_sample``
    reads."""
    align_corners = bool(align_corners)
    size = [int(v) for v in size]
    spatial = size[2:]
    nd = len(spatial)
    if nd not in (2, 3):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (nd, nd + 1) or theta.shape[0] != size[0]:
        raise ValueError(f"Expected a batch of {nd}D affine matrices of shape Nx{nd}x{nd + 1} for "
                         f"size {size}. Got {list(theta.shape)}.")

    def line(n):
        if n <= 1:
            return np.zeros(max(n, 0))
        steps = np.linspace(-1.0, 1.0, n)
        return steps if align_corners else steps * (n - 1) / n

    axes = [line(n) for n in reversed(spatial)]  # x (width) first
    mesh = np.meshgrid(*axes[::-1], indexing="ij")[::-1]  # coordinates as (x, y[, z])
    base = np.stack(list(mesh) + [np.ones(tuple(spatial))], -1)
    base_t = _const(base.reshape(1, -1, nd + 1).astype(theta._data.dtype), theta)
    grid = base_t.matmul(theta.transpose(1, 2))
    return grid.reshape(size[0], *spatial, nd)


def _unnormalize(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    if twice_low == twice_high:
        return coord * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    coord = (coord - low).abs()
    flips = Tensor._wrap(get_array_module(coord._data).floor(coord._data / span))
    extra = coord - flips * span
    even = Tensor._wrap((flips._data % 2) == 0)
    return where(even, extra + low, span - extra + low)


def _source(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    c = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        c = c.clamp(0, size - 1)
    elif padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (size - 1)) if align_corners else _reflect(c, -1, 2 * size - 1)
        c = c.clamp(0, size - 1)
    return c


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` ``(N, C, H, W)`` at the normalised ``(x, y)`` locations of ``grid``
    ``(N, H_out, W_out, 2)`` (or ``(N, C, D, H, W)`` at ``(x, y, z)`` of ``(N, D_out, H_out,
    W_out, 3)``), (tri)linearly or at the nearest pixel; outside it is zeros, the border value
    or the reflection (``padding_mode``)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if input.ndim not in (4, 5) or mode == "bicubic" and input.ndim != 4:
        raise NotImplementedError(f"grid_sample: ember supports 4-D and 5-D input ('bicubic' on "
                                  f"4-D only), got {input.ndim}-D input with mode {mode!r}")
    nd = input.ndim - 2
    if grid.ndim != input.ndim or grid.shape[-1] != nd or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd} in last dimension "
                           f"and the batch size of input, but got grid with sizes "
                           f"{list(grid.shape)} for input {list(input.shape)}")
    align_corners = bool(align_corners)
    n, c = input.shape[0], input.shape[1]
    sizes = tuple(input.shape[2:])  # (H, W) or (D, H, W)
    out_sp = tuple(grid.shape[1:-1])
    count = int(np.prod(out_sp))
    # grid's last axis lists x (width) first: coordinate k belongs to spatial axis nd-1-k
    if mode == "bicubic":
        return _grid_sample_bicubic(input, grid, padding_mode, align_corners)
    coords = [_source(grid[..., nd - 1 - axis], sizes[axis], padding_mode, align_corners)
              for axis in range(nd)]
    xp = get_array_module(input._data)
    flat = input.reshape(n, c, int(np.prod(sizes)))

    def tap(positions):
        """Values at integer positions (arrays, one per spatial axis), zero outside."""
        inside = True  # a Python bool, not a NumPy one, which CuPy would refuse to combine
        lin = 0
        for axis, pos in enumerate(positions):
            inside = inside & (pos >= 0) & (pos < sizes[axis])
            lin = lin * sizes[axis] + xp.clip(pos, 0, sizes[axis] - 1)
        lin = lin.astype(np.int64).reshape(n, 1, count)
        index = Tensor._wrap(xp.broadcast_to(lin, (n, c, count)).copy())
        vals = gather(flat, 2, index).reshape(n, c, *out_sp)
        mask = Tensor._wrap(xp.asarray(inside)[:, None].astype(input._data.dtype))
        return vals * mask

    if mode == "nearest":
        # round half to even, as PyTorch's nearbyint
        return tap([xp.rint(cd._data).astype(np.int64) for cd in coords])
    lows = [xp.floor(cd._data).astype(np.int64) for cd in coords]
    fracs = [(cd - Tensor._wrap(lo.astype(cd._data.dtype))).unsqueeze(1)
             for cd, lo in zip(coords, lows)]
    out = None
    for corner in np.ndindex(*(2,) * nd):
        weight = None
        for axis, bit in enumerate(corner):
            w = fracs[axis] if bit else 1 - fracs[axis]
            weight = w if weight is None else weight * w
        term = tap([lo + bit for lo, bit in zip(lows, corner)]) * weight
        out = term if out is None else out + term
    return out


def _host_bound(pos: np.ndarray, size: int, padding_mode: str, align_corners: bool):
    """Integer tap positions after the padding rule (PyTorch's compute_coordinates)."""
    pos = pos.astype(np.float64)
    if padding_mode == "border":
        pos = np.clip(pos, 0, size - 1)
    elif padding_mode == "reflection":
        low, high = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        if low == high:
            pos = np.zeros_like(pos)
        else:
            lo, span = low / 2, (high - low) / 2
            a = np.abs(pos - lo)
            flips = np.floor(a / span)
            extra = a - flips * span
            pos = np.where(flips % 2 == 0, extra + lo, span - extra + lo)
        pos = np.clip(pos, 0, size - 1)
    return pos.astype(np.int64)


def _grid_sample_bicubic(input: Tensor, grid: Tensor, padding_mode: str,
                         align_corners: bool) -> Tensor:
    """Bicubic ``grid_sample`` of 4-D input: 16 taps weighted by the cubic convolution
    (A = -0.75) of the fractional position, each tap placed by the padding rule."""
    n, c, h, w = input.shape
    ho, wo = grid.shape[1], grid.shape[2]
    ix = _unnormalize(grid[..., 0], w, align_corners)
    iy = _unnormalize(grid[..., 1], h, align_corners)
    x0 = np.floor(np.asarray(ix.detach().cpu().numpy()))
    y0 = np.floor(np.asarray(iy.detach().cpu().numpy()))
    tx = (ix - _const(x0.astype(ix._data.dtype), ix)).unsqueeze(1)
    ty = (iy - _const(y0.astype(iy._data.dtype), iy)).unsqueeze(1)
    a = -0.75

    def coeffs(t):
        def near(v):
            return ((a + 2) * v - (a + 3)) * v * v + 1

        def far(v):
            return ((a * v - 5 * a) * v + 8 * a) * v - 4 * a
        return [far(t + 1), near(t), near(1 - t), far(2 - t)]

    wx, wy = coeffs(tx), coeffs(ty)
    flat = input.reshape(n, c, h * w)
    out = None
    for j in range(4):
        for i in range(4):
            px, py = x0 - 1 + i, y0 - 1 + j
            if padding_mode == "zeros":
                inside = (px >= 0) & (px < w) & (py >= 0) & (py < h)
                bx, by = np.clip(px, 0, w - 1).astype(np.int64), np.clip(py, 0, h - 1).astype(
                    np.int64)
            else:
                bx = _host_bound(px, w, padding_mode, align_corners)
                by = _host_bound(py, h, padding_mode, align_corners)
                inside = np.ones(px.shape, dtype=bool)
            lin = (by * w + bx).reshape(n, 1, ho * wo)
            index = _const(np.broadcast_to(lin, (n, c, ho * wo)).copy(), input)
            vals = gather(flat, 2, index).reshape(n, c, ho, wo)
            mask = _const(inside[:, None].astype(input._data.dtype), input)
            term = vals * mask * wx[i] * wy[j]
            out = term if out is None else out + term
    return out


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor, *,
                         linear_bias: Tensor | None = None, weight: Tensor | None = None,
                         reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0, options=None) -> Tensor:
    """``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)`` for a
    ``(C, in_features)`` weight (the reference form; no chunking)."""
    if linear_weight.ndim != 2:
        raise NotImplementedError("linear_cross_entropy: ember supports a 2-D linear_weight "
                                  f"(C, in_features), got shape {list(linear_weight.shape)}")
    logits = input.matmul(linear_weight.t())
    if linear_bias is not None:
        logits = logits + linear_bias
    if logits.ndim > 2:  # (N, ..., C) -> (N, C, ...) as cross_entropy takes classes on dim 1
        logits = logits.movedim(-1, 1)
    return nn_ops.cross_entropy(logits, target, weight,
                                ignore_index=-100 if ignore_index is None else ignore_index,
                                reduction=reduction, label_smoothing=label_smoothing)


__all__ = ["adaptive_max_pool3d", "adaptive_max_pool3d_with_indices",
           "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_pool3d", "max_pool3d_with_indices",
           "max_pool1d_with_indices", "max_pool2d_with_indices",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "max_unpool1d", "max_unpool2d", "max_unpool3d", "gumbel_softmax", "affine_grid",
           "grid_sample", "linear_cross_entropy"]



# ------------------------------------------------------------------------ fractional pooling


def _intervals(sample: np.ndarray, in_len: int, out_len: int, k: int) -> np.ndarray:
    """PyTorch's pseudo-random window starts: ``floor((i + u)·a) - floor(u·a)`` with
    ``a = (in - k) / (out - 1)``, the last window flush with the end."""
    seq = np.zeros(sample.shape + (out_len,), dtype=np.int64)
    if out_len > 1:
        alpha = (in_len - k) / (out_len - 1)
        i = np.arange(out_len - 1)
        seq[..., :-1] = (np.floor((i + sample[..., None]) * alpha)
                         - np.floor(sample[..., None] * alpha)).astype(np.int64)
    seq[..., -1] = in_len - k
    return seq


def _fractional(op: str, nd: int, input: Tensor, kernel_size, output_size, output_ratio,
                return_indices: bool, _random_samples):
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    unbatched = input.ndim == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    if x.ndim != nd + 2:
        raise RuntimeError(f"{op}: Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    k = _tuple(kernel_size, nd)
    spatial = tuple(x.shape[2:])
    if output_size is None:
        ratio = output_ratio if isinstance(output_ratio, (tuple, list)) else (output_ratio,) * nd
        out = tuple(int(s * r) for s, r in zip(spatial, ratio))
    else:
        out = _tuple(output_size, nd)
    for i in range(nd):
        if out[i] + k[i] - 1 > spatial[i]:
            raise RuntimeError(f"{op}(): pool size {k[i]} too large relative to input size "
                               f"{spatial[i]} and output size {out[i]} in dimension {i}")
    n, c = x.shape[0], x.shape[1]
    if _random_samples is None:
        samples = nn_ops._random.get_rng(None).random((n, c, nd))
    else:
        samples = _random_samples.detach().cpu().numpy().astype(np.float64)
        if unbatched and samples.ndim == 2:
            samples = samples[None]
    # sample[..., 0] places the last axis (width), sample[..., 1] the one before, ... in 2-d;
    # the 3-d kernel takes them in axis order
    if nd == 2:
        seqs = [_intervals(samples[..., 1], spatial[0], out[0], k[0]),
                _intervals(samples[..., 0], spatial[1], out[1], k[1])]
    else:
        seqs = [_intervals(samples[..., i], spatial[i], out[i], k[i]) for i in range(3)]
    strides = np.cumprod((1,) + spatial[::-1])[::-1][1:]  # flat stride of each spatial axis
    flat = x.reshape(n, c, int(np.prod(spatial)))
    taps = []
    for offsets in np.ndindex(*k):
        index = np.zeros((n, c) + out, dtype=np.int64)
        for axis in range(nd):
            pos = seqs[axis] + offsets[axis]  # (N, C, out_axis)
            shape = [n, c] + [1] * nd
            shape[2 + axis] = out[axis]
            index = index + pos.reshape(shape) * int(strides[axis])
        taps.append(index.reshape(n, c, int(np.prod(out))))
    stacked_index = np.stack(taps, 0)
    xp = get_array_module(x._data)
    values = [gather(flat, 2, Tensor._wrap(backend.move_array(t, x.device))) for t in taps]
    from ember.ops.shape import stack as _stack

    tapped = _stack(values, 0)
    result = tapped.amax(0).reshape(n, c, *out)
    if unbatched:
        result = result.squeeze(0)
    if not return_indices:
        return result
    data = tapped._data
    best = xp.argmax(xp.where(xp.isnan(data), xp.inf, data), axis=0)
    chosen = xp.take_along_axis(xp.asarray(stacked_index), best[None], 0)[0]
    idx = Tensor._wrap(chosen.reshape((n, c) + out))
    return result, (idx.squeeze(0) if unbatched else idx)


def fractional_max_pool2d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    """Max over pseudo-randomly placed, overlapping ``kernel_size`` windows reaching
    ``output_size`` (or ``output_ratio`` of the input), as PyTorch's (Graham, 2014)."""
    return _fractional("fractional_max_pool2d", 2, input, kernel_size, output_size,
                       output_ratio, return_indices, _random_samples)


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size, output_size=None,
                                       output_ratio=None, return_indices: bool = True,
                                       _random_samples=None):
    """``fractional_max_pool2d(..., return_indices=True)``."""
    return _fractional("fractional_max_pool2d", 2, input, kernel_size, output_size,
                       output_ratio, True, _random_samples)


def fractional_max_pool3d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    """3-d :func:`fractional_max_pool2d`."""
    return _fractional("fractional_max_pool3d", 3, input, kernel_size, output_size,
                       output_ratio, return_indices, _random_samples)


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size, output_size=None,
                                       output_ratio=None, return_indices: bool = True,
                                       _random_samples=None):
    """``fractional_max_pool3d(..., return_indices=True)``."""
    return _fractional("fractional_max_pool3d", 3, input, kernel_size, output_size,
                       output_ratio, True, _random_samples)


__all__ += ["fractional_max_pool2d", "fractional_max_pool2d_with_indices",
            "fractional_max_pool3d", "fractional_max_pool3d_with_indices"]
