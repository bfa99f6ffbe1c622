"""The fused neural-network ops: linear, embedding, softmax, log_softmax, dropout and the
classification losses.

Each is one recorded op whose forward is computed stably on arrays in one pass (the max is
subtracted before ``exp``; losses work from the log-softmax, never from ``log(softmax)``).

Their gradients are gradient ops of their own (``linear_grad_input``, ``softmax_backward``, ...),
as Chainer's ``LinearGradData``: each computes on arrays, so plain ``.backward()`` stays fast, and
records its own backward, written with these same ops, so gradients of gradients are exact.
"""

from __future__ import annotations

import math

import numpy as np

from ember import backend
from ember import random as _random
from ember.ops.common import (
    Tensor,
    attach,
    commit_inplace,
    device_error,
    dtype_mismatch_error,
    get_array_module,
    prepare_inplace,
    record,
)
from ember.ops.elementwise import scale_grad
from ember.ops.indexing import index_add

# ------------------------------------------------------------------------------------- helpers


def _dim(op: str, dim, ndim: int) -> int:
    if dim is None:
        # PyTorch's legacy implicit choice, kept for scripts that rely on it.
        return 0 if ndim in (0, 1, 3) else 1
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def _float_input(op: str, x, dtype=None):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"{op}: expected a floating point input, got {x.dtype}; convert "
                                  "with .float() first")
    return x


def _log_softmax_array(xp, a, axis):
    """Stable log-softmax on an array: shift by the max, which must be finite to subtract."""
    if a.size == 0:  # an empty result (NumPy's max has no identity for an empty slice)
        return a.copy()
    m = a.max(axis=axis, keepdims=True)
    # on the GPU one more kernel beats asking the host whether it is needed (a synchronisation)
    if xp is not np or not np.isfinite(m).all():
        m = xp.where(xp.isfinite(m), m, 0)
    z = a - m
    e = xp.exp(z)
    z -= xp.log(e.sum(axis=axis, keepdims=True))
    return z


# ------------------------------------------------------------------------------ linear, embedding

def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``, one recorded op (no transposed copy, bias added in place).

    ``input`` is ``(*, in_features)``, ``weight`` ``(out_features, in_features)``.
    """
    x, w = input._data, weight._data
    if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        raise RuntimeError(
            f"linear: mat1 and mat2 shapes cannot be multiplied: input of shape {tuple(x.shape)} "
            f"and weight.T of shape {tuple(w.shape[::-1])} (expected input's last dimension "
            f"{w.shape[1] if w.ndim == 2 else '?'})"
        )
    if type(x) is not type(w):
        raise device_error("linear", x, w)
    # mixed float types are refused, as PyTorch does, rather than giving a float32 weight a
    # float64 result and gradient
    if x.dtype != w.dtype:
        raise dtype_mismatch_error("linear", "mat1", x, "mat2", w)
    if bias is not None and bias._data.dtype != w.dtype:
        raise dtype_mismatch_error("linear", "self", bias._data, "mat2", w)
    out = x @ w.T
    if bias is not None:
        out += bias._data

    def backward(g, needs):
        gx = linear_grad_input(g, weight) if needs[0] else None
        gw = linear_grad_weight(g, input) if needs[1] else None
        if bias is None:
            return gx, gw
        if not needs[2]:
            return gx, gw, None
        # a batch of rows: sum it here, one reduction (the engine would sum, then reshape)
        return gx, gw, (g.sum(0) if g.ndim == 2 and bias_1d else g)

    bias_1d = bias is not None and bias.ndim == 1
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return record("Linear", out, inputs, backward, (input, weight))


def linear_grad_input(g: Tensor, weight: Tensor) -> Tensor:
    """``g @ weight``: the gradient of :func:`linear` with respect to its input."""

    def backward(gg, needs):
        return (linear(gg, weight) if needs[0] else None,
                linear_grad_weight(g, gg) if needs[1] else None)

    return record("LinearGradInput", g._data @ weight._data, (g, weight), backward, (g, weight))


def linear_grad_weight(g: Tensor, input: Tensor) -> Tensor:
    """``g.T @ input`` over every leading dim: the gradient of :func:`linear` with respect to its
    weight."""
    gd, x = g._data, input._data
    rows = math.prod(gd.shape[:-1])  # not -1: a zero-size batch has no size to infer
    out = gd.reshape(rows, gd.shape[-1]).T @ x.reshape(rows, x.shape[-1])

    def backward(gg, needs):
        return (linear(input, gg) if needs[0] else None,
                linear_grad_input(g, gg) if needs[1] else None)

    return record("LinearGradWeight", out, (g, input), backward, (g, input))


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` at the integer positions ``input``; the ``padding_idx`` row gets no
    gradient. With ``max_norm``, looked-up rows longer than it are rescaled in place first."""
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: "
            f"Long, Int; but got {backend.dtype_of(idx)} instead (while checking arguments for "
            "embedding)"
        )
    w = weight._data
    num = w.shape[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= num):  # no negative rows
        raise IndexError(
            f"embedding: index out of range in self (indices must be in [0, {num}), got values "
            f"from {int(idx.min())} to {int(idx.max())})"
        )
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    xp = get_array_module(w)
    flat = idx.reshape(-1)
    if max_norm is not None:
        rows = xp.unique(flat)
        norms = xp.linalg.norm(w[rows], ord=norm_type, axis=1) if norm_type != 2 else \
            xp.sqrt((w[rows] ** 2).sum(1))
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
        w[rows] *= scale[:, None]
        weight._version += 1
    out = xp.take(w, flat, axis=0).reshape(tuple(idx.shape) + (w.shape[1],))
    shape = w.shape
    if scale_grad_by_freq:
        counts = xp.bincount(flat % num, minlength=num)[flat].astype(w.dtype)
    else:
        counts = None

    def backward(g, needs):
        g2 = g.reshape(-1, shape[1])
        if padding_idx is not None or counts is not None:
            keep = xp.ones(flat.shape[0], dtype=g._data.dtype)
            if padding_idx is not None:
                keep[flat == padding_idx] = 0
            if counts is not None:
                keep /= counts
            g2 = scale_grad(g2, keep[:, None])
        z = Tensor._wrap(xp.zeros(shape, g._data.dtype))
        return (index_add(z, 0, Tensor._wrap(flat), g2),)

    return record("Embedding", out, (weight,), backward)


