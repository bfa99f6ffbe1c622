"""Comparisons and selections: ``eq`` ... ``ge`` (and their operators), logical and bitwise ops,
``isnan``/``isinf``/``isfinite``, ``where``, ``clamp``, ``maximum``/``minimum``/``fmax``/``fmin``,
``equal``/``allclose``/``isclose``.

Comparisons give bool tensors and no gradient. The selecting ops (``where``, ``clamp``,
``maximum`` ...) send the gradient to whichever input each element came from, with PyTorch's
choices at ties: ``maximum``/``minimum`` split it half and half, ``clamp`` passes it through at the
bounds themselves.
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

from ember import backend
from ember.backend import get_array_module
from ember.ops.common import (
    write_out,
    Tensor,
    attach,
    binary_operands,
    broadcast_error,
    check_same_device,
    inplace_method,
    record,
)
from ember.ops.elementwise import scale_grad, where_grad, writable

# ------------------------------------------------------------------------------ comparisons


def _xp(x, y):
    return get_array_module(x if hasattr(x, "dtype") else y)


def _broadcast_apply(name: str, input, other, fn, integral: bool = False) -> Tensor:
    """``fn`` of the two operands' arrays, broadcast together; the result has no gradient.

    ``integral`` first rejects floating operands (the bitwise ops).
    """
    _, _, x, y = binary_operands(name, input, other)
    if integral:
        _integral(name, x, y)
    try:
        return Tensor._wrap(fn(x, y))
    except ValueError:
        raise broadcast_error(name, x.shape, y.shape) from None


def eq(input, other, *, out: Tensor | None = None) -> Tensor:
    """``input == other`` elementwise, as a bool tensor."""
    if out is not None:
        return write_out("eq", out, eq(input, other))
    return _broadcast_apply("eq", input, other, operator.eq)


def ne(input, other, *, out: Tensor | None = None) -> Tensor:
    """``input != other`` elementwise, as a bool tensor."""
    if out is not None:
        return write_out("ne", out, ne(input, other))
    return _broadcast_apply("ne", input, other, operator.ne)


def lt(input, other, *, out: Tensor | None = None) -> Tensor:
    """``input < other`` elementwise, as a bool tensor."""
    if out is not None:
        return write_out("lt", out, lt(input, other))
    return _broadcast_apply("lt", input, other, operator.lt)


def le(input, other, *, out: Tensor | None = None) -> Tensor:
    """``input <= other`` elementwise, as a bool tensor."""
    if out is not None:
        return write_out("le", out, le(input, other))
    return _broadcast_apply("le", input, other, operator.le)


def gt(input, other, *, out: Tensor | None = None) -> Tensor:
    """``input > other`` elementwise, as a bool tensor."""
    if out is not None:
        return write_out("gt", out, gt(input, other))
    return _broadcast_apply("gt", input, other, operator.gt)


def ge(input, other, *, out: Tensor | None = None) -> Tensor:
    """``input >= other`` elementwise, as a bool tensor."""
    if out is not None:
        return write_out("ge", out, ge(input, other))
    return _broadcast_apply("ge", input, other, operator.ge)


def _comparable(other) -> bool:
    return isinstance(other, (Tensor, numbers.Number, np.ndarray, list, tuple))


def _op_eq(self, other):
    # ``tensor == None`` (or a string) is False in PyTorch rather than an error
    return eq(self, other) if _comparable(other) else False


def _op_ne(self, other):
    return ne(self, other) if _comparable(other) else True


# ---------------------------------------------------------------------------- logical, bitwise


def logical_and(input, other, *, out: Tensor | None = None) -> Tensor:
    """Elementwise AND of the truth values (non-zero is true); a bool tensor."""
    if out is not None:
        return write_out("logical_and", out, logical_and(input, other))
    return _broadcast_apply("logical_and", input, other, lambda x, y: _xp(x, y).logical_and(x, y))


def logical_or(input, other, *, out: Tensor | None = None) -> Tensor:
    """Elementwise OR of the truth values; a bool tensor."""
    if out is not None:
        return write_out("logical_or", out, logical_or(input, other))
    return _broadcast_apply("logical_or", input, other, lambda x, y: _xp(x, y).logical_or(x, y))


def logical_xor(input, other, *, out: Tensor | None = None) -> Tensor:
    """Elementwise XOR of the truth values; a bool tensor."""
    if out is not None:
        return write_out("logical_xor", out, logical_xor(input, other))
    return _broadcast_apply("logical_xor", input, other, lambda x, y: _xp(x, y).logical_xor(x, y))


def logical_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise NOT of the truth values; a bool tensor."""
    if out is not None:
        return write_out("logical_not", out, logical_not(input))
    a = input._data
    return Tensor._wrap(get_array_module(a).logical_not(a))


