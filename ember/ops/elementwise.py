"""Elementwise ops: arithmetic and operators, integer division and remainders, ``addcmul``-style
fused updates, and the in-place fills ``zero_``, ``fill_``, ``copy_``.

Each op's forward and gradient read as one thought. Mixed dtypes follow PyTorch's promotion (see
``binary_operands``); the engine sums each gradient back over broadcast dimensions and converts it
to its input's dtype. A number operand is not an input: only the Tensor sides are recorded.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ember import backend
from ember.ops.common import (
    write_out,
    _CATEGORY,
    _broadcast_shape,
    Tensor,
    as_tensor_like,
    attach,
    binary_operands,
    broadcast_error,
    commit_inplace,
    inplace_method,
    prepare_inplace,
    record,
    result_dtype,
    zero_grad_like,
)

# ------------------------------------------------------------------------------------ arithmetic

_NO_DTYPE = np.dtype(np.float64)  # stands in for a Python number's missing dtype


def _add(a, b, *, alpha=1) -> Tensor:
    """``a + alpha * b`` with broadcasting."""
    if alpha != 1:
        b = b * alpha
    ta, tb, x, y = binary_operands("add", a, b)
    try:
        out = x + y
    except ValueError:
        raise broadcast_error("add", x.shape, y.shape) from None

    if tb is None or ta is None:  # tensor and number: the gradient passes through unchanged
        return record("Add", out, (ta if tb is None else tb,), _pass_gradient)
    return record("Add", out, (ta, tb), _add_backward)


def _pass_gradient(g, needs):
    return (g,)


def _add_backward(g, needs):
    return g, g


def _sub(a, b, *, alpha=1) -> Tensor:
    """``a - alpha * b`` with broadcasting."""
    if alpha != 1:
        b = b * alpha
    ta, tb, x, y = binary_operands("sub", a, b)
    if getattr(x, "dtype", _NO_DTYPE).kind == "b" or getattr(y, "dtype", _NO_DTYPE).kind == "b":
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    try:
        out = x - y
    except ValueError:
        raise broadcast_error("sub", x.shape, y.shape) from None

    if tb is None:
        return record("Sub", out, (ta,), _pass_gradient)
    if ta is None:
        return record("Sub", out, (tb,), _negate_gradient)
    return record("Sub", out, (ta, tb), _sub_backward)


def _negate_gradient(g, needs):
    return (-g,)


def _sub_backward(g, needs):
    return g, -g if needs[1] else None


def _mul(a, b) -> Tensor:
    """``a * b`` with broadcasting."""
    ta, tb, x, y = binary_operands("mul", a, b)
    try:
        out = x * y
    except ValueError:
        raise broadcast_error("mul", x.shape, y.shape) from None

    if tb is None or ta is None:  # tensor times number: nothing to save
        t, k = (ta, y) if tb is None else (tb, x)
        return record("Mul", out, (t,), lambda g, needs: (g * k,))

    def backward(g, needs):
        return g * tb if needs[0] else None, g * ta if needs[1] else None

    # as PyTorch, save only what a needed gradient reads (b for a's, a for b's): changing the
    # other operand in place later is no error
    if ta.requires_grad:
        saved = (ta, tb) if tb.requires_grad else (tb,)
    else:
        saved = (ta,)
    return record("Mul", out, (ta, tb), backward, saved)


def _div(a, b, *, rounding_mode=None) -> Tensor:
    """``a / b`` (true division; integers give the default float dtype, as in PyTorch).

    ``rounding_mode="floor"`` or ``"trunc"`` give integer-style division (no gradient).
    """
    ta, tb, x, y = binary_operands("div", a, b)
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError("div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                             f"but found {rounding_mode!r}")
        xp = backend.get_array_module(x if hasattr(x, "dtype") else y)
        _refuse_integer_division_by_zero("floor_divide" if rounding_mode == "floor" else "div",
                                         xp, x, y)
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

    if tb is None:
        return record("Div", out, (ta,), lambda g, needs: (g / y,))
    if ta is None:
        return record("Div", out, (tb,), lambda g, needs: (-g * x / (tb * tb),), (tb,))

    def backward(g, needs):
        return (g / tb if needs[0] else None, -g * ta / (tb * tb) if needs[1] else None)

    return record("Div", out, (ta, tb), backward, (ta, tb))


def _neg(a: Tensor) -> Tensor:
    """``-a``."""
    if a._data.dtype == bool:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return record("Neg", -a._data, (a,), _negate_gradient)


def _pow(a, b) -> Tensor:
    """``a ** b`` with broadcasting; either side may be a number.

    The gradients follow PyTorch at the edges: a zero exponent sends back zero (not ``0 * inf``)
    to the base, and a zero base with a non-negative exponent sends back zero to the exponent.
    """
    ta, tb, x, y = binary_operands("pow", a, b)
    xp = backend.get_array_module(x if ta is not None else y)
    if type(y) is int and ta is not None and x.dtype.kind in "iu" and y < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    try:
        out = xp.power(x, y)
    except ValueError:
        raise broadcast_error("pow", x.shape, y.shape) from None

    if tb is None:
        return record("Pow", out, (ta,),
                      lambda g, needs: (g * 0.0 if y == 0 else g * ta ** (y - 1) * y,), (ta,))
    if ta is None:
        result = Tensor._wrap(out)  # what the closure reads (no cycle)
        return record("Pow", result, (tb,), lambda g, needs: (_number_pow_grad(g, x, tb, result),), (tb,))

    def backward(g, needs):
        from ember.ops.compare import where

        return (where(tb == 0, 0.0, g * tb * ta ** (tb - 1)) if needs[0] else None,
                where((ta == 0) & (tb >= 0), 0.0, g * result * ta.log()) if needs[1] else None)

    result = Tensor._wrap(out)  # what the closure reads (no cycle)
    return record("Pow", result, (ta, tb), backward, (ta, tb))


# The public ops under PyTorch's parameter names, with out=. The operators (``a * b``, which the
# backward formulas use too) call the private ops directly: no out= check on the hottest path.


def add(input, other, *, alpha=1, out: Tensor | None = None) -> Tensor:
    """``input + alpha * other`` with broadcasting (written into ``out`` when given)."""
    result = _add(input, other, alpha=alpha)
    return result if out is None else write_out("add", out, result)


def sub(input, other, *, alpha=1, out: Tensor | None = None) -> Tensor:
    """``input - alpha * other`` with broadcasting (written into ``out`` when given)."""
    result = _sub(input, other, alpha=alpha)
    return result if out is None else write_out("sub", out, result)


def mul(input, other, *, out: Tensor | None = None) -> Tensor:
    """``input * other`` with broadcasting (written into ``out`` when given)."""
    result = _mul(input, other)
    return result if out is None else write_out("mul", out, result)


def div(input, other, *, rounding_mode=None, out: Tensor | None = None) -> Tensor:
    """``input / other`` (see :func:`_div` for ``rounding_mode``; written into ``out`` when given)."""
    result = _div(input, other, rounding_mode=rounding_mode)
    return result if out is None else write_out("div", out, result)


def neg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``-input`` (written into ``out`` when given)."""
    result = _neg(input)
    return result if out is None else write_out("neg", out, result)


