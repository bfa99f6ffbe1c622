"""Activation functions with ``torch.nn.functional``'s names and signatures.

``ember.nn.functional`` re-exports every name in :data:`FUNCTIONAL`; ``ember`` itself exports the
ones PyTorch has at the top level (``ember.sigmoid``, ``ember.relu``, ``ember.selu`` ...), and
tensors get ``.relu()``, ``.sigmoid()`` and their in-place forms. ``inplace=True`` arguments work as
in PyTorch (an error on a leaf that requires grad).

Forwards are written to stay finite for any input (no overflow in ``exp``); gradients are written
with ember ops, so second derivatives work, except where the derivative is piecewise constant
(relu, hardtanh ...), whose backward is a single masked op.
"""

from __future__ import annotations

import math

import numpy as np

from ember.backend import get_array_module
from ember.ops.common import write_out, Tensor, attach, inplace_method, one_like, record
from ember.ops.compare import clamp_max, where
from ember.ops.elementwise import scale_grad, where_grad, writable
from ember.ops.unary import _data, _erf_and_erfc, _fdata, erf, exp, tanh

# Largest argument whose exp is finite, per dtype (float16 overflows past 11.09).
_EXP_LIMIT = {np.dtype(np.float16): 11.0, np.dtype(np.float32): 88.0,
              np.dtype(np.float64): 708.0}
# the same as read-only 0-d NumPy arrays of each dtype (faster to combine: see common.one_like)
_EXP_LIMIT_ARRAYS = {d: np.array(v, d) for d, v in _EXP_LIMIT.items()}
for _limit in _EXP_LIMIT_ARRAYS.values():
    _limit.flags.writeable = False
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# ------------------------------------------------------------------------------------ sigmoid