def _integral(name: str, *arrays) -> None:
    for a in arrays:
        kind = getattr(a, "dtype", None)
        if kind is not None and a.dtype.kind not in "iub":
            raise RuntimeError(f"{name}: only integer and bool tensors are supported, got "
                               f"{backend.dtype_of(a)}; for masks compare first (x > 0) or use "
                               "the logical_* ops")
        if kind is None and isinstance(a, float):
            raise RuntimeError(f"{name}: only integer and bool operands are supported, got {a!r}")


def bitwise_and(input, other, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``&`` of integer or bool tensors (the ``&`` operator)."""
    if out is not None:
        return write_out("bitwise_and", out, bitwise_and(input, other))
    return _broadcast_apply("bitwise_and", input, other, operator.and_, integral=True)


def bitwise_or(input, other, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``|`` of integer or bool tensors (the ``|`` operator)."""
    if out is not None:
        return write_out("bitwise_or", out, bitwise_or(input, other))
    return _broadcast_apply("bitwise_or", input, other, operator.or_, integral=True)


def bitwise_xor(input, other, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``^`` of integer or bool tensors (the ``^`` operator)."""
    if out is not None:
        return write_out("bitwise_xor", out, bitwise_xor(input, other))
    return _broadcast_apply("bitwise_xor", input, other, operator.xor, integral=True)


def bitwise_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``~``: logical NOT for bool tensors, bit inversion for integers."""
    if out is not None:
        return write_out("bitwise_not", out, bitwise_not(input))
    a = input._data
    _integral("bitwise_not", a)
    return Tensor._wrap(~a)


def _rand(a, b):
    return bitwise_and(b, a)


def _ror(a, b):
    return bitwise_or(b, a)


def _rxor(a, b):
    return bitwise_xor(b, a)


# ------------------------------------------------------------------------------ special values


def isnan(input: Tensor) -> Tensor:
    """True where the element is NaN."""
    a = input._data
    return Tensor._wrap(get_array_module(a).isnan(a))


def isinf(input: Tensor) -> Tensor:
    """True where the element is +inf or -inf."""
    a = input._data
    return Tensor._wrap(get_array_module(a).isinf(a))


def isposinf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """True where the element is +inf."""
    if out is not None:
        return write_out("isposinf", out, isposinf(input))
    a = input._data
    return Tensor._wrap(get_array_module(a).isposinf(a))


def isneginf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """True where the element is -inf."""
    if out is not None:
        return write_out("isneginf", out, isneginf(input))
    a = input._data
    return Tensor._wrap(get_array_module(a).isneginf(a))


def isfinite(input: Tensor) -> Tensor:
    """True where the element is neither infinite nor NaN."""
    a = input._data
    return Tensor._wrap(get_array_module(a).isfinite(a))


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None, *, out: Tensor | None = None) -> Tensor:
    """Replace NaN, +inf and -inf (by default with 0 and the dtype's largest/smallest value)."""
    if out is not None:
        return write_out("nan_to_num", out, nan_to_num(input, nan, posinf, neginf))
    a = input._data
    xp = get_array_module(a)
    out = xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)
    return record("NanToNum", out, (input,), lambda g, needs: (where_grad(g, xp.isfinite(a)),))


# -------------------------------------------------------------------------------------- where


