"""Elementwise ops: arithmetic and operators. Each op's forward and gradient read as one thought."""

from __future__ import annotations

from ember import backend
from ember.ops.common import (
    Tensor,
    attach,
    binary_operands,
    broadcast_error,
    inplace_method,
    record,
    unbroadcast,
)

# ------------------------------------------------------------------------------------ arithmetic


def add(a, b, *, alpha=1) -> Tensor:
    """``a + alpha * b`` with broadcasting."""
    if alpha != 1:
        b = b * alpha
    ta, tb, x, y = binary_operands("add", a, b)
    try:
        out = x + y
    except ValueError:
        raise broadcast_error("add", x.shape, y.shape) from None
    sa = ta.shape if ta is not None else None
    sb = tb.shape if tb is not None else None

    def backward(g):
        return (unbroadcast(g, sa) if sa is not None else None,
                unbroadcast(g, sb) if sb is not None else None)

    return record("Add", out, _present(ta, tb), _keep(backward, ta, tb))


def sub(a, b, *, alpha=1) -> Tensor:
    """``a - alpha * b`` with broadcasting."""
    if alpha != 1:
        b = b * alpha
    ta, tb, x, y = binary_operands("sub", a, b)
    if getattr(x, "dtype", None) == bool or getattr(y, "dtype", None) == bool:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    try:
        out = x - y
    except ValueError:
        raise broadcast_error("sub", x.shape, y.shape) from None
    sa = ta.shape if ta is not None else None
    sb = tb.shape if tb is not None else None

    def backward(g):
        return (unbroadcast(g, sa) if sa is not None else None,
                unbroadcast(-g, sb) if sb is not None else None)

    return record("Sub", out, _present(ta, tb), _keep(backward, ta, tb))


def mul(a, b) -> Tensor:
    """``a * b`` with broadcasting."""
    ta, tb, x, y = binary_operands("mul", a, b)
    try:
        out = x * y
    except ValueError:
        raise broadcast_error("mul", x.shape, y.shape) from None

    def backward(g):
        return (unbroadcast(g * (tb if tb is not None else y), ta.shape) if ta is not None else None,
                unbroadcast(g * (ta if ta is not None else x), tb.shape) if tb is not None else None)

    return record("Mul", out, _present(ta, tb), _keep(backward, ta, tb), _present(ta, tb))


