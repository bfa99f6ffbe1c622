"""``ember.nn.functional`` (import as ``F``): the layers and losses as functions, with
``torch.nn.functional``'s names and signatures.

A face over :mod:`ember.ops`: activations, convolutions, pooling, linear, embedding, softmax,
dropout, cross-entropy and NLL are the ops themselves, imported from their families. What is
defined here is either PyTorch's calling convention around an op (``padding='same'``, the legacy
``size_average``/``reduce`` arguments, softmax's implicit dim) or composed from ops (the
normalisations and the remaining losses), so it needs no hand-written gradient.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ember import _lazy, backend
from ember import ops as _ops
from ember import creation as _creation
from ember.backend import get_array_module
from ember.ops import nn_ops as _nn_ops
from ember.ops.activation import (  # noqa: F401  (re-exported: torch.nn.functional's activations)
    celu,
    celu_,
    elu,
    elu_,
    gelu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    relu_,
    selu,
    selu_,
    sigmoid,
    silu,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)
from ember.ops.common import write_out
from ember.ops.compare import where
from ember.ops.indexing import one_hot  # noqa: F401  (re-exported)
from ember.ops.linalg import einsum
from ember.ops.nn_ops import alpha_dropout, dropout3d, embedding, linear  # noqa: F401
from ember.ops import shape as _shape_ops
from ember.ops.shape import pad
from ember.ops.unary import tanh  # noqa: F401  (re-exported)
from ember.tensor import Tensor

# --------------------------------------------------------------------------------- helpers


def _pair(v, n: int = 2, name: str = "argument") -> tuple:
    if isinstance(v, (tuple, list)):
        if len(v) != n:
            raise ValueError(f"expected {n} values for {name}, got {tuple(v)}")
        return tuple(int(x) for x in v)
    return (int(v),) * n


def _wrap_like(array, like: Tensor) -> Tensor:
    return Tensor._wrap(backend.move_array(np.asarray(array), like.device))


# ----------------------------------------------------------------------------------- linear


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1ᵀ W_k x2 + b_k`` for weight ``(out, in1, in2)``."""
    parts = {"input1": input1, "input2": input2, "weight": weight}
    if bias is not None:
        parts["bias"] = bias
    if len({t.dtype for t in parts.values()}) > 1:
        raise RuntimeError("bilinear: All tensors must have the same dtype, got " + ", ".join(
            f"{k}: {t.dtype.name} {tuple(t.shape)}" for k, t in parts.items()))
    out = einsum("...i,kij,...j->...k", input1, weight, input2)
    return out + bias if bias is not None else out


# ------------------------------------------------------------------------------ convolution