def where(condition, input=None, other=None, *, out: Tensor | None = None) -> Tensor:
    """``input`` where ``condition`` is true, else ``other``, with broadcasting over all three.

    ``input`` and ``other`` may be numbers. With only ``condition``, the indices of its non-zero
    elements, one int64 tensor per dimension (``nonzero(as_tuple=True)``).
    """
    if out is not None:
        return write_out("where", out, where(condition, input, other))
    if not isinstance(condition, Tensor):
        raise TypeError(f"where(): argument 'condition' must be Tensor, not "
                        f"{type(condition).__name__}")
    c = condition._data
    xp = get_array_module(c)
    if input is None and other is None:
        return tuple(Tensor._wrap(i.astype(np.int64, copy=False)) for i in xp.nonzero(c))
    if c.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {backend.dtype_of(c)}")
    if isinstance(input, Tensor) or isinstance(other, Tensor):
        ta, tb, x, y = binary_operands("where", input, other)
        check_same_device("where", c, x if ta is not None else y)
    else:
        ta = tb = None
        x, y = input, other
    try:
        out = xp.where(c, x, y)
    except ValueError:
        shapes = [tuple(getattr(v, "shape", ())) for v in (c, x, y)]
        raise RuntimeError(f"where: shapes condition {shapes[0]}, input {shapes[1]} and other "
                           f"{shapes[2]} cannot be broadcast together") from None
    if ta is None and tb is None:
        if out.dtype == np.float64 and not (isinstance(input, np.floating)
                                            or isinstance(other, np.floating)):
            out = out.astype(backend.get_default_dtype().np)
        return Tensor._wrap(out)

    if tb is None:
        return record("Where", out, (ta,), lambda g, needs: (where_grad(g, c),))
    if ta is None:
        return record("Where", out, (tb,), lambda g, needs: (where_grad(g, ~c),))
    return record("Where", out, (ta, tb), lambda g, needs: (
        where_grad(g, c) if needs[0] else None, where_grad(g, ~c) if needs[1] else None))


def _tensor_where(self, condition, other) -> Tensor:
    """``self`` where ``condition`` holds, else ``other`` (``Tensor.where``)."""
    return where(condition, self, other)


# -------------------------------------------------------------------------------------- clamp


def _scalar(v):
    return v.item() if isinstance(v, np.generic) else v


def clamp(input: Tensor, min=None, max=None, *, out: Tensor | None = None) -> Tensor:
    """Limit each element to ``[min, max]`` (numbers or broadcastable tensors; one may be None).

    As in PyTorch, ``min > max`` gives ``max`` everywhere, NaN stays NaN, and the gradient
    passes where ``min <= input <= max``.
    """
    if out is not None:
        return write_out("clamp", out, clamp(input, min, max))
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_tensors(input, min, max)
    lo, hi = _scalar(min), _scalar(max)
    try:
        a = input._data
    except AttributeError:
        raise TypeError(f"clamp(): argument 'input' must be Tensor, not {type(input).__name__}") \
            from None
    if a.dtype.kind in "iub" and (type(lo) is float or type(hi) is float):
        a = a.astype(backend.get_default_dtype().np)
    xp = get_array_module(a)
    if lo is not None:
        out = writable(xp.maximum(a, lo))
        if hi is not None:
            xp.minimum(out, hi, out=out)
    else:
        out = xp.minimum(a, hi)

    def backward(g, needs):
        d = input._data
        if lo is None:
            mask = d <= hi
        elif hi is None:
            mask = d >= lo
        else:
            mask = (d >= lo) & (d <= hi)
        return (where_grad(g, mask),)

    return record("Clamp", out, (input,), backward, (input,))


def _clamp_tensors(input: Tensor, min, max) -> Tensor:
    """``clamp`` where a bound is a tensor: broadcasting, promotion, and gradients to the bounds."""
    d = input._data.dtype
    default = backend.get_default_dtype().np
    for b in (min, max):
        if isinstance(b, Tensor):
            d = backend.promote_types(d, b._data.dtype)
        elif type(b) is float and d.kind in "iub":
            d = default

    def arr(v):
        if isinstance(v, Tensor):
            return v._data if v._data.dtype == d else v._data.astype(d)
        return _scalar(v)

    a, lo, hi = arr(input), arr(min), arr(max)
    check_same_device("clamp", *[v for v in (a, lo, hi) if hasattr(v, "dtype")])
    xp = get_array_module(a)
    try:
        out = a
        if lo is not None:
            out = xp.maximum(out, lo)
        if hi is not None:
            out = xp.minimum(out, hi)
    except ValueError:
        shapes = [tuple(getattr(v, "shape", ())) for v in (a, lo, hi)]
        raise RuntimeError(f"clamp: shapes input {shapes[0]}, min {shapes[1]} and max "
                           f"{shapes[2]} cannot be broadcast together") from None
    if out is a:
        out = a.copy()
    tlo = min if isinstance(min, Tensor) else None
    thi = max if isinstance(max, Tensor) else None
    inputs = tuple(t for t in (input, tlo, thi) if t is not None)

    def backward(g, needs):
        # PyTorch's rule: the input gets the gradient inside [min, max]; min only when it won
        # and min < max; max when it won or max < min
        if lo is not None and hi is not None:
            inside, lo_won, hi_won = (a >= lo) & (a <= hi), (a < lo) & (lo < hi), (a > hi) | (hi < lo)
        elif lo is not None:
            inside, lo_won, hi_won = a >= lo, a < lo, None
        else:
            inside, lo_won, hi_won = a <= hi, None, a > hi
        # one mask per recorded input: the input's, then each tensor bound's
        masks = [inside] + [m for m, t in ((lo_won, tlo), (hi_won, thi)) if t is not None]
        return tuple(where_grad(g, m) if n else None for m, n in zip(masks, needs))

    return record("Clamp", out, inputs, backward, inputs)