def div(a, b, *, rounding_mode=None) -> Tensor:
    """``a / b`` (true division; integers give the default float dtype, as in PyTorch).

    ``rounding_mode="floor"`` or ``"trunc"`` give integer-style division (no gradient).
    """
    ta, tb, x, y = binary_operands("div", a, b)
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError("div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                             f"but found {rounding_mode!r}")
        xp = backend.get_array_module(x if hasattr(x, "dtype") else y)
        q = xp.floor_divide(x, y) if rounding_mode == "floor" else xp.trunc(xp.true_divide(x, y))
        if getattr(x, "dtype", None) is not None and x.dtype.kind in "iu":
            q = q.astype(x.dtype)
        return Tensor._wrap(q)
    fdt = backend.get_default_dtype().np
    xd, yd = getattr(x, "dtype", None), getattr(y, "dtype", None)
    if xd is not None and xd.kind != "f":  # integer tensors never need gradients
        x = x.astype(yd if yd is not None and yd.kind == "f" else fdt)
    if yd is not None and yd.kind != "f":
        y = y.astype(x.dtype if hasattr(x, "dtype") else fdt)
    try:
        out = x / y
    except ValueError:
        raise broadcast_error("div", x.shape, y.shape) from None

    def backward(g):
        yy = tb if tb is not None else y
        ga = unbroadcast(g / yy, ta.shape) if ta is not None else None
        gb = None
        if tb is not None:
            xx = ta if ta is not None else x
            gb = unbroadcast(-g * xx / (yy * yy), tb.shape)
        return ga, gb

    return record("Div", out, _present(ta, tb), _keep(backward, ta, tb), _present(ta, tb))


def neg(a: Tensor) -> Tensor:
    """``-a``."""
    if a._data.dtype == bool:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return record("Neg", -a._data, (a,), lambda g: (-g,))


def pow(a, b) -> Tensor:
    """``a ** b`` with broadcasting; either side may be a number."""
    ta, tb, x, y = binary_operands("pow", a, b)
    xp = backend.get_array_module(x)
    if type(y) is int and getattr(x, "dtype", None) is not None and x.dtype.kind in "iu" and y < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    try:
        out = xp.power(x, y)
    except ValueError:
        raise broadcast_error("pow", x.shape, y.shape) from None

    def backward(g):
        ga = gb = None
        if ta is not None:
            base = ta
            expo = tb if tb is not None else y
            ga = unbroadcast(g * expo * base ** (expo - 1), ta.shape)
        if tb is not None:
            base = ta if ta is not None else Tensor._wrap(xp.asarray(x))
            res = base ** (tb if tb is not None else y)
            # d(x^y)/dy = x^y * log(x); where x == 0 PyTorch gives 0 rather than nan
            logx = base.log()
            safe = (base == 0)
            logx = logx.masked_fill(safe, 0.0) if safe._data.any() else logx
            gb = unbroadcast(g * res * logx, tb.shape)
        return ga, gb

    return record("Pow", out, _present(ta, tb), _keep(backward, ta, tb), _present(ta, tb))


def rsub(a, b) -> Tensor:
    """``b - a`` (the reflected ``-``)."""
    return sub(b, a)


def rdiv(a, b) -> Tensor:
    """``b / a`` (the reflected ``/``)."""
    return div(b, a)


def rpow(a, b) -> Tensor:
    """``b ** a`` (the reflected ``**``)."""
    return pow(b, a)


def radd(a, b) -> Tensor:
    return add(b, a)


def rmul(a, b) -> Tensor:
    return mul(b, a)


def cast(a: Tensor, dtype) -> Tensor:
    """Convert to ``dtype``; the gradient flows back (converted) between floating dtypes."""
    d = backend.to_dtype(dtype).np
    if a._data.dtype == d:
        return a
    src = a.dtype
    out = a._data.astype(d)
    if d.kind != "f":
        return Tensor._wrap(out)
    return record("ToCopy", out, (a,), lambda g: (cast(g, src),))


def _present(ta, tb):
    """The Tensor inputs of a binary op, in order (numbers are not inputs)."""
    if ta is None:
        return (tb,)
    if tb is None:
        return (ta,)
    return (ta, tb)


def _keep(backward, ta, tb):
    """Adapt a two-sided backward to the inputs actually recorded by :func:`_present`."""
    if ta is None:
        return lambda g: (backward(g)[1],)
    if tb is None:
        return lambda g: (backward(g)[0],)
    return backward


__all__ = ["add", "sub", "mul", "div", "neg", "pow", "rsub", "true_divide", "multiply",
           "subtract", "divide", "negative"]
true_divide = divide = div
multiply = mul
subtract = sub
negative = neg

attach(
    add=add, sub=sub, mul=mul, div=div, neg=neg, pow=pow, true_divide=div, multiply=mul,
    subtract=sub, divide=div, negative=neg,
    __add__=add, __radd__=radd, __sub__=sub, __rsub__=rsub, __mul__=mul, __rmul__=rmul,
    __truediv__=div, __rtruediv__=rdiv, __neg__=neg, __pow__=pow, __rpow__=rpow,
    __pos__=lambda a: a,
    add_=inplace_method(add, "add_"), sub_=inplace_method(sub, "sub_"),
    mul_=inplace_method(mul, "mul_"), div_=inplace_method(div, "div_"),
    pow_=inplace_method(pow, "pow_"), neg_=inplace_method(neg, "neg_"),
    __iadd__=inplace_method(add, "__iadd__"), __isub__=inplace_method(sub, "__isub__"),
    __imul__=inplace_method(mul, "__imul__"), __itruediv__=inplace_method(div, "__itruediv__"),
)
