"""Convolution and pooling: conv1d/2d, their transposes, max/avg/adaptive pooling, unfold/fold.

Every op here is a linear (or piecewise-linear) map computed as one large matrix product over an
im2col copy of a strided window view, or as a handful of strided slices (one per kernel position).
Each op and its adjoint are written as a pair of recorded ops that call each other in their
backward, so gradients of any order come from the same code:

* ``conv`` (input-gradient) -> ``conv_transpose`` and ``conv`` (weight-gradient) -> ``_weight_grad``;
* ``_weight_grad`` differentiates to ``conv_transpose`` and ``conv``;
* pooling ``_gather`` (a window reduction) <-> ``_scatter`` (its adjoint).

Memory layout. Convolutions compute in "channels-last" order: the GEMM is
``patches (N*OH*OW, K) @ weight (K, O)``, so the result comes out as (N, OH, OW, O) and is returned
as an (N, O, OH, OW) transposed *view* (PyTorch's ``channels_last`` memory format) rather than
paying for a copy. Element-wise layers keep that layout, pooling keeps it, and the next
convolution reads its patches from it with long contiguous runs (the kernel's width times the
channels), so a CNN stays channels-last end to end. Values and shapes are exactly PyTorch's; only
the strides differ. Each gradient is one more product: the weight gradient
``grad (O, N*OH*OW) @ patches``, the input gradient ``grad @ weight`` followed by col2im, which adds
one strided slice per kernel offset.
"""

from __future__ import annotations

import numpy as np

from ember.ops.common import Tensor, get_array_module, record
from ember.ops.dims import ntuple
from ember.threads import blas_thread_count

# ------------------------------------------------------------------------------ argument helpers


def _to4(a, nd: int):
    """View a (N, C, L) array as (N, C, 1, L) so one 2-D implementation serves 1-D ops."""
    return a[:, :, None, :] if nd == 1 else a


def _from4(a, nd: int):
    return a[:, :, 0, :] if nd == 1 else a


def _channels_last(a) -> bool:
    """True when a 4-D (N, C, H, W) array is stored as (N, H, W, C) (what convolutions return)."""
    return a.transpose(0, 2, 3, 1).flags.c_contiguous


def _axis_order(a) -> tuple:
    """``a``'s axes from the outermost in memory to the innermost."""
    return tuple(sorted(range(a.ndim), key=lambda i: -a.strides[i]))


def _zeros_laid_out(xp, shape, dtype, like, zero: bool = True):
    """Zeros (or, with ``zero=False``, uninitialised memory) of logical ``shape`` whose axes are
    stored in the same order as ``like``'s."""
    order = _axis_order(like)
    buf = (xp.zeros if zero else xp.empty)(tuple(shape[i] for i in order), dtype=dtype)
    return buf.transpose(tuple(order.index(i) for i in range(len(shape))))


def _pad4(xp, a, pad, value=0.0):
    """Pad the last two axes by (top, bottom, left, right), keeping the memory layout."""
    t, b, l, r = pad
    if not (t or b or l or r):
        return a
    n, c, h, w = a.shape
    out = _zeros_laid_out(xp, (n, c, h + t + b, w + l + r), a.dtype, a)
    if value != 0.0:
        out.fill(value)
    out[:, :, t:t + h, l:l + w] = a
    return out


def _window_view(a, k, s, d, out_hw):
    """The (N, C, KH, KW, OH, OW) strided view of padded ``a`` holding every window (no copy)."""
    xp = get_array_module(a)
    sn, sc, sh, sw = a.strides
    n, c = a.shape[:2]
    return xp.lib.stride_tricks.as_strided(
        a, (n, c, k[0], k[1], out_hw[0], out_hw[1]),
        (sn, sc, sh * d[0], sw * d[1], sh * s[0], sw * s[1]))


def _tap(k_index, d, s, out_len):
    """The slice of a padded axis read by kernel tap ``k_index`` for all ``out_len`` outputs."""
    start = k_index * d
    return slice(start, start + s * (out_len - 1) + 1, s)