def clamp_min(input: Tensor, min) -> Tensor:
    """``clamp(input, min=min)``."""
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:
    """``clamp(input, max=max)``."""
    return clamp(input, max=max)


# -------------------------------------------------------------------- maximum, minimum, fmax


def _extreme(name: str, a, b) -> Tensor:
    ta, tb, x, y = binary_operands(name, a, b)
    xp = _xp(x, y)
    fn = {"maximum": xp.maximum, "minimum": xp.minimum, "fmax": xp.fmax, "fmin": xp.fmin}[name]
    try:
        out = fn(x, y)
    except ValueError:
        raise broadcast_error(name, x.shape, y.shape) from None

    def grad_of(g, first: bool):
        """The gradient of the first side (``first``) or of the second."""
        if name in ("maximum", "minimum"):
            # PyTorch: equal elements share the gradient half and half; NaN sends it to both
            # the losing side's gradient is 0 even where g is nan or inf (a mask, not a product)
            loses = (x < y) if (name == "maximum") == first else (x > y)
            kept = where_grad(g, xp.broadcast_to(~loses, g._data.shape))
            ties = x == y
            if not xp.any(ties):
                return kept
            share = xp.where(ties, 0.5, 1.0).astype(g._data.dtype, copy=False)
            return scale_grad(kept, xp.broadcast_to(share, g._data.shape))
        # fmax/fmin: ties go to the first input; a NaN input loses to the other one
        wins_a = ((x >= y) if name == "fmax" else (x <= y)) | xp.isnan(y)
        return where_grad(g, wins_a if first else ~wins_a)

    op = name.capitalize()
    if tb is None:
        return record(op, out, (ta,), lambda g, needs: (grad_of(g, True),), (ta,))
    if ta is None:
        return record(op, out, (tb,), lambda g, needs: (grad_of(g, False),), (tb,))
    return record(op, out, (ta, tb), lambda g, needs: (
        grad_of(g, True) if needs[0] else None, grad_of(g, False) if needs[1] else None), (ta, tb))


def maximum(input, other, *, out: Tensor | None = None) -> Tensor:
    """Elementwise maximum (NaN propagates); ties split the gradient evenly."""
    if out is not None:
        return write_out("maximum", out, maximum(input, other))
    return _extreme("maximum", input, other)


def minimum(input, other, *, out: Tensor | None = None) -> Tensor:
    """Elementwise minimum (NaN propagates); ties split the gradient evenly."""
    if out is not None:
        return write_out("minimum", out, minimum(input, other))
    return _extreme("minimum", input, other)


def fmax(input, other, *, out: Tensor | None = None) -> Tensor:
    """Elementwise maximum that ignores NaN (NaN only where both are NaN)."""
    if out is not None:
        return write_out("fmax", out, fmax(input, other))
    return _extreme("fmax", input, other)


def fmin(input, other, *, out: Tensor | None = None) -> Tensor:
    """Elementwise minimum that ignores NaN (NaN only where both are NaN)."""
    if out is not None:
        return write_out("fmin", out, fmin(input, other))
    return _extreme("fmin", input, other)


# ---------------------------------------------------------------------------- closeness tests


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both tensors have the same shape and the same values."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    _, _, x, y = binary_operands("equal", input, other)
    return bool(_xp(x, y).all(x == y))


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """``|input - other| <= atol + rtol * |other|`` elementwise, as a bool tensor."""
    _, _, x, y = binary_operands("isclose", input, other)
    try:
        return Tensor._wrap(_xp(x, y).isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan))
    except ValueError:
        raise broadcast_error("isclose", x.shape, y.shape) from None


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True if :func:`isclose` holds for every element."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


