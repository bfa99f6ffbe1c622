"""Unary elementwise math: exponentials and logarithms, powers and roots, trigonometric and
hyperbolic functions, the error function, rounding, and ``clone``.

Each op computes on the raw array and records a backward written with ember ops, so that
gradients of gradients come from the same definition. Integer and bool inputs of ops whose result
is fractional (``exp``, ``sqrt``, ``sin`` ...) give the default float dtype, as in PyTorch.
Rounding ops and ``sign`` are recorded too (their results require grad like PyTorch's) but send
back a zero gradient.
"""

from __future__ import annotations

import math

import numpy as np

from ember import backend
from ember.backend import get_array_module
from ember.ops.common import (write_out, Tensor, attach, inplace_method, one_like, record,
                              zero_grad_like)
from ember.ops.compare import clamp
from ember.ops.elementwise import where_grad, writable

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _fdata(x: Tensor, name: str):
    """The raw array of ``x`` as floating point (integers and bools become the default float)."""
    try:
        a = x._data
    except AttributeError:
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}") from None
    if a.dtype.kind != "f":
        a = a.astype(backend.get_default_dtype().np)
    return a


def _data(x: Tensor, name: str):
    try:
        return x._data
    except AttributeError:
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}") from None


def _zero_backward(g, needs):
    return (zero_grad_like(g),)


# --------------------------------------------------------------------- exponentials and logs