# ------------------------------------------------------------------------------ softmax family


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None, *, axis=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``, computed stably (as ``torch.softmax``)."""
    if axis is not None:
        dim = axis
    x = _float_input("softmax", input, dtype)
    arr = x._data
    xp = get_array_module(arr)
    axis = _dim("softmax", dim, arr.ndim)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.size == 0:  # nothing to normalise (NumPy's max has no identity for an empty slice)
        e = arr.copy()
    else:
        e = xp.exp(arr - arr.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
    out = e.reshape(x._data.shape)
    axis = axis if out.ndim else None  # a 0-d softmax sums over its one element
    result = Tensor._wrap(out)  # what the closure reads (no cycle)
    return record("Softmax", result, (x,), lambda g, needs: (softmax_backward(g, result, axis),))


def softmax_backward(g: Tensor, y: Tensor, axis) -> Tensor:
    """``y * (g - sum(g * y))`` along ``axis``: the gradient of softmax from its output ``y``."""
    gd, yd = g._data, y._data
    out = gd * yd
    out -= yd * out.sum(axis=axis, keepdims=True)

    def backward(gg, needs):
        # linear in g with a symmetric Jacobian, so g's part is the same op again
        return (softmax_backward(gg, y, axis) if needs[0] else None,
                gg * (g - (g * y).sum(axis, keepdim=True)) - g * (gg * y).sum(axis, keepdim=True)
                if needs[1] else None)

    return record("SoftmaxBackward", out, (g, y), backward, (g, y))


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``, computed stably (as ``torch.log_softmax``)."""
    x = _float_input("log_softmax", input, dtype)
    arr = x._data
    xp = get_array_module(arr)
    axis = _dim("log_softmax", dim, arr.ndim)
    out = _log_softmax_array(xp, arr.reshape(1) if arr.ndim == 0 else arr, axis).reshape(arr.shape)
    axis = axis if out.ndim else None
    result = Tensor._wrap(out)  # what the closure reads (no cycle)
    return record("LogSoftmax", result, (x,), lambda g, needs: (log_softmax_backward(g, result, axis),))