def pow(input, exponent, *, out: Tensor | None = None) -> Tensor:
    """``input ** exponent`` with broadcasting; either may be a number (see :func:`_pow`;
    written into ``out`` when given)."""
    result = _pow(input, exponent)
    return result if out is None else write_out("pow", out, result)


def _number_pow_grad(g: Tensor, base: float, exponent: Tensor, result: Tensor) -> Tensor:
    """The gradient of ``base ** exponent`` for a number ``base`` with respect to ``exponent``."""
    from ember.ops.compare import where

    if base > 0:
        return g * result * math.log(base)
    if base == 0:  # d/dy 0**y is 0 for y >= 0 (PyTorch's choice at the kink)
        return where(exponent >= 0, 0.0, g * result * -math.inf)
    return g * result * math.nan


def rsub(a, b) -> Tensor:
    """``b - a`` (the reflected ``-``)."""
    return _sub(b, a)


def rdiv(a, b) -> Tensor:
    """``b / a`` (the reflected ``/``)."""
    return _div(b, a)


def rpow(a, b) -> Tensor:
    """``b ** a`` (the reflected ``**``)."""
    return _pow(b, a)


def radd(a, b) -> Tensor:
    return _add(b, a)


def rmul(a, b) -> Tensor:
    return _mul(b, a)


