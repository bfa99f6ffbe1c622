"""3-d convolution and pooling over ``(N, C, D, H, W)``, built from the 2-d ops of
:mod:`ember.ops.conv`.

A 3-d convolution is a sum over the kernel's depth taps of 2-d convolutions: for tap ``kd`` the
input frames ``d·stride + kd·dilation`` (all output depths at once, folded into the batch) meet
the weight slice ``w[:, :, kd]``. Max and average pooling, plain and adaptive, are separable:
the box maximum (or mean, with PyTorch's per-axis divisor) is the depth-wise pool of the
(height, width) pool. Everything is made of differentiable ops, so gradients come for free.
"""

from __future__ import annotations

import numpy as np

from ember import backend, creation
from ember.ops import conv as _conv
from ember.ops.indexing import index_add, index_select
from ember.ops.shape import pad as _pad
from ember.tensor import Tensor


def _triple(value, name: str, op: str) -> tuple:
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            return (int(value[0]),) * 3
        if len(value) != 3:
            raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of "
                               f"3 values to match the convolution dimensions, but got "
                               f"{name}={list(value)}")
        return tuple(int(v) for v in value)
    return (int(value),) * 3


def _batched5(op: str, x: Tensor):
    if x.ndim not in (4, 5):
        raise RuntimeError(f"{op}: Expected 4D (unbatched) or 5D (batched) input, but got input "
                           f"of size: {list(x.shape)}")
    return (x.unsqueeze(0), True) if x.ndim == 4 else (x, False)