def log_softmax_backward(g: Tensor, y: Tensor, axis) -> Tensor:
    """``g - exp(y) * sum(g)`` along ``axis``: the gradient of log_softmax from its output ``y``."""
    gd = g._data
    out = get_array_module(gd).exp(y._data)
    out *= gd.sum(axis=axis, keepdims=True)
    out = gd - out

    def backward(gg, needs):
        p = y.exp()
        return ((gg - (gg * p).sum(axis, keepdim=True)) if needs[0] else None,
                -gg * p * g.sum(axis, keepdim=True) if needs[1] else None)

    return record("LogSoftmaxBackward", out, (g, y), backward, (g, y))


# ------------------------------------------------------------------------------------- dropout


def _check_p(op: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def _survivors(xp, shape, p, dtype, generator):
    """A {0, 1} array, each entry 1 with probability 1-p."""
    if xp is np:
        u = _random.get_rng(generator).random(shape, dtype=np.float32)
    else:  # CuPy draws on the device from its own stream (seeded by ember.manual_seed)
        u = xp.random.random(shape, dtype=np.float32)
    return (u >= p).astype(dtype)


def _dropout_mask(xp, shape, p, dtype, generator):
    """A {0, 1/(1-p)} mask: each entry kept with probability 1-p, scaled to preserve the mean."""
    if p == 1.0:
        return xp.zeros(shape, dtype=dtype)
    mask = _survivors(xp, shape, p, dtype, generator)
    mask *= dtype.type(1.0 / (1.0 - p))
    return mask


def _apply_mask(op: str, x: Tensor, mask, inplace: bool, shift=None) -> Tensor:
    """``x * mask (+ shift)`` as one op whose gradient is ``g * mask``; in place when asked."""

    def fn(t):
        out = t._data * mask
        if shift is not None:
            out += shift
        return record(op, out, (t,), lambda g, needs: (scale_grad(g, mask),))

    if inplace:
        name = op.lower() + "_"
        return commit_inplace(x, fn(prepare_inplace(x, name)), name)
    return fn(x)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator=None) -> Tensor:
    """Zero each element with probability ``p`` and scale the survivors by ``1/(1-p)``.

    Identity (the input itself) when ``training`` is False or ``p == 0``. Draws from ember's global
    generator (``ember.manual_seed``) unless ``generator`` is given.
    """
    _check_p("dropout", p)
    x = _float_input("dropout", input)
    if not training or p == 0.0:
        return x
    mask = _dropout_mask(get_array_module(x._data), x._data.shape, p, x._data.dtype, generator)
    return _apply_mask("Dropout", x, mask, inplace)