def cast(a: Tensor, dtype) -> Tensor:
    """Convert to ``dtype``; the gradient flows back (converted) between floating dtypes."""
    d = backend.to_dtype(dtype).np
    if a._data.dtype == d:
        return a
    out = a._data.astype(d)
    if d.kind != "f":
        return Tensor._wrap(out)
    return record("ToCopy", out, (a,), lambda g, needs: (g,))


def writable(a):
    """``a`` as an array that ``out=`` may write to: NumPy returns scalars for 0-d results."""
    return np.asarray(a) if isinstance(a, np.generic) else a


def where_grad(g: Tensor, mask) -> Tensor:
    """``g`` where the constant bool array ``mask`` is true, 0 elsewhere; differentiable in ``g``.

    The backward of ops whose derivative is piecewise 0/1 (relu, clamp, hardtanh ...): one fused
    op rather than a comparison, a conversion and a product.
    """
    return record("WhereGrad", _masked(g._data, mask), (g,), lambda gg, needs: (where_grad(gg, mask),))


_INT_OF_SIZE = {2: np.dtype(np.int16), 4: np.dtype(np.int32), 8: np.dtype(np.int64)}


def _masked(gd, mask):
    """``where(mask, gd, 0)`` for a bool ``mask`` of ``gd``'s shape.

    For floats it is computed as a bitwise AND of ``gd``'s bits with ``-mask`` (all ones or all
    zeros), which gives exactly ``where``'s result (a NaN where the mask is false becomes 0) in
    ufunc passes that follow the arrays' memory layout; ``where`` itself is several times slower,
    and slower still on the channel-major arrays convolutions produce. On the GPU ``where`` is
    one kernel, the bit trick three: CuPy arrays take ``where``.
    """
    it = _INT_OF_SIZE.get(gd.dtype.itemsize) if gd.dtype.kind == "f" and type(gd) is np.ndarray \
        else None
    if it is None or getattr(mask, "shape", None) != gd.shape or getattr(mask, "dtype", None) != np.bool_:
        return backend.get_array_module(gd).where(mask, gd, 0)
    bits = mask.astype(it)
    bits = -bits if bits.ndim == 0 else backend.get_array_module(gd).negative(bits, out=bits)
    bits &= gd.view(it)
    return bits.view(gd.dtype)


def scale_grad(g: Tensor, factor) -> Tensor:
    """``g * factor`` for a constant array ``factor`` of ``g``'s dtype; differentiable in ``g``.

    ``factor`` may broadcast ``g`` to a larger shape (a per-position gradient times a per-class
    mask): the engine sums ``ScaleGrad``'s own gradient back to ``g``'s shape.
    """
    return record("ScaleGrad", g._data * factor, (g,), lambda gg, needs: (scale_grad(gg, factor),))


# ------------------------------------------------------------------ division and remainders


def floor_divide(input, other, *, out: Tensor | None = None) -> Tensor:
    """``a // b``: division rounded down (integers stay integers); not differentiable."""
    if out is not None:
        return write_out("floor_divide", out, floor_divide(input, other))
    a, b = input, other
    return div(a, b, rounding_mode="floor")


def remainder(input, other, *, out: Tensor | None = None) -> Tensor:
    """``a % b`` with the sign of the divisor (Python's ``%``)."""
    if out is not None:
        return write_out("remainder", out, remainder(input, other))
    a, b = input, other
    return _modulo("remainder", "floor", a, b)