def _conv_padding(padding, kernel: tuple, dilation: tuple):
    """Numeric padding for ``padding``; ``'same'`` may need an extra pad on the right, returned
    as the second value (F.pad order) or ``None``."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * n, None
        if padding != "same":
            raise ValueError(f"Invalid padding string {padding!r}, should be one of 'valid', 'same'")
        sym, extra, asym = [], [], False
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            left = total // 2
            sym.append(left)
            extra.append(total - left - left)
            asym = asym or total % 2 == 1
        if not asym:
            return tuple(sym), None
        pad = []
        for e in reversed(extra):  # F.pad lists the last dimension first
            pad += [0, e]
        return tuple(sym), tuple(pad)
    return _pair(padding, n, "padding"), None


def _conv(n: int, op, input, weight, bias, stride, padding, dilation, groups):
    kernel = tuple(weight.shape[2:])
    dil = _pair(dilation, n, "dilation")
    if isinstance(padding, str) and padding == "same" and _pair(stride, n) != (1,) * n:
        raise ValueError("padding='same' is not supported for strided convolutions")
    numeric, extra = _conv_padding(padding, kernel, dil)
    if extra is not None:
        input = pad(input, extra)
    return op(input, weight, bias, stride, numeric, dilation, groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D convolution over ``(N, C_in, L)`` (``padding`` may be ``'same'`` or ``'valid'``)."""
    return _conv(1, _ops.conv1d, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution over ``(N, C_in, H, W)`` (``padding`` may be ``'same'`` or ``'valid'``)."""
    return _conv(2, _ops.conv2d, input, weight, bias, stride, padding, dilation, groups)


# -------------------------------------------------------------------------------- softmax


def _softmax_dim(ndim: int, stacklevel: int) -> int:
    # stacklevel counts from the public function (softmax, log_softmax, softmin) up to the
    # user's call, as PyTorch's _stacklevel does; +1 for this helper's own frame
    warnings.warn("Implicit dimension choice for softmax has been deprecated. Change the call to "
                  "include dim=X as an argument.", stacklevel=stacklevel + 1)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``."""
    if dim is None:
        dim = _softmax_dim(input.ndim, _stacklevel - 1)
    if dtype is not None:
        input = input.to(dtype)
    return _nn_ops.softmax(input, dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed stably."""
    if dim is None:
        dim = _softmax_dim(input.ndim, _stacklevel - 1)
    if dtype is not None:
        input = input.to(dtype)
    return _nn_ops.log_softmax(input, dim)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-x)`` along ``dim``."""
    return softmax(-input, dim, _stacklevel + 1, dtype=dtype)


# ---------------------------------------------------------------------------------- dropout


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (training only)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    return _nn_ops.dropout(input, p, training, inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` with probability ``p`` (training only)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    return _nn_ops.dropout2d(input, p, training, inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` with probability ``p`` (training only)."""
    if not training or p == 0.0:
        return input
    return _nn_ops.dropout1d(input, p, training, inplace)


# ----------------------------------------------------------------------------- normalisation


def _same_dtype_as_parameters(name: str, input: Tensor, **params) -> None:
    """PyTorch refuses a normalisation whose input and parameters/statistics differ in dtype
    ("mixed dtype (CPU)") rather than promote a float32 layer's result and gradients to float64."""
    given = {k: t for k, t in params.items() if t is not None}
    if any(t.dtype != input.dtype for t in given.values()):
        listed = ", ".join(f"{k} {t.dtype.name}" for k, t in given.items())
        raise RuntimeError(
            f"{name}: mixed dtype: all inputs must share the same datatype, got input "
            f"{input.dtype.name} {tuple(input.shape)}, {listed}; convert the input with "
            f".to(layer.weight.dtype) or the layer with .to(input.dtype)"
        )


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) of ``input`` by the batch statistics (``training``) or by
    the running ones; in training, update the running ones in place with the unbiased variance."""
    _same_dtype_as_parameters("batch_norm", input, weight=weight, bias=bias,
                              running_mean=running_mean, running_var=running_var)
    x = input
    nd = x.ndim
    if nd < 2:
        raise ValueError(f"batch_norm: expected 2D or more input (got {nd}D input)")
    C = x.shape[1]
    shape = (1, C) + (1,) * (nd - 2)
    dims = (0,) + tuple(range(2, nd))
    if training:
        n = x.numel() // C
        if n == 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {tuple(x.shape)}"
            )
        if n == 0:
            # an empty batch (PyTorch): an empty result, the running statistics left as they are
            y = x * 1
            if weight is not None:
                y = y * weight.reshape(shape)
            if bias is not None:
                y = y + bias.reshape(shape)
            return y
        mean = x.mean(dims, keepdim=True)
        xc = x - mean
        var = (xc * xc).mean(dims, keepdim=True)
        y = xc * (var + eps) ** -0.5
        if running_mean is not None:
            m = momentum
            rm, rv = running_mean._data, running_var._data
            rm *= 1 - m
            rm += (m * mean._data.reshape(C)).astype(rm.dtype, copy=False)
            rv *= 1 - m
            rv += (m * n / (n - 1) * var._data.reshape(C)).astype(rv.dtype, copy=False)
            running_mean._version += 1
            running_var._version += 1
    else:
        if running_mean is None:
            raise ValueError("batch_norm: running_mean and running_var are needed in eval mode")
        xp = get_array_module(running_var._data)
        inv = Tensor._wrap((1.0 / xp.sqrt(running_var._data + eps)).astype(x._data.dtype,
                                                                             copy=False))
        y = (x - running_mean.reshape(shape)) * inv.reshape(shape)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each (sample, channel) of ``(N, C, *)`` over its spatial dimensions, then scale
    and shift per channel.

    With ``use_input_stats`` each instance uses its own mean and (biased) variance, and the
    running statistics, when given, are updated in place as PyTorch does: ``momentum`` times the
    batch average of the per-instance means and unbiased variances. Without it the running
    statistics normalise every instance (evaluation with ``track_running_stats``).
    """
    _same_dtype_as_parameters("instance_norm", input, weight=weight, bias=bias,
                              running_mean=running_mean, running_var=running_var)
    x = input
    nd = x.ndim
    if nd < 2:
        raise ValueError(f"instance_norm: expected 2D or more input (got {nd}D input)")
    C = x.shape[1]
    shape = (1, C) + (1,) * (nd - 2)
    if use_input_stats:
        n = math.prod(x.shape[2:])
        if n == 1:
            raise ValueError("Expected more than 1 spatial element when training, got input "
                             f"size {list(x.shape)}")
        dims = tuple(range(2, nd))
        mean = x.mean(dims, keepdim=True)
        xc = x - mean
        var = (xc * xc).mean(dims, keepdim=True)
        y = xc * (var + eps) ** -0.5
        if running_mean is not None or running_var is not None:
            # PyTorch folds the batch into the channels, so the running statistics move towards
            # the mean over the batch of every instance's statistics
            m = momentum
            if running_mean is not None:
                rm = running_mean._data
                rm *= 1 - m
                rm += (m * mean._data.reshape(-1, C).mean(0)).astype(rm.dtype, copy=False)
                running_mean._version += 1
            if running_var is not None:
                rv = running_var._data
                rv *= 1 - m
                unbiased = var._data.reshape(-1, C) * (n / (n - 1))
                rv += (m * unbiased.mean(0)).astype(rv.dtype, copy=False)
                running_var._version += 1
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        xp = get_array_module(running_var._data)
        inv = Tensor._wrap((1.0 / xp.sqrt(running_var._data + eps)).astype(x._data.dtype,
                                                                             copy=False))
        y = (x - running_mean.reshape(shape)) * inv.reshape(shape)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dimensions, then scale and shift."""
    _same_dtype_as_parameters("layer_norm", input, weight=weight, bias=bias)
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape or input.ndim < k:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(map(str, normalized_shape))}], but got input of size "
            f"{list(input.shape)}"
        )
    dims = tuple(range(input.ndim - k, input.ndim))
    mean = input.mean(dims, keepdim=True)
    xc = input - mean
    var = (xc * xc).mean(dims, keepdim=True)
    y = xc * (var + eps) ** -0.5
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over groups of channels (and all spatial positions), then scale per channel."""
    _same_dtype_as_parameters("group_norm", input, weight=weight, bias=bias)
    N, C = input.shape[:2]
    if C % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {tuple(input.shape)} and num_groups={num_groups}"
        )
    g = input.reshape(N, num_groups, -1)
    mean = g.mean(2, keepdim=True)
    gc = g - mean
    var = (gc * gc).mean(2, keepdim=True)
    y = (gc * (var + eps) ** -0.5).reshape(input.shape)
    shape = (1, C) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim`` (written into ``out`` when given)."""
    n = (input.abs() ** p).sum(dim, keepdim=True) ** (1.0 / p)
    result = input / n.clamp(min=eps)
    return result if out is None else write_out("normalize", out, result)


# ------------------------------------------------------------------------------------ losses


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _check_sizes(name: str, input: Tensor, target: Tensor) -> None:
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"{name}: using a target size {tuple(target.shape)} that is different to the input "
            f"size {tuple(input.shape)}. This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )


def _as_target(target, input: Tensor) -> Tensor:
    if isinstance(target, Tensor):
        return target
    return _wrap_like(np.asarray(target, dtype=input._data.dtype), input)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(input - target)²``, reduced."""
    target = _as_target(target, input)
    _check_sizes("mse_loss", input, target)
    d = input - target
    loss = d * d
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, _legacy_reduction(size_average, reduce, reduction))


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error ``|input - target|``, reduced. With ``weight`` (input's shape) each
    error is weighted and ``"mean"`` divides by the sum of the weights, as in PyTorch."""
    target = _as_target(target, input)
    _check_sizes("l1_loss", input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if weight is None:
        return _reduce((input - target).abs(), reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"l1_loss: weights and input must have the same size, got "
                         f"{tuple(weight.shape)} and {tuple(input.shape)}")
    weighted = (input - target).abs() * weight
    return weighted.sum() / weight.sum() if reduction == "mean" else _reduce(weighted, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """Squared error below ``delta``, linear (slope ``delta``) above it."""
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got {delta}")
    target = _as_target(target, input)
    _check_sizes("huber_loss", input, target)
    d = input - target
    a = d.abs()
    loss = where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d²/beta`` below ``beta``, ``|d| - beta/2`` above (L1 when ``beta = 0``)."""
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    target = _as_target(target, input)
    _check_sizes("smooth_l1_loss", input, target)
    d = input - target
    a = d.abs()
    if beta == 0:
        loss = a
    else:
        loss = where(a < beta, (0.5 / beta) * d * d, a - 0.5 * beta)
    return _reduce(loss, _legacy_reduction(size_average, reduce, reduction))


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``-(t·log p + (1-t)·log(1-p))`` for probabilities ``p`` (logs clamped at -100, as PyTorch)."""
    target = _as_target(target, input)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"binary_cross_entropy: using a target size {tuple(target.shape)} that is different "
            f"to the input size {tuple(input.shape)} is deprecated. Please ensure they have the "
            "same size."
        )
    xp = get_array_module(input._data)
    p, t = input._data, target._data
    if p.size and (bool(xp.any(p < 0)) or bool(xp.any(p > 1)) or bool(xp.any(p != p))):
        raise RuntimeError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 (apply sigmoid "
            "first, or use binary_cross_entropy_with_logits)"
        )
    if t.size and (bool(xp.any(t < 0)) or bool(xp.any(t > 1))):
        raise RuntimeError("binary_cross_entropy: all elements of target should be between 0 and 1")
    log_p = input.log().clamp(min=-100.0)
    log_1p = (1 - input).log().clamp(min=-100.0)
    loss = -(target * log_p + (1 - target) * log_1p)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, _legacy_reduction(size_average, reduce, reduction))


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable expression:
    ``(1-t)·x + (1 + (pw-1)·t)·(log(1 + e^-|x|) + max(-x, 0))``."""
    target = _as_target(target, input)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"binary_cross_entropy_with_logits: target size {tuple(target.shape)} must be the "
            f"same as input size {tuple(input.shape)}"
        )
    softplus_neg = (-input.abs()).exp().log1p() + (-input).relu()  # log(1 + e^-x), stably
    if pos_weight is not None:
        log_weight = (pos_weight - 1) * target + 1
        loss = (1 - target) * input + log_weight * softplus_neg
    else:
        loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, _legacy_reduction(size_average, reduce, reduction))


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence with ``input`` given as log-probabilities: ``t·(log t - input)``
    (``0`` where ``t = 0``); ``reduction='batchmean'`` divides the sum by the batch size."""
    target = _as_target(target, input)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        xp = get_array_module(target._data)
        pos = Tensor._wrap(target._data > 0)
        safe = where(pos, target, Tensor._wrap(xp.ones((), target._data.dtype)))
        loss = target * (safe.log() - input)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition. 'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", stacklevel=2)
    return _reduce(loss, reduction)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax + negative log-likelihood over classes (dim 1), with class-index or probability
    targets, class weights, ``ignore_index`` and label smoothing (one fused op)."""
    return _nn_ops.cross_entropy(input, target, weight, ignore_index=ignore_index,
                                 reduction=_legacy_reduction(size_average, reduce, reduction),
                                 label_smoothing=label_smoothing)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices given log-probabilities (dim 1)."""
    return _nn_ops.nll_loss(input, target, weight, ignore_index=ignore_index,
                            reduction=_legacy_reduction(size_average, reduce, reduction))


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``log(1 + exp(-target * input))``, reduced by ``reduction``."""
    return _reduce((-target * input).exp().log1p(), _legacy_reduction(size_average, reduce, reduction))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``x1·x2 / max(||x1||·||x2||, eps)`` along ``dim``."""
    n1 = (x1 * x1).sum(dim).sqrt()
    n2 = (x2 * x2).sum(dim).sqrt()
    return (x1 * x2).sum(dim) / (n1 * n2).clamp(min=eps)


# --------------------------------------------------------------------------------- attention


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False) -> Tensor:
    """``softmax(q kᵀ · scale + mask) v`` over the last two dimensions; a boolean mask keeps the
    positions where it is True. With ``enable_gqa`` (grouped-query attention) ``key`` and
    ``value`` may have fewer heads (dim -3) than ``query``, a divisor of its count: each of their
    heads serves that many consecutive query heads, as in PyTorch."""
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        q_heads, kv_heads = query.shape[-3], key.shape[-3]
        if kv_heads == 0 or q_heads % kv_heads or value.shape[-3] != kv_heads:
            raise RuntimeError(
                f"scaled_dot_product_attention: enable_gqa needs the query's head count ({q_heads}) "
                f"to be a multiple of the key's ({kv_heads}) and value's ({value.shape[-3]}), "
                "which must be equal")
        key = key.repeat_interleave(q_heads // kv_heads, dim=-3)
        value = value.repeat_interleave(q_heads // kv_heads, dim=-3)
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query * scale).matmul(key.transpose(-2, -1))
    xp = get_array_module(scores._data)
    if is_causal:
        keep = xp.tril(xp.ones((L, S), dtype=bool))
        scores = scores.masked_fill(Tensor._wrap(~keep), float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == backend.bool_:
            scores = scores.masked_fill(Tensor._wrap(~attn_mask._data), float("-inf"))
        else:
            scores = scores + attn_mask
    attn = softmax(scores, -1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return attn.matmul(value)


__all__ = [
    "linear", "bilinear", "conv1d", "conv2d",
    "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_", "gelu",
    "silu", "elu", "elu_", "selu", "selu_", "celu", "celu_", "softplus", "sigmoid", "logsigmoid",
    "tanh", "mish", "hardsigmoid", "hardswish", "softsign", "softshrink", "hardshrink",
    "tanhshrink", "threshold", "threshold_", "prelu", "softmax", "log_softmax", "softmin",
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "batch_norm",
    "instance_norm", "layer_norm", "group_norm", "normalize", "embedding", "one_hot", "pad",
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "cross_entropy", "nll_loss",
    "soft_margin_loss", "cosine_similarity", "scaled_dot_product_attention",
]


# ------------------------------------------------------------- resampling, more layers' F forms
# Their ops load on first use (PEP 562): convolution and pooling (which an MLP never needs), the
# 3-D, resampling and rarer loss and pooling families cost every program memory and import time
# (the conv names are in __all__ through _LAZY). ops module -> the F names it provides.
_LAZY_FAMILIES = {
    "conv": (
        "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
        "avg_pool1d", "avg_pool2d", "conv_transpose1d", "conv_transpose2d", "fold", "max_pool1d",
        "max_pool2d", "unfold",
    ),
    "resample": (
        "channel_shuffle", "interpolate", "pixel_shuffle", "pixel_unshuffle", "upsample",
        "upsample_bilinear", "upsample_nearest",
    ),
    "nn_more": (
        "cosine_embedding_loss", "ctc_loss", "embedding_bag", "feature_alpha_dropout",
        "gaussian_nll_loss", "glu", "hinge_embedding_loss", "local_response_norm",
        "margin_ranking_loss", "multi_margin_loss", "multilabel_margin_loss",
        "multilabel_soft_margin_loss", "pairwise_distance", "pdist", "poisson_nll_loss",
        "rms_norm", "rrelu", "rrelu_", "triplet_margin_loss", "triplet_margin_with_distance_loss",
    ),
    "conv3d": (
        "adaptive_avg_pool3d", "avg_pool3d", "conv3d", "conv_transpose3d",
    ),
    "pool_more": (
        "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
        "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices", "affine_grid",
        "fractional_max_pool2d", "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
        "fractional_max_pool3d_with_indices", "grid_sample", "gumbel_softmax",
        "linear_cross_entropy", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_pool1d_with_indices",
        "max_pool2d_with_indices", "max_pool3d", "max_pool3d_with_indices", "max_unpool1d",
        "max_unpool2d", "max_unpool3d",
    ),
}
_LAZY = {name: family for family, names in _LAZY_FAMILIES.items() for name in names}
__all__ += list(_LAZY)


def __getattr__(name):
    return _lazy.load(globals(), _LAZY, "ember.ops", name, __name__)


def __dir__():  # tab completion and dir() show the functions that load on first use too
    return _lazy.names(globals(), _LAZY)


def _attention_mask(scores: Tensor, mask: Tensor, shape: tuple) -> Tensor:
    """Apply a boolean (True = blocked) or additive float mask reshaped to ``shape``."""
    if mask.dtype == backend.bool_:
        return scores.masked_fill(mask.reshape(shape), float("-inf"))
    return scores + mask.reshape(shape).to(scores.dtype)


def _extend_mask(mask: Tensor | None, extra: int) -> Tensor | None:
    """``mask`` with ``extra`` source positions appended that every query may attend to
    (False, or 0.0 for an additive mask): the bias_k / zero-attention positions."""
    if mask is None or not extra:
        return mask
    allowed = _creation.zeros(*mask.shape[:-1], extra, dtype=mask.dtype, device=mask.device)
    return _shape_ops.cat([mask, allowed], -1)


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor,
                                 embed_dim_to_check: int, num_heads: int, in_proj_weight,
                                 in_proj_bias, bias_k, bias_v, add_zero_attn: bool,
                                 dropout_p: float, out_proj_weight: Tensor, out_proj_bias,
                                 training: bool = True, key_padding_mask=None,
                                 need_weights: bool = True, attn_mask=None,
                                 use_separate_proj_weight: bool = False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights: bool = True,
                                 is_causal: bool = False):
    """Multi-head attention with the weights passed in (what ``nn.MultiheadAttention`` runs):
    ``softmax(q kᵀ / sqrt(d) + mask) v`` over ``num_heads`` heads, projected.

    Inputs are ``(L, N, E)`` or unbatched ``(L, E)``; ``key_padding_mask`` ``(N, S)`` and
    ``attn_mask`` ``(L, S)`` or ``(N·heads, L, S)`` are boolean (True = may not attend) or float
    (added to the scores). ``bias_k``/``bias_v`` append one key/value position and
    ``add_zero_attn`` a zero one, which every query may attend to. Returns ``(output, weights)``,
    the weights averaged over heads unless ``average_attn_weights=False``, or ``None`` when
    ``need_weights=False``.
    """
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k/static_v are not "
                                  "supported by ember")
    if query.shape[-1] != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {query.shape[-1]}")
    heads = num_heads
    hd = embed_dim_to_check // heads
    if hd * heads != embed_dim_to_check:
        raise AssertionError(f"embed_dim {embed_dim_to_check} not divisible by num_heads {heads}")
    batched = query.ndim == 3
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, N, E = query.shape
    S = key.shape[0]
    bq = bk = bv = None
    if in_proj_bias is not None:
        bq, bk, bv = in_proj_bias[:E], in_proj_bias[E:2 * E], in_proj_bias[2 * E:]
    if use_separate_proj_weight:
        wq, wk, wv = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        wq, wk, wv = in_proj_weight[:E], in_proj_weight[E:2 * E], in_proj_weight[2 * E:]
    q = linear(query, wq, bq).reshape(L, N, heads, hd).permute(1, 2, 0, 3)
    k = linear(key, wk, bk)
    v = linear(value, wv, bv)
    if bias_k is not None:
        k = _shape_ops.cat([k, bias_k.expand(1, N, E)], 0)
        v = _shape_ops.cat([v, bias_v.expand(1, N, E)], 0)
    if add_zero_attn:
        # a zero row in (S, N, E) is a zero key/value for every head alike
        zeros = _creation.zeros(1, N, E, dtype=k.dtype, device=k.device)
        k = _shape_ops.cat([k, zeros], 0)
        v = _shape_ops.cat([v, zeros], 0)
    S2 = k.shape[0]  # the source positions including the appended ones
    extra = S2 - S
    k = k.reshape(S2, N, heads, hd).permute(1, 2, 0, 3)
    v = v.reshape(S2, N, heads, hd).permute(1, 2, 0, 3)
    scores = (q * (1.0 / math.sqrt(hd))).matmul(k.transpose(-2, -1))  # (N, heads, L, S2)
    if attn_mask is None and is_causal:
        attn_mask = Tensor._wrap(backend.move_array(~np.tril(np.ones((L, S), bool)),
                                                    scores.device))
    # masks are checked against the given source length, then extended over the appended
    # positions, as PyTorch does
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (L, S):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}"
                                   f", but should be {(L, S)}.")
            shape = (1, 1, L, S2)
        else:
            if tuple(attn_mask.shape) != (N * heads, L, S):
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}"
                                   f", but should be {(N * heads, L, S)}.")
            shape = (N, heads, L, S2)
        scores = _attention_mask(scores, _extend_mask(attn_mask, extra), shape)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (N, S):
            raise RuntimeError(f"expected key_padding_mask of shape {(N, S)}, but got "
                               f"{tuple(key_padding_mask.shape)}")
        scores = _attention_mask(scores, _extend_mask(key_padding_mask, extra), (N, 1, 1, S2))
    attn = softmax(scores, -1)
    if dropout_p > 0.0 and training:
        attn = dropout(attn, dropout_p, True)
    out = attn.matmul(v).permute(2, 0, 1, 3).reshape(L, N, E)
    out = linear(out, out_proj_weight, out_proj_bias)
    weights = None
    if need_weights:
        weights = attn.mean(1) if average_attn_weights else attn
    if not batched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights


__all__ += ["multi_head_attention_forward"]