def _feature_dropout(op, input, p, training, inplace, generator, spatial):
    _check_p(op, p)
    x = _float_input(op, input)
    if x.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{op}: expected input with {spatial + 2} dims (N, C, ...) or "
                           f"{spatial + 1} without the batch dim, but got shape {tuple(x.shape)}")
    if not training or p == 0.0:
        return x
    lead = x.ndim - spatial  # the (N, C) or (C,) axes whose entries are dropped whole
    if op == "dropout2d" and x.ndim == 3:
        # PyTorch reads a 3-D input to dropout2d as (N, C, L), not as one unbatched image.
        lead = 2
    shape = tuple(x.shape[:lead]) + (1,) * spatial
    mask = _dropout_mask(get_array_module(x._data), shape, p, x._data.dtype, generator)
    return _apply_mask("FeatureDropout", x, mask, inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None) -> Tensor:
    """Zero whole channels of (N, C, H, W) (or (C, H, W)) with probability ``p``, scaling the rest
    by ``1/(1-p)``, as ``torch.nn.functional.dropout2d``."""
    return _feature_dropout("dropout2d", input, p, training, inplace, generator, 2)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None) -> Tensor:
    """Zero whole channels of (N, C, L) (or (C, L)) with probability ``p``."""
    return _feature_dropout("dropout1d", input, p, training, inplace, generator, 1)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) (or (C, D, H, W)) with probability ``p``."""
    return _feature_dropout("dropout3d", input, p, training, inplace, generator, 3)


_SELU_ALPHA_PRIME = -1.7580993408473766  # -scale * alpha of SELU: where dropped units are sent


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False,
                  generator=None) -> Tensor:
    """Dropout for SELU networks: dropped units take SELU's negative saturation value and an affine
    correction keeps the mean and variance (as ``torch.nn.functional.alpha_dropout``)."""
    _check_p("alpha_dropout", p)
    x = _float_input("alpha_dropout", input)
    if not training or p == 0.0:
        return x
    xp = get_array_module(x._data)
    dt = x._data.dtype
    if p == 1.0:
        return _apply_mask("AlphaDropout", x, xp.zeros((), dtype=dt), inplace)
    alpha = -_SELU_ALPHA_PRIME
    a = 1.0 / np.sqrt((alpha * alpha * p + 1.0) * (1.0 - p))
    keep = _survivors(xp, x._data.shape, p, dt, generator)
    shift = (keep - 1) * dt.type(alpha * a) + dt.type(alpha * a * p)
    keep *= dt.type(a)
    return _apply_mask("AlphaDropout", x, keep, inplace, shift)


# -------------------------------------------------------------------------------------- losses


def _reduction(op: str, size_average, reduce, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        if reduce is not None and not reduce:
            return "none"
        return "sum" if size_average is not None and not size_average else "mean"
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: {reduction} is not a valid value for reduction (use 'mean', "
                         "'sum' or 'none')")
    return reduction


def _class_targets(op: str, x: Tensor, target: Tensor, weight, ignore_index: int):
    """Validate class-index targets; return (per-position weights, safe targets, class count)."""
    arr = x._data
    xp = get_array_module(arr)
    c = arr.shape[1]
    t = target._data
    want = (arr.shape[0],) + tuple(arr.shape[2:])
    if arr.ndim == 2 and t.shape[:1] != want[:1]:
        raise ValueError(f"{op}: expected input batch_size ({arr.shape[0]}) to match target "
                         f"batch_size ({t.shape[0] if t.ndim else 'a 0-d target'}); input shape "
                         f"{tuple(arr.shape)}, target shape {tuple(t.shape)}")
    if tuple(t.shape) != want:
        raise RuntimeError(f"{op}: expected target size {list(want)} (the input's shape "
                           f"{tuple(arr.shape)} without the class dim 1), got {list(t.shape)}")
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        value = int(t[bad].ravel()[0])
        raise IndexError(f"{op}: target {value} is out of bounds for {c} classes (class indices "
                         f"must lie in [0, {c - 1}], or equal ignore_index={ignore_index})")
    safe = xp.where(valid, t, 0)
    if weight is None:
        wt = valid.astype(arr.dtype)
    else:
        wt = weight[safe] * valid
    return wt, safe, c


def _check_weight(op: str, weight, c: int, like):
    if weight is None:
        return None
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    if tuple(w.shape) != (c,):
        raise RuntimeError(f"{op}: weight tensor should be defined either for all {c} classes or "
                           f"no classes but got weight tensor of shape: {list(w.shape)}")
    return w.astype(like.dtype, copy=False)


def _classes_last_shape(ndim: int):
    """Broadcast shape (1, C, 1, ...) for a per-class vector against a (N, C, d1, ...) array."""
    return (1, -1) + (1,) * (ndim - 2)


def _onehot(xp, safe, c, ndim):
    """Bool (N, C, d1, ...) one-hot of class indices ``safe`` (N, d1, ...) along dim 1."""
    return xp.expand_dims(safe, 1) == xp.arange(c).reshape(_classes_last_shape(ndim))


def _targets_matrix(op, x, target, weight, ignore_index, label_smoothing, reduction):
    """The loss as ``-(Q * log_softmax(x)).sum(1)`` with ``Q`` built here; also the normaliser."""
    arr = x._data
    xp = get_array_module(arr)
    c = arr.shape[1]
    w = _check_weight(op, weight, c, arr)
    eps = float(label_smoothing)
    if target._data.dtype.kind == "f":
        if tuple(target.shape) != tuple(arr.shape):
            raise RuntimeError(f"{op}: probability targets (a float target) must have the input's "
                               f"shape {tuple(arr.shape)}, got {tuple(target.shape)}; class-index "
                               "targets must be an integer tensor")
        q = target._data.astype(arr.dtype, copy=False)
        if eps:
            q = q * (1.0 - eps) + eps / c
        if w is not None:
            q = q * w.reshape(_classes_last_shape(arr.ndim))
        norm = arr.size // c if reduction == "mean" else 1
        return q, norm, w
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected target dtype to be an integer (class indices) or "
                           f"floating point (probabilities), but got {target.dtype}")
    wt, safe, _ = _class_targets(op, x, target, w, ignore_index)
    q = _onehot(xp, safe, c, arr.ndim) * xp.expand_dims(wt * (1.0 - eps), 1)
    if eps:
        per_class = (w if w is not None else xp.ones(c, arr.dtype)).reshape(
            _classes_last_shape(arr.ndim))
        q += (eps / c) * per_class * xp.expand_dims((target._data != ignore_index), 1)
    norm = wt.sum() if reduction == "mean" else 1
    return q, norm, w


def _reduce_loss(xp, per_pos, norm, reduction):
    if reduction == "none":
        return per_pos
    total = per_pos.sum()
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):
        return xp.asarray(total / norm, dtype=per_pos.dtype)


def _batch_first(x: Tensor, target: Tensor, op: str):
    """Give a (C,) input a batch dim (and its target too); report whether it did."""
    if x.ndim == 0:
        raise RuntimeError(f"{op}: expected input with at least 1 dim (C,) or (N, C, ...), got a 0-d "
                           "tensor")
    if x.ndim == 1:
        t = target.reshape((1,) + tuple(target.shape))
        return x.reshape(1, x.shape[0]), t, True
    return x, target, False


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between logits ``input`` (N, C) or (N, C, d1, ...) and ``target``, fused with
    the log-softmax into one stable op, as ``torch.nn.functional.cross_entropy``.

    ``target`` holds class indices (integer, shape (N,) or (N, d1, ...)) or class probabilities
    (float, the input's shape). ``weight`` rescales classes; with class indices the weighted mean
    divides by the summed weights of the non-ignored targets. ``label_smoothing`` mixes the target
    with the uniform distribution over classes.
    """
    op = "cross_entropy"
    x = _float_input(op, input)
    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: target must be a Tensor, got {type(target).__name__}")
    reduction = _reduction(op, size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"{op}: label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    x, target, unbatched = _batch_first(x, target, op)
    arr = x._data
    xp = get_array_module(arr)
    if weight is None and not label_smoothing and _plain_class_targets(arr, target._data,
                                                                       ignore_index):
        return _cross_entropy_classes(x, target, reduction, unbatched)
    q, norm, w = _targets_matrix(op, x, target, weight, ignore_index, label_smoothing, reduction)
    logp = _log_softmax_array(xp, arr, 1)
    per_pos = -(q * logp).sum(axis=1)
    out = _reduce_loss(xp, per_pos, norm, reduction)
    if unbatched and reduction == "none":
        out = out.reshape(())
    soft_target = target._data.dtype.kind == "f"
    eps = float(label_smoothing)
    # per-position losses (N, d1, ...) are scaled along the class dim 1 by the upstream gradient
    upstream_shape = (per_pos.shape[0], 1) + tuple(per_pos.shape[1:]) if reduction == "none" \
        else ()
    w_classes = None if w is None else Tensor._wrap(w.reshape(_classes_last_shape(arr.ndim)))

    def backward(g, needs):
        if soft_target and target.requires_grad:
            # Q is then a function of the target, so the logits' gradient is one too
            qt = target * (1.0 - eps) + eps / arr.shape[1] if eps else target
            qt = qt * w_classes if w is not None else qt
        else:
            qt = Tensor._wrap(q)
        gx = cross_entropy_grad(g, x, qt, logp, norm, upstream_shape) if needs[0] else None
        if not (soft_target and needs[1]):
            return (gx,)
        coef = -(1.0 - eps) * (w_classes if w is not None else 1.0)
        return gx, log_softmax(x, 1) * coef * (g.reshape(upstream_shape) / float(norm))

    inputs = (x, target) if soft_target else (x,)
    return record("CrossEntropyLoss", out, inputs, backward, saved=inputs)


def _plain_class_targets(arr, t, ignore_index: int) -> bool:
    """Whether ``t`` is a batch of (N,) class indices for (N, C) logits ``arr``, all in range and
    none equal to ``ignore_index``: the common case, which :func:`_cross_entropy_classes` serves
    without building a target matrix (anything else, errors included, takes the general path)."""
    if arr.ndim != 2 or t.ndim != 1 or t.dtype.kind not in "iu" or t.shape[0] != arr.shape[0] \
            or t.size == 0:
        return False
    lo, hi = int(t.min()), int(t.max())
    return 0 <= lo and hi < arr.shape[1] and not lo <= ignore_index <= hi


def _cross_entropy_classes(x: Tensor, target: Tensor, reduction: str, unbatched: bool) -> Tensor:
    """Cross-entropy of (N, C) logits for in-range class indices (N,), unweighted: each row's
    log-softmax at its target class, picked by index, with the one-hot target matrix built only
    if the backward runs. Sums in the order of the general path, so the results are the same."""
    arr, t = x._data, target._data
    xp = get_array_module(arr)
    n, c = arr.shape
    logp = _log_softmax_array(xp, arr, 1)
    per_pos = -logp[xp.arange(n), t]
    norm = n if reduction == "mean" else 1
    out = _reduce_loss(xp, per_pos, norm, reduction)
    if unbatched and reduction == "none":
        out = out.reshape(())
    upstream_shape = (n, 1) if reduction == "none" else ()

    def backward(g, needs):
        q = (xp.expand_dims(t, 1) == xp.arange(c)).astype(arr.dtype)
        return (cross_entropy_grad(g, x, Tensor._wrap(q), logp, norm, upstream_shape),)

    return record("CrossEntropyLoss", out, (x,), backward, saved=(x,))


def cross_entropy_grad(g: Tensor, x: Tensor, q: Tensor, logp, norm, upstream_shape) -> Tensor:
    """``(softmax(x) * sum_c q - q) * g / norm``: the gradient of cross-entropy with respect to
    the logits ``x`` (N, C, ...) for the target distribution ``q`` (weights and smoothing folded
    in), from the forward's log-softmax ``logp``; ``g`` is reshaped to ``upstream_shape``."""
    qd = q._data
    qs = qd.sum(axis=1, keepdims=True)
    out = get_array_module(logp).exp(logp)
    out *= qs
    out -= qd
    out *= g._data.reshape(upstream_shape) / norm

    def backward(gg, needs):
        p = softmax(x, 1)
        qs = q.sum(1, keepdim=True)
        n = float(norm)  # a 0-d array for class-index targets
        up = g.reshape(upstream_shape) / n
        return ((gg * (p * qs - q)).sum(1) / n if needs[0] else None,
                softmax_backward(gg * qs * up, p, 1) if needs[1] else None,
                up * ((gg * p).sum(1, keepdim=True) - gg) if needs[2] else None)

    return record("CrossEntropyGrad", out, (g, x, q), backward, (g, x, q))


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices ``target`` (N,) or (N, d1, ...) under
    log-probabilities ``input`` (N, C) or (N, C, d1, ...), as ``torch.nn.functional.nll_loss``.

    The weighted mean divides by the summed weights of the non-ignored targets.
    """
    op = "nll_loss"
    x = _float_input(op, input)
    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: target must be a Tensor, got {type(target).__name__}")
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected target dtype to be Long (class indices), but got "
                           f"{target.dtype}")
    reduction = _reduction(op, size_average, reduce, reduction)
    x, target, unbatched = _batch_first(x, target, op)
    arr = x._data
    xp = get_array_module(arr)
    w = _check_weight(op, weight, arr.shape[1], arr)
    wt, safe, _ = _class_targets(op, x, target, w, ignore_index)
    picked = xp.take_along_axis(arr, xp.expand_dims(safe, 1), axis=1)[:, 0]
    per_pos = -(picked * wt)
    norm = wt.sum() if reduction == "mean" else 1
    out = _reduce_loss(xp, per_pos, norm, reduction)
    if unbatched and reduction == "none":
        out = out.reshape(())

    def backward(g, needs):
        # linear in the input: minus the target weights at the target classes, times upstream
        coef = _onehot(xp, safe, arr.shape[1], arr.ndim) * xp.expand_dims(-wt / norm, 1)
        if reduction == "none":  # one upstream value per position, spread along the class dim 1
            g = g.reshape((per_pos.shape[0], 1) + tuple(per_pos.shape[1:]))
        return (scale_grad(g, coef),)

    return record("NllLoss", out, (x,), backward)


__all__ = [
    "softmax", "log_softmax", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "cross_entropy", "nll_loss",
]

attach(softmax=softmax, log_softmax=log_softmax)