def fmod(input, other, *, out: Tensor | None = None) -> Tensor:
    """C's ``fmod``: the remainder of division rounded toward zero (sign of the dividend)."""
    if out is not None:
        return write_out("fmod", out, fmod(input, other))
    a, b = input, other
    return _modulo("fmod", "trunc", a, b)


def _refuse_integer_division_by_zero(name: str, xp, x, y) -> None:
    """Integer division has no inf to return: PyTorch raises "ZeroDivisionError" (a RuntimeError)
    where NumPy would quietly give 0."""
    xk = getattr(x, "dtype", None)
    yk = getattr(y, "dtype", None)
    integer_x = xk.kind in "iub" if xk is not None else type(x) in (int, bool)
    if yk is not None:
        zero = yk.kind in "iub" and integer_x and not xp.all(y)
    else:
        zero = type(y) in (int, bool) and y == 0 and integer_x
    if zero:
        raise RuntimeError(f"ZeroDivisionError: {name} of an integer tensor by zero")


def _modulo(name: str, rounding: str, a, b) -> Tensor:
    ta, tb, x, y = binary_operands(name, a, b)
    xp = backend.get_array_module(x if ta is not None else y)
    _refuse_integer_division_by_zero(name, xp, x, y)
    try:
        out = xp.remainder(x, y) if rounding == "floor" else xp.fmod(x, y)
    except ValueError:
        raise broadcast_error(name, x.shape, y.shape) from None

    op = name.capitalize()
    if tb is None:
        return record(op, out, (ta,), lambda g, needs: (g,))

    def divisor_grad(g):  # the result is a - q * b with q the rounded quotient, a constant
        return -g * div(ta if ta is not None else x, tb, rounding_mode=rounding)

    if ta is None:
        return record(op, out, (tb,), lambda g, needs: (divisor_grad(g),), (tb,))
    return record(op, out, (ta, tb), lambda g, needs: (g, divisor_grad(g) if needs[1] else None),
                  (ta, tb))


def rfloordiv(a, b) -> Tensor:
    return floor_divide(b, a)


def rremainder(a, b) -> Tensor:
    return remainder(b, a)


# ---------------------------------------------------------------------------- fused updates


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1, out: Tensor | None = None) -> Tensor:
    """``input + value * tensor1 * tensor2`` (the form optimizers use)."""
    if out is not None:
        return write_out("addcmul", out, addcmul(input, tensor1, tensor2, value=value))
    prod = mul(tensor1, tensor2)
    return add(input, prod if value == 1 else mul(prod, value))


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1, out: Tensor | None = None) -> Tensor:
    """``input + value * tensor1 / tensor2``."""
    if out is not None:
        return write_out("addcdiv", out, addcdiv(input, tensor1, tensor2, value=value))
    quot = div(tensor1, tensor2)
    return add(input, quot if value == 1 else mul(quot, value))


def lerp(input: Tensor, end, weight, *, out: Tensor | None = None) -> Tensor:
    """Linear interpolation ``input + weight * (end - input)``."""
    if out is not None:
        return write_out("lerp", out, lerp(input, end, weight))
    return add(input, mul(weight, sub(end, input)))


# ------------------------------------------------------------------ two-argument float math


def _tensor_pair(name: str, a, b, integers: bool):
    """``binary_operands`` for ops PyTorch defines on two Tensors only (``atan2``, ``hypot``,
    ``logaddexp``): numbers raise its TypeError; integer and bool operands become the default
    float when ``integers``, else raise the NotImplementedError PyTorch raises for them."""
    for arg, v in (("input", a), ("other", b)):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(v).__name__}")
    ta, tb, x, y = binary_operands(name, a, b)
    if x.dtype.kind != "f":
        if not integers:
            raise NotImplementedError(
                f"{name}: not implemented for {backend.dtype_of(x)} tensors (shapes "
                f"{tuple(x.shape)} and {tuple(y.shape)}); convert them with .float() first")
        fdt = backend.get_default_dtype().np
        x, y = x.astype(fdt), y.astype(fdt)
    return ta, tb, x, y