def _index(values, like: Tensor) -> Tensor:
    return Tensor._wrap(backend.move_array(np.asarray(values, dtype=np.int64), like.device))


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """3-D convolution of ``(N, C_in, D, H, W)`` with ``(C_out, C_in/groups, kD, kH, kW)``, as
    ``torch.nn.functional.conv3d`` (``padding`` ints, ``'same'`` or ``'valid'``)."""
    x, unbatched = _batched5("conv3d", input)
    if weight.ndim != 5:
        raise RuntimeError(f"conv3d: expected weight to be 5-dimensional, got weight of size "
                           f"{list(weight.shape)}")
    n, c, d, h, w = x.shape
    c_out, c_per_group, kd, kh, kw = weight.shape
    if c != c_per_group * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{list(x.shape)} to have {c_per_group * groups} channels, but got "
                           f"{c} channels instead")
    s = _triple(stride, "stride", "conv3d")
    dl = _triple(dilation, "dilation", "conv3d")
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * 3
        elif padding == "same":
            if any(v != 1 for v in s):
                raise ValueError("padding='same' is not supported for strided convolutions")
            pads = [(dl[i] * (k - 1) // 2, dl[i] * (k - 1) - dl[i] * (k - 1) // 2)
                    for i, k in enumerate((kd, kh, kw))]
        else:
            raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                             "{'valid', 'same'}")
    else:
        pads = [(p, p) for p in _triple(padding, "padding", "conv3d")]
    flat = [v for pair in reversed(pads) for v in pair]
    if any(flat):
        x = _pad(x, tuple(flat))
    d_in = x.shape[2]
    d_out = (d_in - dl[0] * (kd - 1) - 1) // s[0] + 1
    if d_out <= 0 or x.shape[3] < dl[1] * (kh - 1) + 1 or x.shape[4] < dl[2] * (kw - 1) + 1:
        raise RuntimeError(f"conv3d: Calculated padded input size per channel: "
                           f"({x.shape[2]} x {x.shape[3]} x {x.shape[4]}). Kernel size: "
                           f"({dl[0] * (kd - 1) + 1} x {dl[1] * (kh - 1) + 1} x "
                           f"{dl[2] * (kw - 1) + 1}). Kernel size can't be greater than actual "
                           "input size")
    out = None
    for tap in range(kd):
        frames = np.arange(d_out) * s[0] + tap * dl[0]
        xs = index_select(x, 2, _index(frames, x))  # (N, C, D_out, H, W)
        xs = xs.permute(0, 2, 1, 3, 4).reshape(n * d_out, c, x.shape[3], x.shape[4])
        y = _conv.conv2d(xs, weight[:, :, tap], None, s[1:], 0, dl[1:], groups)
        out = y if out is None else out + y
    out = out.reshape(n, d_out, c_out, out.shape[-2], out.shape[-1]).permute(0, 2, 1, 3, 4)
    if bias is not None:
        out = out + bias.reshape(1, c_out, 1, 1, 1)
    return out.squeeze(0) if unbatched else out


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 3-D convolution (the gradient of :func:`conv3d` with respect to its input),
    weight ``(C_in, C_out/groups, kD, kH, kW)``, as ``torch.nn.functional.conv_transpose3d``."""
    x, unbatched = _batched5("conv_transpose3d", input)
    if weight.ndim != 5:
        raise RuntimeError(f"conv_transpose3d: expected weight to be 5-dimensional, got weight "
                           f"of size {list(weight.shape)}")
    n, c, d, h, w = x.shape
    c_in, c_out_per_group, kd, kh, kw = weight.shape
    if c != c_in:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(x.shape)} to have {c_in} channels, but got {c} channels "
                           "instead")
    s = _triple(stride, "stride", "conv_transpose3d")
    p = _triple(padding, "padding", "conv_transpose3d")
    op = _triple(output_padding, "output_padding", "conv_transpose3d")
    dl = _triple(dilation, "dilation", "conv_transpose3d")
    for i in range(3):
        if op[i] >= max(s[i], dl[i]):
            raise RuntimeError("conv_transpose3d: output padding must be smaller than either "
                               f"stride or dilation, but got output_padding={list(op)}, "
                               f"stride={list(s)}, dilation={list(dl)}")
    c_out = c_out_per_group * groups
    d_out = (d - 1) * s[0] - 2 * p[0] + dl[0] * (kd - 1) + op[0] + 1
    frames = x.permute(0, 2, 1, 3, 4).reshape(n * d, c, h, w)
    out = None
    for tap in range(kd):
        y = _conv.conv_transpose2d(frames, weight[:, :, tap], None, s[1:], p[1:], op[1:], groups,
                                   dl[1:])
        ho, wo = y.shape[-2], y.shape[-1]
        y = y.reshape(n, d, c_out, ho, wo)
        if out is None:
            out = creation.zeros(n, d_out, c_out, ho, wo, dtype=y.dtype, device=y.device)
        target = np.arange(d) * s[0] + tap * dl[0] - p[0]
        keep = (target >= 0) & (target < d_out)
        if not keep.any():
            continue
        if not keep.all():
            y = index_select(y, 1, _index(np.nonzero(keep)[0], y))
        out = index_add(out, 1, _index(target[keep], y), y)
    out = out.permute(0, 2, 1, 3, 4)
    if bias is not None:
        out = out + bias.reshape(1, c_out, 1, 1, 1)
    return out.squeeze(0) if unbatched else out


def _separable(x: Tensor, plane_op, depth_op) -> Tensor:
    """Apply ``plane_op`` over (H, W) and then ``depth_op`` over D of ``(N, C, D, H, W)``; both
    take and return 4-D ``(N, C', A, B)`` tensors pooled over their last two axes."""
    n, c, d, h, w = x.shape
    planes = plane_op(x.reshape(n, c * d, h, w))
    ho, wo = planes.shape[-2], planes.shape[-1]
    depth = depth_op(planes.reshape(n, c, d, ho * wo))
    return depth.reshape(n, c, depth.shape[2], ho, wo)


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """3-D max pooling, as ``torch.nn.functional.max_pool3d`` (``stride`` defaults to
    ``kernel_size``; padding counts as -inf)."""
    if return_indices:
        raise NotImplementedError("max_pool3d: return_indices=True is not supported by ember")
    x, unbatched = _batched5("max_pool3d", input)
    k = _triple(kernel_size, "kernel_size", "max_pool3d")
    s = k if stride is None or stride == [] or stride == () else _triple(stride, "stride",
                                                                        "max_pool3d")
    p = _triple(padding, "padding", "max_pool3d")
    dl = _triple(dilation, "dilation", "max_pool3d")
    out = _separable(
        x,
        lambda t: _conv.max_pool2d(t, k[1:], s[1:], p[1:], dl[1:], ceil_mode),
        lambda t: _conv.max_pool2d(t, (k[0], 1), (s[0], 1), (p[0], 0), (dl[0], 1), ceil_mode))
    return out.squeeze(0) if unbatched else out


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """3-D average pooling, as ``torch.nn.functional.avg_pool3d`` (same divisor rules)."""
    x, unbatched = _batched5("avg_pool3d", input)
    k = _triple(kernel_size, "kernel_size", "avg_pool3d")
    s = k if stride is None or stride == [] or stride == () else _triple(stride, "stride",
                                                                        "avg_pool3d")
    p = _triple(padding, "padding", "avg_pool3d")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool3d: divisor must be not zero")
    # with an override, the plane pass sums (divisor 1) and the depth pass divides once
    plane_div = None if divisor_override is None else 1
    out = _separable(
        x,
        lambda t: _conv.avg_pool2d(t, k[1:], s[1:], p[1:], ceil_mode, count_include_pad,
                                   plane_div),
        lambda t: _conv.avg_pool2d(t, (k[0], 1), (s[0], 1), (p[0], 0), ceil_mode,
                                   count_include_pad, divisor_override))
    return out.squeeze(0) if unbatched else out


def _adaptive_sizes(x: Tensor, output_size) -> tuple:
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 3:
            raise ValueError(f"adaptive pool 3d: output_size must be 3 values, got "
                             f"{output_size}")
        sizes = output_size
    else:
        sizes = (output_size,) * 3
    return tuple(int(x.shape[-3 + i]) if v is None else int(v) for i, v in enumerate(sizes))


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Average over PyTorch's adaptive windows to reach ``output_size`` ``(D, H, W)``."""
    x, unbatched = _batched5("adaptive_avg_pool3d", input)
    od, oh, ow = _adaptive_sizes(x, output_size)
    out = _separable(x, lambda t: _conv.adaptive_avg_pool2d(t, (oh, ow)),
                     lambda t: _conv.adaptive_avg_pool2d(t, (od, t.shape[-1])))
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over PyTorch's adaptive windows to reach ``output_size`` ``(D, H, W)``."""
    if return_indices:
        raise NotImplementedError("adaptive_max_pool3d: return_indices=True is not supported by "
                                  "ember")
    x, unbatched = _batched5("adaptive_max_pool3d", input)
    od, oh, ow = _adaptive_sizes(x, output_size)
    out = _separable(x, lambda t: _conv.adaptive_max_pool2d(t, (oh, ow)),
                     lambda t: _conv.adaptive_max_pool2d(t, (od, t.shape[-1])))
    return out.squeeze(0) if unbatched else out


__all__ = ["conv3d", "conv_transpose3d", "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d",
           "adaptive_max_pool3d"]