# -------------------------------------------------------------------------- signbit, heaviside


def signbit(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """True where the sign bit is set: negative numbers, ``-0.0`` and negative NaNs (bool)."""
    if out is not None:
        return write_out("signbit", out, signbit(input))
    a = input._data
    xp = get_array_module(a)
    if a.dtype.kind == "f":
        return Tensor._wrap(xp.signbit(a))
    if a.dtype.kind == "i":
        return Tensor._wrap(a < 0)
    return Tensor._wrap(xp.zeros(a.shape, dtype=bool))  # bool and unsigned: never


def _heaviside_backward(g, needs):
    raise RuntimeError("the derivative for 'heaviside' is not implemented (it is 0 almost "
                       "everywhere; detach() the inputs, or use a smooth step such as sigmoid)")


def heaviside(input: Tensor, values: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The step function: 0 where ``input < 0``, ``values`` where it is 0, 1 where it is
    positive (and 0 at NaN, as PyTorch); both tensors of one dtype, broadcast together.

    As in PyTorch it is not differentiable: the result requires grad when an input does, and
    ``backward`` through it raises.
    """
    if out is not None:
        return write_out("heaviside", out, heaviside(input, values))
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside(): argument 'values' must be Tensor, not "
                        f"{type(values).__name__}")
    x, v = input._data, values._data
    if x.dtype != v.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes "
                           f"({input.dtype} and {values.dtype}).")
    check_same_device("heaviside", x, v)
    xp = get_array_module(x)
    try:
        out = xp.where(x == 0, v, (x > 0).astype(x.dtype))
    except ValueError:
        raise broadcast_error("heaviside", x.shape, v.shape) from None
    return record("Heaviside", writable(out), (input, values), _heaviside_backward)


__all__ = [
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
    "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_not", "isnan", "isinf", "isposinf", "isneginf",
    "isfinite", "nan_to_num", "where", "clamp", "clip", "clamp_min", "clamp_max", "maximum",
    "minimum", "fmax", "fmin", "equal", "isclose", "allclose", "clamp_", "clip_", "signbit",
    "heaviside",
]
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
clip = clamp
clamp_ = clip_ = inplace_method(clamp, "clamp_")

attach(
    eq=eq, ne=ne, lt=lt, le=le, gt=gt, ge=ge, greater=gt, greater_equal=ge, less=lt,
    less_equal=le, not_equal=ne,
    __eq__=_op_eq, __ne__=_op_ne, __lt__=lt, __le__=le, __gt__=gt, __ge__=ge,
    logical_and=logical_and, logical_or=logical_or, logical_xor=logical_xor,
    logical_not=logical_not, bitwise_and=bitwise_and, bitwise_or=bitwise_or,
    bitwise_xor=bitwise_xor, bitwise_not=bitwise_not,
    logical_and_=inplace_method(logical_and, "logical_and_"),
    logical_or_=inplace_method(logical_or, "logical_or_"),
    logical_xor_=inplace_method(logical_xor, "logical_xor_"),
    logical_not_=inplace_method(logical_not, "logical_not_"),
    __and__=bitwise_and, __or__=bitwise_or, __xor__=bitwise_xor, __invert__=bitwise_not,
    __rand__=_rand, __ror__=_ror, __rxor__=_rxor,
    __iand__=inplace_method(bitwise_and, "__iand__"), __ior__=inplace_method(bitwise_or, "__ior__"),
    __ixor__=inplace_method(bitwise_xor, "__ixor__"),
    isnan=isnan, isinf=isinf, isposinf=isposinf, isneginf=isneginf, isfinite=isfinite,
    nan_to_num=nan_to_num, nan_to_num_=inplace_method(nan_to_num, "nan_to_num_"),
    where=_tensor_where,
    clamp=clamp, clip=clamp, clamp_min=clamp_min, clamp_max=clamp_max,
    clamp_=clamp_, clip_=clip_, clamp_min_=inplace_method(clamp_min, "clamp_min_"),
    clamp_max_=inplace_method(clamp_max, "clamp_max_"),
    maximum=maximum, minimum=minimum, fmax=fmax, fmin=fmin,
    equal=equal, isclose=isclose, allclose=allclose,
    signbit=signbit, heaviside=heaviside, heaviside_=inplace_method(heaviside, "heaviside_"),
)