class _Geom:
    """Geometry of a convolution: kernel, stride, (top, bottom, left, right) padding, dilation."""

    __slots__ = ("nd", "k", "stride", "pad", "dil", "groups")

    def __init__(self, nd, k, stride, pad, dil, groups):
        self.nd, self.k, self.stride, self.pad, self.dil, self.groups = nd, k, stride, pad, dil, groups

    def out_hw(self, h, w):
        (kh, kw), (sh, sw), (t, b, l, r), (dh, dw) = self.k, self.stride, self.pad, self.dil
        return ((h + t + b - dh * (kh - 1) - 1) // sh + 1, (w + l + r - dw * (kw - 1) - 1) // sw + 1)


# ------------------------------------------------------------------------- array-level kernels
#
# Patches ("cols") come in one of two forms, chosen by the input's layout:
# * rows (2-D): (N*OH*OW, KH*KW*C), one patch per row, taps in (kh, kw, c) order. Copied from a
#   channels-last input, each row is KH runs of KW*C contiguous values. Used when groups == 1.
# * channels (3-D): (G, Cg*KH*KW, N*OH*OW), taps in (c, kh, kw) order: copied from a channels-first
#   input in runs of OW values. Used for groups > 1 and single-channel (first layer) inputs.
#
# The products run over blocks of whole images whose patches take about _BLOCK_BYTES, so that a
# block's patches are still in the cache when the GEMM reads them (and col2im's sums when it adds
# them up): with one BLAS thread, measured ~35% faster than one product over all the patches,
# which are then never held whole (several threads: see _GEMM_BLOCK_BYTES). The weight gradient
# copies the patches again, block by block, rather than keeping them from the forward pass: that
# costs less than reading them back from memory. Whatever combines blocks (weight and bias
# gradients) adds their results in block order.
#
# Orientation of the products. A @ B can also be computed as (B.T @ A.T).T; OpenBLAS is fastest
# when neither operand is a transposed view, and otherwise about even. So the rule: write each
# product with the fewest transposed operands, and where both orientations transpose one, keep
# the one that yields the layout needed next (channels-last outputs). Measured per block on this
# machine (AVX-512 OpenBLAS, one thread): the first layer's weight gradient (patches (9, P) @
# grad (P, 32)) 137 us against 213 us for grad.T @ patches.T, grouped weight gradients 305
# against 479 us, the grouped forward product written straight into the output rows 260 against
# 1180 us; the other forward, input-gradient and weight-gradient products within 5% either way
# (kept as they are).
_BLOCK_BYTES = 1 << 19
# Blocks for the products themselves. With one BLAS thread, small blocks keep the patches and
# col2im's sums in the cache, but a product over 512 KiB of patches is too small for OpenBLAS to
# split well over two threads. Measured on the benchmark CNN's second layer (batch 64), two
# threads, 512 KiB -> 16 MiB blocks: forward 2.8 -> 2.1 ms, input gradient 4.3 -> 3.3 ms, weight
# gradient 3.2 -> 2.6 ms; one thread, on the lab CNN's second layer: forward 5.5 -> 6.0 ms, input
# gradient 7.1 -> 7.9 ms, and a lab epoch 2% slower with 16 MiB weight-gradient blocks. So the
# products (and the bias gradient's matrix-vector products: 0.34 -> 0.23 ms for the first layer
# at two threads) take 16 MiB blocks only when the BLAS has several threads. The weight and bias
# gradients add their blocks' parts, so their last bits depend on the thread count, as
# PyTorch's do; with one thread they are those of the 512 KiB blocks of earlier versions.
_GEMM_BLOCK_BYTES = 1 << 24


def _image_blocks(n: int, bytes_per_image: int, xp, target: int = _BLOCK_BYTES) -> list:
    """``(start, stop)`` ranges of images covering ``range(n)``, as few as keep each block within
    about ``target`` bytes and of equal sizes (to within one image), in an even count (as in
    earlier versions, whose weight-gradient sums these blocks reproduce); one block off the CPU."""
    if xp is not np:
        # an empty batch has no block, as on the CPU (CuPy cannot reshape its empty patches)
        return [(0, n)] if n else []
    step = max(1, target // max(1, bytes_per_image))
    count = -(-n // step)
    if count > 1:
        count = min(n, count + count % 2)
    bounds = [n * i // count for i in range(count + 1)] if n else []
    return list(zip(bounds[:-1], bounds[1:]))


def _product_blocks_target() -> int:
    """Block size for the products: see _GEMM_BLOCK_BYTES."""
    return _BLOCK_BYTES if blas_thread_count() == 1 else _GEMM_BLOCK_BYTES


def _each_block(fn, blocks) -> list:
    """``fn(start, stop)`` for each block of images, in order."""
    return [fn(start, stop) for start, stop in blocks]


def _sum_in_block_order(parts: list):
    """The per-block partial results added into the first, in block order."""
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


def _rows_layout(x4, groups: int) -> bool:
    return groups == 1 and x4.shape[1] > 1 and _channels_last(x4)


def _im2col(xpad, geom: _Geom, out_hw, rows: bool):
    """The patches of an already padded (N, C, H, W) array, in row form or channel form (see
    above): one copy."""
    v = _window_view(xpad, geom.k, geom.stride, geom.dil, out_hw)  # (N, C, KH, KW, OH, OW)
    p = xpad.shape[0] * out_hw[0] * out_hw[1]
    if rows:
        return v.transpose(0, 4, 5, 2, 3, 1).reshape(p, -1)
    return v.transpose(1, 2, 3, 0, 4, 5).reshape(geom.groups, -1, p)


def _weight_rows(w4):
    """A conv weight (O, C, KH, KW) as (O, KH*KW*C): the tap order of row-form patches."""
    return w4.transpose(0, 2, 3, 1).reshape(w4.shape[0], -1)


def _grad_rows(g4):
    """An (N, O, OH, OW) array as (N*OH*OW, O): free for channels-last arrays, else one copy."""
    n, o, oh, ow = g4.shape
    return g4.transpose(0, 2, 3, 1).reshape(n * oh * ow, o)


def _nchw_view(rows, n, oh, ow):
    """(N*OH*OW, O) rows as the (N, O, OH, OW) view that convolutions return."""
    return rows.reshape(n, oh, ow, rows.shape[1]).transpose(0, 3, 1, 2)


def _padded_extent(in_hw, out_hw, geom: _Geom):
    (kh, kw), (sh, sw), (t, b, l, r), (dh, dw) = geom.k, geom.stride, geom.pad, geom.dil
    # The padded buffer must hold every tap even when the caller crops (output_padding < 0 cases).
    return (max(in_hw[0] + t + b, dh * (kh - 1) + sh * (out_hw[0] - 1) + 1),
            max(in_hw[1] + l + r, dw * (kw - 1) + sw * (out_hw[1] - 1) + 1))


def _col2im(cols, n, c, in_hw, out_hw, geom: _Geom, dtype):
    """Adjoint of channel-form :func:`_im2col`: sum (C, KH, KW, N, OH, OW) into (N, C, H, W)."""
    xp = get_array_module(cols)
    (kh, kw), (sh, sw), (t, _, l, _), (dh, dw) = geom.k, geom.stride, geom.pad, geom.dil
    cols = cols.reshape(c, kh, kw, n, out_hw[0], out_hw[1])
    buf = xp.zeros((c, n) + _padded_extent(in_hw, out_hw, geom), dtype=dtype)
    for i in range(kh):
        rs = _tap(i, dh, sh, out_hw[0])
        for j in range(kw):
            buf[:, :, rs, _tap(j, dw, sw, out_hw[1])] += cols[:, i, j]
    return buf[:, :, t:t + in_hw[0], l:l + in_hw[1]].transpose(1, 0, 2, 3)


def _col2im_rows_add(buf, cols, out_hw, geom: _Geom):
    """Adjoint of row-form :func:`_im2col`: add patch gradients laid out (KH*KW, n*OH*OW, C) into
    the padded channels-last ``buf`` (n, HP, WP, C), one contiguous block per kernel offset."""
    (kh, kw), (sh, sw), (dh, dw) = geom.k, geom.stride, geom.dil
    cols = cols.reshape((kh, kw, buf.shape[0]) + tuple(out_hw) + (buf.shape[3],))
    for i in range(kh):
        rs = _tap(i, dh, sh, out_hw[0])
        for j in range(kw):
            buf[:, rs, _tap(j, dw, sw, out_hw[1])] += cols[i, j]


def _conv_forward(x4, w4, b, geom: _Geom, out_hw=None):
    """conv2d on 4-D arrays: the output (N, O, OH, OW), stored channels-last."""
    xp = get_array_module(x4)
    n, _, h, w = x4.shape
    o = w4.shape[0]
    if out_hw is None:
        out_hw = geom.out_hw(h, w)
    per_image = out_hw[0] * out_hw[1]
    g = geom.groups
    rows = _rows_layout(x4, g)
    if rows:
        wm = _weight_rows(w4).T  # (KH*KW*C, O)
    elif g == 1:
        wm = w4.reshape(o, -1).T  # (C*KH*KW, O)
    else:
        wm = w4.reshape(g, o // g, -1).transpose(0, 2, 1)  # (G, Cg*KH*KW, O/G)
    out = xp.empty((n * per_image, o), dtype=x4.dtype)
    xpad = _pad4(xp, x4, geom.pad)

    def block(start, stop):
        cols = _im2col(xpad[start:stop], geom, out_hw, rows)
        dst = out[start * per_image:stop * per_image]
        if rows:
            xp.matmul(cols, wm, out=dst)
        elif g == 1:
            xp.matmul(cols[0].T, wm, out=dst)
        elif xp is np:  # straight into the channels-last rows: 4x faster than a product + copy
            xp.matmul(wm.transpose(0, 2, 1), cols, out=dst.reshape(-1, g, o // g).transpose(1, 2, 0))
        else:
            dst[...] = xp.matmul(cols.transpose(0, 2, 1), wm).transpose(1, 0, 2).reshape(-1, o)
        if b is not None:
            dst += b  # while the block is still in the cache

    _each_block(block, _image_blocks(n, per_image * w4.size // o * g * x4.itemsize, xp,
                                     _product_blocks_target()))
    return _nchw_view(out, n, out_hw[0], out_hw[1])


def _conv_input_grad(g4, w4, b, geom: _Geom, in_hw):
    """The input gradient of conv2d with weight (O, C/G, KH, KW) for output gradient ``g4``
    (N, O, OH, OW), which is also conv_transpose2d of ``g4`` with that weight (plus bias ``b``)."""
    xp = get_array_module(g4)
    n, o, oh, ow = g4.shape
    g = geom.groups
    c = w4.shape[1] * g
    if g == 1 and c > 1:
        # One product per kernel offset, (n*OH*OW, O) @ (O, C), so that each offset's patch
        # gradients are contiguous: col2im then adds long runs instead of C-long pieces.
        w_taps = w4.transpose(2, 3, 0, 1).reshape(-1, o, c)  # (KH*KW, O, C)
        t, _, l, _ = geom.pad
        buf = xp.empty((n,) + _padded_extent(in_hw, (oh, ow), geom) + (c,), dtype=g4.dtype)

        def block(start, stop):
            cols = xp.matmul(_grad_rows(g4[start:stop]), w_taps)
            dst = buf[start:stop]
            dst.fill(0)  # here rather than all at once: into the block's cache
            _col2im_rows_add(dst, cols, (oh, ow), geom)

        _each_block(block, _image_blocks(n, oh * ow * w4.size // o * g4.itemsize, xp,
                                         _product_blocks_target()))
        out = buf[:, t:t + in_hw[0], l:l + in_hw[1]].transpose(0, 3, 1, 2)
    else:
        wg = w4.reshape(g, o // g, -1).transpose(0, 2, 1)  # (G, Cg*KH*KW, O/G)
        # (G, Cg*KH*KW, N*OH*OW); the last size spelled out: CuPy cannot infer -1 for an empty batch
        cols = xp.matmul(wg, _grad_rows(g4).T.reshape(g, o // g, n * oh * ow))
        out = _col2im(cols, n, c, in_hw, (oh, ow), geom, g4.dtype)
    if b is not None:
        out += b[:, None, None]  # ``out`` is a fresh buffer
    return out


def _weight_grad_array(x4, g4, geom: _Geom, wshape):
    """d(conv)/d(weight): ``grad (O, N*OH*OW) @ patches``, summed over blocks of images and
    shaped like the weight."""
    xp = get_array_module(x4)
    n, o, oh, ow = g4.shape
    g = geom.groups
    if n == 0:
        return xp.zeros(wshape, dtype=x4.dtype)
    rows = _rows_layout(x4, g)
    per_image = oh * ow * int(np.prod(wshape[1:])) * g * x4.itemsize
    xpad = _pad4(xp, x4, geom.pad)

    def block(start, stop):
        cols = _im2col(xpad[start:stop], geom, (oh, ow), rows)
        gm = _grad_rows(g4[start:stop])
        # Each product in the orientation that reads its operands in row order (see above).
        if rows:
            return gm.T @ cols
        if g == 1:
            return (cols[0] @ gm).T
        return xp.matmul(cols, gm.reshape(-1, g, o // g).transpose(1, 0, 2)).transpose(0, 2, 1)

    blocks = _image_blocks(n, per_image, xp, _product_blocks_target())
    acc = _sum_in_block_order(_each_block(block, blocks))
    if rows:
        c, kh, kw = wshape[1:]
        return acc.reshape(o, kh, kw, c).transpose(0, 3, 1, 2).copy()
    return acc.reshape(wshape)


# ------------------------------------------------------------------------------ recorded ops


def _bias_grad(g: Tensor, nd: int) -> Tensor:
    """The bias gradient: ``g`` summed over all axes but the channels, as a matrix-vector product
    (over the channels-last rows, or the rows of a contiguous NCHW gradient) rather than a
    reduction's strided passes. A gradient op: its own backward spreads ``gb`` back over ``g``."""
    g4 = _to4(g._data, nd)
    xp = get_array_module(g4)
    n, c, h, w = g4.shape
    rows = _channels_last(g4)
    if n and (rows or g4.flags.c_contiguous):
        blocks = _image_blocks(n, h * w * c * g4.itemsize, xp, _product_blocks_target())
        ones = xp.ones(h * w * max(stop - start for start, stop in blocks), dtype=g4.dtype)

        def block(start, stop):
            if rows:
                return ones[:(stop - start) * h * w] @ _grad_rows(g4[start:stop])
            return (g4[start:stop].reshape(-1, h * w) @ ones[:h * w]).reshape(-1, c).sum(0)

        out = _sum_in_block_order(_each_block(block, blocks))
    else:
        out = g4.sum((0, 2, 3))
    shape = tuple(g.shape)
    ones = (1,) * (len(shape) - 2)

    def backward(gb, needs):
        return (gb.reshape((1, c) + ones).expand(shape),)

    return record("ConvolutionBiasBackward", out, (g,), backward)


def _conv(x: Tensor, w: Tensor, b: Tensor | None, geom: _Geom, out_hw=None, name="Convolution"):
    nd = geom.nd
    x4 = _to4(x._data, nd)
    out = _conv_forward(x4, _to4(w._data, nd), None if b is None else b._data, geom, out_hw)
    in_hw = x4.shape[2:]
    inputs = (x, w) if b is None else (x, w, b)

    def backward(g, needs):
        gx = _conv_transpose(g, w, None, geom, in_hw) if needs[0] else None
        gw = _weight_grad(x, g, geom, w.shape) if needs[1] else None
        if b is None:
            return gx, gw
        return gx, gw, (_bias_grad(g, nd) if needs[2] else None)

    return record(name, _from4(out, nd), inputs, backward, saved=(x, w))


def _conv_transpose(x: Tensor, w: Tensor, b: Tensor | None, geom: _Geom, out_hw,
                    name="ConvolutionTranspose"):
    nd = geom.nd
    out = _from4(_conv_input_grad(_to4(x._data, nd), _to4(w._data, nd),
                                  None if b is None else b._data, geom, out_hw), nd)
    in_hw = _to4(x._data, nd).shape[2:]
    inputs = (x, w) if b is None else (x, w, b)

    def backward(g, needs):
        gx = _conv(g, w, None, geom, in_hw) if needs[0] else None
        gw = _weight_grad(g, x, geom, w.shape) if needs[1] else None
        if b is None:
            return gx, gw
        return gx, gw, (_bias_grad(g, nd) if needs[2] else None)

    return record(name, out, inputs, backward, saved=(x, w))


def _weight_grad(x: Tensor, g: Tensor, geom: _Geom, wshape) -> Tensor:
    """The weight gradient of conv(x, .) for output gradient ``g``: bilinear in (x, g)."""
    nd = geom.nd
    w4shape = wshape if nd == 2 else (wshape[0], wshape[1], 1, wshape[2])
    out = _weight_grad_array(_to4(x._data, nd), _to4(g._data, nd), geom, w4shape)
    if nd == 1:
        out = out.reshape(wshape)
    in_hw = _to4(x._data, nd).shape[2:]
    out_hw = _to4(g._data, nd).shape[2:]

    def backward(gw, needs):
        gx = _conv_transpose(g, gw, None, geom, in_hw) if needs[0] else None
        gg = _conv(x, gw, None, geom, out_hw) if needs[1] else None
        return gx, gg

    return record("ConvolutionWeightBackward", out, (x, g), backward, saved=(x, g))


# -------------------------------------------------------------------------- public convolution


def _check_conv(op, x, w, b, nd, transposed, groups):
    """Validate shapes/dtypes; return ``(x, unbatched)`` with x given a batch dim if it had none."""
    if not isinstance(x, Tensor) or not isinstance(w, Tensor):
        raise TypeError(f"{op}: input and weight must be Tensors, got {type(x).__name__} and "
                        f"{type(w).__name__}")
    dims = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
    if w.ndim != nd + 2:
        layout = "(C_in, C_out/groups, kH, kW)" if transposed else "(C_out, C_in/groups, kH, kW)"
        raise RuntimeError(f"{op}: expected weight with {nd + 2} dims {layout}"
                           f"{'' if nd == 2 else ' without kH'} but got shape {tuple(w.shape)}")
    unbatched = x.ndim == nd + 1
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected input with {nd + 2} dims {dims} (or {nd + 1} without the "
                           f"batch dim) but got shape {tuple(x.shape)}")
    if x._data.dtype != w._data.dtype or (b is not None and b._data.dtype != x._data.dtype):
        raise RuntimeError(f"{op}: input ({x.dtype}), weight ({w.dtype})"
                           f"{'' if b is None else f' and bias ({b.dtype})'} must have the same dtype")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}")
    if groups < 1:
        raise RuntimeError(f"{op}: groups must be a positive integer, got {groups}")
    cin = x.shape[0] if unbatched else x.shape[1]
    if transposed:
        if w.shape[0] != cin:
            raise RuntimeError(f"{op}: input has {cin} channels but weight of shape "
                               f"{tuple(w.shape)} expects {w.shape[0]} input channels "
                               f"(weight is (C_in, C_out/groups, ...)); input shape {tuple(x.shape)}")
        if cin % groups:
            raise RuntimeError(f"{op}: input channels ({cin}) must be divisible by groups ({groups})")
        cout = w.shape[1] * groups
        if cout == 0:
            raise RuntimeError(f"{op}: Given groups={groups}, expected weight to be at least 1 at "
                               f"dimension 1 (output channels), but got weight of size "
                               f"{list(w.shape)} instead")
    else:
        if cin % groups:
            raise RuntimeError(f"{op}: input channels ({cin}) must be divisible by groups ({groups})")
        if w.shape[1] * groups != cin:
            raise RuntimeError(f"{op}: input has {cin} channels but weight of shape {tuple(w.shape)} "
                               f"expects {w.shape[1] * groups} (= {w.shape[1]} x groups {groups}); "
                               f"input shape {tuple(x.shape)}")
        if w.shape[0] % groups:
            raise RuntimeError(f"{op}: output channels ({w.shape[0]}) must be divisible by groups "
                               f"({groups})")
        cout = w.shape[0]
        if cout == 0:  # PyTorch's refusal, instead of a NumPy reshape error on the empty weight
            raise RuntimeError(f"{op}: Given groups={groups}, expected weight to be at least 1 at "
                               f"dimension 0, but got weight of size {list(w.shape)} instead")
    if b is not None and tuple(b.shape) != (cout,):
        raise RuntimeError(f"{op}: expected bias of shape ({cout},) (one per output channel) but got "
                           f"shape {tuple(b.shape)}")
    if x._data.__class__ is not w._data.__class__:
        raise RuntimeError(f"{op}: input and weight are on different devices ({x.device} and "
                           f"{w.device}); move them with .to(device) first")
    if unbatched:
        x = x.reshape((1,) + tuple(x.shape))
    return x, unbatched


def _conv_nd(op, nd, x, w, b, stride, padding, dilation, groups):
    x, unbatched = _check_conv(op, x, w, b, nd, False, groups)
    stride = ntuple(stride, nd, "stride", op)
    dilation = ntuple(dilation, nd, "dilation", op)
    k = tuple(w.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0,) * nd * 2
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions "
                                   f"(stride={stride})")
            pads = ()
            for kk, dd in zip(k, dilation):
                total = dd * (kk - 1)
                pads += (total // 2, total - total // 2)  # the odd pixel goes right, as in PyTorch
        else:
            raise ValueError(f"{op}: invalid padding string {padding!r}, expected 'valid' or 'same'")
    else:
        p = ntuple(padding, nd, "padding", op)
        if any(v < 0 for v in p):
            raise RuntimeError(f"{op}: negative padding is not supported, got {p}")
        pads = tuple(v for v in p for _ in range(2))
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise RuntimeError(f"{op}: stride and dilation must be positive, got stride={stride}, "
                           f"dilation={dilation}")
    if nd == 1:
        geom = _Geom(1, (1, k[0]), (1, stride[0]), (0, 0) + pads, (1, dilation[0]), groups)
    else:
        geom = _Geom(2, k, stride, pads, dilation, groups)
    h, wd = _to4(x._data, nd).shape[2:]
    oh, ow = geom.out_hw(h, wd)
    if oh < 1 or ow < 1:
        raise RuntimeError(f"{op}: input of spatial size {tuple(x.shape[2:])} (padded by {pads}) is "
                           f"smaller than the dilated kernel {tuple(k)} (dilation {dilation}); the "
                           "output would be empty. Use a smaller kernel or more padding.")
    out = _conv(x, w, b, geom, name="Convolution" if nd == 2 else "Convolution1D")
    return out.reshape(tuple(out.shape[1:])) if unbatched else out


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of ``input`` (N, C_in, H, W) with ``weight``
    (C_out, C_in/groups, kH, kW), as ``torch.nn.functional.conv2d``.

    ``padding`` is an int, a pair, ``'valid'`` (none) or ``'same'`` (output as large as the input,
    stride 1 only). A 3-D input is treated as one unbatched image.
    """
    return _conv_nd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution of ``input`` (N, C_in, L) with ``weight`` (C_out, C_in/groups, k), as
    ``torch.nn.functional.conv1d``."""
    return _conv_nd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose_nd(op, nd, x, w, b, stride, padding, output_padding, groups, dilation):
    x, unbatched = _check_conv(op, x, w, b, nd, True, groups)
    stride = ntuple(stride, nd, "stride", op)
    padding = ntuple(padding, nd, "padding", op)
    output_padding = ntuple(output_padding, nd, "output_padding", op)
    dilation = ntuple(dilation, nd, "dilation", op)
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= max(s, d) or op_ < 0:
            raise RuntimeError(f"{op}: output_padding ({output_padding}) must be smaller than either "
                               f"stride ({stride}) or dilation ({dilation})")
    k = tuple(w.shape[2:])
    in_sp = tuple(x.shape[2:])
    out_sp = tuple((i - 1) * s - 2 * p + d * (kk - 1) + op_ + 1
                   for i, s, p, d, kk, op_ in zip(in_sp, stride, padding, dilation, k, output_padding))
    if any(o < 1 for o in out_sp):
        raise RuntimeError(f"{op}: the output size {out_sp} computed from input {in_sp} is too small; "
                           "reduce padding")
    if nd == 1:
        geom = _Geom(1, (1, k[0]), (1, stride[0]), (0, 0, padding[0], padding[0]), (1, dilation[0]),
                     groups)
        out_hw = (1, out_sp[0])
    else:
        geom = _Geom(2, k, stride, (padding[0], padding[0], padding[1], padding[1]), dilation, groups)
        out_hw = out_sp
    out = _conv_transpose(x, w, b, geom, out_hw,
                          name="ConvolutionTranspose" if nd == 2 else "ConvolutionTranspose1D")
    return out.reshape(tuple(out.shape[1:])) if unbatched else out


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 2-D convolution (the gradient of conv2d with respect to its input), as
    ``torch.nn.functional.conv_transpose2d``; ``weight`` is (C_in, C_out/groups, kH, kW)."""
    return _conv_transpose_nd("conv_transpose2d", 2, input, weight, bias, stride, padding,
                              output_padding, groups, dilation)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 1-D convolution, as ``torch.nn.functional.conv_transpose1d``."""
    return _conv_transpose_nd("conv_transpose1d", 1, input, weight, bias, stride, padding,
                              output_padding, groups, dilation)


# --------------------------------------------------------------------------------------- pooling


def _pool_len(length, k, s, p, d, ceil_mode):
    """PyTorch's pooled length: the last window must start inside the input or its left padding."""
    span = length + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= length + p:
        out -= 1
    return out


class _Pool:
    """A sweep of windows over (N, C, H, W) arrays, and the two adjoint maps that pooling needs.

    ``gather`` reduces each window to one output value (the winning tap for max pooling, the mean
    for average pooling); ``scatter`` is its adjoint, sending each output value back to the input
    positions it came from. Both loop over the kernel's taps only, each tap being one strided slice.
    ``kind == "flat"`` (adaptive max pooling) instead keeps the winner's flat index into H*W.
    """

    __slots__ = ("nd", "k", "s", "d", "pad", "in_hw", "out_hw", "kind", "code", "div", "idx",
                 "disjoint")

    def __init__(self, nd, k, s, d, pad, in_hw, out_hw, kind):
        self.nd, self.k, self.s, self.d, self.pad = nd, k, s, d, pad
        self.in_hw, self.out_hw, self.kind = in_hw, out_hw, kind
        self.code = self.div = self.idx = None
        # Windows that neither overlap nor need padding let scatter write instead of accumulate.
        self.disjoint = all(kk * dd <= ss for kk, dd, ss in zip(k, d, s)) and not any(pad)

    def taps(self):
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = self.k, self.s, self.d, self.out_hw
        for i in range(kh):
            rs = _tap(i, dh, sh, oh)
            for j in range(kw):
                yield i * kw + j, (slice(None), slice(None), rs, _tap(j, dw, sw, ow))

    def padded(self, xp, a, value=0.0):
        return _pad4(xp, a, self.pad, value)

    def max_forward(self, x4):
        """Window maxima and, in ``self.code``, which tap held each one (the first on ties).

        Runs over blocks of images (as the convolutions do) so that the passes over each tap
        find the running maxima still in the cache."""
        xp = get_array_module(x4)
        fill = -xp.inf if x4.dtype.kind == "f" else xp.iinfo(x4.dtype).min
        xpad = self.padded(xp, x4, fill)
        taps = list(self.taps())
        n, c = x4.shape[:2]
        # Outputs keep the input's (often channels-last) layout: mixing layouts in the
        # elementwise passes below costs several times more than the passes themselves.
        first = xpad[taps[0][1]]
        best = _zeros_laid_out(xp, first.shape, x4.dtype, first, zero=False)
        wide = self.k[0] * self.k[1] >= 128
        code = _zeros_laid_out(xp, first.shape, np.int32 if wide else np.int8, first)

        def block(start, stop):
            b, cb, xb = best[start:stop], code[start:stop], xpad[start:stop]
            b[...] = xb[taps[0][1]]
            for j, sl in taps[1:]:
                v = xb[sl]
                won = v > b
                # The last tap that beat the running maximum is the argmax (the first on ties).
                xp.maximum(cb, won.astype(np.int32) * j if wide else won.view(np.int8) * np.int8(j),
                           out=cb)
                xp.maximum(b, v, out=b)

        _each_block(block, _image_blocks(n, x4[:1].size * x4.itemsize, xp))
        self.code = code
        return best

    def gather(self, x4):
        xp = get_array_module(x4)
        n, c = x4.shape[:2]
        if self.kind == "flat":
            flat = x4.reshape(n, c, -1)
            return xp.take_along_axis(flat, self.idx, axis=2).reshape(n, c, *self.out_hw)
        xpad = self.padded(xp, x4)
        out = None
        for j, sl in self.taps():
            v = xpad[sl] if self.kind == "avg" else xpad[sl] * (self.code == j)
            out = v.copy(order="K") if out is None else out.__iadd__(v)
        if self.kind == "avg":
            out /= self.div
        return out

    def scatter(self, g4):
        xp = get_array_module(g4)
        n, c = g4.shape[:2]
        h, w = self.in_hw
        if self.kind == "flat":
            flat = (xp.arange(n * c).reshape(n, c, 1) * (h * w) + self.idx).ravel()
            out = xp.bincount(flat, weights=g4.reshape(-1), minlength=n * c * h * w)
            return out.astype(g4.dtype, copy=False).reshape(n, c, h, w)
        t, b, l, r = self.pad
        like = self.code if self.code is not None else g4  # the input's layout, where known
        # Windows that tile the input exactly write every element once: no zeros needed first.
        tiled = self.disjoint and self.kind != "avg" and all(
            kk * dd == ss and o * ss == L for kk, dd, ss, o, L in zip(self.k, self.d, self.s,
                                                                      self.out_hw, self.in_hw))
        buf = _zeros_laid_out(xp, (n, c, h + t + b, w + l + r), g4.dtype, like, zero=not tiled)
        if like is not g4 and _axis_order(like) != _axis_order(g4):
            # One copy into the input's layout beats k*k passes that each mix two layouts.
            g4 = _zeros_laid_out(xp, g4.shape, g4.dtype, like).__iadd__(g4)
        if self.kind == "avg":
            g4 = g4 / self.div
        won = xp.empty_like(self.code, dtype=bool) if self.disjoint and self.code is not None \
            else None
        taps = list(self.taps())

        def block(start, stop):
            bb, gb = buf[start:stop], g4[start:stop]
            code = None if self.code is None else self.code[start:stop]
            for j, sl in taps:
                if self.kind == "avg":
                    bb[sl] += gb
                elif won is not None:
                    xp.multiply(gb, xp.equal(code, j, out=won[start:stop]), out=bb[sl])
                else:
                    bb[sl] += gb * (code == j)

        _each_block(block, _image_blocks(n, buf[:1].size * buf.itemsize, xp))
        return buf[:, :, t:t + h, l:l + w]

    def flat_indices(self):
        """PyTorch's ``return_indices``: each maximum's flat position in the input's H*W."""
        xp = get_array_module(self.code if self.idx is None else self.idx)
        if self.kind == "flat":
            n, c = self.idx.shape[:2]
            return self.idx.reshape(n, c, *self.out_hw).astype(np.int64)
        kw = self.k[1]
        oh, ow = self.out_hw
        rows = (xp.arange(oh) * self.s[0] - self.pad[0])[:, None]
        cols = xp.arange(ow) * self.s[1] - self.pad[2]
        code = self.code.astype(np.int64)
        h = rows + (code // kw) * self.d[0]
        w = cols + (code % kw) * self.d[1]
        return h * self.in_hw[1] + w


def _pool_gather(x: Tensor, plan: _Pool, name: str = "PoolGather", out=None) -> Tensor:
    """Record a window reduction (``out`` when the forward already computed it)."""
    if out is None:
        out = plan.gather(_to4(x._data, plan.nd))
    return record(name, _from4(out, plan.nd), (x,), lambda g, needs: (_pool_scatter(g, plan),))


def _pool_scatter(g: Tensor, plan: _Pool) -> Tensor:
    out = plan.scatter(_to4(g._data, plan.nd))
    return record("PoolScatter", _from4(out, plan.nd), (g,), lambda gg, needs: (_pool_gather(gg, plan),))


def _batched(op, x, nd):
    """Give an unbatched (C, *spatial) input a batch dim; reports whether it did."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if x.ndim == nd + 1:
        return x.reshape((1,) + tuple(x.shape)), True
    if x.ndim != nd + 2:
        dims = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
        raise RuntimeError(f"{op}: expected input with {nd + 2} dims {dims} (or {nd + 1} without the "
                           f"batch dim) but got shape {tuple(x.shape)}")
    return x, False


def _unbatch(t, unbatched):
    return t.reshape(tuple(t.shape[1:])) if unbatched else t


def _pool_plan(op, nd, x, kernel_size, stride, padding, dilation, ceil_mode, kind):
    k = ntuple(kernel_size, nd, "kernel_size", op)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        ntuple(stride, nd, "stride", op)
    p = ntuple(padding, nd, "padding", op)
    d = ntuple(dilation, nd, "dilation", op)
    if any(v < 1 for v in k + s + d):
        raise RuntimeError(f"{op}: kernel_size, stride and dilation must be positive, got "
                           f"kernel_size={k}, stride={s}, dilation={d}")
    if any(pp < 0 or pp > kk // 2 for pp, kk in zip(p, k)):
        raise RuntimeError(f"{op}: pad should be at most half of kernel size and non-negative, but "
                           f"got padding={p} for kernel_size={k}")
    sp = tuple(x.shape[2:])
    out = tuple(_pool_len(L, kk, ss, pp, dd, ceil_mode) for L, kk, ss, pp, dd in zip(sp, k, s, p, d))
    if any(o < 1 for o in out):
        raise RuntimeError(f"{op}: input of spatial size {sp} is too small for kernel_size={k} with "
                           f"padding={p}, dilation={d}: the output would be {out}")
    # ceil_mode's last window may run past the padded input: pad that side a little more.
    extra = tuple(max(0, (o - 1) * ss + dd * (kk - 1) + 1 - (L + 2 * pp))
                  for o, ss, dd, kk, L, pp in zip(out, s, d, k, sp, p))
    if nd == 1:
        return _Pool(1, (1, k[0]), (1, s[0]), (1, d[0]), (0, 0, p[0], p[0] + extra[0]),
                     (1, sp[0]), (1, out[0]), kind), (k, s, p)
    return _Pool(2, k, s, d, (p[0], p[0] + extra[0], p[1], p[1] + extra[1]), sp, out, kind), (k, s, p)


def _max_pool(op, nd, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, unbatched = _batched(op, x, nd)
    plan, _ = _pool_plan(op, nd, x, kernel_size, stride, padding, dilation, ceil_mode, "max")
    values = plan.max_forward(_to4(x._data, nd))
    out = _unbatch(_pool_gather(x, plan, "MaxPool2D" if nd == 2 else "MaxPool1D", values),
                   unbatched)
    if not return_indices:
        return out
    idx = _from4(plan.flat_indices(), nd)
    return out, _unbatch(Tensor._wrap(idx), unbatched)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """2-D max pooling over (N, C, H, W), as ``torch.nn.functional.max_pool2d``.

    ``stride`` defaults to ``kernel_size``; padding counts as -inf. With ``return_indices`` also
    returns each maximum's flat index into H*W (what ``max_unpool2d`` takes).
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """1-D max pooling over (N, C, L), as ``torch.nn.functional.max_pool1d``."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _avg_divisor(xp, plan: _Pool, p, count_include_pad, divisor_override, dtype):
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("avg_pool2d: divisor_override must be non-zero")
        return float(divisor_override)
    sizes = []
    for L, k, s, pp, o in zip(plan.in_hw, plan.k, plan.s, p, plan.out_hw):
        start = np.arange(o) * s - pp
        end = np.minimum(start + k, L + pp)
        if count_include_pad:
            sizes.append(end - start)
        else:
            sizes.append(np.minimum(end, L) - np.maximum(start, 0))
    div = sizes[0][:, None] * sizes[1][None, :]
    if (div == div.flat[0]).all():
        return float(div.flat[0])
    return xp.asarray(div.astype(dtype))


def _avg_pool(op, nd, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    x, unbatched = _batched(op, x, nd)
    plan, (k, s, p) = _pool_plan(op, nd, x, kernel_size, stride, padding, 1, ceil_mode, "avg")
    p2 = (0,) + p if nd == 1 else p
    plan.div = _avg_divisor(get_array_module(x._data), plan, p2, count_include_pad,
                            divisor_override, x._data.dtype)
    return _unbatch(_pool_gather(x, plan, "AvgPool2D" if nd == 2 else "AvgPool1D"), unbatched)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d`` (same divisor rules)."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-D average pooling, as ``torch.nn.functional.avg_pool1d``."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


# ------------------------------------------------------------------------------ adaptive pooling


def _adaptive_bounds(length, out):
    """PyTorch's adaptive windows: [floor(i*L/O), ceil((i+1)*L/O)) for each output i."""
    i = np.arange(out)
    return (i * length) // out, -((-(i + 1) * length) // out)


def _adaptive_sizes(op, nd, x, output_size):
    sp = tuple(x.shape[2:])
    if output_size is None:
        raise ValueError(f"{op}: output_size is required")
    if isinstance(output_size, (int, np.integer)):
        out = (int(output_size),) * nd
    else:
        out = tuple(output_size)
        if len(out) == 1:
            out = out * nd
        if len(out) != nd:
            raise ValueError(f"{op}: output_size must be an int or a tuple of {nd} (int or None), "
                             f"got {output_size!r}")
        out = tuple(L if o is None else int(o) for L, o in zip(sp, out))
    if any(o < 1 for o in out):
        raise RuntimeError(f"{op}: output_size must be positive, got {out} for input of shape "
                           f"{tuple(x.shape)}")
    if any(L < 1 for L in sp):
        raise RuntimeError(f"{op}: input of shape {tuple(x.shape)} has an empty spatial dim")
    return sp, out


def _avg_matrix(xp, length, out, dtype):
    """The (out, length) matrix averaging each adaptive window, or None for the identity."""
    if out == length:
        return None
    start, end = _adaptive_bounds(length, out)
    pos = np.arange(length)
    m = ((pos >= start[:, None]) & (pos < end[:, None])) / (end - start)[:, None]
    return xp.asarray(m.astype(dtype))


def _sandwich(x: Tensor, a, b, nd: int) -> Tensor:
    """``a @ x @ b.T`` over the two spatial axes (a or b None = identity); its adjoint uses a.T, b.T."""
    arr = _to4(x._data, nd)
    xp = get_array_module(arr)
    out = arr.copy() if a is None and b is None else arr
    if b is not None:
        out = xp.tensordot(out, b, axes=([3], [1]))
    if a is not None:
        out = xp.tensordot(out, a, axes=([2], [1])).transpose(0, 1, 3, 2)
    at = None if a is None else a.T
    bt = None if b is None else b.T
    return record("AdaptiveAvgPool", _from4(out, nd), (x,), lambda g, needs: (_sandwich(g, at, bt, nd),))


def _adaptive_avg(op, nd, x, output_size):
    x, unbatched = _batched(op, x, nd)
    sp, out = _adaptive_sizes(op, nd, x, output_size)
    xp = get_array_module(x._data)
    dt = x._data.dtype
    if nd == 1:
        a, b = None, _avg_matrix(xp, sp[0], out[0], dt)
    else:
        a, b = _avg_matrix(xp, sp[0], out[0], dt), _avg_matrix(xp, sp[1], out[1], dt)
    return _unbatch(_sandwich(x, a, b, nd), unbatched)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed (OH, OW), as ``torch.nn.functional.adaptive_avg_pool2d``; an
    entry of ``None`` keeps that input size."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed length, as ``torch.nn.functional.adaptive_avg_pool1d``."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def _adaptive_max(op, nd, x, output_size, return_indices):
    x, unbatched = _batched(op, x, nd)
    sp, out = _adaptive_sizes(op, nd, x, output_size)
    arr = _to4(x._data, nd)
    xp = get_array_module(arr)
    sp4, out4 = ((1,) + sp, (1,) + out) if nd == 1 else (sp, out)
    # Each axis's windows, padded to the longest by repeating their last index: a repeat never
    # changes a maximum, and argmax keeps the first occurrence, as PyTorch does on ties.
    idx = []
    for L, o in zip(sp4, out4):
        start, end = _adaptive_bounds(L, o)
        width = int((end - start).max())
        idx.append(np.minimum(start[:, None] + np.arange(width), (end - 1)[:, None]))
    rows, cols = (xp.asarray(i) for i in idx)
    n, c = arr.shape[:2]
    oh, ow = out4
    kh, kw = rows.shape[1], cols.shape[1]
    win = arr[:, :, rows[:, :, None, None], cols[None, None, :, :]]  # (N, C, OH, KH, OW, KW)
    win = win.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, kh * kw)
    local = xp.argmax(win, axis=-1)
    # Turn the winning tap into a flat H*W index.
    hh = rows[xp.arange(oh)[:, None], (local // kw)]  # (N, C, OH, OW) via broadcasting
    ww = cols[xp.arange(ow)[None, :], (local % kw)]
    flat = (hh * sp4[1] + ww).reshape(n, c, oh * ow)
    plan = _Pool(nd, (kh, kw), (1, 1), (1, 1), (0, 0, 0, 0), sp4, out4, "flat")
    plan.idx = flat
    result = _unbatch(_pool_gather(x, plan, "AdaptiveMaxPool"), unbatched)
    if not return_indices:
        return result
    return result, _unbatch(Tensor._wrap(_from4(plan.flat_indices(), nd)), unbatched)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling to a fixed (OH, OW), as ``torch.nn.functional.adaptive_max_pool2d``."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling to a fixed length, as ``torch.nn.functional.adaptive_max_pool1d``."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


# ---------------------------------------------------------------------------------- unfold / fold


def _unfold_geom(op, kernel_size, dilation, padding, stride):
    k = ntuple(kernel_size, 2, "kernel_size", op)
    d = ntuple(dilation, 2, "dilation", op)
    p = ntuple(padding, 2, "padding", op)
    s = ntuple(stride, 2, "stride", op)
    if any(v < 1 for v in k + d + s) or any(v < 0 for v in p):
        raise RuntimeError(f"{op}: kernel_size, dilation and stride must be positive and padding "
                           f"non-negative, got kernel_size={k}, dilation={d}, padding={p}, stride={s}")
    return _Geom(2, k, s, (p[0], p[0], p[1], p[1]), d, 1)


def _unfold(x: Tensor, geom: _Geom) -> Tensor:
    arr = x._data
    n, c, h, w = arr.shape
    out_hw = geom.out_hw(h, w)
    xpad = _pad4(get_array_module(arr), arr, geom.pad)
    v = _window_view(xpad, geom.k, geom.stride, geom.dil, out_hw)
    out = v.reshape(n, c * geom.k[0] * geom.k[1], out_hw[0] * out_hw[1])
    return record("Im2Col", out, (x,), lambda g, needs: (_fold(g, geom, (h, w), out_hw),))


def _fold(x: Tensor, geom: _Geom, in_hw, out_hw) -> Tensor:
    arr = x._data
    n, ck, _ = arr.shape
    kh, kw = geom.k
    c = ck // (kh * kw)
    cols = arr.reshape(n, c, kh, kw, out_hw[0], out_hw[1]).transpose(1, 2, 3, 0, 4, 5)
    out = _col2im(cols, n, c, in_hw, out_hw, geom, arr.dtype)
    return record("Col2Im", out, (x,), lambda g, needs: (_unfold(g, geom),))


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding local blocks (im2col), as ``torch.nn.functional.unfold``:
    (N, C, H, W) -> (N, C*kH*kW, L) where L is the number of block positions."""
    x, unbatched = _batched("unfold", input, 2)
    geom = _unfold_geom("unfold", kernel_size, dilation, padding, stride)
    oh, ow = geom.out_hw(*x.shape[2:])
    if oh < 1 or ow < 1:
        raise RuntimeError(f"unfold: input of spatial size {tuple(x.shape[2:])} is too small for "
                           f"kernel_size={geom.k}, dilation={geom.dil} and padding={geom.pad[::2]}")
    return _unbatch(_unfold(x, geom), unbatched)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding local blocks back into an image (col2im), as ``torch.nn.functional.fold``:
    (N, C*kH*kW, L) -> (N, C, *output_size); overlapping values add up."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fold: expected a Tensor input, got {type(input).__name__}")
    unbatched = input.ndim == 2
    if input.ndim not in (2, 3):
        raise RuntimeError(f"fold: expected input with 3 dims (N, C*kH*kW, L) (or 2 without the "
                           f"batch dim) but got shape {tuple(input.shape)}")
    x = input.reshape((1,) + tuple(input.shape)) if unbatched else input
    geom = _unfold_geom("fold", kernel_size, dilation, padding, stride)
    in_hw = ntuple(output_size, 2, "output_size", "fold")
    oh, ow = geom.out_hw(*in_hw)
    kk = geom.k[0] * geom.k[1]
    if x.shape[1] % kk:
        raise RuntimeError(f"fold: expected size of input's dim 1 ({x.shape[1]}) to be divisible by "
                           f"the product of kernel_size {geom.k} = {kk}")
    if oh < 1 or ow < 1 or x.shape[2] != oh * ow:
        raise RuntimeError(f"fold: expected input's dim 2 to be the number of blocks {oh} x {ow} = "
                           f"{oh * ow} for output_size={in_hw}, kernel_size={geom.k}, "
                           f"dilation={geom.dil}, padding={geom.pad[::2]}, stride={geom.stride}, "
                           f"but got {x.shape[2]} (input shape {tuple(input.shape)})")
    return _unbatch(_fold(x, geom, in_hw, (oh, ow)), unbatched)


__all__ = [
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "unfold", "fold",
]