def sigmoid(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``1 / (1 + exp(-input))``, accurate and finite for any input."""
    if out is not None:
        return write_out("sigmoid", out, sigmoid(input))
    a = _fdata(input, "sigmoid")
    xp = get_array_module(a)
    t = writable(xp.negative(a))
    # exp(-x) overflows below x = -88 in float32; the clipped value changes the result by < 1e-38
    xp.minimum(t, (_EXP_LIMIT_ARRAYS if xp is np else _EXP_LIMIT).get(a.dtype, 708.0), out=t)
    xp.exp(t, out=t)
    t += one_like(t)
    xp.reciprocal(t, out=t)

    def backward(g, needs):
        return (sigmoid_backward(g, result),)

    result = Tensor._wrap(t)  # what the closure reads (no cycle)
    return record("Sigmoid", result, (input,), backward)


def sigmoid_backward(g: Tensor, y: Tensor) -> Tensor:
    """``g * y * (1 - y)``: the gradient of sigmoid from its output ``y``, fused into one op."""
    yd = y._data
    out = one_like(yd) - yd
    out *= yd
    out *= g._data

    def backward(gg, needs):
        return gg * y * (1 - y), gg * g * (1 - y * 2)

    return record("SigmoidBackward", out, (g, y), backward, (g, y))


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(input))`` without overflow or ``log(0)``."""
    a = _fdata(input, "logsigmoid")
    xp = get_array_module(a)
    out = writable(xp.logaddexp(0, -a))
    xp.negative(out, out=out)
    return record("LogSigmoid", out, (input,), lambda g, needs: (g * sigmoid(-input),), (input,))


# ------------------------------------------------------------------------ relu and its kin


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``; the gradient at 0 is 0, as in PyTorch."""
    if inplace:
        return relu_(input)
    a = _data(input, "relu")

    def backward(g, needs):
        return (relu_backward(g, result),)

    result = Tensor._wrap(get_array_module(a).maximum(a, 0))  # what the closure reads (no cycle)
    return record("Relu", result, (input,), backward)


_SIGNED_OF_SIZE = {4: np.dtype(np.int32), 8: np.dtype(np.int64)}
_BIT_MASKABLE = (np.dtype(np.float32), np.dtype(np.float64))


def relu_backward(g: Tensor, y: Tensor) -> Tensor:
    """``g`` where relu's output ``y`` is not ``<= 0`` (positive, or NaN as in PyTorch), else 0; one
    fused op, differentiable in ``g`` (its derivative in ``y`` is 0 almost everywhere).

    For NumPy float32/float64 the mask comes from ``y``'s bits: NumPy's ``maximum(x, 0)`` is never
    negative, not even -0.0 (checked by the tests; float16 and CuPy give no such guarantee and take
    the general path), so read as a signed integer ``y`` is 0 exactly where the gradient is cut and
    positive elsewhere; ``(-bits) >> (width - 1)`` is then all ones or all zeros, ANDed with
    ``g``'s bits: three integer passes, no bool array and no conversion from it (~20% faster).
    (A NaN with its sign bit set, which no arithmetic on ordinary inputs makes, is cut there.)
    """
    gd, yd = g._data, y._data
    it = _SIGNED_OF_SIZE.get(yd.dtype.itemsize)
    if type(yd) is not np.ndarray and gd.shape == yd.shape:
        # on the GPU: one comparison and one select (no logical_not, no bit tricks)
        out = get_array_module(yd).where(yd <= 0, gd.dtype.type(0), gd)
    elif (yd.dtype not in _BIT_MASKABLE or type(yd) is not np.ndarray or gd.dtype != yd.dtype
            or gd.shape != yd.shape):
        out = where_grad(g, get_array_module(yd).logical_not(yd <= 0))._data
    else:
        bits = writable(np.negative(yd.view(it)))
        np.right_shift(bits, 8 * it.itemsize - 1, out=bits)
        np.bitwise_and(bits, gd.view(it), out=bits)
        out = bits.view(gd.dtype)
    return record("ReluBackward", out, (g,), lambda gg, needs: (relu_backward(gg, y),))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, ``negative_slope * input`` elsewhere."""
    if inplace:
        return leaky_relu_(input, negative_slope)
    a = _data(input, "leaky_relu")
    xp = get_array_module(a)
    pos = a > 0
    out = xp.where(pos, a, a * negative_slope)

    def backward(g, needs):
        factor = xp.where(pos, 1.0, negative_slope).astype(g._data.dtype, copy=False)
        return (scale_grad(g, factor),)

    return record("LeakyRelu", out, (input,), backward)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """Clip to ``[min_val, max_val]``; the gradient is 0 outside and at the bounds (PyTorch)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    if inplace:
        return hardtanh_(input, min_val, max_val)
    a = _data(input, "hardtanh")
    xp = get_array_module(a)
    out = writable(xp.maximum(a, min_val))
    xp.minimum(out, max_val, out=out)

    def backward(g, needs):
        d = input._data
        return (where_grad(g, (d > min_val) & (d < max_val)),)

    return record("Hardtanh", out, (input,), backward, (input,))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(input, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``input`` where it is above ``threshold``, ``value`` elsewhere."""
    if inplace:
        return threshold_(input, threshold, value)
    a = _data(input, "threshold")
    xp = get_array_module(a)
    keep = a > threshold
    out = xp.where(keep, a, xp.asarray(value, dtype=a.dtype))
    return record("Threshold", out, (input,), lambda g, needs: (where_grad(g, keep),))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``input`` where ``|input| > lambd``, 0 elsewhere."""
    a = _data(input, "hardshrink")
    xp = get_array_module(a)
    keep = (a > lambd) | (a < -lambd)
    out = xp.where(keep, a, xp.zeros((), dtype=a.dtype))
    return record("Hardshrink", out, (input,), lambda g, needs: (where_grad(g, keep),))


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``input - lambd`` above ``lambd``, ``input + lambd`` below ``-lambd``, 0 between."""
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found {lambd}")
    a = _data(input, "softshrink")
    xp = get_array_module(a)
    keep = (a > lambd) | (a < -lambd)
    out = xp.where(a > lambd, a - lambd, xp.where(a < -lambd, a + lambd, xp.zeros((), a.dtype)))
    return record("Softshrink", out, (input,), lambda g, needs: (where_grad(g, keep),))


# ------------------------------------------------------------------- exponential linear units


def _elu(name: str, input: Tensor, alpha: float, scale: float, input_scale: float) -> Tensor:
    """PyTorch's shared form of elu, selu and celu:
    ``scale * input`` where positive, ``scale * alpha * (exp(input * input_scale) - 1)`` elsewhere.
    """
    a = _fdata(input, name)
    xp = get_array_module(a)
    pos = a > 0
    neg = xp.expm1(xp.minimum(a, 0) * input_scale)  # min(): no overflow where the branch is unused
    neg *= scale * alpha
    out = xp.where(pos, a * scale if scale != 1 else a, neg)

    def backward(g, needs):
        inner = clamp_max(input, 0) * input_scale if input_scale != 1 else clamp_max(input, 0)
        slope = exp(inner) * (scale * alpha * input_scale)
        gpos = g * scale if scale != 1 else g
        return (where(Tensor._wrap(pos), gpos, g * slope),)

    return record(name.capitalize(), out, (input,), backward, (input,))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` where positive, ``alpha * (exp(input) - 1)`` elsewhere."""
    if inplace:
        return elu_(input, alpha)
    return _elu("elu", input, alpha, 1.0, 1.0)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Self-normalising elu with the fixed ``alpha`` and ``scale`` of Klambauer et al."""
    if inplace:
        return selu_(input)
    return _elu("selu", input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, input) + min(0, alpha * (exp(input / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu: alpha must not be 0")
    if inplace:
        return celu_(input, alpha)
    return _elu("celu", input, alpha, 1.0, 1.0 / alpha)


# -------------------------------------------------------------------------- smooth activations


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``input * Phi(input)`` with Phi the standard normal CDF; ``approximate='tanh'`` uses
    ``0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))``."""
    a = _fdata(input, "gelu")
    xp = get_array_module(a)
    if approximate == "none":
        out = _erf_and_erfc(a * _SQRT_HALF, False)
        out += 1
        out *= a
        out *= 0.5

        def backward(g, needs):
            x = input
            cdf = (erf(x * _SQRT_HALF) + 1) * 0.5
            pdf = exp(x * x * -0.5) * _INV_SQRT_2PI
            return (g * (cdf + x * pdf),)
    elif approximate == "tanh":
        t = xp.tanh((a + _GELU_C * a * a * a) * _SQRT_2_OVER_PI)
        t += 1
        out = t * a
        out *= 0.5

        def backward(g, needs):
            x = input
            x2 = x * x
            th = tanh((x + x2 * x * _GELU_C) * _SQRT_2_OVER_PI)
            dinner = (x2 * (3 * _GELU_C) + 1) * _SQRT_2_OVER_PI
            return (g * ((th + 1) * 0.5 + x * 0.5 * (1 - th * th) * dinner),)
    else:
        raise RuntimeError(f"gelu: approximate argument must be either 'none' or 'tanh', "
                           f"got {approximate!r}")
    return record("Gelu", out, (input,), backward, (input,))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * sigmoid(input)`` (also called swish)."""
    if inplace:
        return silu_(input)
    a = _fdata(input, "silu")
    out = sigmoid(Tensor._wrap(a))._data
    out *= a

    def backward(g, needs):
        s = sigmoid(input)
        return (g * s * (input * (1 - s) + 1),)

    return record("Silu", out, (input,), backward, (input,))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * input)) / beta``, and ``input`` itself where ``beta * input`` exceeds
    ``threshold`` (PyTorch's switch to the linear function)."""
    a = _fdata(input, "softplus")
    xp = get_array_module(a)
    bx = a * beta if beta != 1 else a
    linear = bx > threshold
    soft = xp.logaddexp(0, bx)
    if beta != 1:
        soft /= beta
    out = xp.where(linear, a, soft)

    def backward(g, needs):
        s = sigmoid(input * beta if beta != 1 else input)
        return (where(Tensor._wrap(linear), g, g * s),)

    return record("Softplus", out, (input,), backward, (input,))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * tanh(softplus(input))``."""
    if inplace:
        return mish_(input)
    a = _fdata(input, "mish")
    xp = get_array_module(a)
    out = xp.tanh(xp.logaddexp(0, a))
    out *= a

    def backward(g, needs):
        t = tanh(softplus(input))
        s = sigmoid(input)
        return (g * (t + input * s * (1 - t * t)),)

    return record("Mish", out, (input,), backward, (input,))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``clip(input + 3, 0, 6) / 6``, a piecewise-linear sigmoid."""
    if inplace:
        return hardsigmoid_(input)
    a = _fdata(input, "hardsigmoid")
    xp = get_array_module(a)
    out = writable(a + 3)
    xp.clip(out, 0, 6, out=out)
    out /= 6

    def backward(g, needs):
        d = input._data
        factor = ((d > -3) & (d < 3)).astype(g._data.dtype)
        factor /= 6
        return (scale_grad(g, factor),)

    return record("Hardsigmoid", out, (input,), backward, (input,))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * clip(input + 3, 0, 6) / 6``."""
    if inplace:
        return hardswish_(input)
    a = _fdata(input, "hardswish")
    xp = get_array_module(a)
    out = writable(a + 3)
    xp.clip(out, 0, 6, out=out)
    out *= a
    out /= 6

    def backward(g, needs):
        # PyTorch's pieces: 0 up to -3, x/3 + 1/2 between, 1 from 3 on
        d = input._data
        middle = g * (input / 3 + 0.5)
        return (where(Tensor._wrap(d <= -3), 0.0,
                      where(Tensor._wrap(d < 3), middle, g)),)

    return record("Hardswish", out, (input,), backward, (input,))


def softsign(input: Tensor) -> Tensor:
    """``input / (1 + |input|)``."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """``input - tanh(input)``."""
    return input - tanh(input)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Leaky relu with a learned slope: one per channel (dimension 1) or one shared."""
    n = weight.numel()
    if n != 1:
        if input.ndim < 2 or input.shape[1] != n:
            raise RuntimeError(
                f"prelu: mismatch in parameter count: weight has {n} elements but the input of "
                f"shape {tuple(input.shape)} has {input.shape[1] if input.ndim > 1 else 1} "
                "channels (dimension 1)")
        weight = weight.reshape((n,) + (1,) * (input.ndim - 2))
    elif weight.ndim:
        weight = weight.reshape(())
    return where(input > 0, input, weight * input)


# ---------------------------------------------------------------------------- in-place forms

relu_ = inplace_method(relu, "relu_")
sigmoid_ = inplace_method(sigmoid, "sigmoid_")
leaky_relu_ = inplace_method(leaky_relu, "leaky_relu_")
hardtanh_ = inplace_method(hardtanh, "hardtanh_")
threshold_ = inplace_method(threshold, "threshold_")
elu_ = inplace_method(elu, "elu_")
selu_ = inplace_method(selu, "selu_")
celu_ = inplace_method(celu, "celu_")
silu_ = inplace_method(silu, "silu_")
mish_ = inplace_method(mish, "mish_")
hardsigmoid_ = inplace_method(hardsigmoid, "hardsigmoid_")
hardswish_ = inplace_method(hardswish, "hardswish_")

# The names ember.nn.functional re-exports (torch.nn.functional's activations).
FUNCTIONAL = (
    "sigmoid", "logsigmoid", "relu", "relu_", "leaky_relu", "leaky_relu_", "hardtanh",
    "hardtanh_", "relu6", "threshold", "threshold_", "hardshrink", "softshrink", "elu", "elu_",
    "selu", "selu_", "celu", "celu_", "gelu", "silu", "softplus", "mish", "hardsigmoid",
    "hardswish", "softsign", "tanhshrink", "prelu", "tanh",
)

# ember.<name>, as torch.<name>
__all__ = ["sigmoid", "sigmoid_", "relu", "relu_", "selu", "selu_", "celu", "celu_", "threshold",
           "threshold_", "hardshrink", "prelu"]

attach(relu=relu, relu_=relu_, sigmoid=sigmoid, sigmoid_=sigmoid_, hardshrink=hardshrink,
       prelu=prelu)