def exp(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``e ** input``, elementwise."""
    if out is not None:
        return write_out("exp", out, exp(input))
    a = _fdata(input, "exp")
    result = Tensor._wrap(get_array_module(a).exp(a))  # what the closure reads (no cycle)

    def backward(g, needs):
        return (g * result,)

    return record("Exp", result, (input,), backward)


def exp2(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``2 ** input``, elementwise."""
    if out is not None:
        return write_out("exp2", out, exp2(input))
    a = _fdata(input, "exp2")

    def backward(g, needs):
        return (g * result * _LN2,)

    result = Tensor._wrap(get_array_module(a).exp2(a))  # what the closure reads (no cycle)
    return record("Exp2", result, (input,), backward)


def expm1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``exp(input) - 1``, accurate for small inputs."""
    if out is not None:
        return write_out("expm1", out, expm1(input))
    a = _fdata(input, "expm1")

    def backward(g, needs):
        return (g * (result + 1),)

    result = Tensor._wrap(get_array_module(a).expm1(a))  # what the closure reads (no cycle)
    return record("Expm1", result, (input,), backward)


def log(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Natural logarithm (``nan`` below zero, ``-inf`` at zero)."""
    if out is not None:
        return write_out("log", out, log(input))
    a = _fdata(input, "log")
    return record("Log", get_array_module(a).log(a), (input,), lambda g, needs: (g / input,), (input,))


def log2(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Base-2 logarithm."""
    if out is not None:
        return write_out("log2", out, log2(input))
    a = _fdata(input, "log2")
    return record("Log2", get_array_module(a).log2(a), (input,),
                  lambda g, needs: (g / (input * _LN2),), (input,))


def log10(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Base-10 logarithm."""
    if out is not None:
        return write_out("log10", out, log10(input))
    a = _fdata(input, "log10")
    return record("Log10", get_array_module(a).log10(a), (input,),
                  lambda g, needs: (g / (input * _LN10),), (input,))


def log1p(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``log(1 + input)``, accurate for small inputs."""
    if out is not None:
        return write_out("log1p", out, log1p(input))
    a = _fdata(input, "log1p")
    return record("Log1p", get_array_module(a).log1p(a), (input,),
                  lambda g, needs: (g / (input + 1),), (input,))


# ----------------------------------------------------------------------------- powers, roots


def sqrt(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Square root (``nan`` below zero)."""
    if out is not None:
        return write_out("sqrt", out, sqrt(input))
    a = _fdata(input, "sqrt")

    def backward(g, needs):
        return (g / (result * 2),)

    result = Tensor._wrap(get_array_module(a).sqrt(a))  # what the closure reads (no cycle)
    return record("Sqrt", result, (input,), backward)


def rsqrt(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``1 / sqrt(input)``."""
    if out is not None:
        return write_out("rsqrt", out, rsqrt(input))
    a = _fdata(input, "rsqrt")
    xp = get_array_module(a)

    def backward(g, needs):
        return (g * (result * result * result) * -0.5,)

    out = writable(xp.sqrt(a))
    xp.reciprocal(out, out=out)
    result = Tensor._wrap(out)  # what the closure reads (no cycle)
    return record("Rsqrt", result, (input,), backward)


def square(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``input * input`` (integers stay integers, as in PyTorch)."""
    if out is not None:
        return write_out("square", out, square(input))
    a = _data(input, "square")
    if a.dtype == np.bool_:
        a = a.astype(np.int64)
    return record("Square", a * a, (input,), lambda g, needs: (g * input * 2,), (input,))


def reciprocal(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``1 / input``."""
    if out is not None:
        return write_out("reciprocal", out, reciprocal(input))
    a = _fdata(input, "reciprocal")

    def backward(g, needs):
        return (-g * result * result,)

    result = Tensor._wrap(get_array_module(a).reciprocal(a))  # what the closure reads (no cycle)
    return record("Reciprocal", result, (input,), backward)


def abs(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Absolute value; the gradient at zero is zero, as in PyTorch."""
    if out is not None:
        return write_out("abs", out, abs(input))
    a = _data(input, "abs")
    xp = get_array_module(a)
    out = a.copy() if a.dtype == np.bool_ else xp.abs(a)
    return record("Abs", out, (input,), lambda g, needs: (g * sign(input),), (input,))


def sign(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """-1, 0 or 1 by the sign of each element (``nan`` stays ``nan``); zero gradient."""
    if out is not None:
        return write_out("sign", out, sign(input))
    a = _data(input, "sign")
    out = a.copy() if a.dtype == np.bool_ else get_array_module(a).sign(a)
    return record("Sign", out, (input,), _zero_backward)


# ------------------------------------------------------------------------------ trigonometry


def sin(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Sine (radians)."""
    if out is not None:
        return write_out("sin", out, sin(input))
    a = _fdata(input, "sin")
    return record("Sin", get_array_module(a).sin(a), (input,), lambda g, needs: (g * cos(input),),
                  (input,))


def cos(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Cosine (radians)."""
    if out is not None:
        return write_out("cos", out, cos(input))
    a = _fdata(input, "cos")
    return record("Cos", get_array_module(a).cos(a), (input,), lambda g, needs: (g * -sin(input),),
                  (input,))


def tan(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Tangent (radians)."""
    if out is not None:
        return write_out("tan", out, tan(input))
    a = _fdata(input, "tan")

    def backward(g, needs):
        return (g * (result * result + 1),)

    result = Tensor._wrap(get_array_module(a).tan(a))  # what the closure reads (no cycle)
    return record("Tan", result, (input,), backward)


def asin(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inverse sine (``nan`` outside [-1, 1])."""
    if out is not None:
        return write_out("asin", out, asin(input))
    a = _fdata(input, "asin")
    return record("Asin", get_array_module(a).arcsin(a), (input,),
                  lambda g, needs: (g * rsqrt(1 - input * input),), (input,))


def acos(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inverse cosine (``nan`` outside [-1, 1])."""
    if out is not None:
        return write_out("acos", out, acos(input))
    a = _fdata(input, "acos")
    return record("Acos", get_array_module(a).arccos(a), (input,),
                  lambda g, needs: (-g * rsqrt(1 - input * input),), (input,))


def atan(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inverse tangent."""
    if out is not None:
        return write_out("atan", out, atan(input))
    a = _fdata(input, "atan")
    return record("Atan", get_array_module(a).arctan(a), (input,),
                  lambda g, needs: (g / (input * input + 1),), (input,))


def sinh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Hyperbolic sine."""
    if out is not None:
        return write_out("sinh", out, sinh(input))
    a = _fdata(input, "sinh")
    return record("Sinh", get_array_module(a).sinh(a), (input,), lambda g, needs: (g * cosh(input),),
                  (input,))


def cosh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Hyperbolic cosine."""
    if out is not None:
        return write_out("cosh", out, cosh(input))
    a = _fdata(input, "cosh")
    return record("Cosh", get_array_module(a).cosh(a), (input,), lambda g, needs: (g * sinh(input),),
                  (input,))


def tanh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Hyperbolic tangent."""
    if out is not None:
        return write_out("tanh", out, tanh(input))
    a = _fdata(input, "tanh")
    result = Tensor._wrap(get_array_module(a).tanh(a))  # what the closure reads (no cycle)

    def backward(g, needs):
        return (tanh_backward(g, result),)

    return record("Tanh", result, (input,), backward)


def tanh_backward(g: Tensor, y: Tensor) -> Tensor:
    """``g * (1 - y**2)``: the gradient of ``tanh`` from its output ``y``, fused into one op.

    One op instead of three keeps backward cheap; it records its own derivative for higher orders.
    """
    gd, yd = g._data, y._data
    out = writable(yd * yd)
    get_array_module(out).subtract(one_like(out), out, out=out)
    out *= gd

    def backward(gg, needs):
        return gg * (1 - y * y) if needs[0] else None, gg * g * y * -2 if needs[1] else None

    return record("TanhBackward", out, (g, y), backward, (g, y))


def asinh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inverse hyperbolic sine."""
    if out is not None:
        return write_out("asinh", out, asinh(input))
    a = _fdata(input, "asinh")
    return record("Asinh", get_array_module(a).arcsinh(a), (input,),
                  lambda g, needs: (g * rsqrt(input * input + 1),), (input,))


def acosh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inverse hyperbolic cosine (``nan`` below 1)."""
    if out is not None:
        return write_out("acosh", out, acosh(input))
    a = _fdata(input, "acosh")
    return record("Acosh", get_array_module(a).arccosh(a), (input,),
                  lambda g, needs: (g * rsqrt(input * input - 1),), (input,))


def atanh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inverse hyperbolic tangent (``nan`` outside [-1, 1])."""
    if out is not None:
        return write_out("atanh", out, atanh(input))
    a = _fdata(input, "atanh")
    return record("Atanh", get_array_module(a).arctanh(a), (input,),
                  lambda g, needs: (g / (1 - input * input),), (input,))


# --------------------------------------------------------------------------- error function

# erf is computed in float64 from two expansions, each used where it converges fast:
#   |x| < 2.5:  erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n x (2x^2)^n / (1*3*...*(2n+1))
#               (all terms positive, so no cancellation; the term count follows from max |x|)
#   |x| >= 2.5: erfc(x) = exp(-x^2)/sqrt(pi) * 2x / (2x^2+1 - 1*2/(2x^2+5 - 3*4/(2x^2+9 - ...)))
#               (a continued fraction; 20 levels reach float64 precision from 2.5 on)
# Both agree with math.erf to a few units in the last place over the whole line. erfc needs
# relative accuracy where it is small, so it moves to the fraction from 1.2 on (60 levels there).
_ERF_SPLIT, _ERF_LEVELS = 2.5, 20
_ERFC_SPLIT, _ERFC_LEVELS = 1.2, 60


def _series_terms(m: float) -> int:
    """How many series terms reach float64 precision for every |x| <= m."""
    z = 2.0 * m * m
    term = total = 1.0
    n = 0
    while term > 1e-17 * total and n < 200:
        n += 1
        term *= z / (2 * n + 1)
        total += term
    return n + 1


def _erf_series(x):
    xp = get_array_module(x)
    m = float(xp.max(xp.abs(x))) if x.size else 0.0
    z = 2.0 * x * x
    term = x.copy()
    total = x.copy()
    for n in range(1, _series_terms(m)):
        term *= z
        term *= 1.0 / (2 * n + 1)
        total += term
    return _TWO_OVER_SQRT_PI * xp.exp(-x * x) * total


def _erfc_fraction(ax, levels: int):
    """erfc(|x|) for large enough |x| (``ax`` is already non-negative and clipped)."""
    xp = get_array_module(ax)
    s = 2.0 * ax * ax
    f = s + (4 * levels + 1)
    for k in range(levels, 0, -1):
        f = s + (4 * k - 3) - ((2 * k - 1) * (2 * k)) / f
    return xp.exp(-ax * ax) * (2.0 / math.sqrt(math.pi)) * ax / f


def _erf_and_erfc(a, want_erfc: bool):
    """erf (or erfc) of an array, computed in float64 and returned in ``a``'s dtype."""
    xp = get_array_module(a)
    if xp is not np:
        import cupyx.scipy.special as special

        return special.erfc(a) if want_erfc else special.erf(a)
    x = a.astype(np.float64)
    # erf(30) is 1 to float64 precision; clipping keeps inf out of the continued fraction
    ax = np.minimum(np.abs(x), 30.0)
    split, levels = (_ERFC_SPLIT, _ERFC_LEVELS) if want_erfc else (_ERF_SPLIT, _ERF_LEVELS)
    small = ax < split  # False for nan, which then goes through the fraction and stays nan
    if small.all():
        out = _erf_series(x)
        if want_erfc:
            out = 1.0 - out
    else:
        out = np.empty_like(x)
        if small.any():
            part = _erf_series(x[small])
            out[small] = 1.0 - part if want_erfc else part
        big = ~small
        tail = _erfc_fraction(ax[big], levels)
        neg = x[big] < 0
        if want_erfc:
            out[big] = np.where(neg, 2.0 - tail, tail)
        else:
            one_minus = 1.0 - tail
            out[big] = np.where(neg, -one_minus, one_minus)
    return out.astype(a.dtype, copy=False)


def erf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The Gauss error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``."""
    if out is not None:
        return write_out("erf", out, erf(input))
    a = _fdata(input, "erf")
    return record("Erf", _erf_and_erfc(a, False), (input,),
                  lambda g, needs: (g * exp(-(input * input)) * _TWO_OVER_SQRT_PI,), (input,))


def erfc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The complementary error function ``1 - erf(input)``, accurate in the tails."""
    if out is not None:
        return write_out("erfc", out, erfc(input))
    a = _fdata(input, "erfc")
    return record("Erfc", _erf_and_erfc(a, True), (input,),
                  lambda g, needs: (g * exp(-(input * input)) * -_TWO_OVER_SQRT_PI,), (input,))


# -------------------------------------------------------------------------------- rounding


def floor(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Round down to an integer value (integer tensors are returned as a copy)."""
    if out is not None:
        return write_out("floor", out, floor(input))
    a = _data(input, "floor")
    out = get_array_module(a).floor(a) if a.dtype.kind == "f" else a.copy()
    return record("Floor", out, (input,), _zero_backward)


def ceil(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Round up to an integer value."""
    if out is not None:
        return write_out("ceil", out, ceil(input))
    a = _data(input, "ceil")
    out = get_array_module(a).ceil(a) if a.dtype.kind == "f" else a.copy()
    return record("Ceil", out, (input,), _zero_backward)


def trunc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Round toward zero."""
    if out is not None:
        return write_out("trunc", out, trunc(input))
    a = _data(input, "trunc")
    out = get_array_module(a).trunc(a) if a.dtype.kind == "f" else a.copy()
    return record("Trunc", out, (input,), _zero_backward)


def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:
    """Round to the nearest value with ``decimals`` decimals (ties to even, as in PyTorch)."""
    if out is not None:
        return write_out("round", out, round(input, decimals=decimals))
    a = _data(input, "round")
    out = get_array_module(a).round(a, decimals) if a.dtype.kind == "f" else a.copy()
    return record("Round", out, (input,), _zero_backward)


def frac(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The fractional part ``input - trunc(input)``, with the sign of ``input``."""
    if out is not None:
        return write_out("frac", out, frac(input))
    a = _data(input, "frac")
    if a.dtype.kind != "f":
        raise RuntimeError(f"frac: expected a floating point tensor, got {backend.dtype_of(a)}")
    return record("Frac", a - get_array_module(a).trunc(a), (input,), lambda g, needs: (g,))


# --------------------------------------------------------------------- logit, sinc, angles


def logit(input: Tensor, eps: float | None = None, *, out: Tensor | None = None) -> Tensor:
    """``log(p / (1 - p))``, the inverse of ``sigmoid``; with ``eps``, ``p`` is first clamped to
    ``[eps, 1 - eps]``.

    The gradient is PyTorch's: ``g / (p * (1 - p))``, NaN outside ``[0, 1]`` without ``eps`` and
    0 outside ``[eps, 1 - eps]`` with it.
    """
    if out is not None:
        return write_out("logit", out, logit(input, eps))
    a = _fdata(input, "logit")
    xp = get_array_module(a)
    z = a if eps is None else xp.clip(a, eps, 1.0 - eps)
    out = writable(xp.log(z / (1 - z)))

    def backward(g, needs):
        if eps is None:
            ga = g / (input * (1 - input))
            outside = (a < 0) | (a > 1)
            if outside.any():
                ga = ga + Tensor._wrap(xp.where(outside, xp.nan, 0).astype(ga._data.dtype))
            return (ga,)
        # inside the range the clamp is the identity; outside its gradient (and the mask) are 0,
        # and the clamped denominator cannot be 0 there, so nothing divides 0 by 0
        inside = (a >= eps) & (a <= 1.0 - eps)
        zc = clamp(input, eps, 1.0 - eps)
        return (where_grad(g, inside) / (zc * (1 - zc)),)

    return record("Logit", out, (input,), backward, (input,))


def sinc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The normalized sinc function ``sin(pi x) / (pi x)``, 1 at 0."""
    if out is not None:
        return write_out("sinc", out, sinc(input))
    a = _fdata(input, "sinc")
    xp = get_array_module(a)

    def backward(g, needs):
        # d/dx sinc(x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0 (PyTorch's value there): with
        # the denominator made 1 at 0 the numerator 1 - 1 gives exactly that, and no 0/0 enters
        # the graph for higher derivatives
        zero = a == 0
        safe = input + Tensor._wrap(zero.astype(a.dtype)) if zero.any() else input
        return (g * ((cos(input * math.pi) - result) / safe),)

    result = Tensor._wrap(writable(xp.sinc(a)))  # what the closure reads (no cycle)
    return record("Sinc", result, (input,), backward, (input,))


_DEG_TO_RAD = math.pi / 180.0
_RAD_TO_DEG = 180.0 / math.pi


def deg2rad(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Degrees to radians (``input * pi / 180``)."""
    if out is not None:
        return write_out("deg2rad", out, deg2rad(input))
    a = _fdata(input, "deg2rad")
    return record("Deg2rad", a * _DEG_TO_RAD, (input,), lambda g, needs: (g * _DEG_TO_RAD,))


def rad2deg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Radians to degrees (``input * 180 / pi``)."""
    if out is not None:
        return write_out("rad2deg", out, rad2deg(input))
    a = _fdata(input, "rad2deg")
    return record("Rad2deg", a * _RAD_TO_DEG, (input,), lambda g, needs: (g * _RAD_TO_DEG,))


# ------------------------------------------------------------------------------------ clone


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy of ``input`` with its own memory; gradients flow back unchanged."""
    a = _data(input, "clone")
    return record("Clone", a.copy(), (input,), lambda g, needs: (g,))


__all__ = [
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "square",
    "reciprocal", "abs", "absolute", "sign", "sgn", "sin", "cos", "tan", "asin", "acos", "atan",
    "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc",
    "floor", "ceil", "trunc", "fix", "round", "frac", "clone", "logit", "sinc", "deg2rad",
    "rad2deg", "exp_", "log_", "sqrt_", "abs_", "tanh_",
]
absolute = abs
sgn = sign
arcsin, arccos, arctan = asin, acos, atan
fix = trunc

_INPLACE = {
    name + "_": inplace_method(fn, name + "_")
    for name, fn in dict(
        exp=exp, exp2=exp2, expm1=expm1, log=log, log2=log2, log10=log10, log1p=log1p, sqrt=sqrt,
        rsqrt=rsqrt, square=square, reciprocal=reciprocal, abs=abs, absolute=abs, sign=sign,
        sgn=sign, sin=sin, cos=cos, tan=tan, asin=asin, acos=acos, atan=atan, arcsin=asin,
        arccos=acos, arctan=atan, sinh=sinh, cosh=cosh, tanh=tanh, asinh=asinh, acosh=acosh,
        atanh=atanh, erf=erf, erfc=erfc, floor=floor, ceil=ceil, trunc=trunc, fix=trunc,
        round=round, frac=frac, logit=logit, sinc=sinc, deg2rad=deg2rad, rad2deg=rad2deg,
    ).items()
}
exp_, log_, sqrt_, abs_, tanh_ = (_INPLACE[n] for n in ("exp_", "log_", "sqrt_", "abs_", "tanh_"))

attach(
    exp=exp, exp2=exp2, expm1=expm1, log=log, log2=log2, log10=log10, log1p=log1p, sqrt=sqrt,
    rsqrt=rsqrt, square=square, reciprocal=reciprocal, abs=abs, absolute=abs, __abs__=abs,
    sign=sign, sgn=sign, sin=sin, cos=cos, tan=tan, asin=asin, acos=acos, atan=atan, arcsin=asin,
    arccos=acos, arctan=atan, sinh=sinh, cosh=cosh, tanh=tanh, asinh=asinh, acosh=acosh,
    atanh=atanh, erf=erf, erfc=erfc, floor=floor, ceil=ceil, trunc=trunc, fix=trunc, round=round,
    frac=frac, clone=clone, logit=logit, sinc=sinc, deg2rad=deg2rad, rad2deg=rad2deg, **_INPLACE,
)