def _float_operands(name: str, a, b):
    """``binary_operands``, then integer and bool results computed in the default float dtype
    (what PyTorch does for ``copysign`` and ``xlogy``)."""
    ta, tb, x, y = binary_operands(name, a, b)
    fdt = backend.get_default_dtype().np
    if ta is not None and x.dtype.kind != "f":
        x = x.astype(fdt)
        if tb is not None:
            y = y.astype(fdt)
    elif ta is None and y.dtype.kind != "f":
        y = y.astype(fdt)
    return ta, tb, x, y


def _apply(name: str, fn, x, y):
    try:
        return fn(x, y)
    except ValueError:
        raise broadcast_error(name, np.shape(x), np.shape(y)) from None


def atan2(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The angle of the point ``(other, input)``: ``atan(input / other)`` in the right quadrant."""
    if out is not None:
        return write_out("atan2", out, atan2(input, other))
    ta, tb, x, y = _tensor_pair("atan2", input, other, integers=True)
    out = _apply("atan2", backend.get_array_module(x).arctan2, x, y)

    def backward(g, needs):
        r2 = ta * ta + tb * tb
        # 0 at the origin instead of 0/0 = nan, as PyTorch (atan2(0, 0) is common for zero vectors)
        recip = r2.reciprocal().masked_fill(r2 == 0, 0)
        return (g * tb * recip if needs[0] else None, -g * ta * recip if needs[1] else None)

    return record("Atan2", out, (ta, tb), backward, (ta, tb))


def hypot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``sqrt(input**2 + other**2)`` without intermediate overflow (floating tensors only)."""
    if out is not None:
        return write_out("hypot", out, hypot(input, other))
    ta, tb, x, y = _tensor_pair("hypot", input, other, integers=False)
    out = _apply("hypot", backend.get_array_module(x).hypot, x, y)

    def backward(g, needs):
        # PyTorch's formula: 0/0 = nan at the origin, which it does not special-case either
        return (g * ta / result if needs[0] else None, g * tb / result if needs[1] else None)

    result = Tensor._wrap(out)  # what the closure reads (no cycle)
    return record("Hypot", result, (ta, tb), backward, (ta, tb))


def logaddexp(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``log(exp(input) + exp(other))``, computed without overflow (floating tensors only)."""
    if out is not None:
        return write_out("logaddexp", out, logaddexp(input, other))
    ta, tb, x, y = _tensor_pair("logaddexp", input, other, integers=False)
    out = _apply("logaddexp", backend.get_array_module(x).logaddexp, x, y)

    def backward(g, needs):
        # each side's share is a logistic of the difference; exp overflowing to inf gives 0
        return (g / ((tb - ta).exp() + 1) if needs[0] else None,
                g / ((ta - tb).exp() + 1) if needs[1] else None)

    return record("Logaddexp", out, (ta, tb), backward, (ta, tb))


def logaddexp2(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``log2(2**input + 2**other)``, computed without overflow (floating tensors only)."""
    if out is not None:
        return write_out("logaddexp2", out, logaddexp2(input, other))
    ta, tb, x, y = _tensor_pair("logaddexp2", input, other, integers=False)
    out = _apply("logaddexp2", backend.get_array_module(x).logaddexp2, x, y)

    def backward(g, needs):
        return (g / (pow(2.0, tb - ta) + 1) if needs[0] else None,
                g / (pow(2.0, ta - tb) + 1) if needs[1] else None)

    return record("Logaddexp2", out, (ta, tb), backward, (ta, tb))


def copysign(input: Tensor, other, *, out: Tensor | None = None) -> Tensor:
    """``|input|`` with the sign of ``other`` (a tensor or a number); the result is floating.

    As in PyTorch, ``other`` gets a zero gradient and ``input`` gets ``g * result / input``,
    taken as 0 where ``input`` is 0; that ratio is ``sign(input) * copysign(1, other)``, which
    is how it is computed here (no 0/0 to mask).
    """
    if out is not None:
        return write_out("copysign", out, copysign(input, other))
    if not isinstance(input, Tensor):
        raise TypeError(f"copysign(): argument 'input' must be Tensor, not {type(input).__name__}")
    ta, tb, x, y = _float_operands("copysign", input, other)
    xp = backend.get_array_module(x)
    out = _apply("copysign", xp.copysign, x, y)
    other_sign = xp.copysign(xp.ones((), dtype=x.dtype), y)

    def backward(g, needs):
        from ember.ops.unary import sign

        return (scale_grad(g, other_sign) * sign(ta) if needs[0] else None,
                zero_grad_like(tb) if len(needs) > 1 and needs[1] else None)

    inputs = (ta,) if tb is None else (ta, tb)
    return record("Copysign", out, inputs, backward, (ta,))


def xlogy(input, other, *, out: Tensor | None = None) -> Tensor:
    """``input * log(other)``, with 0 wherever ``input`` is 0 (unless ``other`` is NaN); either
    side may be a number."""
    if out is not None:
        return write_out("xlogy", out, xlogy(input, other))
    ta, tb, x, y = _float_operands("xlogy", input, other)
    xp = backend.get_array_module(x if ta is not None else y)

    dt = x.dtype if ta is not None else y.dtype

    def raw(x, y):
        if tb is None:  # a number: its log is a number too, and CuPy wants arrays for ufuncs
            return xp.where(x == 0, 0, x * float(np.log(np.float64(y)))) if not math.isnan(y) \
                else xp.full(x.shape, math.nan, dtype=dt)
        return xp.where((x == 0) & ~xp.isnan(y), 0, x * xp.log(y))

    out = _apply("xlogy", raw, x, y)
    if out.dtype != dt:  # a float64 number must not widen a float32 tensor
        out = out.astype(dt)

    # PyTorch: input's gradient is xlogy(g, other), but 0 where input == 0 and other <= 0 (log
    # would be -inf or nan there; the product was 0 in the forward)
    keep = ~((x == 0) & (y <= 0)) if ta is not None else None
    if tb is None:
        return record("Xlogy", writable(out), (ta,),
                      lambda g, needs: (where_grad(xlogy(g, y), keep),))
    if ta is None:
        return record("Xlogy", writable(out), (tb,), lambda g, needs: (g * x / tb,), (tb,))

    def backward(g, needs):
        return (where_grad(xlogy(g, tb), keep) if needs[0] else None,
                g * ta / tb if needs[1] else None)

    return record("Xlogy", writable(out), (ta, tb), backward, (ta, tb))


def float_power(input, exponent, *, out: Tensor | None = None) -> Tensor:
    """``input ** exponent`` computed in float64 (the result is float64 whatever the inputs);
    gradients come back in each input's own dtype."""
    if out is not None:
        return write_out("float_power", out, float_power(input, exponent))
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f"float_power(): expected at least one Tensor, got "
                        f"{type(input).__name__} and {type(exponent).__name__}")

    def double(v):
        return cast(v, np.float64) if isinstance(v, Tensor) else float(v)

    return pow(double(input), double(exponent))


_float_power_inplace = inplace_method(float_power, "float_power_")


def _float_power_(self: Tensor, exponent) -> Tensor:
    """In-place :func:`float_power`; like PyTorch, only a float64 tensor can hold the result."""
    if self._data.dtype != np.float64:
        raise RuntimeError(f"float_power_: the base has dtype {self.dtype} but the operation's "
                           f"result requires dtype float64 (shape {tuple(self.shape)})")
    return _float_power_inplace(self, exponent)


# ------------------------------------------------------------------------------ in-place fills


def fill_(self: Tensor, value) -> Tensor:
    """Set every element to ``value`` (a number or a 0-d tensor, whose gradient is the sum)."""
    vt = value if isinstance(value, Tensor) else None
    if vt is not None and vt.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{vt.ndim} dimensions (shape {tuple(vt.shape)}).")
    if self._data.dtype.kind != "f" or not (self.requires_grad or (vt is not None
                                                                   and vt.requires_grad)):
        self._data.fill(vt._data.item() if vt is not None else value)  # no history to keep
        self._version += 1
        return self
    base = prepare_inplace(self, "fill_")
    xp = backend.get_array_module(self._data)
    out = xp.full(self._data.shape, vt._data if vt is not None else value, dtype=self._data.dtype)

    def backward(g, needs):
        old = zero_grad_like(g) if needs[0] else None  # the old values are overwritten
        return (old, g) if vt is not None else (old,)

    inputs = (base, vt) if vt is not None else (base,)
    return commit_inplace(self, record("Fill", out, inputs, backward), "fill_")


def zero_(self: Tensor) -> Tensor:
    """Set every element to zero."""
    return fill_(self, 0)


def copy_(self: Tensor, src, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast to this shape, converted to this dtype and device) into this tensor.

    The gradient flows to ``src``, as in PyTorch; the values this tensor held before get none.
    """
    if not isinstance(src, Tensor):
        src = as_tensor_like(src, self)
    dst = self._data
    s = src._data
    if type(s) is not type(dst) or backend.device_of(s) != backend.device_of(dst):
        s = backend.move_array(s, backend.device_of(dst))
    if s.shape != dst.shape and _broadcast_shape(s.shape, dst.shape) != dst.shape:
        raise RuntimeError(f"copy_: the source shape {tuple(s.shape)} can't be broadcast to "
                           f"the destination shape {tuple(dst.shape)}")
    if dst.dtype.kind != "f" or not (self.requires_grad or src.requires_grad):
        dst[...] = s  # no history to keep
        self._version += 1
        return self
    base = prepare_inplace(self, "copy_")
    xp = backend.get_array_module(dst)
    out = xp.broadcast_to(s, dst.shape).astype(dst.dtype)
    src_dev = src.device

    def backward(g, needs):
        return (zero_grad_like(g) if needs[0] else None, g.to(src_dev) if needs[1] else None)

    return commit_inplace(self, record("Copy", out, (base, src), backward), "copy_")


# ------------------------------------------------------------- integer math, identity, dtypes


def _integer_pair(name: str, input, other):
    """The two integer arrays of ``gcd``/``lcm``, promoted and checked as PyTorch does."""
    for arg, v in (("input", input), ("other", other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(v).__name__}")
    _, _, x, y = binary_operands(name, input, other)
    if x.dtype.kind not in "iu":
        raise NotImplementedError(f"{name}: not implemented for {backend.dtype_of(x)} tensors "
                                  "(integer tensors only)")
    return x, y


def gcd(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The greatest common divisor of each pair of integers (non-negative; ``gcd(0, 0) = 0``)."""
    if out is not None:
        return write_out("gcd", out, gcd(input, other))
    x, y = _integer_pair("gcd", input, other)
    return Tensor._wrap(_apply("gcd", backend.get_array_module(x).gcd, x, y))


def lcm(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The least common multiple of each pair of integers (non-negative; 0 when either is 0)."""
    if out is not None:
        return write_out("lcm", out, lcm(input, other))
    x, y = _integer_pair("lcm", input, other)
    return Tensor._wrap(_apply("lcm", backend.get_array_module(x).lcm, x, y))


def positive(input: Tensor) -> Tensor:
    """``+input``: the tensor itself (bool tensors raise, as in PyTorch)."""
    if input._data.dtype == bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


_NUMBER_CATEGORY = ((bool, 0), (numbers.Integral, 1), (numbers.Real, 2))


def _category(v) -> int:
    if isinstance(v, Tensor):
        return _CATEGORY[v._data.dtype.kind]
    for kind, cat in _NUMBER_CATEGORY:
        if isinstance(v, kind):
            return cat
    raise TypeError(f"result_type(): expected a Tensor or a real number, got {type(v).__name__}")


def result_type(tensor, other) -> backend.dtype:
    """The dtype an elementwise op of ``tensor`` and ``other`` (Tensors or numbers) gives, with
    the promotion the ops use: a number, and a 0-d tensor against a dimensioned one, decide
    only when of a higher category (bool < integer < float), and then with the default dtype
    of that category (a number) or their own (a 0-d tensor)."""
    ct, co = _category(tensor), _category(other)
    if isinstance(tensor, Tensor) and isinstance(other, Tensor):
        return backend.to_dtype(result_dtype(tensor._data, other._data))
    if isinstance(tensor, Tensor) or isinstance(other, Tensor):
        t, cn = (tensor, co) if isinstance(tensor, Tensor) else (other, ct)
        if cn <= _category(t):
            return t.dtype
        return backend.get_default_dtype() if cn == 2 else backend.int64
    return (backend.bool_, backend.int64, backend.get_default_dtype())[max(ct, co)]


__all__ = ["add", "sub", "mul", "div", "neg", "pow", "rsub", "true_divide", "multiply",
           "subtract", "divide", "negative", "floor_divide", "remainder", "fmod", "addcmul",
           "addcdiv", "lerp", "atan2", "arctan2", "hypot", "logaddexp", "logaddexp2", "copysign",
           "xlogy", "float_power", "gcd", "lcm", "positive", "result_type"]
true_divide = divide = div
multiply = mul
subtract = sub
negative = neg
arctan2 = atan2

attach(
    add=add, sub=sub, mul=mul, div=div, neg=neg, pow=pow, true_divide=div, multiply=mul,
    subtract=sub, divide=div, negative=neg, floor_divide=floor_divide, remainder=remainder,
    fmod=fmod, addcmul=addcmul, addcdiv=addcdiv, lerp=lerp,
    __add__=_add, __radd__=radd, __sub__=_sub, __rsub__=rsub, __mul__=_mul, __rmul__=rmul,
    __truediv__=_div, __rtruediv__=rdiv, __neg__=_neg, __pow__=_pow, __rpow__=rpow,
    __floordiv__=floor_divide, __rfloordiv__=rfloordiv, __mod__=remainder,
    __rmod__=rremainder, __pos__=lambda a: a,
    add_=inplace_method(add, "add_"), sub_=inplace_method(sub, "sub_"),
    mul_=inplace_method(mul, "mul_"), div_=inplace_method(div, "div_"),
    pow_=inplace_method(pow, "pow_"), neg_=inplace_method(neg, "neg_"),
    floor_divide_=inplace_method(floor_divide, "floor_divide_"),
    remainder_=inplace_method(remainder, "remainder_"), fmod_=inplace_method(fmod, "fmod_"),
    addcmul_=inplace_method(addcmul, "addcmul_"), addcdiv_=inplace_method(addcdiv, "addcdiv_"),
    lerp_=inplace_method(lerp, "lerp_"),
    __iadd__=inplace_method(_add, "__iadd__"), __isub__=inplace_method(_sub, "__isub__"),
    __imul__=inplace_method(_mul, "__imul__"), __itruediv__=inplace_method(_div, "__itruediv__"),
    __ipow__=inplace_method(_pow, "__ipow__"),
    __ifloordiv__=inplace_method(floor_divide, "__ifloordiv__"),
    __imod__=inplace_method(remainder, "__imod__"),
    fill_=fill_, zero_=zero_, copy_=copy_,
    atan2=atan2, arctan2=atan2, hypot=hypot, logaddexp=logaddexp, logaddexp2=logaddexp2,
    copysign=copysign, xlogy=xlogy, float_power=float_power,
    atan2_=inplace_method(atan2, "atan2_"), arctan2_=inplace_method(atan2, "arctan2_"),
    hypot_=inplace_method(hypot, "hypot_"), copysign_=inplace_method(copysign, "copysign_"),
    xlogy_=inplace_method(xlogy, "xlogy_"), float_power_=_float_power_,
    gcd=gcd, lcm=lcm, gcd_=inplace_method(gcd, "gcd_"), lcm_=inplace_method(lcm, "lcm_"),
    positive=positive,
)
